package autograd

import (
	"fmt"
	"math"

	"github.com/glassbox-ml/glassbox/tensor"
)

// GradCheck compares the gradients that Backward computes for f with
// central finite differences, for every element of every input.
//
// f maps the inputs (as Vars on the given tape) to any output; GradCheck
// reduces that output to a scalar with a fixed random projection
// L = Σ rᵢ·yᵢ, summed in float64, so every output element is checked. The
// finite differences perturb each input element by ±eps and take the
// difference quotient in float64. An element passes when
// |analytic − numeric| ≤ atol + rtol·max(|analytic|, |numeric|).
//
// It returns nil, or an error naming the first input and element that
// disagree. Every differentiable op and layer in glassbox is tested with it.
func GradCheck(f func(tp *Tape, xs []*Var) *Var, inputs []*tensor.Tensor, eps, rtol, atol float64) error {
	// Analytic gradients.
	tp := NewTape()
	vars := make([]*Var, len(inputs))
	for i, x := range inputs {
		vars[i] = Input(x.Clone())
	}
	y := f(tp, vars)
	rng := tensor.NewRNG(12345)
	r := tensor.RandU(rng, -1, 1, y.Value.Shape()...)
	loss := tp.Sum(tp.Mul(y, Const(r)), false)
	if err := tp.Backward(loss); err != nil {
		return err
	}
	project := func() float64 {
		ins := make([]*Var, len(inputs))
		for i, x := range inputs {
			ins[i] = Const(x)
		}
		out := f(NoGrad(), ins).Value.Data()
		rd := r.Data()
		var s float64
		for i, v := range out {
			s += float64(v) * float64(rd[i])
		}
		return s
	}
	for i, x := range inputs {
		var g []float32
		if vars[i].Grad != nil {
			g = vars[i].Grad.Data()
		}
		d := x.Data()
		if !x.IsContiguous() {
			return fmt.Errorf("gradcheck: input %d must be contiguous", i)
		}
		for j := range d {
			orig := d[j]
			d[j] = orig + float32(eps)
			up := project()
			d[j] = orig - float32(eps)
			down := project()
			d[j] = orig
			// The actual perturbation in float32 may differ from eps.
			h := float64(orig+float32(eps)) - float64(orig-float32(eps))
			num := (up - down) / h
			var ana float64
			if g != nil {
				ana = float64(g[j])
			}
			if math.Abs(ana-num) > atol+rtol*math.Max(math.Abs(ana), math.Abs(num)) || math.IsNaN(ana) {
				return fmt.Errorf("gradcheck: input %d (shape %v) element %d: analytic %.6g, numeric %.6g", i, x.Shape(), j, ana, num)
			}
		}
	}
	return nil
}
