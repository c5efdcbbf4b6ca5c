package autograd

import "github.com/glassbox-ml/glassbox/tensor"

// Custom is the hook through which layers outside this package (Linear,
// BatchNorm) record their own fused operations.
//
// Custom records an operation whose forward value the caller has already
// computed. backward receives the output gradient g and returns one
// gradient per parent, in order, each with the parent's shape (or a shape
// that broadcasts to it); a nil entry means "no gradient for this parent".
// backward is only called when some parent requires a gradient, and it may
// check parents[i].RequiresGrad() to skip work.
//
// The returned tensors are handed to the tape and may become a parent's
// Grad: they must be freshly allocated (returning g itself is allowed and
// is copied).
func (tp *Tape) Custom(value *tensor.Tensor, backward func(g *tensor.Tensor) []*tensor.Tensor, parents ...*Var) *Var {
	return tp.record(value, func(g *tensor.Tensor) {
		tp.unruled("custom (opaque)", parents...)
		grads := backward(g)
		for i, p := range parents {
			if i >= len(grads) || grads[i] == nil {
				continue
			}
			accum(p, grads[i], grads[i] != g)
		}
	}, parents...)
}
