package onnx

import (
	"math"
	"slices"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
)

// The tape operations ONNX needs beyond the ones autograd provides. Each
// records one Tape.Custom entry with a hand-written backward, which
// kernels_test.go checks against finite differences with autograd.GradCheck.

// gatherMap returns the tensor of the given shape whose element k is
// x[m[k]] (row-major flat indices; a negative index gives fill). Every
// data-movement operator is one: Transpose with steps, Slice with steps,
// Expand and Tile of integers, Pad in every mode, a dilated kernel, a
// reversed sequence. The backward adds each output gradient into the
// element it was read from.
func gatherMap(tp *autograd.Tape, x *autograd.Var, m []int32, shape []int, fill float32) *autograd.Var {
	xd := x.Value.Data()
	out := tensor.New(shape...)
	od := out.Data()
	for k, i := range m {
		if i < 0 {
			od[k] = fill
		} else {
			od[k] = xd[i]
		}
	}
	// An index map is linear: explanation rules keep its ordinary gradient.
	return tp.Affine(out, nil, func(g *tensor.Tensor) []*tensor.Tensor {
		gx := tensor.New(x.Value.Shape()...)
		gxd, gd := gx.Data(), g.Data()
		for k, i := range m {
			if i >= 0 {
				gxd[i] += gd[k]
			}
		}
		return []*tensor.Tensor{gx}
	}, x)
}

// unaryFn records y = f(x) elementwise, computed in float64, with
// dy/dx = df(x, y).
func unaryFn(tp *autograd.Tape, x *autograd.Var, f func(float64) float64, df func(x, y float64) float64) *autograd.Var {
	xd := x.Value.Data()
	out := tensor.New(x.Value.Shape()...)
	od := out.Data()
	for i, v := range xd {
		od[i] = float32(f(float64(v)))
	}
	return tp.Custom(out, func(g *tensor.Tensor) []*tensor.Tensor {
		if df == nil {
			return nil
		}
		gx := tensor.New(x.Value.Shape()...)
		gxd, gd := gx.Data(), g.Data()
		for i, v := range xd {
			if gd[i] != 0 {
				gxd[i] = gd[i] * float32(df(float64(v), float64(od[i])))
			}
		}
		return []*tensor.Tensor{gx}
	}, x)
}

// clampVar records y = min(max(x, lo), hi) elementwise (ONNX Clip: hi
// wins when lo > hi; NaN stays NaN), in float32 without a call per
// element: MobileNet's ReLU6 runs on every activation, and the generic
// float64 path (unaryFn) spent half of MobileNetV2's inference in it.
// Both passes are branch-free (Go's min and max; a mask from sign bits)
// and split across cores: with branches, the mispredictions on
// activations scattered around 0 cost six times as much. The gradient
// passes where lo ≤ x ≤ hi.
func clampVar(tp *autograd.Tape, x *autograd.Var, lo, hi float32) *autograd.Var {
	xd := x.Value.Data()
	out := tensor.New(x.Value.Shape()...)
	od := out.Data()
	tensor.ParallelFor(len(xd), 1<<14, func(a, b int) {
		o := od[a:b]
		for i, v := range xd[a:b] {
			o[i] = min(max(v, lo), hi)
		}
	})
	return tp.Custom(out, func(g *tensor.Tensor) []*tensor.Tensor {
		gx := tensor.New(x.Value.Shape()...)
		gxd, gd := gx.Data(), g.Contiguous().Data()
		tensor.ParallelFor(len(xd), 1<<14, func(a, b int) {
			o, gs := gxd[a:b], gd[a:b]
			for i, v := range xd[a:b] {
				o[i] = clampGrad(v, lo, hi, gs[i])
			}
		})
		return []*tensor.Tensor{gx}
	}, x)
}

