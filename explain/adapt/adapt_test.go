package adapt

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// randomise fills every parameter (biases included, which start at zero)
// with N(0, std²) values, so ReLU kinks do not all sit at the origin.
func randomise(m nn.Module, rng *rand.Rand, std float64) {
	for _, p := range m.Params() {
		d := p.Value.Data()
		for i := range d {
			d[i] = float32(rng.NormFloat64() * std)
		}
	}
}

// smallCNN is conv(1→4, 3×3, pad 1) → act → conv(4→6, 3×3) → act →
// global average pool → linear(6→3), on 1×8×8 inputs.
func smallCNN(seed uint64, act func() nn.Module) *nn.Sequential {
	rng := tensor.NewRNG(seed)
	m := nn.NewSequential(
		nn.NewConv2D(1, 4, 3, rng, nn.ConvPadding(1)), act(),
		nn.NewConv2D(4, 6, 3, rng), act(),
		nn.NewGlobalAvgPool2D(), nn.NewFlatten(), nn.NewLinear(6, 3, rng),
	)
	randomise(m, rng, 0.5)
	return m
}

func relu() nn.Module { return nn.NewReLU() }
func tanh() nn.Module { return nn.NewTanh() }

func randInput(seed uint64, n int) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.Float64())
	}
	return x
}

func closeTo(t *testing.T, what string, got, want []float32, rtol, atol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); d > atol+rtol*math.Abs(float64(want[i])) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

func TestFuncMatchesPredictAcrossBatches(t *testing.T) {
	ctx := context.Background()
	m := smallCNN(1, relu)
	const n = 7
	x := randInput(2, n*64)
	want, err := nn.Predict(m, tensor.MustFromSlice(x, n, 1, 8, 8))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Func(m, []int{1, 8, 8})(ctx, x, n)
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "logits", got, want.Data(), 0, 0)
	small, err := Func(m, []int{1, 8, 8}, MaxBatch(3))(ctx, x, n)
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "logits in batches of 3", small, want.Data(), 1e-6, 1e-6)
	// Probs: softmax rows.
	p, err := Func(m, []int{1, 8, 8}, Probs())(ctx, x, n)
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "probabilities", p, tensor.Softmax(want, 1).Data(), 1e-6, 1e-7)
	for i := range n {
		s := p[3*i] + p[3*i+1] + p[3*i+2]
		if math.Abs(float64(s)-1) > 1e-6 {
			t.Fatalf("row %d sums to %v", i, s)
		}
	}
	// A model that already ends in a softmax is not squashed twice.
	ms := nn.NewSequential(m, nn.NewSoftmax())
	p2, err := Func(ms, []int{1, 8, 8}, Probs())(ctx, x, n)
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "softmax model with Probs", p2, p, 1e-6, 1e-7)
}

func TestFuncAndGradErrors(t *testing.T) {
	ctx := context.Background()
	m := smallCNN(1, relu)
	x := randInput(1, 64)
	f := Func(m, []int{1, 8, 8})
	g := Grad(m, []int{1, 8, 8}, false)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"length", second(f(ctx, x[:60], 1)), "got 60 values for 1 inputs of shape [1 8 8]; want 1×64 = 64"},
		{"n", second(f(ctx, x, 0)), "batch of 0 inputs"},
		{"channels", second(Func(m, []int{2, 8, 4})(ctx, x, 1)), "input has 2 channels, layer expects 1"},
		{"nil model", second(Func(nil, []int{4})(ctx, x[:4], 1)), "model is nil"},
		{"empty shape", second(Func(m, nil)(ctx, x, 1)), "input shape is empty"},
		{"max batch", second(Func(m, []int{1, 8, 8}, MaxBatch(0))(ctx, x, 1)), "MaxBatch is 0"},
		{"cancelled", second(f(cancelled, x, 1)), "canceled"},
		{"grad length", third(g(ctx, x[:10], 1, 0)), "got 10 values"},
		{"grad label", third(g(ctx, x, 1, 3)), "label 3 out of range: the model returns 3 outputs"},
		{"grad negative label", third(g(ctx, x, 1, -1)), "label -1 out of range"},
		{"grad channels", third(Grad(m, []int{3, 4, 4}, true)(ctx, make([]float32, 48), 1, 0)), "input has 3 channels, layer expects 1"},
		{"grad cancelled", third(g(cancelled, x, 1, 0)), "canceled"},
	}
	for _, c := range cases {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Fatalf("%s: error %v, want %q", c.name, c.err, c.want)
		}
	}
	// Through explain, the adapter's message reaches the user.
	_, err := explain.Saliency(ctx, Grad(m, []int{1, 8, 8}, false), x, 5, explain.SaliencyOptions{})
	if err == nil || !strings.Contains(err.Error(), "label 5 out of range") {
		t.Fatalf("saliency with a bad label: %v", err)
	}
}

