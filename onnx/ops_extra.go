package onnx

import (
	"math"
	"slices"
	"sort"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Losses, index operators (TopK, OneHot, GatherND, the scatters, ...),
// cumulative sums and quantisation.

func init() {
	register("NegativeLogLikelihoodLoss", []int{1}, func(c *compiler) kernel {
		c.inputs(2, 3)
		c.outputs(1)
		red, ignore, hasIgnore := lossAttrs(c)
		return func(e *env, x []*val) []*val {
			var w *val
			if len(x) > 2 {
				w = x[2]
			}
			return []*val{nllLoss(e.tp, x[0], x[1], w, red, ignore, hasIgnore)}
		}
	})
	register("SoftmaxCrossEntropyLoss", []int{1}, func(c *compiler) kernel {
		c.inputs(2, 3)
		c.outputs(2)
		red, ignore, hasIgnore := lossAttrs(c)
		return func(e *env, x []*val) []*val {
			s := x[0].asVar()
			if s.Value.Rank() < 2 {
				fail("scores must be [N, C, ...], got %v", s.Value.Shape())
			}
			logp := floatVal(e.tp.LogSoftmax(contiguous(e.tp, s), 1), x[0].dt)
			var w *val
			if len(x) > 2 {
				w = x[2]
			}
			return []*val{nllLoss(e.tp, logp, x[1], w, red, ignore, hasIgnore), logp}
		}
	})
	register("CumSum", []int{1}, func(c *compiler) kernel {
		c.inputs(2, 2)
		c.outputs(1)
		excl := c.int("exclusive", 0) != 0
		rev := c.int("reverse", 0) != 0
		return func(e *env, x []*val) []*val {
			a := normAxis(x[1].scalarInt("axis"), x[0].rank(), "axis")
			if x[0].v == nil {
				d := x[0].dims()
				return []*val{intVal(cumsum[int64, int64](x[0].ints, d, a, excl, rev), d, x[0].dt)}
			}
			v := x[0].v
			d := v.Value.Shape()
			y := tensor.MustFromSlice(cumsum[float32, float64](v.Value.Data(), d, a, excl, rev), d...)
			return []*val{floatVal(e.tp.Custom(y, func(g *tensor.Tensor) []*tensor.Tensor {
				// The adjoint of a cumulative sum is the one the other way.
				return []*tensor.Tensor{tensor.MustFromSlice(cumsum[float32, float64](g.Data(), d, a, excl, !rev), d...)}
			}, v), x[0].dt)}
		}
	})
	register("TopK", []int{1}, func(c *compiler) kernel {
		c.outputs(2)
		axis := c.int("axis", -1)
		largest, sorted := true, true
		var kAttr int64 = -1
		if c.opset < 10 {
			c.inputs(1, 1)
			kAttr = c.int("k", -1)
			if kAttr < 0 {
				c.bad("attribute k is required")
			}
		} else {
			c.inputs(2, 2)
		}
		if c.opset >= 11 {
			largest = c.int("largest", 1) != 0
			sorted = c.int("sorted", 1) != 0
		}
		return func(e *env, x []*val) []*val {
			k := kAttr
			if k < 0 {
				k = x[1].scalarInt("K")
			}
			d := x[0].dims()
			a := normAxis(axis, len(d), "axis")
			if k < 0 || k > int64(d[a]) {
				fail("K=%d is out of range for axis %d of size %d", k, a, d[a])
			}
			n, inner := d[a], tensor.Numel(d[a+1:])
			shape := slices.Clone(d)
			shape[a] = int(k)
			var vals []float64
			if x[0].v != nil {
				vals = appendF64(nil, x[0].v.Value.Data())
			} else {
				for _, q := range x[0].ints {
					vals = append(vals, float64(q))
				}
			}
			m := make([]int32, 0, tensor.Numel(shape))
			idx := make([]int64, 0, tensor.Numel(shape))
			order := make([]int, n)
			for o := 0; o < tensor.Numel(d[:a]); o++ {
				for i := 0; i < inner; i++ {
					for j := range order {
						order[j] = j
					}
					at := func(j int) float64 { return vals[(o*n+j)*inner+i] }
					sort.SliceStable(order, func(p, q int) bool {
						vp, vq := at(order[p]), at(order[q])
						if largest {
							return vp > vq
						}
						return vp < vq
					})
					top := order[:k]
					if !sorted {
						top = slices.Clone(top)
						slices.Sort(top)
					}
					for _, j := range top {
						idx = append(idx, int64(j))
					}
				}
			}
			// idx is ordered (outer, inner, rank); lay it out as shape.
			out := make([]int64, len(idx))
			for o := 0; o < tensor.Numel(d[:a]); o++ {
				for i := 0; i < inner; i++ {
					for r := 0; r < int(k); r++ {
						out[(o*int(k)+r)*inner+i] = idx[(o*inner+i)*int(k)+r]
					}
				}
			}
			for p, j := range out {
				o, i := p/(int(k)*inner), p%inner
				m = append(m, int32((o*n+int(j))*inner+i))
			}
			return []*val{remap(e.tp, x[0], m, shape, 0), intVal(out, shape, Int64)}
		}
	})
	register("OneHot", []int{0, 1}, func(c *compiler) kernel {
		c.inputs(3, 3)
		c.outputs(1)
		axis := c.int("axis", -1)
		return func(e *env, x []*val) []*val {
			ids := x[0].asInts("indices")
			depth := int64(x[1].scalarFloat("depth"))
			if x[1].v == nil {
				depth = x[1].scalarInt("depth")
			}
			if depth < 0 {
				fail("depth %d must not be negative", depth)
			}
			if x[2].numel() != 2 {
				fail("values must be [off, on], got shape %v", x[2].dims())
			}
			d := x[0].dims()
			a := int(axis)
			if a < 0 {
				a += len(d) + 1
			}
			if a < 0 || a > len(d) {
				fail("axis %d is out of range for rank %d", axis, len(d)+1)
			}
			shape := slices.Concat(d[:a], []int{int(depth)}, d[a:])
			checkNumel(shape, "output shape")
			inner := tensor.Numel(d[a:])
			mask := make([]int64, tensor.Numel(shape))
			for p, id := range ids {
				if id < 0 {
					id += depth
				}
				if id < 0 || id >= depth {
					continue
				}
				o, i := p/inner, p%inner
				mask[(o*int(depth)+int(id))*inner+i] = 1
			}
			if x[2].v == nil {
				out := make([]int64, len(mask))
				for i, q := range mask {
					out[i] = x[2].ints[q]
				}
				return []*val{intVal(out, shape, x[2].dt)}
			}
			mf := tensor.New(shape...)
			for i, q := range mask {
				mf.Data()[i] = float32(q)
			}
			vals := x[2].v
			off := e.tp.Reshape(e.tp.Slice(vals, 0, 0, 1))
			on := e.tp.Reshape(e.tp.Slice(vals, 0, 1, 2))
			// off + (on − off)·mask
			y := e.tp.Add(e.tp.Mul(autograd.Const(mf), e.tp.Sub(on, off)), e.tp.Add(off, autograd.Const(tensor.New(shape...))))
			return []*val{floatVal(y, x[2].dt)}
		}
	})
	register("GatherND", []int{1}, func(c *compiler) kernel {
		c.inputs(2, 2)
		c.outputs(1)
		bd := 0
		if c.opset >= 12 {
			bd = int(c.int("batch_dims", 0))
		}
		return func(e *env, x []*val) []*val {
			d, id := x[0].dims(), x[1].dims()
			idx := x[1].asInts("indices")
			if len(id) < 1 || bd < 0 || bd >= min(len(d), len(id)) {
				fail("indices %v and batch_dims %d do not fit data %v", id, bd, d)
			}
			q := id[len(id)-1]
			if bd+q > len(d) {
				fail("index tuples of length %d exceed data rank %d", q, len(d))
			}
			for i := 0; i < bd; i++ {
				if d[i] != id[i] {
					fail("batch axes of data %v and indices %v differ", d, id)
				}
			}
			slice := d[bd+q:]
			sn := tensor.Numel(slice)
			shape := slices.Concat(id[:len(id)-1], slice)
			st := stridesOf(d)
			tuples := tensor.Numel(id[:len(id)-1])
			perBatch := tuples / max(tensor.Numel(id[:bd]), 1)
			m := make([]int32, 0, tuples*sn)
			for t := 0; t < tuples; t++ {
				base := 0
				b := t / max(perBatch, 1)
				bi := b
				for i := bd - 1; i >= 0; i-- {
					base += (bi % d[i]) * st[i]
					bi /= d[i]
				}
				for j := 0; j < q; j++ {
					v := idx[t*q+j]
					if v < 0 {
						v += int64(d[bd+j])
					}
					if v < 0 || v >= int64(d[bd+j]) {
						fail("index %d is out of range for axis %d of size %d", idx[t*q+j], bd+j, d[bd+j])
					}
					base += int(v) * st[bd+j]
				}
				for s := 0; s < sn; s++ {
					m = append(m, int32(base+s))
				}
			}
			return []*val{remap(e.tp, x[0], m, orEmpty(shape), 0)}
		}
	})
	scatterElements := func(c *compiler) kernel {
		c.inputs(3, 3)
		c.outputs(1)
		axis := c.int("axis", 0)
		red := "none"
		if c.opset >= 16 && c.n.OpType == "ScatterElements" {
			red = c.str("reduction", "none")
		}
		if red != "none" && red != "add" {
			c.unsupported("reduction %q (none and add are implemented)", red)
		}
		return func(e *env, x []*val) []*val {
			d, id := x[0].dims(), x[1].dims()
			a := normAxis(axis, len(d), "axis")
			if len(id) != len(d) || !slices.Equal(id, x[2].dims()) {
				fail("indices %v and updates %v must have the data's rank (%v) and one shape", id, x[2].dims(), d)
			}
			idx := x[1].asInts("indices")
			pos := elementsIndexMap(d, a, id, idx)
			return []*val{scatterVal(e.tp, x[0], x[2], pos, red == "add")}
		}
	}
	register("ScatterElements", []int{1}, scatterElements)
	register("Scatter", []int{1}, scatterElements)
	register("ScatterND", []int{1}, func(c *compiler) kernel {
		c.inputs(3, 3)
		c.outputs(1)
		red := "none"
		if c.opset >= 16 {
			red = c.str("reduction", "none")
		}
		if red != "none" && red != "add" {
			c.unsupported("reduction %q (none and add are implemented)", red)
		}
		return func(e *env, x []*val) []*val {
			d, id := x[0].dims(), x[1].dims()
			idx := x[1].asInts("indices")
			if len(id) < 1 {
				fail("indices must have rank ≥ 1")
			}
			q := id[len(id)-1]
			if q > len(d) {
				fail("index tuples of length %d exceed data rank %d", q, len(d))
			}
			slice := d[q:]
			sn := tensor.Numel(slice)
			if want := slices.Concat(id[:len(id)-1], slice); !slices.Equal(x[2].dims(), want) {
				fail("updates have shape %v, want %v", x[2].dims(), want)
			}
			st := stridesOf(d)
			tuples := tensor.Numel(id[:len(id)-1])
			pos := make([]int32, 0, tuples*sn)
			for t := 0; t < tuples; t++ {
				base := 0
				for j := 0; j < q; j++ {
					v := idx[t*q+j]
					if v < 0 {
						v += int64(d[j])
					}
					if v < 0 || v >= int64(d[j]) {
						fail("index %d is out of range for axis %d of size %d", idx[t*q+j], j, d[j])
					}
					base += int(v) * st[j]
				}
				for s := 0; s < sn; s++ {
					pos = append(pos, int32(base+s))
				}
			}
			return []*val{scatterVal(e.tp, x[0], x[2], pos, red == "add")}
		}
	})
	register("ReverseSequence", []int{1}, func(c *compiler) kernel {
		c.inputs(2, 2)
		c.outputs(1)
		batchAxis := int(c.int("batch_axis", 1))
		timeAxis := int(c.int("time_axis", 0))
		if (batchAxis != 0 && batchAxis != 1) || (timeAxis != 0 && timeAxis != 1) || batchAxis == timeAxis {
			c.bad("batch_axis %d and time_axis %d must be 0 and 1 in some order", batchAxis, timeAxis)
		}
		return func(e *env, x []*val) []*val {
			d := x[0].dims()
			lens := x[1].asInts("sequence_lens")
			if len(d) < 2 || len(lens) != d[batchAxis] {
				fail("sequence_lens %v must have one length per batch entry of %v", lens, d)
			}
			st := stridesOf(d)
			m := indexMap(d, func(ix []int) int {
				b, t := ix[batchAxis], ix[timeAxis]
				l := int(lens[b])
				if l < 0 || l > d[timeAxis] {
					fail("sequence length %d is out of range [0, %d]", l, d[timeAxis])
				}
				s := 0
				for i, v := range ix {
					if i == timeAxis && t < l {
						v = l - 1 - t
					}
					s += v * st[i]
				}
				return s
			})
			return []*val{remap(e.tp, x[0], m, d, 0)}
		}
	})
	register("NonZero", []int{0}, func(c *compiler) kernel {
		c.inputs(1, 1)
		c.outputs(1)
		return func(e *env, x []*val) []*val {
			d := x[0].dims()
			vals := x[0].floats()
			var hits []int
			for i, v := range vals {
				if v != 0 {
					hits = append(hits, i)
				}
			}
			out := make([]int64, len(d)*len(hits))
			st := stridesOf(d)
			for j, h := range hits {
				for a := range d {
					out[a*len(hits)+j] = int64((h / st[a]) % d[a])
				}
			}
			return []*val{intVal(out, []int{len(d), len(hits)}, Int64)}
		}
	})
	register("Compress", []int{1}, func(c *compiler) kernel {
		c.inputs(2, 2)
		c.outputs(1)
		axis, hasAxis := int64(0), c.has("axis")
		if hasAxis {
			axis = c.int("axis", 0)
		}
		return func(e *env, x []*val) []*val {
			v := x[0]
			if !hasAxis {
				v = reshapeVal(e.tp, v, []int{v.numel()})
			}
			d := v.dims()
			a := normAxis(axis, len(d), "axis")
			cond := x[1].asInts("condition")
			var keep []int
			for i, q := range cond {
				if q != 0 {
					if i >= d[a] {
						fail("condition has %d entries for axis %d of size %d", len(cond), a, d[a])
					}
					keep = append(keep, i)
				}
			}
			shape := slices.Clone(d)
			shape[a] = len(keep)
			st := stridesOf(d)
			m := indexMap(shape, func(ix []int) int {
				s := 0
				for i, p := range ix {
					if i == a {
						p = keep[p]
					}
					s += p * st[i]
				}
				return s
			})
			return []*val{remap(e.tp, v, m, shape, 0)}
		}
	})
	register("MeanVarianceNormalization", nil, func(c *compiler) kernel {
		c.inputs(1, 1)
		c.outputs(1)
		axes, ok := c.ints("axes")
		if !ok {
			axes = []int64{0, 2, 3}
		}
		return func(e *env, x []*val) []*val {
			v := x[0].asVar()
			ax := normAxes(axes, v.Value.Rank(), "axes")
			tp := e.tp
			// As the operator's definition: (x − E[x]) / (√(E[x²] − E[x]²) + 1e-9).
			mean := tp.Mean(v, true, ax...)
			sq := tp.Mean(tp.Square(v), true, ax...)
			sd := tp.AddScalar(tp.Sqrt(tp.Sub(sq, tp.Square(mean))), 1e-9)
			return []*val{floatVal(tp.Div(tp.Sub(v, mean), sd), x[0].dt)}
		}
	})
	register("BitShift", nil, func(c *compiler) kernel {
		c.inputs(2, 2)
		c.outputs(1)
		dir := c.str("direction", "")
		if dir != "LEFT" && dir != "RIGHT" {
			c.bad("direction %q (want LEFT or RIGHT)", dir)
		}
		return func(e *env, x []*val) []*val {
			if x[0].v != nil || x[1].v != nil {
				fail("BitShift takes unsigned integers")
			}
			return []*val{intBinary(x[0], x[1], x[0].dt, func(a, b int64) int64 {
				if b < 0 || b >= 64 {
					return 0
				}
				if dir == "LEFT" {
					return int64(uint64(a) << uint(b))
				}
				return int64(uint64(a) >> uint(b))
			})}
		}
	})
	register("DequantizeLinear", nil, func(c *compiler) kernel {
		c.inputs(2, 3)
		c.outputs(1)
		axis := int64(1)
		if c.opset >= 13 {
			axis = c.int("axis", 1)
		}
		return func(e *env, x []*val) []*val {
			xv := x[0].asVar()
			scale, zp := quantParams(e.tp, x, xv.Value.Shape(), axis)
			y := xv
			if zp != nil {
				y = e.tp.Sub(y, zp)
			}
			return []*val{floatVal(e.tp.Mul(y, scale), floatType(x[1], x[1]))}
		}
	})
	register("QuantizeLinear", []int{0, 1, 2}, func(c *compiler) kernel {
		c.inputs(2, 3)
		c.outputs(1)
		axis := int64(1)
		if c.opset >= 13 {
			axis = c.int("axis", 1)
		}
		if c.opset >= 19 {
			c.ignore("saturate") // float8 targets are refused
		}
		return func(e *env, x []*val) []*val {
			xv := x[0].asVar()
			scale, zp := quantParams(autograd.NoGrad(), x, xv.Value.Shape(), axis)
			dt := Uint8
			if len(x) > 2 && x[2] != nil {
				dt = x[2].dt
			}
			lo, hi := map[DataType][2]float64{Uint8: {0, 255}, Int8: {-128, 127}, Uint16: {0, 65535}, Int16: {-32768, 32767}}[dt][0],
				map[DataType][2]float64{Uint8: {0, 255}, Int8: {-128, 127}, Uint16: {0, 65535}, Int16: {-32768, 32767}}[dt][1]
			if lo == 0 && hi == 0 {
				unsupportedAt("quantising to %s", typeName(dt))
			}
			q := tensor.Div(xv.Value, scale.Value)
			var z *tensor.Tensor
			if zp != nil {
				z = tensor.Add(tensor.New(q.Shape()...), zp.Value)
			}
			qd := q.Data()
			out := make([]int64, len(qd))
			for i, f := range qd {
				v := math.RoundToEven(float64(f))
				if z != nil {
					v += float64(z.Data()[i])
				}
				out[i] = int64(math.Min(math.Max(v, lo), hi))
			}
			return []*val{intVal(out, q.Shape(), dt)}
		}
	})
}

// lossAttrs reads reduction and ignore_index.
func lossAttrs(c *compiler) (red string, ignore int64, hasIgnore bool) {
	red = c.str("reduction", "mean")
	if red != "none" && red != "sum" && red != "mean" {
		c.bad("reduction %q (want none, sum or mean)", red)
	}
	hasIgnore = c.has("ignore_index")
	ignore = c.int("ignore_index", 0)
	return red, ignore, hasIgnore
}

// nllLoss is −input[n, target, d…]·weight[target], reduced.
func nllLoss(tp *autograd.Tape, input, target, weight *val, red string, ignore int64, hasIgnore bool) *val {
	in := input.asVar()
	d := in.Value.Shape()
	if len(d) < 2 {
		fail("input must be [N, C, ...], got %v", d)
	}
	tg := target.asInts("target")
	td := target.dims()
	want := slices.Concat(d[:1], d[2:])
	if !slices.Equal(td, want) {
		fail("target has shape %v, want %v", td, want)
	}
	C := d[1]
	inner := tensor.Numel(d[2:])
	m := make([]int32, len(tg))
	wm := make([]int32, len(tg))
	for p, t := range tg {
		if hasIgnore && t == ignore {
			m[p], wm[p] = -1, -1
			continue
		}
		if t < 0 || t >= int64(C) {
			fail("target %d is out of range for %d classes", t, C)
		}
		n, i := p/inner, p%inner
		m[p] = int32((n*C+int(t))*inner + i)
		wm[p] = int32(t)
	}
	sel := gatherMap(tp, in, m, td, 0)
	var w *autograd.Var
	if weight != nil {
		wv := weight.asVar()
		if !slices.Equal(wv.Value.Shape(), []int{C}) {
			fail("weight has shape %v, want [%d]", wv.Value.Shape(), C)
		}
		w = gatherMap(tp, wv, wm, td, 0)
	} else {
		mask := tensor.New(td...)
		for p, i := range m {
			if i >= 0 {
				mask.Data()[p] = 1
			}
		}
		w = autograd.Const(mask)
	}
	loss := tp.Neg(tp.Mul(sel, w))
	switch red {
	case "sum":
		loss = tp.Sum(loss, false)
	case "mean":
		loss = tp.Div(tp.Sum(loss, false), tp.Sum(w, false))
	}
	return floatVal(loss, input.dt)
}

// cumsum returns the cumulative sums of data (shape d) along axis a,
// accumulated in A (float64 for floats, so long sums do not drift).
func cumsum[T float32 | int64, A float64 | int64](data []T, d []int, a int, excl, rev bool) []T {
	out := make([]T, len(data))
	inner, n := tensor.Numel(d[a+1:]), d[a]
	for o := 0; o < tensor.Numel(d[:a]); o++ {
		for i := 0; i < inner; i++ {
			var s A
			for j := 0; j < n; j++ {
				t := j
				if rev {
					t = n - 1 - j
				}
				k := (o*n+t)*inner + i
				if excl {
					out[k] = T(s)
					s += A(data[k])
				} else {
					s += A(data[k])
					out[k] = T(s)
				}
			}
		}
	}
	return out
}

// scatterVal writes (or with add, adds) updates into a copy of data at the
// flat positions pos, one per update element. Later updates to the same
// position win, as in the reference's loop.
func scatterVal(tp *autograd.Tape, data, updates *val, pos []int32, add bool) *val {
	if data.v == nil && updates.v == nil {
		out := slices.Clone(data.ints)
		for k, p := range pos {
			if add {
				out[p] = wrapInt(out[p]+updates.ints[k], data.dt)
			} else {
				out[p] = wrapInt(updates.ints[k], data.dt)
			}
		}
		return intVal(out, data.dims(), data.dt)
	}
	dv, uv := data.asVar(), updates.asVar()
	y := dv.Value.Clone()
	yd, ud := y.Data(), uv.Value.Data()
	written := make([]bool, len(yd))
	last := make([]int32, len(yd)) // the update that wins each position
	for k, p := range pos {
		if add {
			yd[p] += ud[k]
		} else {
			yd[p] = ud[k]
		}
		written[p] = true
		last[p] = int32(k)
	}
	return floatVal(tp.Custom(y, func(g *tensor.Tensor) []*tensor.Tensor {
		gd := g.Data()
		var gData, gUpd *tensor.Tensor
		if dv.RequiresGrad() {
			gData = g.Clone()
			if !add {
				for p, w := range written {
					if w {
						gData.Data()[p] = 0
					}
				}
			}
		}
		if uv.RequiresGrad() {
			gUpd = tensor.New(uv.Value.Shape()...)
			for k, p := range pos {
				if add || last[p] == int32(k) {
					gUpd.Data()[k] = gd[p]
				}
			}
		}
		return []*tensor.Tensor{gData, gUpd}
	}, dv, uv), data.dt)
}

// quantParams returns the scale and zero point of (De)QuantizeLinear
// shaped to broadcast against x: scalars, or per-channel vectors along axis.
func quantParams(tp *autograd.Tape, x []*val, shape []int, axis int64) (scale, zp *autograd.Var) {
	scale = x[1].asVar()
	if len(x) > 2 && x[2] != nil {
		zp = x[2].asVar()
	}
	if scale.Value.Len() == 1 {
		scale = tp.Reshape(scale)
		if zp != nil {
			zp = tp.Reshape(zp)
		}
		return scale, zp
	}
	a := normAxis(axis, len(shape), "axis")
	if scale.Value.Rank() != 1 || scale.Value.Dim(0) != shape[a] {
		fail("scale has shape %v, want [%d] for axis %d of %v", scale.Value.Shape(), shape[a], a, shape)
	}
	bs := make([]int, len(shape)-a)
	for i := range bs {
		bs[i] = 1
	}
	bs[0] = shape[a]
	scale = tp.Reshape(scale, bs...)
	if zp != nil {
		zp = tp.Reshape(zp, bs...)
	}
	return scale, zp
}
