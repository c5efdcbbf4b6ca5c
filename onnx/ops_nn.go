package onnx

import (
	"math"
	"slices"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Network layers: convolution, dense products, normalisation, softmax,
// reductions.

func init() {
	register("Conv", nil, compileConv)
	register("ConvTranspose", nil, compileConvTranspose)
	register("Gemm", nil, compileGemm)
	register("MatMul", nil, func(c *compiler) kernel {
		c.inputs(2, 2)
		c.outputs(1)
		return func(e *env, x []*val) []*val {
			return []*val{floatVal(matmul(e.tp, x[0].asVar(), x[1].asVar()), floatType(x[0], x[1]))}
		}
	})
	register("BatchNormalization", []int{3, 4}, compileBatchNorm)
	register("InstanceNormalization", nil, func(c *compiler) kernel {
		c.inputs(3, 3)
		c.outputs(1)
		eps := c.float("epsilon", 1e-5)
		return func(e *env, x []*val) []*val {
			d := x[0].dims()
			if len(d) < 3 {
				fail("input must be [N, C, spatial...], got %v", d)
			}
			var axes []int
			for i := 2; i < len(d); i++ {
				axes = append(axes, i)
			}
			y, _, _ := normalize(e.tp, x[0].asVar(), axes, eps)
			cs := channelShape(len(d), d[1])
			y = e.tp.Mul(y, e.tp.Reshape(x[1].asVar(), cs...))
			y = e.tp.Add(y, e.tp.Reshape(x[2].asVar(), cs...))
			return []*val{floatVal(y, x[0].dt)}
		}
	})
	register("LayerNormalization", nil, func(c *compiler) kernel {
		c.inputs(2, 3)
		c.outputs(3)
		axis := c.int("axis", -1)
		eps := c.float("epsilon", 1e-5)
		if st := c.int("stash_type", 1); st != 1 {
			c.unsupported("stash_type=%d (statistics in float, 1, are implemented)", st)
		}
		return func(e *env, x []*val) []*val {
			d := x[0].dims()
			a := normAxis(axis, len(d), "axis")
			var axes []int
			for i := a; i < len(d); i++ {
				axes = append(axes, i)
			}
			y, mean, inv := normalize(e.tp, x[0].asVar(), axes, eps)
			y = e.tp.Mul(y, x[1].asVar())
			if len(x) > 2 && x[2] != nil {
				y = e.tp.Add(y, x[2].asVar())
			}
			return []*val{floatVal(y, x[0].dt), floatVal(mean, Float), floatVal(inv, Float)}
		}
	})
	softmaxOp("Softmax", func(tp *autograd.Tape, x *autograd.Var, axis int) *autograd.Var { return tp.Softmax(x, axis) })
	softmaxOp("LogSoftmax", func(tp *autograd.Tape, x *autograd.Var, axis int) *autograd.Var { return tp.LogSoftmax(x, axis) })
	softmaxOp("Hardmax", func(tp *autograd.Tape, x *autograd.Var, axis int) *autograd.Var {
		xv := x.Value.Contiguous()
		arg := tensor.ArgMax(xv, axis)
		sh := xv.Shape()
		out := tensor.New(sh...)
		od := out.Data()
		inner := tensor.Numel(sh[axis+1:])
		n := sh[axis]
		for i, j := range arg {
			o, in := i/inner, i%inner
			od[(o*n+j)*inner+in] = 1
		}
		return autograd.Const(out) // piecewise constant: zero gradient
	})

	reduceOp("ReduceSum", 13, func(tp *autograd.Tape, x *autograd.Var, axes []int, keep bool) *autograd.Var {
		return tp.Sum(x, keep, axes...)
	}, func(a, b int64) int64 { return a + b }, 0)
	reduceOp("ReduceMean", 18, func(tp *autograd.Tape, x *autograd.Var, axes []int, keep bool) *autograd.Var {
		return tp.Mean(x, keep, axes...)
	}, nil, 0)
	reduceOp("ReduceMax", 18, func(tp *autograd.Tape, x *autograd.Var, axes []int, keep bool) *autograd.Var {
		return reduceExtreme(tp, x, axes, keep, true)
	}, func(a, b int64) int64 { return max(a, b) }, math.MinInt64)
	reduceOp("ReduceMin", 18, func(tp *autograd.Tape, x *autograd.Var, axes []int, keep bool) *autograd.Var {
		return reduceExtreme(tp, x, axes, keep, false)
	}, func(a, b int64) int64 { return min(a, b) }, math.MaxInt64)
	reduceOp("ReduceProd", 18, reduceProd, func(a, b int64) int64 { return a * b }, 1)
	reduceOp("ReduceL1", 18, func(tp *autograd.Tape, x *autograd.Var, axes []int, keep bool) *autograd.Var {
		return tp.Sum(tp.Abs(x), keep, axes...)
	}, nil, 0)
	reduceOp("ReduceL2", 18, func(tp *autograd.Tape, x *autograd.Var, axes []int, keep bool) *autograd.Var {
		return tp.Sqrt(tp.Sum(tp.Square(x), keep, axes...))
	}, nil, 0)
	reduceOp("ReduceSumSquare", 18, func(tp *autograd.Tape, x *autograd.Var, axes []int, keep bool) *autograd.Var {
		return tp.Sum(tp.Square(x), keep, axes...)
	}, nil, 0)
	reduceOp("ReduceLogSum", 18, func(tp *autograd.Tape, x *autograd.Var, axes []int, keep bool) *autograd.Var {
		return tp.Log(tp.Sum(x, keep, axes...))
	}, nil, 0)
	reduceOp("ReduceLogSumExp", 18, func(tp *autograd.Tape, x *autograd.Var, axes []int, keep bool) *autograd.Var {
		// max-shifted for stability; the shift carries no gradient.
		m := reduceExtreme(autograd.NoGrad(), x, axes, true, true).Value
		md := m.Data()
		for i, v := range md {
			if math.IsInf(float64(v), 0) || v != v {
				md[i] = 0
			}
		}
		s := tp.Log(tp.Sum(tp.Exp(tp.Sub(x, autograd.Const(m))), true, axes...))
		s = tp.Add(s, autograd.Const(m))
		if keep {
			return s
		}
		_, outShape := reducedShape(x.Value.Shape(), axes)
		return tp.Reshape(s, outShape...)
	}, nil, 0)
	argOp("ArgMax", true)
	argOp("ArgMin", false)

	register("MaxPool", nil, func(c *compiler) kernel { return compilePool(c, poolMax) })
	register("AveragePool", nil, func(c *compiler) kernel { return compilePool(c, poolAvg) })
	register("LpPool", nil, func(c *compiler) kernel { return compilePool(c, poolLp) })
	register("GlobalAveragePool", nil, func(c *compiler) kernel {
		c.inputs(1, 1)
		c.outputs(1)
		return func(e *env, x []*val) []*val {
			v := x[0].asVar()
			axes := spatialAxes(v, "GlobalAveragePool")
			if len(axes) == 2 && v.Value.IsContiguous() {
				d := v.Value.Shape()
				return []*val{floatVal(e.tp.Reshape(e.tp.GlobalAvgPool2D(v), d[0], d[1], 1, 1), x[0].dt)}
			}
			return []*val{floatVal(e.tp.Mean(v, true, axes...), x[0].dt)}
		}
	})
	register("GlobalMaxPool", nil, func(c *compiler) kernel {
		c.inputs(1, 1)
		c.outputs(1)
		return func(e *env, x []*val) []*val {
			v := x[0].asVar()
			return []*val{floatVal(reduceExtreme(e.tp, v, spatialAxes(v, "GlobalMaxPool"), true, true), x[0].dt)}
		}
	})
	register("LRN", nil, func(c *compiler) kernel {
		c.inputs(1, 1)
		c.outputs(1)
		alpha := c.float("alpha", 1e-4)
		beta := c.float("beta", 0.75)
		bias := c.float("bias", 1)
		size := int(c.int("size", 0))
		if size < 1 {
			c.bad("size %d must be positive", size)
		}
		return func(e *env, x []*val) []*val {
			v := x[0].asVar()
			d := v.Value.Shape()
			if len(d) < 3 {
				fail("input must be [N, C, ...], got %v", d)
			}
			// Σ of squares over a window of channels [c − ⌊(size−1)/2⌋, c + ⌈(size−1)/2⌉].
			sq := e.tp.Square(v)
			lo, hi := (size-1)/2, (size-1+1)/2
			var acc *autograd.Var
			st := stridesOf(d)
			for off := -lo; off <= hi; off++ {
				m := indexMap(d, func(ix []int) int {
					ch := ix[1] + off
					if ch < 0 || ch >= d[1] {
						return -1
					}
					s := 0
					for i, p := range ix {
						if i == 1 {
							p = ch
						}
						s += p * st[i]
					}
					return s
				})
				sh := gatherMap(e.tp, sq, m, d, 0)
				if acc == nil {
					acc = sh
				} else {
					acc = e.tp.Add(acc, sh)
				}
			}
			den := e.tp.AddScalar(e.tp.MulScalar(acc, alpha/float32(size)), bias)
			den = powVar(e.tp, den, autograd.Const(tensor.Scalar(beta)))
			return []*val{floatVal(e.tp.Div(v, den), x[0].dt)}
		}
	})
}

// channelShape is [C, 1, 1, ...] for broadcasting a per-channel vector
// against [N, C, spatial...] of the given rank.
func channelShape(rank, ch int) []int {
	s := make([]int, rank-1)
	for i := range s {
		s[i] = 1
	}
	s[0] = ch
	return s
}

func spatialAxes(v *autograd.Var, op string) []int {
	r := v.Value.Rank()
	if r < 3 {
		fail("%s input must be [N, C, spatial...], got %v", op, v.Value.Shape())
	}
	axes := make([]int, 0, r-2)
	for i := 2; i < r; i++ {
		axes = append(axes, i)
	}
	return axes
}

// normalize returns (x − mean)/√(var + eps) over axes, with the mean and
// 1/√(var + eps) (keeping the reduced axes).
func normalize(tp *autograd.Tape, x *autograd.Var, axes []int, eps float32) (y, mean, inv *autograd.Var) {
	mean = tp.Mean(x, true, axes...)
	xc := tp.Sub(x, mean)
	v := tp.Mean(tp.Square(xc), true, axes...)
	sd := tp.Sqrt(tp.AddScalar(v, eps))
	inv = tp.Div(autograd.Const(tensor.Scalar(1)), sd)
	return tp.Mul(xc, inv), mean, inv
}

// matmul is NumPy's matmul: 1-D operands are promoted and the added axis
// removed, and batch axes broadcast.
func matmul(tp *autograd.Tape, a, b *autograd.Var) *autograd.Var {
	as, bs := a.Value.Shape(), b.Value.Shape()
	if len(as) == 0 || len(bs) == 0 {
		fail("MatMul operands must not be scalars, got %v and %v", as, bs)
	}
	squeezeM, squeezeN := false, false
	if len(as) == 1 {
		a = tp.Reshape(a, 1, as[0])
		squeezeM = true
	}
	if len(bs) == 1 {
		b = tp.Reshape(b, bs[0], 1)
		squeezeN = true
	}
	as, bs = a.Value.Shape(), b.Value.Shape()
	ra, rb := len(as), len(bs)
	if as[ra-1] != bs[rb-2] {
		fail("inner dimensions differ: %v · %v", as, bs)
	}
	var y *autograd.Var
	switch {
	case ra == 2 && rb == 2:
		y = tp.MatMul(a, b)
	case rb == 2:
		y = tp.MatMul(contiguous(tp, a), b)
	default:
		batch := broadcastShapes("MatMul batch axes", as[:ra-2], bs[:rb-2])
		ta := slices.Concat(batch, as[ra-2:])
		tb := slices.Concat(batch, bs[rb-2:])
		a = broadcastTo(tp, floatVal(a, Float), ta).v
		b = broadcastTo(tp, floatVal(b, Float), tb).v
		y = tp.MatMul(contiguous(tp, a), contiguous(tp, b))
	}
	if squeezeM || squeezeN {
		ys := y.Value.Shape()
		out := slices.Clone(ys[:len(ys)-2])
		if !squeezeM {
			out = append(out, ys[len(ys)-2])
		}
		if !squeezeN {
			out = append(out, ys[len(ys)-1])
		}
		y = tp.Reshape(y, orEmpty(out)...)
	}
	return y
}

// compileGemm reads Gemm: Y = alpha·A'·B' + beta·C.
func compileGemm(c *compiler) kernel {
	if c.opset < 11 {
		c.inputs(3, 3)
	} else {
		c.inputs(2, 3)
	}
	c.outputs(1)
	alpha := c.float("alpha", 1)
	beta := c.float("beta", 1)
	ta := c.int("transA", 0) != 0
	tb := c.int("transB", 0) != 0
	if c.opset < 7 {
		c.ignore("broadcast") // C broadcasts either way, as NumPy's
	}
	return func(e *env, x []*val) []*val {
		a, b := x[0].asVar(), x[1].asVar()
		if a.Value.Rank() != 2 || b.Value.Rank() != 2 {
			fail("A and B must be matrices, got %v and %v", a.Value.Shape(), b.Value.Shape())
		}
		if ta {
			a = e.tp.Transpose(a)
		}
		var y *autograd.Var
		if pb := gemmPacked(e, a, x[1].asVar(), tb); pb != nil {
			y = pb
		} else {
			if tb {
				b = e.tp.Transpose(b)
			}
			y = e.tp.MatMul(a, b)
		}
		if alpha != 1 {
			y = e.tp.MulScalar(y, alpha)
		}
		if len(x) > 2 && x[2] != nil && beta != 0 {
			cv := x[2].asVar()
			if beta != 1 {
				cv = e.tp.MulScalar(cv, beta)
			}
			if _, ok := tensor.BroadcastShapes(y.Value.Shape(), cv.Value.Shape()); !ok || len(cv.Value.Shape()) > 2 {
				fail("C of shape %v does not broadcast to the product's %v", cv.Value.Shape(), y.Value.Shape())
			}
			y = e.tp.Add(y, cv)
		}
		return []*val{floatVal(y, x[0].dt)}
	}
}

// gemmPacked is a·op(w) (op: transposed when trans) with w an initialiser
// packed once (Module.packedRight), in inference on batches of 8 rows and
// more (a single row runs the one-row product, which reads w as it is),
// or nil where w may not be kept packed or the tape records (the tape's
// MatMul tells explanation rules it is a dense layer). The same bits as
// MatMul.
func gemmPacked(e *env, a, w *autograd.Var, trans bool) *autograd.Var {
	m := a.Value.Shape()[0]
	if m < 8 || e.tp.Recording() {
		return nil
	}
	pb := e.m.packedRight(e.tp, w, trans)
	if pb == nil {
		return nil
	}
	return autograd.Const(tensor.MatMulPacked(a.Value, pb))
}

// compileBatchNorm reads BatchNormalization in inference mode: the running
// statistics (buffers, no gradient) normalise; scale and bias are
// parameters. Training mode is refused: glassbox fine-tunes an imported
// network with its statistics frozen.
func compileBatchNorm(c *compiler) kernel {
	c.inputs(5, 5)
	eps := c.float("epsilon", 1e-5)
	c.ignore("momentum")
	if c.opset < 6 {
		c.ignore("consumed_inputs")
	}
	if c.opset < 7 {
		if c.int("is_test", 0) == 0 {
			// is_test=0 asks for batch statistics; the outputs beyond Y
			// would then be used. An inference export reads only Y.
			c.outputs(1)
		}
	}
	if c.opset < 9 {
		if sp := c.int("spatial", 1); sp != 1 {
			c.unsupported("spatial=%d (per-activation statistics)", sp)
		}
	}
	if c.opset >= 14 {
		if tm := c.int("training_mode", 0); tm != 0 {
			c.unsupported("training_mode=1 (batch statistics); export the model in eval mode")
		}
	}
	c.outputs(1)
	return func(e *env, x []*val) []*val {
		xv := x[0].asVar()
		d := xv.Value.Shape()
		if len(d) < 2 {
			fail("input must be [N, C, ...], got %v", d)
		}
		cs := channelShape(len(d), d[1])
		for i, nm := range []string{"scale", "B", "mean", "var"} {
			if x[i+1].numel() != d[1] {
				fail("%s has shape %v, want [%d]", nm, x[i+1].dims(), d[1])
			}
		}
		// a = scale/√(var+eps), b = B − mean·a; y = x·a + b.
		variance := x[4].asVar()
		sd := e.tp.Sqrt(e.tp.AddScalar(variance, eps))
		a := e.tp.Div(x[1].asVar(), sd)
		b := e.tp.Sub(x[2].asVar(), e.tp.Mul(x[3].asVar(), a))
		y := e.tp.Add(e.tp.Mul(xv, e.tp.Reshape(a, cs...)), e.tp.Reshape(b, cs...))
		return []*val{floatVal(y, x[0].dt)}
	}
}

// softmaxOp registers Softmax, LogSoftmax or Hardmax: before opset 13 the
// input is flattened to 2-D at axis (default 1) and normalised over the
// second axis; from 13, over the single axis (default −1).
func softmaxOp(name string, f func(tp *autograd.Tape, x *autograd.Var, axis int) *autograd.Var) {
	register(name, nil, func(c *compiler) kernel {
		c.inputs(1, 1)
		c.outputs(1)
		legacy := c.opset < 13
		def := int64(-1)
		if legacy {
			def = 1
		}
		axis := c.int("axis", def)
		return func(e *env, x []*val) []*val {
			v := x[0].asVar()
			d := v.Value.Shape()
			if len(d) == 0 {
				fail("input must not be a scalar")
			}
			if !legacy {
				a := normAxis(axis, len(d), "axis")
				return []*val{floatVal(f(e.tp, contiguous(e.tp, v), a), x[0].dt)}
			}
			a := int(axis)
			if a < 0 {
				a += len(d)
			}
			if a < 0 || a > len(d) {
				fail("axis %d is out of range for rank %d", axis, len(d))
			}
			flat := e.tp.Reshape(v, tensor.Numel(d[:a]), tensor.Numel(d[a:]))
			return []*val{floatVal(e.tp.Reshape(f(e.tp, flat, 1), d...), x[0].dt)}
		}
	})
}

// reducedShape returns the shape after reducing axes, with and without
// the kept axes.
func reducedShape(d []int, axes []int) (keep, drop []int) {
	red := make([]bool, len(d))
	for _, a := range axes {
		red[a] = true
	}
	for i, s := range d {
		if red[i] {
			keep = append(keep, 1)
		} else {
			keep = append(keep, s)
			drop = append(drop, s)
		}
	}
	return orEmpty(keep), orEmpty(drop)
}

// reduceOp registers a reduction. axesInput is the opset from which the
// axes are an input rather than an attribute (and noop_with_empty_axes
// exists); in reduces integers (nil: floats only) from init.
func reduceOp(name string, axesInput int64, fl func(tp *autograd.Tape, x *autograd.Var, axes []int, keep bool) *autograd.Var, in func(a, b int64) int64, init int64) {
	register(name, []int{1}, func(c *compiler) kernel {
		c.outputs(1)
		keep := c.int("keepdims", 1) != 0
		var attrAxes []int64
		noop := false
		if c.opset < axesInput {
			c.inputs(1, 1)
			attrAxes, _ = c.ints("axes")
		} else {
			c.inputs(1, 2)
			noop = c.int("noop_with_empty_axes", 0) != 0
		}
		return func(e *env, x []*val) []*val {
			axes := attrAxes
			if len(x) > 1 && x[1] != nil {
				axes = x[1].asInts("axes")
			}
			d := x[0].dims()
			if len(axes) == 0 && noop {
				return []*val{x[0]}
			}
			var ax []int
			if len(axes) == 0 {
				for i := range d {
					ax = append(ax, i)
				}
			} else {
				ax = normAxes(axes, len(d), "axes")
			}
			if x[0].v == nil && in != nil {
				shape, idx := reduceLayout(d, ax, keep)
				out := make([]int64, tensor.Numel(shape))
				for i := range out {
					out[i] = init
				}
				for k, o := range idx {
					out[o] = in(out[o], x[0].ints[k])
				}
				return []*val{intVal(out, shape, x[0].dt)}
			}
			v := x[0].asVar()
			if len(ax) == 0 { // a scalar: nothing to reduce
				return []*val{floatVal(fl(e.tp, e.tp.Reshape(v, 1), []int{0}, false), x[0].dt)}
			}
			return []*val{floatVal(fl(e.tp, v, ax, keep), floatType(x[0], x[0]))}
		}
	})
}

// argOp registers ArgMax or ArgMin.
func argOp(name string, isMax bool) {
	register(name, []int{0}, func(c *compiler) kernel {
		c.inputs(1, 1)
		c.outputs(1)
		axis := c.int("axis", 0)
		keep := c.int("keepdims", 1) != 0
		last := false
		if c.opset >= 12 {
			last = c.int("select_last_index", 0) != 0
		}
		return func(e *env, x []*val) []*val {
			d := x[0].dims()
			a := normAxis(axis, len(d), "axis")
			shape, idx := reduceLayout(d, []int{a}, keep)
			vals := x[0].floats()
			if x[0].v == nil {
				vals = nil
			}
			out := make([]int64, tensor.Numel(shape))
			best := make([]float64, len(out))
			seen := make([]bool, len(out))
			inner := tensor.Numel(d[a+1:])
			for k, o := range idx {
				var v float64
				if vals != nil {
					v = float64(vals[k])
				} else {
					v = float64(x[0].ints[k])
				}
				better := !seen[o] || (isMax && v > best[o]) || (!isMax && v < best[o]) || (last && v == best[o])
				if better {
					best[o], seen[o] = v, true
					out[o] = int64((k / inner) % d[a])
				}
			}
			return []*val{intVal(out, shape, Int64)}
		}
	})
}

// convGeometry is a convolution's or pooling's per-axis settings, resolved
// for a given input.
type convGeometry struct {
	kernel, stride, dil []int
	padBegin, padEnd    []int
}

// spatialAttrs reads kernel_shape, strides, dilations, pads and auto_pad.
type spatialAttrs struct {
	kernel, strides, dil, pads []int64
	autoPad                    string
}

func readSpatial(c *compiler, withDil bool) spatialAttrs {
	var s spatialAttrs
	s.kernel, _ = c.ints("kernel_shape")
	s.strides, _ = c.ints("strides")
	if withDil {
		s.dil, _ = c.ints("dilations")
	}
	s.pads, _ = c.ints("pads")
	s.autoPad = c.str("auto_pad", "NOTSET")
	switch s.autoPad {
	case "NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER":
	default:
		c.bad("auto_pad %q (want NOTSET, VALID, SAME_UPPER or SAME_LOWER)", s.autoPad)
	}
	for _, v := range s.strides {
		if v < 1 {
			c.bad("strides %v must be positive", s.strides)
		}
	}
	for _, v := range s.dil {
		if v < 1 {
			c.bad("dilations %v must be positive", s.dil)
		}
	}
	for _, v := range s.pads {
		if v < 0 {
			c.unsupported("negative pads %v", s.pads)
		}
	}
	for _, v := range s.kernel {
		if v < 1 {
			c.bad("kernel_shape %v must be positive", s.kernel)
		}
	}
	return s
}

// resolve computes the geometry for spatial input sizes in and kernel
// sizes k (from the weights, or kernel_shape for pooling).
func (s spatialAttrs) resolve(in, k []int, ceil bool) convGeometry {
	n := len(in)
	g := convGeometry{kernel: k, stride: make([]int, n), dil: make([]int, n), padBegin: make([]int, n), padEnd: make([]int, n)}
	get := func(v []int64, i int, what string) int {
		if v == nil {
			return 1
		}
		if len(v) != n {
			fail("%s %v has %d entries for %d spatial axes", what, v, len(v), n)
		}
		return int(v[i])
	}
	if s.kernel != nil && len(s.kernel) != n {
		fail("kernel_shape %v has %d entries for %d spatial axes", s.kernel, len(s.kernel), n)
	}
	for i := range in {
		g.stride[i] = get(s.strides, i, "strides")
		g.dil[i] = get(s.dil, i, "dilations")
		if s.kernel != nil && int(s.kernel[i]) != k[i] {
			fail("kernel_shape %v disagrees with the weights' spatial shape %v", s.kernel, k)
		}
	}
	switch s.autoPad {
	case "NOTSET":
		if s.pads != nil {
			if len(s.pads) != 2*n {
				fail("pads %v must have %d entries", s.pads, 2*n)
			}
			for i := range in {
				g.padBegin[i], g.padEnd[i] = int(s.pads[i]), int(s.pads[i+n])
			}
		}
	case "SAME_UPPER", "SAME_LOWER":
		for i := range in {
			ke := (k[i]-1)*g.dil[i] + 1
			out := (in[i] + g.stride[i] - 1) / g.stride[i]
			total := max(0, (out-1)*g.stride[i]+ke-in[i])
			small := total / 2
			if s.autoPad == "SAME_UPPER" {
				g.padBegin[i], g.padEnd[i] = small, total-small
			} else {
				g.padBegin[i], g.padEnd[i] = total-small, small
			}
		}
	}
	return g
}

// outSize is the output length of axis i: floor (or ceil) of
// (in + pads − effective kernel)/stride + 1.
func (g convGeometry) outSize(i, in int, ceil bool) int {
	ke := (g.kernel[i]-1)*g.dil[i] + 1
	span := in + g.padBegin[i] + g.padEnd[i] - ke
	if span < 0 {
		fail("input size %d padded by %d+%d is smaller than the kernel extent %d", in, g.padBegin[i], g.padEnd[i], ke)
	}
	if ceil {
		o := (span+g.stride[i]-1)/g.stride[i] + 1
		// The last window must start inside the input or the begin padding.
		if (o-1)*g.stride[i] >= in+g.padBegin[i] {
			o--
		}
		return o
	}
	return span/g.stride[i] + 1
}

// compileConv reads Conv (1-D, 2-D and 3-D, groups, dilations, any pads).
func compileConv(c *compiler) kernel {
	run := compileConvAct(c)
	return func(e *env, x []*val) []*val { return run(e, x, convAct{}) }
}

// convAct is an activation fused into a convolution's output (see
// Module.fuseConvAct): none, ReLU, or, with hi > 0, min(ReLU(·), hi)
// (ReLU6 as a Clip to [0, 6]).
type convAct struct {
	relu bool
	hi   float32
	// res, when set, is added to the convolution's output before the
	// activation (fuseConvAdd; inference only). A kernel that cannot add
	// it (its shape is not the output's) returns nil.
	res *tensor.Tensor
}

// compileConvAct is compileConv's kernel with the activation to fuse as
// an argument.
func compileConvAct(c *compiler) func(e *env, x []*val, act convAct) []*val {
	c.inputs(2, 3)
	c.outputs(1)
	sa := readSpatial(c, true)
	group := int(c.int("group", 1))
	if group < 1 {
		c.bad("group %d must be positive", group)
	}
	return func(e *env, x []*val, act convAct) []*val {
		xv, w := x[0].asVar(), x[1].asVar()
		var b *autograd.Var
		if len(x) > 2 && x[2] != nil {
			b = x[2].asVar()
		}
		xs, ws := xv.Value.Shape(), w.Value.Shape()
		if len(xs) < 3 || len(xs) > 5 || len(ws) != len(xs) {
			if len(xs) > 5 {
				unsupportedAt("%d-D convolution (1-D, 2-D and 3-D are implemented)", len(xs)-2)
			}
			fail("input %v and weights %v must be [N, C, spatial...] and [M, C/group, kernel...] of the same rank", xs, ws)
		}
		if xs[1] != ws[1]*group {
			fail("input has %d channels, but weights %v with group %d take %d (%d per group); group should be %d / %d", xs[1], ws, group, ws[1]*group, ws[1], xs[1], ws[1])
		}
		if ws[0]%group != 0 {
			fail("%d output channels do not split into %d groups", ws[0], group)
		}
		if b != nil && (b.Value.Rank() != 1 || b.Value.Dim(0) != ws[0]) {
			fail("bias has shape %v, want [%d]", b.Value.Shape(), ws[0])
		}
		g := sa.resolve(xs[2:], ws[2:], false)
		for i := range xs[2:] {
			g.outSize(i, xs[2+i], false) // checks the kernel fits
		}
		y := convND(e.tp, e.m, xv, w, b, g, group, act)
		if y == nil {
			return nil // the residual does not fit
		}
		if act.relu && len(xs) != 4 {
			if act.hi > 0 {
				y = clampVar(e.tp, y, 0, act.hi)
			} else {
				y = e.tp.ReLU(y)
			}
		}
		return []*val{floatVal(y, x[0].dt)}
	}
}

// convND runs a 1-, 2- or 3-D convolution through the 2-D tape op; a
// 2-D one gets act applied too.
func convND(tp *autograd.Tape, m *Module, x, w, b *autograd.Var, g convGeometry, group int, act convAct) *autograd.Var {
	xs, ws := x.Value.Shape(), w.Value.Shape()
	switch len(xs) {
	case 3:
		g2 := convGeometry{kernel: []int{1, g.kernel[0]}, stride: []int{1, g.stride[0]}, dil: []int{1, g.dil[0]},
			padBegin: []int{0, g.padBegin[0]}, padEnd: []int{0, g.padEnd[0]}}
		y := conv2d(tp, nil, tp.Reshape(x, xs[0], xs[1], 1, xs[2]), tp.Reshape(w, ws[0], ws[1], 1, ws[2]), b, g2, group, convAct{})
		ys := y.Value.Shape()
		return tp.Reshape(y, ys[0], ys[1], ys[3])
	case 4:
		return conv2d(tp, m, x, w, b, g, group, act)
	}
	// 3-D: for each kernel depth j, gather the input planes every output
	// depth reads at that tap (zeros in the padding), fold the depth into
	// the batch and run a 2-D convolution with the j-th kernel slice.
	n, ch, dd := xs[0], xs[1], xs[2]
	od := g.outSize(0, dd, false)
	g2 := convGeometry{kernel: g.kernel[1:], stride: g.stride[1:], dil: g.dil[1:], padBegin: g.padBegin[1:], padEnd: g.padEnd[1:]}
	hw := xs[3] * xs[4]
	var acc *autograd.Var
	for j := 0; j < ws[2]; j++ {
		shape := []int{n, od, ch, xs[3], xs[4]}
		m := indexMap(shape, func(ix []int) int {
			z := ix[1]*g.stride[0] + j*g.dil[0] - g.padBegin[0]
			if z < 0 || z >= dd {
				return -1
			}
			return ((ix[0]*ch+ix[2])*dd+z)*hw + ix[3]*xs[4] + ix[4]
		})
		xj := tp.Reshape(gatherMap(tp, x, m, shape, 0), n*od, ch, xs[3], xs[4])
		wj := tp.Reshape(tp.Slice(w, 2, j, j+1), ws[0], ws[1], ws[3], ws[4])
		yj := conv2d(tp, nil, xj, wj, nil, g2, group, convAct{})
		if acc == nil {
			acc = yj
		} else {
			acc = tp.Add(acc, yj)
		}
	}
	as := acc.Value.Shape() // [n·od, M, oh, ow]
	y := tp.Transpose(tp.Reshape(acc, n, od, as[1], as[2], as[3]), 0, 2, 1, 3, 4)
	y = contiguous(tp, y)
	if b != nil {
		y = tp.Add(y, tp.Reshape(b, as[1], 1, 1, 1))
	}
	return y
}

// conv2d runs a 2-D convolution followed by act: dilations by spreading
// the kernel out with zeros, asymmetric pads by padding the input first.
// Filters that are m's initialisers are packed once (m nil: never).
func conv2d(tp *autograd.Tape, m *Module, x, w, b *autograd.Var, g convGeometry, group int, act convAct) *autograd.Var {
	if g.dil[0] != 1 || g.dil[1] != 1 {
		w = dilateKernel(tp, w, g.dil)
	}
	p := tensor.ConvParams{StrideH: g.stride[0], StrideW: g.stride[1], Groups: group}
	if g.padBegin[0] == g.padEnd[0] && g.padBegin[1] == g.padEnd[1] {
		p.PadH, p.PadW = g.padBegin[0], g.padBegin[1]
	} else {
		x = padSpatial(tp, x, g.padBegin, g.padEnd)
	}
	x, w = contiguous(tp, x), contiguous(tp, w)
	p.Prepared = m.packedFilters(tp, w, group)
	if act.res != nil {
		xs, ws := x.Value.Shape(), w.Value.Shape()
		oh := tensor.ConvOutSize(xs[2], ws[2], p.StrideH, p.PadH)
		ow := tensor.ConvOutSize(xs[3], ws[3], p.StrideW, p.PadW)
		if !slices.Equal(act.res.Shape(), []int{xs[0], ws[0], oh, ow}) {
			return nil
		}
		var bv *tensor.Tensor
		if b != nil {
			bv = b.Value
		}
		return autograd.Const(tensor.Conv2DAdd(x.Value, w.Value, bv, act.res, p, act.relu, act.hi))
	}
	switch {
	case act.relu && act.hi > 0 && tp.Rule() == nil:
		return convReluMin(tp, x, w, b, p, act.hi)
	case act.relu && act.hi > 0:
		return clampVar(tp, tp.Conv2DReLU(x, w, b, p), 0, act.hi)
	case act.relu:
		return tp.Conv2DReLU(x, w, b, p)
	}
	return tp.Conv2D(x, w, b, p)
}

// dilateKernel spreads a [M, C, kh, kw] kernel over (kh−1)·dh+1 rows and
// (kw−1)·dw+1 columns with zeros between the taps.
func dilateKernel(tp *autograd.Tape, w *autograd.Var, dil []int) *autograd.Var {
	ws := w.Value.Shape()
	kh, kw := (ws[2]-1)*dil[0]+1, (ws[3]-1)*dil[1]+1
	shape := []int{ws[0], ws[1], kh, kw}
	m := indexMap(shape, func(ix []int) int {
		if ix[2]%dil[0] != 0 || ix[3]%dil[1] != 0 {
			return -1
		}
		return ((ix[0]*ws[1]+ix[1])*ws[2]+ix[2]/dil[0])*ws[3] + ix[3]/dil[1]
	})
	return gatherMap(tp, w, m, shape, 0)
}

// padSpatial zero-pads the last len(begin) axes of x.
func padSpatial(tp *autograd.Tape, x *autograd.Var, begin, end []int) *autograd.Var {
	d := x.Value.Shape()
	off := len(d) - len(begin)
	shape := slices.Clone(d)
	for i := range begin {
		shape[off+i] += begin[i] + end[i]
	}
	st := stridesOf(d)
	m := indexMap(shape, func(ix []int) int {
		s := 0
		for i, v := range ix {
			if i >= off {
				v -= begin[i-off]
				if v < 0 || v >= d[i] {
					return -1
				}
			}
			s += v * st[i]
		}
		return s
	})
	return gatherMap(tp, x, m, shape, 0)
}

// compileConvTranspose reads ConvTranspose (1-D and 2-D).
func compileConvTranspose(c *compiler) kernel {
	c.inputs(2, 3)
	c.outputs(1)
	sa := readSpatial(c, true)
	group := int(c.int("group", 1))
	outPad, _ := c.ints("output_padding")
	outShape, hasOutShape := c.ints("output_shape")
	if group < 1 {
		c.bad("group %d must be positive", group)
	}
	return func(e *env, x []*val) []*val {
		xv, w := x[0].asVar(), x[1].asVar()
		var b *autograd.Var
		if len(x) > 2 && x[2] != nil {
			b = x[2].asVar()
		}
		xs, ws := xv.Value.Shape(), w.Value.Shape()
		if len(xs) != 3 && len(xs) != 4 {
			if len(xs) == 5 {
				unsupportedAt("3-D transposed convolution (1-D and 2-D are implemented)")
			}
			fail("input must be [N, C, spatial...] of rank 3 or 4, got %v", xs)
		}
		if len(ws) != len(xs) || ws[0] != xs[1] || ws[0]%group != 0 {
			fail("weights %v do not fit input %v with %d groups (want [C, M/group, kernel...])", ws, xs, group)
		}
		if len(xs) == 3 {
			xv = e.tp.Reshape(xv, xs[0], xs[1], 1, xs[2])
			w = e.tp.Reshape(w, ws[0], ws[1], 1, ws[2])
		}
		n := len(xs) - 2
		in := xv.Value.Shape()[2:]
		k := w.Value.Shape()[2:]
		get := func(v []int64, i int, def int, what string) int {
			if v == nil {
				return def
			}
			if len(v) != n {
				fail("%s %v has %d entries for %d spatial axes", what, v, len(v), n)
			}
			return int(v[i])
		}
		stride, dil := make([]int, 2), make([]int, 2)
		begin := make([]int, 2)
		out := make([]int, 2)
		off := 2 - n
		stride[0], dil[0] = 1, 1
		for i := 0; i < n; i++ {
			s, d := get(sa.strides, i, 1, "strides"), get(sa.dil, i, 1, "dilations")
			op := get(outPad, i, 0, "output_padding")
			if sa.kernel != nil && get(sa.kernel, i, 0, "kernel_shape") != k[off+i] {
				fail("kernel_shape %v disagrees with the weights %v", sa.kernel, ws)
			}
			ke := (k[off+i]-1)*d + 1
			full := s*(in[off+i]-1) + op + ke
			pb, pe := 0, 0
			switch {
			case hasOutShape || sa.autoPad == "SAME_UPPER" || sa.autoPad == "SAME_LOWER":
				want := in[off+i] * s
				if hasOutShape {
					if len(outShape) < n {
						fail("output_shape %v has fewer than %d entries", outShape, n)
					}
					want = int(outShape[len(outShape)-n+i])
				}
				total := full - want
				half := floorDiv(total, 2) // as the reference's Python //
				if sa.autoPad == "SAME_UPPER" {
					pb, pe = half, total-half
				} else {
					pb, pe = total-half, half
				}
			case sa.autoPad == "NOTSET" && sa.pads != nil:
				pb, pe = get(sa.pads[:n], i, 0, "pads"), int(sa.pads[n+i])
			}
			stride[off+i], dil[off+i] = s, d
			begin[off+i] = pb
			out[off+i] = full - pb - pe
			if out[off+i] < 1 {
				fail("output size %d on spatial axis %d is not positive", out[off+i], i)
			}
		}
		if off == 1 {
			out[0] = 1
		}
		if dil[0] != 1 || dil[1] != 1 {
			w = dilateKernel(e.tp, w, dil)
		}
		y := convTranspose2d(e.tp, contiguous(e.tp, xv), contiguous(e.tp, w), stride, group)
		ys := y.Value.Shape()
		// Crop the begin pads and extend with zeros (output_padding) to out.
		if begin[0] != 0 || begin[1] != 0 || ys[2] != out[0] || ys[3] != out[1] {
			shape := []int{ys[0], ys[1], out[0], out[1]}
			m := indexMap(shape, func(ix []int) int {
				r, cc := ix[2]+begin[0], ix[3]+begin[1]
				if r < 0 || cc < 0 || r >= ys[2] || cc >= ys[3] {
					return -1
				}
				return ((ix[0]*ys[1]+ix[1])*ys[2]+r)*ys[3] + cc
			})
			y = gatherMap(e.tp, y, m, shape, 0)
		}
		if b != nil {
			if b.Value.Len() != y.Value.Dim(1) {
				fail("bias has shape %v, want [%d]", b.Value.Shape(), y.Value.Dim(1))
			}
			y = e.tp.Add(y, e.tp.Reshape(b, y.Value.Dim(1), 1, 1))
		}
		if n == 1 {
			s := y.Value.Shape()
			y = e.tp.Reshape(y, s[0], s[1], s[3])
		}
		return []*val{floatVal(y, x[0].dt)}
	}
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// convTranspose2d is the unpadded transposed convolution of x [N, C, H, W]
// with w [C, M/g, kh, kw]: the input gradient of the convolution with w,
// evaluated at x. Its backward is that convolution (for x) and the
// convolution's weight gradient with the roles of input and output
// swapped (for w).
func convTranspose2d(tp *autograd.Tape, x, w *autograd.Var, stride []int, group int) *autograd.Var {
	xs, ws := x.Value.Shape(), w.Value.Shape()
	p := tensor.ConvParams{StrideH: stride[0], StrideW: stride[1], Groups: group}
	oh := stride[0]*(xs[2]-1) + ws[2]
	ow := stride[1]*(xs[3]-1) + ws[3]
	zeros := tensor.New(xs[0], ws[1]*group, oh, ow)
	y, _, _ := tensor.Conv2DBackward(zeros, w.Value, x.Value, p, true)
	return tp.Custom(y, func(g *tensor.Tensor) []*tensor.Tensor {
		g = g.Contiguous()
		var dx, dw *tensor.Tensor
		if x.RequiresGrad() {
			dx = tensor.Conv2D(g, w.Value, nil, p)
		}
		if w.RequiresGrad() {
			_, dw, _ = tensor.Conv2DBackward(g, w.Value, x.Value, p, false)
		}
		return []*tensor.Tensor{dx, dw}
	}, x, w)
}
