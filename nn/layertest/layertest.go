package layertest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Option adjusts what Run checks.
type Option func(*config)

type config struct {
	input           func(rng *rand.Rand, shape []int) *tensor.Tensor
	inputGrad       bool
	differentiable  bool
	batchAxis       bool
	eps, rtol, atol float64
	maxChecks       int
}

// Input makes Run feed inputs drawn by gen instead of the default normal
// samples (for example integer token ids for an embedding, or positive
// values). gen must return a tensor of the given shape.
func Input(gen func(rng *rand.Rand, shape []int) *tensor.Tensor) Option {
	return func(c *config) { c.input = gen }
}

// NoInputGrad says the layer's input carries no gradient (token ids);
// gradients are still checked for every parameter.
func NoInputGrad() Option { return func(c *config) { c.inputGrad = false } }

// NotDifferentiable skips the gradient checks, for layers whose output is
// deliberately cut from the graph (the Perceptron's step).
func NotDifferentiable() Option { return func(c *config) { c.differentiable = false } }

// NoBatchAxis skips the check that a larger first axis gives a larger
// first output axis, for layers whose first axis is not a batch.
func NoBatchAxis() Option { return func(c *config) { c.batchAxis = false } }

// Tolerance sets the finite-difference step and the relative and absolute
// tolerances (defaults 1e-2, 2e-2, 2e-3, right for float32 layers).
func Tolerance(eps, rtol, atol float64) Option {
	return func(c *config) { c.eps, c.rtol, c.atol = eps, rtol, atol }
}

// MaxChecks limits how many elements of each tensor the finite
// differences visit (default 96; evenly spread when a tensor is larger).
func MaxChecks(n int) Option { return func(c *config) { c.maxChecks = n } }

// Run checks that a layer behaves like every glassbox layer must.
// newLayer builds a fresh layer from rng; inputShape is a small input
// shape including the batch axis. Each property is a subtest:
//
//   - shape: the output shape is the same in training and evaluation mode
//     and for different inputs of the same shape, and one more example in
//     the batch gives one more output row; outputs are finite.
//   - outputshape: for an nn.Shaper (every layer of package nn is one),
//     OutputShape agrees with Forward in evaluation mode on the given
//     shape, a larger batch and shapes one size off, one axis short and
//     one axis long: the same output shape where Forward runs, the same
//     error where it refuses the shape; it leaves its argument alone,
//     and nn.ActivationElements counts the layer. A layer that is not a
//     Shaper skips this check (loaders then cannot size its activations
//     before running it).
//   - names: parameters (and buffers) have non-empty, unique names, and for
//     nn.Named layers SetName("probe") prefixes them all with "probe/".
//   - gradients: in training and in evaluation mode, the gradients that
//     Backward computes for the input and for every parameter agree with
//     central finite differences (float64 accumulation) of a random
//     projection of the output. Stochastic layers get the same Ctx.RNG
//     seed on every evaluation, so dropout masks repeat. Piecewise
//     differentiable layers (ReLU, max pooling, whole CNNs) are checked
//     too: where a kink lies within the step the step shrinks, and at a
//     kink itself (a tie in a pooling window) the backward value must lie
//     between the one-sided derivatives. That holds where one non-smooth
//     operation kinks along the checked element; an element tied for the
//     maximum of several overlapping pooling windows is not checkable
//     this way, so feed such layers inputs without ties.
//   - spec: Spec → JSON → nn.Build gives a layer with the same Spec, the
//     same parameter and buffer names and shapes, and, with the weights
//     copied over, bit-identical outputs. nn.SpecElements counts exactly
//     the layer's parameter and buffer elements, and nn.BuildLimited (what
//     loading a model file uses) builds it within that limit: its type
//     must be registered with nn.RegisterSized and a correct Sizer.
//   - seed: the same seed gives bit-identical weights and outputs.
//   - eval: evaluation mode is deterministic and leaves buffers unchanged.
func Run(t *testing.T, newLayer func(rng *rand.Rand) nn.Module, inputShape []int, opts ...Option) {
	t.Helper()
	cfg := config{inputGrad: true, differentiable: true, batchAxis: true, eps: 1e-2, rtol: 2e-2, atol: 2e-3, maxChecks: 96}
	cfg.input = defaultInput
	for _, o := range opts {
		o(&cfg)
	}
	if len(inputShape) == 0 {
		t.Fatal("layertest: inputShape must include the batch axis")
	}
	for _, c := range checks(&cfg) {
		t.Run(c.name, func(t *testing.T) {
			if err := c.fn(newLayer, inputShape, &cfg); err != nil {
				t.Fatal(err)
			}
		})
	}
}

