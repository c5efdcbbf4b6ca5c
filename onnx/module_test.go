package onnx

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/explain/adapt"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// smallCNN is a glassbox Conv(1→4, 3×3) → ReLU → MaxPool(2) → Flatten →
// Linear(36→5) on 1×8×8 images, with biases drawn too.
func smallCNN(seed uint64) *nn.Sequential {
	rng := tensor.NewRNG(seed)
	m := nn.NewSequential(nn.NewConv2D(1, 4, 3, rng), nn.NewReLU(), nn.NewMaxPool2D(2, 2, 0), nn.NewFlatten(), nn.NewLinear(36, 5, rng))
	for _, p := range m.Params() {
		d := p.Value.Data()
		for i := range d {
			d[i] = float32(rng.NormFloat64() * 0.5)
		}
	}
	return m
}

// cnnGraph is smallCNN as torch.onnx.export writes it: the flatten is
// x.view(x.size(0), -1), a Shape → Gather → Unsqueeze → Concat → Reshape
// subgraph, and the dense layer a Gemm with transB=1. batch is the input's
// axis 0: -1 for a symbolic "N", or a fixed exported size.
func cnnGraph(seq *nn.Sequential, batch int64) *Model {
	conv := seq.Layers[0].(*nn.Conv2D)
	lin := seq.Layers[4].(*nn.Linear)
	return newModel(13).
		input("input", Float, batch, 1, 8, 8).
		floatInit("conv1.weight", conv.Weight.Value).floatInit("conv1.bias", conv.Bias.Value).
		floatInit("fc.weight", lin.Weight.Value.Transpose().Contiguous()).floatInit("fc.bias", lin.Bias.Value).
		intInit("zero", nil, 0).intInit("axes0", []int64{1}, 0).intInit("minus1", []int64{1}, -1).
		node("Conv", []string{"input", "conv1.weight", "conv1.bias"}, []string{"conv_out"}, tInts("kernel_shape", 3, 3), tInts("pads", 0, 0, 0, 0), tInts("strides", 1, 1)).
		node("Relu", []string{"conv_out"}, []string{"relu_out"}).
		node("MaxPool", []string{"relu_out"}, []string{"pool_out"}, tInts("kernel_shape", 2, 2), tInts("strides", 2, 2)).
		node("Shape", []string{"pool_out"}, []string{"shape"}).
		node("Gather", []string{"shape", "zero"}, []string{"batch"}, tInt("axis", 0)).
		node("Unsqueeze", []string{"batch", "axes0"}, []string{"batch1"}).
		node("Concat", []string{"batch1", "minus1"}, []string{"target"}, tInt("axis", 0)).
		node("Reshape", []string{"pool_out", "target"}, []string{"flat"}).
		node("Gemm", []string{"flat", "fc.weight", "fc.bias"}, []string{"logits"}, tInt("transB", 1)).
		output("logits").m
}

func randImages(seed uint64, n int) *tensor.Tensor {
	return tensor.RandU(tensor.NewRNG(seed), 0, 1, n, 1, 8, 8)
}

func closeTo(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); d > tol*(1+math.Abs(float64(want[i]))) || math.IsNaN(d) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

