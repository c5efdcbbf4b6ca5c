package tensor

import (
	"math"

	"github.com/glassbox-ml/glassbox/tensor/internal/kern"
)

// PoolParams describe a 2-D pooling window: its size, stride and zero
// padding. A stride of 0 means the window size (non-overlapping windows,
// the usual choice). Padding may be at most half the window, so every
// window holds at least one real pixel.
type PoolParams struct {
	KH, KW           int
	StrideH, StrideW int
	PadH, PadW       int
}

func (p PoolParams) norm() PoolParams {
	if p.StrideH == 0 {
		p.StrideH = p.KH
	}
	if p.StrideW == 0 {
		p.StrideW = p.KW
	}
	return p
}

// poolGeom is a validated pooling problem over n·c planes of h×w.
type poolGeom struct {
	planes, h, w, oh, ow int
	p                    PoolParams
}

func poolCheck(op string, xs []int, p PoolParams) poolGeom {
	p = p.norm()
	if len(xs) != 4 {
		shapeErr(op, "input must be [batch, channels, height, width], got %v", xs)
	}
	if p.KH < 1 || p.KW < 1 || p.StrideH < 1 || p.StrideW < 1 || p.PadH < 0 || p.PadW < 0 {
		shapeErr(op, "window %d×%d, stride %d×%d, padding %d×%d: sizes and strides must be ≥ 1, padding ≥ 0", p.KH, p.KW, p.StrideH, p.StrideW, p.PadH, p.PadW)
	}
	if 2*p.PadH > p.KH || 2*p.PadW > p.KW {
		shapeErr(op, "padding %d×%d is more than half the %d×%d window", p.PadH, p.PadW, p.KH, p.KW)
	}
	g := poolGeom{planes: xs[0] * xs[1], h: xs[2], w: xs[3], p: p}
	g.oh = ConvOutSize(g.h, p.KH, p.StrideH, p.PadH)
	g.ow = ConvOutSize(g.w, p.KW, p.StrideW, p.PadW)
	if g.oh < 1 || g.ow < 1 {
		shapeErr(op, "input %d×%d padded by %d×%d is smaller than the %d×%d window", g.h, g.w, p.PadH, p.PadW, p.KH, p.KW)
	}
	return g
}

// window returns the input rows [y0, y1) and columns [x0, x1) that output
// (oy, ox) pools over, clipped to the image.
func (g *poolGeom) window(oy, ox int) (y0, y1, x0, x1 int) {
	y0 = oy*g.p.StrideH - g.p.PadH
	x0 = ox*g.p.StrideW - g.p.PadW
	y1 = min(y0+g.p.KH, g.h)
	x1 = min(x0+g.p.KW, g.w)
	return max(y0, 0), y1, max(x0, 0), x1
}

// poolGrain is the number of planes a goroutine takes at least, so that
// each gets about 16k output elements.
func poolGrain(outPerPlane int) int { return max(1, (1<<14)/max(1, outPerPlane)) }

// MaxPool2D returns the maximum of each pooling window, and for every
// output element the position of that maximum within its input plane
// (row·w + column), which MaxPool2DBackward routes the gradient to. Ties
// go to the first element in row-major order; a NaN wins (and propagates).
//
//	x: [batch, channels, h, w] → y: [batch, channels, oh, ow]
//
// with oh = (h + 2·PadH − KH)/StrideH + 1 and likewise ow.
func MaxPool2D(x *Tensor, p PoolParams) (y *Tensor, argmax []int32) {
	g := poolCheck("MaxPool2D", x.shape, p)
	xd := x.Data()
	y = New(x.shape[0], x.shape[1], g.oh, g.ow)
	argmax = make([]int32, y.Len())
	ohw, hw := g.oh*g.ow, g.h*g.w
	fast := g.p.KH == 2 && g.p.KW == 2 && g.p.StrideH == 2 && g.p.StrideW == 2 && g.p.PadH == 0 && g.p.PadW == 0
	parallelFor(g.planes, poolGrain(ohw), func(lo, hi int) {
		var hb *[]float32
		if !fast {
			hb = getCols(g.h * g.ow)
			defer putCols(hb)
		}
		for pl := lo; pl < hi; pl++ {
			in := xd[pl*hw : (pl+1)*hw]
			out := y.data[pl*ohw : (pl+1)*ohw]
			arg := argmax[pl*ohw : (pl+1)*ohw]
			if fast {
				maxPool2x2(out, arg, in, g.w, g.oh, g.ow)
				continue
			}
			maxPoolPlane(out, arg, in, &g, (*hb)[:g.h*g.ow])
		}
	})
	return y, argmax
}

