package onnx

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The ONNX test suite, as Debian's libonnx-testdata installs it (CI
// installs the package).
const testDataDir = "/usr/share/libonnx-testdata/data"

var testDataSets = []string{"node", "pytorch-converted", "pytorch-operator", "simple", "real"}

// testModels lists the model.onnx files of the test suite, failing the
// test when the suite is not installed.
func testModels(t testing.TB) []string {
	t.Helper()
	var models []string
	for _, set := range testDataSets {
		dir := filepath.Join(testDataDir, set)
		if _, err := os.Stat(dir); err != nil {
			t.Fatalf("the ONNX test data is missing (%v): install it with `apt-get install libonnx-testdata`", err)
		}
		err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() && strings.HasSuffix(p, ".onnx") {
				models = append(models, p)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(models)
	if len(models) < 1000 {
		t.Fatalf("found only %d models under %s: is libonnx-testdata complete?", len(models), testDataDir)
	}
	return models
}

// testTensorFiles lists the input_N.pb and output_N.pb files of the test
// data sets beside a model.
func testTensorFiles(t testing.TB, model string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(filepath.Dir(model), "test_data_set_*", "*put_*.pb"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

var pbName = regexp.MustCompile(`^(input|output)_(\d+)\.pb$`)

// tensorFileKind is the kind of value a test data file holds: a tensor
// (a TensorProto), or a sequence, map or optional (a SequenceProto,
// MapProto or OptionalProto, which DecodeTensor does not read), as the
// model's graph input or output of that position says.
func tensorFileKind(m *Model, file string) (TypeKind, error) {
	match := pbName.FindStringSubmatch(filepath.Base(file))
	if match == nil {
		return 0, fmt.Errorf("unexpected file name %s", file)
	}
	i, _ := strconv.Atoi(match[2])
	vs := m.Graph.Outputs
	if match[1] == "input" {
		inits := map[string]bool{}
		for _, t := range m.Graph.Initializers {
			inits[t.Name] = true
		}
		vs = nil
		for _, v := range m.Graph.Inputs {
			if !inits[v.Name] {
				vs = append(vs, v)
			}
		}
	}
	if i >= len(vs) {
		return 0, fmt.Errorf("%s: the model has only %d %ss", file, len(vs), match[1])
	}
	return vs[i].Kind, nil
}

// rejectedType reports whether err is the error for a data type glassbox
// deliberately does not read.
func rejectedType(err error) bool {
	s := err.Error()
	return strings.Contains(s, "glassbox has no complex tensors") || strings.Contains(s, "float8, int4 and float4")
}

// TestDecodeTestData decodes every model and tensor file of the ONNX test
// suite, and checks that Decode → Encode → Decode gives the same model
// (and tensor).
func TestDecodeTestData(t *testing.T) {
	models := testModels(t)
	var nModels, nTensors, nNotTensor, nRejected int
	bySet := map[string]int{}
	for _, path := range models {
		rel, _ := filepath.Rel(testDataDir, path)
		m, err := ReadFile(path, ReadOptions{})
		if err != nil {
			if rejectedType(err) {
				nRejected++
				t.Logf("skipped %s: %v", rel, err)
				continue
			}
			t.Errorf("%s: %v", rel, err)
			continue
		}
		if err := roundTrip(m); err != nil {
			t.Errorf("%s: round trip: %v", rel, err)
		}
		nModels++
		bySet[strings.SplitN(rel, "/", 2)[0]]++
		for _, file := range testTensorFiles(t, path) {
			frel, _ := filepath.Rel(testDataDir, file)
			kind, err := tensorFileKind(m, file)
			if err != nil {
				t.Error(err)
				continue
			}
			if kind != KindTensor {
				nNotTensor++
				continue
			}
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			tn, err := DecodeTensor(b, ReadOptions{})
			if err != nil {
				if rejectedType(err) {
					nRejected++
					t.Logf("skipped %s: %v", frel, err)
					continue
				}
				t.Errorf("%s: %v", frel, err)
				continue
			}
			if err := roundTripTensor(tn); err != nil {
				t.Errorf("%s: round trip: %v", frel, err)
			}
			nTensors++
		}
	}
	t.Logf("decoded and round-tripped %d of %d models (%v) and %d tensor files; skipped %d sequence/map/optional files (not TensorProtos) and %d files of rejected data types",
		nModels, len(models), bySet, nTensors, nNotTensor, nRejected)
}

// roundTrip checks that m encodes, and decodes back to m.
func roundTrip(m *Model) error {
	b, err := m.Encode()
	if err != nil {
		return err
	}
	m2, err := Decode(b, ReadOptions{})
	if err != nil {
		return fmt.Errorf("decoding what Encode wrote: %w", err)
	}
	if d := diff("Model", reflect.ValueOf(m), reflect.ValueOf(m2)); d != "" {
		return errors.New(d)
	}
	return nil
}

func roundTripTensor(tn *Tensor) error {
	b, err := EncodeTensor(tn)
	if err != nil {
		return err
	}
	t2, err := DecodeTensor(b, ReadOptions{})
	if err != nil {
		return fmt.Errorf("decoding what EncodeTensor wrote: %w", err)
	}
	if d := diff("Tensor", reflect.ValueOf(tn), reflect.ValueOf(t2)); d != "" {
		return errors.New(d)
	}
	return nil
}

// diff describes the first difference between a and b, values of the
// same type, or returns "". Floats compare by their bits (NaNs equal when
// their bits are), nil and empty slices and maps differ, unexported
// fields count.
func diff(path string, a, b reflect.Value) string {
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return fmt.Sprintf("%s: nil %v, %v", path, a.IsNil(), b.IsNil())
			}
			return ""
		}
		return diff(path, a.Elem(), b.Elem())
	case reflect.Struct:
		for i := range a.NumField() {
			if d := diff(path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i)); d != "" {
				return d
			}
		}
	case reflect.Slice:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return fmt.Sprintf("%s: len %d (nil %v), %d (nil %v)", path, a.Len(), a.IsNil(), b.Len(), b.IsNil())
		}
		for i := range a.Len() {
			if d := diff(fmt.Sprintf("%s[%d]", path, i), a.Index(i), b.Index(i)); d != "" {
				return d
			}
		}
	case reflect.Map:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return fmt.Sprintf("%s: len %d (nil %v), %d (nil %v)", path, a.Len(), a.IsNil(), b.Len(), b.IsNil())
		}
		keys := a.MapKeys()
		slices.SortFunc(keys, func(x, y reflect.Value) int { return strings.Compare(x.String(), y.String()) })
		for _, k := range keys {
			bv := b.MapIndex(k)
			if !bv.IsValid() {
				return fmt.Sprintf("%s[%q]: missing", path, k.String())
			}
			if d := diff(fmt.Sprintf("%s[%q]", path, k.String()), a.MapIndex(k), bv); d != "" {
				return d
			}
		}
	case reflect.Float32, reflect.Float64:
		if math.Float64bits(a.Float()) != math.Float64bits(b.Float()) {
			return fmt.Sprintf("%s: %v, %v", path, a.Float(), b.Float())
		}
	case reflect.String:
		if a.String() != b.String() {
			return fmt.Sprintf("%s: %q, %q", path, a.String(), b.String())
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if a.Int() != b.Int() {
			return fmt.Sprintf("%s: %d, %d", path, a.Int(), b.Int())
		}
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint:
		if a.Uint() != b.Uint() {
			return fmt.Sprintf("%s: %d, %d", path, a.Uint(), b.Uint())
		}
	case reflect.Bool:
		if a.Bool() != b.Bool() {
			return fmt.Sprintf("%s: %v, %v", path, a.Bool(), b.Bool())
		}
	default:
		return fmt.Sprintf("%s: cannot compare kind %v", path, a.Kind())
	}
	return ""
}

// diffModels describes the first difference between a and b, or returns "".
func diffModels(a, b *Model) string { return diff("Model", reflect.ValueOf(a), reflect.ValueOf(b)) }
