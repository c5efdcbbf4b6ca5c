package onnx

import (
	"fmt"
	"math"
	"slices"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
)

// val is one tensor flowing through the graph while it runs: floating-point
// data as an autograd.Var on the tape (gradients flow through it), or
// integer and boolean data as concrete int64 values. Integer tensors are
// shapes, indices, axes and masks: they never carry a gradient, and since
// every integer value is computed as soon as its inputs are, the
// shape-computation subgraphs exporters write (Shape → Gather → Unsqueeze →
// Concat → Reshape) are folded to constants on the fly.
type val struct {
	v     *autograd.Var // floating-point data, or nil
	ints  []int64       // integer/boolean data when v is nil
	shape []int         // shape of ints
	dt    DataType      // the element type the graph declares
	// static marks a value computed from initialisers and Constant nodes
	// only: it does not depend on the input (see batchFix).
	static bool
}

func floatVal(v *autograd.Var, dt DataType) *val {
	if !isFloatType(dt) {
		dt = Float
	}
	return &val{v: v, dt: dt}
}

func intVal(ints []int64, shape []int, dt DataType) *val {
	if isFloatType(dt) || dt == Undefined {
		dt = Int64
	}
	return &val{ints: ints, shape: slices.Clone(shape), dt: dt}
}

func boolVal(b []int64, shape []int) *val { return intVal(b, shape, Bool) }

func isFloatType(dt DataType) bool {
	return dt == Float || dt == Double || dt == Float16 || dt == BFloat16
}

func isIntType(dt DataType) bool {
	switch dt {
	case Uint8, Int8, Uint16, Int16, Int32, Int64, Bool, Uint32, Uint64:
		return true
	}
	return false
}

func (x *val) isFloat() bool { return x.v != nil }

func (x *val) dims() []int {
	if x.v != nil {
		return x.v.Value.Shape()
	}
	return x.shape
}

func (x *val) rank() int { return len(x.dims()) }

func (x *val) numel() int { return tensor.Numel(x.dims()) }

// floats returns the float data of x (converting integers).
func (x *val) floats() []float32 {
	if x.v != nil {
		return x.v.Value.Data()
	}
	out := make([]float32, len(x.ints))
	for i, v := range x.ints {
		out[i] = float32(v)
	}
	return out
}

// asVar returns x as a Var: itself for float data, a constant for
// integers (as when an exporter feeds a Cast-less integer to a float op).
func (x *val) asVar() *autograd.Var {
	if x.v != nil {
		return x.v
	}
	return autograd.Const(tensor.MustFromSlice(x.floats(), x.shape...))
}

// asInts returns x's data as integers: x's own for integer data; for
// float data that carries no gradient, its values, which must be whole
// numbers.
func (x *val) asInts(what string) []int64 {
	if x.v == nil {
		return x.ints
	}
	if x.v.RequiresGrad() {
		fail("%s must be an integer tensor, got a float tensor that depends on the input or the weights", what)
	}
	d := x.v.Value.Data()
	out := make([]int64, len(d))
	for i, f := range d {
		if f != float32(math.Trunc(float64(f))) || math.IsInf(float64(f), 0) {
			fail("%s must hold whole numbers, got %v", what, f)
		}
		out[i] = int64(f)
	}
	return out
}

// scalarInt returns the single value of a one-element integer tensor.
func (x *val) scalarInt(what string) int64 {
	d := x.asInts(what)
	if len(d) != 1 {
		fail("%s must have one element, got shape %v", what, x.dims())
	}
	return d[0]
}

// scalarFloat returns the single value of a one-element tensor.
func (x *val) scalarFloat(what string) float32 {
	if x.numel() != 1 {
		fail("%s must have one element, got shape %v", what, x.dims())
	}
	return x.floats()[0]
}

// opError is the panic a kernel raises for a problem with the values it
// was given; the graph runner adds the node's name and operator.
type opError struct{ msg string }

func fail(format string, args ...any) { panic(&opError{fmt.Sprintf(format, args...)}) }

// unsupportedRT is raised for a feature that is valid ONNX but which the
// importer does not implement and could only detect at run time (an
// attribute's meaning depends on the input's rank, say).
type unsupportedRT struct{ msg string }

func unsupportedAt(format string, args ...any) {
	panic(&unsupportedRT{fmt.Sprintf(format, args...)})
}

// ---- shapes and index helpers ----

func toInts(s []int64) []int {
	out := make([]int, len(s))
	for i, v := range s {
		out[i] = int(v)
	}
	return out
}

// appendF64 appends v's values to dst as float64.
func appendF64(dst []float64, v []float32) []float64 {
	for _, x := range v {
		dst = append(dst, float64(x))
	}
	return dst
}

func toInt64s(s []int) []int64 {
	out := make([]int64, len(s))
	for i, v := range s {
		out[i] = int64(v)
	}
	return out
}

// normAxis returns axis (which may count from the end) within [0, rank).
func normAxis(axis int64, rank int, what string) int {
	a := axis
	if a < 0 {
		a += int64(rank)
	}
	if a < 0 || a >= int64(rank) {
		fail("%s %d is out of range for rank %d", what, axis, rank)
	}
	return int(a)
}

func normAxes(axes []int64, rank int, what string) []int {
	out := make([]int, len(axes))
	seen := make([]bool, rank)
	for i, a := range axes {
		out[i] = normAxis(a, rank, what)
		if seen[out[i]] {
			fail("%s %v repeat an axis", what, axes)
		}
		seen[out[i]] = true
	}
	return out
}

