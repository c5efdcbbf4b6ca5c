package autograd

import "github.com/glassbox-ml/glassbox/tensor"

// Conv2D returns the 2-D convolution of x with filters w plus bias b (nil
// for none); see tensor.Conv2D for the shapes:
//
//	x: [batch, channels, h, w], w: [out, channels/groups, kh, kw], b: [out]
//	returns [batch, out, oh, ow]
//
// Its backward gives gradients for x (saliency and Grad-CAM need them),
// w and b; the input gradient is only computed when x requires one.
//
// With frozen filters (no gradient for w or b) on a recording tape (an
// explanation's forward and input gradient) it asks for exact sums
// (tensor.ConvParams.Exact), so which rectifier units are on, and so the
// gradients, agree with other frameworks'; training and inference (a tape
// that does not record) keep the fast algorithms.
func (tp *Tape) Conv2D(x, w, b *Var, p tensor.ConvParams) *Var {
	p = tp.ExactIfFrozen(p, w, b)
	z := tensor.Conv2D(x.Value, w.Value, valueOrNil(b), p)
	return tp.record(z, func(g *tensor.Tensor) {
		if r := tp.rule; r != nil && r.Linear != nil && x.requiresGrad {
			accum(x, r.Linear(convOp(x.Value, w.Value, valueOrNil(b), z, p), g), true)
			return
		}
		if !paramGrads(w, b) {
			// Frozen filters (an explanation's input gradient).
			accum(x, tensor.Conv2DInputGrad(x.Value, w.Value, nil, g, p), true)
			return
		}
		dx, dw, db := tensor.Conv2DBackward(x.Value, w.Value, g, p, x.requiresGrad)
		accum(x, dx, true)
		accum(w, dw, true)
		accum(b, db, true) // a nil bias takes nothing
	}, x, w, b)
}

// MaxPool2D returns the maximum of each pooling window (see
// tensor.MaxPool2D); the gradient flows to the position of each maximum.
//
//	x: [batch, channels, h, w] → [batch, channels, oh, ow]
func (tp *Tape) MaxPool2D(x *Var, p tensor.PoolParams) *Var {
	if !tp.Recording() || !x.requiresGrad {
		// Nothing will route a gradient: no positions to keep.
		return tp.record(tensor.MaxPool2DValues(x.Value, p), nil, x)
	}
	y, argmax := tensor.MaxPool2D(x.Value, p)
	return tp.record(y, func(g *tensor.Tensor) {
		route := func(g *tensor.Tensor) *tensor.Tensor {
			return tensor.MaxPool2DBackwardWindows(g, argmax, x.Value.Shape(), p)
		}
		if r := tp.rule; r != nil && r.MaxPool != nil {
			accum(x, r.MaxPool(x.Value, y, g, route), true)
			return
		}
		accum(x, route(g), true)
	}, x)
}

// convOp describes a convolution for Rule.Linear.
func convOp(x, w, b, z *tensor.Tensor, p tensor.ConvParams) *LinearOp {
	return &LinearOp{Kind: "conv2d", X: x, Z: z, W: w, B: b,
		Forward: func(w, b *tensor.Tensor) *tensor.Tensor { return tensor.Conv2D(x, w, b, p) },
		Backward: func(w, g *tensor.Tensor) *tensor.Tensor {
			dx, _, _ := tensor.Conv2DBackward(x, w, g, p, true)
			return dx
		},
	}
}

// AvgPool2D returns the mean of each pooling window, padding not counted
// (see tensor.AvgPool2D).
//
//	x: [batch, channels, h, w] → [batch, channels, oh, ow]
func (tp *Tape) AvgPool2D(x *Var, p tensor.PoolParams) *Var {
	return tp.record(tensor.AvgPool2D(x.Value, p), func(g *tensor.Tensor) {
		accum(x, tensor.AvgPool2DBackward(g, x.Value.Shape(), p), true)
	}, x)
}

// GlobalAvgPool2D averages each channel over its plane.
//
//	x: [batch, channels, h, w] → [batch, channels]
func (tp *Tape) GlobalAvgPool2D(x *Var) *Var {
	return tp.record(tensor.GlobalAvgPool2D(x.Value), func(g *tensor.Tensor) {
		accum(x, tensor.GlobalAvgPool2DBackward(g, x.Value.Shape()), true)
	}, x)
}

// Conv2DReLU returns ReLU(Conv2D(x, w, b, p)) as one operation (see
// tensor.Conv2DReLU): the same values and gradients as the two ops, with
// neither a pass over the output nor an intermediate tensor for the
// rectifier. nn.Sequential uses it for a Conv2D followed by a ReLU.
func (tp *Tape) Conv2DReLU(x, w, b *Var, p tensor.ConvParams) *Var {
	p = tp.ExactIfFrozen(p, w, b)
	if tp.Rule() != nil {
		// A rule treats the convolution and the rectifier differently.
		return tp.ReLU(tp.Conv2D(x, w, b, p))
	}
	y := tensor.Conv2DReLU(x.Value, w.Value, valueOrNil(b), p)
	return tp.record(y, func(g *tensor.Tensor) {
		if !paramGrads(w, b) {
			accum(x, tensor.Conv2DInputGrad(x.Value, w.Value, y, g, p), true)
			return
		}
		dx, dw, db := tensor.Conv2DReLUBackward(x.Value, w.Value, y, g, p, x.requiresGrad)
		accum(x, dx, true)
		accum(w, dw, true)
		accum(b, db, true) // a nil bias takes nothing
	}, x, w, b)
}

// paramGrads reports whether the filters or the bias of a convolution take
// a gradient: not when they are frozen (see Freeze), as for an
// explanation's gradient with respect to the input.
func paramGrads(w, b *Var) bool {
	return w.requiresGrad || b != nil && b.requiresGrad
}

// ExactIfFrozen returns p asking for exact sums (tensor.ConvParams.Exact)
// when tp records and the filters w and bias b take no gradient: an
// explanation's convolution, whose rectifier units must switch where
// other frameworks' do (see Tape.Conv2D). A tape that does not record
// (predictions, LIME's and SHAP's model calls) keeps the fast algorithms:
// no gradient is taken through them, and their outputs are a few 1e-6 of
// the terms' size off the exact sums at most. Operations recorded outside
// this package (Tape.Custom) that convolve call it too.
func (tp *Tape) ExactIfFrozen(p tensor.ConvParams, w, b *Var) tensor.ConvParams {
	if tp.Recording() && !paramGrads(w, b) {
		p.Exact = true
	}
	return p
}
