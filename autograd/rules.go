package autograd

import (
	"fmt"
	"slices"

	"github.com/glassbox-ml/glassbox/tensor"
)

// Rule changes how back-propagation passes through some operations, for
// the attribution methods defined by a modified backward pass (guided
// backprop, deconvolution, DeepLIFT, LRP). A tape with a rule (SetRule)
// computes the same forward values; only the gradients its Backward sends
// to inputs change. Each hook receives what the operation saw in its
// forward pass and the gradient of its output, and returns the gradient
// for its input; a nil hook keeps the ordinary gradient. Gradients for
// parameters are not meaningful under a rule.
type Rule struct {
	// Name names the rule in errors ("deeplift", "lrp").
	Name string
	// Activation replaces the input gradient of an elementwise activation:
	// kind is "relu", "leakyrelu", "sigmoid", "tanh" or "gelu", x its
	// input, y its output, g the gradient of y and grad the ordinary
	// gradient of x (f'(x)·g), which the hook may return or overwrite.
	Activation func(kind string, x, y, g, grad *tensor.Tensor) *tensor.Tensor
	// Activations lists the kinds Activation covers (nil: all); a strict
	// rule fails on the others.
	Activations []string
	// MaxPool replaces max pooling's input gradient: x its input, y its
	// output, g the gradient of y; route sends a tensor shaped like y to
	// the positions of the maxima of each example's windows (the ordinary
	// gradient is route(g)).
	MaxPool func(x, y, g *tensor.Tensor, route func(*tensor.Tensor) *tensor.Tensor) *tensor.Tensor
	// Linear replaces the input gradient of an affine operation
	// z = A(x; W) + b: a 2-D convolution, a dense layer, or a product of
	// an activation with a constant matrix.
	Linear func(op *LinearOp, g *tensor.Tensor) *tensor.Tensor
	// Strict makes Backward fail when the gradient passes through a
	// nonlinear operation the rule has no hook for (a softmax, exp, a
	// product of two activations, a recurrent cell, an opaque custom
	// operation): for rules whose result would otherwise be silently
	// wrong (DeepLIFT, LRP). Without Strict such operations keep their
	// ordinary gradient, as guided backprop wants.
	Strict bool
}

// LinearOp is an affine operation z = A(x; W) + b as Rule.Linear sees it.
type LinearOp struct {
	// Kind is "conv2d", "dense" or "matmul".
	Kind string
	// X is the input, Z the output, W the weights and B the bias (nil
	// when there is none, or when the bias is added by a separate
	// operation).
	X, Z, W, B *tensor.Tensor
	// Forward evaluates the operation on X with weights w and bias b
	// (nil: none), e.g. with only the positive weights for LRP's z⁺ rule.
	Forward func(w, b *tensor.Tensor) *tensor.Tensor
	// Backward returns the input gradient of the operation with weights w
	// for the output gradient g.
	Backward func(w, g *tensor.Tensor) *tensor.Tensor
}

// SetRule makes the tape's Backward follow r (nil: ordinary gradients).
// Set it before the forward pass: some fused operations (a convolution
// with its ReLU) are recorded as their parts when a rule is set, so the
// rule sees each.
func (tp *Tape) SetRule(r *Rule) {
	if tp != nil {
		tp.rule = r
	}
}

// Rule returns the tape's rule, nil when it has none.
func (tp *Tape) Rule() *Rule {
	if tp == nil {
		return nil
	}
	return tp.rule
}

// unruled notes, under a strict rule, that the gradient passed through an
// operation on the input the rule does not cover; Backward then fails
// with it. Operations on parameters alone (a weight transposed) are not
// the rule's business.
func (tp *Tape) unruled(op string, parents ...*Var) {
	if tp.rule == nil || !tp.rule.Strict || tp.ruleErr != nil || !slices.ContainsFunc(parents, func(v *Var) bool { return v != nil && v.fromInput }) {
		return
	}
	tp.ruleErr = fmt.Errorf("autograd: %s: the model has a %s operation, which the %s rule does not cover (it handles ReLU-type activations, max pooling and affine layers); use a gradient method (saliency, integrated gradients) for this model", tp.rule.Name, op, tp.rule.Name)
}

// nonlinear2 reports whether a product-like operation of a and b is
// nonlinear in the input: both operands depend on it.
func nonlinear2(a, b *Var) bool {
	return a != nil && b != nil && a.fromInput && b.fromInput
}

// Affine records an operation, computed by the caller, that is affine in
// its parents that depend on the input (a dense layer, a batch
// normalisation in inference mode, an index map such as a pad or a
// gather, a selection by a constant mask): like Custom, but a strict rule
// accepts it. op describes a weighted layer for Rule.Linear, which then
// replaces the first parent's gradient (nil: the rule keeps the ordinary
// gradient).
func (tp *Tape) Affine(value *tensor.Tensor, op *LinearOp, backward func(g *tensor.Tensor) []*tensor.Tensor, parents ...*Var) *Var {
	return tp.record(value, func(g *tensor.Tensor) {
		grads := backward(g)
		if r := tp.rule; r != nil && r.Linear != nil && op != nil && len(parents) > 0 && parents[0].requiresGrad {
			grads[0] = r.Linear(op, g)
		}
		for i, p := range parents {
			if i >= len(grads) || grads[i] == nil {
				continue
			}
			accum(p, grads[i], grads[i] != g)
		}
	}, parents...)
}

// onInput stands for an operand on the input path, for operations whose
// backward runs only when the gradient reaches them that way (recurrent
// layers).
var onInput = &Var{fromInput: true}
