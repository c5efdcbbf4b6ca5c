package explain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// gradLinear is the GradFunc of f(x) = W·x + b with k outputs (W is k×d,
// row-major).
func gradLinear(w []float64, b []float64) GradFunc {
	k := len(b)
	d := len(w) / k
	return func(_ context.Context, x []float32, n, label int) ([]float32, []float32, error) {
		out := make([]float32, n*k)
		grad := make([]float32, n*d)
		for i := range n {
			for o := range k {
				s := b[o]
				for j := range d {
					s += w[o*d+j] * float64(x[i*d+j])
				}
				out[i*k+o] = float32(s)
			}
			for j := range d {
				if label < k { // out of range: zeros, for explain to catch
					grad[i*d+j] = float32(w[label*d+j])
				}
			}
		}
		return out, grad, nil
	}
}

// gradPower is the GradFunc of f₀(x) = Σ a_i x_i^p and f₁ = −f₀.
func gradPower(a []float64, p float64) GradFunc {
	d := len(a)
	return func(_ context.Context, x []float32, n, label int) ([]float32, []float32, error) {
		out := make([]float32, 2*n)
		grad := make([]float32, n*d)
		sign := 1.0
		if label == 1 {
			sign = -1
		}
		for i := range n {
			var s float64
			for j := range d {
				v := float64(x[i*d+j])
				s += a[j] * math.Pow(v, p)
				grad[i*d+j] = float32(sign * a[j] * p * math.Pow(v, p-1))
			}
			out[2*i], out[2*i+1] = float32(s), float32(-s)
		}
		return out, grad, nil
	}
}

// gradSmoothNet is a fixed random tanh layer followed by a softmax over 3
// classes, with its exact input gradient: a smooth, non-polynomial model.
func gradSmoothNet(d, hidden int, seed uint64) GradFunc {
	r := rand.New(rand.NewPCG(seed, 11))
	w1 := make([]float64, hidden*d)
	b1 := make([]float64, hidden)
	w2 := make([]float64, 3*hidden)
	for i := range w1 {
		w1[i] = r.NormFloat64() / math.Sqrt(float64(d))
	}
	for i := range b1 {
		b1[i] = r.NormFloat64() * 0.3
	}
	for i := range w2 {
		w2[i] = r.NormFloat64() * 1.5
	}
	return func(_ context.Context, x []float32, n, label int) ([]float32, []float32, error) {
		out := make([]float32, 3*n)
		grad := make([]float32, n*d)
		hdn := make([]float64, hidden)
		for i := range n {
			xi := x[i*d : (i+1)*d]
			for h := range hidden {
				s := b1[h]
				for j, v := range xi {
					s += w1[h*d+j] * float64(v)
				}
				hdn[h] = math.Tanh(s)
			}
			var z [3]float64
			for o := range 3 {
				for h := range hidden {
					z[o] += w2[o*hidden+h] * hdn[h]
				}
			}
			m := max(z[0], z[1], z[2])
			var p [3]float64
			var sum float64
			for o := range 3 {
				p[o] = math.Exp(z[o] - m)
				sum += p[o]
			}
			for o := range 3 {
				p[o] /= sum
				out[i*3+o] = float32(p[o])
			}
			// dp_l/dz_o = p_l(δ_lo − p_o); dz_o/dh = w2; dh/ds = 1 − tanh².
			for h := range hidden {
				var dh float64
				for o := range 3 {
					dz := p[label] * (b2f(o == label) - p[o])
					dh += dz * w2[o*hidden+h]
				}
				ds := dh * (1 - hdn[h]*hdn[h])
				for j := range d {
					grad[i*d+j] += float32(ds * w1[h*d+j])
				}
			}
		}
		return out, grad, nil
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func gradClose(t *testing.T, what string, got []float32, want []float64, rtol, atol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i]) - want[i]); d > atol+rtol*math.Abs(want[i]) {
			t.Fatalf("%s[%d] = %v, want %v (|diff| %.3g)", what, i, got[i], want[i], d)
		}
	}
}

