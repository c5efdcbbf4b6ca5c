package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Perceptron is Rosenblatt's perceptron: a weighted sum of the inputs plus
// a bias, passed through the step activation (1 where the sum is > 0,
// else 0). With several outputs it is that many independent perceptrons
// over the same inputs.
//
//	x: [batch, in]; returns [batch, out] of 0s and 1s
//
// The step has zero derivative wherever it is defined, so gradient
// descent cannot train it: Forward's output is cut from the graph, and
// the layer learns with PerceptronRule, the classic error-driven update.
// Score gives the differentiable weighted sum for analysis. A perceptron
// can only separate classes with a hyperplane: it learns AND and OR, and
// never XOR (see the package tests). Parameters are named "NAME/weight"
// ([in, out]) and "NAME/bias" ([out]).
type Perceptron struct {
	Weight *autograd.Var
	Bias   *autograd.Var

	In, Out int

	name string
}

var (
	_ Module = (*Perceptron)(nil)
	_ Named  = (*Perceptron)(nil)
	_ Shaper = (*Perceptron)(nil)
)

type perceptronArgs struct {
	In  int `json:"in"`
	Out int `json:"out"`
}

// NewPerceptron returns out perceptrons over in inputs with small random
// weights U(−0.1, 0.1) from rng and zero bias. Sizes outside [1, MaxDim]
// panic with a *tensor.ShapeError; Build returns them as errors.
func NewPerceptron(in, out int, rng *rand.Rand) *Perceptron {
	p, err := newPerceptron(perceptronArgs{In: in, Out: out}, rng)
	if err != nil {
		panic(&tensor.ShapeError{Op: "perceptron", Msg: err.Error()})
	}
	return p
}

func (a perceptronArgs) validate() error {
	if !dimsOK(a.In, a.Out) {
		return fmt.Errorf("sizes in=%d out=%d must be between 1 and MaxDim = %d", a.In, a.Out, MaxDim)
	}
	return nil
}

func newPerceptron(a perceptronArgs, rng *rand.Rand) (*Perceptron, error) {
	if err := a.validate(); err != nil {
		return nil, err
	}
	return &Perceptron{
		Weight: autograd.Param(tensor.RandU(rng, -0.1, 0.1, a.In, a.Out), "weight"),
		Bias:   autograd.Param(tensor.New(a.Out), "bias"),
		In:     a.In, Out: a.Out,
	}, nil
}

// Score returns the weighted sums x·W + b before the step (differentiable).
func (p *Perceptron) Score(c *Ctx, x *autograd.Var) *autograd.Var {
	return affineForward(c.Tape, layerOpName("perceptron", p.name), x, p.Weight, p.Bias)
}

// Forward returns step(x·W + b), a constant on the tape (see the type's
// comment): x [batch, in] → [batch, out].
func (p *Perceptron) Forward(c *Ctx, x *autograd.Var) *autograd.Var {
	if _, err := p.OutputShape(x.Shape()); err != nil {
		panic(err)
	}
	return autograd.Const(tensor.Step(p.Score(&Ctx{Tape: autograd.NoGrad()}, x).Value))
}

// OutputShape is [batch, out] for an input [batch, in].
func (p *Perceptron) OutputShape(in []int) ([]int, error) {
	if len(in) != 2 || in[1] != p.In {
		return nil, shapeErr(layerOpName("perceptron", p.name), "input must be [batch, %d], got %v", p.In, in)
	}
	return []int{in[0], p.Out}, nil
}

// allocates counts the weighted sums, the step's output and the packed
// weights of the product.
func (p *Perceptron) allocates(_, out []int) int64 {
	return satAdd(satMul(2, Elements(out...)), gemmOperand(p.In, p.Out))
}

// PerceptronHistory records a run of the perceptron rule.
type PerceptronHistory struct {
	// Mistakes holds the number of misclassified (example, output) pairs
	// in each epoch; its length is the number of epochs run.
	Mistakes []int
	// Converged is true when the last epoch made no mistake: every
	// training example is classified correctly.
	Converged bool
}

