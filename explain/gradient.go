package explain

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"
)

// GradFunc is a differentiable batch model: x holds n inputs of d float32
// features each, row-major. It returns the n×k model outputs, row-major,
// and for each input the gradient of its output number label with respect
// to that input (n×d, row-major, in x's layout). Inputs must not interact
// (no batch statistics), so the gradient of row i depends on row i only.
// explain calls it from one goroutine at a time and never keeps x after it
// returns. Package explain/adapt builds one from a glassbox nn.Module.
type GradFunc func(ctx context.Context, x []float32, n int, label int) (out, grad []float32, err error)

// Attribution is what every gradient or occlusion method returns for one
// input and one model output: a value per input feature in the input's
// layout, the model's outputs at the input, and what went wrong, in words.
type Attribution struct {
	// Method is "saliency", "integrated-gradients", "smoothgrad" or the
	// registry name of a method of the gradient family ("deeplift", …).
	Method string `json:"method"`
	// Label is the explained output.
	Label int `json:"label"`
	// Values holds one attribution per input feature, in x's layout
	// (channel-first C×H×W for images).
	Values []float32 `json:"values"`
	// Output is the model's output Label at x; Outputs all k of them.
	Output  float64   `json:"output"`
	Outputs []float32 `json:"outputs"`
	// Warnings say in words what may be wrong with the attribution and
	// what to try.
	Warnings []string `json:"warnings,omitempty"`
	Timing   Timing   `json:"timing"`
}

// PixelAttribution sums Values over the channels of a channel-first
// C×H×W image, giving the H·W row-major per-pixel map that
// DeletionInsertion and the heat-map writers take.
func (a *Attribution) PixelAttribution(c, h, w int) ([]float32, error) {
	return gradPixelSum(a.Method, a.Values, c, h, w)
}

func gradPixelSum(what string, v []float32, c, h, w int) ([]float32, error) {
	if c < 1 || h < 1 || w < 1 {
		return nil, fmt.Errorf("%s: image size %d×%d×%d (C×H×W); all must be positive", what, c, h, w)
	}
	hw := h * w
	if len(v) != c*hw {
		return nil, fmt.Errorf("%s: attribution has %d values, the image C×H×W = %d×%d×%d has %d", what, len(v), c, h, w, c*hw)
	}
	out := make([]float32, hw)
	for ch := range c {
		for p, x := range v[ch*hw : (ch+1)*hw] {
			out[p] += x
		}
	}
	return out, nil
}

// gradCheckInput validates an input vector and label at the API edge.
func gradCheckInput(what string, x []float32, label int) error {
	if len(x) == 0 {
		return fmt.Errorf("%s: the input is empty; pass the d features of one instance", what)
	}
	if label < 0 {
		return fmt.Errorf("%s: label %d is negative; labels count outputs from 0", what, label)
	}
	return gradCheckFinite(what, "input", x)
}

func gradCheckFinite(what, name string, x []float32) error {
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("%s: %s feature %d is %v; it must be finite", what, name, i, v)
		}
	}
	return nil
}

// gradCaller runs a GradFunc batch by batch, checking what it returns
// and timing it.
type gradCaller struct {
	what   string
	f      GradFunc
	d      int
	label  int
	k      int // outputs per input, 0 until the first call
	timing *Timing
}

