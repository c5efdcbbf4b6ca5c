package explain

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"
)

// LayerAccess opens one hidden layer of a model: the functions layer,
// neuron and concept methods (layerig, layerconductance, neuronig,
// neuronconductance, tcav) need. The model is seen as F(x) = G(L(x)),
// where L runs it up to and including the layer and G the rest; nothing
// after the layer depends on x except through L(x). Package explain/adapt
// builds one from an nn.Sequential.
type LayerAccess struct {
	// Name is the layer's name as the model's inspection shows it.
	Name string
	// Shape is one example's activations, without the batch axis ([units]
	// for a dense layer, [C, H, W] for a convolution, [T, E] for an
	// embedding of T tokens).
	Shape []int
	// Activations runs L: n inputs (in Predict's units) to n rows of
	// activations, row-major.
	Activations Func
	// Onward runs G from n rows of activations: it returns the model's
	// scores (as Gradient's: logits for a classifier, values in the
	// target's units for regression) and the gradient of score label with
	// respect to the activations.
	Onward GradFunc
	// Neuron differentiates one unit of the layer (a flat index into
	// Shape) with respect to the input: for n inputs it returns the
	// layer's full activations (n rows) and ∂L(x)_unit/∂x (n rows of the
	// input's size). Nil where the input is not differentiable (token ids).
	Neuron NeuronFunc
}

// NeuronFunc is LayerAccess.Neuron.
type NeuronFunc func(ctx context.Context, x []float32, n, unit int) (act, grad []float32, err error)

// Units is the number of activations of one example.
func (la *LayerAccess) Units() int {
	u := 1
	for _, v := range la.Shape {
		u *= v
	}
	return u
}

// activations runs la.Activations on n inputs and checks what it returns.
func (la *LayerAccess) activations(ctx context.Context, what string, x []float32, n int) ([]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a, err := la.Activations(ctx, x, n)
	if err != nil {
		return nil, fmt.Errorf("%s: layer %s: %w", what, la.Name, err)
	}
	if len(a) != n*la.Units() {
		return nil, fmt.Errorf("%s: layer %s returned %d activations for %d inputs; want %d×%d", what, la.Name, len(a), n, n, la.Units())
	}
	if err := gradCheckFinite(what, "activation", a); err != nil {
		return nil, err
	}
	return a, nil
}

// LayerAttribution is an attribution to the units of a hidden layer (Layer
// IG, Layer Conductance): one value per unit of Shape, in the model's
// output units, and how far they add up to f(x) − f(baseline).
type LayerAttribution struct {
	Attribution
	// Layer and Shape name the layer and one example's activation shape.
	Layer string `json:"layer"`
	Shape []int  `json:"shape"`
	Steps int    `json:"steps"`
	// Completeness: Σ values against f(x) − f(baseline).
	Completeness Completeness `json:"completeness"`
}

// LayerIntegratedGradients attributes model output label at x to the units
// of a hidden layer (Captum's LayerIntegratedGradients): integrated
// gradients of G, the model from the layer on, along the straight path
// from the layer's activations at the baseline to those at x. The
// attributions add up to f(x) − f(baseline) (Completeness says how
// closely). On an Embedding layer this is the usual attribution of a
// recurrent text model to its tokens (sum each token's row).
func LayerIntegratedGradients(ctx context.Context, la *LayerAccess, x, baseline []float32, label int, opt IGOptions) (*LayerAttribution, error) {
	start := time.Now()
	const what = "layer integrated gradients"
	if err := checkLayerInput(what, la, x, baseline, label); err != nil {
		return nil, err
	}
	if baseline == nil {
		baseline = make([]float32, len(x))
	}
	acts, err := la.activations(ctx, what, append(slices.Clone(x), baseline...), 2)
	if err != nil {
		return nil, err
	}
	u := la.Units()
	e, err := IntegratedGradients(ctx, la.Onward, acts[:u], acts[u:], label, opt)
	if err != nil {
		return nil, fmt.Errorf("%s: layer %s: %w", what, la.Name, err)
	}
	e.Method = "layer-integrated-gradients"
	e.Timing.ModelCalls++
	e.Timing.Total = time.Since(start)
	return &LayerAttribution{Attribution: e.Attribution, Layer: la.Name, Shape: slices.Clone(la.Shape),
		Steps: e.Steps, Completeness: e.Completeness}, nil
}

