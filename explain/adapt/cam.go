package adapt

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// CAM wraps seq as an explain.CAMFunc that probes the output of layer
// number layer (0-based; adapt.LastConv finds the last convolution) for
// inputs of shape inputShape (one example, without the batch axis).
//
// It runs layers 0..layer in inference mode without recording, takes the
// layer's output A [1, C, H', W'] as a fresh autograd.Input, runs the
// remaining layers from it on a recording tape and back-propagates the
// output label (the logit: Grad-CAM explains the score before the
// softmax). The gradient reaching A is exactly ∂y_label/∂A, because
// nothing after A depends on the input except through A. To probe a
// convolution's activations after its ReLU, pass the ReLU's index.
//
// Parameter gradients are set aside and restored, as in Grad.
func CAM(seq *nn.Sequential, layer int, inputShape []int) explain.CAMFunc {
	shape := slices.Clone(inputShape)
	return func(ctx context.Context, x []float32, label int) (act, grad []float32, c, h, w int, out []float32, err error) {
		const what = "adapt: grad-cam"
		if seq == nil {
			return nil, nil, 0, 0, 0, nil, fmt.Errorf("%s: model is nil", what)
		}
		if layer < 0 || layer >= len(seq.Layers) {
			return nil, nil, 0, 0, 0, nil, fmt.Errorf("%s: layer %d out of range: the model has %d layers (0..%d); adapt.LastConv finds the last convolution", what, layer, len(seq.Layers), len(seq.Layers)-1)
		}
		d, err := checkBatch(what, seq, shape, x, 1)
		if err != nil {
			return nil, nil, 0, 0, 0, nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, nil, 0, 0, 0, nil, err
		}
		defer lockParams(seq)()
		xt := tensor.MustFromSlice(x[:d], append([]int{1}, shape...)...)
		var inner error
		var a *autograd.Var
		if err := tensor.Catch(func() {
			// A recording context for the layers up to the feature map
			// too: nothing is recorded there (no input of theirs takes a
			// gradient), but their convolutions take the exact sums, as an
			// explanation's do (Tape.ExactIfFrozen).
			ev := nn.EvalGrad()
			v := autograd.Const(xt)
			for i := 0; i <= layer; i++ {
				v = seq.Layers[i].Forward(ev, v)
			}
			s := v.Value.Shape()
			if len(s) != 4 || s[0] != 1 {
				inner = fmt.Errorf("%s: layer %d (%s) outputs shape %v; Grad-CAM needs a convolutional feature map [1, C, H, W]: pick a Conv2D layer (adapt.LastConv) or the activation after one", what, layer, layerDesc(seq.Layers[layer]), s)
				return
			}
			c, h, w = s[1], s[2], s[3]
			a = autograd.Input(v.Value.Contiguous())
			tc := nn.EvalGrad()
			y := a
			for _, l := range seq.Layers[layer+1:] {
				y = l.Forward(tc, y)
			}
			y = flatRowsVar(tc.Tape, y, 1)
			k := y.Value.Dim(1)
			if label < 0 || label >= k {
				inner = fmt.Errorf("%s: label %d out of range: the model returns %d outputs (labels 0..%d)", what, label, k, k-1)
				return
			}
			out = slices.Clone(y.Value.Data())
			inner = backwardLabel(tc.Tape, y, label)
		}); err != nil {
			return nil, nil, 0, 0, 0, nil, fmt.Errorf("%s: input shape %v: %w", what, shape, err)
		}
		if inner != nil {
			return nil, nil, 0, 0, 0, nil, inner
		}
		act = slices.Clone(a.Value.Data())
		if a.Grad == nil {
			grad = make([]float32, len(act))
		} else {
			grad = slices.Clone(a.Grad.Data())
		}
		return act, grad, c, h, w, out, nil
	}
}

// LastConv returns the index in m, which must be an *nn.Sequential, of its
// last top-level layer that is a Conv2D or a nested Sequential holding
// one: the usual Grad-CAM layer, with the most abstract features that
// still keep a spatial layout.
func LastConv(m nn.Module) (int, error) {
	seq, ok := m.(*nn.Sequential)
	if !ok {
		return 0, fmt.Errorf("adapt: grad-cam needs an *nn.Sequential to split at a layer, got %T; build the model with nn.NewSequential, or use saliency or integrated gradients", m)
	}
	for i := len(seq.Layers) - 1; i >= 0; i-- {
		if hasConv(seq.Layers[i]) {
			return i, nil
		}
	}
	types := make([]string, len(seq.Layers))
	for i, l := range seq.Layers {
		types[i] = l.Spec().Type
	}
	return 0, fmt.Errorf("adapt: grad-cam: the model has no Conv2D layer (layers: %s); Grad-CAM explains convolutional feature maps: use saliency, integrated gradients or occlusion instead", strings.Join(types, ", "))
}

func hasConv(m nn.Module) bool {
	switch l := m.(type) {
	case *nn.Conv2D:
		return true
	case *nn.Sequential:
		return slices.ContainsFunc(l.Layers, hasConv)
	}
	return false
}

func layerDesc(m nn.Module) string {
	if n, ok := m.(nn.Named); ok && n.LayerName() != "" {
		return n.LayerName()
	}
	return m.Spec().Type
}
