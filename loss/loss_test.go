package loss

import (
	"math"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
)

func vec(v ...float32) *autograd.Var { return autograd.Const(tensor.MustFromSlice(v, len(v))) }

func TestRegressionKnownAnswers(t *testing.T) {
	pred := vec(1, 2, 3, 10)
	target := vec(1, 4, 2.5, 0)
	// residuals 0, −2, 0.5, 10
	cases := []struct {
		name string
		got  *autograd.Var
		want float64
	}{
		{"mse", MSE(nil, pred, target), (0 + 4 + 0.25 + 100) / 4.0},
		{"mae", MAE(nil, pred, target), (0 + 2 + 0.5 + 10) / 4.0},
		// δ = 1: 0, 1·(2−½), ½·0.25, 1·(10−½)
		{"huber", Huber(nil, pred, target, 1), (0 + 1.5 + 0.125 + 9.5) / 4},
		// δ = 3: 0, ½·4, ½·0.25, 3·(10−1.5)
		{"huber3", Huber(nil, pred, target, 3), (0 + 2 + 0.125 + 25.5) / 4},
	}
	for _, c := range cases {
		if got := float64(c.got.Value.Item()); math.Abs(got-c.want) > 1e-5 {
			t.Errorf("%s = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestCrossEntropyKnownAnswers(t *testing.T) {
	// Uniform logits: every class has p = 1/K, so the loss is ln K.
	l := CrossEntropy(nil, autograd.Const(tensor.New(5, 7)), []int{0, 1, 2, 3, 6})
	if got := float64(l.Value.Item()); math.Abs(got-math.Log(7)) > 1e-6 {
		t.Fatalf("uniform CE %v, want ln 7 = %v", got, math.Log(7))
	}
	// One row [ln 3, 0] target 1: p = [3/4, 1/4]. Plain: −ln ¼ = ln 4.
	// Smoothing ε = 0.2 (K = 2): q = [0.1, 0.9]: 0.1·ln(4/3) + 0.9·ln 4.
	z := autograd.Const(tensor.MustFromSlice([]float32{float32(math.Log(3)), 0}, 1, 2))
	if got := CrossEntropy(nil, z, []int{1}).Value.Item(); math.Abs(float64(got)-math.Log(4)) > 1e-6 {
		t.Fatalf("CE %v, want ln 4", got)
	}
	want := 0.1*math.Log(4.0/3) + 0.9*math.Log(4)
	if got := CrossEntropy(nil, z, []int{1}, LabelSmoothing(0.2)).Value.Item(); math.Abs(float64(got)-want) > 1e-6 {
		t.Fatalf("smoothed CE %v, want %v", got, want)
	}
	// Class weights [1, 4], smoothing 0.2: numerator 1·0.1·ln(4/3) + 4·0.9·ln 4,
	// denominator the target's weight 4.
	wantW := (0.1*math.Log(4.0/3) + 4*0.9*math.Log(4)) / 4
	got := CrossEntropy(nil, z, []int{1}, LabelSmoothing(0.2), ClassWeights([]float32{1, 4})).Value.Item()
	if math.Abs(float64(got)-wantW) > 1e-6 {
		t.Fatalf("weighted smoothed CE %v, want %v", got, wantW)
	}
}

func TestLossGradients(t *testing.T) {
	rng := tensor.NewRNG(3)
	pred := tensor.RandN(rng, 0, 2, 4, 3)
	target := tensor.RandN(rng, 0, 2, 4, 3)
	// Keep residuals away from the kinks of |r| and of Huber at ±δ.
	pd, td := pred.Data(), target.Data()
	for i := range pd {
		r := pd[i] - td[i]
		if math.Abs(float64(r)) < 0.1 || math.Abs(math.Abs(float64(r))-1) < 0.1 {
			pd[i] += 0.25
		}
	}
	fs := map[string]func(tp *autograd.Tape, x []*autograd.Var) *autograd.Var{
		"mse":   func(tp *autograd.Tape, x []*autograd.Var) *autograd.Var { return MSE(tp, x[0], x[1]) },
		"mae":   func(tp *autograd.Tape, x []*autograd.Var) *autograd.Var { return MAE(tp, x[0], x[1]) },
		"huber": func(tp *autograd.Tape, x []*autograd.Var) *autograd.Var { return Huber(tp, x[0], x[1], 1) },
		"bce": func(tp *autograd.Tape, x []*autograd.Var) *autograd.Var {
			return BCEWithLogits(tp, x[0], tp.Sigmoid(x[1]))
		},
		"ce": func(tp *autograd.Tape, x []*autograd.Var) *autograd.Var {
			return CrossEntropy(tp, x[0], []int{0, 2, 1, 1}, LabelSmoothing(0.1), ClassWeights([]float32{1, 0.5, 2}))
		},
	}
	for name, f := range fs {
		if err := autograd.GradCheck(f, []*tensor.Tensor{pred, target}, 1e-2, 2e-2, 2e-3); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestLossShapeErrors(t *testing.T) {
	logits := autograd.Const(tensor.New(3, 4))
	cases := []struct {
		name string
		f    func()
		want []string
	}{
		{"mse", func() { MSE(nil, autograd.Const(tensor.New(4, 1)), autograd.Const(tensor.New(4))) }, []string{"mse", "[4 1]", "[4]"}},
		{"mae", func() { MAE(nil, autograd.Const(tensor.New(2)), autograd.Const(tensor.New(3))) }, []string{"mae", "[2]", "[3]"}},
		{"huber-delta", func() { Huber(nil, vec(1), vec(2), 0) }, []string{"delta"}},
		{"ce-count", func() { CrossEntropy(nil, logits, []int{1, 2}) }, []string{"2 targets", "batch of 3"}},
		{"ce-range", func() { CrossEntropy(nil, logits, []int{1, 2, 9}) }, []string{"target 9", "4 classes"}},
	}
	for _, c := range cases {
		err := tensor.Catch(c.f)
		if err == nil {
			t.Fatalf("%s: no error", c.name)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not mention %q", c.name, err, w)
			}
		}
	}
}