// call evaluates rows [lo, lo+n) held in x.
func (g *gradCaller) call(ctx context.Context, x []float32, n, lo int) (out, grad []float32, err error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	start := time.Now()
	out, grad, err = g.f(ctx, x, n, g.label)
	g.timing.Model += time.Since(start)
	g.timing.ModelCalls++
	g.timing.ModelRows += n
	if err != nil {
		return nil, nil, fmt.Errorf("%s: model gradient failed on a batch of %d inputs (rows %d..%d): %w", g.what, n, lo, lo+n-1, err)
	}
	if len(out) == 0 || len(out)%n != 0 {
		return nil, nil, fmt.Errorf("%s: model returned %d outputs for a batch of %d inputs; want a multiple of %d (n×k outputs, row-major)", g.what, len(out), n, n)
	}
	k := len(out) / n
	if g.k == 0 {
		g.k = k
	} else if k != g.k {
		return nil, nil, fmt.Errorf("%s: model returned %d outputs per input for rows %d.., %d for earlier rows; it must return the same k every call", g.what, k, lo, g.k)
	}
	if g.label >= k {
		return nil, nil, fmt.Errorf("%s: label %d out of range: the model returns %d outputs (labels 0..%d)", g.what, g.label, k, k-1)
	}
	if len(grad) != n*g.d {
		return nil, nil, fmt.Errorf("%s: model returned %d gradient values for %d inputs of %d features; want n×d = %d", g.what, len(grad), n, g.d, n*g.d)
	}
	for i, v := range out {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, nil, fmt.Errorf("%s: model returned %v for input %d, output %d; the model must return finite values", g.what, v, lo+i/k, i%k)
		}
	}
	for i, v := range grad {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, nil, fmt.Errorf("%s: gradient is %v for input %d, feature %d; the model must be differentiable with finite gradients there", g.what, v, lo+i/g.d, i%g.d)
		}
	}
	return out, grad, nil
}

// SaliencyOptions tune Saliency. The zero value gives |∂f/∂x|.
type SaliencyOptions struct {
	// Signed keeps the sign of the gradient instead of its absolute value.
	Signed bool
	// TimesInput multiplies the gradient by the input (gradient × input).
	TimesInput bool
}

// SaliencyExplanation is a saliency map with the options that made it.
type SaliencyExplanation struct {
	Attribution
	Signed     bool `json:"signed"`
	TimesInput bool `json:"times_input"`
}

// Saliency explains model output label at x by its gradient
// (Simonyan et al. 2014): |∂f_label/∂x_i| by default, the signed gradient
// with Signed, and gradient × input with TimesInput (the two combine:
// |g·x| or g·x). One gradient evaluation.
func Saliency(ctx context.Context, f GradFunc, x []float32, label int, opt SaliencyOptions) (*SaliencyExplanation, error) {
	start := time.Now()
	const what = "saliency"
	if f == nil {
		return nil, fmt.Errorf("%s: model gradient function is nil", what)
	}
	if err := gradCheckInput(what, x, label); err != nil {
		return nil, err
	}
	e := &SaliencyExplanation{Attribution: Attribution{Method: what, Label: label}, Signed: opt.Signed, TimesInput: opt.TimesInput}
	g := gradCaller{what: what, f: f, d: len(x), label: label, timing: &e.Timing}
	out, grad, err := g.call(ctx, x, 1, 0)
	if err != nil {
		return nil, err
	}
	v := slices.Clone(grad)
	for i := range v {
		if opt.TimesInput {
			v[i] *= x[i]
		}
		if !opt.Signed {
			v[i] = float32(math.Abs(float64(v[i])))
		}
	}
	e.Values = v
	e.Outputs = slices.Clone(out)
	e.Output = float64(out[label])
	e.Warnings = gradZeroWarning(v)
	e.Timing.Total = time.Since(start)
	return e, nil
}

// gradZeroWarning warns when an attribution is identically zero.
func gradZeroWarning(v []float32) []string {
	for _, x := range v {
		if x != 0 {
			return nil
		}
	}
	return []string{"the attribution is zero everywhere: the output does not change with the input here (a saturated or dead unit?); try integrated gradients from a baseline, or another label"}
}

// IGMethod is the quadrature rule of IntegratedGradients.
type IGMethod string

const (
	// GaussLegendre (default) evaluates the gradient at the Gauss–Legendre
	// nodes of [0, 1]: exact for integrands that are polynomials of degree
	// up to 2·Steps−1, so it converges fastest on smooth models.
	GaussLegendre IGMethod = "gausslegendre"
	// RiemannLeft, RiemannRight and RiemannMiddle use Steps equal
	// sub-intervals, evaluated at their left end, right end or midpoint.
	RiemannLeft   IGMethod = "riemann_left"
	RiemannRight  IGMethod = "riemann_right"
	RiemannMiddle IGMethod = "riemann_middle"
	// RiemannTrapezoid evaluates Steps evenly spaced points including both
	// ends, the ends with half weight.
	RiemannTrapezoid IGMethod = "riemann_trapezoid"
)

