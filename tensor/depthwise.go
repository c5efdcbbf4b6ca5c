package tensor

import "github.com/glassbox-ml/glassbox/tensor/internal/kern"

// A depthwise convolution (one filter per channel: Groups = channels =
// outputs, as in MobileNet) is too thin for the GEMM lowering: a product
// with one output row per group leaves the micro-kernel's tile almost
// empty. It runs plane by plane instead. Each input plane is zero-padded
// into a scratch buffer split into its stride phases: sub-plane (a, q)
// holds the padded rows ≡ a mod StrideH and, of those, the columns ≡ q mod
// StrideW, each sub-plane we columns wide. Output (oy, ox) with tap
// (ki, kj) then reads sub-plane (ki mod sh, kj mod sw) at row oy + ki/sh,
// column ox + kj/sw: at flat position oy·we + ox plus an offset that
// depends on the tap alone. kern.DepthwiseFlat sums the taps over the
// whole plane as one run at pitch we, and the plane's rows are copied out
// without their last we − ow (junk) entries. One long run instead of a
// row at a time keeps the kernel's eight sums in flight on 7- and 14-wide
// planes too. The input gradient scatters each output gradient row back
// through the same offsets, and the weight gradient is a dot product per
// tap and row; channels are independent, so work is split by plane
// (forward) or channel (backward) and every sum has a fixed order.

// depthwise describes one depthwise convolution's scratch layout.
type depthwise struct {
	convGeom
	hph   int     // rows of a phase sub-plane
	we    int     // columns of a phase sub-plane (the output's pitch)
	sub   int     // floats per sub-plane: hph·we
	plane int     // floats per scratch plane: StrideH·StrideW·sub
	flat  int     // outputs of a plane's run: (oh − 1)·we + ow
	offs  []int32 // where tap (ki, kj) reads relative to its output
}

// isDepthwise reports a convolution with one input and one output channel
// per group.
func (g *convGeom) isDepthwise() bool { return g.g > 1 && g.cg == 1 && g.og == 1 }

func newDepthwise(g convGeom) *depthwise { return newPhases(g, 0) }

// newPhases lays out g's planes as newDepthwise does, with sub-planes at
// least minPitch columns wide: a wider pitch only adds junk columns, and
// one that fits whole kernel tiles lets the convolution write its rows in
// place.
func newPhases(g convGeom, minPitch int) *depthwise {
	sh, sw := g.p.StrideH, g.p.StrideW
	hp, wp := g.h+2*g.p.PadH, g.w+2*g.p.PadW
	d := &depthwise{convGeom: g, hph: (hp + sh - 1) / sh, we: max(minPitch, (wp+sw-1)/sw)}
	d.sub = d.hph * d.we
	d.plane = sh * sw * d.sub
	if g.oh > 0 && g.ow > 0 {
		d.flat = (g.oh-1)*d.we + g.ow
	}
	for ki := 0; ki < g.kh; ki++ {
		for kj := 0; kj < g.kw; kj++ {
			d.offs = append(d.offs, int32(((ki%sh)*sw+kj%sw)*d.sub+(ki/sh)*d.we+kj/sw))
		}
	}
	return d
}

// subRow is the row of sub-plane (a, q) that holds padded row r's
// columns ≡ q mod StrideW (r ≡ a mod StrideH).
func (d *depthwise) subRow(buf []float32, r, q int) []float32 {
	sh, sw := d.p.StrideH, d.p.StrideW
	at := ((r%sh)*sw+q)*d.sub + (r/sh)*d.we
	return buf[at : at+d.we]
}