// TestCNNMatchesGlassbox imports a small CNN and checks outputs, input
// gradients and parameter gradients against the same network built from
// glassbox layers, at a batch size other than the exported one.
func TestCNNMatchesGlassbox(t *testing.T) {
	seq := smallCNN(1)
	for _, batch := range []int64{-1, 2} { // symbolic, and exported with batch 2
		mod := mustImport(t, cnnGraph(seq, batch), ImportOptions{})
		x := randImages(2, 3)

		want, err := nn.Predict(seq, x)
		if err != nil {
			t.Fatal(err)
		}
		got, err := nn.Predict(mod, x)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Shape(), []int{3, 5}) {
			t.Fatalf("output shape %v", got.Shape())
		}
		closeTo(t, "logits", got.Data(), want.Data(), 1e-5)

		// Input and parameter gradients of Σ logits·r.
		r := tensor.RandU(tensor.NewRNG(3), -1, 1, 3, 5)
		grads := func(m nn.Module) (*tensor.Tensor, []*tensor.Tensor) {
			nn.ZeroGrad(m)
			c := nn.EvalGrad()
			xv := autograd.Input(x.Clone())
			y := m.Forward(c, xv)
			if err := c.Tape.Backward(c.Tape.Sum(c.Tape.Mul(y, autograd.Const(r)), false)); err != nil {
				t.Fatal(err)
			}
			var pg []*tensor.Tensor
			for _, p := range m.Params() {
				pg = append(pg, p.Grad)
			}
			return xv.Grad, pg
		}
		gx, gp := grads(mod)
		wx, wp := grads(seq)
		closeTo(t, "input gradient", gx.Data(), wx.Data(), 1e-4)
		if len(gp) != 4 {
			t.Fatalf("%d parameters, want 4 (conv and fc weights and biases)", len(gp))
		}
		closeTo(t, "conv weight gradient", gp[0].Data(), wp[0].Data(), 1e-4)
		closeTo(t, "conv bias gradient", gp[1].Data(), wp[1].Data(), 1e-4)
		closeTo(t, "fc weight gradient", gp[2].Data(), wp[2].Transpose().Contiguous().Data(), 1e-4)
		closeTo(t, "fc bias gradient", gp[3].Data(), wp[3].Data(), 1e-4)
	}
}

// TestBatchFixedAtExport runs a graph exported with batch 1 and a
// hard-coded view(1, -1) on a batch of 4.
func TestBatchFixedAtExport(t *testing.T) {
	m := newModel(13).input("x", Float, 1, 2, 3).intInit("shape", []int64{2}, 1, -1).
		node("Reshape", []string{"x", "shape"}, []string{"y"}).output("y").m
	mod := mustImport(t, m, ImportOptions{})
	x := tensor.Arange(0, 1, 24).Reshape(4, 2, 3)
	y, err := nn.Predict(mod, x)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(y.Shape(), []int{4, 6}) {
		t.Fatalf("shape %v, want [4 6]", y.Shape())
	}
	// The non-batch axes are still checked.
	if _, err := nn.Predict(mod, tensor.New(4, 3, 2)); err == nil || !strings.Contains(err.Error(), "axis 1 must be 2") {
		t.Fatalf("wrong input shape: err = %v", err)
	}
}

// TestParameterGradientsNumerically compares every parameter's gradient
// with finite differences on a few of its elements, for the imported CNN.
func TestParameterGradientsNumerically(t *testing.T) {
	mod := mustImport(t, cnnGraph(smallCNN(4), -1), ImportOptions{})
	checkParamGrads(t, mod, randImages(5, 2))
}

func checkParamGrads(t *testing.T, mod nn.Module, x *tensor.Tensor) {
	t.Helper()
	r := tensor.RandU(tensor.NewRNG(9), -1, 1, mod.Forward(nn.Eval(), autograd.Const(x)).Value.Shape()...)
	loss := func() float64 {
		y := mod.Forward(nn.Eval(), autograd.Const(x)).Value.Data()
		var s float64
		for i, v := range y {
			s += float64(v) * float64(r.Data()[i])
		}
		return s
	}
	nn.ZeroGrad(mod)
	c := nn.EvalGrad()
	y := mod.Forward(c, autograd.Const(x))
	if err := c.Tape.Backward(c.Tape.Sum(c.Tape.Mul(y, autograd.Const(r)), false)); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, p := range mod.Params() {
		if p.Grad == nil {
			t.Fatalf("parameter %s got no gradient", p.Name)
		}
		d := p.Value.Data()
		for k := 0; k < 5; k++ {
			i := rng.IntN(len(d))
			orig := d[i]
			const eps = 1e-3
			d[i] = orig + eps
			up := loss()
			d[i] = orig - eps
			down := loss()
			d[i] = orig
			num := (up - down) / (2 * eps)
			ana := float64(p.Grad.Data()[i])
			if math.Abs(num-ana) > 3e-3+2e-2*math.Abs(num) {
				t.Errorf("%s[%d]: gradient %v, finite differences %v", p.Name, i, ana, num)
			}
		}
	}
}

