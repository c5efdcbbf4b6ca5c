package nn

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
)

func TestConv2DForwardShapeAndValues(t *testing.T) {
	rng := tensor.NewRNG(1)
	l := NewConv2D(4, 6, 3, rng, ConvStride(2), ConvPadding(1), ConvGroups(2))
	if got := l.Weight.Shape(); fmt.Sprint(got) != "[6 2 3 3]" {
		t.Fatalf("weight shape %v", got)
	}
	copy(l.Bias.Value.Data(), tensor.RandN(rng, 0, 1, 6).Data())
	x := tensor.RandN(rng, 0, 1, 2, 4, 7, 8)
	y, err := Apply(l, Eval(), x)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(y.Shape()) != "[2 6 4 4]" {
		t.Fatalf("output shape %v, want [2 6 4 4]", y.Shape())
	}
	want := tensor.Conv2D(x, l.Weight.Value, l.Bias.Value, tensor.ConvParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, Groups: 2})
	if !tensor.AllClose(y.Value, want, 0, 0) {
		t.Fatal("layer output differs from tensor.Conv2D with its weights")
	}
}

func TestConv2DHeInit(t *testing.T) {
	l := NewConv2D(64, 64, 3, tensor.NewRNG(2))
	w := l.Weight.Value.Data()
	var s, s2 float64
	for _, v := range w {
		s += float64(v)
		s2 += float64(v) * float64(v)
	}
	mean := s / float64(len(w))
	std := math.Sqrt(s2/float64(len(w)) - mean*mean)
	want := math.Sqrt(2.0 / (64 * 9))
	if math.Abs(std-want) > 0.03*want || math.Abs(mean) > 0.03*want {
		t.Fatalf("weights mean %.4g std %.4g, want 0 and %.4g (He)", mean, std, want)
	}
	for _, v := range l.Bias.Value.Data() {
		if v != 0 {
			t.Fatal("bias does not start at zero")
		}
	}
	if NewConv2D(2, 2, 3, tensor.NewRNG(2), ConvNoBias()).Bias != nil {
		t.Fatal("ConvNoBias layer has a bias")
	}
}

// TestConv2DLayerGradCheck checks the layer's gradients with respect to
// its input, weight and bias by swapping the checked tensors in as the
// layer's parameters.
func TestConv2DLayerGradCheck(t *testing.T) {
	rng := tensor.NewRNG(3)
	l := NewConv2D(2, 3, 3, rng, ConvStrideHW(2, 1), ConvPaddingHW(1, 2))
	x := tensor.RandN(rng, 0, 1, 2, 2, 5, 4)
	b := tensor.RandN(rng, 0, 1, 3)
	err := autograd.GradCheck(func(tp *autograd.Tape, v []*autograd.Var) *autograd.Var {
		w0, b0 := l.Weight, l.Bias
		l.Weight, l.Bias = v[1], v[2]
		defer func() { l.Weight, l.Bias = w0, b0 }()
		return l.Forward(&Ctx{Tape: tp}, v[0])
	}, []*tensor.Tensor{x, l.Weight.Value, b}, 1e-2, 2e-2, 2e-3)
	if err != nil {
		t.Fatal(err)
	}
}