// fill writes the input plane x ([h, w]) into buf's entries inside the
// image, split into phases. The padding is the caller's: fill never
// writes there, so a buffer cleared once keeps its zero padding over all
// the planes filled into it. Sub-plane entries past the padded plane
// (when a stride does not divide it) only the junk outputs read.
func (d *depthwise) fill(buf, x []float32) {
	sh, sw, ph, pw := d.p.StrideH, d.p.StrideW, d.p.PadH, d.p.PadW
	switch {
	case sw == 1 && sh == 1:
		kern.CopyRows(buf[ph*d.we+pw:], d.we, x, d.w, d.h, d.w)
		return
	case sw == 2:
		// Input column x sits at padded column x + pw: the even inputs in
		// phase pw mod 2 from column pw/2 on, the odd ones in the other
		// phase from (pw+1)/2 on. Input rows go to their row phase, sh
		// input rows apart, in one call per row phase.
		for a := 0; a < sh; a++ {
			iy0 := ((a-ph)%sh + sh) % sh // the first input row in row phase a
			if iy0 >= d.h {
				continue
			}
			rows := (d.h - iy0 + sh - 1) / sh
			r0 := iy0 + ph
			ev := buf[(a*sw+pw%2)*d.sub+(r0/sh)*d.we+pw/2:]
			od := buf[(a*sw+(pw+1)%2)*d.sub+(r0/sh)*d.we+(pw+1)/2:]
			kern.Deinterleave2Rows(ev, od, d.we, x[iy0*d.w:], sh*d.w, rows, d.w)
		}
		return
	}
	for iy := 0; iy < d.h; iy++ {
		r := iy + ph
		in := x[iy*d.w : (iy+1)*d.w]
		if sw == 1 {
			copy(d.subRow(buf, r, 0)[pw:], in)
			continue
		}
		for q := 0; q < sw; q++ {
			out := d.subRow(buf, r, q)
			// Phase columns j whose input column j·sw + q − pw is inside.
			lo, hi := validRange(d.we, d.w, sw, pw, q)
			ix := lo*sw + q - pw
			for j := lo; j < hi; j++ {
				out[j] = in[ix]
				ix += sw
			}
		}
	}
}

// unfill writes into dx ([h, w]) the entries of the padded, phase-split
// plane buf that lie inside the image: the adjoint of fill, padding
// dropped.
func (d *depthwise) unfill(dx, buf []float32) {
	sw, ph, pw := d.p.StrideW, d.p.PadH, d.p.PadW
	for iy := 0; iy < d.h; iy++ {
		out := dx[iy*d.w : (iy+1)*d.w]
		if sw == 1 {
			copy(out, d.subRow(buf, iy+ph, 0)[pw:])
			continue
		}
		for q := 0; q < sw; q++ {
			row := d.subRow(buf, iy+ph, q)
			lo, hi := validRange(d.we, d.w, sw, pw, q)
			ix := lo*sw + q - pw
			for _, v := range row[lo:hi] {
				out[ix] = v
				ix += sw
			}
		}
	}
}

