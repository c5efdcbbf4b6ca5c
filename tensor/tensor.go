package tensor

import (
	"fmt"
	"math"
	"strings"
	"unsafe"
)

// Tensor is a float32 N-dimensional array. The zero value is not usable;
// create tensors with New, Zeros, FromSlice and friends.
//
// A Tensor is a view: shape and strides over a shared storage slice starting
// at an offset. Reshape, Transpose and Slice return views without copying
// when the layout allows it.
type Tensor struct {
	shape   []int
	strides []int
	offset  int
	data    []float32
	// owner marks the tensor New allocated data for (views never are):
	// only an owner's storage may go back to Recycle's pools, so a view
	// into part of a buffer never hands out the rest of it.
	owner bool
}

// ShapeError is the panic value of an operation whose operands do not fit
// together. Catch converts it into an ordinary error.
type ShapeError struct {
	Op  string
	Msg string
}

func (e *ShapeError) Error() string { return e.Op + ": " + e.Msg }

// shapeErr panics with a *ShapeError built from a format string.
func shapeErr(op, format string, args ...any) {
	panic(&ShapeError{Op: op, Msg: fmt.Sprintf(format, args...)})
}

// Catch runs fn and converts a *ShapeError panic into a returned error.
// Any other panic (a real bug) propagates unchanged.
func Catch(fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if se, ok := r.(*ShapeError); ok {
				err = se
				return
			}
			panic(r)
		}
	}()
	fn()
	return nil
}

// Numel returns the number of elements a tensor of the given shape holds.
func Numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

func contiguousStrides(shape []int) []int {
	st := make([]int, len(shape))
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = s
		s *= shape[i]
	}
	return st
}

func checkShape(op string, shape []int) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			shapeErr(op, "negative dimension in shape %v", shape)
		}
		if d != 0 && n > MaxElements/d {
			shapeErr(op, "shape %v holds more than tensor.MaxElements (%d) values", shape, MaxElements)
		}
		n *= d
	}
}

// MaxElements bounds the values of one tensor (2 GiB of float32): a shape
// past it, computed from a crafted file or an absurd argument, is a
// ShapeError caught at glassbox's edges instead of an allocation that
// exhausts the machine or overflows.
const MaxElements = 1 << 29

// New returns a zero-filled tensor of the given shape.
func New(shape ...int) *Tensor {
	checkShape("tensor.New", shape)
	sh := append([]int(nil), shape...)
	return &Tensor{shape: sh, strides: contiguousStrides(sh), data: newData(Numel(sh)), owner: true}
}

// newUninit is New for a result every element of which the caller
// writes: recycled storage is handed out as it is, not zeroed.
func newUninit(shape ...int) *Tensor {
	checkShape("tensor.New", shape)
	sh := append([]int(nil), shape...)
	return &Tensor{shape: sh, strides: contiguousStrides(sh), data: newDataUninit(Numel(sh)), owner: true}
}

// Zeros is New: a zero-filled tensor.
func Zeros(shape ...int) *Tensor { return New(shape...) }

// Ones returns a tensor filled with 1.
func Ones(shape ...int) *Tensor { return Full(1, shape...) }

// Full returns a tensor filled with v.
func Full(v float32, shape ...int) *Tensor {
	t := New(shape...)
	for i := range t.data {
		t.data[i] = v
	}
	return t
}

// Scalar returns a 0-dimensional tensor holding v.
func Scalar(v float32) *Tensor { return &Tensor{shape: []int{}, strides: []int{}, data: []float32{v}} }

// Arange returns the 1-D tensor [start, start+step, ...) with n elements.
func Arange(start, step float32, n int) *Tensor {
	t := New(n)
	for i := range t.data {
		t.data[i] = start + float32(i)*step
	}
	return t
}

// FromSlice wraps data (not copied) as a tensor of the given shape. It
// returns an error when the lengths disagree: this is the entry point for
// data coming from outside.
func FromSlice(data []float32, shape ...int) (*Tensor, error) {
	for _, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("tensor: negative dimension in shape %v", shape)
		}
	}
	if n := Numel(shape); n != len(data) {
		return nil, fmt.Errorf("tensor: shape %v needs %d values, got %d", shape, n, len(data))
	}
	sh := append([]int(nil), shape...)
	return &Tensor{shape: sh, strides: contiguousStrides(sh), data: data}, nil
}

