package optim

import (
	"math"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
)

// quadratic is f(w) = Σ aᵢ(wᵢ − cᵢ)², with curvatures aᵢ spread over
// [0.5, 2] so the problem is mildly ill-conditioned.
type quadratic struct {
	a, c []float32
}

func newQuadratic(n int) quadratic {
	rng := tensor.NewRNG(7)
	q := quadratic{a: make([]float32, n), c: make([]float32, n)}
	for i := range q.a {
		q.a[i] = 0.5 + 1.5*rng.Float32()
		q.c[i] = 2*rng.Float32() - 1
	}
	return q
}

// grad writes ∇f into w.Grad and returns f(w).
func (q quadratic) grad(w *autograd.Var) float64 {
	wd := w.Value.Data()
	if w.Grad == nil {
		w.Grad = tensor.New(w.Value.Shape()...)
	}
	g := w.Grad.Data()
	var f float64
	for i := range wd {
		d := wd[i] - q.c[i]
		f += float64(q.a[i] * d * d)
		g[i] = 2 * q.a[i] * d
	}
	return f
}

func TestOptimizersMinimiseQuadratic(t *testing.T) {
	cases := []struct {
		name  string
		steps int
		make  func(ps []*autograd.Var) (Optimizer, error)
	}{
		{"sgd", 200, func(ps []*autograd.Var) (Optimizer, error) { return NewSGD(ps, 0.1) }},
		{"momentum", 200, func(ps []*autograd.Var) (Optimizer, error) { return NewSGD(ps, 0.05, Momentum(0.9)) }},
		{"nesterov", 200, func(ps []*autograd.Var) (Optimizer, error) { return NewSGD(ps, 0.05, Momentum(0.9), Nesterov()) }},
		{"adam", 500, func(ps []*autograd.Var) (Optimizer, error) { return NewAdam(ps, 0.05) }},
		{"adamw", 500, func(ps []*autograd.Var) (Optimizer, error) { return NewAdamW(ps, 0.05, WeightDecay(1e-4)) }},
		{"rmsprop", 500, func(ps []*autograd.Var) (Optimizer, error) { return NewRMSProp(ps, 0.01) }},
		{"rmsprop-momentum", 300, func(ps []*autograd.Var) (Optimizer, error) { return NewRMSProp(ps, 0.005, Momentum(0.9)) }},
	}
	q := newQuadratic(16)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := autograd.Param(tensor.Full(3, 16), "w")
			o, err := c.make([]*autograd.Var{w})
			if err != nil {
				t.Fatal(err)
			}
			first := q.grad(w)
			var last float64
			for range c.steps {
				last = q.grad(w)
				if err := o.Step(); err != nil {
					t.Fatal(err)
				}
			}
			last = q.grad(w)
			if !(last < first*1e-4) {
				t.Fatalf("loss went %.4g → %.4g, want a fall of at least 10⁴", first, last)
			}
		})
	}
}

// step runs one update with a fixed gradient g on a one-element param.
func stepWith(t *testing.T, o Optimizer, w *autograd.Var, g float32) {
	t.Helper()
	w.Grad = tensor.Full(g, 1)
	if err := o.Step(); err != nil {
		t.Fatal(err)
	}
}

func near(t *testing.T, what string, got float32, want float64) {
	t.Helper()
	if math.Abs(float64(got)-want) > 1e-6*math.Max(1, math.Abs(want)) {
		t.Fatalf("%s = %.9g, want %.9g", what, got, want)
	}
}