// TestConv2DLearnsEdgeDetector trains a single 3×3 filter by plain
// gradient descent to reproduce a Sobel edge detector's outputs, and checks
// that the learned filter is the Sobel kernel.
func TestConv2DLearnsEdgeDetector(t *testing.T) {
	rng := tensor.NewRNG(4)
	sobel := tensor.MustFromSlice([]float32{1, 0, -1, 2, 0, -2, 1, 0, -1}, 1, 1, 3, 3)
	x := tensor.RandN(rng, 0, 1, 8, 1, 10, 10)
	target := autograd.Const(tensor.Conv2D(x, sobel, nil, tensor.ConvParams{PadH: 1, PadW: 1}))
	l := NewConv2D(1, 1, 3, rng, ConvPadding(1))
	var first, last float32
	for step := 0; step < 150; step++ {
		c := Train(rng)
		diff := c.Tape.Sub(l.Forward(c, autograd.Const(x)), target)
		loss := c.Tape.Mean(c.Tape.Mul(diff, diff), false)
		if step == 0 {
			first = loss.Value.Item()
		}
		last = loss.Value.Item()
		ZeroGrad(l)
		if err := c.Tape.Backward(loss); err != nil {
			t.Fatal(err)
		}
		for _, p := range l.Params() {
			tensor.AddInPlace(p.Value, tensor.MulScalar(p.Grad, -0.2))
		}
	}
	if last > first*1e-6 {
		t.Fatalf("loss fell from %g to %g only", first, last)
	}
	if !tensor.AllClose(l.Weight.Value, sobel, 0, 1e-3) || math.Abs(float64(l.Bias.Value.Item())) > 1e-3 {
		t.Fatalf("learned filter %v bias %v, want Sobel %v and 0", l.Weight.Value.Data(), l.Bias.Value.Data(), sobel.Data())
	}
}

func TestConv2DInputErrors(t *testing.T) {
	l := NewConv2D(1, 4, 5, tensor.NewRNG(5))
	l.SetName("conv1")
	for _, tc := range []struct {
		shape []int
		want  string
	}{
		{[]int{2, 3, 28, 28}, `conv2d "conv1": input has 3 channels, layer expects 1`},
		{[]int{784}, `conv2d "conv1": input must be [batch, channels, height, width], got [784]`},
		{[]int{1, 1, 4, 9}, `conv2d "conv1": input 4×9 (padding 0×0) is smaller than the 5×5 kernel`},
	} {
		_, err := Apply(l, Eval(), tensor.New(tc.shape...))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("input %v: error %v, want %q", tc.shape, err, tc.want)
		}
	}
	err := tensor.Catch(func() { NewConv2D(3, 4, 3, tensor.NewRNG(1), ConvGroups(2)) })
	if err == nil || !strings.Contains(err.Error(), "groups=2 must divide in=3 and out=4") {
		t.Errorf("bad groups: %v", err)
	}
}

// specRoundTrip saves m's Spec as JSON, rebuilds it with Build and checks
// that the rebuilt module has the same Spec and the same parameter names
// and shapes.
func specRoundTrip(t *testing.T, m Module) Module {
	t.Helper()
	js, err := json.Marshal(m.Spec())
	if err != nil {
		t.Fatal(err)
	}
	var s Spec
	if err := json.Unmarshal(js, &s); err != nil {
		t.Fatal(err)
	}
	b, err := Build(s, tensor.NewRNG(99))
	if err != nil {
		t.Fatalf("Build(%s): %v", js, err)
	}
	js2, _ := json.Marshal(b.Spec())
	if string(js) != string(js2) {
		t.Fatalf("spec changed in the round trip:\n%s\n%s", js, js2)
	}
	p1, p2 := m.Params(), b.Params()
	if len(p1) != len(p2) {
		t.Fatalf("%d params, rebuilt has %d", len(p1), len(p2))
	}
	for i := range p1 {
		if p1[i].Name != p2[i].Name || !tensor.SameShape(p1[i].Shape(), p2[i].Shape()) {
			t.Fatalf("param %d: %s %v, rebuilt %s %v", i, p1[i].Name, p1[i].Shape(), p2[i].Name, p2[i].Shape())
		}
		p2[i].Value.CopyFrom(p1[i].Value)
	}
	return b
}