func second(_ []float32, err error) error { return err }

func third(_, _ []float32, err error) error { return err }

func TestGradOfLinearModelIsTheWeights(t *testing.T) {
	ctx := context.Background()
	rng := tensor.NewRNG(4)
	lin := nn.NewLinear(5, 3, rng)
	randomise(lin, rng, 1)
	x := randInput(3, 4*5)
	w := lin.Weight.Value.Data() // [in, out]
	for label := range 3 {
		out, grad, err := Grad(lin, []int{5}, false)(ctx, x, 4, label)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 4 {
			for j := range 5 {
				if grad[i*5+j] != w[j*3+label] {
					t.Fatalf("label %d row %d: gradient %v, weight column %v", label, i, grad[i*5:(i+1)*5], w)
				}
			}
		}
		want, _ := nn.Predict(lin, tensor.MustFromSlice(x, 4, 5))
		closeTo(t, "outputs", out, want.Data(), 0, 0)
		// Saliency through explain is the same column.
		s, err := explain.Saliency(ctx, Grad(lin, []int{5}, false), x[:5], label, explain.SaliencyOptions{Signed: true})
		if err != nil {
			t.Fatal(err)
		}
		for j := range 5 {
			if s.Values[j] != w[j*3+label] {
				t.Fatalf("saliency %v is not the weight column", s.Values)
			}
		}
	}
}

// finiteDiff returns ∂f_label/∂x by central differences of the model's
// float32 outputs, accumulated in float64.
func finiteDiff(t *testing.T, f explain.Func, x []float32, label int, eps float64) []float64 {
	t.Helper()
	d := len(x)
	batch := make([]float32, 2*d*d)
	for j := range d {
		for s, sign := range []float64{1, -1} {
			row := batch[(2*j+s)*d : (2*j+s+1)*d]
			copy(row, x)
			row[j] = float32(float64(x[j]) + sign*eps)
		}
	}
	out, err := f(context.Background(), batch, 2*d)
	if err != nil {
		t.Fatal(err)
	}
	k := len(out) / (2 * d)
	g := make([]float64, d)
	for j := range d {
		hi := float64(batch[(2*j)*d+j]) - float64(x[j])
		lo := float64(x[j]) - float64(batch[(2*j+1)*d+j])
		g[j] = (float64(out[2*j*k+label]) - float64(out[(2*j+1)*k+label])) / (hi + lo)
	}
	return g
}

func TestGradMatchesFiniteDifferences(t *testing.T) {
	ctx := context.Background()
	m := smallCNN(7, tanh)
	x := randInput(8, 3*64)
	for _, probs := range []bool{false, true} {
		out, grad, err := Grad(m, []int{1, 8, 8}, probs)(ctx, x, 3, 2)
		if err != nil {
			t.Fatal(err)
		}
		var opts []Option
		if probs {
			opts = append(opts, Probs())
		}
		f := Func(m, []int{1, 8, 8}, opts...)
		want, _ := f(ctx, x, 3)
		closeTo(t, "outputs", out, want, 1e-6, 1e-7)
		for i := range 3 {
			fd := finiteDiff(t, f, x[i*64:(i+1)*64], 2, 1e-2)
			for j, v := range fd {
				if got := float64(grad[i*64+j]); math.Abs(got-v) > 2e-3+2e-2*math.Abs(v) {
					t.Fatalf("probs=%v row %d feature %d: gradient %v, finite difference %v", probs, i, j, got, v)
				}
			}
		}
	}
}