type check struct {
	name string
	fn   func(newLayer func(*rand.Rand) nn.Module, shape []int, cfg *config) error
}

func checks(cfg *config) []check {
	cs := []check{{"shape", checkShape}, {"outputshape", checkOutputShape}, {"names", checkNames}}
	if cfg.differentiable {
		cs = append(cs, check{"gradients", func(nl func(*rand.Rand) nn.Module, shape []int, cfg *config) error {
			if err := checkGradients(nl, shape, cfg, true); err != nil {
				return err
			}
			return checkGradients(nl, shape, cfg, false)
		}})
	}
	return append(cs, check{"spec", checkSpec}, check{"seed", checkSeed}, check{"eval", checkEval})
}

// defaultInput draws N(0, 1) samples moved out of (−0.05, 0.05), so the
// finite differences of kinked functions (ReLU at 0) do not straddle the
// kink.
func defaultInput(rng *rand.Rand, shape []int) *tensor.Tensor {
	x := tensor.RandN(rng, 0, 1, shape...)
	d := x.Data()
	for i, v := range d {
		switch {
		case v >= 0 && v < 0.05:
			d[i] = v + 0.05
		case v < 0 && v > -0.05:
			d[i] = v - 0.05
		}
	}
	return x
}

// ctxFor returns a fresh context; the RNG is reseeded every time so
// stochastic layers repeat their randomness.
func ctxFor(tp *autograd.Tape, training bool) *nn.Ctx {
	return &nn.Ctx{Tape: tp, Training: training, RNG: tensor.NewRNG(4242)}
}

// forward runs m and converts a shape panic into an error.
func forward(m nn.Module, c *nn.Ctx, x *autograd.Var) (*autograd.Var, error) {
	var y *autograd.Var
	if err := tensor.Catch(func() { y = m.Forward(c, x) }); err != nil {
		return nil, fmt.Errorf("Forward on input %v: %w", x.Shape(), err)
	}
	if y == nil {
		return nil, errors.New("Forward returned nil")
	}
	return y, nil
}

func buffers(m nn.Module) []*autograd.Var {
	if b, ok := m.(nn.Buffered); ok {
		return b.Buffers()
	}
	return nil
}

func checkShape(newLayer func(*rand.Rand) nn.Module, shape []int, cfg *config) error {
	rng := tensor.NewRNG(1)
	m := newLayer(tensor.NewRNG(2))
	x1 := cfg.input(rng, shape)
	if !tensor.SameShape(x1.Shape(), shape) {
		return fmt.Errorf("the Input generator returned shape %v, want %v", x1.Shape(), shape)
	}
	x2 := cfg.input(rng, shape)
	var ys [3]*autograd.Var
	var err error
	for i, run := range []struct {
		c *nn.Ctx
		x *tensor.Tensor
	}{{ctxFor(autograd.NewTape(), true), x1}, {ctxFor(autograd.NoGrad(), false), x1}, {nn.Eval(), x2}} {
		if ys[i], err = forward(m, run.c, autograd.Const(run.x)); err != nil {
			return err
		}
	}
	if !tensor.SameShape(ys[0].Shape(), ys[1].Shape()) || !tensor.SameShape(ys[1].Shape(), ys[2].Shape()) {
		return fmt.Errorf("output shapes differ: training %v, eval %v, second input %v", ys[0].Shape(), ys[1].Shape(), ys[2].Shape())
	}
	for _, y := range ys {
		for i, v := range y.Value.Data() {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("output element %d is %v", i, v)
			}
		}
	}
	if cfg.batchAxis {
		bigger := append([]int{shape[0] + 1}, shape[1:]...)
		yb, err := forward(m, nn.Eval(), autograd.Const(cfg.input(rng, bigger)))
		if err != nil {
			return err
		}
		ye := ys[1].Shape()
		want := append([]int{ye[0] + 1}, ye[1:]...)
		if !tensor.SameShape(yb.Shape(), want) {
			return fmt.Errorf("batch of %d gave output %v; batch of %d gave %v (want %v)", shape[0], ye, shape[0]+1, yb.Shape(), want)
		}
	}
	return nil
}

