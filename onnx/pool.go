package onnx

import (
	"math"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
)

type poolKind int

const (
	poolMax poolKind = iota
	poolAvg
	poolLp
)

// compilePool reads MaxPool, AveragePool or LpPool: 1-, 2- and 3-D, any
// pads, strides, dilations, ceil_mode and count_include_pad. Common 2-D
// cases run on the tape's pooling ops; the rest on poolND.
func compilePool(c *compiler, kind poolKind) kernel {
	c.inputs(1, 1)
	withDil := (kind == poolMax && c.opset >= 10) || (kind == poolAvg && c.opset >= 19) || (kind == poolLp && c.opset >= 18)
	sa := readSpatial(c, withDil)
	if sa.kernel == nil {
		c.bad("attribute kernel_shape is required")
	}
	ceil := false
	if (kind != poolLp && c.opset >= 10) || (kind == poolLp && c.opset >= 18) {
		ceil = c.int("ceil_mode", 0) != 0
	}
	countPad := false
	if kind == poolAvg && c.opset >= 7 {
		countPad = c.int("count_include_pad", 0) != 0
	}
	p := 2.0
	if kind == poolLp {
		if c.opset < 2 {
			p = float64(c.float("p", 2))
		} else {
			p = float64(c.int("p", 2))
		}
		if p < 1 {
			c.bad("p=%v must be at least 1", p)
		}
	}
	indices, colMajor := false, false
	if kind == poolMax {
		c.outputs(2)
		indices = len(c.n.Outputs) > 1 && c.n.Outputs[1] != ""
		if c.opset >= 8 {
			so := c.int("storage_order", 0)
			if so != 0 && so != 1 {
				c.bad("storage_order %d (want 0 or 1)", so)
			}
			colMajor = so == 1
		}
	} else {
		c.outputs(1)
	}
	return func(e *env, x []*val) []*val {
		v := x[0].asVar()
		d := v.Value.Shape()
		if len(d) < 3 {
			fail("input must be [N, C, spatial...], got %v", d)
		}
		if len(sa.kernel) != len(d)-2 {
			fail("kernel_shape %v does not fit input %v", sa.kernel, d)
		}
		g := sa.resolve(d[2:], toInts(sa.kernel), ceil)
		out := make([]int, len(d)-2)
		for i := range out {
			out[i] = g.outSize(i, d[2+i], ceil)
		}
		if len(d) == 4 && !indices && kind != poolLp && x[0].v != nil {
			if pp, ok := fastPool(g, d, out, kind, countPad); ok {
				xc := contiguous(e.tp, v)
				if kind == poolMax {
					return []*val{floatVal(e.tp.MaxPool2D(xc, pp), x[0].dt)}
				}
				return []*val{floatVal(e.tp.AvgPool2D(xc, pp), x[0].dt)}
			}
		}
		y, idx := poolND(e.tp, v, g, out, kind, countPad, p, colMajor)
		res := []*val{floatVal(y, x[0].dt)}
		if x[0].v == nil { // integer input (MaxPool of uint8): exact in float32
			res[0] = castVal(res[0], x[0].dt)
		}
		if indices {
			res = append(res, intVal(idx, y.Value.Shape(), Int64))
		}
		return res
	}
}

// fastPool reports whether the tape's 2-D pooling computes the same as
// ONNX for this geometry, and its parameters.
func fastPool(g convGeometry, d, out []int, kind poolKind, countPad bool) (tensor.PoolParams, bool) {
	p := tensor.PoolParams{KH: g.kernel[0], KW: g.kernel[1], StrideH: g.stride[0], StrideW: g.stride[1], PadH: g.padBegin[0], PadW: g.padBegin[1]}
	if g.dil[0] != 1 || g.dil[1] != 1 || g.padEnd[0] != p.PadH || g.padEnd[1] != p.PadW {
		return p, false
	}
	if 2*p.PadH > p.KH || 2*p.PadW > p.KW {
		return p, false
	}
	if kind == poolAvg && countPad && (p.PadH != 0 || p.PadW != 0) {
		return p, false
	}
	if tensor.ConvOutSize(d[2], p.KH, p.StrideH, p.PadH) != out[0] || tensor.ConvOutSize(d[3], p.KW, p.StrideW, p.PadW) != out[1] {
		return p, false // ceil_mode added a window
	}
	return p, true
}