// TestFineTune takes a few gradient steps on an imported model: the loss
// falls, so an import can be fine-tuned.
func TestFineTune(t *testing.T) {
	mod := mustImport(t, cnnGraph(smallCNN(6), -1), ImportOptions{})
	x := randImages(7, 8)
	target := tensor.RandU(tensor.NewRNG(8), -1, 1, 8, 5)
	step := func() float64 {
		nn.ZeroGrad(mod)
		c := nn.Train(tensor.NewRNG(1))
		d := c.Tape.Sub(mod.Forward(c, autograd.Const(x)), autograd.Const(target))
		loss := c.Tape.Mean(c.Tape.Square(d), false)
		if err := c.Tape.Backward(loss); err != nil {
			t.Fatal(err)
		}
		for _, p := range mod.Params() {
			tensor.AddInPlace(p.Value, tensor.MulScalar(p.Grad, -0.05))
		}
		return float64(loss.Value.Item())
	}
	first := step()
	var last float64
	for i := 0; i < 20; i++ {
		last = step()
	}
	if !(last < 0.8*first) {
		t.Fatalf("loss %v after 20 steps, from %v: fine-tuning does not learn", last, first)
	}
}

// TestGradCAMMatchesAdapt compares the imported CNN's CAM at the
// convolution with explain/adapt's on the glassbox network.
func TestGradCAMMatchesAdapt(t *testing.T) {
	seq := smallCNN(10)
	mod := mustImport(t, cnnGraph(seq, -1), ImportOptions{})
	layer, err := mod.LastConv()
	if err != nil || layer != "conv_out" {
		t.Fatalf("LastConv = %q, %v; want conv_out", layer, err)
	}
	x := randImages(11, 1).Data()
	for _, probe := range []struct {
		name string
		idx  int
	}{{"conv_out", 0}, {"relu_out", 1}} {
		act, grad, c, h, w, out, err := mod.CAM(probe.name)(context.Background(), x, 3)
		if err != nil {
			t.Fatal(err)
		}
		wa, wg, wc, wh, ww, wo, err := adapt.CAM(seq, probe.idx, []int{1, 8, 8})(context.Background(), x, 3)
		if err != nil {
			t.Fatal(err)
		}
		if c != wc || h != wh || w != ww || c != 4 || h != 6 || w != 6 {
			t.Fatalf("%s: %d×%d×%d, want %d×%d×%d", probe.name, c, h, w, wc, wh, ww)
		}
		closeTo(t, probe.name+" activations", act, wa, 1e-5)
		closeTo(t, probe.name+" gradients", grad, wg, 1e-4)
		closeTo(t, probe.name+" outputs", out, wo, 1e-5)
	}
	// And the whole explanation runs.
	e, err := explain.GradCAM(context.Background(), mod.CAM(layer), x, 2, 8, 8)
	if err != nil || len(e.Map) != 64 {
		t.Fatalf("GradCAM: %v", err)
	}
	// Parameter gradients accumulated before are left alone.
	for _, p := range mod.Params() {
		if p.Grad != nil {
			t.Fatalf("CAM left a gradient on %s", p.Name)
		}
	}
	if _, _, _, _, _, _, err := mod.CAM("nope")(context.Background(), x, 0); err == nil || !strings.Contains(err.Error(), `"conv_out"`) {
		t.Fatalf("unknown layer: %v", err)
	}
	if _, _, _, _, _, _, err := mod.CAM("flat")(context.Background(), x, 0); err == nil || !strings.Contains(err.Error(), "[1, C, H, W]") {
		t.Fatalf("flat layer: %v", err)
	}
}