// checkOutputShape compares OutputShape with what Forward does on shape
// and on shapes around it.
func checkOutputShape(newLayer func(*rand.Rand) nn.Module, shape []int, cfg *config) error {
	m := newLayer(tensor.NewRNG(2))
	sh, ok := m.(nn.Shaper)
	if !ok {
		return nil
	}
	rng := tensor.NewRNG(12)
	for i, in := range shapesAround(shape) {
		arg := slices.Clone(in)
		got, serr := sh.OutputShape(arg)
		if !slices.Equal(arg, in) {
			return fmt.Errorf("OutputShape(%v) changed its argument to %v", in, arg)
		}
		if serr == nil && len(got) > 0 && len(arg) > 0 && &got[0] == &arg[0] {
			return fmt.Errorf("OutputShape(%v) returned its argument; it must return a new slice", in)
		}
		y, ferr := forwardAny(m, inputOf(cfg, rng, in))
		switch {
		case ferr == nil && serr != nil:
			return fmt.Errorf("OutputShape(%v) refuses the shape (%v), but Forward runs on it and gives %v", in, serr, y.Shape())
		case ferr != nil && serr == nil:
			if i == 0 {
				return ferr
			}
			return fmt.Errorf("OutputShape(%v) = %v, but Forward refuses the shape: %v", in, got, ferr)
		case ferr != nil && serr.Error() != ferr.Error():
			return fmt.Errorf("for input %v Forward reports %q, OutputShape %q (report the same error)", in, ferr, serr)
		case ferr == nil && !tensor.SameShape(got, y.Shape()):
			return fmt.Errorf("OutputShape(%v) = %v, but Forward gives %v", in, got, y.Shape())
		}
		if i == 0 {
			if serr != nil {
				return fmt.Errorf("OutputShape(%v): %v", in, serr)
			}
			peak, total, err := nn.ActivationElements(m, in)
			if err != nil {
				return fmt.Errorf("ActivationElements(%v): %v", in, err)
			}
			_, seq := m.(*nn.Sequential)
			if peak < int64(tensor.Numel(in)) || total < 0 || (!seq && peak < total) {
				return fmt.Errorf("ActivationElements(%v) = peak %d, total %d; the peak holds the input and, for one layer, the total", in, peak, total)
			}
		}
	}
	return nil
}

// shapesAround returns shape, shape with one more example, each axis one
// larger and (when it stays ≥ 1) one smaller, shape without its last axis
// and with one more axis of 2.
func shapesAround(shape []int) [][]int {
	out := [][]int{slices.Clone(shape)}
	for ax := range shape {
		for _, d := range []int{1, -1} {
			if v := shape[ax] + d; v >= 1 {
				s := slices.Clone(shape)
				s[ax] = v
				out = append(out, s)
			}
		}
	}
	return append(out, slices.Clone(shape[:len(shape)-1]), append(slices.Clone(shape), 2))
}

// inputOf draws an input of the given shape with cfg.input, or zeros when
// the generator does not serve that shape.
func inputOf(cfg *config, rng *rand.Rand, shape []int) (x *tensor.Tensor) {
	defer func() {
		if r := recover(); r != nil || x == nil || !tensor.SameShape(x.Shape(), shape) {
			x = tensor.New(shape...)
		}
	}()
	return cfg.input(rng, shape)
}

// forwardAny runs m in evaluation mode and returns Forward's shape error,
// or any other panic as an error.
func forwardAny(m nn.Module, x *tensor.Tensor) (y *autograd.Var, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("Forward on input %v panicked with %T: %v", x.Shape(), r, r)
		}
	}()
	if err := tensor.Catch(func() { y = m.Forward(nn.Eval(), autograd.Const(x)) }); err != nil {
		return nil, err
	}
	if y == nil {
		return nil, errors.New("Forward returned nil")
	}
	return y, nil
}