func TestGradGaussLegendreRule(t *testing.T) {
	// Known 3-point rule: nodes 0, ±√(3/5), weights 8/9, 5/9.
	z, w := gradGaussLegendre(3)
	want := []float64{-math.Sqrt(0.6), 0, math.Sqrt(0.6)}
	wantW := []float64{5.0 / 9, 8.0 / 9, 5.0 / 9}
	for i := range 3 {
		if math.Abs(z[i]-want[i]) > 1e-15 || math.Abs(w[i]-wantW[i]) > 1e-15 {
			t.Fatalf("3-point rule: nodes %v weights %v, want %v %v", z, w, want, wantW)
		}
	}
	for _, n := range []int{1, 2, 4, 7, 16, 50, 64, 100} {
		z, w := gradGaussLegendre(n)
		for i := range n {
			if z[i] <= -1 || z[i] >= 1 || (i > 0 && z[i] <= z[i-1]) || w[i] <= 0 {
				t.Fatalf("n=%d: nodes must be ascending in (-1,1) with positive weights: z[%d]=%v w=%v", n, i, z[i], w[i])
			}
			if p, _ := gradLegendre(n, z[i]); math.Abs(p) > 1e-12 {
				t.Fatalf("n=%d: P_n(node %d = %v) = %v, not a root", n, i, z[i], p)
			}
		}
		// Exact for every monomial of degree ≤ 2n−1 (checked up to 40).
		for k := 0; k <= min(2*n-1, 40); k++ {
			var s float64
			for i := range n {
				s += w[i] * math.Pow(z[i], float64(k))
			}
			exact := 0.0
			if k%2 == 0 {
				exact = 2 / float64(k+1)
			}
			if math.Abs(s-exact) > 1e-13 {
				t.Fatalf("n=%d: ∫z^%d = %v, rule gives %v", n, k, exact, s)
			}
		}
	}
}

func TestGradQuadratureRules(t *testing.T) {
	for _, m := range []IGMethod{GaussLegendre, RiemannLeft, RiemannRight, RiemannMiddle, RiemannTrapezoid} {
		a, w, err := gradQuadrature(m, 10)
		if err != nil {
			t.Fatal(err)
		}
		var s, s1 float64
		for i := range a {
			if a[i] < 0 || a[i] > 1 {
				t.Fatalf("%s: alpha %v outside [0,1]", m, a[i])
			}
			s += w[i]
			s1 += w[i] * a[i]
		}
		if math.Abs(s-1) > 1e-14 {
			t.Fatalf("%s: weights sum to %v, want 1", m, s)
		}
		// ∫α = 1/2: exact for all but left/right, which miss by ∓1/(2n).
		want := map[IGMethod]float64{RiemannLeft: 0.45, RiemannRight: 0.55}[m]
		if want == 0 {
			want = 0.5
		}
		if math.Abs(s1-want) > 1e-14 {
			t.Fatalf("%s: ∫α = %v, want %v", m, s1, want)
		}
	}
}

func TestIntegratedGradientsKnownAnswers(t *testing.T) {
	ctx := context.Background()
	a := []float64{1, -2, 0.5, 3}
	x := []float32{1.5, 0.5, -2, 1}
	b := []float32{0.5, -1, 1, 0.25}
	const n = 8
	// Quadratic model: the integrand is linear in α.
	quad := gradPower(a, 2)
	want := func(m IGMethod) []float64 {
		out := make([]float64, len(a))
		for i := range a {
			bi, di := float64(b[i]), float64(x[i]-b[i])
			frac := 1.0 // ∫α dα = 1/2, times 2
			switch m {
			case RiemannLeft:
				frac = float64(n-1) / n
			case RiemannRight:
				frac = float64(n+1) / n
			}
			out[i] = a[i] * di * (2*bi + di*frac)
		}
		return out
	}
	for _, m := range []IGMethod{GaussLegendre, RiemannLeft, RiemannRight, RiemannMiddle, RiemannTrapezoid} {
		e, err := IntegratedGradients(ctx, quad, x, b, 0, IGOptions{Steps: n, Method: m})
		if err != nil {
			t.Fatal(err)
		}
		gradClose(t, "quadratic "+string(m), e.Values, want(m), 1e-5, 1e-6)
		if e.Steps != n || e.Method != m || e.Label != 0 || e.Method == "" {
			t.Fatalf("%s: parameters not recorded: %+v", m, e)
		}
	}
	// Cubic: the integrand is quadratic in α; Gauss–Legendre with 2 points
	// is exact, the midpoint rule misses by d²/(12n²) of ∫(b+αd)².
	cub := gradPower(a, 3)
	for _, m := range []IGMethod{GaussLegendre, RiemannMiddle} {
		steps := map[IGMethod]int{GaussLegendre: 2, RiemannMiddle: n}[m]
		e, err := IntegratedGradients(ctx, cub, x, b, 1, IGOptions{Steps: steps, Method: m})
		if err != nil {
			t.Fatal(err)
		}
		exp := make([]float64, len(a))
		for i := range a {
			bi, di := float64(b[i]), float64(x[i]-b[i])
			sq := 1.0 / 3
			if m == RiemannMiddle {
				sq -= 1 / (12.0 * n * n)
			}
			exp[i] = -3 * a[i] * di * (bi*bi + bi*di + di*di*sq)
		}
		gradClose(t, "cubic "+string(m), e.Values, exp, 1e-5, 1e-6)
		if m == GaussLegendre && e.Completeness.Relative > 1e-6 {
			t.Fatalf("exact rule: completeness %+v", e.Completeness)
		}
		if m == RiemannMiddle && e.Completeness.Residual < 1e-4 {
			t.Fatalf("midpoint rule on a cubic should leave a residual, got %+v", e.Completeness)
		}
	}
}