func TestFirstStepsByHand(t *testing.T) {
	// Momentum 0.9, lr 0.1, constant gradient 2, w₀ = 1:
	// b₁ = 2, w₁ = 0.8; b₂ = 3.8, w₂ = 0.42.
	w := autograd.Param(tensor.Full(1, 1), "w")
	o, _ := NewSGD([]*autograd.Var{w}, 0.1, Momentum(0.9))
	stepWith(t, o, w, 2)
	near(t, "momentum w1", w.Value.Item(), 0.8)
	stepWith(t, o, w, 2)
	near(t, "momentum w2", w.Value.Item(), 0.42)

	// Nesterov: w₁ = 1 − 0.1·(2 + 0.9·2) = 0.62; w₂ = 0.62 − 0.1·(2 + 0.9·3.8) = 0.078.
	w = autograd.Param(tensor.Full(1, 1), "w")
	o, _ = NewSGD([]*autograd.Var{w}, 0.1, Momentum(0.9), Nesterov())
	stepWith(t, o, w, 2)
	near(t, "nesterov w1", w.Value.Item(), 0.62)
	stepWith(t, o, w, 2)
	near(t, "nesterov w2", w.Value.Item(), 0.078)

	// Adam, lr 0.01: bias correction makes the first step exactly lr·g/(|g|+ε).
	w = autograd.Param(tensor.Full(1, 1), "w")
	a, _ := NewAdam([]*autograd.Var{w}, 0.01)
	stepWith(t, a, w, 4)
	near(t, "adam w1", w.Value.Item(), 1-0.01*4/(4+1e-8))
	// Second step with g = −2: m = 0.9·0.4 − 0.2 = 0.16, v = 0.999·0.016 + 0.004 = 0.019984,
	// m̂ = 0.16/0.19, v̂ = 0.019984/0.001999.
	w1 := float64(w.Value.Item())
	stepWith(t, a, w, -2)
	m, v := 0.9*0.4+0.1*-2, 0.999*0.001*16+0.001*4
	want := w1 - (0.01/(1-0.81))*m/(math.Sqrt(v)/math.Sqrt(1-0.999*0.999)+1e-8)
	near(t, "adam w2", w.Value.Item(), want)

	// RMSProp α = 0.9, lr 0.01: s = 0.1·g², step = g/(√s + ε) = √10·sign(g).
	w = autograd.Param(tensor.Full(1, 1), "w")
	r, _ := NewRMSProp([]*autograd.Var{w}, 0.01, Alpha(0.9))
	stepWith(t, r, w, 3)
	near(t, "rmsprop w1", w.Value.Item(), 1-0.01*3/(math.Sqrt(0.9)+1e-8))
}

func TestAdamWDecouplesDecay(t *testing.T) {
	// A weight with zero loss gradient. Adam+L2 feeds λ·w through the
	// adaptive normalisation, so the first step moves it by the full lr;
	// AdamW shrinks it by the factor (1 − lr·λ) and nothing else.
	lr, wd := 0.1, 0.01
	wa := autograd.Param(tensor.Full(1, 1), "w")
	adam, _ := NewAdam([]*autograd.Var{wa}, lr, WeightDecay(wd))
	stepWith(t, adam, wa, 0)
	near(t, "adam+L2", wa.Value.Item(), 1-lr*0.01/(0.01+1e-8))

	ww := autograd.Param(tensor.Full(1, 1), "w")
	adamw, _ := NewAdamW([]*autograd.Var{ww}, lr, WeightDecay(wd))
	stepWith(t, adamw, ww, 0)
	near(t, "adamw", ww.Value.Item(), 1-lr*wd)

	// With a gradient, AdamW = the decayed weight minus the plain Adam step.
	w2 := autograd.Param(tensor.Full(2, 1), "w")
	o, _ := NewAdamW([]*autograd.Var{w2}, lr, WeightDecay(wd))
	stepWith(t, o, w2, 5)
	near(t, "adamw with grad", w2.Value.Item(), 2*(1-lr*wd)-lr*5/(5+1e-8))
}

