package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Dropout zeroes each element with probability P during training and
// scales the survivors by 1/(1−P) (inverted dropout), so the expected
// activation is unchanged and evaluation needs no rescaling: in
// evaluation mode it is the identity.
//
//	x: [batch, …]; returns the same shape
//
// The mask is drawn from Ctx.RNG, so a seeded training run drops the same
// units every time.
type Dropout struct {
	P float64

	name string
}

var (
	_ Module = (*Dropout)(nil)
	_ Named  = (*Dropout)(nil)
	_ Shaper = (*Dropout)(nil)
)

type dropoutArgs struct {
	P float64 `json:"p"`
}

func checkDropoutP(p float64) error {
	if !(p >= 0 && p < 1) {
		return fmt.Errorf("drop probability %v must be in [0, 1)", p)
	}
	return nil
}

// NewDropout returns a Dropout layer dropping with probability p in
// [0, 1); another p panics with a *tensor.ShapeError (Build returns an
// error).
func NewDropout(p float64) *Dropout {
	if err := checkDropoutP(p); err != nil {
		panic(&tensor.ShapeError{Op: "dropout", Msg: err.Error()})
	}
	return &Dropout{P: p}
}

// Forward applies the random mask in training mode and is the identity
// otherwise. Training without Ctx.RNG panics with a *tensor.ShapeError
// telling to build the context with nn.Train(rng).
func (l *Dropout) Forward(c *Ctx, x *autograd.Var) *autograd.Var {
	if !c.Training || l.P == 0 {
		return x
	}
	if c.RNG == nil {
		panic(&tensor.ShapeError{Op: layerOpName("dropout", l.name), Msg: "training mode needs a random source: create the context with nn.Train(rng)"})
	}
	mask := tensor.New(x.Shape()...)
	keep := float32(1 / (1 - l.P))
	md := mask.Data()
	for i := range md {
		if c.RNG.Float64() >= l.P {
			md[i] = keep
		}
	}
	return c.Tape.Dropout(x, mask)
}

// OutputShape is the input's shape.
func (l *Dropout) OutputShape(in []int) ([]int, error) { return sameShape(in), nil }

// allocates is nothing: in evaluation mode Dropout returns its input.
func (l *Dropout) allocates(_, _ []int) int64 { return 0 }

// Params returns nothing.
func (l *Dropout) Params() []*autograd.Var { return nil }

// Spec describes the layer for saving.
func (l *Dropout) Spec() Spec { return MakeSpec("dropout", l.name, dropoutArgs{P: l.P}) }

// LayerName returns the layer's name.
func (l *Dropout) LayerName() string { return l.name }

// SetName names the layer.
func (l *Dropout) SetName(name string) { l.name = name }

// dropoutSpecArgs decodes and validates the args of a "dropout" Spec.
func dropoutSpecArgs(s Spec) (dropoutArgs, error) {
	var a dropoutArgs
	if err := s.UnmarshalArgs(&a); err != nil {
		return a, err
	}
	if err := checkDropoutP(a.P); err != nil {
		return a, fmt.Errorf("nn: dropout %q: %v", s.Name, err)
	}
	return a, nil
}

func init() {
	RegisterSized("dropout", func(s Spec, _ *rand.Rand) (Module, error) {
		a, err := dropoutSpecArgs(s)
		if err != nil {
			return nil, err
		}
		return &Dropout{P: a.P, name: s.Name}, nil
	}, func(s Spec) (int64, error) {
		_, err := dropoutSpecArgs(s)
		return 0, err
	})
}