// IGOptions tune IntegratedGradients. The zero value gives 50
// Gauss–Legendre steps.
type IGOptions struct {
	// Steps is the number of gradient evaluations along the path
	// (default 50).
	Steps int
	// Method is the quadrature rule (default GaussLegendre).
	Method IGMethod
	// BatchSize is the number of path points per gradient call (default
	// all of them, at most 64).
	BatchSize int
}

// Completeness checks integrated gradients against their defining
// property: the attributions add up to f(x) − f(baseline). The residual
// is the quadrature error (plus float32 rounding).
type Completeness struct {
	// Sum is Σ attributions.
	Sum float64 `json:"sum"`
	// Delta is f(x) − f(baseline) for the explained output;
	// BaselineOutput is f(baseline).
	Delta          float64 `json:"delta"`
	BaselineOutput float64 `json:"baseline_output"`
	// Residual is |Sum − Delta|; Relative is Residual / max(|Delta|, 1e-9).
	Residual float64 `json:"residual"`
	Relative float64 `json:"relative"`
}

// IGExplanation is an integrated-gradients attribution with its
// parameters and its completeness check.
type IGExplanation struct {
	Attribution
	Steps     int      `json:"steps"`
	Method    IGMethod `json:"quadrature"`
	BatchSize int      `json:"batch_size"`
	// Baseline is the path's starting point (zeros unless given).
	Baseline     []float32    `json:"baseline"`
	Completeness Completeness `json:"completeness"`
}

// IntegratedGradients explains model output label at x by integrated
// gradients (Sundararajan et al. 2017): attr_i = (x_i − b_i) ·
// ∫₀¹ ∂f/∂x_i(b + α(x − b)) dα, with the integral approximated by
// opt.Method over opt.Steps points. baseline (nil for all zeros) stands for
// "no signal", e.g. a black image. Besides the Steps path points it
// evaluates x and the baseline themselves (in the same batches) to report
// Completeness; a relative residual above 1% adds a warning.
//
// Gauss–Legendre converges fast when the model is smooth along the path
// (tanh or sigmoid units, a softmax over logits that grow linearly). For
// piecewise-linear models (ReLU and max-pool with biases, as trained nets
// have) the integrand is piecewise constant and no rule converges fast:
// expect relative residuals of 1e-3 to 1e-2 at 50 steps, shrinking slowly
// with more steps. Completeness reports how far off an explanation is.
func IntegratedGradients(ctx context.Context, f GradFunc, x, baseline []float32, label int, opt IGOptions) (*IGExplanation, error) {
	start := time.Now()
	const what = "integrated gradients"
	if f == nil {
		return nil, fmt.Errorf("%s: model gradient function is nil", what)
	}
	if err := gradCheckInput(what, x, label); err != nil {
		return nil, err
	}
	d := len(x)
	if baseline == nil {
		baseline = make([]float32, d)
	} else if len(baseline) != d {
		return nil, fmt.Errorf("%s: baseline has %d values, the input %d; they must have the same layout (nil means all zeros)", what, len(baseline), d)
	} else if err := gradCheckFinite(what, "baseline", baseline); err != nil {
		return nil, err
	}
	steps := opt.Steps
	if steps == 0 {
		steps = 50
	}
	method := opt.Method
	if method == "" {
		method = GaussLegendre
	}
	alphas, weights, err := gradQuadrature(method, steps)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	points := steps + 2 // the path, then x, then the baseline
	batch := opt.BatchSize
	if batch < 0 {
		return nil, fmt.Errorf("%s: BatchSize is %d; use a positive number or 0 for the default", what, batch)
	}
	if batch == 0 {
		batch = min(points, 64)
	}
	batch = min(batch, points)

	e := &IGExplanation{
		Attribution: Attribution{Method: "integrated-gradients", Label: label},
		Steps:       steps, Method: method, BatchSize: batch, Baseline: slices.Clone(baseline),
	}
	g := gradCaller{what: what, f: f, d: d, label: label, timing: &e.Timing}
	diff := make([]float64, d)
	for i := range d {
		diff[i] = float64(x[i]) - float64(baseline[i])
	}
	acc := make([]float64, d)
	buf := make([]float32, batch*d)
	var fx, fb float64
	for lo := 0; lo < points; lo += batch {
		hi := min(lo+batch, points)
		for r := lo; r < hi; r++ {
			row := buf[(r-lo)*d : (r-lo+1)*d]
			switch {
			case r < steps:
				a := alphas[r]
				for i := range row {
					row[i] = float32(float64(baseline[i]) + a*diff[i])
				}
			case r == steps:
				copy(row, x)
			default:
				copy(row, baseline)
			}
		}
		out, grad, err := g.call(ctx, buf[:(hi-lo)*d], hi-lo, lo)
		if err != nil {
			return nil, err
		}
		k := g.k
		for r := lo; r < hi; r++ {
			switch {
			case r < steps:
				w := weights[r]
				gr := grad[(r-lo)*d : (r-lo+1)*d]
				for i, v := range gr {
					acc[i] += w * float64(v)
				}
			case r == steps:
				e.Outputs = slices.Clone(out[(r-lo)*k : (r-lo+1)*k])
				fx = float64(out[(r-lo)*k+label])
			default:
				fb = float64(out[(r-lo)*k+label])
			}
		}
	}
	e.Values = make([]float32, d)
	var sum float64
	for i := range d {
		a := diff[i] * acc[i]
		e.Values[i] = float32(a)
		sum += a
	}
	e.Output = fx
	c := completeness(sum, fx, fb)
	e.Completeness = c
	if math.Abs(c.Delta) < 1e-6*math.Max(1, math.Abs(fx)) {
		e.Warnings = append(e.Warnings, fmt.Sprintf("the model gives almost the same output at the input and at the baseline (%.4g vs %.4g): integrated gradients can only share out that difference, so the attributions say little; choose a baseline the model scores differently (e.g. a blurred or black image)", fx, fb))
	} else if c.Relative > 0.01 {
		e.Warnings = append(e.Warnings, fmt.Sprintf("the attributions add up to %.4g but f(x) − f(baseline) is %.4g (%.1f%% off): the %d-step %s quadrature has not converged; raise Steps or use gausslegendre", c.Sum, c.Delta, 100*c.Relative, steps, method))
	}
	e.Timing.Total = time.Since(start)
	return e, nil
}

