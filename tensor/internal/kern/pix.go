package kern

import (
	"fmt"
	"sync"
)

//go:generate go run gen_pix.go

// PixW holds a convolution's filters, the m×k matrix W (output channel ×
// unfolded tap), packed for SgemmPixelsRows: transposed into panels of 32
// output channels, k steps of 32 floats each, the last panel zero-filled
// past m.
type PixW struct {
	m, k int
	data []float32
}

// pixPanel is the number of output channels a pixel-major tile computes.
const pixPanel = 32

// PackPixW packs the m×k matrix w (row stride ldw) for SgemmPixelsRows.
func PackPixW(m, k int, w []float32, ldw int) *PixW {
	if m < 0 || k < 0 {
		panic(fmt.Sprintf("kern.PackPixW: negative dimension m=%d k=%d", m, k))
	}
	checkMat("W", m, k, w, ldw, false)
	panels := (m + pixPanel - 1) / pixPanel
	p := &PixW{m: m, k: k, data: make([]float32, panels*k*pixPanel)}
	for pi := 0; pi < panels; pi++ {
		d := p.data[pi*k*pixPanel:]
		for j := 0; j < pixPanel && pi*pixPanel+j < m; j++ {
			row := w[(pi*pixPanel+j)*ldw:][:k]
			for q, v := range row {
				d[q*pixPanel+j] = v
			}
		}
	}
	return p
}

// Panels returns the number of 32-channel panels of p.
func (p *PixW) Panels() int { return (p.m + pixPanel - 1) / pixPanel }

// Rows returns m, the output channels.
func (p *PixW) Rows() int { return p.m }

// SgemmPixelsRows computes a convolution's output in place, pixel-major:
// for output channels j in panels [p0, p1) of pw (channels 32·p0 up to
// min(32·p1, m)) and rows r in [r0, r1), the cols pixels
//
//	c[j·ldc + r·cStride + x] = Σ_q W[j, q] · src[offs[q] + r·srcStride + x]
//
// (x < cols), plus bias[j] (bias nil: none), rectified when relu and
// bounded above by bound when bound > 0 (ReLU6), as the indirect GEMM
// and its epilogue compute them: each sum is the same chain of FMAs in
// the order of q, so the two agree bit for bit. Where SgemmIndirectRows
// puts pixels on the vector lanes (a row of 56 fills two 32-lane tiles
// with 8 lanes idle; of 7, one tile with 25 idle), this puts the output
// channels there and a row's pixels in tiles of up to 12 (a row of 56 is
// 12 + 4·11): on images whose rows are not whole tiles and filters in
// multiples of 32 it wastes no lane. Each tile's sums go through a
// scratch tile and are stored a channel at a time, as a run of the tile's
// pixels in the channel's plane.
//
// It runs on the calling goroutine; calls on disjoint panels or rows may
// run at once. The AVX-512 tile runs where PixelsFast(ldc) reports true; the
// Go loops elsewhere (for tests: they are slow). It panics on bad
// arguments.
func SgemmPixelsRows(pw *PixW, p0, p1 int, src []float32, offs []int32, r0, r1, cols, srcStride int, bias []float32, relu bool, bound float32, c []float32, ldc, cStride int) {
	SgemmPixelsRowsAdd(pw, p0, p1, src, offs, r0, r1, cols, srcStride, bias, nil, relu, bound, c, ldc, cStride)
}