// convReluMin records min(Conv2DReLU(x, w, b, p), hi) for hi > 0 (a
// convolution followed by ReLU6) with the bound applied by the
// convolution to each image while it is in cache (tensor.Conv2DReLUMax):
// no second tensor and no pass over the batch as a separate Clip takes. The gradient passes where 0 < y < hi, masked in one pass
// (at y = hi exactly
// it stops, where a separate Clip would let x = hi through: a set of
// measure zero).
func convReluMin(tp *autograd.Tape, x, w, b *autograd.Var, p tensor.ConvParams, hi float32) *autograd.Var {
	var bv *tensor.Tensor
	if b != nil {
		bv = b.Value
	}
	p = tp.ExactIfFrozen(p, w, b) // an explanation's: the direct sums
	y := tensor.Conv2DReLUMax(x.Value, w.Value, bv, p, hi)
	yd := y.Data()
	return tp.Custom(y, func(g *tensor.Tensor) []*tensor.Tensor {
		gm := tensor.New(g.Shape()...)
		gmd, gd := gm.Data(), g.Contiguous().Data()
		tensor.ParallelFor(len(yd), 1<<14, func(a, b int) {
			o, gs := gmd[a:b], gd[a:b]
			for i, v := range yd[a:b] {
				// v − hi and 0 − v are both negative (sign bits set)
				// exactly when 0 < v < hi (0 − (±0) is +0).
				keep := int32(math.Float32bits(v-hi)&math.Float32bits(0-v)) >> 31
				o[i] = math.Float32frombits(math.Float32bits(gs[i]) & uint32(keep))
			}
		})
		// gm is masked by both bounds already: the plain convolution's
		// backward, without the rectified one's masked copy of it.
		if !w.RequiresGrad() && (b == nil || !b.RequiresGrad()) {
			// Frozen filters (an explanation's input gradient): no
			// weight gradient to compute.
			dx := tensor.Conv2DInputGrad(x.Value, w.Value, nil, gm, p)
			if b == nil {
				return []*tensor.Tensor{dx, nil}
			}
			return []*tensor.Tensor{dx, nil, nil}
		}
		dx, dw, db := tensor.Conv2DBackward(x.Value, w.Value, gm, p, x.RequiresGrad())
		if b == nil {
			return []*tensor.Tensor{dx, dw}
		}
		return []*tensor.Tensor{dx, dw, db}
	}, x, w, b)
}

// clampGrad returns g when lo ≤ v ≤ hi and 0 otherwise. For finite v the
// test is the sign bits of v − lo and hi − v (+0 added so that
// −0 − 0 counts as 0), which compiles without a branch; NaN and ±∞, whose
// differences can be NaN of either sign, take the comparison (a branch
// that is almost never taken).
func clampGrad(v, lo, hi, g float32) float32 {
	if v-v != 0 {
		if v >= lo && v <= hi {
			return g
		}
		return 0
	}
	neg := int32(math.Float32bits(v-lo+0)|math.Float32bits(hi-v+0)) >> 31
	return math.Float32frombits(math.Float32bits(g) &^ uint32(neg))
}

// binaryFn records z = f(a, b) elementwise with NumPy broadcasting,
// computed in float64; da and db give ∂z/∂a and ∂z/∂b (nil: no gradient).
func binaryFn(tp *autograd.Tape, a, b *autograd.Var, f func(x, y float64) float64, da, db func(x, y, z float64) float64) *autograd.Var {
	shape := broadcastShapes("elementwise operation", a.Value.Shape(), b.Value.Shape())
	ad := expandData(a.Value, shape)
	bd := expandData(b.Value, shape)
	out := tensor.New(shape...)
	od := out.Data()
	for i := range od {
		od[i] = float32(f(float64(ad[i]), float64(bd[i])))
	}
	return tp.Custom(out, func(g *tensor.Tensor) []*tensor.Tensor {
		gd := g.Data()
		grads := make([]*tensor.Tensor, 2)
		for j, d := range []func(x, y, z float64) float64{da, db} {
			if d == nil || !([]*autograd.Var{a, b})[j].RequiresGrad() {
				continue
			}
			gt := tensor.New(shape...)
			gtd := gt.Data()
			for i := range gtd {
				if gd[i] != 0 {
					gtd[i] = gd[i] * float32(d(float64(ad[i]), float64(bd[i]), float64(od[i])))
				}
			}
			grads[j] = gt // the tape sums it down to the operand's shape
		}
		return grads
	}, a, b)
}

// expandData returns t's elements broadcast to shape, row-major.
func expandData(t *tensor.Tensor, shape []int) []float32 {
	if slices.Equal(t.Shape(), shape) {
		return t.Data()
	}
	return tensor.Add(t, tensor.New(shape...)).Data()
}

// where records out = cond ? a : b with broadcasting of all three.
func where(tp *autograd.Tape, cond []int64, condShape []int, a, b *autograd.Var) *autograd.Var {
	shape := broadcastShapes("Where", condShape, a.Value.Shape(), b.Value.Shape())
	c := gatherInts(cond, broadcastMap(condShape, shape), 0)
	ad := expandData(a.Value, shape)
	bd := expandData(b.Value, shape)
	out := tensor.New(shape...)
	od := out.Data()
	for i := range od {
		if c[i] != 0 {
			od[i] = ad[i]
		} else {
			od[i] = bd[i]
		}
	}
	// A selection by a constant condition is linear in a and b.
	return tp.Affine(out, nil, func(g *tensor.Tensor) []*tensor.Tensor {
		gd := g.Data()
		ga, gb := tensor.New(shape...), tensor.New(shape...)
		gad, gbd := ga.Data(), gb.Data()
		for i, v := range gd {
			if c[i] != 0 {
				gad[i] = v
			} else {
				gbd[i] = v
			}
		}
		return []*tensor.Tensor{ga, gb}
	}, a, b)
}

