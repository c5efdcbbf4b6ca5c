package tensor

import "github.com/glassbox-ml/glassbox/tensor/internal/kern"

// matLayout reports how a 2-D view can be handed to GEMM without a copy:
// row-major with a row stride (trans=false), or as the transpose of a
// row-major matrix (trans=true). Anything else is copied first.
func matLayout(t *Tensor) (data []float32, ld int, trans bool) {
	rs, cs := t.strides[0], t.strides[1]
	rows, cols := t.shape[0], t.shape[1]
	switch {
	case cs == 1 && (rs >= cols || rows == 1):
		return t.data[t.offset:], max(rs, cols), false
	case rs == 1 && (cs >= rows || cols == 1):
		return t.data[t.offset:], max(cs, rows), true
	}
	c := t.Contiguous()
	return c.data, cols, false
}

// MatMul returns the matrix product a·b.
//
//	a: [m, k], b: [k, n] → [m, n]
//	a: [batch..., m, k], b: [batch..., k, n] → [batch..., m, n]
//	a: [batch..., m, k], b: [k, n] → [batch..., m, n] (b shared)
//
// Transposed views (a.Transpose()) are passed to the kernel without a copy.
func MatMul(a, b *Tensor) *Tensor {
	ra, rb := len(a.shape), len(b.shape)
	if ra < 2 || rb < 2 {
		shapeErr("MatMul", "operands must have rank ≥ 2, got %v and %v", a.shape, b.shape)
	}
	m, k := a.shape[ra-2], a.shape[ra-1]
	k2, n := b.shape[rb-2], b.shape[rb-1]
	if k != k2 {
		shapeErr("MatMul", "inner dimensions differ: %v · %v (%d vs %d)", a.shape, b.shape, k, k2)
	}
	// Every output is written (beta 0 overwrites, an empty sum clears):
	// zeroing it first cost a recurrent model's input projection (2048 ×
	// 384 outputs) a fifth of its time.
	if ra == 2 && rb == 2 {
		out := newUninit(m, n)
		MatMulInto(out, a, b, false)
		return out
	}
	if rb == 2 && a.IsContiguous() {
		// Shared right operand: fold the batch into the rows. The result
		// is allocated in its final shape (not a reshaped view of a
		// matrix), so it owns its memory and can be recycled.
		shape := append(append([]int(nil), a.shape[:ra-2]...), m, n)
		out := newUninit(shape...)
		rows := Numel(a.shape[:ra-1])
		MatMulInto(out.Reshape(rows, n), a.Reshape(rows, k), b, false)
		return out
	}
	if ra != rb || !SameShape(a.shape[:ra-2], b.shape[:rb-2]) {
		shapeErr("MatMul", "batch dimensions differ: %v · %v", a.shape, b.shape)
	}
	batch := Numel(a.shape[:ra-2])
	shape := append(append([]int(nil), a.shape[:ra-2]...), m, n)
	out := newUninit(shape...)
	a3 := a.Reshape(batch, m, k)
	b3 := b.Reshape(batch, k, n)
	o3 := out.Reshape(batch, m, n)
	parallelFor(batch, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			matMulInto(o3.Row(i), a3.Row(i), b3.Row(i), false, hi-lo < batch)
		}
	})
	return out
}

// MatMulInto writes a·b into dst (shape [m, n], contiguous), or adds it to
// dst when accumulate is true. Gradients use it to accumulate without
// allocating.
func MatMulInto(dst, a, b *Tensor, accumulate bool) {
	matMulInto(dst, a, b, accumulate, false)
}