// LayerConductance attributes model output label at x to the units of a
// hidden layer by their conductance (Dhamdhere et al. 2018, Captum's
// LayerConductance): along the input path x' + α(x − x') at α = 0,
// 1/steps, …, 1, unit j gets Σ_k ∂F/∂y_j(α_k) · (y_j(α_{k+1}) − y_j(α_k)):
// the output's change that flows through the unit. The sum over units
// telescopes to f(x) − f(baseline) as steps grow. steps 0 means 50.
func LayerConductance(ctx context.Context, la *LayerAccess, x, baseline []float32, label, steps int) (*LayerAttribution, error) {
	start := time.Now()
	const what = "layer conductance"
	if err := checkLayerInput(what, la, x, baseline, label); err != nil {
		return nil, err
	}
	if steps == 0 {
		steps = 50
	}
	if steps < 1 || steps > 1<<16 {
		return nil, fmt.Errorf("%s: steps %d; use 1 to %d (50 is typical)", what, steps, 1<<16)
	}
	if baseline == nil {
		baseline = make([]float32, len(x))
	}
	d, u := len(x), la.Units()
	e := &LayerAttribution{Attribution: Attribution{Method: "layer-conductance", Label: label},
		Layer: la.Name, Shape: slices.Clone(la.Shape), Steps: steps}
	g := gradCaller{what: what, f: la.Onward, d: u, label: label, timing: &e.Timing}
	acc := make([]float64, u)
	prev := make([]float32, u) // the previous point's activations
	prevGrad := make([]float32, u)
	const batch = 64
	points := steps + 1
	buf := make([]float32, batch*d)
	var fx, fb float64
	for lo := 0; lo < points; lo += batch {
		hi := min(lo+batch, points)
		for r := lo; r < hi; r++ {
			a := float64(r) / float64(steps)
			row := buf[(r-lo)*d : (r-lo+1)*d]
			for i := range row {
				row[i] = float32(float64(baseline[i]) + a*(float64(x[i])-float64(baseline[i])))
			}
		}
		acts, err := la.activations(ctx, what, buf[:(hi-lo)*d], hi-lo)
		if err != nil {
			return nil, err
		}
		e.Timing.ModelCalls++
		out, grad, err := g.call(ctx, acts, hi-lo, lo)
		if err != nil {
			return nil, err
		}
		for r := lo; r < hi; r++ {
			a := acts[(r-lo)*u : (r-lo+1)*u]
			if r > 0 {
				for j := range acc {
					acc[j] += float64(prevGrad[j]) * (float64(a[j]) - float64(prev[j]))
				}
			}
			copy(prev, a)
			copy(prevGrad, grad[(r-lo)*u:(r-lo+1)*u])
			switch r {
			case 0:
				fb = float64(out[label])
			case steps:
				e.Outputs = slices.Clone(out[(r-lo)*g.k : (r-lo+1)*g.k])
				fx = float64(out[(r-lo)*g.k+label])
			}
		}
	}
	e.Values = make([]float32, u)
	var sum float64
	for j, v := range acc {
		e.Values[j] = float32(v)
		sum += v
	}
	e.Output = fx
	e.Completeness = completeness(sum, fx, fb)
	e.Warnings = append(gradZeroWarning(e.Values), completenessWarning(e.Completeness, fx, fb, fmt.Sprintf("%d-step", steps))...)
	e.Timing.Total = time.Since(start)
	return e, nil
}

// NeuronAttribution is an attribution of one hidden unit to the input
// features (Neuron IG, Neuron Conductance), in the input's layout.
type NeuronAttribution struct {
	Attribution
	Layer string `json:"layer"`
	// Unit is the flat index of the explained unit in the layer's Shape.
	Unit  int `json:"unit"`
	Steps int `json:"steps"`
	// Completeness (Neuron IG only): Σ values against the unit's
	// activation at x minus at the baseline.
	Completeness *Completeness `json:"completeness,omitempty"`
}

