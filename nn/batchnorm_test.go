package nn_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/nn/layertest"
	"github.com/glassbox-ml/glassbox/tensor"
)

// randomAffine gives γ and β non-trivial values so their gradients and
// the round trip are really tested.
func randomAffine(l *nn.BatchNorm, rng *rand.Rand) *nn.BatchNorm {
	l.Weight.Value.CopyFrom(tensor.RandU(rng, 0.5, 1.5, l.Features))
	l.Bias.Value.CopyFrom(tensor.RandN(rng, 0, 1, l.Features))
	return l
}

func TestBatchNormConforms(t *testing.T) {
	t.Run("1d", func(t *testing.T) {
		layertest.Run(t, func(rng *rand.Rand) nn.Module { return randomAffine(nn.NewBatchNorm1D(3), rng) }, []int{5, 3})
	})
	t.Run("1d-length", func(t *testing.T) {
		layertest.Run(t, func(rng *rand.Rand) nn.Module { return randomAffine(nn.NewBatchNorm1D(2), rng) }, []int{3, 2, 4})
	})
	t.Run("2d", func(t *testing.T) {
		layertest.Run(t, func(rng *rand.Rand) nn.Module { return randomAffine(nn.NewBatchNorm2D(3), rng) }, []int{2, 3, 2, 3})
	})
}

// composite is BatchNorm written with ordinary tape ops, as a reference.
func composite(tp *autograd.Tape, x, gamma, beta *autograd.Var, axes []int, bshape []int, eps float32) *autograd.Var {
	mean := tp.Mean(x, true, axes...)
	d := tp.Sub(x, mean)
	v := tp.Mean(tp.Square(d), true, axes...)
	xhat := tp.Div(d, tp.Sqrt(tp.AddScalar(v, eps)))
	return tp.Add(tp.Mul(xhat, tp.Reshape(gamma, bshape...)), tp.Reshape(beta, bshape...))
}

func TestBatchNormMatchesComposite(t *testing.T) {
	// The small shape runs on one goroutine, the large one (≥ 2¹⁵ values)
	// splits the channels over the cores.
	for _, shape := range [][]int{{6, 4, 5, 5}, {8, 4, 32, 32}} {
		testBatchNormMatchesComposite(t, shape)
	}
}

func testBatchNormMatchesComposite(t *testing.T, shape []int) {
	rng := tensor.NewRNG(4)
	l := randomAffine(nn.NewBatchNorm2D(4), rng)
	xt := tensor.RandN(rng, 3, 2, shape...)
	r := tensor.RandN(rng, 0, 1, shape...)

	x1 := autograd.Input(xt.Clone())
	c := nn.Train(rng)
	y1 := l.Forward(c, x1)
	if err := c.Tape.Backward(c.Tape.Sum(c.Tape.Mul(y1, autograd.Const(r)), false)); err != nil {
		t.Fatal(err)
	}
	g1, b1 := l.Weight.Grad.Clone(), l.Bias.Grad.Clone()

	nn.ZeroGrad(l)
	x2 := autograd.Input(xt.Clone())
	tp := autograd.NewTape()
	y2 := composite(tp, x2, l.Weight, l.Bias, []int{0, 2, 3}, []int{1, 4, 1, 1}, 1e-5)
	if err := tp.Backward(tp.Sum(tp.Mul(y2, autograd.Const(r)), false)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		a, b *tensor.Tensor
	}{{"output", y1.Value, y2.Value}, {"dx", x1.Grad, x2.Grad}, {"dγ", g1, l.Weight.Grad}, {"dβ", b1, l.Bias.Grad}} {
		if !tensor.AllClose(c.a, c.b, 1e-3, 1e-4) {
			t.Errorf("%v: %s differs from the composite implementation", shape, c.name)
		}
	}
}