func matMulInto(dst, a, b *Tensor, accumulate, serial bool) {
	if len(a.shape) != 2 || len(b.shape) != 2 || len(dst.shape) != 2 {
		shapeErr("MatMulInto", "want matrices, got %v · %v → %v", a.shape, b.shape, dst.shape)
	}
	m, k := a.shape[0], a.shape[1]
	n := b.shape[1]
	if b.shape[0] != k || dst.shape[0] != m || dst.shape[1] != n {
		shapeErr("MatMulInto", "shapes %v · %v do not give %v", a.shape, b.shape, dst.shape)
	}
	if !dst.IsContiguous() {
		shapeErr("MatMulInto", "destination of shape %v is not contiguous", dst.shape)
	}
	ad, lda, ta := matLayout(a)
	bd, ldb, tb := matLayout(b)
	var beta float32
	if accumulate {
		beta = 1
	}
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		// An empty sum: zeros (or dst unchanged), with no kernel to tell
		// about leading dimensions of empty matrices.
		if !accumulate {
			clear(dst.data[dst.offset : dst.offset+m*n])
		}
		return
	}
	g := gemm
	if serial {
		g = gemmSerial
	}
	g(ta, tb, m, n, k, 1, ad, lda, bd, ldb, beta, dst.data[dst.offset:], n)
}

// PackedMatrix is the right operand of MatMulPackedInto, packed once for
// the GEMM kernel: a recurrent layer multiplies by the same W_hh at every
// time step, and packing it for each small product cost about a third of
// the product. It holds b's data: b must not change while in use.
type PackedMatrix struct {
	pb   *kern.PackedB
	k, n int
}

// PackRight packs the matrix b [k, n] (any strides, e.g. a transposed
// view) as the right operand of MatMulPackedInto.
func PackRight(b *Tensor) *PackedMatrix {
	if len(b.shape) != 2 {
		shapeErr("PackRight", "want a matrix, got shape %v", b.shape)
	}
	bd, ldb, tb := matLayout(b)
	k, n := b.shape[0], b.shape[1]
	return &PackedMatrix{pb: kern.PackB(tb, k, n, bd, ldb), k: k, n: n}
}

// Release hands the packed storage back for reuse; b must not be used
// after.
func (b *PackedMatrix) Release() { b.pb.Release() }

// MatMulPacked returns a·b with b packed by PackRight: MatMul's bits, in
// a new [m, n] matrix (written over, never zeroed first).
func MatMulPacked(a *Tensor, b *PackedMatrix) *Tensor {
	if len(a.shape) != 2 {
		shapeErr("MatMulPacked", "want a matrix, got shape %v", a.shape)
	}
	out := newUninit(a.shape[0], b.n)
	MatMulPackedInto(out, a, b, false)
	return out
}

// MatMulPackedInto computes dst = a·b (accumulate: dst += a·b) with b
// packed by PackRight: the same bits as MatMulInto(dst, a, b, accumulate).
func MatMulPackedInto(dst, a *Tensor, b *PackedMatrix, accumulate bool) {
	if len(a.shape) != 2 || len(dst.shape) != 2 {
		shapeErr("MatMulPackedInto", "want matrices, got %v · packed [%d %d] → %v", a.shape, b.k, b.n, dst.shape)
	}
	m := a.shape[0]
	if a.shape[1] != b.k || dst.shape[0] != m || dst.shape[1] != b.n {
		shapeErr("MatMulPackedInto", "shapes %v · [%d %d] do not give %v", a.shape, b.k, b.n, dst.shape)
	}
	if !dst.IsContiguous() {
		shapeErr("MatMulPackedInto", "destination of shape %v is not contiguous", dst.shape)
	}
	if m == 0 || b.n == 0 {
		return
	}
	if b.k == 0 {
		// An empty sum, as MatMulInto has it (the kernel takes no
		// leading dimension of an empty A).
		if !accumulate {
			clear(dst.data[dst.offset : dst.offset+m*b.n])
		}
		return
	}
	ad, lda, ta := matLayout(a)
	var beta float32
	if accumulate {
		beta = 1
	}
	if ta {
		// The packed product reads A by rows; a transposed A is rare here.
		ad, lda = a.Contiguous().Data(), b.k
	}
	kern.SgemmPackedB(m, 1, ad, lda, b.pb, beta, dst.data[dst.offset:], b.n)
}
