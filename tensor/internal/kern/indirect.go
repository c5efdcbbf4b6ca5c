package kern

import (
	"fmt"
	"sync"
)

// SgemmIndirectB computes C = A·B, where A is m×k (row-major, row stride
// lda), row p of the k×n matrix B is the run src[offs[p] : offs[p]+n],
// and C is m×n (row stride ldc), overwritten.
//
// It is an implicit im2col: a stride-1 convolution over a zero-padded
// image is this product with one row of B per filter tap, each a run of
// the image starting at the tap's offset, so the unfolded matrix is never
// written out and B is never packed: the micro-kernel loads each row of B
// straight from the image (a 6×16 AVX2 tile, 4×16 and 2×16 for the last
// rows; pure Go otherwise). Runs may overlap.
//
// Like Sgemm it spreads the work over Threads() goroutines (16-column
// strips of C) when that pays, and every element of C is one dot product
// summed in the order of k whoever computes it, so the result does not
// depend on the number of goroutines and equals SgemmIndirectBSerial's.
//
// It panics (a programmer error) if a dimension is negative, offs has
// fewer than k entries, a run does not fit in src, or a, c are too short.
func SgemmIndirectB(m, n, k int, a []float32, lda int, src []float32, offs []int32, c []float32, ldc int) {
	sgemmIndirect(m, n, k, a, lda, src, offs, c, ldc, true)
}

// SgemmIndirectBT computes C = alpha·A·Bᵀ + beta·C, where A is m×k
// (row-major, row stride lda), row j of the n×k matrix B is the run
// src[offs[j] : offs[j]+k], and C is m×n (row stride ldc); beta == 0
// overwrites C. It is Sgemm(false, true, …) with B's rows gathered while
// they are packed: the weight gradient of a stride-1 convolution,
// dy·colsᵀ, reads the unfolded rows straight from the padded image.
// Results equal Sgemm's on the gathered B, bit for bit, and do not depend
// on the number of goroutines. It panics on bad arguments as
// SgemmIndirectB does.
func SgemmIndirectBT(m, n, k int, alpha float32, a []float32, lda int, src []float32, offs []int32, beta float32, c []float32, ldc int) {
	checkIndirect("SgemmIndirectBT", m, n, k, a, lda, src, offs, n, k, c, ldc)
	sgemmChecked(false, true, m, n, k, alpha, a, lda, src, k, offs[:n], beta, c, ldc, true)
}

// SgemmIndirectBTSerial is SgemmIndirectBT on the calling goroutine.
func SgemmIndirectBTSerial(m, n, k int, alpha float32, a []float32, lda int, src []float32, offs []int32, beta float32, c []float32, ldc int) {
	checkIndirect("SgemmIndirectBT", m, n, k, a, lda, src, offs, n, k, c, ldc)
	sgemmChecked(false, true, m, n, k, alpha, a, lda, src, k, offs[:n], beta, c, ldc, false)
}

// SgemmIndirectBSerial is SgemmIndirectB on the calling goroutine, for
// callers that already parallelise (over the images of a batch).
func SgemmIndirectBSerial(m, n, k int, a []float32, lda int, src []float32, offs []int32, c []float32, ldc int) {
	sgemmIndirect(m, n, k, a, lda, src, offs, c, ldc, false)
}