// MustFromSlice is FromSlice for data whose length the caller has
// already checked; it panics with a *ShapeError otherwise.
func MustFromSlice(data []float32, shape ...int) *Tensor {
	t, err := FromSlice(data, shape...)
	if err != nil {
		shapeErr("tensor.FromSlice", "%v", err)
	}
	return t
}

// Shape returns the tensor's dimensions. The slice must not be modified.
func (t *Tensor) Shape() []int { return t.shape }

// Dim returns the size of axis i (negative i counts from the end).
func (t *Tensor) Dim(i int) int { return t.shape[t.axis("Dim", i)] }

// Rank returns the number of dimensions.
func (t *Tensor) Rank() int { return len(t.shape) }

// Len returns the number of elements.
func (t *Tensor) Len() int { return Numel(t.shape) }

// Strides returns the element strides of each axis.
func (t *Tensor) Strides() []int { return t.strides }

// IsContiguous reports whether the tensor's elements are laid out densely
// in row-major order.
func (t *Tensor) IsContiguous() bool {
	s := 1
	for i := len(t.shape) - 1; i >= 0; i-- {
		if t.shape[i] != 1 && t.strides[i] != s {
			return false
		}
		s *= t.shape[i]
	}
	return true
}

// Data returns the elements in row-major order. For a contiguous tensor it
// is the storage itself (writes are visible to every view); otherwise it is
// a fresh copy.
func (t *Tensor) Data() []float32 {
	if t.IsContiguous() {
		return t.data[t.offset : t.offset+t.Len()]
	}
	return t.Contiguous().data
}

// Item returns the single value of a one-element tensor.
func (t *Tensor) Item() float32 {
	if t.Len() != 1 {
		shapeErr("Item", "tensor of shape %v has %d elements, want 1", t.shape, t.Len())
	}
	return t.Data()[0]
}

// At returns the element at the given index.
func (t *Tensor) At(idx ...int) float32 { return t.data[t.index("At", idx)] }

// Set writes v at the given index.
func (t *Tensor) Set(v float32, idx ...int) { t.data[t.index("Set", idx)] = v }

func (t *Tensor) index(op string, idx []int) int {
	if len(idx) != len(t.shape) {
		shapeErr(op, "index %v has %d coordinates, tensor has shape %v", idx, len(idx), t.shape)
	}
	off := t.offset
	for i, x := range idx {
		if x < 0 || x >= t.shape[i] {
			shapeErr(op, "index %v out of range for shape %v", idx, t.shape)
		}
		off += x * t.strides[i]
	}
	return off
}

// axis normalises a possibly negative axis and panics when out of range.
func (t *Tensor) axis(op string, a int) int {
	r := len(t.shape)
	if a < 0 {
		a += r
	}
	if a < 0 || a >= r {
		shapeErr(op, "axis %d out of range for shape %v (rank %d)", a, t.shape, r)
	}
	return a
}

// Contiguous returns t itself when it is contiguous and starts its storage,
// otherwise a dense copy.
func (t *Tensor) Contiguous() *Tensor {
	if t.IsContiguous() {
		if t.offset == 0 && len(t.data) == t.Len() {
			return t
		}
		return &Tensor{shape: t.shape, strides: t.strides, data: t.data[t.offset : t.offset+t.Len()]}
	}
	out := newUninit(t.shape...) // copyTo writes every element
	t.copyTo(out.data)
	return out
}

