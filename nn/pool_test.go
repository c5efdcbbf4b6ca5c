package nn

import (
	"fmt"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
)

func poolTestGrid() *tensor.Tensor {
	return tensor.MustFromSlice([]float32{
		1, 5, 2, 0,
		3, 4, 8, 6,
		-1, 0, 7, 9,
		2, -3, 10, 4,
	}, 1, 1, 4, 4)
}

func TestPoolLayersKnownAnswers(t *testing.T) {
	for _, tc := range []struct {
		m    Module
		want string
	}{
		{NewMaxPool2D(2, 0, 0), "[5 8 2 10]"},
		{NewAvgPool2D(2, 0, 0), "[3.25 4 -0.5 7.5]"},
		{NewMaxPool2D(3, 2, 1), "[5 8 4 10]"},
		{NewGlobalAvgPool2D(), "[3.5625]"}, // 57/16,
	} {
		y, err := Predict(tc.m, poolTestGrid())
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(y.Data()); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.m.Spec().Type, got, tc.want)
		}
	}
	y, _ := Predict(NewGlobalAvgPool2D(), tensor.New(5, 7, 3, 2))
	if fmt.Sprint(y.Shape()) != "[5 7]" {
		t.Fatalf("global pool shape %v, want [5 7]", y.Shape())
	}
}

func TestPoolLayersGradients(t *testing.T) {
	// Distinct values, far apart: every window has a unique maximum.
	n := 2 * 2 * 6 * 6
	perm := tensor.NewRNG(1).Perm(n)
	d := make([]float32, n)
	for i, p := range perm {
		d[i] = 0.1 * float32(p)
	}
	x := tensor.MustFromSlice(d, 2, 2, 6, 6)
	for _, m := range []Module{NewMaxPool2D(2, 0, 0), NewMaxPool2D(3, 2, 1), NewAvgPool2D(3, 1, 1), NewGlobalAvgPool2D()} {
		err := autograd.GradCheck(func(tp *autograd.Tape, v []*autograd.Var) *autograd.Var {
			return m.Forward(&Ctx{Tape: tp}, v[0])
		}, []*tensor.Tensor{x}, 1e-2, 2e-2, 2e-3)
		if err != nil {
			t.Errorf("%s %s: %v", m.Spec().Type, m.Spec().Args, err)
		}
	}
}

func TestPoolLayersErrors(t *testing.T) {
	p := NewMaxPool2D(2, 0, 0)
	p.SetName("pool1")
	for _, tc := range []struct {
		m     Module
		shape []int
		want  string
	}{
		{p, []int{784}, `maxpool2d "pool1": input must be [batch, channels, height, width], got [784]`},
		{p, []int{1, 1, 1, 5}, `maxpool2d "pool1": input 1×5 (padding 0×0) is smaller than the 2×2 window`},
		{NewAvgPool2D(3, 1, 1), []int{2, 9}, `avgpool2d: input must be [batch, channels, height, width], got [2 9]`},
		{NewGlobalAvgPool2D(), []int{2, 9}, `globalavgpool2d: input must be`},
	} {
		_, err := Apply(tc.m, Eval(), tensor.New(tc.shape...))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.shape, err, tc.want)
		}
	}
	if err := tensor.Catch(func() { NewMaxPool2D(2, 2, 2) }); err == nil || !strings.Contains(err.Error(), "half the 2×2 window") {
		t.Errorf("padding larger than half the window: %v", err)
	}
	if _, err := Build(Spec{Type: "avgpool2d", Args: []byte(`{"kh":0,"kw":2}`)}, nil); err == nil {
		t.Error("Build accepted a 0×2 window")
	}
}

func TestPoolLayersSpecRoundTrip(t *testing.T) {
	mp := NewMaxPool2D(3, 2, 1)
	mp.Pool.KW, mp.Pool.StrideW, mp.Pool.PadW = 2, 1, 0 // non-square window
	for _, m := range []Module{mp, NewAvgPool2D(2, 0, 0), NewGlobalAvgPool2D()} {
		m.(Named).SetName("p")
		b := specRoundTrip(t, m)
		x := tensor.RandN(tensor.NewRNG(2), 0, 1, 2, 3, 7, 6)
		y1, _ := Predict(m, x)
		y2, _ := Predict(b, x)
		if !tensor.AllClose(y1, y2, 0, 0) {
			t.Fatalf("%s rebuilt computes differently", m.Spec().Type)
		}
	}
}

// TestSmallCNN wires the layers of this package into a LeNet-like stack:
// names are assigned by Sequential, the whole model rebuilds from its Spec
// and the gradient reaches the input (saliency needs it).
func TestSmallCNN(t *testing.T) {
	rng := tensor.NewRNG(3)
	m := NewSequential(
		NewConv2D(1, 4, 5, rng, ConvPadding(2)),
		NewMaxPool2D(2, 0, 0),
		NewConv2D(4, 8, 3, rng),
		NewAvgPool2D(2, 0, 0),
		NewFlatten(),
	)
	var names []string
	for _, p := range m.Params() {
		names = append(names, p.Name)
	}
	if got := fmt.Sprint(names); got != "[conv2d0/weight conv2d0/bias conv2d2/weight conv2d2/bias]" {
		t.Fatalf("param names %s", got)
	}
	x := autograd.Input(tensor.RandN(rng, 0, 1, 3, 1, 14, 14))
	c := EvalGrad()
	y := m.Forward(c, x)
	if fmt.Sprint(y.Shape()) != "[3 32]" { // 14 → pool 7 → conv 5 → pool 2: 8·2·2
		t.Fatalf("output shape %v", y.Shape())
	}
	if err := c.Tape.Backward(c.Tape.Sum(y, false)); err != nil {
		t.Fatal(err)
	}
	if x.Grad == nil || !tensor.SameShape(x.Grad.Shape(), x.Shape()) {
		t.Fatal("no input gradient")
	}
	b := specRoundTrip(t, m)
	y1, _ := Predict(m, x.Value)
	y2, _ := Predict(b, x.Value)
	if !tensor.AllClose(y1, y2, 0, 0) {
		t.Fatal("rebuilt CNN computes differently")
	}
}

func ExampleMaxPool2D() {
	pool := NewMaxPool2D(2, 0, 0)
	y, _ := Predict(pool, tensor.MustFromSlice([]float32{
		1, 5, 2, 0,
		3, 4, 8, 6,
		-1, 0, 7, 9,
		2, -3, 10, 4,
	}, 1, 1, 4, 4))
	fmt.Println(y.Shape(), y.Data())
	// Output: [1 1 2 2] [5 8 2 10]
}
