package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/glassbox-ml/glassbox/autograd"
)

// Activation layers: elementwise non-linearities (and Softmax) as modules
// without parameters, so they can sit in a Sequential and be saved.
// Each keeps its input's shape: x: [batch, …]; returns [batch, …].

// actName gives an activation its name; it has no parameters.
type actName struct{ name string }

// LayerName returns the layer's name ("" until named).
func (a *actName) LayerName() string { return a.name }

// SetName names the layer.
func (a *actName) SetName(name string) { a.name = name }

// Params returns nothing: activations have no parameters.
func (a *actName) Params() []*autograd.Var { return nil }

// ReLU is max(x, 0), the default hidden activation of deep nets.
type ReLU struct{ actName }

// Sigmoid is 1/(1+e^−x), squashing to (0, 1).
type Sigmoid struct{ actName }

// Tanh is the hyperbolic tangent, squashing to (−1, 1).
type Tanh struct{ actName }

// GELU is x·Φ(x) (exact erf form), the smooth ReLU of transformers.
type GELU struct{ actName }

// LeakyReLU is x where x > 0 and Slope·x elsewhere, so negative inputs
// still pass a gradient.
type LeakyReLU struct {
	actName
	Slope float32
}

// Softmax turns the last axis into probabilities that sum to 1. For
// training a classifier, feed logits to loss.CrossEntropy instead (it
// fuses the softmax and is numerically safer); use this layer to output
// probabilities.
type Softmax struct{ actName }

var (
	_ Module = (*ReLU)(nil)
	_ Module = (*Sigmoid)(nil)
	_ Module = (*Tanh)(nil)
	_ Module = (*GELU)(nil)
	_ Module = (*LeakyReLU)(nil)
	_ Module = (*Softmax)(nil)
	_ Named  = (*ReLU)(nil)
	_ Named  = (*LeakyReLU)(nil)
	_ Named  = (*Softmax)(nil)
	_ Shaper = (*ReLU)(nil)
	_ Shaper = (*Sigmoid)(nil)
	_ Shaper = (*Tanh)(nil)
	_ Shaper = (*GELU)(nil)
	_ Shaper = (*LeakyReLU)(nil)
	_ Shaper = (*Softmax)(nil)
)

// NewReLU returns a ReLU layer.
func NewReLU() *ReLU { return &ReLU{} }

// NewSigmoid returns a Sigmoid layer.
func NewSigmoid() *Sigmoid { return &Sigmoid{} }

// NewTanh returns a Tanh layer.
func NewTanh() *Tanh { return &Tanh{} }

// NewGELU returns a GELU layer.
func NewGELU() *GELU { return &GELU{} }

// NewLeakyReLU returns a LeakyReLU with the given negative slope (0.01 is
// usual).
func NewLeakyReLU(slope float32) *LeakyReLU { return &LeakyReLU{Slope: slope} }

// NewSoftmax returns a Softmax over the last axis.
func NewSoftmax() *Softmax { return &Softmax{} }

// Forward applies max(x, 0).
func (l *ReLU) Forward(c *Ctx, x *autograd.Var) *autograd.Var { return c.Tape.ReLU(x) }

// Forward applies the logistic sigmoid.
func (l *Sigmoid) Forward(c *Ctx, x *autograd.Var) *autograd.Var { return c.Tape.Sigmoid(x) }

// Forward applies tanh.
func (l *Tanh) Forward(c *Ctx, x *autograd.Var) *autograd.Var { return c.Tape.Tanh(x) }

// Forward applies GELU.
func (l *GELU) Forward(c *Ctx, x *autograd.Var) *autograd.Var { return c.Tape.GELU(x) }

// Forward applies the leaky ReLU.
func (l *LeakyReLU) Forward(c *Ctx, x *autograd.Var) *autograd.Var {
	return c.Tape.LeakyReLU(x, l.Slope)
}

// Forward normalises the last axis: x [batch, …, k] → same shape, rows
// summing to 1.
func (l *Softmax) Forward(c *Ctx, x *autograd.Var) *autograd.Var {
	if _, err := l.OutputShape(x.Shape()); err != nil {
		panic(err)
	}
	return c.Tape.Softmax(x, -1)
}

// OutputShape is the input's shape (elementwise layers keep it).
func (l *ReLU) OutputShape(in []int) ([]int, error) { return sameShape(in), nil }

// OutputShape is the input's shape.
func (l *Sigmoid) OutputShape(in []int) ([]int, error) { return sameShape(in), nil }

// OutputShape is the input's shape.
func (l *Tanh) OutputShape(in []int) ([]int, error) { return sameShape(in), nil }

// OutputShape is the input's shape.
func (l *GELU) OutputShape(in []int) ([]int, error) { return sameShape(in), nil }

// OutputShape is the input's shape.
func (l *LeakyReLU) OutputShape(in []int) ([]int, error) { return sameShape(in), nil }

// OutputShape is the input's shape, which must have an axis to normalise.
func (l *Softmax) OutputShape(in []int) ([]int, error) {
	if len(in) == 0 {
		return nil, shapeErr(layerOpName("softmax", l.name), "input is a scalar; softmax needs an axis to normalise")
	}
	return sameShape(in), nil
}

// Spec describes the layer for saving.
func (l *ReLU) Spec() Spec { return MakeSpec("relu", l.name, nil) }

// Spec describes the layer for saving.
func (l *Sigmoid) Spec() Spec { return MakeSpec("sigmoid", l.name, nil) }

// Spec describes the layer for saving.
func (l *Tanh) Spec() Spec { return MakeSpec("tanh", l.name, nil) }

// Spec describes the layer for saving.
func (l *GELU) Spec() Spec { return MakeSpec("gelu", l.name, nil) }

// Spec describes the layer for saving.
func (l *Softmax) Spec() Spec { return MakeSpec("softmax", l.name, nil) }

type leakyArgs struct {
	Slope float32 `json:"slope"`
}

// Spec describes the layer for saving.
func (l *LeakyReLU) Spec() Spec {
	return MakeSpec("leaky_relu", l.name, leakyArgs{Slope: l.Slope})
}

func init() {
	simple := map[string]func(name string) Module{
		"relu":    func(n string) Module { return &ReLU{actName{n}} },
		"sigmoid": func(n string) Module { return &Sigmoid{actName{n}} },
		"tanh":    func(n string) Module { return &Tanh{actName{n}} },
		"gelu":    func(n string) Module { return &GELU{actName{n}} },
		"softmax": func(n string) Module { return &Softmax{actName{n}} },
	}
	for typ, mk := range simple {
		RegisterSized(typ, func(s Spec, _ *rand.Rand) (Module, error) { return mk(s.Name), nil }, noElements)
	}
	RegisterSized("leaky_relu", func(s Spec, _ *rand.Rand) (Module, error) {
		a, err := leakySpecArgs(s)
		if err != nil {
			return nil, err
		}
		return &LeakyReLU{actName: actName{s.Name}, Slope: a.Slope}, nil
	}, func(s Spec) (int64, error) {
		_, err := leakySpecArgs(s)
		return 0, err
	})
}

// leakySpecArgs decodes and validates the args of a "leaky_relu" Spec.
func leakySpecArgs(s Spec) (leakyArgs, error) {
	a := leakyArgs{Slope: 0.01}
	if err := s.UnmarshalArgs(&a); err != nil {
		return a, err
	}
	if a.Slope != a.Slope {
		return a, fmt.Errorf("nn: leaky_relu %q: slope is NaN", s.Name)
	}
	return a, nil
}
