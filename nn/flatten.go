package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
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
)

// NewFlatten returns a Flatten layer.
func NewFlatten() *Flatten { return &Flatten{} }

// Forward reshapes x: [batch, d1, d2, …] → [batch, d1·d2·…] (a view, no copy
// for contiguous inputs).
func (l *Flatten) Forward(c *Ctx, x *autograd.Var) *autograd.Var {
	s := x.Shape()
	if len(s) < 2 {
		panic(&tensor.ShapeError{Op: spatialOp("flatten", l.name),
			Msg: fmt.Sprintf("input must be [batch, features...] with at least 2 axes, got %v; add a batch axis", s)})
	}
	return c.Tape.Reshape(x, s[0], tensor.Numel(s[1:]))
}

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
