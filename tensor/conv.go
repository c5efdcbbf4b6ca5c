package tensor

import (
	"runtime"
	"sync"
)

// ConvParams are the stride, zero padding and channel groups of a 2-D
// convolution. The zero value is a stride-1, unpadded, ungrouped
// convolution: a stride or group count of 0 means 1.
type ConvParams struct {
	StrideH, StrideW int
	PadH, PadW       int
	// Groups splits the input and output channels into Groups independent
	// convolutions (Groups = channels is a depthwise convolution).
	Groups int
}

// norm returns p with zero strides and groups replaced by 1.
func (p ConvParams) norm() ConvParams {
	if p.StrideH == 0 {
		p.StrideH = 1
	}
	if p.StrideW == 0 {
		p.StrideW = 1
	}
	if p.Groups == 0 {
		p.Groups = 1
	}
	return p
}

// ConvOutSize returns the output length of a convolution or pooling window
// of size k sliding with the given stride over in elements padded by pad
// on both sides: (in + 2·pad − k)/stride + 1, rounded down. It is ≤ 0 when
// the window does not fit.
func ConvOutSize(in, k, stride, pad int) int {
	if stride <= 0 {
		stride = 1
	}
	n := in + 2*pad - k
	if n < 0 {
		return 0
	}
	return n/stride + 1
}

// convGeom is a validated convolution problem.
type convGeom struct {
	n, c, h, w     int // input
	o, kh, kw      int // weights
	oh, ow         int // output
	g, cg, og, ckk int // groups, channels per group in/out, cg·kh·kw
	p              ConvParams
}

func (g *convGeom) ohw() int { return g.oh * g.ow }

// onebyone reports a 1×1, stride-1, unpadded convolution: its im2col matrix
// is the input itself, so no copy is needed.
func (g *convGeom) onebyone() bool {
	return g.kh == 1 && g.kw == 1 && g.p.StrideH == 1 && g.p.StrideW == 1 && g.p.PadH == 0 && g.p.PadW == 0
}

func convCheck(op string, xs, ws []int, p ConvParams) convGeom {
	p = p.norm()
	if len(xs) != 4 {
		shapeErr(op, "input must be [batch, channels, height, width], got %v", xs)
	}
	if len(ws) != 4 {
		shapeErr(op, "weight must be [out, in/groups, kh, kw], got %v", ws)
	}
	if p.StrideH < 0 || p.StrideW < 0 || p.PadH < 0 || p.PadW < 0 || p.Groups < 0 {
		shapeErr(op, "strides, padding and groups must not be negative, got %+v", p)
	}
	g := convGeom{n: xs[0], c: xs[1], h: xs[2], w: xs[3], o: ws[0], kh: ws[2], kw: ws[3], g: p.Groups, p: p}
	if g.c%g.g != 0 || g.o%g.g != 0 {
		shapeErr(op, "%d input and %d output channels do not split into %d groups", g.c, g.o, g.g)
	}
	g.cg, g.og = g.c/g.g, g.o/g.g
	if ws[1] != g.cg {
		shapeErr(op, "input has %d channels (%d per group, %d groups) but weight %v expects %d per group", g.c, g.cg, g.g, ws, ws[1])
	}
	if g.kh < 1 || g.kw < 1 {
		shapeErr(op, "kernel %d×%d must be at least 1×1", g.kh, g.kw)
	}
	g.oh = ConvOutSize(g.h, g.kh, p.StrideH, p.PadH)
	g.ow = ConvOutSize(g.w, g.kw, p.StrideW, p.PadW)
	if g.oh < 1 || g.ow < 1 {
		shapeErr(op, "input %d×%d padded by %d×%d is smaller than the %d×%d kernel", g.h, g.w, p.PadH, p.PadW, g.kh, g.kw)
	}
	g.ckk = g.cg * g.kh * g.kw
	return g
}

// colPool recycles im2col buffers across calls and goroutines.
var colPool sync.Pool

func getCols(n int) *[]float32 {
	if b, ok := colPool.Get().(*[]float32); ok && cap(*b) >= n {
		*b = (*b)[:n]
		return b
	}
	b := make([]float32, n)
	return &b
}

func putCols(b *[]float32) { colPool.Put(b) }