func TestSchedules(t *testing.T) {
	cases := []struct {
		name string
		s    Schedule
		step int
		want float64
	}{
		{"const", Constant(0.3), 99, 0.3},
		{"step/0", StepDecay{Base: 1, Every: 10, Gamma: 0.5}, 0, 1},
		{"step/9", StepDecay{Base: 1, Every: 10, Gamma: 0.5}, 9, 1},
		{"step/10", StepDecay{Base: 1, Every: 10, Gamma: 0.5}, 10, 0.5},
		{"step/25", StepDecay{Base: 1, Every: 10, Gamma: 0.5}, 25, 0.25},
		{"cos/0", Cosine{Base: 1, Min: 0.1, Steps: 100}, 0, 1},
		{"cos/50", Cosine{Base: 1, Min: 0.1, Steps: 100}, 50, 0.55},
		{"cos/25", Cosine{Base: 1, Min: 0, Steps: 100}, 25, (1 + math.Sqrt2/2) / 2},
		{"cos/100", Cosine{Base: 1, Min: 0.1, Steps: 100}, 100, 0.1},
		{"cos/after", Cosine{Base: 1, Min: 0.1, Steps: 100}, 1000, 0.1},
		{"warm/0", Warmup{Steps: 4, Then: Constant(1)}, 0, 0.25},
		{"warm/3", Warmup{Steps: 4, Then: Constant(1)}, 3, 1},
		{"warm+cos/4", Warmup{Steps: 4, Then: Cosine{Base: 2, Steps: 10}}, 4, 2},
		{"warm+cos/9", Warmup{Steps: 4, Then: Cosine{Base: 2, Steps: 10}}, 9, 1},
		{"warm+step/1", Warmup{Steps: 2, Then: StepDecay{Base: 0.8, Every: 3, Gamma: 0.1}}, 1, 0.8},
		{"warm+step/5", Warmup{Steps: 2, Then: StepDecay{Base: 0.8, Every: 3, Gamma: 0.1}}, 5, 0.08},
	}
	for _, c := range cases {
		if got := c.s.LR(c.step); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: LR(%d) = %v, want %v", c.name, c.step, got, c.want)
		}
	}
}

func TestClipGradNorm(t *testing.T) {
	a := autograd.Param(tensor.New(2), "a")
	b := autograd.Param(tensor.New(1), "b")
	c := autograd.Param(tensor.New(3), "c") // no gradient: ignored
	a.Grad = tensor.MustFromSlice([]float32{3, 0}, 2)
	b.Grad = tensor.MustFromSlice([]float32{4}, 1)
	ps := []*autograd.Var{a, b, c}
	if n := ClipGradNorm(ps, 10); math.Abs(n-5) > 1e-9 {
		t.Fatalf("norm %v, want 5", n)
	}
	if a.Grad.At(0) != 3 || b.Grad.At(0) != 4 {
		t.Fatal("gradients below the limit were changed")
	}
	if n := ClipGradNorm(ps, 1); math.Abs(n-5) > 1e-9 {
		t.Fatalf("norm before clipping %v, want 5", n)
	}
	near(t, "a", a.Grad.At(0), 0.6)
	near(t, "b", b.Grad.At(0), 0.8)
	if n := ClipGradNorm(ps, 1); math.Abs(n-1) > 1e-5 {
		t.Fatalf("norm after clipping %v, want 1", n)
	}
	if c.Grad != nil {
		t.Fatal("clipping created a gradient")
	}
}

// mlpParams returns parameters shaped like a 784-256-128-10 MLP, named,
// with random gradients set.
func mlpParams(seed uint64) []*autograd.Var {
	rng := tensor.NewRNG(seed)
	shapes := [][]int{{784, 256}, {256}, {256, 128}, {128}, {128, 10}, {10}}
	names := []string{"fc1/weight", "fc1/bias", "fc2/weight", "fc2/bias", "fc3/weight", "fc3/bias"}
	ps := make([]*autograd.Var, len(shapes))
	for i, s := range shapes {
		ps[i] = autograd.Param(tensor.RandN(rng, 0, 0.05, s...), names[i])
		ps[i].Grad = tensor.RandN(rng, 0, 0.01, s...)
	}
	return ps
}

func allKinds() map[string]func(ps []*autograd.Var) (Optimizer, error) {
	return map[string]func(ps []*autograd.Var) (Optimizer, error){
		"sgd":      func(ps []*autograd.Var) (Optimizer, error) { return NewSGD(ps, 0.1, WeightDecay(1e-3)) },
		"momentum": func(ps []*autograd.Var) (Optimizer, error) { return New("momentum", ps, 0.1) },
		"nesterov": func(ps []*autograd.Var) (Optimizer, error) { return New("nesterov", ps, 0.1) },
		"adam":     func(ps []*autograd.Var) (Optimizer, error) { return NewAdam(ps, 1e-3, WeightDecay(1e-4)) },
		"adamw":    func(ps []*autograd.Var) (Optimizer, error) { return NewAdamW(ps, 1e-3, WeightDecay(0.01)) },
		"rmsprop":  func(ps []*autograd.Var) (Optimizer, error) { return NewRMSProp(ps, 1e-3, Momentum(0.5)) },
	}
}

