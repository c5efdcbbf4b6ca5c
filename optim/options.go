package optim

import (
	"fmt"
	"math"
	"strings"

	"github.com/glassbox-ml/glassbox/autograd"
)

// Option sets a hyperparameter of an optimizer. Each constructor accepts
// the options that apply to it and returns an error naming any other.
type Option func(*config)

type config struct {
	momentum, weightDecay float64
	beta1, beta2, eps     float64
	alpha                 float64
	nesterov              bool
	set                   map[string]bool
}

func (c *config) mark(name string) {
	if c.set == nil {
		c.set = map[string]bool{}
	}
	c.set[name] = true
}

// Momentum sets the momentum factor μ in [0, 1) (SGD, RMSProp).
func Momentum(mu float64) Option {
	return func(c *config) { c.momentum = mu; c.mark("Momentum") }
}

// Nesterov switches SGD momentum to Nesterov's look-ahead form.
func Nesterov() Option { return func(c *config) { c.nesterov = true; c.mark("Nesterov") } }

// WeightDecay sets the weight-decay factor λ ≥ 0: L2 regularisation
// (λ·w added to the gradient) for SGD, Adam and RMSProp, decoupled decay
// (w ← w − lr·λ·w) for AdamW.
func WeightDecay(lambda float64) Option {
	return func(c *config) { c.weightDecay = lambda; c.mark("WeightDecay") }
}

// Betas sets Adam's moment decay rates β₁, β₂ in [0, 1) (default 0.9, 0.999).
func Betas(beta1, beta2 float64) Option {
	return func(c *config) { c.beta1, c.beta2 = beta1, beta2; c.mark("Betas") }
}

// Eps sets the term added to the denominator for numerical stability
// (default 1e-8) (Adam, AdamW, RMSProp).
func Eps(eps float64) Option { return func(c *config) { c.eps = eps; c.mark("Eps") } }

// Alpha sets RMSProp's smoothing constant in [0, 1) (default 0.99).
func Alpha(alpha float64) Option { return func(c *config) { c.alpha = alpha; c.mark("Alpha") } }

// build applies opts over defaults and rejects options that do not apply
// to kind, or values out of range.
func build(kind string, allowed []string, opts []Option) (config, error) {
	c := config{beta1: 0.9, beta2: 0.999, eps: 1e-8, alpha: 0.99}
	for _, o := range opts {
		o(&c)
	}
	for name := range c.set {
		ok := false
		for _, a := range allowed {
			ok = ok || a == name
		}
		if !ok {
			return c, fmt.Errorf("%s: option %s does not apply (it takes %s)", kind, name, strings.Join(allowed, ", "))
		}
	}
	in01 := func(name string, v float64) error {
		if !(v >= 0 && v < 1) {
			return fmt.Errorf("%s: %s is %v; it must be in [0, 1)", kind, name, v)
		}
		return nil
	}
	for _, e := range []error{in01("momentum", c.momentum), in01("beta1", c.beta1), in01("beta2", c.beta2), in01("alpha", c.alpha)} {
		if e != nil {
			return c, e
		}
	}
	if !(c.weightDecay >= 0) || math.IsInf(c.weightDecay, 0) {
		return c, fmt.Errorf("%s: weight decay is %v; it must be a finite number ≥ 0", kind, c.weightDecay)
	}
	if !(c.eps > 0) || math.IsInf(c.eps, 0) {
		return c, fmt.Errorf("%s: eps is %v; it must be a small positive number such as 1e-8", kind, c.eps)
	}
	if c.nesterov && c.momentum == 0 {
		return c, fmt.Errorf("%s: Nesterov needs a momentum > 0 (add optim.Momentum(0.9))", kind)
	}
	return c, nil
}

// New builds an optimizer by name, for command lines and config files:
// "sgd", "momentum" (SGD with momentum 0.9 unless Momentum is given),
// "nesterov" (likewise, Nesterov form), "adam", "adamw", "rmsprop".
func New(name string, params []*autograd.Var, lr float64, opts ...Option) (Optimizer, error) {
	switch strings.ToLower(name) {
	case "sgd":
		return NewSGD(params, lr, opts...)
	case "momentum":
		return NewSGD(params, lr, append([]Option{Momentum(0.9)}, opts...)...)
	case "nesterov":
		return NewSGD(params, lr, append([]Option{Momentum(0.9), Nesterov()}, opts...)...)
	case "adam":
		return NewAdam(params, lr, opts...)
	case "adamw":
		return NewAdamW(params, lr, opts...)
	case "rmsprop":
		return NewRMSProp(params, lr, opts...)
	}
	return nil, fmt.Errorf("optim: unknown optimizer %q (known: sgd, momentum, nesterov, adam, adamw, rmsprop)", name)
}
