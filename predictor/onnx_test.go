package predictor

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/onnx"
	"github.com/glassbox-ml/glassbox/tensor"
)

// probe reads the fixture's reference input and PyTorch's output for it.
func probe(t *testing.T) (x, want []float32) {
	t.Helper()
	b, err := os.ReadFile("testdata/tiny_cnn_probe.txt")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	parse := func(s string) []float32 {
		var out []float32
		for _, f := range strings.Fields(s) {
			v, err := strconv.ParseFloat(f, 32)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, float32(v))
		}
		return out
	}
	return parse(lines[0]), parse(lines[1])
}

// A CNN exported by PyTorch (testdata/make_cnn_onnx.py) opens as a
// Predictor with its sidecar's description, predicts what PyTorch
// predicts, and explains with every image method, Grad-CAM on its last
// convolution included.
func TestONNXCNNFromPyTorch(t *testing.T) {
	ctx := context.Background()
	p, err := Load("testdata/tiny_cnn.onnx")
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind != explain.Image || p.Outputs != 10 || len(p.Classes) != 10 {
		t.Fatalf("imported as %s with %d outputs, classes %v", p.Kind, p.Outputs, p.Classes)
	}
	x, want := probe(t)
	got, err := p.Forward(ctx, tensor.MustFromSlice(x, 1, 1, 28, 28))
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range want {
		if d := math.Abs(float64(got.Data()[i] - v)); d > 1e-4*math.Max(1, math.Abs(float64(v))) {
			t.Fatalf("logit %d: %v, PyTorch %v", i, got.Data()[i], v)
		}
	}
	var names []string
	for _, mi := range p.Methods() {
		names = append(names, mi.Name)
	}
	if !strings.Contains(strings.Join(names, " "), "gradcam") {
		t.Fatalf("methods %v lack Grad-CAM", names)
	}
	for _, m := range names {
		samples := 200
		switch m {
		case "ig":
			samples = 0 // the adaptive default, which reaches completeness
		case "permutation", "shapleysampling":
			samples = 10 // each sample is a pass over every superpixel
		case "deepliftshap", "gradientshap":
			samples = 20 // a batch of 200 references is slow under -race
		}
		res, err := p.Explain(ctx, m, x, explain.Options{Seed: 1, Samples: samples})
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		if _, ok := res.Quality["deletion_auc"]; !ok {
			t.Errorf("%s: no deletion area", m)
		}
		if m == "ig" {
			if r := res.Quality["completeness_residual"]; r > 1e-3 {
				t.Errorf("IG completeness residual %v > 1e-3", r)
			}
		}
		if (m == "deeplift" || m == "deepliftshap") && res.Quality["completeness_residual"] > 1e-3 {
			// The Rescale rule through the graph's Conv, ReLU, MaxPool,
			// BatchNormalization and Gemm nodes adds up exactly, up to
			// float32 rounding.
			t.Errorf("%s completeness residual %v > 1e-3", m, res.Quality["completeness_residual"])
		}
		if m == "gradcam" && res.Layer == "" {
			t.Error("Grad-CAM names no layer")
		}
	}
	// Layer methods need a split the graph does not give (yet): a clear
	// error, and they are not offered.
	if strings.Contains(strings.Join(names, " "), "layerig") {
		t.Errorf("methods %v offer layer methods on an ONNX graph", names)
	}
	if _, err := p.Explain(ctx, "layerig", x, explain.Options{}); err == nil || !strings.Contains(err.Error(), "hidden layers") {
		t.Errorf("layerig on an ONNX graph: %v", err)
	}
	if err := p.Save(t.TempDir() + "/x.gbx"); err == nil || !strings.Contains(err.Error(), "imported from ONNX") {
		t.Errorf("saving an import as .gbx: %v", err)
	}
}

func TestONNXSidecarErrors(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("testdata/tiny_cnn.onnx")
	if err != nil {
		t.Fatal(err)
	}
	path := dir + "/m.onnx"
	os.WriteFile(path, b, 0o644)
	// No sidecar: the input shape comes from the graph, the task defaults
	// to classification with unnamed classes.
	p, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.InputShape) != 3 || p.InputShape[1] != 28 || p.Classes != nil {
		t.Fatalf("without a sidecar: shape %v classes %v", p.InputShape, p.Classes)
	}
	os.WriteFile(dir+"/m.json", []byte(`{"task": "classification", "clases": ["a"]}`), 0o644)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "clases") {
		t.Errorf("a misspelt sidecar field: %v", err)
	}
	os.WriteFile(dir+"/m.json", []byte(`{"classes": ["a", "b"]}`), 0o644)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "names 2 classes") {
		t.Errorf("two classes for ten outputs: %v", err)
	}
	os.WriteFile(path, b[:len(b)/2], 0o644)
	if _, err := Load(path); err == nil {
		t.Error("a truncated ONNX file loaded")
	}
}

// Crafted ONNX graphs whose first forward pass would take the machine's
// memory are refused when they load, with little allocated: one huge
// node (a 1×1 convolution to 4096 channels of a 4096×4096 image, 4096
// weights) and many large ones (Expand to 2^24 values, 64 times).
func TestCraftedONNXActivationsAreRefused(t *testing.T) {
	dir := t.TempDir()
	huge := &onnx.Model{IRVersion: 7, Opsets: map[string]int64{"": 13}, Graph: &onnx.Graph{
		Inputs:       []*onnx.ValueInfo{{Name: "x", ElemType: onnx.Float, Shape: []onnx.Dim{{Param: "batch"}, {Value: 1}, {Value: 4096}, {Value: 4096}}}},
		Outputs:      []*onnx.ValueInfo{{Name: "y", ElemType: onnx.Float}},
		Initializers: []*onnx.Tensor{{Name: "w", DataType: onnx.Float, Dims: []int64{4096, 1, 1, 1}, Floats: make([]float32, 4096)}},
		Nodes:        []*onnx.Node{{Name: "conv", OpType: "Conv", Inputs: []string{"x", "w"}, Outputs: []string{"y"}}},
	}}
	many := &onnx.Model{IRVersion: 7, Opsets: map[string]int64{"": 13}, Graph: &onnx.Graph{
		Inputs:       []*onnx.ValueInfo{{Name: "x", ElemType: onnx.Float, Shape: []onnx.Dim{{Param: "batch"}, {Value: 1}}}},
		Initializers: []*onnx.Tensor{{Name: "shape", DataType: onnx.Int64, Dims: []int64{2}, Ints: []int64{1, 1 << 24}}},
	}}
	prev := "x"
	for i := range 64 {
		out := fmt.Sprintf("e%d", i)
		many.Graph.Nodes = append(many.Graph.Nodes, &onnx.Node{Name: out, OpType: "Expand", Inputs: []string{prev, "shape"}, Outputs: []string{out}})
		if i == 0 {
			prev = out
		} else {
			add := fmt.Sprintf("a%d", i)
			many.Graph.Nodes = append(many.Graph.Nodes, &onnx.Node{Name: add, OpType: "Add", Inputs: []string{prev, out}, Outputs: []string{add}})
			prev = add
		}
	}
	many.Graph.Outputs = []*onnx.ValueInfo{{Name: prev, ElemType: onnx.Float}}
	for name, m := range map[string]*onnx.Model{"huge": huge, "many": many} {
		path := filepath.Join(dir, name+".onnx")
		if err := onnx.WriteFile(path, m); err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := Load(path)
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Fatalf("%s: loaded", name)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 2<<30 {
			t.Errorf("%s: %d MiB allocated before refusing (%v)", name, grew>>20, err)
		}
		t.Logf("%s: %v", name, err)
	}
}