// gradQuadrature returns the points α in [0, 1] and weights of an n-point
// rule for ∫₀¹ g(α) dα.
func gradQuadrature(m IGMethod, n int) (alphas, weights []float64, err error) {
	if n < 1 {
		return nil, nil, fmt.Errorf("Steps is %d; use at least 1 (50 is typical)", n)
	}
	if n > 1<<16 {
		return nil, nil, fmt.Errorf("Steps is %d; more than %d path points is never needed (Gauss–Legendre converges in tens)", n, 1<<16)
	}
	alphas = make([]float64, n)
	weights = make([]float64, n)
	switch m {
	case GaussLegendre:
		z, w := gradGaussLegendre(n)
		for i := range n {
			alphas[i] = (1 + z[i]) / 2
			weights[i] = w[i] / 2
		}
	case RiemannLeft, RiemannRight, RiemannMiddle:
		off := map[IGMethod]float64{RiemannLeft: 0, RiemannRight: 1, RiemannMiddle: 0.5}[m]
		for i := range n {
			alphas[i] = (float64(i) + off) / float64(n)
			weights[i] = 1 / float64(n)
		}
	case RiemannTrapezoid:
		if n < 2 {
			return nil, nil, fmt.Errorf("Steps is 1; the trapezoid rule needs at least 2 points (both ends)")
		}
		h := 1 / float64(n-1)
		for i := range n {
			alphas[i] = float64(i) * h
			weights[i] = h
		}
		alphas[n-1] = 1
		weights[0], weights[n-1] = h/2, h/2
	default:
		return nil, nil, fmt.Errorf("unknown Method %q; use gausslegendre, riemann_left, riemann_right, riemann_middle or riemann_trapezoid", m)
	}
	return alphas, weights, nil
}

