package onnx

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The Python onnx package, the reference implementation, cross-checks
// what Encode writes: the checker accepts the models, and they hold the
// same graph and initialiser values as the originals; every tensor file of
// the test suite, decoded and re-encoded, holds the same values as the
// original for numpy_helper.

const python = "/usr/bin/python3"

// crossCheckModels are test-suite models with the features Encode must
// get right: convolution weights, subgraphs, float16, bool, strings,
// sequence and optional types, TYPE_PROTO attributes.
var crossCheckModels = []string{
	"simple/test_single_relu_model",
	"simple/test_expand_shape_model1",
	"pytorch-converted/test_Conv2d",
	"pytorch-converted/test_BatchNorm2d_eval",
	"pytorch-operator/test_operator_non_float_params",
	"pytorch-operator/test_operator_symbolic_override_nested",
	"node/test_if",
	"node/test_loop11",
	"node/test_cast_FLOAT_to_FLOAT16",
	"node/test_cast_FLOAT_to_BFLOAT16",
	"node/test_strnormalizer_export_monday_casesensintive_lower",
	"node/test_sequence_insert_at_back",
	"node/test_if_opt",
	"node/test_optional_has_element",
	"node/test_constant",
	"node/test_where_example",
}

const crossCheckScript = `
import sys
import numpy as np
import onnx
from onnx import numpy_helper, helper

def attrs(n):
    out = []
    for a in sorted(n.attribute, key=lambda a: a.name):
        v = helper.get_attribute_value(a)
        if isinstance(v, onnx.GraphProto):
            v = graph(v)
        elif isinstance(v, onnx.TensorProto):
            v = arr(v)
        elif isinstance(v, list) and v and isinstance(v[0], onnx.TensorProto):
            v = [arr(t) for t in v]
        elif isinstance(v, list) and v and isinstance(v[0], onnx.GraphProto):
            v = [graph(g) for g in v]
        elif isinstance(v, onnx.TypeProto):
            v = v.SerializeToString()
        out.append((a.name, a.type, repr(v)))
    return out

def arr(t):
    a = numpy_helper.to_array(t)
    return (t.name, a.dtype.str, a.shape, a.tobytes() if a.dtype != object else repr(a.tolist()))

def vi(v):
    return (v.name, v.type.SerializeToString())

def graph(g):
    return (g.name,
            [(n.op_type, n.domain, n.name, list(n.input), list(n.output), attrs(n)) for n in g.node],
            [arr(t) for t in g.initializer],
            [vi(v) for v in g.input], [vi(v) for v in g.output], [vi(v) for v in g.value_info])

bad = 0
for line in open(sys.argv[1]):
    kind, orig, ours = line.split()
    try:
        if kind == "model":
            a, b = onnx.load(orig), onnx.load(ours)
            onnx.checker.check_model(b)
            assert a.ir_version == b.ir_version, "ir_version"
            assert sorted((o.domain, o.version) for o in a.opset_import) == sorted((o.domain, o.version) for o in b.opset_import), "opset_import"
            assert graph(a.graph) == graph(b.graph), "graph differs"
        else:
            a, b = onnx.TensorProto(), onnx.TensorProto()
            a.ParseFromString(open(orig, "rb").read())
            b.ParseFromString(open(ours, "rb").read())
            x, y = numpy_helper.to_array(a), numpy_helper.to_array(b)
            assert x.dtype == y.dtype, "dtype %s, %s" % (x.dtype, y.dtype)
            assert x.shape == y.shape, "shape %s, %s" % (x.shape, y.shape)
            if x.dtype == np.float64:
                # glassbox keeps doubles as float32 (some test files hold
                # uninitialised doubles, beyond float32's range)
                with np.errstate(over="ignore"):
                    x = x.astype(np.float32).astype(np.float64)
                assert np.array_equal(x, y, equal_nan=True), "values differ"
            elif x.dtype == object:
                assert x.tolist() == y.tolist(), "values differ"
            else:
                assert x.tobytes() == y.tobytes(), "values differ"
    except Exception as e:
        bad += 1
        print("%s: %s: %s" % (orig, type(e).__name__, e))
print("checked")
sys.exit(1 if bad else 0)
`

func TestPythonCrossCheck(t *testing.T) {
	if out, err := exec.Command(python, "-c", "import onnx, numpy").CombinedOutput(); err != nil {
		t.Skipf("skipping the cross-check with the Python onnx package: %s cannot import onnx and numpy (%v: %s); install python3-onnx to run it", python, err, bytes.TrimSpace(out))
	}
	testModels(t) // fails when the test data is missing
	dir := t.TempDir()
	var list strings.Builder
	nModels, nTensors := 0, 0
	for i, rel := range crossCheckModels {
		path := filepath.Join(testDataDir, rel, "model.onnx")
		m, err := ReadFile(path, ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ours := filepath.Join(dir, fmt.Sprintf("m%d.onnx", i))
		if err := WriteFile(ours, m); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&list, "model %s %s\n", path, ours)
		nModels++
	}
	for _, model := range testModels(t) {
		m, err := ReadFile(model, ReadOptions{})
		if err != nil {
			continue // TestDecodeTestData reports it
		}
		for _, file := range testTensorFiles(t, model) {
			if kind, err := tensorFileKind(m, file); err != nil || kind != KindTensor {
				continue
			}
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			tn, err := DecodeTensor(b, ReadOptions{})
			if err != nil {
				continue
			}
			enc, err := EncodeTensor(tn)
			if err != nil {
				t.Errorf("%s: %v", file, err)
				continue
			}
			ours := filepath.Join(dir, fmt.Sprintf("t%d.pb", nTensors))
			if err := os.WriteFile(ours, enc, 0o644); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&list, "tensor %s %s\n", file, ours)
			nTensors++
		}
	}
	listFile := filepath.Join(dir, "list")
	if err := os.WriteFile(listFile, []byte(list.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(python, "-c", crossCheckScript, listFile).CombinedOutput()
	if err != nil {
		t.Fatalf("the Python onnx package disagrees (%v):\n%s", err, out)
	}
	t.Logf("the Python onnx package checked %d models written by Encode and %d tensor files written by EncodeTensor", nModels, nTensors)
}