// textModel is an LSTM classifier as PyTorch exports it: token ids →
// Gather (embedding) → Transpose to [T, B, E] → LSTM → the last step's
// output → Gemm.
func textModel(rng *rand.Rand, vocab, emb, hid, classes int) (*Model, map[string]*tensor.Tensor) {
	w := map[string]*tensor.Tensor{
		"emb":  randT(rng, vocab, emb),
		"W":    tensor.MulScalar(randT(rng, 1, 4*hid, emb), 0.7),
		"R":    tensor.MulScalar(randT(rng, 1, 4*hid, hid), 0.7),
		"B":    tensor.MulScalar(randT(rng, 1, 8*hid), 0.5),
		"fc.w": randT(rng, classes, hid),
		"fc.b": randT(rng, classes),
	}
	m := newModel(13).input("ids", Int64, -1, 5).
		floatInit("emb", w["emb"]).floatInit("W", w["W"]).floatInit("R", w["R"]).floatInit("B", w["B"]).
		floatInit("fc.w", w["fc.w"]).floatInit("fc.b", w["fc.b"]).
		intInit("axis1", []int64{1}, 1).intInit("last", nil, -1).
		node("Gather", []string{"emb", "ids"}, []string{"e"}).
		node("Transpose", []string{"e"}, []string{"et"}, tInts("perm", 1, 0, 2)).
		node("LSTM", []string{"et", "W", "R", "B"}, []string{"Y", "", ""}, tInt("hidden_size", int64(hid))).
		node("Squeeze", []string{"Y", "axis1"}, []string{"ys"}).
		node("Gather", []string{"ys", "last"}, []string{"h"}, tInt("axis", 0)).
		node("Gemm", []string{"h", "fc.w", "fc.b"}, []string{"logits"}, tInt("transB", 1)).
		output("logits").m
	return m, w
}

func TestLSTMTextModel(t *testing.T) {
	rng := tensor.NewRNG(12)
	const vocab, emb, hid, classes = 11, 4, 3, 2
	m, w := textModel(rng, vocab, emb, hid, classes)
	mod := mustImport(t, m, ImportOptions{})
	ids := []float32{1, 4, 0, 10, 3, 7, 7, 2, 9, 5, 6, 1, 2, 3, 8} // batch 3 (exported with "N")
	x := tensor.MustFromSlice(ids, 3, 5)
	got, err := nn.Predict(mod, x)
	if err != nil {
		t.Fatal(err)
	}
	// Reference: embed, run ONNX's LSTM equations, take the last step, affine.
	X := tensor.New(5, 3, emb)
	for b := 0; b < 3; b++ {
		for s := 0; s < 5; s++ {
			for j := 0; j < emb; j++ {
				X.Set(w["emb"].At(int(ids[b*5+s]), j), s, b, j)
			}
		}
	}
	_, yh, _ := rnnRef(kindLSTM, []bool{false}, false, X, w["W"], w["R"], w["B"], nil, nil, nil)
	want := make([]float64, 3*classes)
	for b := 0; b < 3; b++ {
		for k := 0; k < classes; k++ {
			s := float64(w["fc.b"].At(k))
			for j := 0; j < hid; j++ {
				s += yh[b*hid+j] * float64(w["fc.w"].At(k, j))
			}
			want[b*classes+k] = s
		}
	}
	if i, ok := close64(got.Data(), want, 1e-5); !ok {
		t.Fatalf("logits[%d]: got %v, want %v", i, got.Data(), want)
	}
	// Every initialiser is a parameter and gets the right gradient.
	if len(mod.Params()) != 6 {
		t.Fatalf("%d parameters, want 6", len(mod.Params()))
	}
	checkParamGrads(t, mod, x)
	// Ids must be whole numbers.
	if _, err := nn.Predict(mod, tensor.Full(0.5, 1, 5)); err == nil || !strings.Contains(err.Error(), "whole numbers") {
		t.Fatalf("fractional ids: %v", err)
	}
	if _, err := nn.Predict(mod, tensor.Full(11, 1, 5)); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Fatalf("id beyond the vocabulary: %v", err)
	}
}