// NeuronIntegratedGradients attributes the activation of one unit of a
// hidden layer to the input features (Captum's NeuronIntegratedGradients):
// integrated gradients of the unit's activation from the baseline to x.
// The attributions add up to its activation at x minus at the baseline.
func NeuronIntegratedGradients(ctx context.Context, la *LayerAccess, x, baseline []float32, unit int, opt IGOptions) (*NeuronAttribution, error) {
	start := time.Now()
	const what = "neuron integrated gradients"
	if err := checkNeuron(what, la, x, baseline, unit); err != nil {
		return nil, err
	}
	u := la.Units()
	unitFunc := func(ctx context.Context, x []float32, n, _ int) ([]float32, []float32, error) {
		act, grad, err := la.Neuron(ctx, x, n, unit)
		if err != nil {
			return nil, nil, err
		}
		if len(act) != n*u {
			return nil, nil, fmt.Errorf("layer %s returned %d activations for %d inputs; want %d×%d", la.Name, len(act), n, n, u)
		}
		out := make([]float32, n)
		for r := range out {
			out[r] = act[r*u+unit]
		}
		return out, grad, nil
	}
	e, err := IntegratedGradients(ctx, unitFunc, x, baseline, 0, opt)
	if err != nil {
		return nil, fmt.Errorf("%s: layer %s unit %d: %w", what, la.Name, unit, err)
	}
	e.Method = "neuron-integrated-gradients"
	e.Timing.Total = time.Since(start)
	c := e.Completeness
	return &NeuronAttribution{Attribution: e.Attribution, Layer: la.Name, Unit: unit, Steps: e.Steps, Completeness: &c}, nil
}