// Im2Col unfolds one image src [c, h, w] into the matrix dst
// [c·kh·kw, oh·ow]: row (ci, ki, kj) holds, for every output position, the
// input pixel that kernel tap (ki, kj) of channel ci sees there (zero in
// the padding). A convolution is then weights [out, c·kh·kw] · dst. Only
// the strides and padding of p are used; oh and ow follow ConvOutSize.
// dst must hold c·kh·kw·oh·ow elements and is fully overwritten.
func Im2Col(dst, src []float32, c, h, w, kh, kw int, p ConvParams) {
	p = p.norm()
	sh, sw, ph, pw := p.StrideH, p.StrideW, p.PadH, p.PadW
	oh, ow := ConvOutSize(h, kh, sh, ph), ConvOutSize(w, kw, sw, pw)
	if c*kh*kw*oh*ow == 0 {
		return
	}
	_ = dst[c*kh*kw*oh*ow-1]
	_ = src[c*h*w-1]
	r := 0
	for ci := 0; ci < c; ci++ {
		plane := src[ci*h*w : (ci+1)*h*w]
		for ki := 0; ki < kh; ki++ {
			for kj := 0; kj < kw; kj++ {
				row := dst[r*oh*ow : (r+1)*oh*ow]
				r++
				// Output columns whose input column is inside the image:
				// ox·sw − pw + kj ∈ [0, w).
				lo, hi := validRange(ow, w, sw, pw, kj)
				for oy := 0; oy < oh; oy++ {
					out := row[oy*ow : (oy+1)*ow]
					iy := oy*sh - ph + ki
					if iy < 0 || iy >= h || lo >= hi {
						clear(out)
						continue
					}
					clear(out[:lo])
					clear(out[hi:])
					in := plane[iy*w : (iy+1)*w]
					if sw == 1 {
						copy(out[lo:hi], in[lo-pw+kj:])
						continue
					}
					ix := lo*sw - pw + kj
					for ox := lo; ox < hi; ox++ {
						out[ox] = in[ix]
						ix += sw
					}
				}
			}
		}
	}
}