func TestBatchNormStatistics(t *testing.T) {
	l := nn.NewBatchNorm1D(2)
	// Feature 0: 1, 2, 3, 4 (mean 2.5, var 1.25, unbiased 5/3);
	// feature 1: 10 each (var 0).
	x := tensor.MustFromSlice([]float32{1, 10, 2, 10, 3, 10, 4, 10}, 4, 2)
	y, err := nn.Apply(l, nn.Train(tensor.NewRNG(1)), x)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		want := (float64(i+1) - 2.5) / math.Sqrt(1.25+1e-5)
		if got := float64(y.Value.At(i, 0)); math.Abs(got-want) > 1e-5 {
			t.Fatalf("y[%d][0] = %v, want %v", i, got, want)
		}
		if y.Value.At(i, 1) != 0 {
			t.Fatalf("constant feature normalised to %v, want 0", y.Value.At(i, 1))
		}
	}
	// Running statistics moved 10% of the way: mean 0.9·0 + 0.1·2.5,
	// variance 0.9·1 + 0.1·5/3 (unbiased).
	rm, rv := l.RunningMean.Value, l.RunningVar.Value
	if math.Abs(float64(rm.At(0))-0.25) > 1e-6 || math.Abs(float64(rm.At(1))-1) > 1e-6 {
		t.Fatalf("running mean %v", rm.Data())
	}
	if math.Abs(float64(rv.At(0))-(0.9+0.1*5.0/3)) > 1e-6 || math.Abs(float64(rv.At(1))-0.9) > 1e-6 {
		t.Fatalf("running var %v", rv.Data())
	}
	// Evaluation uses the running statistics: y = (x − 0.25)/√(rv + ε).
	ye, _ := nn.Predict(l, x)
	want := (3 - 0.25) / math.Sqrt(float64(rv.At(0))+1e-5)
	if got := float64(ye.At(2, 0)); math.Abs(got-want) > 1e-5 {
		t.Fatalf("eval y[2][0] = %v, want %v", got, want)
	}
	// After many training steps on the same batch the running estimates
	// converge, and evaluation agrees with training (up to the unbiased
	// variance factor 4/3).
	for range 200 {
		nn.Apply(l, nn.Train(tensor.NewRNG(1)), x)
	}
	ye, _ = nn.Predict(l, x)
	want = (4 - 2.5) / math.Sqrt(5.0/3+1e-5)
	if got := float64(ye.At(3, 0)); math.Abs(got-want) > 1e-4 {
		t.Fatalf("converged eval y[3][0] = %v, want %v", got, want)
	}
}

func TestBatchNormErrors(t *testing.T) {
	l := nn.NewBatchNorm2D(3)
	l.SetName("bn1")
	cases := []struct {
		x    *tensor.Tensor
		c    *nn.Ctx
		want []string
	}{
		{tensor.New(2, 4, 5, 5), nn.Eval(), []string{`batchnorm2d "bn1"`, "4 channels", "expects 3"}},
		{tensor.New(2, 3, 5), nn.Eval(), []string{"[batch, 3, height, width]"}},
		{tensor.New(1, 3, 1, 1), nn.Train(tensor.NewRNG(1)), []string{"more than one value"}},
	}
	for _, c := range cases {
		_, err := nn.Apply(l, c.c, c.x)
		if err == nil {
			t.Fatalf("input %v accepted", c.x.Shape())
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q does not mention %q", err, w)
			}
		}
	}
	if _, err := nn.Apply(nn.NewBatchNorm1D(4), nn.Eval(), tensor.New(2, 3)); err == nil || !strings.Contains(err.Error(), "3 features") {
		t.Fatalf("1d wrong features: %v", err)
	}
	for _, args := range []string{`{"features":0}`, `{"features":3,"momentum":2}`, `{"features":3,"eps":-1}`} {
		if _, err := nn.Build(nn.Spec{Type: "batchnorm1d", Args: json.RawMessage(args)}, nil); err == nil {
			t.Errorf("Build accepted %s", args)
		}
	}
}

// BenchmarkBatchNorm2D is forward + backward at a CIFAR conv shape.
func BenchmarkBatchNorm2D(b *testing.B) {
	rng := tensor.NewRNG(1)
	l := nn.NewBatchNorm2D(32)
	x := autograd.Input(tensor.RandN(rng, 0, 1, 128, 32, 32, 32))
	b.SetBytes(int64(x.Value.Len()) * 4)
	for range b.N {
		c := nn.Train(rng)
		y := l.Forward(c, x)
		_ = c.Tape.Backward(c.Tape.Sum(y, false))
		x.ZeroGrad()
		nn.ZeroGrad(l)
	}
}