func TestIntegratedGradientsCompletenessAndConvergence(t *testing.T) {
	ctx := context.Background()
	const d = 12
	f := gradSmoothNet(d, 16, 3)
	x := make([]float32, d)
	r := rand.New(rand.NewPCG(5, 5))
	for i := range x {
		x[i] = float32(r.NormFloat64() * 2)
	}
	// Pick the label the baseline and input disagree on most.
	e50, err := IntegratedGradients(ctx, f, x, nil, 0, IGOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if e50.Steps != 50 || e50.Method != GaussLegendre || e50.BatchSize != 52 {
		t.Fatalf("defaults: steps %d method %s batch %d", e50.Steps, e50.Method, e50.BatchSize)
	}
	c := e50.Completeness
	if math.Abs(c.Delta) < 0.05 {
		t.Fatalf("test model too flat between baseline and input: %+v", c)
	}
	if c.Relative > 1e-4 {
		t.Fatalf("50-step Gauss–Legendre: completeness %+v, want relative residual ≤ 1e-4", c)
	}
	var sum float64
	for _, v := range e50.Values {
		sum += float64(v)
	}
	if math.Abs(sum-c.Sum) > 1e-5 || math.Abs(c.Residual-math.Abs(c.Sum-c.Delta)) > 1e-12 {
		t.Fatalf("completeness fields inconsistent: Σ values %v, %+v", sum, c)
	}
	if e50.Output != float64(e50.Outputs[0]) || math.Abs(c.Delta-(e50.Output-c.BaselineOutput)) > 1e-12 {
		t.Fatalf("outputs: %v %v %+v", e50.Output, e50.Outputs, c)
	}
	// At 6 steps Gauss–Legendre beats every Riemann rule.
	gl, _ := IntegratedGradients(ctx, f, x, nil, 0, IGOptions{Steps: 6})
	for _, m := range []IGMethod{RiemannLeft, RiemannRight, RiemannMiddle, RiemannTrapezoid} {
		e, err := IntegratedGradients(ctx, f, x, nil, 0, IGOptions{Steps: 6, Method: m})
		if err != nil {
			t.Fatal(err)
		}
		if e.Completeness.Residual <= gl.Completeness.Residual {
			t.Fatalf("%s residual %.3g ≤ Gauss–Legendre's %.3g at 6 steps", m, e.Completeness.Residual, gl.Completeness.Residual)
		}
	}
	// Too few Riemann steps leave a warning.
	coarse, _ := IntegratedGradients(ctx, f, x, nil, 0, IGOptions{Steps: 2, Method: RiemannLeft})
	if coarse.Completeness.Relative > 0.01 && len(coarse.Warnings) == 0 {
		t.Fatalf("relative residual %.3g without a warning", coarse.Completeness.Relative)
	}
	if len(e50.Warnings) != 0 {
		t.Fatalf("converged IG warns: %v", e50.Warnings)
	}
}

func TestIntegratedGradientsBatchingIsInvisible(t *testing.T) {
	ctx := context.Background()
	f := gradSmoothNet(5, 8, 9)
	x := []float32{1, -1, 0.5, 2, -0.3}
	b := []float32{0.1, 0.1, 0.1, 0.1, 0.1}
	ref, err := IntegratedGradients(ctx, f, x, b, 2, IGOptions{Steps: 20})
	if err != nil {
		t.Fatal(err)
	}
	for _, bs := range []int{1, 3, 21, 22, 500} {
		e, err := IntegratedGradients(ctx, f, x, b, 2, IGOptions{Steps: 20, BatchSize: bs})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(e.Values, ref.Values) || e.Completeness != ref.Completeness {
			t.Fatalf("batch %d changes the result", bs)
		}
		if want := (22 + min(bs, 22) - 1) / min(bs, 22); e.Timing.ModelCalls != want || e.Timing.ModelRows != 22 {
			t.Fatalf("batch %d: %d calls %d rows, want %d calls of 22 rows", bs, e.Timing.ModelCalls, e.Timing.ModelRows, want)
		}
	}
}

func TestSaliencyLinearIsTheWeights(t *testing.T) {
	ctx := context.Background()
	w := []float64{1, -2, 3, 0.5, 0, -4, 2, 1, 1, 1, 1, -1}
	f := gradLinear(w, []float64{0.1, 0.2, 0.3})
	x := []float32{2, -1, 0.5, 3}
	for label := range 3 {
		row := w[label*4 : (label+1)*4]
		s, err := Saliency(ctx, f, x, label, SaliencyOptions{Signed: true})
		if err != nil {
			t.Fatal(err)
		}
		gradClose(t, "signed", s.Values, row, 0, 0)
		a, _ := Saliency(ctx, f, x, label, SaliencyOptions{})
		ti, _ := Saliency(ctx, f, x, label, SaliencyOptions{Signed: true, TimesInput: true})
		abs, gx := make([]float64, 4), make([]float64, 4)
		for i := range 4 {
			abs[i] = math.Abs(row[i])
			gx[i] = row[i] * float64(x[i])
		}
		gradClose(t, "abs", a.Values, abs, 0, 0)
		gradClose(t, "times input", ti.Values, gx, 1e-7, 0)
		wantOut := 0.1*float64(label+1) + row[0]*2 - row[1] + row[2]*0.5 + row[3]*3
		if math.Abs(s.Output-wantOut) > 1e-5 || len(s.Outputs) != 3 || s.Label != label || s.Method != "saliency" {
			t.Fatalf("label %d: output %v (want %v), outputs %v", label, s.Output, wantOut, s.Outputs)
		}
	}
	// A label whose gradient vanishes everywhere gets a warning.
	z, _ := Saliency(ctx, gradLinear(make([]float64, 4), []float64{1}), x, 0, SaliencyOptions{})
	if len(z.Warnings) == 0 {
		t.Fatal("all-zero saliency without a warning")
	}
}

func TestSmoothGradNoNoiseIsSaliencyAndSeeded(t *testing.T) {
	ctx := context.Background()
	f := gradSmoothNet(6, 10, 2)
	x := []float32{0.3, -1, 2, 0.7, -0.2, 1.1}
	sal, err := Saliency(ctx, f, x, 1, SaliencyOptions{Signed: true})
	if err != nil {
		t.Fatal(err)
	}
	sg, err := SmoothGrad(ctx, f, x, 1, SmoothGradOptions{Samples: 7, NoiseStd: 0, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sg.Values, sal.Values) || sg.RelativeStdErr != 0 || sg.Output != sal.Output {
		t.Fatalf("NoiseStd 0: %v, saliency %v", sg.Values, sal.Values)
	}
	if len(sg.Warnings) == 0 || !strings.Contains(sg.Warnings[0], "NoiseStd is 0") {
		t.Fatalf("NoiseStd 0 should warn: %v", sg.Warnings)
	}
	opt := SmoothGradOptions{Samples: 30, NoiseStd: 0.2, Seed: 99}
	a, _ := SmoothGrad(ctx, f, x, 1, opt)
	opt.BatchSize = 4
	b, _ := SmoothGrad(ctx, f, x, 1, opt)
	if !reflect.DeepEqual(a.Values, b.Values) || a.RelativeStdErr != b.RelativeStdErr {
		t.Fatal("same seed, different batch size: different SmoothGrad")
	}
	opt.Seed = 100
	c, _ := SmoothGrad(ctx, f, x, 1, opt)
	if reflect.DeepEqual(a.Values, c.Values) {
		t.Fatal("different seeds gave identical SmoothGrad")
	}
	if reflect.DeepEqual(a.Values, sal.Values) {
		t.Fatal("noise changed nothing")
	}
	if want := 0.2 * (2 - (-1)); math.Abs(a.Sigma-want) > 1e-6 || a.Samples != 30 || a.Seed != 99 {
		t.Fatalf("sigma %v want %v; samples %d", a.Sigma, want, a.Samples)
	}
}

func TestSmoothGradMatchesExpectation(t *testing.T) {
	// f = Σ a_i x_i³: E[∂f/∂x_i] = 3a_i(x_i² + σ²) and
	// E[(∂f/∂x_i)²] = 9a_i²(x_i⁴ + 6x_i²σ² + 3σ⁴).
	ctx := context.Background()
	a := []float64{1, -0.5, 2}
	x := []float32{1, 2, 0}
	const samples, frac = 4000, 0.25
	sigma := frac * 2.0
	e, err := SmoothGrad(ctx, gradPower(a, 3), x, 0, SmoothGradOptions{Samples: samples, NoiseStd: frac, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	s2 := sigma * sigma
	for i := range a {
		xi := float64(x[i])
		mean := 3 * a[i] * (xi*xi + s2)
		// Var(3a(x+ε)²) = 9a²(4x²σ² + 2σ⁴).
		se := math.Sqrt(9*a[i]*a[i]*(4*xi*xi*s2+2*s2*s2)) / math.Sqrt(samples)
		if d := math.Abs(float64(e.Values[i]) - mean); d > 5*se {
			t.Fatalf("feature %d: SmoothGrad %v, expectation %v (%.1f standard errors off)", i, e.Values[i], mean, d/se)
		}
	}
	if e.RelativeStdErr <= 0 || e.RelativeStdErr > 0.1 {
		t.Fatalf("relative standard error %v", e.RelativeStdErr)
	}
	sq, _ := SmoothGrad(ctx, gradPower(a, 3), x, 0, SmoothGradOptions{Samples: samples, NoiseStd: frac, Seed: 1, Squared: true})
	for i := range a {
		xi := float64(x[i])
		want := 9 * a[i] * a[i] * (xi*xi*xi*xi + 6*xi*xi*s2 + 3*s2*s2)
		if math.Abs(float64(sq.Values[i])-want) > 0.1*want {
			t.Fatalf("squared feature %d: %v, expectation %v", i, sq.Values[i], want)
		}
	}
}

func TestGradientMethodErrors(t *testing.T) {
	ctx := context.Background()
	f := gradLinear([]float64{1, 2, 3, 4, 5, 6}, []float64{0, 0})
	x := []float32{1, 2, 3}
	boom := errors.New("boom")
	failing := GradFunc(func(context.Context, []float32, int, int) ([]float32, []float32, error) { return nil, nil, boom })
	shortGrad := GradFunc(func(_ context.Context, x []float32, n, _ int) ([]float32, []float32, error) {
		return make([]float32, 2*n), make([]float32, n), nil
	})
	nanGrad := GradFunc(func(_ context.Context, x []float32, n, _ int) ([]float32, []float32, error) {
		g := make([]float32, len(x))
		g[1] = float32(math.NaN())
		return make([]float32, 2*n), g, nil
	})
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	type run func(ctx context.Context, f GradFunc, x []float32, label int) error
	methods := map[string]run{
		"saliency": func(ctx context.Context, f GradFunc, x []float32, l int) error {
			_, err := Saliency(ctx, f, x, l, SaliencyOptions{})
			return err
		},
		"integrated gradients": func(ctx context.Context, f GradFunc, x []float32, l int) error {
			_, err := IntegratedGradients(ctx, f, x, nil, l, IGOptions{Steps: 4})
			return err
		},
		"smoothgrad": func(ctx context.Context, f GradFunc, x []float32, l int) error {
			_, err := SmoothGrad(ctx, f, x, l, SmoothGradOptions{Samples: 3, NoiseStd: 0.1})
			return err
		},
	}
	for name, m := range methods {
		cases := []struct {
			ctx   context.Context
			f     GradFunc
			x     []float32
			label int
			want  string
		}{
			{ctx, nil, x, 0, "nil"},
			{ctx, f, nil, 0, "empty"},
			{ctx, f, []float32{1, float32(math.Inf(1)), 0}, 0, "finite"},
			{ctx, f, x, -1, "negative"},
			{ctx, f, x, 2, "label 2 out of range: the model returns 2 outputs"},
			{ctx, failing, x, 0, "boom"},
			{ctx, shortGrad, x, 0, "gradient values"},
			{ctx, nanGrad, x, 0, "NaN"},
			{cancelled, f, x, 0, "canceled"},
		}
		for _, c := range cases {
			err := m(c.ctx, c.f, c.x, c.label)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("%s with %q case: error %v", name, c.want, err)
			}
			if !strings.HasPrefix(err.Error(), name) && c.want != "canceled" {
				t.Fatalf("%s: error does not name the method: %v", name, err)
			}
		}
		if err := m(ctx, failing, x, 0); !errors.Is(err, boom) {
			t.Fatalf("%s: model error not wrapped: %v", name, err)
		}
	}
	igCases := []struct {
		b    []float32
		opt  IGOptions
		want string
	}{
		{[]float32{1}, IGOptions{}, "baseline has 1 values, the input 3"},
		{[]float32{1, float32(math.NaN()), 0}, IGOptions{}, "baseline feature 1"},
		{nil, IGOptions{Steps: -3}, "Steps is -3"},
		{nil, IGOptions{Method: "simpson"}, `unknown Method "simpson"`},
		{nil, IGOptions{Steps: 1, Method: RiemannTrapezoid}, "trapezoid rule needs at least 2"},
		{nil, IGOptions{BatchSize: -1}, "BatchSize is -1"},
	}
	for _, c := range igCases {
		if _, err := IntegratedGradients(ctx, f, x, c.b, 0, c.opt); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("IG %+v: error %v, want %q", c.opt, err, c.want)
		}
	}
	for _, c := range []struct {
		opt  SmoothGradOptions
		want string
	}{
		{SmoothGradOptions{Samples: -1}, "Samples is -1"},
		{SmoothGradOptions{NoiseStd: -0.1}, "NoiseStd is -0.1"},
		{SmoothGradOptions{NoiseStd: math.NaN()}, "NoiseStd is NaN"},
		{SmoothGradOptions{BatchSize: -2}, "BatchSize is -2"},
	} {
		if _, err := SmoothGrad(ctx, f, x, 0, c.opt); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("SmoothGrad %+v: error %v, want %q", c.opt, err, c.want)
		}
	}
	// One IG step is allowed for the open rules.
	if _, err := IntegratedGradients(ctx, f, x, nil, 0, IGOptions{Steps: 1, Method: RiemannMiddle}); err != nil {
		t.Fatal(err)
	}
}

func TestGradientExplanationsRoundTripJSON(t *testing.T) {
	ctx := context.Background()
	f := gradSmoothNet(4, 5, 1)
	x := []float32{1, 2, -1, 0.5}
	s, _ := Saliency(ctx, f, x, 0, SaliencyOptions{TimesInput: true})
	ig, _ := IntegratedGradients(ctx, f, x, nil, 1, IGOptions{Steps: 10, Method: RiemannTrapezoid})
	sg, _ := SmoothGrad(ctx, f, x, 2, SmoothGradOptions{Samples: 5, NoiseStd: 0.1, Seed: 3, Squared: true})
	for _, v := range []any{s, ig, sg} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{`"method"`, `"label"`, `"values"`, `"outputs"`, `"timing"`} {
			if !strings.Contains(string(b), key) {
				t.Fatalf("%T JSON lacks %s: %s", v, key, b)
			}
		}
		back := reflect.New(reflect.TypeOf(v).Elem()).Interface()
		if err := json.Unmarshal(b, back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, v) {
			t.Fatalf("%T does not round-trip:\n%+v\n%+v", v, back, v)
		}
	}
	b, _ := json.Marshal(ig)
	for _, key := range []string{`"completeness"`, `"relative"`, `"quadrature":"riemann_trapezoid"`, `"steps":10`, `"baseline"`} {
		if !strings.Contains(string(b), key) {
			t.Fatalf("IG JSON lacks %s: %s", key, b)
		}
	}
}