// MaxPool2DValues is MaxPool2D without the positions of the maxima, for
// inference, where no gradient is routed: the maximum over the window's
// rows first, whole rows at a time, then over its columns. Its values are
// MaxPool2D's.
func MaxPool2DValues(x *Tensor, p PoolParams) *Tensor {
	g := poolCheck("MaxPool2D", x.shape, p)
	if g.p.KH == 2 && g.p.KW == 2 && g.p.StrideH == 2 && g.p.StrideW == 2 && g.p.PadH == 0 && g.p.PadW == 0 {
		y, _ := MaxPool2D(x, p) // the vector 2×2 kernel
		return y
	}
	xd := x.Data()
	y := newUninit(x.shape[0], x.shape[1], g.oh, g.ow)
	ohw, hw := g.oh*g.ow, g.h*g.w
	if kern.MaxFlatFast() {
		maxPoolFlat(g, y.data, xd)
		return y
	}
	parallelFor(g.planes, poolGrain(ohw), func(lo, hi int) {
		rb := getCols(g.w)
		defer putCols(rb)
		row := (*rb)[:g.w]
		for pl := lo; pl < hi; pl++ {
			maxPoolValuesPlane(g, y.data[pl*ohw:(pl+1)*ohw], xd[pl*hw:(pl+1)*hw], row)
		}
	})
	return y
}

// maxPoolFlat is MaxPool2DValues with the depthwise convolution's flat
// layout (see depthwise.go): each plane is copied into its stride phases
// with −Inf padding, the window's maximum is kern.MaxFlat's one run over
// the plane, and the rows are copied out without their junk columns. A
// plane with a NaN in it is redone by maxPoolValuesPlane, whose maximum
// lets a NaN win.
func maxPoolFlat(g poolGeom, y, x []float32) {
	p := g.p
	d := newDepthwise(convGeom{n: 1, c: g.planes, h: g.h, w: g.w, o: g.planes, kh: p.KH, kw: p.KW, oh: g.oh, ow: g.ow,
		g: g.planes, cg: 1, og: 1, p: ConvParams{StrideH: p.StrideH, StrideW: p.StrideW, PadH: p.PadH, PadW: p.PadW, Groups: g.planes}})
	ohw, hw := g.oh*g.ow, g.h*g.w
	direct := d.we == g.ow
	parallelFor(g.planes, max(1, (1<<15)/max(1, d.plane)), func(lo, hi int) {
		buf := getCols(d.plane)
		defer putCols(buf)
		for i := range *buf {
			(*buf)[i] = float32(math.Inf(-1)) // the padding, kept by every fill
		}
		tmp := getCols(max(d.flat, g.w))
		defer putCols(tmp)
		for pl := lo; pl < hi; pl++ {
			in, out := x[pl*hw:(pl+1)*hw], y[pl*ohw:(pl+1)*ohw]
			d.fill(*buf, in)
			var sawNaN bool
			if direct {
				sawNaN = kern.MaxFlat(out, *buf, d.offs)
			} else {
				run := (*tmp)[:d.flat]
				sawNaN = kern.MaxFlat(run, *buf, d.offs)
				kern.CopyRows(out, g.ow, run, d.we, g.oh, g.ow)
			}
			if sawNaN {
				maxPoolValuesPlane(g, out, in, (*tmp)[:g.w])
			}
		}
	})
}