// copyTo writes t's elements in row-major order into dst.
func (t *Tensor) copyTo(dst []float32) {
	if t.IsContiguous() {
		copy(dst, t.data[t.offset:t.offset+t.Len()])
		return
	}
	r := len(t.shape)
	if r == 0 {
		dst[0] = t.data[t.offset]
		return
	}
	// Iterate over all but the last axis with a counter; copy the last axis
	// with its stride.
	last := t.shape[r-1]
	ls := t.strides[r-1]
	idx := make([]int, r-1)
	n := t.Len()
	off := t.offset
	for o := 0; o < n; o += last {
		if ls == 1 {
			// Whole rows (a transpose of outer axes, such as time-major
			// to batch-first): one block copy each.
			copy(dst[o:o+last], t.data[off:off+last])
		} else {
			src := off
			for j := 0; j < last; j++ {
				dst[o+j] = t.data[src]
				src += ls
			}
		}
		for a := r - 2; a >= 0; a-- {
			idx[a]++
			off += t.strides[a]
			if idx[a] < t.shape[a] {
				break
			}
			off -= idx[a] * t.strides[a]
			idx[a] = 0
		}
	}
}

// Clone returns a contiguous deep copy.
func (t *Tensor) Clone() *Tensor {
	out := newUninit(t.shape...) // copyTo writes every element
	t.copyTo(out.data)
	return out
}

// CopyFrom copies src's elements into t; the element counts must match.
func (t *Tensor) CopyFrom(src *Tensor) {
	if t.Len() != src.Len() {
		shapeErr("CopyFrom", "source shape %v has %d elements, destination %v has %d", src.shape, src.Len(), t.shape, t.Len())
	}
	if !t.IsContiguous() {
		shapeErr("CopyFrom", "destination of shape %v is not contiguous", t.shape)
	}
	src.copyTo(t.data[t.offset : t.offset+t.Len()])
}

// Fill sets every element of a contiguous tensor to v.
func (t *Tensor) Fill(v float32) {
	d := t.Data()
	for i := range d {
		d[i] = v
	}
}

// SameShape reports whether a and b have identical shapes.
func SameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Reshape returns a view with a new shape holding the same elements. One
// dimension may be -1 and is inferred. Non-contiguous tensors are copied.
func (t *Tensor) Reshape(shape ...int) *Tensor {
	sh := append([]int(nil), shape...)
	infer := -1
	known := 1
	for i, d := range sh {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d < 0:
			shapeErr("Reshape", "invalid target shape %v", shape)
		default:
			known *= d
		}
	}
	n := t.Len()
	if infer >= 0 {
		if known == 0 || n%known != 0 {
			shapeErr("Reshape", "cannot reshape %v (%d elements) into %v", t.shape, n, shape)
		}
		sh[infer] = n / known
	}
	if Numel(sh) != n {
		shapeErr("Reshape", "cannot reshape %v (%d elements) into %v", t.shape, n, shape)
	}
	c := t.Contiguous()
	// A copy Contiguous just made is referenced by nothing else: the
	// reshaped tensor owns it (and Recycle may hand it back).
	return &Tensor{shape: sh, strides: contiguousStrides(sh), offset: c.offset, data: c.data, owner: c != t && c.owner}
}

// MoveReshape is t.Reshape(shape...) for a t its caller gives up: the
// result takes over ownership of t's storage when t had it (New's tensor,
// not a view), so Recycle can hand the storage back once the result is
// dead. t must not be used afterwards. An inference step that builds its
// output in one shape and returns it in another (a Gather: the selection,
// then the indices' shape) keeps its memory recyclable this way.
func MoveReshape(t *Tensor, shape ...int) *Tensor {
	r := t.Reshape(shape...)
	if t.owner && r.offset == t.offset && len(r.data) == len(t.data) && unsafe.SliceData(r.data) == unsafe.SliceData(t.data) {
		r.owner, t.owner = true, false
	}
	return r
}

// Transpose returns a view with the axes permuted. With no arguments it
// reverses the axes; for a matrix that is the usual transpose.
func (t *Tensor) Transpose(perm ...int) *Tensor {
	r := len(t.shape)
	if len(perm) == 0 {
		perm = make([]int, r)
		for i := range perm {
			perm[i] = r - 1 - i
		}
	}
	if len(perm) != r {
		shapeErr("Transpose", "permutation %v has %d axes, tensor has shape %v", perm, len(perm), t.shape)
	}
	seen := make([]bool, r)
	sh := make([]int, r)
	st := make([]int, r)
	for i, p := range perm {
		if p < 0 {
			p += r
		}
		if p < 0 || p >= r || seen[p] {
			shapeErr("Transpose", "invalid permutation %v for shape %v", perm, t.shape)
		}
		seen[p] = true
		sh[i] = t.shape[p]
		st[i] = t.strides[p]
	}
	return &Tensor{shape: sh, strides: st, offset: t.offset, data: t.data}
}

