package adapt

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// RuleGrad wraps m as an explain.RuleGradFunc for inputs of shape
// inputShape (one example, without the batch axis): like Grad, but the
// tape follows the rule's modified backward pass (autograd.Rule) through
// the layers' ReLU-type activations, max pooling and affine operations.
// The model's scores are explained: a final softmax layer of an
// nn.Sequential is left out. For DeepLIFT the n references run in the
// same batch after the inputs, so each nonlinearity sees its input and
// its reference input together. Operations a strict rule does not cover
// (a softmax inside the model, a product of activations, a recurrent
// layer) make it return an error naming them.
func RuleGrad(m nn.Module, inputShape []int) explain.RuleGradFunc {
	shape := slices.Clone(inputShape)
	return func(ctx context.Context, x []float32, n, label int, rule explain.BackwardRule, ref []float32) (out, grad []float32, err error) {
		what := "adapt: " + string(rule.Kind)
		d, err := checkBatch(what, m, shape, x, n)
		if err != nil {
			return nil, nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		ar, err := tapeRule(rule)
		if err != nil {
			return nil, nil, err
		}
		rows, batch := n, x[:n*d]
		if rule.Kind == explain.RuleRescale {
			if len(ref) != n*d {
				return nil, nil, fmt.Errorf("%s: %d reference values for %d inputs of %d values; DeepLIFT needs one reference per input", what, len(ref), n, d)
			}
			rows, batch = 2*n, append(slices.Clone(x[:n*d]), ref...)
		}
		body := withoutSoftmax(m)
		defer lockParams(m)()
		in := autograd.Input(tensor.MustFromSlice(batch, append([]int{rows}, shape...)...))
		var inner error
		if err := tensor.Catch(func() {
			c := nn.EvalGrad()
			c.Tape.SetRule(ar)
			y := flatRowsVar(c.Tape, body.Forward(c, in), rows)
			k := y.Value.Dim(1)
			if label < 0 || label >= k {
				inner = fmt.Errorf("%s: label %d out of range: the model returns %d outputs (labels 0..%d)", what, label, k, k-1)
				return
			}
			out = slices.Clone(y.Value.Data()[:rows*k])
			tp := c.Tape
			s := tp.Sum(tp.Slice(tp.Slice(y, 0, 0, n), 1, label, label+1), false)
			if s.RequiresGrad() {
				if err := tp.Backward(s); err != nil {
					inner = fmt.Errorf("%s: back-propagating output %d: %w", what, label, err)
				}
			}
		}); err != nil {
			return nil, nil, fmt.Errorf("%s: input shape %v: %w", what, shape, err)
		}
		if inner != nil {
			return nil, nil, inner
		}
		grad = make([]float32, n*d)
		if in.Grad != nil {
			copy(grad, in.Grad.Contiguous().Data()[:n*d])
		}
		if rule.Kind == explain.RuleLRP {
			// The backward pass carries relevance per unit of each value
			// (Ancona et al. 2018); the relevance is value × that.
			for i := range grad {
				grad[i] *= x[i]
			}
		}
		for i, v := range grad {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, nil, fmt.Errorf("%s: the modified gradient is %v at input value %d; the rule divided by a vanishing activation (raise LRP's epsilon)", what, v, i)
			}
		}
		return out, grad, nil
	}
}

// withoutSoftmax returns m without a final softmax layer (through nested
// Sequentials): the rules explain the scores before it.
func withoutSoftmax(m nn.Module) nn.Module {
	s, ok := m.(*nn.Sequential)
	if !ok || len(s.Layers) == 0 {
		return m
	}
	last := s.Layers[len(s.Layers)-1]
	if last.Spec().Type == "softmax" {
		return nn.NewSequential(s.Layers[:len(s.Layers)-1]...)
	}
	if inner := withoutSoftmax(last); inner != last {
		return nn.NewSequential(append(slices.Clone(s.Layers[:len(s.Layers)-1]), inner)...)
	}
	return m
}

