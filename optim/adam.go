package optim

import (
	"math"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Adam is the Adam optimizer (Kingma & Ba) with optional L2 weight decay,
// as torch.optim.Adam:
//
//	g ← grad + λ·w
//	m ← β₁·m + (1−β₁)·g
//	v ← β₂·v + (1−β₂)·g²
//	w ← w − (lr/(1−β₁ᵗ)) · m / (√v/√(1−β₂ᵗ) + ε)
//
// where t counts this parameter's updates. AdamW (NewAdamW) decays the
// weights directly instead of through the gradient.
type Adam struct {
	base
	beta1, beta2, eps, weightDecay float64
	decoupled                      bool
}

var _ Optimizer = (*Adam)(nil)

// NewAdam returns Adam over params. Options: Betas, Eps, WeightDecay (L2,
// added to the gradient, so it is scaled by Adam's per-weight step size).
func NewAdam(params []*autograd.Var, lr float64, opts ...Option) (*Adam, error) {
	return newAdam("adam", params, lr, false, opts)
}

// NewAdamW returns AdamW (Loshchilov & Hutter): Adam whose weight decay is
// decoupled from the gradient, w ← w·(1 − lr·λ) before the Adam update, so
// every weight decays at the same rate whatever its gradient history.
// Options: Betas, Eps, WeightDecay (PyTorch's default is 0.01; here the
// default is 0 unless given).
func NewAdamW(params []*autograd.Var, lr float64, opts ...Option) (*Adam, error) {
	return newAdam("adamw", params, lr, true, opts)
}

func newAdam(kind string, params []*autograd.Var, lr float64, decoupled bool, opts []Option) (*Adam, error) {
	c, err := build(kind, []string{"Betas", "Eps", "WeightDecay"}, opts)
	if err != nil {
		return nil, err
	}
	b, err := newBase(kind, params, lr, "m", "v")
	if err != nil {
		return nil, err
	}
	return &Adam{base: b, beta1: c.beta1, beta2: c.beta2, eps: c.eps, weightDecay: c.weightDecay, decoupled: decoupled}, nil
}

// Step applies one update.
func (o *Adam) Step() error {
	if err := o.checkFinite(); err != nil {
		return err
	}
	b1, b2 := float32(o.beta1), float32(o.beta2)
	eps := float32(o.eps)
	for i, p := range o.params {
		if p.Grad == nil {
			continue
		}
		o.counts[i]++
		t := float64(o.counts[i])
		bc1 := 1 - math.Pow(o.beta1, t)
		bc2 := 1 - math.Pow(o.beta2, t)
		stepSize := float32(o.lr / bc1)
		invSqrtBC2 := float32(1 / math.Sqrt(bc2))
		w, g := p.Value.Data(), p.Grad.Data()
		g = g[:len(w)]
		m := o.slots[0].ts[i].Data()[:len(w)]
		v := o.slots[1].ts[i].Data()[:len(w)]
		var l2 float32
		if o.decoupled {
			if o.weightDecay != 0 {
				decay := float32(1 - o.lr*o.weightDecay)
				for j := range w {
					w[j] *= decay
				}
			}
		} else {
			l2 = float32(o.weightDecay)
		}
		tensor.AdamUpdate(w, g, m, v, b1, b2, l2, stepSize, invSqrtBC2, eps)
	}
	o.steps++
	return nil
}