// smallParams: a few small named params with a deterministic gradient
// function of the weights (so continuing runs see the same gradients).
func smallParams() []*autograd.Var {
	rng := tensor.NewRNG(11)
	return []*autograd.Var{
		autograd.Param(tensor.RandN(rng, 0, 1, 3, 4), "l1/weight"),
		autograd.Param(tensor.RandN(rng, 0, 1, 4), "l1/bias"),
		autograd.Param(tensor.RandN(rng, 0, 1, 4, 2), "l2/weight"),
	}
}

func setGrads(ps []*autograd.Var, step int) {
	for k, p := range ps {
		w := p.Value.Data()
		g := tensor.New(p.Value.Shape()...)
		for i, v := range w {
			g.Data()[i] = float32(math.Sin(float64(v)*3+float64(step)+float64(k))) + 0.1*v
		}
		p.Grad = g
	}
}

func TestStateRoundTripIsBitIdentical(t *testing.T) {
	for name, mk := range allKinds() {
		t.Run(name, func(t *testing.T) {
			a := smallParams()
			oa, err := mk(a)
			if err != nil {
				t.Fatal(err)
			}
			for s := range 5 {
				setGrads(a, s)
				if err := oa.Step(); err != nil {
					t.Fatal(err)
				}
			}
			oa.SetLR(oa.LR() * 0.5)
			// Checkpoint: weights and optimizer state.
			saved := oa.State()
			b := smallParams()
			for i := range b {
				b[i].Value.CopyFrom(a[i].Value)
			}
			// Continue the original; state taken before must not change.
			var before *tensor.Tensor
			if len(saved.Tensors) > 0 {
				before = saved.Tensors[saved.Names()[0]].Clone()
			}
			for s := 5; s < 10; s++ {
				setGrads(a, s)
				if err := oa.Step(); err != nil {
					t.Fatal(err)
				}
			}
			if before != nil && !tensor.AllClose(before, saved.Tensors[saved.Names()[0]], 0, 0) {
				t.Fatal("State() shares storage with the live optimizer")
			}
			// Resume into a fresh optimizer.
			ob, err := mk(b)
			if err != nil {
				t.Fatal(err)
			}
			if err := ob.LoadState(saved); err != nil {
				t.Fatal(err)
			}
			if ob.LR() != oa.LR() {
				t.Fatalf("LR %v after LoadState, want %v", ob.LR(), oa.LR())
			}
			for s := 5; s < 10; s++ {
				setGrads(b, s)
				if err := ob.Step(); err != nil {
					t.Fatal(err)
				}
			}
			for i := range a {
				x, y := a[i].Value.Data(), b[i].Value.Data()
				for j := range x {
					if math.Float32bits(x[j]) != math.Float32bits(y[j]) {
						t.Fatalf("%s[%d]: resumed %v, original %v", a[i].Name, j, y[j], x[j])
					}
				}
			}
		})
	}
}

func TestLoadStateErrors(t *testing.T) {
	ps := smallParams()
	adam, _ := NewAdam(ps, 0.01)
	sgd, _ := NewSGD(smallParams(), 0.01, Momentum(0.9))
	if err := adam.LoadState(sgd.State()); err == nil || !strings.Contains(err.Error(), `"sgd"`) {
		t.Fatalf("loading SGD state into Adam: %v", err)
	}
	s := adam.State()
	s.Tensors["m/l1/bias"] = tensor.New(5)
	if err := adam.LoadState(s); err == nil || !strings.Contains(err.Error(), "[5]") {
		t.Fatalf("wrong shape accepted: %v", err)
	}
	other, _ := NewAdam([]*autograd.Var{autograd.Param(tensor.New(2), "x")}, 0.01)
	if err := adam.LoadState(other.State()); err == nil {
		t.Fatal("state of another model accepted")
	}
}