func stridesOf(shape []int) []int {
	st := make([]int, len(shape))
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = s
		s *= shape[i]
	}
	return st
}

// checkNumel refuses a shape whose element count overflows or exceeds
// maxElements, before anything is allocated for it.
func checkNumel(shape []int, what string) int {
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			fail("%s has a negative dimension: %v", what, shape)
		}
		if d != 0 && n > maxElements/int64(d) {
			fail("%s %v has more than %d elements", what, shape, maxElements)
		}
		n *= int64(d)
	}
	return int(n)
}

// maxElements bounds the size of any tensor the importer creates from
// sizes it reads from the graph (Expand, ConstantOfShape, Tile, Pad...).
const maxElements = tensor.MaxElements

// elementsIndexMap is the flat position in data of shape d of every
// element of indices (shape id, values idx) along axis a, as
// GatherElements reads and ScatterElements writes them: negative indices
// count from the end, out-of-range ones are errors.
func elementsIndexMap(d []int, a int, id []int, idx []int64) []int32 {
	st := stridesOf(d)
	k := 0
	return indexMap(id, func(ix []int) int {
		j := idx[k]
		k++
		if j < 0 {
			j += int64(d[a])
		}
		if j < 0 || j >= int64(d[a]) {
			fail("index %d is out of range for axis %d of size %d", idx[k-1], a, d[a])
		}
		s := 0
		for i, v := range ix {
			if i == a {
				v = int(j)
			} else if v >= d[i] {
				fail("indices shape %v exceeds data shape %v", id, d)
			}
			s += v * st[i]
		}
		return s
	})
}

// indexMap builds, for every element of a tensor of shape out (row-major),
// the flat index src returns for its multi-index.
func indexMap(out []int, src func(idx []int) int) []int32 {
	n := checkNumel(out, "output shape")
	m := make([]int32, n)
	if n == 0 {
		return m
	}
	idx := make([]int, len(out))
	for k := range m {
		m[k] = int32(src(idx))
		for a := len(idx) - 1; a >= 0; a-- {
			idx[a]++
			if idx[a] < out[a] {
				break
			}
			idx[a] = 0
		}
	}
	return m
}

// broadcastMap returns, for shape in broadcast to out (NumPy rules), the
// flat source index of each output element.
func broadcastMap(in, out []int) []int32 {
	off := len(out) - len(in)
	st := stridesOf(in)
	return indexMap(out, func(idx []int) int {
		s := 0
		for a := range in {
			if in[a] != 1 {
				s += idx[a+off] * st[a]
			}
		}
		return s
	})
}

func broadcastShapes(what string, shapes ...[]int) []int {
	out := []int{}
	for _, s := range shapes {
		b, ok := tensor.BroadcastShapes(out, s)
		if !ok {
			fail("%s: shapes %v do not broadcast", what, shapes)
		}
		out = b
	}
	return out
}

// gatherInts returns the integer tensor whose element k is x[m[k]] (m as
// built by indexMap; a negative entry gives fill).
func gatherInts(x []int64, m []int32, fill int64) []int64 {
	out := make([]int64, len(m))
	for k, i := range m {
		if i < 0 {
			out[k] = fill
		} else {
			out[k] = x[i]
		}
	}
	return out
}

// remap applies an index map to x, whatever its type: a gather on the tape
// for float data (the gradient scatters back), a plain gather for
// integers.
func remap(tp *autograd.Tape, x *val, m []int32, shape []int, fill float64) *val {
	if x.v != nil {
		return floatVal(gatherMap(tp, x.v, m, shape, float32(fill)), x.dt)
	}
	r := intVal(gatherInts(x.ints, m, int64(fill)), shape, x.dt)
	r.static = x.static
	return r
}

// broadcastTo broadcasts x to shape.
func broadcastTo(tp *autograd.Tape, x *val, shape []int) *val {
	if slices.Equal(x.dims(), shape) {
		return x
	}
	if x.v != nil {
		// x + 0 broadcasts; its backward sums the stretched axes.
		return floatVal(tp.Add(x.v, autograd.Const(tensor.New(shape...))), x.dt)
	}
	return remap(tp, x, broadcastMap(x.shape, shape), shape, 0)
}

// reshapeVal gives x a new shape with the same elements.
func reshapeVal(tp *autograd.Tape, x *val, shape []int) *val {
	if tensor.Numel(shape) != x.numel() {
		fail("cannot reshape %v (%d elements) to %v", x.dims(), x.numel(), shape)
	}
	if x.v != nil {
		if slices.Equal(x.dims(), shape) {
			return x
		}
		return floatVal(tp.Reshape(x.v, shape...), x.dt)
	}
	r := intVal(x.ints, shape, x.dt)
	r.static = x.static
	return r
}

// contiguous returns v with dense row-major storage (a Reshape to its own
// shape copies a strided view).
func contiguous(tp *autograd.Tape, v *autograd.Var) *autograd.Var {
	if v.Value.IsContiguous() {
		return v
	}
	return tp.Reshape(v, v.Value.Shape()...)
}

// wrapInt converts v to the range of the integer type dt, as a C cast (and
// NumPy's astype) does.
func wrapInt(v int64, dt DataType) int64 {
	switch dt {
	case Uint8:
		return int64(uint8(v))
	case Int8:
		return int64(int8(v))
	case Uint16:
		return int64(uint16(v))
	case Int16:
		return int64(int16(v))
	case Int32:
		return int64(int32(v))
	case Uint32:
		return int64(uint32(v))
	case Bool:
		if v != 0 {
			return 1
		}
		return 0
	}
	return v
}