func checkNames(newLayer func(*rand.Rand) nn.Module, _ []int, _ *config) error {
	m := newLayer(tensor.NewRNG(2))
	all := func() []*autograd.Var { return append(append([]*autograd.Var(nil), m.Params()...), buffers(m)...) }
	seen := map[string]bool{}
	for _, p := range all() {
		if p.Name == "" {
			return fmt.Errorf("a tensor of shape %v has no name", p.Shape())
		}
		if seen[p.Name] {
			return fmt.Errorf("two tensors are named %q", p.Name)
		}
		seen[p.Name] = true
	}
	for _, p := range m.Params() {
		if !p.RequiresGrad() {
			return fmt.Errorf("parameter %q does not require a gradient (make it with autograd.Param)", p.Name)
		}
	}
	n, ok := m.(nn.Named)
	if !ok {
		return nil
	}
	n.SetName("probe")
	if n.LayerName() != "probe" {
		return fmt.Errorf("LayerName() = %q after SetName(\"probe\")", n.LayerName())
	}
	for _, p := range all() {
		if !strings.HasPrefix(p.Name, "probe/") {
			return fmt.Errorf("after SetName(\"probe\") a tensor is named %q, want the prefix \"probe/\"", p.Name)
		}
	}
	if m.Spec().Name != "probe" {
		return fmt.Errorf("Spec().Name = %q after SetName(\"probe\")", m.Spec().Name)
	}
	return nil
}

// target is one tensor whose gradient is checked.
type target struct {
	name  string
	value *tensor.Tensor
	grad  func() *tensor.Tensor
}

func checkGradients(newLayer func(*rand.Rand) nn.Module, shape []int, cfg *config, training bool) error {
	mode := "eval"
	if training {
		mode = "training"
	}
	m := newLayer(tensor.NewRNG(2))
	x := cfg.input(tensor.NewRNG(3), shape)
	var xv *autograd.Var
	if cfg.inputGrad {
		xv = autograd.Input(x.Clone())
	} else {
		xv = autograd.Const(x.Clone())
	}
	nn.ZeroGrad(m)
	tp := autograd.NewTape()
	y, err := forward(m, ctxFor(tp, training), xv)
	if err != nil {
		return err
	}
	r := tensor.RandU(tensor.NewRNG(5), -1, 1, y.Shape()...)
	var targets []target
	if cfg.inputGrad {
		targets = append(targets, target{"the input", x, func() *tensor.Tensor { return xv.Grad }})
	}
	for _, p := range m.Params() {
		targets = append(targets, target{p.Name, p.Value, func() *tensor.Tensor { return p.Grad }})
	}
	if len(targets) == 0 {
		return nil
	}
	loss := tp.Sum(tp.Mul(y, autograd.Const(r)), false)
	if err := tp.Backward(loss); err != nil {
		return fmt.Errorf("%s mode: Backward: %w", mode, err)
	}
	rd := r.Data()
	project := func() (float64, error) {
		out, err := forward(m, ctxFor(autograd.NoGrad(), training), autograd.Const(x))
		if err != nil {
			return 0, err
		}
		var s float64
		for i, v := range out.Value.Data() {
			s += float64(v) * float64(rd[i])
		}
		return s, nil
	}
	f0, err := project()
	if err != nil {
		return err
	}
	for _, tg := range targets {
		if !tg.value.IsContiguous() {
			return fmt.Errorf("%s is not contiguous; parameters must own contiguous storage", tg.name)
		}
		d := tg.value.Data()
		var g []float32
		if gt := tg.grad(); gt != nil {
			if !tensor.SameShape(gt.Shape(), tg.value.Shape()) {
				return fmt.Errorf("%s mode: gradient of %s has shape %v, value has %v", mode, tg.name, gt.Shape(), tg.value.Shape())
			}
			g = gt.Data()
		}
		for _, j := range indices(len(d), cfg.maxChecks) {
			var ana float64
			if g != nil {
				ana = float64(g[j])
			}
			if err := checkElement(d, j, ana, f0, project, cfg); err != nil {
				return fmt.Errorf("%s mode: gradient of %s (shape %v) element %d: %w", mode, tg.name, tg.value.Shape(), j, err)
			}
		}
	}
	return nil
}