// gradGaussLegendre returns the n Gauss–Legendre nodes of [−1, 1] in
// ascending order and their weights. Each node is a root of the Legendre
// polynomial P_n found by Newton's method from the asymptotic guess
// cos(π(i − ¼)/(n + ½)); P_n and P_n' come from the three-term recurrence
// (j+1)P_{j+1} = (2j+1)zP_j − jP_{j−1}, and the weight is
// 2 / ((1 − z²) P_n'(z)²). Nodes are symmetric, so half are computed.
func gradGaussLegendre(n int) (nodes, weights []float64) {
	nodes = make([]float64, n)
	weights = make([]float64, n)
	for i := 1; i <= (n+1)/2; i++ {
		z := math.Cos(math.Pi * (float64(i) - 0.25) / (float64(n) + 0.5))
		var dp float64
		for range 100 {
			p, dpz := gradLegendre(n, z)
			dp = dpz
			dz := p / dp
			z -= dz
			if math.Abs(dz) <= 1e-15 {
				break
			}
		}
		_, dp = gradLegendre(n, z)
		w := 2 / ((1 - z*z) * dp * dp)
		nodes[i-1], nodes[n-i] = -z, z
		weights[i-1], weights[n-i] = w, w
	}
	if n%2 == 1 {
		nodes[n/2] = 0 // exact, instead of ±1e-17
	}
	return nodes, weights
}

// gradLegendre evaluates P_n(z) and P_n'(z) (|z| < 1).
func gradLegendre(n int, z float64) (p, dp float64) {
	p0, p1 := 1.0, z
	if n == 0 {
		return 1, 0
	}
	for j := 1; j < n; j++ {
		p0, p1 = p1, (float64(2*j+1)*z*p1-float64(j)*p0)/float64(j+1)
	}
	// P_n' = n (z P_n − P_{n−1}) / (z² − 1).
	dp = float64(n) * (z*p1 - p0) / (z*z - 1)
	return p1, dp
}

// DefaultNoiseStd is the SmoothGrad noise level its authors found to work
// on images: 15% of the input's range.
const DefaultNoiseStd = 0.15

// SmoothGradOptions tune SmoothGrad.
type SmoothGradOptions struct {
	// Samples is the number of noisy copies averaged (default 50).
	Samples int
	// NoiseStd is the noise's standard deviation as a fraction of the
	// input's range max(x) − min(x). It is used as given: 0 adds no noise
	// (the average is then plain saliency); DefaultNoiseStd (0.15) is the
	// usual choice, 0.1–0.2 the useful range.
	NoiseStd float64
	// Seed makes the noise, and so the explanation, reproducible.
	Seed uint64
	// Squared averages the squared gradients (SmoothGrad²) instead of
	// the signed gradients.
	Squared bool
	// BatchSize is the number of noisy copies per gradient call (default
	// all of them, at most 64).
	BatchSize int
}

// SmoothGradExplanation is a SmoothGrad attribution with its parameters.
type SmoothGradExplanation struct {
	Attribution
	Samples  int     `json:"samples"`
	NoiseStd float64 `json:"noise_std"`
	// Sigma is the absolute noise standard deviation used:
	// NoiseStd · (max(x) − min(x)).
	Sigma   float64 `json:"sigma"`
	Seed    uint64  `json:"seed"`
	Squared bool    `json:"squared"`
	// RelativeStdErr is ‖standard error of the mean‖₂ / ‖mean‖₂ over the
	// features: how far the average still is from converged (0 without
	// noise). Above 0.1 adds a warning.
	RelativeStdErr float64 `json:"relative_std_err"`
}

// gradStreamNoise tells SmoothGrad's noise streams apart from others.
const gradStreamNoise uint64 = 0xd6e8feb86659fd93

