package autograd

import (
	"math"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/tensor"
)

func TestSoftmaxCrossEntropyUniformIsLnK(t *testing.T) {
	for _, k := range []int{2, 3, 10} {
		logits := Input(tensor.Full(0.7, 4, k))
		tp := NewTape()
		l := tp.SoftmaxCrossEntropy(logits, []int{0, 1, k - 1, 0}, nil, 0)
		if got, want := float64(l.Value.Item()), math.Log(float64(k)); math.Abs(got-want) > 1e-6 {
			t.Fatalf("K=%d: loss %v, want ln K = %v", k, got, want)
		}
		if err := tp.Backward(l); err != nil {
			t.Fatal(err)
		}
		// Gradient (softmax − onehot)/N = (1/K − δ)/4.
		g := logits.Grad
		for i, y := range []int{0, 1, k - 1, 0} {
			for c := 0; c < k; c++ {
				want := 1 / float64(k)
				if c == y {
					want--
				}
				want /= 4
				if got := float64(g.At(i, c)); math.Abs(got-want) > 1e-6 {
					t.Fatalf("K=%d grad[%d,%d] = %v, want %v", k, i, c, got, want)
				}
			}
		}
	}
}

// hand computes the PyTorch formula with explicit loops in float64.
func handCE(z [][]float64, y []int, w []float64, eps float64) float64 {
	k := len(z[0])
	var num, den float64
	for i, row := range z {
		m := math.Inf(-1)
		for _, v := range row {
			m = math.Max(m, v)
		}
		var s float64
		for _, v := range row {
			s += math.Exp(v - m)
		}
		for c, v := range row {
			q := eps / float64(k)
			if c == y[i] {
				q += 1 - eps
			}
			num += w[c] * q * -(v - m - math.Log(s))
		}
		den += w[y[i]]
	}
	return num / den
}

func TestSoftmaxCrossEntropyWeightsAndSmoothing(t *testing.T) {
	z := [][]float64{{1, 2, 0.5}, {-1, 0, 3}}
	y := []int{1, 0}
	flat := []float32{1, 2, 0.5, -1, 0, 3}
	cases := []struct {
		w   []float32
		eps float64
	}{{nil, 0}, {nil, 0.1}, {[]float32{1, 2, 0.5}, 0}, {[]float32{1, 2, 0.5}, 0.2}}
	for _, c := range cases {
		wf := []float64{1, 1, 1}
		if c.w != nil {
			for i, v := range c.w {
				wf[i] = float64(v)
			}
		}
		want := handCE(z, y, wf, c.eps)
		got := NoGrad().SoftmaxCrossEntropy(Const(tensor.MustFromSlice(flat, 2, 3)), y, c.w, c.eps).Value.Item()
		if math.Abs(float64(got)-want) > 1e-5 {
			t.Errorf("w=%v ε=%v: loss %v, want %v", c.w, c.eps, got, want)
		}
	}
	// One value worked by hand: row [0, 0] with target 0, ε = 0.2, K = 2:
	// q = [0.9, 0.1], −log p = ln 2 for both classes, so L = ln 2.
	l := NoGrad().SoftmaxCrossEntropy(Const(tensor.New(1, 2)), []int{0}, nil, 0.2).Value.Item()
	if math.Abs(float64(l)-math.Ln2) > 1e-6 {
		t.Fatalf("smoothed uniform loss %v, want ln 2", l)
	}
	// Weighted, no smoothing: rows with targets 0 and 1, weights 3 and 1:
	// L = (3·a + 1·b)/4 where a, b are the unweighted row losses.
	zz := tensor.MustFromSlice([]float32{2, 0, 0, 1}, 2, 2)
	a := math.Log(1 + math.Exp(-2))
	b := math.Log(1 + math.Exp(-1))
	lw := NoGrad().SoftmaxCrossEntropy(Const(zz), []int{0, 1}, []float32{3, 1}, 0).Value.Item()
	if math.Abs(float64(lw)-(3*a+b)/4) > 1e-6 {
		t.Fatalf("weighted loss %v, want %v", lw, (3*a+b)/4)
	}
}