// kinkRefinements is how many times checkElement shrinks the step (by 10
// each time) to step past a kink near the checked point.
const kinkRefinements = 2

// checkElement compares the backward value ana of element j of d with
// finite differences of project, whose value at the unperturbed point is
// f0. Layers built from ReLU, max pooling and the like are only piecewise
// differentiable; when the central difference disagrees and the one-sided
// differences disagree with each other too, a kink lies within the step,
// so the step shrinks. If the one-sided differences still disagree at the
// smallest step, the kink is at the point itself (a ReLU input of exactly
// 0, a tie in a max-pooling window), where any value between the two
// one-sided derivatives is a valid (sub)gradient, and ana must lie between
// them. Where the layer is smooth the check is the plain central one.
func checkElement(d []float32, j int, ana, f0 float64, project func() (float64, error), cfg *config) error {
	if math.IsNaN(ana) || math.IsInf(ana, 0) {
		return fmt.Errorf("backward %v", ana)
	}
	agree := func(a, b float64) bool {
		return math.Abs(a-b) <= cfg.atol+cfg.rtol*math.Max(math.Abs(a), math.Abs(b))
	}
	orig := d[j]
	defer func() { d[j] = orig }()
	eps := float32(cfg.eps)
	var central, fwd, bwd float64
	for level := 0; level <= kinkRefinements; level++ {
		hi, lo := orig+eps, orig-eps
		d[j] = hi
		up, err1 := project()
		d[j] = lo
		down, err2 := project()
		d[j] = orig
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		central = (up - down) / (float64(hi) - float64(lo))
		if agree(ana, central) {
			return nil
		}
		fwd, bwd = (up-f0)/(float64(hi)-float64(orig)), (f0-down)/(float64(orig)-float64(lo))
		if agree(fwd, bwd) {
			// Smooth around the point, and the gradient is wrong.
			return fmt.Errorf("backward %.6g, finite differences %.6g", ana, central)
		}
		eps /= 10
	}
	// A kink at the point: ana must be a subgradient.
	lo, hi := math.Min(fwd, bwd), math.Max(fwd, bwd)
	tol := cfg.atol + cfg.rtol*math.Max(math.Abs(lo), math.Abs(hi))
	if ana < lo-tol || ana > hi+tol {
		return fmt.Errorf("backward %.6g at a kink whose one-sided derivatives are %.6g (left) and %.6g (right); it must lie between them",
			ana, bwd, fwd)
	}
	return nil
}

