package kern

import (
	"fmt"
	"sync"
)

// PackedB is op(B) packed once, in the active micro-kernel's layout, for
// many products A·op(B) with the same B: a recurrent layer multiplies its
// state by the same W_hh at every time step, and packing the k×n weight
// for each small product cost as much as a third of the product.
type PackedB struct {
	kr     *gemmKernel
	transB bool
	k, n   int
	b      []float32 // the matrix as stored (for the unpacked fallback)
	ldb    int
	bp     []float32 // nil until packed (see PackB)
	buf    *fbuf     // bp's storage, from packedBufs
}

// packedBufs recycles the storage of released PackedBs (a recurrence packs
// its weight twice per training step).
var packedBufs = sync.Pool{New: func() any { return new(fbuf) }}

// Release returns the packed storage for reuse; pb must not be used after.
func (pb *PackedB) Release() {
	if pb.buf != nil {
		packedBufs.Put(pb.buf)
	}
	pb.buf, pb.bp, pb.b = nil, nil, nil
}

// PackB prepares op(B) (k×n: B stored k×n with row stride ldb, or n×k if
// transB) for SgemmPackedB, which packs it on its first product that pays
// for it (not for thin ones: a batch of one or two rows never packs). It
// keeps a reference to b: b must not change while the PackedB is in use,
// and one PackedB serves one goroutine at a time. It panics on bad
// arguments as Sgemm does.
func PackB(transB bool, k, n int, b []float32, ldb int) *PackedB {
	if k < 0 || n < 0 {
		panic(fmt.Sprintf("kern.PackB: negative dimension k=%d n=%d", k, n))
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	checkMat("B", br, bc, b, ldb, transB)
	return &PackedB{kr: active, transB: transB, k: k, n: n, b: b, ldb: ldb}
}

// pack packs the whole of op(B) in the row-mode layout of the kernel
// active now, and reports false when B is too large for one block (the
// driver's column blocks stop at maxPackedB floats) or empty.
func (pb *PackedB) pack() bool {
	nr := active.nr
	ncPad := (pb.n + nr - 1) / nr * nr
	if pb.k == 0 || pb.n == 0 || pb.k*ncPad > maxPackedB {
		return false
	}
	g := &gemmJob{kr: active, transB: pb.transB, k: pb.k, n: pb.n, b: pb.b, ldb: pb.ldb}
	g.setK()
	g.j0, g.nLen = 0, pb.n
	g.nPanels = ncPad / nr
	g.ncPad = ncPad
	if pb.buf == nil {
		pb.buf = packedBufs.Get().(*fbuf)
	}
	g.bp = pb.buf.get(pb.k * ncPad)
	g.panelsPerUnit, g.unitsPerK = g.nPanels, 1
	for kb := 0; kb < g.kBlocks; kb++ {
		g.packB(kb)
	}
	pb.kr, pb.bp = active, g.bp
	return true
}

// SgemmPackedB computes C = alpha·A·op(B) + beta·C with op(B) packed by
// PackB: A is m×k (row stride lda), C m×n (row stride ldc). It gives the
// bits Sgemm gives for the same operands (the same k-slices summed by the
// same micro-kernel), on up to Threads() goroutines, and falls back to
// Sgemm where a packed B does not pay or does not fit (tiny or thin
// products, a B over one block); it packs again if another micro-kernel
// was made active since. It panics on bad arguments as Sgemm does.
func SgemmPackedB(m int, alpha float32, a []float32, lda int, pb *PackedB, beta float32, c []float32, ldc int) {
	n, k := pb.n, pb.k
	if m < 0 {
		panic(fmt.Sprintf("kern.SgemmPackedB: negative dimension m=%d", m))
	}
	checkMat("A", m, k, a, lda, false)
	checkMat("C", m, n, c, ldc, false)
	mnk := int64(m) * int64(n) * int64(k)
	if m <= 2 || mnk <= tinyMNK || alpha == 0 || (pb.bp == nil || pb.kr != active) && !pb.pack() {
		sgemmChecked(false, pb.transB, m, n, k, alpha, a, lda, pb.b, pb.ldb, nil, beta, c, ldc, true)
		return
	}
	par := mnk >= parMNK && Threads() > 1
	threads := 1
	if par {
		threads = Threads()
	}
	g := gemmJobs.Get().(*gemmJob)
	g.kr = active
	g.transA, g.transB = false, pb.transB
	g.m, g.n, g.k = m, n, k
	g.alpha, g.beta = alpha, beta
	g.a, g.lda, g.b, g.ldb, g.c, g.ldc = a, lda, pb.b, pb.ldb, c, ldc
	g.boffs = nil
	g.prepacked = pb.bp
	g.planRows(0, n, threads, nil)
	g.runJob(threads)
	g.a, g.b, g.c, g.bp, g.boffs, g.prepacked = nil, nil, nil, nil, nil, nil
	gemmJobs.Put(g)
}
