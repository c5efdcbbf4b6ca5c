package nn

import (
	"math"
	"math/rand/v2"

	"github.com/glassbox-ml/glassbox/autograd"
)

// Flatten keeps the batch axis and folds all the others into one, to feed
// convolutional feature maps to a dense layer.
//
//	x: [batch, d1, d2, …]; returns [batch, d1·d2·…]
type Flatten struct {
	name string
}

var (
	_ Module = (*Flatten)(nil)
	_ Named  = (*Flatten)(nil)
	_ Shaper = (*Flatten)(nil)
)

// NewFlatten returns a Flatten layer.
func NewFlatten() *Flatten { return &Flatten{} }

// Forward reshapes x: [batch, d1, d2, …] → [batch, d1·d2·…] (a view, no copy
// for contiguous inputs).
func (l *Flatten) Forward(c *Ctx, x *autograd.Var) *autograd.Var {
	out, err := l.OutputShape(x.Shape())
	if err != nil {
		panic(err)
	}
	return c.Tape.Reshape(x, out...)
}

// OutputShape is [batch, d1·d2·…] for an input [batch, d1, d2, …].
func (l *Flatten) OutputShape(in []int) ([]int, error) {
	if len(in) < 2 {
		return nil, shapeErr(spatialOp("flatten", l.name),
			"input must be [batch, features...] with at least 2 axes, got %v; add a batch axis", in)
	}
	n := Elements(in[1:]...)
	if n >= math.MaxInt {
		return nil, shapeErr(spatialOp("flatten", l.name), "input %v has too many features to fold into one axis", in)
	}
	return []int{in[0], int(n)}, nil
}

// allocates is nothing: the output is a view of the (contiguous) input.
func (l *Flatten) allocates(_, _ []int) int64 { return 0 }

// Params returns nothing.
func (l *Flatten) Params() []*autograd.Var { return nil }

// Spec describes the layer for saving.
func (l *Flatten) Spec() Spec { return MakeSpec("flatten", l.name, nil) }

// LayerName returns the layer's name.
func (l *Flatten) LayerName() string { return l.name }

// SetName names the layer.
func (l *Flatten) SetName(name string) { l.name = name }

func init() {
	RegisterSized("flatten", func(s Spec, _ *rand.Rand) (Module, error) { return &Flatten{name: s.Name}, nil }, noElements)
}
