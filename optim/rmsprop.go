package optim

import (
	"math"

	"github.com/glassbox-ml/glassbox/autograd"
)

// RMSProp divides each gradient by a running root-mean-square of recent
// gradients, as torch.optim.RMSprop (not centred):
//
//	g ← grad + λ·w
//	s ← α·s + (1−α)·g²
//	w ← w − lr·g/(√s + ε)               (μ = 0)
//	b ← μ·b + g/(√s + ε); w ← w − lr·b  (momentum μ)
type RMSProp struct {
	base
	alpha, eps, momentum, weightDecay float32
}

var _ Optimizer = (*RMSProp)(nil)

// NewRMSProp returns RMSProp over params. Options: Alpha (default 0.99),
// Eps (1e-8), Momentum, WeightDecay.
func NewRMSProp(params []*autograd.Var, lr float64, opts ...Option) (*RMSProp, error) {
	c, err := build("rmsprop", []string{"Alpha", "Eps", "Momentum", "WeightDecay"}, opts)
	if err != nil {
		return nil, err
	}
	slots := []string{"square_avg"}
	if c.momentum > 0 {
		slots = append(slots, "momentum")
	}
	b, err := newBase("rmsprop", params, lr, slots...)
	if err != nil {
		return nil, err
	}
	return &RMSProp{base: b, alpha: float32(c.alpha), eps: float32(c.eps), momentum: float32(c.momentum), weightDecay: float32(c.weightDecay)}, nil
}

// Step applies one update.
func (o *RMSProp) Step() error {
	if err := o.checkFinite(); err != nil {
		return err
	}
	lr, a, oa, eps, mu, wd := float32(o.lr), o.alpha, 1-o.alpha, o.eps, o.momentum, o.weightDecay
	for i, p := range o.params {
		if p.Grad == nil {
			continue
		}
		w, g := p.Value.Data(), p.Grad.Data()
		g = g[:len(w)]
		s := o.slots[0].ts[i].Data()[:len(w)]
		var buf []float32
		if mu > 0 {
			buf = o.slots[1].ts[i].Data()[:len(w)]
		}
		for j := range w {
			gj := g[j] + wd*w[j]
			sj := a*s[j] + oa*gj*gj
			s[j] = sj
			step := gj / (float32(math.Sqrt(float64(sj))) + eps)
			if buf != nil {
				step += mu * buf[j]
				buf[j] = step
			}
			w[j] -= lr * step
		}
		o.counts[i]++
	}
	o.steps++
	return nil
}