// maxPoolValuesPlane computes one output plane of MaxPool2DValues: each
// output row the maximum of its window's input rows (row, a scratch of w
// floats), then of each window's columns; a NaN wins.
func maxPoolValuesPlane(g poolGeom, out, in, row []float32) {
	for oy := 0; oy < g.oh; oy++ {
		y0, y1, _, _ := g.window(oy, 0)
		copy(row, in[y0*g.w:(y0+1)*g.w])
		for iy := y0 + 1; iy < y1; iy++ {
			maxInto(row, in[iy*g.w:(iy+1)*g.w])
		}
		o := out[oy*g.ow : (oy+1)*g.ow]
		for ox := range o {
			_, _, x0, x1 := g.window(oy, ox)
			m := row[x0]
			for _, v := range row[x0+1 : x1] {
				m = max(m, v)
			}
			o[ox] = m
		}
	}
}

// maxInto sets d[i] = max(d[i], s[i]) (a NaN wins).
func maxInto(d, s []float32) {
	s = s[:len(d)]
	i := 0
	for ; i+4 <= len(d); i += 4 {
		dd, ss := (*[4]float32)(d[i:]), (*[4]float32)(s[i:])
		dd[0], dd[1], dd[2], dd[3] = max(dd[0], ss[0]), max(dd[1], ss[1]), max(dd[2], ss[2]), max(dd[3], ss[3])
	}
	for ; i < len(d); i++ {
		d[i] = max(d[i], s[i])
	}
}

// maxPoolPlane is MaxPool2D on one plane for any window: the maxima by
// two separable branch-free passes (each row's maximum over every
// window's columns into hb [h, ow], then the maximum of those over the
// window's rows), then each window's first position holding its maximum,
// by a backward scan of selects. Comparisons that decide branches
// mispredict on real data: the one-pass loop with them ran ResNet's 3×3
// stem pooling at a tenth of this speed.
func maxPoolPlane(out []float32, arg []int32, in []float32, g *poolGeom, hb []float32) {
	w, ow := g.w, g.ow
	for iy := 0; iy < g.h; iy++ {
		row := in[iy*w : (iy+1)*w]
		hr := hb[iy*ow : (iy+1)*ow]
		for ox := range hr {
			_, _, x0, x1 := g.window(0, ox)
			m := row[x0]
			for _, v := range row[x0+1 : x1] {
				m = max(m, v) // a NaN wins
			}
			hr[ox] = m
		}
	}
	for oy := 0; oy < g.oh; oy++ {
		y0, y1, _, _ := g.window(oy, 0)
		o := out[oy*ow : (oy+1)*ow]
		copy(o, hb[y0*ow:(y0+1)*ow])
		for iy := y0 + 1; iy < y1; iy++ {
			for ox, v := range hb[iy*ow : (iy+1)*ow] {
				o[ox] = max(o[ox], v)
			}
		}
		for ox, best := range o {
			_, _, x0, x1 := g.window(oy, ox)
			bi := int32(y0*w + x0)
			if best != best { // a NaN: the first one wins (rare)
				bi = firstNaN(in, w, y0, y1, x0, x1)
			} else {
				for iy := y1 - 1; iy >= y0; iy-- {
					row := in[iy*w : iy*w+x1]
					for ix := x1 - 1; ix >= x0; ix-- {
						bi = pickInt32(row[ix] == best, int32(iy*w+ix), bi)
					}
				}
			}
			arg[oy*ow+ox] = bi
		}
	}
}

// firstNaN returns the row-major position of the first NaN in the window.
func firstNaN(in []float32, w, y0, y1, x0, x1 int) int32 {
	for iy := y0; iy < y1; iy++ {
		for ix := x0; ix < x1; ix++ {
			if v := in[iy*w+ix]; v != v {
				return int32(iy*w + ix)
			}
		}
	}
	return int32(y0*w + x0)
}

// maxPool2x2 is MaxPool2D's 2×2, stride-2 case (most CNNs), on one plane:
// the vector kernel where there is one, this code otherwise and for
// planes holding a NaN.
func maxPool2x2(out []float32, arg []int32, in []float32, w, oh, ow int) {
	if kern.MaxPool2x2(out, arg, in, w, oh, ow) {
		return
	}
	maxPool2x2Go(out, arg, in, w, oh, ow)
}