// TestGeluErfDecomposition is GELU as exporters before opset 20 write it:
// x·0.5·(1 + erf(x/√2)).
func TestGeluErfDecomposition(t *testing.T) {
	m := newModel(13).input("x", Float, -1, 4).
		floatInit("sqrt2", tensor.Scalar(float32(math.Sqrt2))).floatInit("one", tensor.Scalar(1)).floatInit("half", tensor.Scalar(0.5)).
		node("Div", []string{"x", "sqrt2"}, []string{"a"}).
		node("Erf", []string{"a"}, []string{"b"}).
		node("Add", []string{"b", "one"}, []string{"c"}).
		node("Mul", []string{"x", "c"}, []string{"d"}).
		node("Mul", []string{"d", "half"}, []string{"y"}).
		output("y").m
	mod := mustImport(t, m, ImportOptions{})
	x := randT(tensor.NewRNG(13), 3, 4)
	got, err := nn.Predict(mod, x)
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "gelu", got.Data(), tensor.GELU(x).Data(), 1e-5)
	if err := autograd.GradCheck(func(tp *autograd.Tape, xs []*autograd.Var) *autograd.Var {
		return mod.Forward(&nn.Ctx{Tape: tp}, xs[0])
	}, []*tensor.Tensor{x}, 1e-2, 2e-2, 2e-3); err != nil {
		t.Fatal(err)
	}
	// Constants feeding only non-differentiable... here every float
	// initialiser feeds a differentiable operand, so all are parameters.
	if len(mod.Params()) != 3 {
		t.Fatalf("%d parameters, want 3", len(mod.Params()))
	}
}

func TestUnsupportedErrors(t *testing.T) {
	cases := []struct {
		name string
		m    *Model
		want []string
	}{
		{"unknown op", newModel(17).input("x", Float).node("FancyOp", []string{"x"}, []string{"y"}).output("y").m,
			[]string{"FancyOp", "opset 17", `"FancyOp_y"`, "not supported"}},
		{"unknown attribute", newModel(15).input("x", Float).node("Relu", []string{"x"}, []string{"y"}, tInt("fast", 1)).output("y").m,
			[]string{"Relu", "opset 15", `"Relu_y"`, "attribute fast"}},
		{"attribute value", newModel(13).input("x", Float).intInit("p", []int64{2}, 1, 1).node("Pad", []string{"x", "p"}, []string{"y"}, tStr("mode", "wrap")).output("y").m,
			[]string{"Pad", "opset 13", `"Pad_y"`, `mode "wrap"`}},
		{"lstm input_forget", newModel(13).input("x", Float).input("w", Float).input("r", Float).node("LSTM", []string{"x", "w", "r"}, []string{"y"}, tInt("input_forget", 1)).output("y").m,
			[]string{"LSTM", "opset 13", "input_forget"}},
		{"gelu approximate", newModel(20).input("x", Float).node("Gelu", []string{"x"}, []string{"y"}, tStr("approximate", "erf")).output("y").m,
			[]string{"Gelu", "opset 20", "approximate"}},
		{"other domain", func() *Model {
			m := newModel(13).input("x", Float).node("FusedConv", []string{"x"}, []string{"y"}).output("y").m
			m.Graph.Nodes[0].Domain = "com.microsoft"
			return m
		}(), []string{"FusedConv", "com.microsoft"}},
		{"opset too new", newModel(99).input("x", Float).node("Relu", []string{"x"}, []string{"y"}).output("y").m,
			[]string{"opset 99"}},
		{"unordered", newModel(13).input("x", Float).node("Relu", []string{"z"}, []string{"y"}).node("Relu", []string{"x"}, []string{"z"}).output("y").m,
			[]string{`"z"`, "topological"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Import(c.m, ImportOptions{AllInputs: true})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
		})
	}
	// Run-time refusals name the node too.
	m := newModel(13).input("x", Float).input("r", Float).intInit("n", []int64{1}, 2).
		node("Dropout", []string{"x", "r", "t"}, []string{"y"}).output("y").m
	m.Graph.Initializers = append(m.Graph.Initializers, &Tensor{Name: "t", DataType: Bool, Ints: []int64{1}})
	mod := mustImport(t, m, ImportOptions{AllInputs: true})
	_, err := mod.Eval(map[string]*Tensor{"x": floatTensor("x", tensor.Ones(3)), "r": floatTensor("r", tensor.Scalar(0.5))})
	if err == nil || !strings.Contains(err.Error(), "Dropout") || !strings.Contains(err.Error(), "training_mode") {
		t.Fatalf("in-graph training dropout: %v", err)
	}
}