// SmoothGrad explains model output label at x by the average gradient over
// noisy copies of x (Smilkov et al. 2017): noise ~ N(0, σ²) per feature,
// σ = NoiseStd·(max(x) − min(x)), averaged over Samples copies (squared
// gradients with Squared). Copy s draws its noise from its own random
// stream of Seed, so the result is bit-identical for a seed whatever the
// BatchSize. Outputs are those of the model at the noise-free x (one extra
// evaluation).
func SmoothGrad(ctx context.Context, f GradFunc, x []float32, label int, opt SmoothGradOptions) (*SmoothGradExplanation, error) {
	start := time.Now()
	const what = "smoothgrad"
	if f == nil {
		return nil, fmt.Errorf("%s: model gradient function is nil", what)
	}
	if err := gradCheckInput(what, x, label); err != nil {
		return nil, err
	}
	samples := opt.Samples
	if samples == 0 {
		samples = 50
	}
	if samples < 1 {
		return nil, fmt.Errorf("%s: Samples is %d; use at least 1 (50 is typical)", what, samples)
	}
	if opt.NoiseStd < 0 || math.IsNaN(opt.NoiseStd) || math.IsInf(opt.NoiseStd, 0) {
		return nil, fmt.Errorf("%s: NoiseStd is %v; use a fraction of the input range ≥ 0 (0.15 is typical)", what, opt.NoiseStd)
	}
	batch := opt.BatchSize
	if batch < 0 {
		return nil, fmt.Errorf("%s: BatchSize is %d; use a positive number or 0 for the default", what, batch)
	}
	if batch == 0 {
		batch = min(samples+1, 64)
	}
	d := len(x)
	lo, hi := slices.Min(x), slices.Max(x)
	sigma := opt.NoiseStd * (float64(hi) - float64(lo))
	e := &SmoothGradExplanation{
		Attribution: Attribution{Method: what, Label: label},
		Samples:     samples, NoiseStd: opt.NoiseStd, Sigma: sigma, Seed: opt.Seed, Squared: opt.Squared,
	}
	g := gradCaller{what: what, f: f, d: d, label: label, timing: &e.Timing}
	sum := make([]float64, d)
	sumSq := make([]float64, d)
	// Row 0 is x itself, rows 1..samples the noisy copies.
	rows := samples + 1
	batch = min(batch, rows)
	buf := make([]float32, batch*d)
	for r0 := 0; r0 < rows; r0 += batch {
		r1 := min(r0+batch, rows)
		for r := r0; r < r1; r++ {
			row := buf[(r-r0)*d : (r-r0+1)*d]
			copy(row, x)
			if r == 0 || sigma == 0 {
				continue
			}
			rng := subStream(opt.Seed, gradStreamNoise, uint64(r-1))
			for i := range row {
				row[i] = float32(float64(row[i]) + sigma*rng.NormFloat64())
			}
		}
		out, grad, err := g.call(ctx, buf[:(r1-r0)*d], r1-r0, r0)
		if err != nil {
			return nil, err
		}
		for r := r0; r < r1; r++ {
			if r == 0 {
				e.Outputs = slices.Clone(out[:g.k])
				e.Output = float64(out[label])
				continue
			}
			for i, v := range grad[(r-r0)*d : (r-r0+1)*d] {
				a := float64(v)
				if opt.Squared {
					a *= a
				}
				sum[i] += a
				sumSq[i] += a * a
			}
		}
	}
	e.Values = make([]float32, d)
	n := float64(samples)
	var meanNorm, errNorm float64
	for i := range d {
		m := sum[i] / n
		e.Values[i] = float32(m)
		meanNorm += m * m
		if samples > 1 {
			v := math.Max(0, (sumSq[i]-n*m*m)/(n-1))
			errNorm += v / n
		}
	}
	if meanNorm > 0 {
		e.RelativeStdErr = math.Sqrt(errNorm / meanNorm)
	}
	e.Warnings = gradZeroWarning(e.Values)
	if opt.NoiseStd == 0 {
		e.Warnings = append(e.Warnings, "NoiseStd is 0: no noise was added, so this is plain saliency; set NoiseStd (0.15 is typical) to smooth it")
	} else if sigma == 0 {
		e.Warnings = append(e.Warnings, "the input is constant (max = min), so NoiseStd, a fraction of its range, adds no noise; this is plain saliency")
	}
	if e.RelativeStdErr > 0.1 {
		e.Warnings = append(e.Warnings, fmt.Sprintf("the average over %d noisy copies is still noisy (relative standard error %.2f); raise Samples", samples, e.RelativeStdErr))
	}
	e.Timing.Total = time.Since(start)
	return e, nil
}
