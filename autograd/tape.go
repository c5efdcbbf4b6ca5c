package autograd

import (
	"fmt"
	"math"

	"github.com/glassbox-ml/glassbox/tensor"
)

// Var is a value in a computation together with its gradient.
type Var struct {
	// Value is the forward result.
	Value *tensor.Tensor
	// Grad is dLoss/dValue after Backward, or nil when no gradient reached
	// this Var. For parameters it accumulates across Backward calls.
	Grad *tensor.Tensor
	// Name labels parameters ("conv1/weight") for checkpoints and hooks.
	Name string

	requiresGrad bool
	// fromInput says the value depends on an Input (not only on
	// parameters and constants): explanation rules (Rule) tell an
	// activation from a weight by it.
	fromInput bool
	backward  func(g *tensor.Tensor)
}

// Param returns a trainable leaf: gradients flow into it and accumulate
// until ZeroGrad.
func Param(t *tensor.Tensor, name string) *Var { return &Var{Value: t, Name: name, requiresGrad: true} }

// Input returns a leaf whose gradient is wanted (attributions w.r.t. the
// input of a model).
func Input(t *tensor.Tensor) *Var { return &Var{Value: t, requiresGrad: true, fromInput: true} }

// Const returns a leaf that never receives a gradient.
func Const(t *tensor.Tensor) *Var { return &Var{Value: t} }

// Freeze stops gradients from flowing into vs (parameters, typically)
// until the returned function is called, which restores each one: an
// explanation's gradient with respect to the input then skips every
// parameter gradient (a convolution's or dense layer's weight gradient
// costs as much as its input gradient) and leaves the parameters' Grad
// untouched. It changes the Vars themselves, so nothing else may use them
// for a gradient meanwhile (explain/adapt holds the model's lock).
func Freeze(vs []*Var) (thaw func()) {
	var frozen []*Var
	for _, v := range vs {
		if v != nil && v.requiresGrad {
			v.requiresGrad = false
			frozen = append(frozen, v)
		}
	}
	return func() {
		for _, v := range frozen {
			v.requiresGrad = true
		}
	}
}

// RequiresGrad reports whether gradients flow into v.
func (v *Var) RequiresGrad() bool { return v.requiresGrad }

// Shape is shorthand for v.Value.Shape().
func (v *Var) Shape() []int { return v.Value.Shape() }

// ZeroGrad drops the accumulated gradient.
func (v *Var) ZeroGrad() { v.Grad = nil }

// Detach returns a constant holding the same value, cut from the graph.
func (v *Var) Detach() *Var { return Const(v.Value) }

// Tape records operations for one forward/backward pass. The zero value is
// not ready: use NewTape. A nil *Tape records nothing.
type Tape struct {
	nodes    []*Var
	noGrad   bool
	backward bool
	// rule, when set, modifies the backward pass (see Rule); ruleErr is
	// the first operation a strict rule could not cover.
	rule    *Rule
	ruleErr error
	// leaves are the parents of recorded operations that are not
	// themselves recorded (parameters, inputs, constants): Release keeps
	// every buffer that shares memory with one of them.
	leaves []*Var
}

// NewTape returns an empty recording tape.
func NewTape() *Tape { return &Tape{} }

// NoGrad returns a tape that never records: operations run for their values
// only, which is faster and keeps no graph alive.
func NoGrad() *Tape { return &Tape{noGrad: true} }

// Recording reports whether operations on this tape are recorded.
func (tp *Tape) Recording() bool { return tp != nil && !tp.noGrad }

// Len returns the number of recorded operations.
func (tp *Tape) Len() int {
	if tp == nil {
		return 0
	}
	return len(tp.nodes)
}

// Reset forgets the recorded graph so the tape can serve the next step.
// Parameters keep their gradients.
func (tp *Tape) Reset() {
	if tp == nil {
		return
	}
	clear(tp.nodes)
	tp.nodes = tp.nodes[:0]
	clear(tp.leaves)
	tp.leaves = tp.leaves[:0]
	tp.ruleErr = nil
}