func sgemmIndirect(m, n, k int, a []float32, lda int, src []float32, offs []int32, c []float32, ldc int, par bool) {
	checkIndirect("SgemmIndirectB", m, n, k, a, lda, src, offs, k, n, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	pa := PackIndirectA(m, k, a, lda, false)
	defer pa.Release()
	indirectPacked(pa, n, src, offs, c, ldc, par, nil)
}

// IndirectA is the A operand of the indirect products packed once into
// the micro-kernels' row panels, so that many products share one packing:
// the images of a batch, or the strips of one image spread over cores. A
// 512-filter 3×3 convolution's weights are 9 MB; packed again for every
// image, and on one core, they had cost as much as the product itself on
// a 7×7 image. Its contents are read-only once packed: any number of
// goroutines may use it at once.
type IndirectA struct {
	m, k int
	ap   []float32
	fb   *fbuf
	wide bool // packed for the AVX-512 tiles (12-row panels; see indStep)
}

// PackIndirectA packs the m×k matrix a (row-major, row stride lda) for
// SgemmIndirectBPacked and SgemmIndirectRowsPacked; par spreads a large
// packing over Threads() goroutines. Release it when done. It panics on
// bad arguments as SgemmIndirectB does.
func PackIndirectA(m, k int, a []float32, lda int, par bool) *IndirectA {
	if m < 0 || k < 0 {
		panic(fmt.Sprintf("kern.PackIndirectA: negative dimension m=%d k=%d", m, k))
	}
	checkMat("A", m, k, a, lda, false)
	fb := aBufs.Get().(*fbuf)
	// A as micro-panels of ≤ 6 rows, zero-padded.
	ap := fb.get((m + 5) / 6 * 6 * k)
	var starts []int
	if k > 0 {
		starts = indPanelStarts(m)
	}
	pack := func(lo, hi int) {
		for idx, i := range starts[lo:hi] {
			mEff, rows := indStep(m - i)
			// The assembly packer may store 2 floats past its panel, into
			// the next one, which the next iteration then writes over.
			// The last panel of a share is packed within its bounds (the
			// Go packer): another goroutine may have packed the next.
			end := len(ap)
			if lo+idx == hi-1 {
				end = i*k + rows*k
			}
			packA(ap[i*k:end], a, lda, false, i, mEff, 0, k, rows)
		}
	}
	if par && m*k >= 1<<16 && len(starts) > 1 {
		ParallelFor(len(starts), max(1, len(starts)/(4*Threads())), pack)
	} else {
		pack(0, len(starts))
	}
	return &IndirectA{m: m, k: k, ap: ap, fb: fb, wide: indWide()}
}

// Rows returns m, the rows of the packed matrix; Cols returns k.
func (p *IndirectA) Rows() int { return p.m }

// Cols returns k, the columns of the packed matrix.
func (p *IndirectA) Cols() int { return p.k }

// Release returns the packing's memory for reuse; p must not be used
// afterwards. Releasing nil or twice does nothing.
func (p *IndirectA) Release() {
	if p != nil && p.fb != nil {
		aBufs.Put(p.fb)
		p.fb, p.ap = nil, nil
	}
}

// SgemmIndirectBPacked is SgemmIndirectB with A packed beforehand
// (m×k from pa), on Threads() goroutines when par and it pays. Results
// equal SgemmIndirectB's bit for bit.
func SgemmIndirectBPacked(pa *IndirectA, n int, src []float32, offs []int32, c []float32, ldc int, par bool) {
	pa.check("SgemmIndirectBPacked")
	checkIndirectRuns("SgemmIndirectBPacked", pa.m, n, pa.k, src, offs, pa.k, n, c, ldc)
	if pa.m == 0 || n == 0 {
		return
	}
	indirectPacked(pa, n, src, offs, c, ldc, par, nil)
}

// SgemmIndirectBPackedBias is SgemmIndirectBPacked followed by
// BiasRows(c, ldc, m, n, bias, relu, bound), the bias, rectifier and
// bound (when > 0: ReLU6) applied
// to each 32-column tile as the AVX-512 kernels store it (elsewhere to
// each 16-column strip right after it, with BiasRows): the same
// operations, while that part of C is in cache, where the pass afterwards
// read the whole output back (a third of the time of a 1×1 layer of 32
// channels onto 16 on a 112×112 image). bias holds m values.
func SgemmIndirectBPackedBias(pa *IndirectA, n int, src []float32, offs []int32, c []float32, ldc int, bias []float32, relu bool, bound float32, par bool) {
	pa.check("SgemmIndirectBPackedBias")
	checkIndirectRuns("SgemmIndirectBPackedBias", pa.m, n, pa.k, src, offs, pa.k, n, c, ldc)
	if len(bias) < pa.m {
		panic(fmt.Sprintf("kern.SgemmIndirectBPackedBias: %d biases for %d rows of C", len(bias), pa.m))
	}
	if pa.m == 0 || n == 0 {
		return
	}
	indirectPacked(pa, n, src, offs, c, ldc, par, &epilogue{bias: bias, relu: relu, bound: bound})
}

func (p *IndirectA) check(op string) {
	if p == nil || (p.fb == nil && p.m*p.k > 0) {
		panic("kern." + op + ": A is nil or already released")
	}
	if p.wide != indWide() {
		// Its panels follow the kernel active when it was packed; only a
		// test switches kernels.
		panic("kern." + op + ": A was packed for another kernel")
	}
}

// emptyProduct sets C (m×n) to a product over k = 0, zeros, with ep's
// bias and rectifier when not nil.
func emptyProduct(c []float32, ldc, m, n int, ep *epilogue) {
	for i := 0; i < m; i++ {
		clear(c[i*ldc : i*ldc+n])
	}
	if ep != nil {
		BiasRows(c, ldc, m, n, ep.bias, ep.relu, ep.bound)
	}
}

// indirectPacked runs SgemmIndirectBPacked, and when ep is not nil (its
// bias not nil) the bias and rectifier on each part of C as it is done.
func indirectPacked(pa *IndirectA, n int, src []float32, offs []int32, c []float32, ldc int, par bool, ep *epilogue) {
	m, k := pa.m, pa.k
	if k == 0 {
		emptyProduct(c, ldc, m, n, ep)
		return
	}
	offs = offs[:k]
	const nr = 16
	strips := (n + nr - 1) / nr
	big := int64(m)*int64(n)*int64(k) >= parMNK
	if tw := indTileWidth(); par && big && tw > 0 && m >= 48 && fewStrips((n+tw-1)/tw, m*k) {
		// Too few columns to share out (a 7×7 image's last ResNet stage:
		// 63 padded columns against 512 filters): the cores take row
		// panels instead, each streaming its share of A once rather than
		// all of it per strip. A core's panels go two at a time, every
		// strip of C for them before the next two, so A is read once
		// from memory and the strips reuse it from the cache: its whole
		// share per strip had streamed A from memory once per strip
		// (9.4 MB of ResNet's 512-filter 3×3 weights four times over on
		// AVX2's 16-column strips).
		starts := indPanelStarts(m)
		ParallelFor(len(starts), 1, func(lo, hi int) {
			for pi := lo; pi < hi; pi += 2 {
				i0, i1 := starts[pi], m
				if e := min(pi+2, hi); e < len(starts) {
					i1 = starts[e]
				}
				indRows(m, i0, i1, n, k, pa.ap, src, offs, c, ldc, ep)
			}
		})
		return
	}
	run := func(lo, hi int) { indStrips(m, n, k, pa.ap, src, offs, c, ldc, lo, hi, ep) }
	if par && big {
		ParallelFor(strips, max(1, strips/(4*Threads())), run)
		return
	}
	run(0, strips)
}

// indRows computes the rows [i0, i1) of C (starts of A's panels, or m)
// over all n columns, strip after strip, with ep's bias and rectifier (ep
// nil: none): the 32-column tiles with AVX-512, else 16-column strips
// (AVX2's tiles, or the Go tile).
func indRows(m, i0, i1, n, k int, ap, src []float32, offs []int32, c []float32, ldc int, ep *epilogue) {
	if indTileWidth() == 32 {
		for j := 0; j < n; j += 32 {
			if !indStrip32Rows(m, i0, i1, k, min(32, n-j), ap, src[j:], offs, c[j:], ldc, ep) {
				panic("kern: no 32-column tile for a height indStep chose")
			}
		}
		return
	}
	var tmp [6 * 16]float32
	for j := 0; j < n; j += 16 {
		if j+16 > n {
			indPartialStripRows(m, i0, i1, n, k, ap, src, offs, c, ldc, j, tmp[:])
		} else {
			indStripRows(m, i0, i1, k, 16, ap, src[j:], offs, c[j:], ldc, tmp[:])
		}
		if ep != nil {
			BiasRows(c[i0*ldc+j:], ldc, i1-i0, min(16, n-j), ep.bias[i0:], ep.relu, ep.bound)
		}
	}
}

// PanelStarts returns the first rows of pa's row panels, the rows
// SgemmIndirectBPackedRows may start and end at (besides Rows()).
func (p *IndirectA) PanelStarts() []int { return indPanelStarts(p.m) }

// SgemmIndirectBPackedRows computes the rows [i0, i1) of
// SgemmIndirectBPackedBias's C, bit for bit, into c with row i0 first
// (row i at c[(i−i0)·ldc]): i0 and i1 are starts of pa's row panels
// (PanelStarts) or its row count. bias holds the rows' biases (bias[0]
// row i0's; nil: none, and neither rectifier nor bound); with relu the
// sums are rectified and, with bound > 0, bounded above by it (ReLU6, as
// BiasRows bounds them). It runs on the calling
// goroutine, so that a caller can use a block of C at once, while it is
// in cache (a MobileNet expansion's channels, each read right away by a
// depthwise layer). It panics on bad arguments.
func SgemmIndirectBPackedRows(pa *IndirectA, i0, i1, n int, src []float32, offs []int32, c []float32, ldc int, bias []float32, relu bool, bound float32) {
	pa.check("SgemmIndirectBPackedRows")
	if i0 < 0 || i1 > pa.m || i0 > i1 || !isPanelStart(pa.m, i0) || !isPanelStart(pa.m, i1) {
		panic(fmt.Sprintf("kern.SgemmIndirectBPackedRows: rows [%d, %d) are not whole panels of %d rows", i0, i1, pa.m))
	}
	m := i1 - i0
	checkIndirectRuns("SgemmIndirectBPackedRows", m, n, pa.k, src, offs, pa.k, n, c, ldc)
	if bias != nil && len(bias) < m {
		panic(fmt.Sprintf("kern.SgemmIndirectBPackedRows: %d biases for %d rows of C", len(bias), m))
	}
	if m == 0 || n == 0 {
		return
	}
	var ep *epilogue
	if bias != nil {
		ep = &epilogue{bias: bias, relu: relu, bound: bound}
	}
	k := pa.k
	if k == 0 {
		emptyProduct(c, ldc, m, n, ep)
		return
	}
	// Rows [i0, i1) of an m-row A are the first i1−i0 of the m−i0 rows
	// from i0 on: indStep picks the same panels from the rows left.
	indRows(pa.m-i0, 0, m, n, k, pa.ap[i0*k:], src, offs[:k], c, ldc, ep)
}

// isPanelStart reports whether row i starts one of an m-row A's panels
// (or is m).
func isPanelStart(m, i int) bool {
	if i == m {
		return true
	}
	for r := 0; r < m; {
		if r == i {
			return true
		}
		mEff, _ := indStep(m - r)
		r += mEff
	}
	return false
}

// fewStrips reports whether a product of strips column strips (tiles
// wide) and an A of aLen floats is shared out by row panels of A rather
// than by strips: when the strips are too few to go round the cores, or
// when A is too large for a core's cache (a mebibyte: half of L2 on the
// CPUs we see) and there are no more strips than four per core, each of
// which would read all of A from memory again.
func fewStrips(strips, aLen int) bool {
	t := Threads()
	return strips < 2*t || aLen >= 1<<18 && strips <= 4*t
}

// indStrips computes the 16-column strips [lo, hi) of C from the packed A
// panels ap, each with ep's bias and rectifier (ep nil: none).
func indStrips(m, n, k int, ap, src []float32, offs []int32, c []float32, ldc, lo, hi int, ep *epilogue) {
	const nr = 16
	var tmp [6 * nr]float32
	nFull := n / nr * nr
	wide := indWide()
	for s := lo; s < hi; s++ {
		j := s * nr
		if wide {
			// Up to two strips in one 32-column tile; the last strip of C,
			// however narrow, is read and written through the masks.
			cols := min(2*nr, n-j, (hi-s)*nr)
			if indStrip32(m, k, cols, ap, src[j:], offs, c[j:], ldc, ep) {
				s += (cols+nr-1)/nr - 1
				continue
			}
		}
		if j >= nFull {
			indPartialStrip(m, n, k, ap, src, offs, c, ldc, j, tmp[:])
		} else {
			indStrip(m, k, nr, ap, src[j:], offs, c[j:], ldc, tmp[:])
		}
		if ep != nil {
			BiasRows(c[j:], ldc, m, min(nr, n-j), ep.bias, ep.relu, ep.bound)
		}
	}
}

// indStrip32 computes the first cols (≤ 32) columns of C at c with the
// AVX-512 tiles, tile row by tile row, reading only those columns of B's
// runs, and reports false when a tile height has no such kernel (the
// caller then computes the columns again, overwriting whatever was
// written). Rows of a tile beyond m (zero-padded in A) go through a
// scratch tile. ep, when not nil, holds a bias per row of C (m of them)
// and whether to rectify, applied as the tiles are stored.
func indStrip32(m, k, cols int, ap, src []float32, offs []int32, c []float32, ldc int, ep *epilogue) bool {
	return indStrip32Rows(m, 0, m, k, cols, ap, src, offs, c, ldc, ep)
}

// indStrip32Rows is indStrip32 for the rows [i0, i1) of C only, i0 and i1
// starts of A's panels (or m): the panels are those of all m rows.
func indStrip32Rows(m, i0, i1, k, cols int, ap, src []float32, offs []int32, c []float32, ldc int, ep *epilogue) bool {
	// The scratch tiles are declared where they are used: declared here,
	// they were cleared at every call (one per 32 columns: 392 calls for
	// a block of a 112×112 expansion), 6% of a batch-1 MobileNetV2.
	for i := i0; i < i1; {
		mEff, rows := indStep(m - i)
		panel := ap[i*k : i*k+rows*k]
		var tep *epilogue
		if ep != nil {
			var b []float32
			if ep.bias != nil {
				b = ep.bias[i:]
			}
			if len(b) < rows { // short, or no bias (zeros)
				var padBias [12]float32
				copy(padBias[:], b)
				b = padBias[:]
			}
			tep = &epilogue{bias: b, relu: ep.relu, bound: ep.bound}
		}
		if rows == mEff {
			if !indTile32(rows, k, cols, panel, src, offs, c[i*ldc:], ldc, tep) {
				return false
			}
		} else {
			var tmp [6 * 32]float32 // a padded tile is at most 6 rows high
			if !indTile32(rows, k, cols, panel, src, offs, tmp[:], 32, tep) {
				return false
			}
			for r := 0; r < mEff; r++ {
				copy(c[(i+r)*ldc:(i+r)*ldc+cols], tmp[r*32:])
			}
		}
		i += mEff
	}
	return true
}

// halfTilesOff makes the AVX-512 indirect products take the 32-column
// tiles for every width, where a tile of 16 columns or fewer otherwise
// takes the 16-column ones (tests compare the two).
var halfTilesOff bool

// epilogue is what the 32-column tiles apply to C as they store it: a
// bias per row (nil: zeros) and, when relu, the rectifier.
type epilogue struct {
	bias  []float32
	relu  bool
	bound float32 // > 0: min(v, bound) after the rectifier (ReLU6)
}

// SgemmIndirectRows computes a convolution's output rows in place: for
// each r < rows, columns [r·cStride, r·cStride+cols) of C (m×…, row stride
// ldc) are A·B_r + bias (rectified when relu), where row p of B_r is the
// run src[offs[p] + r·srcStride :][:cols]. A stride-1 convolution over a
// padded image of row stride srcStride writes each output row straight
// into its plane this way (C's rows are the output channels, ldc the
// plane size, cStride the output width), with no padded-width result to
// copy out. bias has m entries (nil: none). The sums are those of
// SgemmIndirectB, in the same order. It runs on the calling goroutine and
// reports false, having done nothing, where there is no vector kernel
// (the AVX-512 32-column or AVX2 16-column tiles, a row's last one
// column-masked; see IndirectRowsFast); the caller then keeps the
// padded-width product. It panics on bad
// arguments as SgemmIndirectB does.
func SgemmIndirectRows(m, k int, a []float32, lda int, src []float32, offs []int32, rows, cols, srcStride int, bias []float32, relu bool, c []float32, ldc, cStride int) bool {
	if !IndirectRowsAvailable() {
		return false
	}
	if m < 0 || k < 0 {
		panic(fmt.Sprintf("kern.SgemmIndirectRows: negative dimension m=%d k=%d", m, k))
	}
	checkMat("A", m, k, a, lda, false)
	pa := PackIndirectA(m, k, a, lda, false)
	defer pa.Release()
	return SgemmIndirectRowsPacked(pa, src, offs, rows, cols, srcStride, bias, relu, 0, c, ldc, cStride)
}

// IndirectRowsAvailable reports whether SgemmIndirectRows has a vector
// kernel here (it does nothing and reports false otherwise).
func IndirectRowsAvailable() bool { return indWide() || rows16() }

// SgemmIndirectRowsPacked is SgemmIndirectRows with A packed beforehand
// and, with bound > 0, the sums bounded above by it after the rectifier
// (ReLU6, as BiasRows bounds them). Calls on disjoint ranges of rows (src and c advanced by r·srcStride
// and r·cStride) may run at once: that is how one image's output rows are
// spread over cores.
func SgemmIndirectRowsPacked(pa *IndirectA, src []float32, offs []int32, rows, cols, srcStride int, bias []float32, relu bool, bound float32, c []float32, ldc, cStride int) bool {
	wide := indWide()
	if !wide && !rows16() {
		return false
	}
	pa.check("SgemmIndirectRowsPacked")
	m, k := pa.m, pa.k
	if rows < 0 || cols < 0 || srcStride < 0 || cStride < 0 {
		panic(fmt.Sprintf("kern.SgemmIndirectRows: negative rows=%d cols=%d srcStride=%d cStride=%d", rows, cols, srcStride, cStride))
	}
	if m == 0 || rows == 0 || cols == 0 {
		return true
	}
	n := (rows-1)*cStride + cols
	checkIndirectRuns("SgemmIndirectRows", m, n, k, src, offs, k, (rows-1)*srcStride+cols, c, ldc)
	if bias != nil && len(bias) < m {
		panic(fmt.Sprintf("kern.SgemmIndirectRows: %d biases for %d rows of C", len(bias), m))
	}
	var ep *epilogue
	if bias != nil || relu || bound > 0 {
		ep = &epilogue{bias: bias, relu: relu, bound: bound}
	}
	ap := pa.ap
	offs = offs[:k]
	if !wide {
		// AVX2: 16-column strips, a row's last one column-masked, the
		// epilogue applied to each strip while it is still in L1 (the
		// same operations as the padded-width product's AddBiasRows).
		var tmp [6 * 16]float32
		for r := 0; r < rows; r++ {
			for x0 := 0; x0 < cols; x0 += 16 {
				w := min(16, cols-x0)
				cs, rs := c[r*cStride+x0:], src[r*srcStride+x0:]
				if w == 16 {
					indStrip(m, k, 16, ap, rs, offs, cs, ldc, tmp[:])
				} else if !indMaskStrip(m, k, w, ap, rs, offs, cs, ldc, tmp[:]) {
					panic("kern.SgemmIndirectRows: no column-masked tile")
				}
				if ep == nil {
					continue
				}
				for i := 0; i < m; i++ {
					var b float32
					if ep.bias != nil {
						b = ep.bias[i]
					}
					row := cs[i*ldc : i*ldc+w]
					addBias(row, row, b, ep.relu)
					if ep.bound > 0 {
						ClampMax(row, ep.bound)
					}
				}
			}
		}
		return true
	}
	for r := 0; r < rows; r++ {
		for x0 := 0; x0 < cols; x0 += 32 {
			w := min(32, cols-x0)
			if !indStrip32(m, k, w, ap, src[r*srcStride+x0:], offs, c[r*cStride+x0:], ldc, ep) {
				panic("kern.SgemmIndirectRows: no 32-column tile for a height indStep chose")
			}
		}
	}
	return true
}

// indStrip computes the w (≤ 16) columns of C at c (row stride ldc) whose
// rows of B start at src[offs[p]], tile row by tile row; tiles that are
// short of rows or columns go through tmp.
func indStrip(m, k, w int, ap, src []float32, offs []int32, c []float32, ldc int, tmp []float32) {
	indStripRows(m, 0, m, k, w, ap, src, offs, c, ldc, tmp)
}

// indStripRows is indStrip for the rows [i0, i1) of C only, i0 and i1
// starts of A's panels (or m).
func indStripRows(m, i0, i1, k, w int, ap, src []float32, offs []int32, c []float32, ldc int, tmp []float32) {
	const nr = 16
	for i := i0; i < i1; {
		mEff, rows := indStep(m - i)
		panel := ap[i*k : i*k+rows*k]
		if rows == mEff && w == nr {
			indTileAny(rows, k, panel, src, offs, c[i*ldc:], ldc)
		} else {
			indTileAny(rows, k, panel, src, offs, tmp, nr)
			for r := 0; r < mEff; r++ {
				copy(c[(i+r)*ldc:(i+r)*ldc+w], tmp[r*nr:])
			}
		}
		i += mEff
	}
}

// indPartialStrip computes the last n−j (< 16) columns of C: with the
// column-masked AVX2 tiles where there are, else with their rows of B
// gathered into a dense zero-padded k×16 panel first, so no run is read
// past its n floats.
func indPartialStrip(m, n, k int, ap, src []float32, offs []int32, c []float32, ldc, j int, tmp []float32) {
	indPartialStripRows(m, 0, m, n, k, ap, src, offs, c, ldc, j, tmp)
}

// indPartialStripRows is indPartialStrip for the rows [i0, i1) of C only
// (starts of A's panels, or m).
func indPartialStripRows(m, i0, i1, n, k int, ap, src []float32, offs []int32, c []float32, ldc, j int, tmp []float32) {
	const nr = 16
	if indMaskStripRows(m, i0, i1, k, n-j, ap, src[j:], offs, c[j:], ldc, tmp) {
		return
	}
	fb := bBufs.Get().(*fbuf)
	defer bBufs.Put(fb)
	ob := denseOffs.Get().(*[]int32)
	defer denseOffs.Put(ob)
	w := n - j
	panel := fb.get(k * nr)
	for p, o := range offs {
		row := panel[p*nr : (p+1)*nr]
		copy(row, src[int(o)+j:int(o)+n])
		clear(row[w:])
	}
	indStripRows(m, i0, i1, k, w, ap, panel, indDenseOffs(ob, k), c[j:], ldc, tmp)
}

// indMaskStrip computes the first w (1..15) columns of C at c with the
// column-masked tiles (reading only those columns of B's runs), each tile
// through tmp (6×16), and reports false, having done nothing, where there
// are none.
func indMaskStrip(m, k, w int, ap, src []float32, offs []int32, c []float32, ldc int, tmp []float32) bool {
	return indMaskStripRows(m, 0, m, k, w, ap, src, offs, c, ldc, tmp)
}

// indMaskStripRows is indMaskStrip for the rows [i0, i1) of C only
// (starts of A's panels, or m).
func indMaskStripRows(m, i0, i1, k, w int, ap, src []float32, offs []int32, c []float32, ldc int, tmp []float32) bool {
	const nr = 16
	for i := i0; i < i1; {
		mEff, rows := indStep(m - i)
		if !indTileMask(rows, k, w, ap[i*k:i*k+rows*k], src, offs, tmp, nr) {
			return false
		}
		for r := 0; r < mEff; r++ {
			copy(c[(i+r)*ldc:(i+r)*ldc+w], tmp[r*nr:])
		}
		i += mEff
	}
	return true
}

// indPanelStarts returns the first rows of A's panels (see indStep).
func indPanelStarts(m int) []int {
	var starts []int
	for i := 0; i < m; {
		mEff, _ := indStep(m - i)
		starts = append(starts, i)
		i += mEff
	}
	return starts
}

// indStep picks the next tile for r remaining rows: mEff rows of C done
// with a kernel of the given height (6, 4 or 2; zero-padded above mEff).
// Eight rows are two 4-row tiles, not 6 + 2: the 4×16 kernel still has
// eight accumulators to hide the FMA latency, the 2×16 only four, so
// m = 32 (5·6 + 2) runs as 4·6 + 2·4.
func indStep(r int) (mEff, rows int) {
	switch {
	case r >= 12 && indWide():
		// AVX-512: twelve rows a tile while twelve are left.
		return 12, 12
	case r == 8:
		return 4, 4
	case r >= 6:
		return 6, 6
	case r == 5:
		return 5, 6
	case r >= 3:
		return r, 4
	default:
		return r, 2
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

// checkIndirect validates the arguments of the indirect products: A m×k,
// C m×n, and rows runs of length runLen in src at offs[:rows].
func checkIndirect(op string, m, n, k int, a []float32, lda int, src []float32, offs []int32, rows, runLen int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kern.%s: negative dimension m=%d n=%d k=%d", op, m, n, k))
	}
	checkMat("A", m, k, a, lda, false)
	checkIndirectRuns(op, m, n, k, src, offs, rows, runLen, c, ldc)
}

// checkIndirectRuns is checkIndirect less A (packed already).
func checkIndirectRuns(op string, m, n, k int, src []float32, offs []int32, rows, runLen int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kern.%s: negative dimension m=%d n=%d k=%d", op, m, n, k))
	}
	if len(offs) < rows {
		panic(fmt.Sprintf("kern.%s: %d row offsets for the %d rows of B", op, len(offs), rows))
	}
	checkMat("C", m, n, c, ldc, false)
	if runLen == 0 {
		return
	}
	for r, o := range offs[:rows] {
		if o < 0 || int(o)+runLen > len(src) {
			panic(fmt.Sprintf("kern.%s: row %d of B at offset %d needs src[%d:%d], len(src) = %d", op, r, o, o, int(o)+runLen, len(src)))
		}
	}
}