func TestNaNGradientIsReportedAndNothingChanges(t *testing.T) {
	for name, mk := range allKinds() {
		ps := smallParams()
		o, _ := mk(ps)
		setGrads(ps, 0)
		ps[2].Grad.Data()[5] = float32(math.Inf(1))
		before := make([]*tensor.Tensor, len(ps))
		for i, p := range ps {
			before[i] = p.Value.Clone()
		}
		err := o.Step()
		if err == nil || !strings.Contains(err.Error(), "l2/weight") || !strings.Contains(err.Error(), "element 5") {
			t.Fatalf("%s: want an error naming l2/weight element 5, got %v", name, err)
		}
		ps[2].Grad.Data()[5] = float32(math.NaN())
		if err := o.Step(); err == nil || !strings.Contains(err.Error(), "NaN") {
			t.Fatalf("%s: NaN gradient: %v", name, err)
		}
		for i, p := range ps {
			if !tensor.AllClose(before[i], p.Value, 0, 0) {
				t.Fatalf("%s: %s changed by a failed step", name, p.Name)
			}
		}
	}
}

func TestNilGradSkippedAndZeroGrad(t *testing.T) {
	for name, mk := range allKinds() {
		ps := smallParams()
		o, _ := mk(ps)
		setGrads(ps, 0)
		ps[1].Grad = nil
		b1 := ps[1].Value.Clone()
		b0 := ps[0].Value.Clone()
		if err := o.Step(); err != nil {
			t.Fatal(err)
		}
		if !tensor.AllClose(b1, ps[1].Value, 0, 0) {
			t.Fatalf("%s: parameter without gradient was updated", name)
		}
		if tensor.AllClose(b0, ps[0].Value, 0, 0) {
			t.Fatalf("%s: parameter with gradient was not updated", name)
		}
		if c := o.State().Counts["l1/bias"]; c != 0 {
			t.Fatalf("%s: skipped parameter counted %d updates", name, c)
		}
		o.ZeroGrad()
		for _, p := range ps {
			if p.Grad != nil {
				t.Fatalf("%s: ZeroGrad left %s.Grad", name, p.Name)
			}
		}
	}
}

func TestStepDoesNotAllocate(t *testing.T) {
	for name, mk := range allKinds() {
		ps := smallParams()
		o, _ := mk(ps)
		setGrads(ps, 0)
		if n := testing.AllocsPerRun(20, func() { _ = o.Step() }); n != 0 {
			t.Errorf("%s: Step allocates %v times", name, n)
		}
	}
}

func TestOptionErrors(t *testing.T) {
	ps := smallParams()
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"betas-on-sgd", func() error { _, e := NewSGD(ps, 0.1, Betas(0.9, 0.99)); return e }(), "Betas"},
		{"nesterov-alone", func() error { _, e := NewSGD(ps, 0.1, Nesterov()); return e }(), "Momentum"},
		{"negative-lr", func() error { _, e := NewAdam(ps, -1); return e }(), "learning rate"},
		{"beta-1", func() error { _, e := NewAdam(ps, 0.1, Betas(1, 0.9)); return e }(), "beta1"},
		{"momentum-on-adam", func() error { _, e := NewAdam(ps, 0.1, Momentum(0.9)); return e }(), "Momentum"},
		{"no-params", func() error { _, e := NewAdam(nil, 0.1); return e }(), "no parameters"},
		{"twice", func() error { _, e := NewSGD([]*autograd.Var{ps[0], ps[0]}, 0.1); return e }(), "twice"},
		{"unknown", func() error { _, e := New("adagrad", ps, 0.1); return e }(), "adagrad"},
	}
	for _, c := range cases {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, c.err, c.want)
		}
	}
}

func BenchmarkAdamStep(b *testing.B) {
	ps := mlpParams(1)
	o, err := NewAdam(ps, 1e-3)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, p := range ps {
		n += p.Value.Len()
	}
	b.SetBytes(int64(n) * 4 * 7) // reads w, g, m, v; writes w, m, v
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := o.Step(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n), "params")
}

func BenchmarkSGDMomentumStep(b *testing.B) {
	ps := mlpParams(1)
	o, _ := NewSGD(ps, 1e-3, Momentum(0.9))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		_ = o.Step()
	}
}