// NeuronConductance attributes model output label at x to the input
// features through one unit of a hidden layer (Dhamdhere et al. 2018,
// Captum's NeuronConductance): feature i gets (x_i − x'_i) ∫₀¹ ∂F/∂y ·
// ∂y/∂x_i dα along the straight path, y the unit's activation. It is the
// share of the unit's conductance that enters through each feature.
// opt.Method defaults to RiemannTrapezoid (Captum's default here).
func NeuronConductance(ctx context.Context, la *LayerAccess, x, baseline []float32, unit, label int, opt IGOptions) (*NeuronAttribution, error) {
	start := time.Now()
	const what = "neuron conductance"
	if err := checkNeuron(what, la, x, baseline, unit); err != nil {
		return nil, err
	}
	if label < 0 {
		return nil, fmt.Errorf("%s: label %d is negative; labels count outputs from 0", what, label)
	}
	if baseline == nil {
		baseline = make([]float32, len(x))
	}
	steps, method := opt.Steps, opt.Method
	if steps == 0 {
		steps = 50
	}
	if method == "" {
		method = RiemannTrapezoid
	}
	alphas, weights, err := gradQuadrature(method, steps)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	batch := opt.BatchSize
	if batch <= 0 {
		batch = 64
	}
	d, u := len(x), la.Units()
	e := &NeuronAttribution{Attribution: Attribution{Method: "neuron-conductance", Label: label}, Layer: la.Name, Unit: unit, Steps: steps}
	g := gradCaller{what: what, f: la.Onward, d: u, label: label, timing: &e.Timing}
	acc := make([]float64, d)
	buf := make([]float32, batch*d)
	for lo := 0; lo < steps; lo += batch {
		hi := min(lo+batch, steps)
		n := hi - lo
		for r := lo; r < hi; r++ {
			row := buf[(r-lo)*d : (r-lo+1)*d]
			for i := range row {
				row[i] = float32(float64(baseline[i]) + alphas[r]*(float64(x[i])-float64(baseline[i])))
			}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		act, ygrad, err := la.Neuron(ctx, buf[:n*d], n, unit)
		e.Timing.ModelCalls++
		if err != nil {
			return nil, fmt.Errorf("%s: layer %s unit %d: %w", what, la.Name, unit, err)
		}
		if len(act) != n*u || len(ygrad) != n*d {
			return nil, fmt.Errorf("%s: layer %s returned %d activations and %d gradients for %d inputs; want %d and %d", what, la.Name, len(act), len(ygrad), n, n*u, n*d)
		}
		if err := gradCheckFinite(what, "neuron gradient", ygrad); err != nil {
			return nil, err
		}
		_, fgrad, err := g.call(ctx, act, n, lo)
		if err != nil {
			return nil, err
		}
		for r := range n {
			s := weights[lo+r] * float64(fgrad[r*u+unit])
			for i, v := range ygrad[r*d : (r+1)*d] {
				acc[i] += s * float64(v)
			}
		}
	}
	e.Values = make([]float32, d)
	for i, v := range acc {
		e.Values[i] = float32(v * (float64(x[i]) - float64(baseline[i])))
	}
	// The model's outputs at x itself, for the record.
	ax, err := la.activations(ctx, what, x, 1)
	if err != nil {
		return nil, err
	}
	e.Timing.ModelCalls++
	out, _, err := g.call(ctx, ax, 1, steps)
	if err != nil {
		return nil, err
	}
	e.Outputs, e.Output = slices.Clone(out), float64(out[label])
	e.Warnings = gradZeroWarning(e.Values)
	e.Timing.Total = time.Since(start)
	return e, nil
}

func checkLayerInput(what string, la *LayerAccess, x, baseline []float32, label int) error {
	if la == nil || la.Activations == nil || la.Onward == nil {
		return fmt.Errorf("%s: no access to the layer (LayerAccess with Activations and Onward)", what)
	}
	if la.Units() < 1 {
		return fmt.Errorf("%s: layer %s has shape %v; it needs at least one unit", what, la.Name, la.Shape)
	}
	if err := gradCheckInput(what, x, label); err != nil {
		return err
	}
	if baseline != nil && len(baseline) != len(x) {
		return fmt.Errorf("%s: baseline has %d values, the input %d; they must have the same layout (nil means all zeros)", what, len(baseline), len(x))
	}
	if baseline != nil {
		return gradCheckFinite(what, "baseline", baseline)
	}
	return nil
}

func checkNeuron(what string, la *LayerAccess, x, baseline []float32, unit int) error {
	if err := checkLayerInput(what, la, x, baseline, 0); err != nil {
		return err
	}
	if la.Neuron == nil {
		return fmt.Errorf("%s: layer %s cannot be differentiated with respect to this model's input (token ids are not continuous); use layerig on the embedding layer instead", what, la.Name)
	}
	if unit < 0 || unit >= la.Units() {
		return fmt.Errorf("%s: unit %d out of range: layer %s has %d units (shape %v, flat index 0..%d)", what, unit, la.Name, la.Units(), la.Shape, la.Units()-1)
	}
	return nil
}

// completeness compares a sum of attributions with f(x) − f(baseline).
func completeness(sum, fx, fb float64) Completeness {
	c := Completeness{Sum: sum, Delta: fx - fb, BaselineOutput: fb}
	c.Residual = math.Abs(c.Sum - c.Delta)
	c.Relative = c.Residual / math.Max(math.Abs(c.Delta), 1e-9)
	return c
}

// completenessWarning says when attributions that should add up to
// f(x) − f(baseline) do not, or when there is nothing to share out.
func completenessWarning(c Completeness, fx, fb float64, rule string) []string {
	if math.Abs(c.Delta) < 1e-6*math.Max(1, math.Abs(fx)) {
		return []string{fmt.Sprintf("the model gives almost the same output at the input and at the baseline (%.4g vs %.4g): the attributions can only share out that difference, so they say little; choose another baseline", fx, fb)}
	}
	if c.Relative > 0.01 {
		return []string{fmt.Sprintf("the attributions add up to %.4g but f(x) − f(baseline) is %.4g (%.1f%% off): the %s path has not converged; raise the steps (--samples)", c.Sum, c.Delta, 100*c.Relative, rule)}
	}
	return nil
}

// counted returns a copy of la whose functions report each call to count
// (Run counts every evaluation of the model).
func (la *LayerAccess) counted(count func(n int)) *LayerAccess {
	c := *la
	if la.Activations != nil {
		c.Activations = func(ctx context.Context, x []float32, n int) ([]float32, error) {
			count(n)
			return la.Activations(ctx, x, n)
		}
	}
	if la.Onward != nil {
		c.Onward = func(ctx context.Context, x []float32, n, label int) ([]float32, []float32, error) {
			count(n)
			return la.Onward(ctx, x, n, label)
		}
	}
	if la.Neuron != nil {
		c.Neuron = func(ctx context.Context, x []float32, n, unit int) ([]float32, []float32, error) {
			count(n)
			return la.Neuron(ctx, x, n, unit)
		}
	}
	return &c
}