// tapeRule turns an explanation rule into the tape's hooks.
func tapeRule(r explain.BackwardRule) (*autograd.Rule, error) {
	switch r.Kind {
	case explain.RuleGuided:
		return &autograd.Rule{Name: "guided backprop", Activation: func(kind string, _, _, g, grad *tensor.Tensor) *tensor.Tensor {
			if kind != "relu" {
				return grad
			}
			return positive(grad) // the ReLU's own mask, then only positive signals
		}}, nil
	case explain.RuleDeconv:
		return &autograd.Rule{Name: "deconvolution", Activation: func(kind string, _, _, g, grad *tensor.Tensor) *tensor.Tensor {
			if kind != "relu" {
				return grad
			}
			return positive(g) // the output's positive signals, whatever the input
		}}, nil
	case explain.RuleRescale:
		return &autograd.Rule{Name: "deeplift", Strict: true, Activation: rescaleActivation, MaxPool: rescaleMaxPool}, nil
	case explain.RuleLRP:
		for _, lr := range []explain.LRPRule{r.Dense, r.Conv} {
			if lr != explain.LRPEpsilon && lr != explain.LRPGamma && lr != explain.LRPZPlus {
				return nil, fmt.Errorf("adapt: lrp: unknown rule %q; use epsilon, gamma or zplus", lr)
			}
		}
		if r.Epsilon < 0 || r.Gamma < 0 || math.IsNaN(r.Epsilon) || math.IsNaN(r.Gamma) {
			return nil, fmt.Errorf("adapt: lrp: epsilon %v and gamma %v must be ≥ 0", r.Epsilon, r.Gamma)
		}
		// Relevance passes through activations that keep the sign and
		// vanish at 0 (Captum's and Zennit's choice); a sigmoid's y/x
		// blows up near 0, so the rule does not cover it.
		return &autograd.Rule{Name: "lrp", Strict: true, Activation: lrpActivation, Activations: []string{"relu", "leakyrelu", "tanh"},
			Linear: func(op *autograd.LinearOp, g *tensor.Tensor) *tensor.Tensor {
				rule := r.Dense
				if op.Kind == "conv2d" {
					rule = r.Conv
				}
				return lrpLinear(op, g, rule, r.Epsilon, r.Gamma)
			}}, nil
	}
	return nil, fmt.Errorf("adapt: unknown backward rule %q; use guided, deconv, rescale or lrp", r.Kind)
}

// positive returns max(t, 0) as a new tensor.
func positive(t *tensor.Tensor) *tensor.Tensor {
	out := t.Contiguous().Clone()
	d := out.Data()
	for i, v := range d {
		if v < 0 {
			d[i] = 0
		}
	}
	return out
}

// rescaleEps is the |Δx| below which the Rescale rule falls back on the
// derivative (the limit of Δy/Δx).
const rescaleEps = 1e-6

// rescaleActivation is DeepLIFT's Rescale rule on a batch whose second
// half holds the references of the first: the multiplier Δy/Δx replaces
// f'(x), and the references get no gradient of their own.
func rescaleActivation(_ string, x, y, g, grad *tensor.Tensor) *tensor.Tensor {
	xd, yd, gd, dd := x.Contiguous().Data(), y.Contiguous().Data(), g.Contiguous().Data(), grad.Contiguous().Data()
	out := tensor.New(x.Shape()...)
	od := out.Data()
	h := len(xd) / 2
	for i := range h {
		dx := float64(xd[i]) - float64(xd[i+h])
		if math.Abs(dx) > rescaleEps {
			od[i] = float32(float64(gd[i]) * (float64(yd[i]) - float64(yd[i+h])) / dx)
		} else {
			od[i] = dd[i]
		}
	}
	return out
}

