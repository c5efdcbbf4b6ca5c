package predictor

import (
	"context"
	"fmt"
	"math"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/explain/adapt"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Prediction is one input's prediction: the class probabilities, the most
// probable class and its name for a classifier, the value in the
// target's units for a regression model.
type Prediction struct {
	Probabilities []float32 `json:"probabilities,omitempty"`
	Class         *int      `json:"class,omitempty"`
	Label         string    `json:"label,omitempty"`
	Value         *float32  `json:"value,omitempty"`
}

// NonFiniteError says the model's output is NaN or ±Inf for a finite
// input: no prediction can be made from it.
type NonFiniteError = explain.NonFiniteError

// predictChunk is how many rows run between checks of the context, so a
// large batch stops soon after it is cancelled.
const predictChunk = 256

// Predict runs the model on a batch x [n, InputShape...] in the data's own
// units and returns one prediction per row. An output that is not finite
// is a *NonFiniteError (the input is out of the model's range, or the
// model is broken), never a NaN in the result.
func (p *Predictor) Predict(ctx context.Context, x *tensor.Tensor) ([]Prediction, error) {
	out, err := p.Forward(ctx, x)
	if err != nil {
		return nil, err
	}
	n, k := out.Dim(0), out.Dim(1)
	preds := make([]Prediction, n)
	// A network ending in a softmax already outputs probabilities.
	already := adapt.EndsInSoftmax(p.Module)
	d := out.Data()
	for i := range preds {
		row := d[i*k : (i+1)*k]
		if p.Task == Regression {
			v := row[0]
			preds[i].Value = &v
			continue
		}
		probs := row
		if !already {
			probs = softmax(row)
		}
		c := argmax(probs)
		preds[i].Class = &c
		preds[i].Probabilities = probs
		preds[i].Label = p.ClassName(c)
	}
	return preds, nil
}

// Forward runs the model on a batch in the data's own units and returns
// its raw outputs [n, k], regression outputs in the target's units. Every
// output is checked to be finite.
func (p *Predictor) Forward(ctx context.Context, x *tensor.Tensor) (*tensor.Tensor, error) {
	if x.Rank() != len(p.InputShape)+1 || !tensor.SameShape(x.Shape()[1:], p.InputShape) {
		return nil, fmt.Errorf("input batch has shape %v, the model takes [n %v]", x.Shape(), p.InputShape)
	}
	n := x.Dim(0)
	dim := p.dim()
	in := p.modelInput(x.Contiguous().Data())
	var all []float32
	k := 0
	for lo := 0; lo < n; lo += predictChunk {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi := min(lo+predictChunk, n)
		part, err := tensor.FromSlice(in[lo*dim:hi*dim], append([]int{hi - lo}, p.InputShape...)...)
		if err != nil {
			return nil, err
		}
		out, err := nn.Predict(p.Module, part)
		if err != nil {
			return nil, err
		}
		k = out.Len() / (hi - lo)
		all = append(all, out.Data()...)
	}
	p.TargetFromModel(all)
	for i, v := range all {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("row %d: %w", i/k, &NonFiniteError{Output: i % k, Value: float64(v)})
		}
	}
	return tensor.FromSlice(all, n, k)
}

func softmax(v []float32) []float32 {
	m := v[0]
	for _, x := range v {
		m = max(m, x)
	}
	out := make([]float32, len(v))
	var s float64
	for i, x := range v {
		e := math.Exp(float64(x - m))
		out[i] = float32(e)
		s += e
	}
	for i := range out {
		out[i] = float32(float64(out[i]) / s)
	}
	return out
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