// depthwiseForward is conv2D for a depthwise geometry: y = x ⊛ w + b,
// rectified when relu, bounded above by bound when bound > 0.
func depthwiseForward(g convGeom, x, w, b *Tensor, relu bool, bound float32) *Tensor {
	d := newDepthwise(g)
	y := newUninit(g.n, g.o, g.oh, g.ow) // every element is written
	xd, wd, yd := x.Data(), w.Data(), y.data
	var bd []float32
	if b != nil {
		bd = b.Data()
	}
	hw, ohw, kk := g.h*g.w, g.ohw(), g.kh*g.kw
	if p := g.p; g.kh == 3 && g.kw == 3 && p.StrideH == p.StrideW && p.StrideH <= 2 && p.PadH == 1 && p.PadW == 1 && kern.DepthwiseSmallFast(g.w, p.StrideH) {
		// 3×3 "same" or stride 2 (MobileNet's downsampling): read in
		// place, 16 columns a vector (8 with AVX2, at stride 1 only),
		// many planes a call (kern.DepthwiseSmall3x3; at stride 2
		// kern.DepthwiseStride2x3x3 splits the columns into even and odd
		// in registers). The padded
		// or phase-split copy had cost the 7×7 planes more than their
		// arithmetic, and MobileNetV2's 32×112×112 layer 113 µs against
		// 66–70 µs in place, its 96×112×112 stride-2 one 500–560 µs
		// against 286–307.
		run := kern.DepthwiseSmall3x3
		if p.StrideH == 2 {
			run = kern.DepthwiseStride2x3x3
		}
		bias := bd
		if bias == nil {
			bias = make([]float32, g.c)
		}
		parallelFor(g.n*g.c, max(1, (1<<14)/max(1, hw)), func(lo, hi int) {
			for pc := lo; pc < hi; {
				c := pc % g.c
				planes := min(hi-pc, g.c-c) // planes of one image: consecutive filters
				run(yd[pc*ohw:], xd[pc*hw:], g.w, g.h, planes, wd[c*kk:], bias[c:], relu, bound)
				pc += planes
			}
		})
		return y
	}
	direct := d.we == g.ow // no junk columns: the run is the plane
	parallelFor(g.n*g.c, max(1, (1<<15)/max(1, d.plane)), func(lo, hi int) {
		buf := getCols(d.plane)
		defer putCols(buf)
		clear(*buf) // the padding, kept by every fill
		var tmp *[]float32
		if !direct {
			tmp = getCols(d.flat)
			defer putCols(tmp)
		}
		for pc := lo; pc < hi; pc++ {
			c := pc % g.c
			d.fill(*buf, xd[pc*hw:(pc+1)*hw])
			var bias float32
			if bd != nil {
				bias = bd[c]
			}
			yp := yd[pc*ohw : (pc+1)*ohw]
			if direct {
				kern.DepthwiseFlat(yp, *buf, d.offs, wd[c*kk:(c+1)*kk], bias, relu, bound)
			} else {
				run := (*tmp)[:d.flat]
				kern.DepthwiseFlat(run, *buf, d.offs, wd[c*kk:(c+1)*kk], bias, relu, bound)
				kern.CopyRows(yp, g.ow, run, d.we, g.oh, g.ow) // without the junk columns
			}
		}
	})
	return y
}

// depthwiseBackward is conv2DBackward for a depthwise geometry with dy
// already masked by any rectifier.
func depthwiseBackward(g convGeom, x, w *Tensor, dyd []float32, needDX bool) (dx, dw, db *Tensor) {
	d := newDepthwise(g)
	dw, db = New(g.o, 1, g.kh, g.kw), New(g.o)
	if needDX {
		dx = New(x.Shape()...)
	}
	xd, wd := x.Data(), w.Data()
	hw, ohw, kk := g.h*g.w, g.ohw(), g.kh*g.kw
	parallelFor(g.c, 1, func(lo, hi int) {
		buf := getCols(d.plane)
		defer putCols(buf)
		clear(*buf) // the padding, kept by every fill
		var dbuf *[]float32
		if needDX {
			dbuf = getCols(d.plane)
			defer putCols(dbuf)
		}
		sums := make([]float64, kk)
		for c := lo; c < hi; c++ {
			clear(sums)
			var bsum float64
			wc := wd[c*kk : (c+1)*kk]
			for i := 0; i < g.n; i++ {
				pc := i*g.c + c
				d.fill(*buf, xd[pc*hw:(pc+1)*hw])
				dyp := dyd[pc*ohw : (pc+1)*ohw]
				if needDX {
					clear(*dbuf)
				}
				for r := 0; r < g.oh; r++ {
					dyr := dyp[r*g.ow : (r+1)*g.ow]
					bsum += float64(sum32x8(dyr))
					for t, o := range d.offs {
						at := r*d.we + int(o)
						sums[t] += float64(kern.Sdot(dyr, (*buf)[at:]))
						if needDX {
							kern.Saxpy(wc[t], dyr, (*dbuf)[at:])
						}
					}
				}
				if needDX {
					d.unfill(dx.data[pc*hw:(pc+1)*hw], *dbuf)
				}
			}
			for t, s := range sums {
				dw.data[c*kk+t] = float32(s)
			}
			db.data[c] = float32(bsum)
		}
	})
	return dx, dw, db
}