// rescaleMaxPool is DeepLIFT's rule for max pooling (as Captum's): each
// window's Δy = max(x) − max(x_ref) is split as (m − y_ref) at the
// input's maximum and (y − m) at the reference's, m = max(y, y_ref), and
// divided by each position's Δx; the contributions (Δx × multiplier) of a
// window then add up to Δy exactly.
func rescaleMaxPool(x, y, g *tensor.Tensor, route func(*tensor.Tensor) *tensor.Tensor) *tensor.Tensor {
	yd, gd := y.Contiguous().Data(), g.Contiguous().Data()
	a := tensor.New(y.Shape()...)
	ad := a.Data()
	hy := len(yd) / 2
	for i := range hy {
		m := max(yd[i], yd[i+hy])
		ad[i] = gd[i] * (m - yd[i+hy])
		ad[i+hy] = gd[i] * (yd[i] - m)
	}
	cd := route(a).Contiguous().Data()
	plain := route(g).Contiguous().Data()
	xd := x.Contiguous().Data()
	out := tensor.New(x.Shape()...)
	od := out.Data()
	hx := len(xd) / 2
	for i := range hx {
		dx := float64(xd[i]) - float64(xd[i+hx])
		if math.Abs(dx) > rescaleEps {
			od[i] = float32((float64(cd[i]) + float64(cd[i+hx])) / dx)
		} else {
			od[i] = plain[i]
		}
	}
	return out
}

// lrpActivation passes relevance through an activation unchanged: with
// relevance R = value × G, G_x = G_y · y/x (for a ReLU, its gradient).
func lrpActivation(kind string, x, y, g, grad *tensor.Tensor) *tensor.Tensor {
	if kind == "relu" {
		return grad
	}
	xd, yd, gd := x.Contiguous().Data(), y.Contiguous().Data(), g.Contiguous().Data()
	out := tensor.New(x.Shape()...)
	od := out.Data()
	for i, v := range xd {
		if math.Abs(float64(v)) > 1e-12 {
			od[i] = gd[i] * yd[i] / v
		}
	}
	return out
}

// lrpLinear applies an LRP rule to an affine layer z = A(x; W) + b in the
// gradient form: given G_z (relevance R_z = z ⊙ G_z) it returns
// G_x = W'ᵀ(R_z / stab(z')), z' = A(x; W') + b', so that R_x = x ⊙ G_x is
// the rule's x ⊙ W'ᵀ(R_z / z').
func lrpLinear(op *autograd.LinearOp, g *tensor.Tensor, rule explain.LRPRule, eps, gamma float64) *tensor.Tensor {
	w, b := op.W, op.B
	switch rule {
	case explain.LRPGamma:
		w = addPositive(w, gamma)
		if b != nil {
			b = addPositive(b, gamma)
		}
	case explain.LRPZPlus:
		w = addPositive(w, -1) // W⁺
		b = nil
	}
	zp := op.Z
	if rule != explain.LRPEpsilon {
		zp = op.Forward(w, b)
	}
	zd, zpd, gd := op.Z.Contiguous().Data(), zp.Contiguous().Data(), g.Contiguous().Data()
	s := tensor.New(op.Z.Shape()...)
	sd := s.Data()
	for i, v := range zpd {
		den := float64(v)
		if den >= 0 {
			den += eps
		} else {
			den -= eps
		}
		if den != 0 {
			sd[i] = float32(float64(gd[i]) * float64(zd[i]) / den)
		}
	}
	return op.Backward(w, s)
}

// addPositive returns t + γ·max(t, 0); γ = −1 means max(t, 0) alone.
func addPositive(t *tensor.Tensor, gamma float64) *tensor.Tensor {
	out := t.Contiguous().Clone()
	d := out.Data()
	for i, v := range d {
		switch {
		case gamma < 0 && v < 0:
			d[i] = 0
		case gamma >= 0 && v > 0:
			d[i] = float32(float64(v) * (1 + gamma))
		}
	}
	return out
}