// reduceLayout splits shape into the reduced axes and the kept ones: for
// every element, the flat index of its output element.
func reduceLayout(shape []int, axes []int, keepDims bool) (outShape []int, outIdx []int32) {
	red := make([]bool, len(shape))
	for _, a := range axes {
		red[a] = true
	}
	full := make([]int, len(shape)) // the output shape with kept dims
	for i, d := range shape {
		if red[i] {
			full[i] = 1
		} else {
			full[i] = d
		}
	}
	st := stridesOf(full)
	outIdx = indexMap(shape, func(idx []int) int {
		s := 0
		for i, v := range idx {
			if !red[i] {
				s += v * st[i]
			}
		}
		return s
	})
	if keepDims {
		return full, outIdx
	}
	for i, d := range shape {
		if !red[i] {
			outShape = append(outShape, d)
		}
	}
	if outShape == nil {
		outShape = []int{}
	}
	return outShape, outIdx
}

// reduceExtreme records the maximum (or minimum) over axes; the gradient
// goes to the first element that attains it.
func reduceExtreme(tp *autograd.Tape, x *autograd.Var, axes []int, keepDims, isMax bool) *autograd.Var {
	shape, idx := reduceLayout(x.Value.Shape(), axes, keepDims)
	xd := x.Value.Data()
	out := tensor.New(shape...)
	od := out.Data()
	if len(xd) > 0 && len(od) == 0 {
		fail("reduction of an empty tensor")
	}
	arg := make([]int32, len(od))
	for i := range arg {
		arg[i] = -1
	}
	for k, o := range idx {
		v := xd[k]
		a := arg[o]
		if a < 0 || (isMax && v > od[o]) || (!isMax && v < od[o]) || (v != v && od[o] == od[o]) {
			od[o], arg[o] = v, int32(k)
		}
	}
	if len(xd) == 0 {
		for i := range od {
			if isMax {
				od[i] = float32(math.Inf(-1))
			} else {
				od[i] = float32(math.Inf(1))
			}
		}
	}
	return tp.Custom(out, func(g *tensor.Tensor) []*tensor.Tensor {
		gx := tensor.New(x.Value.Shape()...)
		gxd := gx.Data()
		for o, v := range g.Data() {
			if arg[o] >= 0 {
				gxd[arg[o]] += v
			}
		}
		return []*tensor.Tensor{gx}
	}, x)
}

// reduceProd records the product over axes; the gradient of each factor is
// the product of the others (computed without dividing, so zeros are
// handled).
func reduceProd(tp *autograd.Tape, x *autograd.Var, axes []int, keepDims bool) *autograd.Var {
	shape, idx := reduceLayout(x.Value.Shape(), axes, keepDims)
	xd := x.Value.Data()
	out := tensor.New(shape...)
	od := out.Data()
	prod := make([]float64, len(od))
	groups := make([][]int, len(od))
	for i := range prod {
		prod[i] = 1
	}
	for k, o := range idx {
		prod[o] *= float64(xd[k])
		groups[o] = append(groups[o], k)
	}
	for i, p := range prod {
		od[i] = float32(p)
	}
	return tp.Custom(out, func(g *tensor.Tensor) []*tensor.Tensor {
		gx := tensor.New(x.Value.Shape()...)
		gxd, gd := gx.Data(), g.Data()
		for o, ks := range groups {
			// prefix and suffix products
			n := len(ks)
			pre := make([]float64, n+1)
			pre[0] = 1
			for j, k := range ks {
				pre[j+1] = pre[j] * float64(xd[k])
			}
			suf := 1.0
			for j := n - 1; j >= 0; j-- {
				gxd[ks[j]] = gd[o] * float32(pre[j]*suf)
				suf *= float64(xd[ks[j]])
			}
		}
		return []*tensor.Tensor{gx}
	}, x)
}

// erf and its derivative.
func erf(x float64) float64             { return math.Erf(x) }
func erfGrad(x, _ float64) float64      { return 2 / math.Sqrt(math.Pi) * math.Exp(-x*x) }
func sigmoid64(x float64) float64       { return 1 / (1 + math.Exp(-x)) }
func softplus64(x float64) float64      { return math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))) }
func zeroGrad(_, _ float64) float64     { return 0 }
func identityGrad(_, _ float64) float64 { return 1 }
