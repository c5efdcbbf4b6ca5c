package kern

import (
	"fmt"
	"sync"
)

// SgemmIndirectB computes C = A·B on the calling goroutine, where A is
// m×k (row-major, row stride lda), row p of the k×n matrix B is the run
// src[offs[p] : offs[p]+n], and C is m×n (row stride ldc), overwritten.
//
// It is an implicit im2col: a stride-1 convolution over a zero-padded
// image is this product with one row of B per filter tap, each a run of
// the image starting at the tap's offset, so the unfolded matrix is never
// written out and B is never packed: the micro-kernel loads each row of B
// straight from the image (a 6×16 AVX2 tile, 4×16 and 2×16 for the last
// rows; pure Go otherwise). Runs may overlap. Callers parallelise over
// images, so it uses no helpers.
//
// It panics (a programmer error) if a dimension is negative, offs has
// fewer than k entries, a run does not fit in src, or a, c are too short.
func SgemmIndirectB(m, n, k int, a []float32, lda int, src []float32, offs []int32, c []float32, ldc int) {
	checkIndirect(m, n, k, a, lda, src, offs, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		for i := 0; i < m; i++ {
			clear(c[i*ldc : i*ldc+n])
		}
		return
	}
	offs = offs[:k]
	fb := aBufs.Get().(*fbuf)
	defer aBufs.Put(fb)
	const nr = 16
	// Scratch: A micro-panels (≤ 6 rows each, zero-padded), the last
	// partial strip of B gathered as a dense k×16 panel with its own
	// offsets, and a 6×16 tile for partial rows or columns.
	mPad := (m + 5) / 6 * 6
	buf := fb.get(mPad*k + k*nr + 6*nr)
	ap, bp, tmp := buf[:mPad*k], buf[mPad*k:mPad*k+k*nr], buf[mPad*k+k*nr:mPad*k+k*nr+6*nr]
	for i := 0; i < m; i += 6 {
		rows := indRows(m - i)
		packA(ap[i*k:], a, lda, false, i, min(rows, m-i), 0, k, rows)
	}
	nFull := n / nr * nr
	var boffs []int32
	if nFull < n {
		// Gather the last columns, zero-padded to 16, with dense offsets.
		w := n - nFull
		ob := denseOffs.Get().(*[]int32)
		defer denseOffs.Put(ob)
		boffs = indDenseOffs(ob, k)
		for p, o := range offs {
			row := bp[p*nr : (p+1)*nr]
			copy(row, src[int(o)+nFull:int(o)+n])
			clear(row[w:])
		}
	}
	for i := 0; i < m; i += 6 {
		mEff := min(6, m-i)
		rows := indRows(mEff)
		panel := ap[i*k : i*k+rows*k]
		for j := 0; j < nFull; j += nr {
			if rows == mEff {
				indTileAny(rows, k, panel, src[j:], offs, c[i*ldc+j:], ldc)
				continue
			}
			indTileAny(rows, k, panel, src[j:], offs, tmp, nr)
			for r := 0; r < mEff; r++ {
				copy(c[(i+r)*ldc+j:(i+r)*ldc+j+nr], tmp[r*nr:])
			}
		}
		if nFull < n {
			indTileAny(rows, k, panel, bp, boffs, tmp, nr)
			for r := 0; r < mEff; r++ {
				copy(c[(i+r)*ldc+nFull:(i+r)*ldc+n], tmp[r*nr:])
			}
		}
	}
}

// indRows is the micro-kernel height used for the last mEff (≤ 6) rows:
// 6, 4 or 2, zero-padded above mEff.
func indRows(mEff int) int {
	switch {
	case mEff >= 5:
		return 6
	case mEff >= 3:
		return 4
	default:
		return 2
	}
}

// denseOffs holds the row offsets of dense k×16 panels, reused.
var denseOffs = sync.Pool{New: func() any { return new([]int32) }}

// indDenseOffs returns the offsets 0, 16, 32, … of a dense k×16 panel in
// the reused slice *ob.
func indDenseOffs(ob *[]int32, k int) []int32 {
	if cap(*ob) < k {
		*ob = make([]int32, k)
	}
	offs := (*ob)[:k]
	for p := range offs {
		offs[p] = int32(16 * p)
	}
	return offs
}

// indTileAny runs the assembly tile where there is one and indTileGo
// otherwise.
func indTileAny(rows, k int, a, src []float32, offs []int32, c []float32, ldc int) {
	if !indTile(rows, k, a, src, offs, c, ldc) {
		indTileGo(rows, k, a, src, offs, c, ldc)
	}
}

// indTileGo is the portable tile: rows (≤ 6) × 16 accumulators in an
// array, one row of B at a time.
func indTileGo(rows, k int, a, src []float32, offs []int32, c []float32, ldc int) {
	var acc [6][16]float32
	for p, o := range offs[:k] {
		b := (*[16]float32)(src[o:])
		ar := a[p*rows : p*rows+rows]
		for i, av := range ar {
			t := &acc[i]
			for j := range t {
				t[j] += av * b[j]
			}
		}
	}
	for i := 0; i < rows; i++ {
		copy(c[i*ldc:i*ldc+16], acc[i][:])
	}
}

func checkIndirect(m, n, k int, a []float32, lda int, src []float32, offs []int32, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kern.SgemmIndirectB: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	if len(offs) < k {
		panic(fmt.Sprintf("kern.SgemmIndirectB: %d row offsets for k = %d rows of B", len(offs), k))
	}
	checkMat("A", m, k, a, lda, false)
	checkMat("C", m, n, c, ldc, false)
	if n == 0 {
		return
	}
	for p, o := range offs[:k] {
		if o < 0 || int(o)+n > len(src) {
			panic(fmt.Sprintf("kern.SgemmIndirectB: row %d of B at offset %d needs src[%d:%d], len(src) = %d", p, o, o, int(o)+n, len(src)))
		}
	}
}