// maxPool2x2Go is maxPool2x2 in Go, the reference the kernel is tested
// against.
func maxPool2x2Go(out []float32, arg []int32, in []float32, w, oh, ow int) {
	for oy := 0; oy < oh; oy++ {
		r0 := in[2*oy*w : 2*oy*w+2*ow]
		r1 := in[(2*oy+1)*w : (2*oy+1)*w+2*ow]
		o := out[oy*ow : (oy+1)*ow]
		a := arg[oy*ow : (oy+1)*ow]
		base := int32(2 * oy * w)
		for ox := range o {
			j := 2 * ox
			v0, v1, v2, v3 := r0[j], r0[j+1], r1[j], r1[j+1]
			// Branch-free: the maximum by MAXSS and the first position
			// holding it by integer selects. Comparisons that decide
			// branches mispredict on random data and made this loop 2.6×
			// slower.
			best := max(max(v0, v1), max(v2, v3))
			bi := pickInt32(v2 == best, base+int32(w+j), base+int32(w+j+1))
			bi = pickInt32(v1 == best, base+int32(j+1), bi)
			bi = pickInt32(v0 == best, base+int32(j), bi)
			if best != best { // a NaN: it wins, at its first position (rare)
				bi = base + int32(w+j+1)
				for k, v := range [4]float32{v0, v1, v2, v3} {
					if v != v {
						bi = base + int32([4]int{j, j + 1, w + j, w + j + 1}[k])
						break
					}
				}
			}
			o[ox], a[ox] = best, bi
		}
	}
}

// pickInt32 returns a if c, else b; the compiler turns it into a CMOV.
func pickInt32(c bool, a, b int32) int32 {
	if c {
		return a
	}
	return b
}

// MaxPool2DBackward routes each output gradient dy [batch, channels, oh,
// ow] to the input position argmax (from MaxPool2D) recorded for it,
// returning dx of shape xShape. Overlapping windows that share a maximum
// add their gradients there.
func MaxPool2DBackward(dy *Tensor, argmax []int32, xShape []int) *Tensor {
	return MaxPool2DBackwardWindows(dy, argmax, xShape, PoolParams{})
}

// MaxPool2DBackwardWindows is MaxPool2DBackward told the windows the
// forward pooled over (p as given to MaxPool2D; the zero value: unknown):
// for 2×2 windows at stride 2 without padding it writes whole windows at
// once with a vector kernel where there is one (the result is the same).
func MaxPool2DBackwardWindows(dy *Tensor, argmax []int32, xShape []int, p PoolParams) *Tensor {
	const op = "MaxPool2DBackward"
	if len(xShape) != 4 || dy.Rank() != 4 || dy.shape[0] != xShape[0] || dy.shape[1] != xShape[1] {
		shapeErr(op, "output gradient %v does not match input shape %v", dy.shape, xShape)
	}
	if len(argmax) != dy.Len() {
		shapeErr(op, "argmax has %d entries, output gradient %v has %d", len(argmax), dy.shape, dy.Len())
	}
	dx := New(xShape...)
	dyd := dy.Data()
	planes := xShape[0] * xShape[1]
	h, w := xShape[2], xShape[3]
	hw := h * w
	oh, ow := dy.shape[2], dy.shape[3]
	ohw := oh * ow
	p = p.norm()
	fast := p.KH == 2 && p.KW == 2 && p.StrideH == 2 && p.StrideW == 2 && p.PadH == 0 && p.PadW == 0 &&
		oh == h/2 && ow == w/2
	parallelFor(planes, poolGrain(ohw), func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			d := dx.data[pl*hw : (pl+1)*hw]
			arg := argmax[pl*ohw : (pl+1)*ohw]
			if fast && kern.MaxPool2x2Backward(d, dyd[pl*ohw:(pl+1)*ohw], arg, w, oh, ow) {
				continue
			}
			for k, a := range arg {
				d[a] += dyd[pl*ohw+k]
			}
		}
	})
	return dx
}

