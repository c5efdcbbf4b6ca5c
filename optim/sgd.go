package optim

import "github.com/glassbox-ml/glassbox/autograd"

// SGD is stochastic gradient descent, optionally with momentum (heavy-ball
// or Nesterov) and L2 weight decay, as in torch.optim.SGD (dampening 0):
//
//	g ← grad + λ·w
//	b ← μ·b + g                         (momentum buffer, starts at 0)
//	w ← w − lr·b                        (momentum)
//	w ← w − lr·(g + μ·b)                (Nesterov)
//	w ← w − lr·g                        (plain, μ = 0)
type SGD struct {
	base
	momentum, weightDecay float32
	nesterov              bool
}

var _ Optimizer = (*SGD)(nil)

// NewSGD returns SGD over params. Options: Momentum, Nesterov, WeightDecay.
func NewSGD(params []*autograd.Var, lr float64, opts ...Option) (*SGD, error) {
	c, err := build("sgd", []string{"Momentum", "Nesterov", "WeightDecay"}, opts)
	if err != nil {
		return nil, err
	}
	var slots []string
	if c.momentum > 0 {
		slots = []string{"momentum"}
	}
	b, err := newBase("sgd", params, lr, slots...)
	if err != nil {
		return nil, err
	}
	return &SGD{base: b, momentum: float32(c.momentum), weightDecay: float32(c.weightDecay), nesterov: c.nesterov}, nil
}

// Step applies one update.
func (o *SGD) Step() error {
	if err := o.checkFinite(); err != nil {
		return err
	}
	lr, mu, wd := float32(o.lr), o.momentum, o.weightDecay
	for i, p := range o.params {
		if p.Grad == nil {
			continue
		}
		w, g := p.Value.Data(), p.Grad.Data()
		g = g[:len(w)]
		switch {
		case mu == 0:
			for j := range w {
				w[j] -= lr * (g[j] + wd*w[j])
			}
		case o.nesterov:
			buf := o.slots[0].ts[i].Data()[:len(w)]
			for j := range w {
				gj := g[j] + wd*w[j]
				b := mu*buf[j] + gj
				buf[j] = b
				w[j] -= lr * (gj + mu*b)
			}
		default:
			buf := o.slots[0].ts[i].Data()[:len(w)]
			for j := range w {
				b := mu*buf[j] + g[j] + wd*w[j]
				buf[j] = b
				w[j] -= lr * b
			}
		}
		o.counts[i]++
	}
	o.steps++
	return nil
}