func TestImportInputsOutputs(t *testing.T) {
	two := newModel(13).input("a", Float, -1, 2).input("b", Float, -1, 2).node("Add", []string{"a", "b"}, []string{"y"}).output("y").m
	if _, err := Import(two, ImportOptions{}); err == nil || !strings.Contains(err.Error(), "a (float[N 2])") || !strings.Contains(err.Error(), "b (float[N 2])") {
		t.Fatalf("two inputs: %v", err)
	}
	mod := mustImport(t, two, ImportOptions{AllInputs: true})
	got, err := mod.Eval(map[string]*Tensor{"a": floatTensor("a", tensor.Ones(1, 2)), "b": floatTensor("b", tensor.Ones(1, 2))})
	if err != nil || !slices.Equal(got["y"].Floats, []float32{2, 2}) {
		t.Fatalf("Eval: %v %v", got, err)
	}
	if _, err := mod.Eval(map[string]*Tensor{"a": floatTensor("a", tensor.Ones(1, 2))}); err == nil || !strings.Contains(err.Error(), `"b"`) {
		t.Fatalf("missing input: %v", err)
	}
	// An initialiser listed among the inputs (older exporters) is not an input.
	one := newModel(9).input("x", Float, -1, 2).input("w", Float, 2).floatInit("w", tensor.Ones(2)).
		node("Mul", []string{"x", "w"}, []string{"y"}).output("y").m
	mod = mustImport(t, one, ImportOptions{})
	if len(mod.Inputs()) != 1 || mod.Inputs()[0].Name != "x" || len(mod.Params()) != 1 {
		t.Fatalf("inputs %v, params %d", mod.Inputs(), len(mod.Params()))
	}
	twoOut := newModel(13).input("x", Float).node("Relu", []string{"x"}, []string{"a"}).node("Neg", []string{"x"}, []string{"b"}).output("a", "b").m
	if _, err := Import(twoOut, ImportOptions{}); err == nil || !strings.Contains(err.Error(), "a, b") {
		t.Fatalf("two outputs: %v", err)
	}
	mod = mustImport(t, twoOut, ImportOptions{Output: "b"})
	y, err := nn.Predict(mod, tensor.Ones(2))
	if err != nil || y.Data()[0] != -1 {
		t.Fatalf("Output b: %v %v", y, err)
	}
	// As skl2onnx writes a classifier: probabilities, then a ZipMap (of
	// another domain) into a sequence of maps, and a label from a second
	// input. Picking the probabilities imports only what they need, and
	// an intermediate value may be the output.
	sk := newModel(13).input("x", Float, -1, 2).input("unused", Float).floatInit("w", tensor.Ones(2, 3)).
		node("MatMul", []string{"x", "w"}, []string{"logits"}).
		node("Softmax", []string{"logits"}, []string{"probabilities"}).
		node("ZipMap", []string{"probabilities"}, []string{"output_probability"}).
		node("ArgMax", []string{"unused"}, []string{"label"}).
		output("label", "output_probability").m
	sk.Graph.Nodes[2].Domain = "ai.onnx.ml"
	sk.Graph.Outputs[1].Kind = KindSequence
	mod = mustImport(t, sk, ImportOptions{Output: "probabilities"})
	if mod.Inputs()[0].Name != "x" || len(mod.nodes) != 2 {
		t.Fatalf("imported %d nodes for input %q", len(mod.nodes), mod.input)
	}
	y, err = nn.Predict(mod, tensor.Ones(4, 2))
	if err != nil || !slices.Equal(y.Shape(), []int{4, 3}) {
		t.Fatalf("probabilities: %v %v", y, err)
	}
	if _, err := Import(sk, ImportOptions{Output: "output_probability"}); err == nil || !strings.Contains(err.Error(), "sequence") {
		t.Fatalf("sequence output: %v", err)
	}
	if _, err := Import(sk, ImportOptions{Output: "nowhere"}); err == nil || !strings.Contains(err.Error(), "label, output_probability") {
		t.Fatalf("unknown output: %v", err)
	}
}