// validRange returns the output columns [lo, hi) whose input column
// ox·s − pad + k lies in [0, w).
func validRange(ow, w, s, pad, k int) (lo, hi int) {
	// ox·s ≥ pad − k  ⇔  ox ≥ ceil((pad − k)/s)
	if d := pad - k; d > 0 {
		lo = (d + s - 1) / s
	}
	// ox·s ≤ w − 1 + pad − k  ⇔  ox ≤ floor((w − 1 + pad − k)/s)
	if d := w - 1 + pad - k; d < 0 {
		hi = 0
	} else {
		hi = min(ow, d/s+1)
	}
	lo = min(lo, ow)
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

// Col2Im is the adjoint of Im2Col: it adds every entry of cols
// [c·kh·kw, oh·ow] back onto the input pixel it was copied from, into dst
// [c, h, w] (entries that came from padding are dropped). dst is
// accumulated into, not overwritten. The sum order is fixed, so results are
// bit-identical run to run.
func Col2Im(dst, cols []float32, c, h, w, kh, kw int, p ConvParams) {
	p = p.norm()
	sh, sw, ph, pw := p.StrideH, p.StrideW, p.PadH, p.PadW
	oh, ow := ConvOutSize(h, kh, sh, ph), ConvOutSize(w, kw, sw, pw)
	if c*kh*kw*oh*ow == 0 {
		return
	}
	_ = cols[c*kh*kw*oh*ow-1]
	_ = dst[c*h*w-1]
	r := 0
	for ci := 0; ci < c; ci++ {
		plane := dst[ci*h*w : (ci+1)*h*w]
		for ki := 0; ki < kh; ki++ {
			for kj := 0; kj < kw; kj++ {
				row := cols[r*oh*ow : (r+1)*oh*ow]
				r++
				lo, hi := validRange(ow, w, sw, pw, kj)
				if lo >= hi {
					continue
				}
				for oy := 0; oy < oh; oy++ {
					iy := oy*sh - ph + ki
					if iy < 0 || iy >= h {
						continue
					}
					src := row[oy*ow+lo : oy*ow+hi]
					in := plane[iy*w : (iy+1)*w]
					ix := lo*sw - pw + kj
					if sw == 1 {
						in = in[ix : ix+len(src)]
						for j, v := range src {
							in[j] += v
						}
						continue
					}
					for _, v := range src {
						in[ix] += v
						ix += sw
					}
				}
			}
		}
	}
}

// convSerialGemm decides whether the batch is split across cores (each
// image's GEMM on one goroutine) or the images run one after another with
// the GEMM itself parallel: a batch smaller than the worker count (a
// single image being explained) would leave cores idle otherwise. The
// choice depends only on the batch size and GOMAXPROCS, never on timing.
func convSerialGemm(n int) bool { return n >= runtime.GOMAXPROCS(0) }

// forBatch runs fn over [0, n) images: split across cores when serial is
// true, otherwise on the calling goroutine.
func forBatch(n int, serial bool, fn func(lo, hi int)) {
	if serial {
		parallelFor(n, 1, fn)
		return
	}
	fn(0, n)
}

// Conv2D returns the 2-D cross-correlation of x with the filters w plus
// the bias b (nil for none), as deep-learning frameworks define
// convolution.
//
//	x: [batch, channels, h, w]
//	w: [out, channels/groups, kh, kw]
//	b: [out] or nil
//	returns [batch, out, oh, ow] with oh = (h + 2·PadH − kh)/StrideH + 1
//	(and likewise ow)
//
// Each image is unfolded with Im2Col and multiplied by the weight matrix in
// one GEMM per group; images are split across cores. A 1×1, stride-1,
// unpadded convolution multiplies the input directly. Shapes that do not
// fit panic with a *ShapeError.
func Conv2D(x, w, b *Tensor, p ConvParams) *Tensor {
	const op = "Conv2D"
	g := convCheck(op, x.shape, w.shape, p)
	if b != nil && (b.Len() != g.o) {
		shapeErr(op, "bias has shape %v, want [%d] (one per output channel)", b.shape, g.o)
	}
	xd, wd := x.Data(), w.Data()
	var bd []float32
	if b != nil {
		bd = b.Data()
	}
	y := New(g.n, g.o, g.oh, g.ow)
	yd := y.data
	ohw := g.ohw()
	chw := g.c * g.h * g.w
	serial := convSerialGemm(g.n)
	gm := gemm
	if serial {
		gm = gemmSerial
	}
	forBatch(g.n, serial, func(lo, hi int) {
		var cols *[]float32
		if !g.onebyone() {
			cols = getCols(g.ckk * ohw)
			defer putCols(cols)
		}
		for i := lo; i < hi; i++ {
			yi := yd[i*g.o*ohw : (i+1)*g.o*ohw]
			var beta float32
			if bd != nil {
				for o, v := range bd {
					row := yi[o*ohw : (o+1)*ohw]
					for j := range row {
						row[j] = v
					}
				}
				beta = 1
			}
			for gi := 0; gi < g.g; gi++ {
				xg := xd[i*chw+gi*g.cg*g.h*g.w : i*chw+(gi+1)*g.cg*g.h*g.w]
				bm := xg
				if cols != nil {
					Im2Col(*cols, xg, g.cg, g.h, g.w, g.kh, g.kw, g.p)
					bm = *cols
				}
				gm(false, false, g.og, ohw, g.ckk, 1, wd[gi*g.og*g.ckk:], g.ckk, bm, ohw, beta, yi[gi*g.og*ohw:], ohw)
			}
		}
	})
	return y
}

// convPartials returns how many partial weight gradients the batch is
// summed into: a fixed function of the shape (never of the core count or
// timing), so dw is bit-identical on every run and machine. More partials
// let more cores work at once; they are capped at 16 and at about 16 MiB.
func convPartials(n, wlen int) int {
	const maxPartials, budget = 16, 4 << 20 // floats
	p := min(n, maxPartials, max(1, budget/max(1, wlen)))
	return max(p, 1)
}

// Conv2DBackward returns the gradients of a Conv2D(x, w, b, p) whose output
// gradient is dy: dx (only when needDX, else nil; [batch, channels, h, w]),
// dw ([out, channels/groups, kh, kw]) and db ([out]). It is the
// im2col/GEMM dual of the forward pass: dw = Σ dy·colsᵀ, dx = Col2Im(wᵀ·dy).
//
// The batch is cut into a fixed number of slices whose partial dw are
// summed in slice order, so the result does not depend on scheduling.
func Conv2DBackward(x, w, dy *Tensor, p ConvParams, needDX bool) (dx, dw, db *Tensor) {
	const op = "Conv2DBackward"
	g := convCheck(op, x.shape, w.shape, p)
	if !SameShape(dy.shape, []int{g.n, g.o, g.oh, g.ow}) {
		shapeErr(op, "output gradient has shape %v, want %v", dy.shape, []int{g.n, g.o, g.oh, g.ow})
	}
	xd, wd, dyd := x.Data(), w.Data(), dy.Data()
	ohw := g.ohw()
	chw := g.c * g.h * g.w
	ghw := g.cg * g.h * g.w

	db = New(g.o)
	convBiasGrad(db.data, dyd, g.n, g.o, ohw)

	wlen := w.Len()
	dw = New(w.shape...)
	parts := convPartials(g.n, wlen)
	partial := make([][]float32, parts)
	partial[0] = dw.data
	for k := 1; k < parts; k++ {
		partial[k] = make([]float32, wlen)
	}
	var dxd []float32
	if needDX {
		dx = New(x.shape...)
		dxd = dx.data
	}
	serial := convSerialGemm(g.n)
	gm := gemm
	if serial {
		gm = gemmSerial
	}
	forBatch(parts, serial, func(plo, phi int) {
		var cols, dcols *[]float32
		if !g.onebyone() {
			cols = getCols(g.ckk * ohw)
			defer putCols(cols)
			if needDX {
				dcols = getCols(g.ckk * ohw)
				defer putCols(dcols)
			}
		}
		for k := plo; k < phi; k++ {
			pw := partial[k]
			first := true
			for i := k * g.n / parts; i < (k+1)*g.n/parts; i++ {
				var beta float32 = 1
				if first {
					beta = 0
					first = false
				}
				dyi := dyd[i*g.o*ohw : (i+1)*g.o*ohw]
				for gi := 0; gi < g.g; gi++ {
					xg := xd[i*chw+gi*ghw : i*chw+(gi+1)*ghw]
					dyg := dyi[gi*g.og*ohw : (gi+1)*g.og*ohw]
					wg := wd[gi*g.og*g.ckk : (gi+1)*g.og*g.ckk]
					bm := xg
					if cols != nil {
						Im2Col(*cols, xg, g.cg, g.h, g.w, g.kh, g.kw, g.p)
						bm = *cols
					}
					// dw_g += dy_g [og, ohw] · colsᵀ [ohw, ckk]
					gm(false, true, g.og, g.ckk, ohw, 1, dyg, ohw, bm, ohw, beta, pw[gi*g.og*g.ckk:], g.ckk)
					if !needDX {
						continue
					}
					dxg := dxd[i*chw+gi*ghw : i*chw+(gi+1)*ghw]
					if dcols == nil {
						// 1×1: dx_g = w_gᵀ [cg, og] · dy_g [og, hw]
						gm(true, false, g.cg, ohw, g.og, 1, wg, g.ckk, dyg, ohw, 0, dxg, ohw)
						continue
					}
					gm(true, false, g.ckk, ohw, g.og, 1, wg, g.ckk, dyg, ohw, 0, *dcols, ohw)
					Col2Im(dxg, *dcols, g.cg, g.h, g.w, g.kh, g.kw, g.p)
				}
			}
		}
	})
	if parts > 1 {
		// Sum the partials in slice order, element ranges split over cores.
		parallelFor(wlen, 1<<14, func(lo, hi int) {
			out := dw.data[lo:hi]
			for k := 1; k < parts; k++ {
				src := partial[k][lo:hi]
				for j, v := range src {
					out[j] += v
				}
			}
		})
	}
	return dx, dw, db
}

// convBiasGrad writes db[o] = Σ over images and positions of dy[n, o, ·],
// summed in float64 in a fixed order; channels are split over cores.
func convBiasGrad(db, dy []float32, n, o, hw int) {
	parallelFor(o, max(1, (1<<15)/max(1, n*hw)), func(lo, hi int) {
		for c := lo; c < hi; c++ {
			var s float64
			for i := 0; i < n; i++ {
				row := dy[(i*o+c)*hw : (i*o+c+1)*hw]
				var r float32
				for _, v := range row {
					r += v
				}
				s += float64(r)
			}
			db[c] = float32(s)
		}
	})
}