// PerceptronRule trains the perceptron with Rosenblatt's rule: for each
// example in order, predict ŷ = step(x·w + b) and, for each output with
// target y, update
//
//	w ← w + lr·(y − ŷ)·x,   b ← b + lr·(y − ŷ)
//
// so weights only move on mistakes. It runs epochs until one passes with
// no mistake or maxEpochs have run. On linearly separable data the rule
// provably converges; on XOR it never does.
//
// x: [n, in]; y: [n, out] (or [n] when out is 1) of 0s and 1s. Shapes or
// labels that do not fit return an error naming them.
func (p *Perceptron) PerceptronRule(x, y *tensor.Tensor, lr float32, maxEpochs int) (PerceptronHistory, error) {
	var h PerceptronHistory
	xs, ys := x.Shape(), y.Shape()
	if len(xs) != 2 || xs[1] != p.In {
		return h, fmt.Errorf("perceptron rule: inputs must be [examples, %d], got %v", p.In, xs)
	}
	n := xs[0]
	if !(len(ys) == 2 && ys[0] == n && ys[1] == p.Out) && !(len(ys) == 1 && ys[0] == n && p.Out == 1) {
		return h, fmt.Errorf("perceptron rule: targets must be [%d, %d] for %d examples and %d outputs, got %v", n, p.Out, n, p.Out, ys)
	}
	yd := y.Data()
	for i, v := range yd {
		if v != 0 && v != 1 {
			return h, fmt.Errorf("perceptron rule: target %d is %v; perceptron targets are 0 or 1", i, v)
		}
	}
	if !(lr > 0) {
		return h, fmt.Errorf("perceptron rule: learning rate %v must be > 0", lr)
	}
	if maxEpochs < 1 {
		return h, fmt.Errorf("perceptron rule: maxEpochs %d must be ≥ 1", maxEpochs)
	}
	xd := x.Data()
	w, b := p.Weight.Value.Data(), p.Bias.Value.Data()
	in, out := p.In, p.Out
	for epoch := 0; epoch < maxEpochs; epoch++ {
		mistakes := 0
		for i := 0; i < n; i++ {
			xi := xd[i*in : (i+1)*in]
			for j := 0; j < out; j++ {
				s := b[j]
				for k, v := range xi {
					s += v * w[k*out+j]
				}
				var pred float32
				if s > 0 {
					pred = 1
				}
				e := yd[i*out+j] - pred
				if e == 0 {
					continue
				}
				mistakes++
				for k, v := range xi {
					w[k*out+j] += lr * e * v
				}
				b[j] += lr * e
			}
		}
		h.Mistakes = append(h.Mistakes, mistakes)
		if mistakes == 0 {
			h.Converged = true
			break
		}
	}
	return h, nil
}

// Params returns the weight and the bias.
func (p *Perceptron) Params() []*autograd.Var { return []*autograd.Var{p.Weight, p.Bias} }

// Spec describes the layer for saving; Build rebuilds it.
func (p *Perceptron) Spec() Spec {
	return MakeSpec("perceptron", p.name, perceptronArgs{In: p.In, Out: p.Out})
}

// LayerName returns the layer's name ("" until named).
func (p *Perceptron) LayerName() string { return p.name }

// SetName names the layer and its parameters.
func (p *Perceptron) SetName(name string) {
	p.name = name
	p.Weight.Name = layerParamName(name, "weight")
	p.Bias.Name = layerParamName(name, "bias")
}

// perceptronSpecArgs decodes and validates the args of a "perceptron" Spec.
func perceptronSpecArgs(s Spec) (perceptronArgs, error) {
	var a perceptronArgs
	if err := s.UnmarshalArgs(&a); err != nil {
		return a, err
	}
	if err := a.validate(); err != nil {
		return a, fmt.Errorf("nn: perceptron %q: %v", s.Name, err)
	}
	return a, nil
}

func init() {
	RegisterSized("perceptron", func(s Spec, rng *rand.Rand) (Module, error) {
		a, err := perceptronSpecArgs(s)
		if err != nil {
			return nil, err
		}
		p, err := newPerceptron(a, rng)
		if err != nil {
			return nil, fmt.Errorf("nn: perceptron %q: %v", s.Name, err)
		}
		p.SetName(s.Name)
		return p, nil
	}, func(s Spec) (int64, error) {
		a, err := perceptronSpecArgs(s)
		return Elements(a.In+1, a.Out), err // weight [in, out] and bias [out]
	})
}