// Release is Reset that also hands the memory of every recorded
// operation's value and gradient back for reuse by the next step's
// tensors (tensor.Recycle), which spares the garbage collector and the OS
// the work of freeing and re-faulting them each step: a training loop's
// usual end of step. After it, no Value or Grad of a Var this tape
// recorded may be used, nor anything that shares their memory (a model's
// outputs included: copy what you keep, such as a metric's inputs, before
// it). Parameters, inputs and constants the operations read, and their
// gradients, are never handed back, nor is memory shared with them.
func (tp *Tape) Release() {
	if tp == nil {
		return
	}
	dead := make([]*tensor.Tensor, 0, 2*len(tp.nodes))
	for _, n := range tp.nodes {
		dead = append(dead, n.Value, n.Grad)
	}
	keep := make([]*tensor.Tensor, 0, 2*len(tp.leaves))
	for _, l := range tp.leaves {
		keep = append(keep, l.Value, l.Grad)
	}
	tensor.Recycle(dead, keep)
	tp.Reset()
}

// record wraps value as the output of an operation on parents. When any
// parent needs a gradient and the tape records, backward is stored to be
// called with the output's gradient during Backward.
func (tp *Tape) record(value *tensor.Tensor, backward func(g *tensor.Tensor), parents ...*Var) *Var {
	out := &Var{Value: value}
	if !tp.Recording() {
		return out
	}
	leaves := len(tp.leaves)
	for _, p := range parents {
		if p == nil {
			continue
		}
		if p.requiresGrad {
			out.requiresGrad = true
			out.fromInput = out.fromInput || p.fromInput
		}
		if p.backward == nil {
			tp.leaves = append(tp.leaves, p)
		}
	}
	if !out.requiresGrad {
		tp.leaves = tp.leaves[:leaves]
	}
	if out.requiresGrad {
		out.backward = backward
		tp.nodes = append(tp.nodes, out)
	}
	return out
}

// Backward computes the gradient of the scalar loss with respect to every
// Var recorded on the tape that leads to it, accumulating into the Grad of
// parameters and inputs. The tape is consumed: call Reset before reuse.
func (tp *Tape) Backward(loss *Var) error {
	if tp == nil || tp.noGrad {
		return fmt.Errorf("autograd: Backward on a tape that does not record (NoGrad or nil)")
	}
	if loss.Value.Len() != 1 {
		return fmt.Errorf("autograd: Backward needs a scalar loss, got shape %v (reduce it with Sum or Mean)", loss.Value.Shape())
	}
	if !loss.requiresGrad {
		return fmt.Errorf("autograd: the loss does not depend on any parameter or input that requires a gradient")
	}
	if v := loss.Value.Data()[0]; math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
		return fmt.Errorf("autograd: loss is %v; lower the learning rate or check the inputs for NaN", v)
	}
	accum(loss, tensor.Ones(loss.Value.Shape()...), true)
	for i := len(tp.nodes) - 1; i >= 0; i-- {
		n := tp.nodes[i]
		if n.Grad == nil || n.backward == nil {
			continue
		}
		n.backward(n.Grad)
		if tp.ruleErr != nil {
			return tp.ruleErr
		}
	}
	return nil
}

// accum adds g into v.Grad. owned says g is a fresh tensor nobody else
// holds, so it may become v.Grad without a copy.
func accum(v *Var, g *tensor.Tensor, owned bool) {
	if v == nil || !v.requiresGrad {
		return
	}
	if !tensor.SameShape(g.Shape(), v.Value.Shape()) {
		g = tensor.SumTo(g, v.Value.Shape())
		owned = true
	}
	if v.Grad == nil {
		if owned && g.IsContiguous() {
			v.Grad = g
		} else {
			v.Grad = g.Clone()
		}
		return
	}
	tensor.AddInPlace(v.Grad, g)
}