// SgemmPixelsRowsAdd is SgemmPixelsRows with the residual res, laid out
// as c (nil: none), added to each sum after its bias and before the
// rectifier and bound: a residual block's Conv, Add and Relu in one pass,
// with the bits of the three done apart.
func SgemmPixelsRowsAdd(pw *PixW, p0, p1 int, src []float32, offs []int32, r0, r1, cols, srcStride int, bias, res []float32, relu bool, bound float32, c []float32, ldc, cStride int) {
	m, k := pw.m, pw.k
	if p0 < 0 || p1 > pw.Panels() || p0 > p1 || r0 < 0 || r0 > r1 || cols < 0 || srcStride < 0 || cStride < 0 || ldc < 0 {
		panic(fmt.Sprintf("kern.SgemmPixelsRows: bad range panels [%d, %d) of %d, rows [%d, %d), cols=%d srcStride=%d ldc=%d cStride=%d", p0, p1, pw.Panels(), r0, r1, cols, srcStride, ldc, cStride))
	}
	if p0 == p1 || r0 == r1 || cols == 0 || k == 0 && m == 0 {
		return
	}
	if len(offs) < k {
		panic(fmt.Sprintf("kern.SgemmPixelsRows: %d offsets for %d taps", len(offs), k))
	}
	run := (r1-1)*srcStride + cols
	for q, o := range offs[:k] {
		if o < 0 || int(o)+run > len(src) {
			panic(fmt.Sprintf("kern.SgemmPixelsRows: tap %d at offset %d needs src[%d:%d], len(src) = %d", q, o, o, int(o)+run, len(src)))
		}
	}
	jEnd := min(m, p1*pixPanel)
	if need := (jEnd-1)*ldc + (r1-1)*cStride + cols; need > len(c) || res != nil && need > len(res) {
		panic(fmt.Sprintf("kern.SgemmPixelsRows: C (and the residual) need %d floats, have %d (%d)", need, len(c), len(res)))
	}
	if bias != nil && len(bias) < jEnd {
		panic(fmt.Sprintf("kern.SgemmPixelsRows: %d biases for %d channels", len(bias), jEnd))
	}
	fast := pixFast(ldc)
	sc := pixScratches.Get().(*pixScratch)
	defer pixScratches.Put(sc)
	bpad, tmp := &sc.bias, &sc.tile
	for pi := p0; pi < p1; pi++ {
		j0 := pi * pixPanel
		nj := min(pixPanel, m-j0)
		wp := pw.data[pi*k*pixPanel:][:k*pixPanel]
		var bp []float32
		if bias != nil {
			copy(bpad[:], bias[j0:j0+nj])
			clear(bpad[nj:])
			bp = bpad[:]
		}
		for r := r0; r < r1; r++ {
			// The row's pixels in balanced tiles of at most 12.
			tiles := (cols + 11) / 12
			x := 0
			for t := 0; t < tiles; t++ {
				w := (cols - x) / (tiles - t)
				if (cols-x)%(tiles-t) != 0 {
					w++
				}
				s := src[r*srcStride+x:]
				co := c[j0*ldc+r*cStride+x:]
				var ro []float32
				if res != nil {
					ro = res[j0*ldc+r*cStride+x:]
				}
				if !fast || !pixTile(w, nj, k, wp, s, offs, co, ldc, bp, relu, bound, tmp, ro) {
					pixTileGo(w, nj, k, wp, s, offs, co, ldc, bp, ro, relu, bound)
				}
				x += w
			}
		}
	}
}

// pixScratch is SgemmPixelsRowsAdd's scratch: a panel's padded biases and
// a tile's sums, pixel by pixel. The tiles are called through a table of
// funcs, which makes anything they are handed escape: on the stack these
// were a heap allocation per call (half of a batch-1 MobileNetV2's
// garbage), so each call takes them from a pool.
type pixScratch struct {
	bias [pixPanel]float32
	tile [12 * pixPanel]float32
}

var pixScratches = sync.Pool{New: func() any { return new(pixScratch) }}

// pixTileGo is the Go tile: w pixels × nj channels, each sum in the order
// of q as the assembly's (Go rounds the product and the sum apart where
// the assembly fuses them).
func pixTileGo(w, nj, k int, wp, src []float32, offs []int32, c []float32, ldc int, bias, res []float32, relu bool, bound float32) {
	for p := 0; p < w; p++ {
		var acc [pixPanel]float32
		for q := 0; q < k; q++ {
			a := src[int(offs[q])+p]
			row := wp[q*pixPanel:][:pixPanel]
			for j := range nj {
				acc[j] += a * row[j]
			}
		}
		for j := range nj {
			v := acc[j]
			if bias != nil {
				v += bias[j]
			}
			if res != nil {
				v += res[j*ldc+p]
			}
			if relu && !(v > 0 || v != v) {
				v = 0
			}
			if bound > 0 && v > bound {
				v = bound
			}
			c[j*ldc+p] = v
		}
	}
}