// Slice returns a view of t restricted to [lo, hi) along axis.
func (t *Tensor) Slice(axis, lo, hi int) *Tensor {
	a := t.axis("Slice", axis)
	if lo < 0 || hi > t.shape[a] || lo > hi {
		shapeErr("Slice", "range [%d, %d) out of bounds for axis %d of shape %v", lo, hi, a, t.shape)
	}
	sh := append([]int(nil), t.shape...)
	sh[a] = hi - lo
	return &Tensor{shape: sh, strides: append([]int(nil), t.strides...), offset: t.offset + lo*t.strides[a], data: t.data}
}

// Select returns the sub-tensor at index i of axis, as a view with that
// axis removed: Select(1, t) of a batch-first [B, T, N] sequence is time
// step t as a strided [B, N] matrix. It allocates once for the view (a
// recurrence takes one per step), where Transpose and Row took seven.
func (t *Tensor) Select(axis, i int) *Tensor {
	a := t.axis("Select", axis)
	if i < 0 || i >= t.shape[a] {
		shapeErr("Select", "index %d out of bounds for axis %d of shape %v", i, a, t.shape)
	}
	r := len(t.shape)
	v := &selectView{}
	dims := v.dims[:]
	if 2*(r-1) > len(dims) {
		dims = make([]int, 2*(r-1))
	}
	sh, st := dims[:r-1:r-1], dims[r-1:2*(r-1)]
	copy(sh, t.shape[:a])
	copy(sh[a:], t.shape[a+1:])
	copy(st, t.strides[:a])
	copy(st[a:], t.strides[a+1:])
	v.t = Tensor{shape: sh, strides: st, offset: t.offset + i*t.strides[a], data: t.data}
	return &v.t
}

// selectView holds a view and room for the shape and strides of up to
// four axes in one allocation.
type selectView struct {
	t    Tensor
	dims [8]int
}

// Row returns the i-th sub-tensor along the first axis, as a view.
func (t *Tensor) Row(i int) *Tensor {
	v := t.Slice(0, i, i+1)
	v.shape = v.shape[1:]
	v.strides = v.strides[1:]
	return v
}

// String formats small tensors fully and large ones by shape and a few values.
func (t *Tensor) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Tensor%v", t.shape)
	d := t.Data()
	if len(d) <= 16 {
		fmt.Fprintf(&b, "%v", d)
	} else {
		fmt.Fprintf(&b, "[%v %v %v ... %v]", d[0], d[1], d[2], d[len(d)-1])
	}
	return b.String()
}

// AllClose reports whether a and b have the same shape and every pair of
// elements satisfies |x-y| <= atol + rtol*|y|.
func AllClose(a, b *Tensor, rtol, atol float64) bool {
	if !SameShape(a.shape, b.shape) {
		return false
	}
	x, y := a.Data(), b.Data()
	for i := range x {
		d := math.Abs(float64(x[i]) - float64(y[i]))
		if d > atol+rtol*math.Abs(float64(y[i])) || math.IsNaN(d) {
			return false
		}
	}
	return true
}

// Assign writes src's elements (same count, row-major order) into t, which
// may be a strided view such as a Slice or Transpose of a larger tensor.
func (t *Tensor) Assign(src *Tensor) {
	if t.Len() != src.Len() {
		shapeErr("Assign", "source shape %v has %d elements, destination %v has %d", src.shape, src.Len(), t.shape, t.Len())
	}
	s := src.Data()
	walk2(t.shape, t.strides, t.strides, t.offset, t.offset, func(o, ia, _, last, sa, _ int) {
		for j := 0; j < last; j++ {
			t.data[ia+j*sa] = s[o+j]
		}
	})
}
