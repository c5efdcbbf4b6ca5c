package adapt

import (
	"context"
	"fmt"
	"slices"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Layer opens the output of top-level layer number layer of seq (0-based)
// for the layer, neuron and concept methods, for inputs of shape
// inputShape (one example, without the batch axis); name is how results
// call it. Seq runs in inference mode, split after the layer: Activations
// runs layers 0..layer without recording, Onward runs the rest from given
// activations on a recording tape (the model's scores, no softmax: as
// Grad), and Neuron runs layers 0..layer recording, with the input as an
// autograd.Input, and back-propagates one unit. Neuron is nil when
// differentiable is false (token-id inputs). Batches are split into at
// most 128 rows. Parameter gradients are set aside and restored, as in
// Grad.
func Layer(seq *nn.Sequential, layer int, name string, inputShape []int, differentiable bool) (*explain.LayerAccess, error) {
	if seq == nil {
		return nil, fmt.Errorf("adapt: layer: model is nil")
	}
	if layer < 0 || layer >= len(seq.Layers) {
		return nil, fmt.Errorf("adapt: layer %d out of range: the model has %d layers (0..%d)", layer, len(seq.Layers), len(seq.Layers)-1)
	}
	shape := slices.Clone(inputShape)
	d, err := checkBatch("adapt: layer", seq, shape, make([]float32, tensor.Numel(shape)), 1)
	if err != nil {
		return nil, err
	}
	// The two parts run as Sequentials, so a convolution followed by its
	// ReLU still runs as one fused op.
	front, back := &nn.Sequential{Layers: seq.Layers[:layer+1]}, &nn.Sequential{Layers: seq.Layers[layer+1:]}
	const maxBatch = 128
	// One probe finds the layer's activation shape.
	var actShape []int
	if err := tensor.Catch(func() {
		v := front.Forward(nn.Eval(), autograd.Const(tensor.New(append([]int{1}, shape...)...)))
		actShape = slices.Clone(v.Value.Shape()[1:])
	}); err != nil {
		return nil, fmt.Errorf("adapt: layer %s: input shape %v: %w", name, shape, err)
	}
	u := tensor.Numel(actShape)
	la := &explain.LayerAccess{Name: name, Shape: actShape}
	la.Activations = func(ctx context.Context, x []float32, n int) ([]float32, error) {
		if _, err := checkBatch("adapt: layer activations", seq, shape, x, n); err != nil {
			return nil, err
		}
		out := make([]float32, 0, n*u)
		for lo := 0; lo < n; lo += maxBatch {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			hi := min(lo+maxBatch, n)
			if err := tensor.Catch(func() {
				v := front.Forward(nn.Eval(), autograd.Const(tensor.MustFromSlice(x[lo*d:hi*d], append([]int{hi - lo}, shape...)...)))
				out = append(out, v.Value.Contiguous().Data()...)
			}); err != nil {
				return nil, fmt.Errorf("adapt: layer %s: %w", name, err)
			}
		}
		return out, nil
	}
	la.Onward = func(ctx context.Context, a []float32, n, label int) (out, grad []float32, err error) {
		const what = "adapt: from layer"
		if n < 1 || len(a) != n*u {
			return nil, nil, fmt.Errorf("%s %s: got %d activations for %d rows of %v", what, name, len(a), n, actShape)
		}
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		defer lockParams(seq)()
		in := autograd.Input(tensor.MustFromSlice(a, append([]int{n}, actShape...)...))
		var inner error
		if err := tensor.Catch(func() {
			c := nn.EvalGrad()
			y := flatRowsVar(c.Tape, back.Forward(c, in), n)
			k := y.Value.Dim(1)
			if label < 0 || label >= k {
				inner = fmt.Errorf("%s %s: label %d out of range: the model returns %d outputs (labels 0..%d)", what, name, label, k, k-1)
				return
			}
			out = slices.Clone(y.Value.Data())
			inner = backwardLabel(c.Tape, y, label)
		}); err != nil {
			return nil, nil, fmt.Errorf("%s %s: %w", what, name, err)
		}
		if inner != nil {
			return nil, nil, inner
		}
		if in.Grad == nil {
			return out, make([]float32, n*u), nil
		}
		return out, slices.Clone(in.Grad.Data()), nil
	}
	if !differentiable {
		return la, nil
	}
	la.Neuron = func(ctx context.Context, x []float32, n, unit int) (act, grad []float32, err error) {
		const what = "adapt: neuron"
		if _, err := checkBatch(what, seq, shape, x, n); err != nil {
			return nil, nil, err
		}
		if unit < 0 || unit >= u {
			return nil, nil, fmt.Errorf("%s: unit %d out of range: layer %s has %d units", what, unit, name, u)
		}
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		defer lockParams(seq)()
		in := autograd.Input(tensor.MustFromSlice(x, append([]int{n}, shape...)...))
		if err := tensor.Catch(func() {
			c := nn.EvalGrad()
			v := c.Tape.Reshape(front.Forward(c, in), n, u)
			act = slices.Clone(v.Value.Contiguous().Data())
			inner := backwardLabel(c.Tape, v, unit)
			if inner != nil {
				err = inner
			}
		}); err != nil {
			return nil, nil, fmt.Errorf("%s %s: %w", what, name, err)
		}
		if err != nil {
			return nil, nil, err
		}
		if in.Grad == nil {
			return act, make([]float32, n*d), nil
		}
		return act, slices.Clone(in.Grad.Data()), nil
	}
	return la, nil
}
