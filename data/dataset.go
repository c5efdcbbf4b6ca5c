package data

import (
	"fmt"

	"github.com/glassbox-ml/glassbox/tensor"
)

// Dataset is a fixed-size collection of examples of fixed shape.
type Dataset interface {
	// Len returns the number of examples.
	Len() int
	// XShape is one example's input shape (e.g. [1 28 28]).
	XShape() []int
	// YShape is one example's target shape: [] for a class index or a
	// single regression value, [T] for a sequence of targets.
	YShape() []int
	// Read copies example i's input into x and target into y; their
	// lengths are the products of XShape and YShape.
	Read(i int, x, y []float32)
}

// Tensors is an in-memory Dataset backed by two tensors whose first axis
// indexes examples.
type Tensors struct {
	X, Y *tensor.Tensor
}

// NewTensors checks that x and y hold the same number of examples. y may
// be rank 1 (one target per example) or higher.
func NewTensors(x, y *tensor.Tensor) (*Tensors, error) {
	if x.Rank() < 1 || y.Rank() < 1 {
		return nil, fmt.Errorf("data: inputs %v and targets %v need an example axis", x.Shape(), y.Shape())
	}
	if x.Dim(0) != y.Dim(0) {
		return nil, fmt.Errorf("data: %d inputs (shape %v) but %d targets (shape %v)", x.Dim(0), x.Shape(), y.Dim(0), y.Shape())
	}
	return &Tensors{X: x.Contiguous(), Y: y.Contiguous()}, nil
}

// FromSlices builds a Dataset from n examples stored row-major in xs with
// the given per-example shape, and one target per example.
func FromSlices(xs []float32, shape []int, ys []float32) (*Tensors, error) {
	per := tensor.Numel(shape)
	if per == 0 || len(xs)%per != 0 {
		return nil, fmt.Errorf("data: %d values do not divide into examples of shape %v", len(xs), shape)
	}
	n := len(xs) / per
	if len(ys) != n {
		return nil, fmt.Errorf("data: %d examples of shape %v but %d targets", n, shape, len(ys))
	}
	x, err := tensor.FromSlice(xs, append([]int{n}, shape...)...)
	if err != nil {
		return nil, err
	}
	y, err := tensor.FromSlice(ys, n)
	if err != nil {
		return nil, err
	}
	return &Tensors{X: x, Y: y}, nil
}

// Len returns the number of examples.
func (t *Tensors) Len() int { return t.X.Dim(0) }

// XShape returns one input's shape.
func (t *Tensors) XShape() []int { return t.X.Shape()[1:] }

// YShape returns one target's shape.
func (t *Tensors) YShape() []int { return t.Y.Shape()[1:] }

// Read copies example i.
func (t *Tensors) Read(i int, x, y []float32) {
	xd, yd := t.X.Data(), t.Y.Data()
	copy(x, xd[i*len(x):(i+1)*len(x)])
	copy(y, yd[i*len(y):(i+1)*len(y)])
}

// Subset is a view of a Dataset restricted to some indices.
type Subset struct {
	Base    Dataset
	Indices []int
}

// Len returns the number of selected examples.
func (s *Subset) Len() int { return len(s.Indices) }

// XShape returns the base's input shape.
func (s *Subset) XShape() []int { return s.Base.XShape() }

// YShape returns the base's target shape.
func (s *Subset) YShape() []int { return s.Base.YShape() }

// Read copies the i-th selected example.
func (s *Subset) Read(i int, x, y []float32) { s.Base.Read(s.Indices[i], x, y) }

// Split shuffles the indices with seed and returns a training part and a
// validation part holding valFraction of the examples (at least one each
// when the data set has two or more).
func Split(ds Dataset, valFraction float64, seed uint64) (train, val *Subset, err error) {
	n := ds.Len()
	if valFraction <= 0 || valFraction >= 1 {
		return nil, nil, fmt.Errorf("data: validation fraction %v must be in (0, 1)", valFraction)
	}
	if n < 2 {
		return nil, nil, fmt.Errorf("data: cannot split %d examples", n)
	}
	perm := tensor.NewRNG(seed).Perm(n)
	nv := min(max(1, int(float64(n)*valFraction+0.5)), n-1)
	return &Subset{Base: ds, Indices: perm[nv:]}, &Subset{Base: ds, Indices: perm[:nv]}, nil
}

// Materialize reads a whole Dataset into tensors X [N, XShape...] and
// Y [N, YShape...].
func Materialize(ds Dataset) (x, y *tensor.Tensor) {
	n := ds.Len()
	x = tensor.New(append([]int{n}, ds.XShape()...)...)
	y = tensor.New(append([]int{n}, ds.YShape()...)...)
	px, py := tensor.Numel(ds.XShape()), tensor.Numel(ds.YShape())
	xd, yd := x.Data(), y.Data()
	for i := 0; i < n; i++ {
		ds.Read(i, xd[i*px:(i+1)*px], yd[i*py:(i+1)*py])
	}
	return x, y
}
