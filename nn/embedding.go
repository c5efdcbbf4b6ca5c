package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Embedding maps integer token ids to learned vectors: row id of the
// [vocab, dim] table "NAME/weight".
//
//	x: [batch, seq] of ids in [0, vocab), stored as float32; returns
//	[batch, seq, dim] (any input shape S gives S + [dim])
//
// The ids carry no gradient; the table's gradient adds up the output
// gradients of every position that used a row. An id that is not a whole
// number in [0, vocab) panics with a *tensor.ShapeError naming the id and
// the vocabulary size.
type Embedding struct {
	Weight *autograd.Var

	Vocab, Dim int

	name string
}

var (
	_ Module = (*Embedding)(nil)
	_ Named  = (*Embedding)(nil)
	_ Shaper = (*Embedding)(nil)
)

type embeddingArgs struct {
	Vocab int `json:"vocab"`
	Dim   int `json:"dim"`
}

// NewEmbedding returns a vocab×dim table with N(0, 1) entries drawn from
// rng. Sizes outside [1, MaxDim] panic with a *tensor.ShapeError; Build
// returns them as errors.
func NewEmbedding(vocab, dim int, rng *rand.Rand) *Embedding {
	l, err := newEmbedding(embeddingArgs{Vocab: vocab, Dim: dim}, rng)
	if err != nil {
		panic(&tensor.ShapeError{Op: "embedding", Msg: err.Error()})
	}
	return l
}

func (a embeddingArgs) validate() error {
	if !dimsOK(a.Vocab, a.Dim) {
		return fmt.Errorf("sizes vocab=%d dim=%d must be between 1 and MaxDim = %d", a.Vocab, a.Dim, MaxDim)
	}
	return nil
}

func newEmbedding(a embeddingArgs, rng *rand.Rand) (*Embedding, error) {
	if err := a.validate(); err != nil {
		return nil, err
	}
	return &Embedding{Weight: autograd.Param(tensor.RandN(rng, 0, 1, a.Vocab, a.Dim), "weight"), Vocab: a.Vocab, Dim: a.Dim}, nil
}

// Forward looks the ids up: x [batch, seq] → [batch, seq, dim].
func (l *Embedding) Forward(c *Ctx, x *autograd.Var) *autograd.Var {
	op := layerOpName("embedding", l.name)
	out, err := l.OutputShape(x.Shape())
	if err != nil {
		panic(err)
	}
	d := x.Value.Data()
	ids := make([]int, len(d))
	for i, v := range d {
		if !(v >= 0 && float64(v) < float64(l.Vocab)) {
			panic(&tensor.ShapeError{Op: op, Msg: fmt.Sprintf("id %v at position %d is out of range for vocabulary size %d (ids must be in [0, %d))", v, i, l.Vocab, l.Vocab)})
		}
		id := int(v)
		if float32(id) != v {
			panic(&tensor.ShapeError{Op: op, Msg: fmt.Sprintf("id %v at position %d is not a whole number; ids must be integers in [0, %d)", v, i, l.Vocab)})
		}
		ids[i] = id
	}
	return c.Tape.Reshape(c.Tape.IndexSelect(l.Weight, 0, ids), out...)
}

// OutputShape is S + [dim] for ids of shape S ([batch, seq, dim] for
// [batch, seq]). Whether the ids are in range is checked by Forward.
func (l *Embedding) OutputShape(in []int) ([]int, error) {
	if len(in) == 0 {
		return nil, shapeErr(layerOpName("embedding", l.name), "input is a scalar; give ids as [batch, seq]")
	}
	return append(sameShape(in), l.Dim), nil
}

// allocates counts the output and the ids as ints (two float32 each).
func (l *Embedding) allocates(in, out []int) int64 {
	return satAdd(Elements(out...), satMul(2, Elements(in...)))
}

// Params returns the table.
func (l *Embedding) Params() []*autograd.Var { return []*autograd.Var{l.Weight} }

// Spec describes the layer for saving; Build rebuilds it.
func (l *Embedding) Spec() Spec {
	return MakeSpec("embedding", l.name, embeddingArgs{Vocab: l.Vocab, Dim: l.Dim})
}

// LayerName returns the layer's name ("" until named).
func (l *Embedding) LayerName() string { return l.name }

// SetName names the layer and its table ("NAME/weight").
func (l *Embedding) SetName(name string) {
	l.name = name
	l.Weight.Name = layerParamName(name, "weight")
}

// embeddingSpecArgs decodes and validates the args of an "embedding" Spec.
func embeddingSpecArgs(s Spec) (embeddingArgs, error) {
	var a embeddingArgs
	if err := s.UnmarshalArgs(&a); err != nil {
		return a, err
	}
	if err := a.validate(); err != nil {
		return a, fmt.Errorf("nn: embedding %q: %v", s.Name, err)
	}
	return a, nil
}

func init() {
	RegisterSized("embedding", func(s Spec, rng *rand.Rand) (Module, error) {
		a, err := embeddingSpecArgs(s)
		if err != nil {
			return nil, err
		}
		l, err := newEmbedding(a, rng)
		if err != nil {
			return nil, fmt.Errorf("nn: embedding %q: %v", s.Name, err)
		}
		l.SetName(s.Name)
		return l, nil
	}, func(s Spec) (int64, error) {
		a, err := embeddingSpecArgs(s)
		return Elements(a.Vocab, a.Dim), err
	})
}