// indices returns all of [0, n), or limit of them spread evenly.
func indices(n, limit int) []int {
	if limit <= 0 || n <= limit {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	out := make([]int, limit)
	for i := range out {
		out[i] = i * n / limit
	}
	out[limit-1] = n - 1
	return out
}

func checkSpec(newLayer func(*rand.Rand) nn.Module, shape []int, cfg *config) error {
	m := newLayer(tensor.NewRNG(2))
	if n, ok := m.(nn.Named); ok {
		n.SetName("layer1")
	}
	js, err := json.Marshal(m.Spec())
	if err != nil {
		return fmt.Errorf("Spec does not marshal: %w", err)
	}
	var s nn.Spec
	if err := json.Unmarshal(js, &s); err != nil {
		return err
	}
	b, err := nn.Build(s, tensor.NewRNG(77))
	if err != nil {
		return fmt.Errorf("Build(%s): %w", js, err)
	}
	js2, err := json.Marshal(b.Spec())
	if err != nil {
		return err
	}
	if string(js) != string(js2) {
		return fmt.Errorf("Spec changed in the round trip:\n  %s\n  %s", js, js2)
	}
	n, err := nn.SpecElements(s)
	if err != nil {
		return fmt.Errorf("SpecElements(%s): %w", js, err)
	}
	if have := elements(m); n != have {
		return fmt.Errorf("SpecElements(%s) = %d, but the layer holds %d parameter and buffer elements (fix the Sizer given to nn.RegisterSized)", js, n, have)
	}
	if _, err := nn.BuildLimited(s, tensor.NewRNG(77), n); err != nil {
		return fmt.Errorf("BuildLimited(%s) with the limit %d, its own size: %w", js, n, err)
	}
	copyVars := func(kind string, a, c []*autograd.Var) error {
		if len(a) != len(c) {
			return fmt.Errorf("%d %s, rebuilt layer has %d", len(a), kind, len(c))
		}
		for i := range a {
			if a[i].Name != c[i].Name || !tensor.SameShape(a[i].Shape(), c[i].Shape()) {
				return fmt.Errorf("%s %d: %q %v, rebuilt %q %v", kind, i, a[i].Name, a[i].Shape(), c[i].Name, c[i].Shape())
			}
			c[i].Value.CopyFrom(a[i].Value)
		}
		return nil
	}
	if err := copyVars("parameters", m.Params(), b.Params()); err != nil {
		return err
	}
	if err := copyVars("buffers", buffers(m), buffers(b)); err != nil {
		return err
	}
	x := cfg.input(tensor.NewRNG(9), shape)
	y1, err1 := forward(m, nn.Eval(), autograd.Const(x))
	y2, err2 := forward(b, nn.Eval(), autograd.Const(x))
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	if !bitEqual(y1.Value, y2.Value) {
		return errors.New("the rebuilt layer, with the same weights, computes a different output")
	}
	return nil
}

// elements counts m's parameter and buffer elements.
func elements(m nn.Module) int64 {
	var n int64
	for _, v := range append(m.Params(), buffers(m)...) {
		n += int64(v.Value.Len())
	}
	return n
}

func checkSeed(newLayer func(*rand.Rand) nn.Module, shape []int, cfg *config) error {
	a, b := newLayer(tensor.NewRNG(31)), newLayer(tensor.NewRNG(31))
	pa, pb := a.Params(), b.Params()
	if len(pa) != len(pb) {
		return fmt.Errorf("same seed, %d vs %d parameters", len(pa), len(pb))
	}
	for i := range pa {
		if !bitEqual(pa[i].Value, pb[i].Value) {
			return fmt.Errorf("same seed, different initial values of %s", pa[i].Name)
		}
	}
	x := cfg.input(tensor.NewRNG(10), shape)
	ya, err1 := forward(a, ctxFor(autograd.NewTape(), true), autograd.Const(x))
	yb, err2 := forward(b, ctxFor(autograd.NewTape(), true), autograd.Const(x))
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	if !bitEqual(ya.Value, yb.Value) {
		return errors.New("same seed and same Ctx.RNG seed, different training-mode outputs")
	}
	return nil
}

func checkEval(newLayer func(*rand.Rand) nn.Module, shape []int, cfg *config) error {
	m := newLayer(tensor.NewRNG(2))
	x := cfg.input(tensor.NewRNG(11), shape)
	// Move any running statistics away from their initial values first.
	if _, err := forward(m, ctxFor(autograd.NewTape(), true), autograd.Const(x)); err != nil {
		return err
	}
	var before []*tensor.Tensor
	for _, b := range buffers(m) {
		before = append(before, b.Value.Clone())
	}
	y1, err1 := forward(m, nn.Eval(), autograd.Const(x))
	y2, err2 := forward(m, &nn.Ctx{Tape: autograd.NewTape(), RNG: tensor.NewRNG(1)}, autograd.Const(x))
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	if !bitEqual(y1.Value, y2.Value) {
		return errors.New("two evaluation-mode forwards of the same input differ (is randomness used outside training?)")
	}
	for i, b := range buffers(m) {
		if !bitEqual(before[i], b.Value) {
			return fmt.Errorf("evaluation mode changed buffer %s", b.Name)
		}
	}
	return nil
}

func bitEqual(a, b *tensor.Tensor) bool {
	if !tensor.SameShape(a.Shape(), b.Shape()) {
		return false
	}
	x, y := a.Data(), b.Data()
	for i := range x {
		if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
			return false
		}
	}
	return true
}
