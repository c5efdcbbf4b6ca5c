package onnx

import (
	"math"
	"slices"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Shape and data-movement operators. They work on float data (on the tape,
// gradients flowing back through them) and on integer data (shapes and
// indices, folded as they are computed).

func init() {
	register("Shape", []int{0}, func(c *compiler) kernel {
		c.inputs(1, 1)
		c.outputs(1)
		start, end := int64(0), int64(math.MaxInt64)
		if c.opset >= 15 {
			start = c.int("start", 0)
			end = c.int("end", math.MaxInt64)
		}
		return func(e *env, x []*val) []*val {
			d := x[0].dims()
			lo, hi := clampRange(start, end, len(d))
			return []*val{intVal(toInt64s(d[lo:max(lo, hi)]), []int{max(hi-lo, 0)}, Int64)}
		}
	})
	register("Size", []int{0}, func(c *compiler) kernel {
		c.inputs(1, 1)
		c.outputs(1)
		return func(e *env, x []*val) []*val {
			return []*val{intVal([]int64{int64(x[0].numel())}, []int{}, Int64)}
		}
	})
	register("Reshape", []int{1}, func(c *compiler) kernel {
		c.inputs(2, 2)
		c.outputs(1)
		allowZero := int64(0)
		if c.opset >= 14 {
			allowZero = c.int("allowzero", 0)
		}
		return func(e *env, x []*val) []*val {
			target := slices.Clone(x[1].asInts("shape"))
			if x[1].rank() != 1 {
				fail("shape must be 1-D, got shape %v", x[1].dims())
			}
			if x[1].static {
				e.batchFix(target, x[0].dims())
			}
			return []*val{reshapeVal(e.tp, x[0], resolveShape(x[0].dims(), target, allowZero != 0))}
		}
	})
	register("Flatten", nil, func(c *compiler) kernel {
		c.inputs(1, 1)
		c.outputs(1)
		axis := c.int("axis", 1)
		return func(e *env, x []*val) []*val {
			d := x[0].dims()
			a := int(axis)
			if a < 0 {
				a += len(d)
			}
			if a < 0 || a > len(d) {
				fail("axis %d is out of range for rank %d", axis, len(d))
			}
			return []*val{reshapeVal(e.tp, x[0], []int{tensor.Numel(d[:a]), tensor.Numel(d[a:])})}
		}
	})
	register("Squeeze", []int{1}, func(c *compiler) kernel {
		c.outputs(1)
		var attrAxes []int64
		if c.opset < 13 {
			c.inputs(1, 1)
			attrAxes, _ = c.ints("axes")
		} else {
			c.inputs(1, 2)
		}
		return func(e *env, x []*val) []*val {
			axes := attrAxes
			if len(x) > 1 && x[1] != nil {
				axes = x[1].asInts("axes")
			}
			d := x[0].dims()
			drop := make([]bool, len(d))
			if len(axes) == 0 {
				for i, s := range d {
					drop[i] = s == 1
				}
			}
			for _, a := range normAxes(axes, len(d), "axes") {
				if d[a] != 1 {
					fail("cannot squeeze axis %d of shape %v: its size is not 1", a, d)
				}
				drop[a] = true
			}
			var shape []int
			for i, s := range d {
				if !drop[i] {
					shape = append(shape, s)
				}
			}
			return []*val{reshapeVal(e.tp, x[0], orEmpty(shape))}
		}
	})
	register("Unsqueeze", []int{1}, func(c *compiler) kernel {
		c.outputs(1)
		var attrAxes []int64
		if c.opset < 13 {
			c.inputs(1, 1)
			var ok bool
			if attrAxes, ok = c.ints("axes"); !ok {
				c.bad("attribute axes is required")
			}
		} else {
			c.inputs(2, 2)
		}
		return func(e *env, x []*val) []*val {
			axes := attrAxes
			if len(x) > 1 && x[1] != nil {
				axes = x[1].asInts("axes")
			}
			d := x[0].dims()
			r := len(d) + len(axes)
			ins := make([]bool, r)
			for _, a := range normAxes(axes, r, "axes") {
				ins[a] = true
			}
			shape := make([]int, 0, r)
			j := 0
			for i := 0; i < r; i++ {
				if ins[i] {
					shape = append(shape, 1)
				} else {
					shape = append(shape, d[j])
					j++
				}
			}
			return []*val{reshapeVal(e.tp, x[0], shape)}
		}
	})
	register("Concat", nil, func(c *compiler) kernel {
		c.inputs(1, 1<<20)
		c.outputs(1)
		axis := int64(1)
		if c.opset >= 4 {
			if !c.has("axis") {
				c.bad("attribute axis is required")
			}
		}
		axis = c.int("axis", axis)
		return func(e *env, x []*val) []*val { return []*val{concatVals(e.tp, axis, x)} }
	})
	register("Transpose", nil, func(c *compiler) kernel {
		c.inputs(1, 1)
		c.outputs(1)
		perm, hasPerm := c.ints("perm")
		return func(e *env, x []*val) []*val {
			r := x[0].rank()
			p := make([]int, r)
			for i := range p {
				p[i] = r - 1 - i
			}
			if hasPerm {
				if len(perm) != r {
					fail("perm %v has %d axes, the input has rank %d", perm, len(perm), r)
				}
				p = normAxes(perm, r, "perm")
			}
			return []*val{transposeVal(e.tp, x[0], p)}
		}
	})
	register("Slice", []int{1, 2, 3, 4}, compileSlice)
	register("Gather", []int{1}, func(c *compiler) kernel {
		c.inputs(2, 2)
		c.outputs(1)
		axis := c.int("axis", 0)
		return func(e *env, x []*val) []*val {
			return []*val{gatherVal(e.tp, x[0], x[1], axis)}
		}
	})
	register("GatherElements", []int{1}, func(c *compiler) kernel {
		c.inputs(2, 2)
		c.outputs(1)
		axis := c.int("axis", 0)
		return func(e *env, x []*val) []*val {
			d := x[0].dims()
			a := normAxis(axis, len(d), "axis")
			id := x[1].dims()
			if len(id) != len(d) {
				fail("indices have rank %d, data rank %d", len(id), len(d))
			}
			idx := x[1].asInts("indices")
			m := elementsIndexMap(d, a, id, idx)
			return []*val{remap(e.tp, x[0], m, id, 0)}
		}
	})
	register("Cast", nil, func(c *compiler) kernel {
		c.inputs(1, 1)
		c.outputs(1)
		if !c.has("to") {
			c.bad("attribute to is required")
		}
		to := DataType(c.int("to", 0))
		if c.opset >= 19 {
			c.ignore("saturate") // only affects float8 targets, which are refused
		}
		if !isFloatType(to) && !isIntType(to) {
			c.unsupported("cast to %s", typeName(to))
		}
		return func(e *env, x []*val) []*val { return []*val{castOnTape(e.tp, x[0], to)} }
	})
	register("CastLike", []int{1}, func(c *compiler) kernel {
		c.inputs(2, 2)
		c.outputs(1)
		if c.opset >= 19 {
			c.ignore("saturate")
		}
		return func(e *env, x []*val) []*val { return []*val{castOnTape(e.tp, x[0], x[1].dt)} }
	})
	register("Constant", nil, compileConstant)
	register("ConstantOfShape", []int{0}, func(c *compiler) kernel {
		c.inputs(1, 1)
		c.outputs(1)
		fill := &val{v: autograd.Const(tensor.New(1)), dt: Float}
		if t := c.tensorAttr("value"); t != nil {
			v, err := tensorVal(t)
			if err != nil {
				c.bad("value: %v", err)
			}
			if v.numel() != 1 {
				c.bad("value must have one element, got shape %v", v.dims())
			}
			fill = v
		}
		return func(e *env, x []*val) []*val {
			shape := toInts(x[0].asInts("shape"))
			n := checkNumel(shape, "shape")
			if fill.v != nil {
				return []*val{floatVal(autograd.Const(tensor.Full(fill.v.Value.Data()[0], shape...)), fill.dt)}
			}
			d := make([]int64, n)
			for i := range d {
				d[i] = fill.ints[0]
			}
			return []*val{intVal(d, shape, fill.dt)}
		}
	})
	register("Expand", []int{1}, func(c *compiler) kernel {
		c.inputs(2, 2)
		c.outputs(1)
		return func(e *env, x []*val) []*val {
			target := slices.Clone(x[1].asInts("shape"))
			if x[1].static {
				e.batchFix(target, x[0].dims())
			}
			shape := broadcastShapes("Expand", x[0].dims(), toInts(target))
			checkNumel(shape, "output shape")
			return []*val{broadcastTo(e.tp, x[0], shape)}
		}
	})
	register("Tile", []int{1}, func(c *compiler) kernel {
		c.inputs(2, 2)
		c.outputs(1)
		return func(e *env, x []*val) []*val {
			rep := x[1].asInts("repeats")
			d := x[0].dims()
			if len(rep) != len(d) {
				fail("repeats %v must have one entry per axis of shape %v", rep, d)
			}
			shape := make([]int, len(d))
			for i, r := range rep {
				if r < 0 {
					fail("repeats %v must not be negative", rep)
				}
				shape[i] = d[i] * int(r)
			}
			st := stridesOf(d)
			m := indexMap(shape, func(ix []int) int {
				s := 0
				for i, v := range ix {
					s += (v % d[i]) * st[i]
				}
				return s
			})
			return []*val{remap(e.tp, x[0], m, shape, 0)}
		}
	})
	register("Split", []int{1}, compileSplit)
	register("Pad", []int{1, 3}, compilePad)
	register("Range", []int{0, 1, 2}, func(c *compiler) kernel {
		c.inputs(3, 3)
		c.outputs(1)
		return func(e *env, x []*val) []*val {
			if x[0].v == nil && x[1].v == nil && x[2].v == nil {
				s, l, d := x[0].scalarInt("start"), x[1].scalarInt("limit"), x[2].scalarInt("delta")
				if d == 0 {
					fail("delta is 0")
				}
				n := max(int64(math.Ceil(float64(l-s)/float64(d))), 0)
				checkNumel([]int{int(n)}, "Range output")
				out := make([]int64, n)
				for i := range out {
					out[i] = s + int64(i)*d
				}
				return []*val{intVal(out, []int{int(n)}, x[0].dt)}
			}
			s, l, d := x[0].scalarFloat("start"), x[1].scalarFloat("limit"), x[2].scalarFloat("delta")
			if d == 0 {
				fail("delta is 0")
			}
			n := max(int(math.Ceil(float64(l-s)/float64(d))), 0)
			checkNumel([]int{n}, "Range output")
			out := tensor.New(n)
			od := out.Data()
			for i := range od {
				od[i] = s + float32(i)*d
			}
			return []*val{floatVal(autograd.Const(out), floatType(x[0], x[1]))}
		}
	})
	register("Dropout", []int{1, 2}, func(c *compiler) kernel {
		c.inputs(1, 3)
		c.outputs(2)
		ratio := float32(0.5)
		switch {
		case c.opset < 7:
			c.ignore("is_test")
			ratio = c.float("ratio", 0.5)
		case c.opset < 12:
			ratio = c.float("ratio", 0.5)
		default:
			c.ignore("seed")
		}
		return func(e *env, x []*val) []*val {
			r := ratio
			if len(x) > 1 && x[1] != nil {
				r = x[1].scalarFloat("ratio")
			}
			if len(x) > 2 && x[2] != nil && x[2].scalarInt("training_mode") != 0 && r > 0 {
				// The graph asks for dropout with its own random stream,
				// which glassbox cannot reproduce; Ctx.Training drops
				// with the context's generator instead.
				unsupportedAt("training_mode=true (dropout inside the graph); glassbox drops out when the nn.Ctx is training")
			}
			mask := func() *val {
				ones := make([]int64, x[0].numel())
				for i := range ones {
					ones[i] = 1
				}
				return boolVal(ones, x[0].dims())
			}
			if !e.ctx.Training || e.ctx.RNG == nil || r <= 0 || x[0].v == nil {
				return []*val{x[0], mask()}
			}
			if r >= 1 {
				fail("ratio %v must be below 1 in training", r)
			}
			m := tensor.New(x[0].dims()...)
			md := m.Data()
			bits := make([]int64, len(md))
			for i := range md {
				if e.ctx.RNG.Float32() >= r {
					md[i] = 1 / (1 - r)
					bits[i] = 1
				}
			}
			return []*val{floatVal(e.tp.Dropout(x[0].v, m), x[0].dt), boolVal(bits, x[0].dims())}
		}
	})
	register("DepthToSpace", nil, func(c *compiler) kernel {
		c.inputs(1, 1)
		c.outputs(1)
		bs := int(c.int("blocksize", 0))
		mode := "DCR"
		if c.opset >= 11 {
			mode = c.str("mode", "DCR")
		}
		if bs < 1 {
			c.bad("blocksize %d must be positive", bs)
		}
		if mode != "DCR" && mode != "CRD" {
			c.unsupported("mode %q", mode)
		}
		return func(e *env, x []*val) []*val {
			d := x[0].dims()
			if len(d) != 4 || d[1]%(bs*bs) != 0 {
				fail("input shape %v must be [N, C, H, W] with C divisible by %d", d, bs*bs)
			}
			n, ch, h, w := d[0], d[1]/(bs*bs), d[2], d[3]
			var v *val
			if mode == "DCR" {
				v = reshapeVal(e.tp, x[0], []int{n, bs, bs, ch, h, w})
				v = transposeVal(e.tp, v, []int{0, 3, 4, 1, 5, 2})
			} else {
				v = reshapeVal(e.tp, x[0], []int{n, ch, bs, bs, h, w})
				v = transposeVal(e.tp, v, []int{0, 1, 4, 2, 5, 3})
			}
			return []*val{reshapeVal(e.tp, v, []int{n, ch, h * bs, w * bs})}
		}
	})
	register("SpaceToDepth", nil, func(c *compiler) kernel {
		c.inputs(1, 1)
		c.outputs(1)
		bs := int(c.int("blocksize", 0))
		if bs < 1 {
			c.bad("blocksize %d must be positive", bs)
		}
		return func(e *env, x []*val) []*val {
			d := x[0].dims()
			if len(d) != 4 || d[2]%bs != 0 || d[3]%bs != 0 {
				fail("input shape %v must be [N, C, H, W] with H and W divisible by %d", d, bs)
			}
			n, ch, h, w := d[0], d[1], d[2]/bs, d[3]/bs
			v := reshapeVal(e.tp, x[0], []int{n, ch, h, bs, w, bs})
			v = transposeVal(e.tp, v, []int{0, 3, 5, 1, 2, 4})
			return []*val{reshapeVal(e.tp, v, []int{n, ch * bs * bs, h, w})}
		}
	})
	register("Trilu", []int{1}, func(c *compiler) kernel {
		c.inputs(1, 2)
		c.outputs(1)
		upper := c.int("upper", 1) != 0
		return func(e *env, x []*val) []*val {
			k := int64(0)
			if len(x) > 1 && x[1] != nil {
				k = x[1].scalarInt("k")
			}
			d := x[0].dims()
			if len(d) < 2 {
				fail("input must have rank ≥ 2, got %v", d)
			}
			st := stridesOf(d)
			r := len(d)
			m := indexMap(d, func(ix []int) int {
				i, j := int64(ix[r-2]), int64(ix[r-1])
				keep := j-i >= k
				if !upper {
					keep = j-i <= k
				}
				if !keep {
					return -1
				}
				s := 0
				for a, v := range ix {
					s += v * st[a]
				}
				return s
			})
			return []*val{remap(e.tp, x[0], m, d, 0)}
		}
	})
	register("EyeLike", []int{0}, func(c *compiler) kernel {
		c.inputs(1, 1)
		c.outputs(1)
		k := c.int("k", 0)
		dt := DataType(c.int("dtype", 0))
		return func(e *env, x []*val) []*val {
			d := x[0].dims()
			if len(d) != 2 {
				fail("input must be 2-D, got %v", d)
			}
			t := dt
			if t == Undefined {
				t = x[0].dt
			}
			out := make([]int64, d[0]*d[1])
			for i := 0; i < d[0]; i++ {
				if j := int64(i) + k; j >= 0 && j < int64(d[1]) {
					out[i*d[1]+int(j)] = 1
				}
			}
			return []*val{castVal(intVal(out, d, Int64), t)}
		}
	})
}

// batchFix gives a constant target shape whose first size is the batch
// size the graph was exported with the actual batch size, when the data
// being reshaped has that batch: models exported with a fixed batch size
// (x.view(1, -1)) then still run on other batches.
func (e *env) batchFix(target []int64, data []int) {
	b0 := e.m.batch
	if b0 <= 0 || e.batch <= 0 || e.batch == b0 || len(target) == 0 || len(data) == 0 {
		return
	}
	if target[0] == int64(b0) && data[0] == e.batch {
		target[0] = int64(e.batch)
	}
}

// resolveShape applies Reshape's 0 (copy the input's size, unless
// allowZero) and -1 (infer) to target.
func resolveShape(in []int, target []int64, allowZero bool) []int {
	out := make([]int, len(target))
	infer := -1
	known := 1
	n := tensor.Numel(in)
	for i, t := range target {
		switch {
		case t == 0 && !allowZero:
			if i >= len(in) {
				fail("shape %v copies axis %d, but the input %v has rank %d", target, i, in, len(in))
			}
			out[i] = in[i]
		case t == -1:
			if infer >= 0 {
				fail("shape %v has more than one -1", target)
			}
			infer = i
			continue
		case t < -1:
			fail("shape %v has a negative size", target)
		default:
			if t > math.MaxInt32 {
				fail("shape %v is too large", target)
			}
			out[i] = int(t)
		}
		known *= out[i]
	}
	if infer >= 0 {
		if known == 0 {
			if n != 0 {
				fail("cannot reshape %v into %v", in, target)
			}
			out[infer] = 0
		} else {
			if n%known != 0 {
				fail("cannot reshape %v (%d elements) into %v", in, n, target)
			}
			out[infer] = n / known
		}
	}
	if tensor.Numel(out) != n {
		fail("cannot reshape %v (%d elements) into %v", in, n, target)
	}
	return out
}

func orEmpty(s []int) []int {
	if s == nil {
		return []int{}
	}
	return s
}

// clampRange resolves Shape's start and end (negative counts from the
// end, clamped to [0, r]).
func clampRange(start, end int64, r int) (int, int) {
	c := func(v int64) int {
		if v < 0 {
			v += int64(r)
		}
		return int(min(max(v, 0), int64(r)))
	}
	return c(start), c(end)
}

// concatVals joins values along axis.
func concatVals(tp *autograd.Tape, axis int64, x []*val) *val {
	r := x[0].rank()
	a := normAxis(axis, r, "axis")
	anyFloat := false
	for _, v := range x {
		if v.rank() != r {
			fail("inputs have ranks %d and %d", r, v.rank())
		}
		for i, s := range v.dims() {
			if i != a && s != x[0].dims()[i] {
				fail("input shapes %v and %v differ outside axis %d", x[0].dims(), v.dims(), a)
			}
		}
		anyFloat = anyFloat || v.v != nil
	}
	if anyFloat {
		vs := make([]*autograd.Var, 0, len(x))
		for _, v := range x {
			if v.numel() == 0 {
				continue
			}
			vs = append(vs, v.asVar())
		}
		if len(vs) == 0 {
			shape := slices.Clone(x[0].dims())
			shape[a] = 0
			return floatVal(autograd.Const(tensor.New(shape...)), floatType(x[0], x[0]))
		}
		if len(vs) == 1 {
			return floatVal(vs[0], x[0].dt)
		}
		return floatVal(tp.Concat(a, vs...), x[0].dt)
	}
	shape := slices.Clone(x[0].dims())
	shape[a] = 0
	for _, v := range x {
		shape[a] += v.dims()[a]
	}
	outer := tensor.Numel(shape[:a])
	out := make([]int64, 0, tensor.Numel(shape))
	for o := 0; o < outer; o++ {
		for _, v := range x {
			w := tensor.Numel(v.dims()[a:])
			out = append(out, v.ints[o*w:(o+1)*w]...)
		}
	}
	res := intVal(out, shape, x[0].dt)
	return res
}

// transposeVal permutes the axes of x.
func transposeVal(tp *autograd.Tape, x *val, perm []int) *val {
	if x.v != nil {
		return floatVal(tp.Transpose(x.v, perm...), x.dt)
	}
	d := x.dims()
	shape := make([]int, len(d))
	st := stridesOf(d)
	for i, p := range perm {
		shape[i] = d[p]
	}
	m := indexMap(shape, func(ix []int) int {
		s := 0
		for i, v := range ix {
			s += v * st[perm[i]]
		}
		return s
	})
	return remap(tp, x, m, shape, 0)
}

// gatherVal takes entries of data along axis at indices (any shape; a
// negative index counts from the end).
func gatherVal(tp *autograd.Tape, data, indices *val, axis int64) *val {
	d := data.dims()
	a := normAxis(axis, len(d), "axis")
	raw := indices.asInts("indices")
	idx := make([]int, len(raw))
	for i, j := range raw {
		if j < 0 {
			j += int64(d[a])
		}
		if j < 0 || j >= int64(d[a]) {
			fail("index %d is out of range for axis %d of size %d", raw[i], a, d[a])
		}
		idx[i] = int(j)
	}
	shape := slices.Concat(d[:a], indices.dims(), d[a+1:])
	if data.v != nil {
		if len(idx) == 0 {
			return floatVal(autograd.Const(tensor.New(shape...)), data.dt)
		}
		sel := tp.IndexSelect(data.v, a, idx)
		if !tp.Recording() {
			// The selection is ours alone: the shaped result owns its
			// memory, which the inference can then recycle.
			return floatVal(autograd.Const(tensor.MoveReshape(sel.Value, orEmpty(shape)...)), data.dt)
		}
		return floatVal(tp.Reshape(sel, orEmpty(shape)...), data.dt)
	}
	outer, inner := tensor.Numel(d[:a]), tensor.Numel(d[a+1:])
	out := make([]int64, 0, outer*len(idx)*inner)
	for o := 0; o < outer; o++ {
		base := o * d[a] * inner
		for _, j := range idx {
			out = append(out, data.ints[base+j*inner:base+(j+1)*inner]...)
		}
	}
	return intVal(out, orEmpty(shape), data.dt)
}

// castOnTape is castVal with the rounding to float16 or bfloat16 recorded
// on the tape, its gradient passed straight through (as frameworks do
// for a cast between float types).
func castOnTape(tp *autograd.Tape, x *val, to DataType) *val {
	if x.v != nil && (to == Float16 || to == BFloat16) {
		y := roundFloats(x.v.Value, to)
		return floatVal(tp.Affine(y, nil, func(g *tensor.Tensor) []*tensor.Tensor { return []*tensor.Tensor{g} }, x.v), to)
	}
	return castVal(x, to)
}

// castVal converts x to element type to. Casting a float that depends on
// the input to an integer type cuts the gradient, as in every framework.
func castVal(x *val, to DataType) *val {
	switch {
	case isFloatType(to) && x.v != nil:
		if to == Float16 || to == BFloat16 {
			return floatVal(autograd.Const(roundFloats(x.v.Value, to)), to)
		}
		return floatVal(x.v, to)
	case isFloatType(to):
		return floatVal(x.asVar(), to)
	case x.v != nil:
		d := x.v.Value.Data()
		out := make([]int64, len(d))
		for i, f := range d {
			if to == Bool {
				if f != 0 {
					out[i] = 1
				}
				continue
			}
			if f != f || math.IsInf(float64(f), 0) {
				out[i] = math.MinInt64 // what x86 gives; ONNX leaves it undefined
				continue
			}
			out[i] = wrapInt(int64(math.Trunc(float64(f))), to)
		}
		return intVal(out, x.dims(), to)
	}
	out := make([]int64, len(x.ints))
	for i, v := range x.ints {
		out[i] = wrapInt(v, to)
	}
	r := intVal(out, x.shape, to)
	r.static = x.static
	return r
}

// roundFloats rounds float32 values to float16 or bfloat16 precision.
func roundFloats(t *tensor.Tensor, to DataType) *tensor.Tensor {
	out := t.Clone()
	d := out.Data()
	for i, f := range d {
		if to == BFloat16 {
			b := math.Float32bits(f)
			if f == f {
				b += 0x7fff + (b>>16)&1
			}
			d[i] = math.Float32frombits(b &^ 0xffff)
		} else {
			d[i] = float16Round(f)
		}
	}
	return out
}

// float16Round rounds f to the nearest IEEE half-precision value.
func float16Round(f float32) float32 {
	a := math.Abs(float64(f))
	if f != f || a == 0 || math.IsInf(float64(f), 0) {
		return f
	}
	if a >= 65520 {
		return float32(math.Copysign(math.Inf(1), float64(f)))
	}
	e := math.Floor(math.Log2(a))
	if e < -14 {
		e = -14
	}
	q := math.Ldexp(1, int(e)-10)
	return float32(math.Copysign(math.RoundToEven(a/q)*q, float64(f)))
}

// compileConstant reads a Constant node's value.
func compileConstant(c *compiler) kernel {
	c.inputs(0, 0)
	c.outputs(1)
	var v *val
	set := func(x *val) {
		if v != nil {
			c.bad("more than one value attribute")
		}
		v = x
	}
	if t := c.tensorAttr("value"); t != nil {
		x, err := tensorVal(t)
		if err != nil {
			c.unsupported("value: %v", err)
		}
		set(x)
	}
	if c.has("value_float") {
		set(floatVal(autograd.Const(tensor.Scalar(c.float("value_float", 0))), Float))
	}
	if fs, ok := c.floats("value_floats"); ok {
		set(floatVal(autograd.Const(tensor.MustFromSlice(fs, len(fs))), Float))
	}
	if c.has("value_int") {
		set(intVal([]int64{c.int("value_int", 0)}, []int{}, Int64))
	}
	if is, ok := c.ints("value_ints"); ok {
		set(intVal(is, []int{len(is)}, Int64))
	}
	for _, s := range []string{"sparse_value", "value_string", "value_strings"} {
		if c.has(s) {
			c.read[s] = true
			c.unsupported("attribute %s", s)
		}
	}
	if v == nil {
		c.bad("no value attribute")
	}
	v.static = true
	return func(e *env, _ []*val) []*val {
		out := *v
		return []*val{&out}
	}
}

// compileSlice reads Slice: attributes starts, ends, axes before opset 10,
// inputs starts, ends, axes, steps from 10.
func compileSlice(c *compiler) kernel {
	c.outputs(1)
	var aStarts, aEnds, aAxes []int64
	if c.opset < 10 {
		c.inputs(1, 1)
		var ok1, ok2 bool
		aStarts, ok1 = c.ints("starts")
		aEnds, ok2 = c.ints("ends")
		if !ok1 || !ok2 {
			c.bad("attributes starts and ends are required")
		}
		aAxes, _ = c.ints("axes")
	} else {
		c.inputs(3, 5)
	}
	return func(e *env, x []*val) []*val {
		starts, ends, axes := aStarts, aEnds, aAxes
		var steps []int64
		if c.opset >= 10 {
			starts, ends = x[1].asInts("starts"), x[2].asInts("ends")
			if len(x) > 3 && x[3] != nil {
				axes = x[3].asInts("axes")
			}
			if len(x) > 4 && x[4] != nil {
				steps = x[4].asInts("steps")
			}
		}
		d := x[0].dims()
		if len(ends) != len(starts) || (axes != nil && len(axes) != len(starts)) || (steps != nil && len(steps) != len(starts)) {
			fail("starts, ends, axes and steps must have the same length: %d, %d, %d, %d", len(starts), len(ends), len(axes), len(steps))
		}
		if axes == nil {
			axes = make([]int64, len(starts))
			for i := range axes {
				axes[i] = int64(i)
			}
		}
		ax := normAxes(axes, len(d), "axes")
		lo := make([]int, len(d))
		step := make([]int, len(d))
		shape := slices.Clone(d)
		for i := range d {
			step[i] = 1
		}
		simple := true
		for i, a := range ax {
			st := int64(1)
			if steps != nil {
				st = steps[i]
			}
			if st == 0 {
				fail("step 0 on axis %d", a)
			}
			s, n := sliceRange(starts[i], ends[i], st, d[a])
			lo[a], step[a], shape[a] = s, int(st), n
			if st != 1 {
				simple = false
			}
		}
		if x[0].v != nil && simple {
			v := x[0].v
			for _, a := range ax {
				if lo[a] != 0 || shape[a] != d[a] {
					v = e.tp.Slice(v, a, lo[a], lo[a]+shape[a])
				}
			}
			return []*val{floatVal(v, x[0].dt)}
		}
		strides := stridesOf(d)
		m := indexMap(shape, func(ix []int) int {
			s := 0
			for i, v := range ix {
				s += (lo[i] + v*step[i]) * strides[i]
			}
			return s
		})
		return []*val{remap(e.tp, x[0], m, shape, 0)}
	}
}

// sliceRange clamps a slice of an axis of size dim as NumPy does and
// returns its first index and its length.
func sliceRange(start, end, step int64, dim int) (first, n int) {
	d := int64(dim)
	if start < 0 {
		start += d
	}
	if end < 0 {
		end += d
	}
	if step > 0 {
		start = min(max(start, 0), d)
		end = min(max(end, 0), d)
		if end <= start {
			return int(start), 0
		}
		return int(start), int((end - start + step - 1) / step)
	}
	start = min(max(start, -1), d-1)
	end = min(max(end, -1), d-1)
	if end >= start {
		return max(int(start), 0), 0
	}
	return int(start), int((start - end - step - 1) / -step)
}

// compileSplit reads Split: the sizes as an attribute before opset 13, an
// optional input from 13, or num_outputs (opset 18).
func compileSplit(c *compiler) kernel {
	axis := c.int("axis", 0)
	var aSplit []int64
	if c.opset < 13 {
		c.inputs(1, 2) // opset 1 allowed the split as an input too
		aSplit, _ = c.ints("split")
	} else {
		c.inputs(1, 2)
	}
	numOut := len(c.n.Outputs)
	if c.opset >= 18 {
		if no := c.int("num_outputs", 0); no != 0 {
			numOut = int(no)
		}
	}
	if numOut < 1 {
		c.bad("has no outputs")
	}
	return func(e *env, x []*val) []*val {
		d := x[0].dims()
		a := normAxis(axis, len(d), "axis")
		sizes := aSplit
		if len(x) > 1 && x[1] != nil {
			sizes = x[1].asInts("split")
		}
		if sizes == nil {
			n := d[a]
			k := (n + numOut - 1) / numOut
			for i := 0; i < numOut; i++ {
				sizes = append(sizes, int64(max(min(k, n-i*k), 0)))
			}
		}
		if len(sizes) != len(c.n.Outputs) {
			fail("%d split sizes for %d outputs", len(sizes), len(c.n.Outputs))
		}
		var total int64
		for _, s := range sizes {
			if s < 0 {
				fail("split sizes %v must not be negative", sizes)
			}
			total += s
		}
		if total != int64(d[a]) {
			fail("split sizes %v do not add up to axis %d of size %d", sizes, a, d[a])
		}
		outs := make([]*val, len(sizes))
		pos := 0
		for i, s := range sizes {
			outs[i] = sliceAxis(e.tp, x[0], a, pos, pos+int(s))
			pos += int(s)
		}
		return outs
	}
}

// sliceAxis restricts x to [lo, hi) along axis.
func sliceAxis(tp *autograd.Tape, x *val, axis, lo, hi int) *val {
	if x.v != nil {
		if lo == 0 && hi == x.dims()[axis] {
			return x
		}
		return floatVal(tp.Slice(x.v, axis, lo, hi), x.dt)
	}
	d := x.dims()
	shape := slices.Clone(d)
	shape[axis] = hi - lo
	st := stridesOf(d)
	m := indexMap(shape, func(ix []int) int {
		s := 0
		for i, v := range ix {
			if i == axis {
				v += lo
			}
			s += v * st[i]
		}
		return s
	})
	return remap(tp, x, m, shape, 0)
}

// compilePad reads Pad: attributes pads (paddings before opset 2), value
// and mode before opset 11; inputs pads, constant_value and axes after.
func compilePad(c *compiler) kernel {
	c.outputs(1)
	mode := c.str("mode", "constant")
	switch mode {
	case "constant", "reflect", "edge":
	default:
		c.unsupported("mode %q (constant, reflect and edge are implemented)", mode)
	}
	var aPads []int64
	var aValue float32
	if c.opset < 11 {
		c.inputs(1, 1)
		var ok bool
		if aPads, ok = c.ints("pads"); !ok {
			c.bad("attribute pads is required")
		}
		aValue = c.float("value", 0)
	} else {
		c.inputs(2, 4)
	}
	return func(e *env, x []*val) []*val {
		pads, value := aPads, float64(aValue)
		d := x[0].dims()
		var axes []int
		if c.opset >= 11 {
			pads = x[1].asInts("pads")
			if len(x) > 2 && x[2] != nil && x[2].numel() > 0 {
				if x[2].v != nil {
					value = float64(x[2].scalarFloat("constant_value"))
				} else {
					value = float64(x[2].scalarInt("constant_value"))
				}
			}
			if len(x) > 3 && x[3] != nil {
				axes = normAxes(x[3].asInts("axes"), len(d), "axes")
			}
		}
		if axes == nil {
			axes = make([]int, len(d))
			for i := range axes {
				axes[i] = i
			}
		}
		if len(pads) != 2*len(axes) {
			fail("pads %v must have 2×%d entries for shape %v", pads, len(axes), d)
		}
		begin := make([]int, len(d))
		shape := slices.Clone(d)
		for i, a := range axes {
			b, en := pads[i], pads[i+len(axes)]
			if b > math.MaxInt32 || en > math.MaxInt32 {
				fail("pads %v are too large", pads)
			}
			begin[a] = int(b)
			shape[a] = d[a] + int(b) + int(en)
			if shape[a] < 0 {
				fail("pads %v crop axis %d of size %d below zero", pads, a, d[a])
			}
			if mode == "reflect" && (d[a] < 2 && shape[a] != d[a]) {
				fail("reflect padding needs at least 2 elements on axis %d, shape %v", a, d)
			}
			if mode == "edge" && d[a] == 0 && shape[a] != 0 {
				fail("edge padding of an empty axis %d", a)
			}
		}
		checkNumel(shape, "padded shape")
		st := stridesOf(d)
		m := indexMap(shape, func(ix []int) int {
			s := 0
			for i, v := range ix {
				j := v - begin[i]
				if j < 0 || j >= d[i] {
					switch mode {
					case "constant":
						return -1
					case "edge":
						j = min(max(j, 0), d[i]-1)
					case "reflect":
						p := 2 * (d[i] - 1)
						j = ((j % p) + p) % p
						if j >= d[i] {
							j = p - j
						}
					}
				}
				s += j * st[i]
			}
			return s
		})
		y := remap(e.tp, x[0], m, shape, value)
		if mode == "constant" && y.v != nil && len(x) > 2 && x[2] != nil && x[2].v != nil && x[2].v.RequiresGrad() {
			// The pad value takes the gradient of every padded element.
			mask := tensor.New(shape...)
			md := mask.Data()
			for k, i := range m {
				if i < 0 {
					md[k] = 1
				}
			}
			y.v = e.tp.Add(gatherMap(e.tp, x[0].v, m, shape, 0), e.tp.Mul(autograd.Const(mask), e.tp.Reshape(x[2].v)))
		}
		return []*val{y}
	}
}