func TestConv2DSpecRoundTrip(t *testing.T) {
	for _, l := range []*Conv2D{
		NewConv2D(3, 8, 3, tensor.NewRNG(6), ConvPadding(1)),
		NewConv2D(4, 6, 1, tensor.NewRNG(6), ConvKernelHW(2, 3), ConvStrideHW(2, 1), ConvPaddingHW(1, 0), ConvGroups(2), ConvNoBias()),
	} {
		l.SetName("conv1")
		if l.Params()[0].Name != "conv1/weight" {
			t.Fatalf("weight named %q", l.Params()[0].Name)
		}
		b := specRoundTrip(t, l)
		x := tensor.RandN(tensor.NewRNG(7), 0, 1, 2, l.In, 6, 6)
		y1, err1 := Predict(l, x)
		y2, err2 := Predict(b, x)
		if err1 != nil || err2 != nil || !tensor.AllClose(y1, y2, 0, 0) {
			t.Fatalf("rebuilt layer computes differently (%v, %v)", err1, err2)
		}
	}
	// Same seed, same weights.
	a := NewConv2D(2, 3, 3, tensor.NewRNG(8))
	b := NewConv2D(2, 3, 3, tensor.NewRNG(8))
	if !tensor.AllClose(a.Weight.Value, b.Weight.Value, 0, 0) {
		t.Fatal("same seed gave different weights")
	}
	for _, args := range []string{`{"in":0,"out":4,"kh":3,"kw":3}`, `{"in":3,"out":4,"kh":3,"kw":3,"groups":2}`, `{"in":"x"}`} {
		if _, err := Build(Spec{Type: "conv2d", Name: "c", Args: json.RawMessage(args)}, tensor.NewRNG(1)); err == nil {
			t.Errorf("Build accepted args %s", args)
		}
	}
}

func ExampleConv2D() {
	rng := tensor.NewRNG(1)
	// LeNet-5's first layer: 6 filters of 5×5, "same" padding.
	conv := NewConv2D(1, 6, 5, rng, ConvPadding(2))
	conv.SetName("conv1")
	y, err := Predict(conv, tensor.New(64, 1, 28, 28))
	fmt.Println(y.Shape(), err, NumParams(conv), conv.Params()[0].Name)
	// Output: [64 6 28 28] <nil> 156 conv1/weight
}

// TestSequentialFusesConvReLU: a Conv2D followed by a ReLU inside a
// Sequential runs fused, with the outputs and gradients of the layers run
// one by one; a ReLU elsewhere and a trailing Conv2D are left alone.
func TestSequentialFusesConvReLU(t *testing.T) {
	rng := tensor.NewRNG(2)
	m := NewSequential(
		NewConv2D(2, 4, 3, rng, ConvPadding(1)), NewReLU(),
		NewConv2D(4, 4, 3, rng, ConvStride(2)), NewReLU(), NewReLU(),
		NewConv2D(4, 3, 1, rng),
	)
	x := tensor.RandN(rng, 0, 1, 5, 2, 8, 8)
	run := func(fused bool) (*tensor.Tensor, []*tensor.Tensor) {
		for _, p := range m.Params() {
			p.Grad = nil
		}
		c := &Ctx{Tape: autograd.NewTape(), Training: true}
		in := autograd.Input(x)
		var y *autograd.Var
		if fused {
			y = m.Forward(c, in)
		} else {
			y = in
			for _, l := range m.Layers {
				y = l.Forward(c, y)
			}
		}
		if err := c.Tape.Backward(c.Tape.Sum(c.Tape.Mul(y, y), false)); err != nil {
			t.Fatal(err)
		}
		grads := []*tensor.Tensor{in.Grad}
		for _, p := range m.Params() {
			grads = append(grads, p.Grad)
		}
		return y.Value, grads
	}
	y0, g0 := run(false)
	y1, g1 := run(true)
	if !tensor.AllClose(y0, y1, 0, 0) {
		t.Fatal("fused Sequential output differs from running the layers one by one")
	}
	for i := range g0 {
		if !tensor.AllClose(g0[i], g1[i], 1e-5, 1e-6) {
			t.Fatalf("gradient %d differs", i)
		}
	}
}