// AvgPool2D returns the mean of each pooling window. Padding is not counted
// (count_include_pad = false in PyTorch's terms): a window that overlaps
// the border averages only the real pixels it covers.
//
//	x: [batch, channels, h, w] → [batch, channels, oh, ow]
func AvgPool2D(x *Tensor, p PoolParams) *Tensor {
	g := poolCheck("AvgPool2D", x.shape, p)
	xd := x.Data()
	y := New(x.shape[0], x.shape[1], g.oh, g.ow)
	ohw, hw := g.oh*g.ow, g.h*g.w
	parallelFor(g.planes, poolGrain(ohw), func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			in := xd[pl*hw : (pl+1)*hw]
			out := y.data[pl*ohw : (pl+1)*ohw]
			for oy := 0; oy < g.oh; oy++ {
				for ox := 0; ox < g.ow; ox++ {
					y0, y1, x0, x1 := g.window(oy, ox)
					var s float32
					for iy := y0; iy < y1; iy++ {
						for _, v := range in[iy*g.w+x0 : iy*g.w+x1] {
							s += v
						}
					}
					out[oy*g.ow+ox] = s / float32((y1-y0)*(x1-x0))
				}
			}
		}
	})
	return y
}

// AvgPool2DBackward spreads each output gradient dy evenly over the real
// pixels of its window (padding not counted, as in AvgPool2D), returning
// dx of shape xShape.
func AvgPool2DBackward(dy *Tensor, xShape []int, p PoolParams) *Tensor {
	const op = "AvgPool2DBackward"
	g := poolCheck(op, xShape, p)
	if !SameShape(dy.shape, []int{xShape[0], xShape[1], g.oh, g.ow}) {
		shapeErr(op, "output gradient has shape %v, want %v", dy.shape, []int{xShape[0], xShape[1], g.oh, g.ow})
	}
	dx := New(xShape...)
	dyd := dy.Data()
	ohw, hw := g.oh*g.ow, g.h*g.w
	parallelFor(g.planes, poolGrain(ohw), func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			d := dx.data[pl*hw : (pl+1)*hw]
			gy := dyd[pl*ohw : (pl+1)*ohw]
			for oy := 0; oy < g.oh; oy++ {
				for ox := 0; ox < g.ow; ox++ {
					y0, y1, x0, x1 := g.window(oy, ox)
					v := gy[oy*g.ow+ox] / float32((y1-y0)*(x1-x0))
					for iy := y0; iy < y1; iy++ {
						row := d[iy*g.w+x0 : iy*g.w+x1]
						for j := range row {
							row[j] += v
						}
					}
				}
			}
		}
	})
	return dx
}

// GlobalAvgPool2D averages each channel over its whole plane:
//
//	x: [batch, channels, h, w] → [batch, channels]
//
// (the classifier head of modern CNNs, and Grad-CAM's channel weights).
// The sum of each plane is taken in float64.
func GlobalAvgPool2D(x *Tensor) *Tensor {
	if x.Rank() != 4 {
		shapeErr("GlobalAvgPool2D", "input must be [batch, channels, height, width], got %v", x.shape)
	}
	xd := x.Data()
	n, c, hw := x.shape[0], x.shape[1], x.shape[2]*x.shape[3]
	if hw == 0 {
		shapeErr("GlobalAvgPool2D", "input %v has empty planes", x.shape)
	}
	y := New(n, c)
	parallelFor(n*c, poolGrain(hw), func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			y.data[pl] = float32(sum64(xd[pl*hw:(pl+1)*hw]) / float64(hw))
		}
	})
	return y
}

// GlobalAvgPool2DBackward spreads dy [batch, channels] evenly over each
// plane of an input of shape xShape [batch, channels, h, w].
func GlobalAvgPool2DBackward(dy *Tensor, xShape []int) *Tensor {
	const op = "GlobalAvgPool2DBackward"
	if len(xShape) != 4 || !SameShape(dy.shape, xShape[:2]) {
		shapeErr(op, "output gradient %v does not match input shape %v (want [batch, channels])", dy.shape, xShape)
	}
	dx := New(xShape...)
	dyd := dy.Data()
	hw := xShape[2] * xShape[3]
	parallelFor(len(dyd), poolGrain(hw), func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			v := dyd[pl] / float32(hw)
			row := dx.data[pl*hw : (pl+1)*hw]
			for j := range row {
				row[j] = v
			}
		}
	})
	return dx
}