func TestLossOpGradients(t *testing.T) {
	targets := []int{2, 0, 1, 2}
	cases := []struct {
		name   string
		inputs []*tensor.Tensor
		f      func(tp *Tape, x []*Var) *Var
	}{
		{"ce", []*tensor.Tensor{rnd(1, 4, 3)}, func(tp *Tape, x []*Var) *Var { return tp.SoftmaxCrossEntropy(x[0], targets, nil, 0) }},
		{"ce/smoothing", []*tensor.Tensor{rnd(2, 4, 3)}, func(tp *Tape, x []*Var) *Var { return tp.SoftmaxCrossEntropy(x[0], targets, nil, 0.15) }},
		{"ce/weights+smoothing", []*tensor.Tensor{rnd(3, 4, 3)}, func(tp *Tape, x []*Var) *Var {
			return tp.SoftmaxCrossEntropy(x[0], targets, []float32{0.5, 2, 1}, 0.1)
		}},
		{"ce/large-logits", []*tensor.Tensor{tensor.MulScalar(rnd(4, 4, 3), 30)}, func(tp *Tape, x []*Var) *Var {
			return tp.SoftmaxCrossEntropy(x[0], targets, nil, 0)
		}},
		{"bce", []*tensor.Tensor{rnd(5, 3, 2), tensor.RandU(tensor.NewRNG(6), 0, 1, 3, 2)}, func(tp *Tape, x []*Var) *Var {
			return tp.BCEWithLogits(x[0], x[1])
		}},
		{"custom/affine", []*tensor.Tensor{rnd(7, 3, 2), rnd(8, 2)}, func(tp *Tape, x []*Var) *Var {
			// y = a·x + b with a broadcast b, through Custom.
			a, b := x[0], x[1]
			y := tensor.Add(tensor.MulScalar(a.Value, 3), b.Value)
			return tp.Custom(y, func(g *tensor.Tensor) []*tensor.Tensor {
				return []*tensor.Tensor{tensor.MulScalar(g, 3), g}
			}, a, b)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := GradCheck(c.f, c.inputs, 1e-2, 2e-2, 2e-3); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestBCEWithLogitsStableAndKnown(t *testing.T) {
	// Known: x = 0 gives ln 2 for any y; huge |x| with the right label gives ~0
	// and with the wrong label gives |x|, never Inf or NaN.
	x := tensor.MustFromSlice([]float32{0, 0, 200, -200, 200, -200}, 6)
	y := tensor.MustFromSlice([]float32{0, 1, 1, 0, 0, 1}, 6)
	l := NoGrad().BCEWithLogits(Const(x), Const(y)).Value.Item()
	want := (2*math.Ln2 + 0 + 0 + 200 + 200) / 6
	if math.Abs(float64(l)-want) > 1e-4 {
		t.Fatalf("BCE %v, want %v", l, want)
	}
}

func TestLossOpErrors(t *testing.T) {
	logits := Const(rnd(1, 3, 4))
	cases := []struct {
		name string
		f    func()
		want []string
	}{
		{"count", func() { NoGrad().SoftmaxCrossEntropy(logits, []int{0, 1}, nil, 0) }, []string{"2 targets", "batch of 3"}},
		{"range", func() { NoGrad().SoftmaxCrossEntropy(logits, []int{0, 4, 1}, nil, 0) }, []string{"target 4", "4 classes"}},
		{"negative", func() { NoGrad().SoftmaxCrossEntropy(logits, []int{0, -1, 1}, nil, 0) }, []string{"target -1"}},
		{"weights", func() { NoGrad().SoftmaxCrossEntropy(logits, []int{0, 1, 1}, []float32{1, 2}, 0) }, []string{"2 class weights", "4 classes"}},
		{"smoothing", func() { NoGrad().SoftmaxCrossEntropy(logits, []int{0, 1, 1}, nil, 1) }, []string{"smoothing 1"}},
		{"rank", func() { NoGrad().SoftmaxCrossEntropy(Const(rnd(1, 2, 3, 4)), []int{0, 1}, nil, 0) }, []string{"[2 3 4]"}},
		{"bce-shape", func() { NoGrad().BCEWithLogits(Const(rnd(1, 4, 1)), Const(rnd(2, 4))) }, []string{"[4 1]", "[4]"}},
	}
	for _, c := range cases {
		err := tensor.Catch(c.f)
		if err == nil {
			t.Fatalf("%s: no error", c.name)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", c.name, err, w)
			}
		}
	}
}
