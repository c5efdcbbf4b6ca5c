package tensor

import "github.com/glassbox-ml/glassbox/tensor/internal/kern"

// A depthwise convolution (one filter per channel: Groups = channels =
// outputs, as in MobileNet) is too thin for the GEMM lowering: a product
// with one output row per group leaves the micro-kernel's tile almost
// empty. It runs plane by plane instead. Each input plane is zero-padded
// into a scratch buffer with every padded row split into its StrideW
// phases (columns ≡ q mod StrideW, one after another), so that every
// filter tap reads a unit-stride run at a fixed offset: output (oy, ox)
// with tap (ki, kj) reads phase kj mod s at column ox + kj/s of padded row
// oy·StrideH + ki. kern.DepthwiseRows then sums the taps over the whole
// plane in one call. The input gradient scatters each output gradient
// row back through the same offsets, and the weight gradient is a dot
// product per tap and row; channels are independent, so work is split by
// plane (forward) or channel (backward) and every sum has a fixed order.

// depthwise describes one depthwise convolution's scratch layout.
type depthwise struct {
	convGeom
	hp    int     // padded rows
	we    int     // columns per phase of a padded row
	rl    int     // floats per padded row: StrideW phases of we
	lds   int     // floats between the first rows of two output rows: StrideH·rl
	offs  []int32 // where tap (ki, kj) starts relative to its output row
	plane int     // floats per scratch plane: hp·rl
}

// isDepthwise reports a convolution with one input and one output channel
// per group.
func (g *convGeom) isDepthwise() bool { return g.g > 1 && g.cg == 1 && g.og == 1 }

func newDepthwise(g convGeom) *depthwise {
	s := g.p.StrideW
	d := &depthwise{convGeom: g, hp: g.h + 2*g.p.PadH}
	d.we = (g.w + 2*g.p.PadW + s - 1) / s
	d.rl = s * d.we
	d.lds = g.p.StrideH * d.rl
	d.plane = d.hp * d.rl
	for ki := 0; ki < g.kh; ki++ {
		for kj := 0; kj < g.kw; kj++ {
			d.offs = append(d.offs, int32(ki*d.rl+(kj%s)*d.we+kj/s))
		}
	}
	return d
}

// fill writes the input plane x ([h, w]) into buf, padded and split into
// phases.
func (d *depthwise) fill(buf, x []float32) {
	s, ph, pw := d.p.StrideW, d.p.PadH, d.p.PadW
	// Each phase's valid columns are the same on every row.
	var los, his [8]int
	if s > 1 && s <= len(los) {
		for q := 0; q < s; q++ {
			los[q], his[q] = validRange(d.we, d.w, s, pw, q)
		}
	}
	for r := 0; r < d.hp; r++ {
		row := buf[r*d.rl : (r+1)*d.rl]
		iy := r - ph
		if iy < 0 || iy >= d.h {
			clear(row)
			continue
		}
		in := x[iy*d.w : (iy+1)*d.w]
		switch {
		case s == 1:
			clear(row[:pw])
			copy(row[pw:], in)
			clear(row[pw+d.w:])
		case s == 2 && pw <= 1:
			d.fill2(row, in, los, his)
		default:
			for q := 0; q < s; q++ {
				out := row[q*d.we : (q+1)*d.we]
				// Phase columns j whose input column j·s + q − pw is inside.
				lo, hi := validRange(d.we, d.w, s, pw, q)
				clear(out[:lo])
				clear(out[hi:])
				ix := lo*s + q - pw
				for j := lo; j < hi; j++ {
					out[j] = in[ix]
					ix += s
				}
			}
		}
	}
}

// fill2 is fill's row for stride 2 and padding 0 or 1 (MobileNet's
// downsampling layers): the even and odd padded columns split in one
// loop over pairs.
func (d *depthwise) fill2(row, in []float32, los, his [8]int) {
	pw := d.p.PadW
	p0, p1 := row[:d.we], row[d.we:2*d.we]
	clear(p0[:los[0]])
	clear(p0[his[0]:])
	clear(p1[:los[1]])
	clear(p1[his[1]:])
	// Padded column c = 2j + q holds input column c − pw.
	if pw == 0 {
		// Phase 0 reads in[2j], phase 1 in[2j+1].
		n := min(his[0], his[1])
		for j := 0; j < n; j++ {
			p0[j], p1[j] = in[2*j], in[2*j+1]
		}
		for j := n; j < his[0]; j++ {
			p0[j] = in[2*j]
		}
		return
	}
	// pw == 1: phase 1 reads in[2j], phase 0 in[2j−1] (from j = 1).
	n := min(his[1], his[0]-1)
	for j := 0; j < n; j++ {
		p1[j], p0[j+1] = in[2*j], in[2*j+1]
	}
	for j := n; j < his[1]; j++ {
		p1[j] = in[2*j]
	}
	for j := n + 1; j < his[0]; j++ {
		p0[j] = in[2*j-1]
	}
}

// unfill writes into dx ([h, w]) the entries of the padded, phase-split
// plane buf that lie inside the image: the adjoint of fill, padding
// dropped.
func (d *depthwise) unfill(dx, buf []float32) {
	s, ph, pw := d.p.StrideW, d.p.PadH, d.p.PadW
	for iy := 0; iy < d.h; iy++ {
		row := buf[(iy+ph)*d.rl : (iy+ph+1)*d.rl]
		out := dx[iy*d.w : (iy+1)*d.w]
		if s == 1 {
			copy(out, row[pw:])
			continue
		}
		for q := 0; q < s; q++ {
			lo, hi := validRange(d.we, d.w, s, pw, q)
			ix := lo*s + q - pw
			for _, v := range row[q*d.we+lo : q*d.we+hi] {
				out[ix] = v
				ix += s
			}
		}
	}
}

// depthwiseForward is conv2D for a depthwise geometry: y = x ⊛ w + b,
// rectified when relu, bounded above by bound when bound > 0.
func depthwiseForward(g convGeom, x, w, b *Tensor, relu bool, bound float32) *Tensor {
	d := newDepthwise(g)
	y := New(g.n, g.o, g.oh, g.ow)
	xd, wd, yd := x.Data(), w.Data(), y.data
	var bd []float32
	if b != nil {
		bd = b.Data()
	}
	hw, ohw, kk := g.h*g.w, g.ohw(), g.kh*g.kw
	parallelFor(g.n*g.c, max(1, (1<<15)/max(1, d.plane)), func(lo, hi int) {
		buf := getCols(d.plane)
		defer putCols(buf)
		for pc := lo; pc < hi; pc++ {
			c := pc % g.c
			d.fill(*buf, xd[pc*hw:(pc+1)*hw])
			var bias float32
			if bd != nil {
				bias = bd[c]
			}
			kern.DepthwiseRows(yd[pc*ohw:(pc+1)*ohw], g.ow, *buf, d.lds, d.offs, wd[c*kk:(c+1)*kk], bias, g.oh, g.ow, relu)
			if bound > 0 {
				clampMax(yd[pc*ohw:(pc+1)*ohw], bound)
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
						at := r*d.lds + int(o)
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