func TestGradLeavesParameterGradientsAlone(t *testing.T) {
	m := smallCNN(2, relu)
	ps := m.Params()
	kept := make([]*tensor.Tensor, len(ps))
	for i, p := range ps {
		if i%2 == 0 {
			p.Grad = tensor.Full(7, p.Value.Shape()...)
		}
		kept[i] = p.Grad
	}
	x := randInput(1, 64)
	if _, _, err := Grad(m, []int{1, 8, 8}, true)(context.Background(), x, 1, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, _, _, _, _, err := CAM(m, 2, []int{1, 8, 8})(context.Background(), x, 1); err != nil {
		t.Fatal(err)
	}
	for i, p := range ps {
		if p.Grad != kept[i] {
			t.Fatalf("parameter %s: gradient replaced", p.Name)
		}
		if p.Grad != nil {
			for _, v := range p.Grad.Data() {
				if v != 7 {
					t.Fatalf("parameter %s: accumulated gradient changed to %v", p.Name, v)
				}
			}
		}
	}
}

func TestGradConcurrentCallsAgree(t *testing.T) {
	m := smallCNN(3, relu)
	g := Grad(m, []int{1, 8, 8}, true)
	x := randInput(5, 2*64)
	_, want, err := g(context.Background(), x, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for w := range 6 {
		wg.Go(func() {
			_, got, err := g(context.Background(), x, 2, 1)
			if err == nil {
				for i := range got {
					if math.Abs(float64(got[i]-want[i])) > 1e-6 {
						err = &tensor.ShapeError{Op: "test", Msg: "concurrent gradient differs"}
						break
					}
				}
			}
			errs[w] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// igLabel picks the output the input moves most away from the baseline's.
func igLabel(t *testing.T, f explain.Func, x []float32) int {
	t.Helper()
	d := len(x)
	both, err := f(context.Background(), append(append([]float32(nil), x...), make([]float32, d)...), 2)
	if err != nil {
		t.Fatal(err)
	}
	k := len(both) / 2
	label, best := 0, 0.0
	for l := range k {
		if v := math.Abs(float64(both[l] - both[k+l])); v > best {
			label, best = l, v
		}
	}
	return label
}

// igCheck asserts 50-step Gauss–Legendre completeness within 1e-3 and that
// every Riemann rule is further off than Gauss–Legendre at `few` steps.
func igCheck(t *testing.T, name string, g explain.GradFunc, x []float32, label, few int) {
	t.Helper()
	ctx := context.Background()
	e, err := explain.IntegratedGradients(ctx, g, x, nil, label, explain.IGOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := e.Completeness
	t.Logf("%s, 50-step Gauss–Legendre: Σattr %.6g, f(x)−f(0) %.6g, relative residual %.2g", name, c.Sum, c.Delta, c.Relative)
	if c.Relative > 1e-3 || math.Abs(c.Delta) < 1e-3 {
		t.Fatalf("%s: completeness %+v, want a relative residual ≤ 1e-3 on a non-trivial Δf", name, c)
	}
	gl, err := explain.IntegratedGradients(ctx, g, x, nil, label, explain.IGOptions{Steps: few})
	if err != nil {
		t.Fatal(err)
	}
	for _, meth := range []explain.IGMethod{explain.RiemannLeft, explain.RiemannRight, explain.RiemannMiddle, explain.RiemannTrapezoid} {
		r, err := explain.IntegratedGradients(ctx, g, x, nil, label, explain.IGOptions{Steps: few, Method: meth})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s, %d steps: %s relative residual %.2g, gausslegendre %.2g", name, few, meth, r.Completeness.Relative, gl.Completeness.Relative)
		if r.Completeness.Residual <= gl.Completeness.Residual {
			t.Fatalf("%s, %d steps: %s residual %.3g ≤ Gauss–Legendre's %.3g", name, few, meth, r.Completeness.Residual, gl.Completeness.Residual)
		}
	}
}

func TestIntegratedGradientsCompletenessOnCNN(t *testing.T) {
	x := randInput(12, 64)
	// ReLU CNN as initialised (He weights, zero biases), explained in
	// probabilities: along the path from the black baseline the logits
	// grow linearly and the softmax bends them smoothly.
	rng := tensor.NewRNG(11)
	reluNet := nn.NewSequential(
		nn.NewConv2D(1, 4, 3, rng, nn.ConvPadding(1)), nn.NewReLU(),
		nn.NewConv2D(4, 6, 3, rng), nn.NewReLU(),
		nn.NewGlobalAvgPool2D(), nn.NewFlatten(), nn.NewLinear(6, 3, rng),
	)
	igCheck(t, "ReLU CNN", Grad(reluNet, []int{1, 8, 8}, true), x, igLabel(t, Func(reluNet, []int{1, 8, 8}, Probs()), x), 3)
	// Tanh CNN with random biases, logits: smooth everywhere.
	tanhNet := smallCNN(11, tanh)
	igCheck(t, "tanh CNN", Grad(tanhNet, []int{1, 8, 8}, false), x, igLabel(t, Func(tanhNet, []int{1, 8, 8}), x), 4)
}

func TestIntegratedGradientsOnPiecewiseLinearNet(t *testing.T) {
	// With random biases the ReLU kinks fall inside the path and the
	// integrand is piecewise constant: no rule converges fast, and the
	// completeness check is what tells the user.
	ctx := context.Background()
	m := smallCNN(11, relu)
	x := randInput(12, 64)
	f := Func(m, []int{1, 8, 8})
	label := igLabel(t, f, x)
	outs, _ := f(ctx, append(append([]float32(nil), x...), make([]float32, 64)...), 2)
	for _, steps := range []int{4, 50, 400} {
		e, err := explain.IntegratedGradients(ctx, Grad(m, []int{1, 8, 8}, false), x, nil, label, explain.IGOptions{Steps: steps})
		if err != nil {
			t.Fatal(err)
		}
		c := e.Completeness
		t.Logf("ReLU CNN with biases, %d Gauss–Legendre steps: relative residual %.2g", steps, c.Relative)
		if want := float64(outs[label]) - float64(outs[3+label]); math.Abs(c.Delta-want) > 1e-6 {
			t.Fatalf("Δf %v, the model says %v", c.Delta, want)
		}
		if warned := len(e.Warnings) > 0; warned != (c.Relative > 0.01) {
			t.Fatalf("%d steps: relative residual %.3g, warnings %v", steps, c.Relative, e.Warnings)
		}
		if steps == 400 && c.Relative > 0.01 {
			t.Fatalf("400 steps still %.2g off", c.Relative)
		}
	}
}

func TestSmoothGradThroughAdapter(t *testing.T) {
	ctx := context.Background()
	m := smallCNN(5, tanh)
	g := Grad(m, []int{1, 8, 8}, true)
	x := randInput(6, 64)
	sal, err := explain.Saliency(ctx, g, x, 1, explain.SaliencyOptions{Signed: true})
	if err != nil {
		t.Fatal(err)
	}
	sg, err := explain.SmoothGrad(ctx, g, x, 1, explain.SmoothGradOptions{Samples: 4})
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "no-noise SmoothGrad", sg.Values, sal.Values, 1e-5, 1e-7)
	a, _ := explain.SmoothGrad(ctx, g, x, 1, explain.SmoothGradOptions{Samples: 8, NoiseStd: 0.15, Seed: 3})
	b, _ := explain.SmoothGrad(ctx, g, x, 1, explain.SmoothGradOptions{Samples: 8, NoiseStd: 0.15, Seed: 3})
	for i := range a.Values {
		if a.Values[i] != b.Values[i] {
			t.Fatal("same seed gave different SmoothGrad")
		}
	}
}
