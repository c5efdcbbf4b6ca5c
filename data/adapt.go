package data

import (
	"fmt"

	"github.com/glassbox-ml/glassbox/datasets"
	"github.com/glassbox-ml/glassbox/tensor"
)

// FromImages wraps a datasets.Images as a Dataset of [C, H, W] inputs and
// class-index targets, sharing the pixel storage.
func FromImages(im *datasets.Images) (*Tensors, error) {
	if err := im.Validate(); err != nil {
		return nil, err
	}
	x, err := tensor.FromSlice(im.Pixels, im.N, im.C, im.H, im.W)
	if err != nil {
		return nil, err
	}
	y := tensor.New(im.N)
	for i, l := range im.Labels {
		y.Data()[i] = float32(l)
	}
	return &Tensors{X: x, Y: y}, nil
}

// FromTable wraps a datasets.Table as a Dataset of [Cols] feature rows and
// its targets (class index or regression value).
func FromTable(t *datasets.Table) (*Tensors, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if t.Y == nil {
		return nil, fmt.Errorf("data: table has no target column; name one (target=COLUMN)")
	}
	x, err := tensor.FromSlice(t.X, t.Rows, t.Cols)
	if err != nil {
		return nil, err
	}
	y, err := tensor.FromSlice(t.Y, t.Rows)
	if err != nil {
		return nil, err
	}
	return &Tensors{X: x, Y: y}, nil
}

// FromSequences wraps n token sequences of equal length (ids row-major)
// with one class label each, for sequence classifiers; token ids are
// stored as float32, as Embedding expects.
func FromSequences(ids []int, length int, labels []int) (*Tensors, error) {
	if length <= 0 || len(ids)%length != 0 || len(ids)/length != len(labels) {
		return nil, fmt.Errorf("data: %d token ids of length-%d sequences do not match %d labels", len(ids), length, len(labels))
	}
	n := len(labels)
	x := tensor.New(n, length)
	for i, v := range ids {
		x.Data()[i] = float32(v)
	}
	y := tensor.New(n)
	for i, l := range labels {
		y.Data()[i] = float32(l)
	}
	return &Tensors{X: x, Y: y}, nil
}