// poolND pools over every spatial axis. For each output position it
// visits the window's taps; taps in the padding are skipped (AveragePool
// with count_include_pad counts those within the declared pads, not those
// that ceil_mode adds past them).
//
// For MaxPool it also returns the Indices output: each maximum's flat
// index in the input, with the spatial axes in row-major order or, with
// colMajor (storage_order=1), column-major.
func poolND(tp *autograd.Tape, x *autograd.Var, g convGeometry, out []int, kind poolKind, countPad bool, p float64, colMajor bool) (*autograd.Var, []int64) {
	d := x.Value.Shape()
	sp := d[2:]
	planes := d[0] * d[1]
	inPlane := tensor.Numel(sp)
	outPlane := checkNumel(out, "pooled shape")
	// taps[o] lists the in-plane indices window o reads; div[o] the divisor.
	taps := make([][]int32, outPlane)
	div := make([]float64, outPlane)
	kn := tensor.Numel(g.kernel)
	inSt := stridesOf(sp)
	oi := 0
	indexMap(out, func(o []int) int {
		var list []int32
		count := 0
		kidx := make([]int, len(sp))
		for t := 0; t < kn; t++ {
			rem := t
			for a := len(sp) - 1; a >= 0; a-- {
				kidx[a] = rem % g.kernel[a]
				rem /= g.kernel[a]
			}
			off, real, inPad := 0, true, true
			for a := range sp {
				c := o[a]*g.stride[a] + kidx[a]*g.dil[a] - g.padBegin[a]
				if c < 0 || c >= sp[a] {
					real = false
				}
				if c < -g.padBegin[a] || c >= sp[a]+g.padEnd[a] {
					inPad = false
				}
				off += c * inSt[a]
			}
			if real {
				list = append(list, int32(off))
				count++
			} else if inPad && countPad {
				count++
			}
		}
		taps[oi], div[oi] = list, float64(count)
		oi++
		return 0
	})
	xd := x.Value.Data()
	shape := append([]int{d[0], d[1]}, out...)
	y := tensor.New(shape...)
	yd := y.Data()
	var arg []int32
	if kind == poolMax {
		arg = make([]int32, len(yd))
	}
	for pl := 0; pl < planes; pl++ {
		in := xd[pl*inPlane : (pl+1)*inPlane]
		for o, list := range taps {
			k := pl*outPlane + o
			switch kind {
			case poolMax:
				best, at := math.Inf(-1), int32(-1)
				for _, t := range list {
					if v := float64(in[t]); v > best || at < 0 || v != v {
						best, at = v, t
						if v != v {
							break
						}
					}
				}
				yd[k], arg[k] = float32(best), at
			case poolAvg:
				var s float64
				for _, t := range list {
					s += float64(in[t])
				}
				yd[k] = float32(s / div[o]) // NaN for a window of padding only, as the reference's nanmean
			case poolLp:
				var s float64
				for _, t := range list {
					s += math.Pow(math.Abs(float64(in[t])), p)
				}
				yd[k] = float32(math.Pow(s, 1/p))
			}
		}
	}
	var idx []int64
	if kind == poolMax {
		idx = make([]int64, len(arg))
		colSt := make([]int, len(sp))
		s := 1
		for i := range sp {
			colSt[i] = s
			s *= sp[i]
		}
		for k, a := range arg {
			in := int(a)
			if colMajor {
				in = 0
				r := int(a)
				for i := range sp {
					in += (r / inSt[i]) * colSt[i]
					r %= inSt[i]
				}
			}
			idx[k] = int64(k/outPlane*inPlane) + int64(in)
		}
	}
	return tp.Custom(y, func(gr *tensor.Tensor) []*tensor.Tensor {
		gx := tensor.New(d...)
		gxd, gd := gx.Data(), gr.Data()
		for pl := 0; pl < planes; pl++ {
			gin := gxd[pl*inPlane : (pl+1)*inPlane]
			in := xd[pl*inPlane : (pl+1)*inPlane]
			for o, list := range taps {
				k := pl*outPlane + o
				gv := gd[k]
				if gv == 0 {
					continue
				}
				switch kind {
				case poolMax:
					if arg[k] >= 0 {
						gin[arg[k]] += gv
					}
				case poolAvg:
					if div[o] > 0 {
						for _, t := range list {
							gin[t] += gv / float32(div[o])
						}
					}
				case poolLp:
					yv := float64(yd[k])
					if yv == 0 {
						continue
					}
					for _, t := range list {
						xv := float64(in[t])
						gin[t] += gv * float32(math.Pow(math.Abs(xv), p-1)*sign(xv)/math.Pow(yv, p-1))
					}
				}
			}
		}
		return []*tensor.Tensor{gx}
	}, x), idx
}

func sign(v float64) float64 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}