func TestParamsBuffersAndSpec(t *testing.T) {
	m := newModel(13).input("x", Float, -1, 2, 1, 1).
		floatInit("bn/scale:0", tensor.Ones(2)).floatInit("bn/scale:0 ", tensor.Ones(2)).
		floatInit("mean", tensor.New(2)).floatInit("var", tensor.Ones(2)).intInit("shape", []int64{2}, 0, -1).
		node("BatchNormalization", []string{"x", "bn/scale:0", "bn/scale:0 ", "mean", "var"}, []string{"y"}).
		node("Reshape", []string{"y", "shape"}, []string{"z"}).output("z").m
	mod := mustImport(t, m, ImportOptions{})
	var names []string
	for _, p := range mod.Params() {
		names = append(names, p.Name)
	}
	if !slices.Equal(names, []string{"bn/scale:0", "bn/scale:0_"}) {
		t.Fatalf("parameter names %v", names)
	}
	var bufs []string
	for _, b := range mod.Buffers() {
		bufs = append(bufs, b.Name)
		if b.RequiresGrad() {
			t.Errorf("buffer %s takes a gradient", b.Name)
		}
	}
	if !slices.Equal(bufs, []string{"mean", "var"}) {
		t.Fatalf("buffers %v", bufs)
	}
	s := mod.Spec()
	if s.Type != "onnx" || !strings.Contains(string(s.Args), `"opset":13`) {
		t.Fatalf("spec %+v", s)
	}
	ops := SupportedOps()
	for _, op := range []string{"Conv", "Gemm", "MatMul", "BatchNormalization", "Relu", "Clip", "Sigmoid", "Tanh", "HardSigmoid",
		"HardSwish", "LeakyRelu", "Elu", "Gelu", "Erf", "Div", "Mul", "Add", "Softmax", "LogSoftmax", "MaxPool", "AveragePool",
		"GlobalAveragePool", "GlobalMaxPool", "Sub", "Pow", "Sqrt", "Exp", "Log", "Neg", "Abs", "Reciprocal", "Concat", "Reshape",
		"Flatten", "Transpose", "Squeeze", "Unsqueeze", "Slice", "Gather", "Shape", "Constant", "ConstantOfShape", "Identity",
		"Cast", "Dropout", "Pad", "ReduceMean", "ReduceSum", "LSTM", "GRU", "RNN"} {
		if !slices.Contains(ops, op) {
			t.Errorf("SupportedOps lacks %s", op)
		}
	}
	if !slices.IsSorted(ops) {
		t.Error("SupportedOps is not sorted")
	}
}

