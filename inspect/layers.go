package inspect

import (
	"context"
	"fmt"
	"strings"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// InputLayer is the layer index that stands for the model's input in
// [Project] and [ProjectDataset]: the raw representation the network starts
// from.
const InputLayer = -1

// Layers returns the layers of m, which must be an *nn.Sequential with at
// least one layer; anything else is an error naming what m is.
func Layers(m nn.Module) ([]nn.Module, error) {
	if m == nil {
		return nil, fmt.Errorf("inspect: the model is nil")
	}
	s, ok := m.(*nn.Sequential)
	if !ok {
		return nil, fmt.Errorf("inspect: the model is a %q module, not a Sequential; inspect shows the layers of Sequential models (build the model with nn.NewSequential)", m.Spec().Type)
	}
	if len(s.Layers) == 0 {
		return nil, fmt.Errorf("inspect: the Sequential model has no layers")
	}
	return s.Layers, nil
}

// LayerName returns the name a layer carries in its Sequential ("conv2d0"),
// or its type and index when it has none.
func LayerName(l nn.Module, index int) string {
	if n, ok := l.(nn.Named); ok && n.LayerName() != "" {
		return n.LayerName()
	}
	return fmt.Sprintf("%s%d", l.Spec().Type, index)
}

// describe lists the layers as "0 conv2d0 (conv2d), 1 relu1 (relu), ..." for
// error messages.
func describe(layers []nn.Module) string {
	parts := make([]string, len(layers))
	for i, l := range layers {
		parts[i] = fmt.Sprintf("%d %s (%s)", i, LayerName(l, i), l.Spec().Type)
	}
	return strings.Join(parts, ", ")
}

// checkLayer returns an error unless 0 ≤ layer < len(layers) (or layer is
// InputLayer where allowInput).
func checkLayer(layers []nn.Module, layer int, allowInput bool) error {
	if layer >= 0 && layer < len(layers) {
		return nil
	}
	if allowInput && layer == InputLayer {
		return nil
	}
	lo := 0
	if allowInput {
		lo = InputLayer
	}
	return fmt.Errorf("inspect: layer %d is out of range: the model has %d layers (use %d..%d): %s", layer, len(layers), lo, len(layers)-1, describe(layers))
}

// checkShape validates one example's input shape and the number of values
// given for n examples, returning the per-example size.
func checkShape(inputShape []int, values, n int) (int, error) {
	if len(inputShape) == 0 {
		return 0, fmt.Errorf("inspect: the input shape is empty; give one example's shape without the batch axis, e.g. [1 28 28] or [64]")
	}
	for _, s := range inputShape {
		if s < 1 {
			return 0, fmt.Errorf("inspect: input shape %v has a non-positive size", inputShape)
		}
	}
	d := tensor.Numel(inputShape)
	if values != n*d {
		return 0, fmt.Errorf("inspect: got %d input values for %d example(s) of shape %v; want %d", values, n, inputShape, n*d)
	}
	return d, nil
}

// forward runs x through layers[0..upto] on c and returns the output of
// layer upto (x itself for InputLayer). each, if not nil, sees every
// layer's output. It panics with *tensor.ShapeError on a shape mismatch;
// callers run it under tensor.Catch.
func forward(c *nn.Ctx, layers []nn.Module, x *autograd.Var, upto int, each func(i int, y *autograd.Var)) *autograd.Var {
	for i := 0; i <= upto; i++ {
		x = layers[i].Forward(c, x)
		if each != nil {
			each(i, x)
		}
	}
	return x
}

// LastHidden returns the index of the last hidden layer of m: the layer
// whose output feeds the last layer with parameters (the output layer), so
// for Flatten-Linear-ReLU-Linear-ReLU-Linear it is the second ReLU. It is
// an error when no layer comes before the output layer.
func LastHidden(m nn.Module) (int, error) {
	layers, err := Layers(m)
	if err != nil {
		return 0, err
	}
	for i := len(layers) - 1; i >= 0; i-- {
		if len(layers[i].Params()) == 0 {
			continue
		}
		if i == 0 {
			break
		}
		return i - 1, nil
	}
	return 0, fmt.Errorf("inspect: the model has no hidden layer before its output layer: %s", describe(layers))
}

// ConvLayers returns the indices of m's Conv2D layers, in order.
func ConvLayers(m nn.Module) ([]int, error) {
	layers, err := Layers(m)
	if err != nil {
		return nil, err
	}
	var out []int
	for i, l := range layers {
		if _, ok := l.(*nn.Conv2D); ok {
			out = append(out, i)
		}
	}
	return out, nil
}

// ctxErr wraps a cancelled context.
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("inspect: %w", err)
	}
	return nil
}