func TestAttributionPixelAttribution(t *testing.T) {
	a := &Attribution{Method: "saliency", Values: []float32{1, 2, 3, 4, 10, 20, 30, 40}}
	p, err := a.PixelAttribution(2, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	gradClose(t, "pixels", p, []float64{11, 22, 33, 44}, 0, 0)
	if _, err := a.PixelAttribution(3, 2, 2); err == nil || !strings.Contains(err.Error(), "has 8 values") {
		t.Fatalf("wrong size: %v", err)
	}
	if _, err := a.PixelAttribution(0, 2, 2); err == nil {
		t.Fatal("zero channels accepted")
	}
}

// ExampleIntegratedGradients attributes f(x) = x₀² + 2·x₁² + 3·x₂ at
// x = (1, 2, 3) from the zero baseline: the attributions are each term's
// value, and they add up to f(x) − f(0) = 18.
func ExampleIntegratedGradients() {
	f := func(_ context.Context, x []float32, n, label int) (out, grad []float32, err error) {
		out, grad = make([]float32, n), make([]float32, 3*n)
		for i := range n {
			v := x[3*i : 3*i+3]
			out[i] = v[0]*v[0] + 2*v[1]*v[1] + 3*v[2]
			grad[3*i], grad[3*i+1], grad[3*i+2] = 2*v[0], 4*v[1], 3
		}
		return out, grad, nil
	}
	e, err := IntegratedGradients(context.Background(), f, []float32{1, 2, 3}, nil, 0, IGOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("attributions %.3f\n", e.Values)
	fmt.Printf("sum %.3f, f(x) - f(baseline) %.3f, relative residual below 1e-6: %v\n",
		e.Completeness.Sum, e.Completeness.Delta, e.Completeness.Relative < 1e-6)
	// Output:
	// attributions [1.000 8.000 9.000]
	// sum 18.000, f(x) - f(baseline) 18.000, relative residual below 1e-6: true
}

// gradFixedCAM returns fixed activations and gradients.
func gradFixedCAM(act, grad []float32, c, h, w int, out []float32) CAMFunc {
	return func(context.Context, []float32, int) ([]float32, []float32, int, int, int, []float32, error) {
		return act, grad, c, h, w, out, nil
	}
}

func TestGradBilinearKnownAnswers(t *testing.T) {
	// 1×2 → 1×4: half-pixel centres sample at −¼ (clamped), ¼, ¾, 1¼.
	got := gradBilinear([]float32{0, 4}, 1, 2, 1, 4)
	gradClose(t, "1x2→1x4", got, []float64{0, 1, 3, 4}, 0, 1e-6)
	// Same size is the identity; a constant stays constant.
	src := []float32{1, 2, 3, 4, 5, 6}
	gradClose(t, "identity", gradBilinear(src, 2, 3, 2, 3), []float64{1, 2, 3, 4, 5, 6}, 0, 0)
	for _, v := range gradBilinear([]float32{7, 7, 7, 7}, 2, 2, 5, 9) {
		if v != 7 {
			t.Fatalf("constant map upsampled to %v", v)
		}
	}
	// 2×2 → 4×4 is separable: row weights (1, ¾|¼, ¼|¾, 1).
	m := gradBilinear([]float32{0, 4, 8, 12}, 2, 2, 4, 4)
	gradClose(t, "2x2→4x4 row 1", m[4:8], []float64{2, 3, 5, 6}, 0, 1e-6)
	// Downsampling 4 → 2 averages neighbours at the half-pixel centres.
	gradClose(t, "1x4→1x2", gradBilinear([]float32{0, 2, 4, 6}, 1, 4, 1, 2), []float64{1, 5}, 0, 1e-6)
}

func TestGradCAMKnownAnswer(t *testing.T) {
	// Two channels of 2×2. Gradients average to α = (0.5, −1).
	act := []float32{1, 2, 3, 4, 2, 0, 1, 1}
	grad := []float32{0.5, 0.5, 1, 0, -1, -1, -2, 0}
	out := []float32{0.3, 0.7}
	e, err := GradCAM(context.Background(), gradFixedCAM(act, grad, 2, 2, 2, out), []float32{9}, 1, 4, 4)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(e.Weights, []float64{0.5, -1}) {
		t.Fatalf("weights %v", e.Weights)
	}
	// raw = ReLU(0.5·(1,2,3,4) − (2,0,1,1)) = (0, 1, 0.5, 1).
	gradClose(t, "raw", e.Raw, []float64{0, 1, 0.5, 1}, 0, 1e-7)
	want := gradBilinear([]float32{0, 1, 0.5, 1}, 2, 2, 4, 4)
	wantN := make([]float64, len(want))
	for i, v := range want {
		wantN[i] = float64(v) // peak 1 already
	}
	gradClose(t, "map", e.Map, wantN, 1e-6, 1e-7)
	if e.H != 4 || e.W != 4 || e.RawH != 2 || e.RawW != 2 || e.Channels != 2 || e.Output != float64(out[1]) || e.Method != "grad-cam" {
		t.Fatalf("fields: %+v", e)
	}
	// Scaling the activations scales raw but not the normalised map.
	act2 := make([]float32, len(act))
	for i, v := range act {
		act2[i] = 3 * v
	}
	e2, _ := GradCAM(context.Background(), gradFixedCAM(act2, grad, 2, 2, 2, out), []float32{9}, 1, 4, 4)
	gradClose(t, "scaled map", e2.Map, wantN, 1e-6, 1e-6)
	if slicesMax(e2.Map) != 1 {
		t.Fatalf("map max %v, want 1", slicesMax(e2.Map))
	}
	// All evidence negative: a zero map with a warning.
	neg := []float32{-1, -1, -1, -1, -1, -1, -1, -1}
	e3, err := GradCAM(context.Background(), gradFixedCAM(act, neg, 2, 2, 2, out), []float32{9}, 0, 3, 3)
	if err != nil {
		t.Fatal(err)
	}
	if slicesMax(e3.Map) != 0 || len(e3.Warnings) == 0 {
		t.Fatalf("negative evidence: map max %v, warnings %v", slicesMax(e3.Map), e3.Warnings)
	}
	b, _ := json.Marshal(e)
	var back GradCAMExplanation
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(&back, e) {
		t.Fatalf("Grad-CAM JSON round trip: %v\n%s", err, b)
	}
}

func slicesMax(v []float32) float32 {
	m := v[0]
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

func TestGradCAMErrors(t *testing.T) {
	ctx := context.Background()
	act := []float32{1, 2, 3, 4}
	ok := gradFixedCAM(act, act, 1, 2, 2, []float32{1, 2})
	boom := errors.New("no such layer")
	cases := []struct {
		f      CAMFunc
		x      []float32
		label  int
		oh, ow int
		want   string
	}{
		{nil, []float32{1}, 0, 2, 2, "nil"},
		{ok, nil, 0, 2, 2, "empty"},
		{ok, []float32{1}, -1, 2, 2, "negative"},
		{ok, []float32{1}, 0, 0, 2, "output size 0×2"},
		{ok, []float32{1}, 2, 2, 2, "label 2 out of range: the model returns 2 outputs"},
		{gradFixedCAM(act, act[:3], 1, 2, 2, []float32{1}), []float32{1}, 0, 2, 2, "4 activations and 3 gradients"},
		{gradFixedCAM(act, act, 0, 2, 2, []float32{1}), []float32{1}, 0, 2, 2, "all must be positive"},
		{gradFixedCAM(act, []float32{1, float32(math.NaN()), 0, 0}, 1, 2, 2, []float32{1}), []float32{1}, 0, 2, 2, "gradient feature 1 is NaN"},
		{gradFixedCAM(act, act, 1, 2, 2, nil), []float32{1}, 0, 2, 2, "no model outputs"},
		{func(context.Context, []float32, int) ([]float32, []float32, int, int, int, []float32, error) {
			return nil, nil, 0, 0, 0, nil, boom
		}, []float32{1}, 0, 2, 2, "no such layer"},
	}
	for _, c := range cases {
		_, err := GradCAM(ctx, c.f, c.x, c.label, c.oh, c.ow)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "grad-cam") {
			t.Fatalf("case %q: error %v", c.want, err)
		}
	}
}