// TestForwardErrorsNameTheNode: a shape problem at run time is an error
// from nn.Apply naming the node.
func TestForwardErrorsNameTheNode(t *testing.T) {
	m := newModel(13).input("x", Float).floatInit("w", tensor.Ones(3, 2)).
		node("MatMul", []string{"x", "w"}, []string{"y"}).output("y").m
	mod := mustImport(t, m, ImportOptions{})
	_, err := nn.Apply(mod, nn.Eval(), tensor.Ones(2, 4))
	if err == nil || !strings.Contains(err.Error(), `"MatMul_y"`) || !strings.Contains(err.Error(), "MatMul") {
		t.Fatalf("err = %v", err)
	}
}

// TestDropoutFollowsContext: Dropout is the identity for inference and
// drops with the context's generator when training.
func TestDropoutFollowsContext(t *testing.T) {
	m := newModel(13).input("x", Float).floatInit("r", tensor.Scalar(0.5)).
		node("Dropout", []string{"x", "r"}, []string{"y"}).output("y").m
	mod := mustImport(t, m, ImportOptions{})
	x := tensor.Ones(1000)
	y := mod.Forward(nn.Eval(), autograd.Const(x)).Value
	if !slices.Equal(y.Data(), x.Data()) {
		t.Fatal("inference dropout changed the input")
	}
	y = mod.Forward(nn.Train(tensor.NewRNG(1)), autograd.Const(x)).Value
	zeros := 0
	for _, v := range y.Data() {
		switch v {
		case 0:
			zeros++
		case 2:
		default:
			t.Fatalf("training dropout gave %v, want 0 or 2", v)
		}
	}
	if zeros < 400 || zeros > 600 {
		t.Fatalf("%d of 1000 dropped at ratio 0.5", zeros)
	}
}

// TestSchedulesReused checks that the schedules run keeps per set of
// wanted outputs give the same results whichever ran before: a plain
// inference (the Conv and its Relu fused, values recycled), a Grad-CAM
// probe (a hook: nothing fused or recycled) and one recording gradients,
// and that asking for many different outputs keeps at most maxSchedules.
func TestSchedulesReused(t *testing.T) {
	seq := smallCNN(21)
	mod := mustImport(t, cnnGraph(seq, -1), ImportOptions{})
	x := randImages(22, 3)
	want := mod.Forward(nn.Eval(), autograd.Const(x)).Value.Data()
	closeTo(t, "first forward", want, seq.Forward(nn.Eval(), autograd.Const(x)).Value.Data(), 1e-5)
	if _, _, _, _, _, _, err := mod.CAM("relu_out")(context.Background(), x.Data()[:64], 1); err != nil {
		t.Fatal(err)
	}
	c := nn.EvalGrad()
	xv := autograd.Input(x.Clone())
	y := mod.Forward(c, xv)
	if err := c.Tape.Backward(c.Tape.Sum(y, false)); err != nil || xv.Grad == nil {
		t.Fatalf("gradient after a CAM probe: %v", err)
	}
	if got := y.Value.Data(); !slices.Equal(got, want) {
		t.Fatalf("recording forward after a CAM probe differs: %v, want %v", got[:3], want[:3])
	}
	if got := mod.Forward(nn.Eval(), autograd.Const(x)).Value.Data(); !slices.Equal(got, want) {
		t.Fatalf("second inference differs: %v, want %v", got[:3], want[:3])
	}
	names := []string{"conv_out", "relu_out", "pool_out", "flat", "logits", "shape", "batch", "batch1", "target"}
	e := &env{tp: autograd.NoGrad(), ctx: nn.Eval(), m: mod}
	for _, a := range names {
		for _, b := range names {
			res, err := mod.run(e, map[string]*autograd.Var{"input": autograd.Const(x)}, nil, []string{a, b})
			if err != nil {
				t.Fatalf("wants %s, %s: %v", a, b, err)
			}
			if a == "logits" && !slices.Equal(res[a].v.Value.Data(), want) {
				t.Fatalf("wants %s, %s: logits differ", a, b)
			}
		}
	}
	if n := len(mod.scheds); n > maxSchedules {
		t.Fatalf("%d schedules kept, bound %d", n, maxSchedules)
	}
}
