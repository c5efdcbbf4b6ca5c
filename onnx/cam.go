package onnx

import (
	"context"
	"fmt"
	"slices"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// LastConv returns the output name of the graph's last Conv node (in node
// order): the usual Grad-CAM layer.
func (mod *Module) LastConv() (string, error) {
	for i := len(mod.nodes) - 1; i >= 0; i-- {
		n := mod.nodes[i].n
		if n.OpType == "Conv" && len(n.Outputs) > 0 && n.Outputs[0] != "" {
			return n.Outputs[0], nil
		}
	}
	return "", fmt.Errorf("onnx: grad-cam: the graph has no Conv node; Grad-CAM explains convolutional feature maps: use saliency, integrated gradients or occlusion instead")
}

// CAM returns an explain.CAMFunc probing the value named layer (a node
// output, such as LastConv's): it runs the graph on one example x (the
// Forward input's shape without the batch axis, which the graph must
// declare), replaces that value by an autograd.Input leaf holding the
// same activations so that the rest of the graph depends on the input
// only through it, back-propagates output label (the logit before any
// softmax the caller would apply) and returns the activations and their
// gradient, C×H×W, with all of the model's outputs. The layer's value
// must be [1, C, H, W].
//
// The nodes before the layer run without recording; parameter gradients
// accumulated before the call are set aside and restored.
func (mod *Module) CAM(layer string) explain.CAMFunc {
	return func(ctx context.Context, x []float32, label int) (act, grad []float32, c, h, w int, out []float32, err error) {
		const what = "onnx: grad-cam"
		if mod.input == "" || mod.output == "" {
			return nil, nil, 0, 0, 0, nil, fmt.Errorf("%s: the module has no single input and output (imported with AllInputs)", what)
		}
		if !mod.produces(layer) {
			conv, _ := mod.LastConv()
			return nil, nil, 0, 0, 0, nil, fmt.Errorf("%s: no node outputs %q (the last Conv's output is %q)", what, layer, conv)
		}
		shape, err := mod.exampleShape()
		if err != nil {
			return nil, nil, 0, 0, 0, nil, fmt.Errorf("%s: %w", what, err)
		}
		if n := tensor.Numel(shape); len(x) != n {
			return nil, nil, 0, 0, 0, nil, fmt.Errorf("%s: the input has %d values; one example of shape %v has %d", what, len(x), shape, n)
		}
		if err := ctx.Err(); err != nil {
			return nil, nil, 0, 0, 0, nil, err
		}
		mod.camMu.Lock() // CAM sets the parameters' gradients aside while it runs
		defer mod.camMu.Unlock()
		saved := make([]*tensor.Tensor, len(mod.params))
		for i, p := range mod.params {
			saved[i], p.Grad = p.Grad, nil
		}
		defer func() {
			for i, p := range mod.params {
				p.Grad = saved[i]
			}
		}()

		xt := tensor.MustFromSlice(slices.Clone(x), append([]int{1}, shape...)...)
		// A recording tape from the start: nothing is recorded before the
		// layer (no input there takes a gradient), but the convolutions
		// take the exact sums, as an explanation's do
		// (Tape.ExactIfFrozen).
		e := &env{tp: autograd.NewTape(), ctx: nn.Eval(), m: mod}
		var leaf *autograd.Var
		var hookErr error
		e.hook = func(name string, v *val) *val {
			if name != layer || leaf != nil {
				return v
			}
			d := v.dims()
			if v.v == nil || len(d) != 4 || d[0] != 1 {
				hookErr = fmt.Errorf("%s: %q has shape %v; Grad-CAM needs a float feature map [1, C, H, W] (LastConv gives the last convolution's output)", what, layer, d)
				leaf = autograd.Const(tensor.New(1))
				return v
			}
			c, h, w = d[1], d[2], d[3]
			leaf = autograd.Input(v.v.Value.Contiguous())
			e.tp = autograd.NewTape() // record from here on
			return floatVal(leaf, v.dt)
		}
		vals, err := mod.run(e, map[string]*autograd.Var{mod.input: autograd.Const(xt)}, nil, []string{mod.output})
		if hookErr != nil {
			return nil, nil, 0, 0, 0, nil, hookErr
		}
		if err != nil {
			return nil, nil, 0, 0, 0, nil, fmt.Errorf("%s: %w", what, err)
		}
		if leaf == nil {
			return nil, nil, 0, 0, 0, nil, fmt.Errorf("%s: %q is not computed on the way to output %q", what, layer, mod.output)
		}
		y := vals[mod.output].asVar()
		if y.Value.Rank() == 0 || y.Value.Dim(0) != 1 {
			return nil, nil, 0, 0, 0, nil, fmt.Errorf("%s: the model returned shape %v for one example; outputs must be [1, k]", what, y.Value.Shape())
		}
		k := y.Value.Len()
		if label < 0 || label >= k {
			return nil, nil, 0, 0, 0, nil, fmt.Errorf("%s: label %d out of range: the model returns %d outputs (labels 0..%d)", what, label, k, k-1)
		}
		out = slices.Clone(y.Value.Data())
		tp := e.tp
		if y.RequiresGrad() {
			s := tp.Sum(tp.Slice(tp.Reshape(y, 1, k), 1, label, label+1), false)
			if err := tp.Backward(s); err != nil {
				return nil, nil, 0, 0, 0, nil, fmt.Errorf("%s: back-propagating output %d: %w", what, label, err)
			}
		}
		act = slices.Clone(leaf.Value.Data())
		if leaf.Grad == nil {
			grad = make([]float32, len(act))
		} else {
			grad = slices.Clone(leaf.Grad.Data())
		}
		return act, grad, c, h, w, out, nil
	}
}

// produces reports whether a node outputs name.
func (mod *Module) produces(name string) bool {
	if name == "" {
		return false
	}
	for _, cn := range mod.nodes {
		if slices.Contains(cn.n.Outputs, name) {
			return true
		}
	}
	return false
}

// exampleShape is the Forward input's declared shape without the batch
// axis; every size must be known.
func (mod *Module) exampleShape() ([]int, error) {
	for _, in := range mod.inputs {
		if in.Name != mod.input {
			continue
		}
		if len(in.Shape) < 2 {
			return nil, fmt.Errorf("input %q has shape %s; Grad-CAM needs a declared [batch, ...] shape", in.Name, describeInput(in))
		}
		shape := make([]int, len(in.Shape)-1)
		for i, d := range in.Shape[1:] {
			if d.Value <= 0 {
				return nil, fmt.Errorf("input %q has shape %s: axis %d has no fixed size", in.Name, describeInput(in), i+1)
			}
			shape[i] = int(d.Value)
		}
		return shape, nil
	}
	return nil, fmt.Errorf("input %q not found", mod.input)
}
