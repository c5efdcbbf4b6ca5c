package onnx

import (
	"math"
	"slices"
	"testing"

	"github.com/glassbox-ml/glassbox/tensor"
)

// Naive float64 references for the network layers.

// convRef is a direct N-D convolution (1-D or 2-D; 3-D with d ≥ 1 axes)
// of x [N, C, spatial...] with w [M, C/g, kernel...].
func convRef(x, w, b *tensor.Tensor, stride, padBegin, padEnd, dil []int, group int) ([]float64, []int) {
	xs, ws := x.Shape(), w.Shape()
	sp := xs[2:]
	k := ws[2:]
	out := make([]int, len(sp))
	for i := range sp {
		out[i] = (sp[i]+padBegin[i]+padEnd[i]-((k[i]-1)*dil[i]+1))/stride[i] + 1
	}
	n, c, m := xs[0], xs[1], ws[0]
	cg, mg := c/group, m/group
	shape := append([]int{n, m}, out...)
	res := make([]float64, tensor.Numel(shape))
	xst, wst := stridesOf(xs), stridesOf(ws)
	ost := stridesOf(shape)
	kn := tensor.Numel(k)
	on := tensor.Numel(out)
	idx := make([]int, len(sp))
	kidx := make([]int, len(k))
	for b0 := 0; b0 < n; b0++ {
		for mo := 0; mo < m; mo++ {
			gi := mo / mg
			for o := 0; o < on; o++ {
				r := o
				for a := len(out) - 1; a >= 0; a-- {
					idx[a] = r % out[a]
					r /= out[a]
				}
				var s float64
				if b != nil {
					s = float64(b.Data()[mo])
				}
				for ci := 0; ci < cg; ci++ {
					for t := 0; t < kn; t++ {
						r := t
						for a := len(k) - 1; a >= 0; a-- {
							kidx[a] = r % k[a]
							r /= k[a]
						}
						xo := b0*xst[0] + (gi*cg+ci)*xst[1]
						wo := mo*wst[0] + ci*wst[1]
						ok := true
						for a := range sp {
							p := idx[a]*stride[a] + kidx[a]*dil[a] - padBegin[a]
							if p < 0 || p >= sp[a] {
								ok = false
								break
							}
							xo += p * xst[2+a]
							wo += kidx[a] * wst[2+a]
						}
						if ok {
							s += float64(x.Data()[xo]) * float64(w.Data()[wo])
						}
					}
				}
				oo := b0*ost[0] + mo*ost[1]
				for a := range out {
					oo += idx[a] * ost[2+a]
				}
				res[oo] = s
			}
		}
	}
	return res, shape
}

func ones(n, v int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func i64(v []int) []int64 { return toInt64s(v) }

func TestConv(t *testing.T) {
	rng := tensor.NewRNG(3)
	var cases []opCase
	add := func(name string, xs, ws []int, stride, pb, pe, dil []int, group int, bias bool, extra ...*Attribute) {
		x, w := randT(rng, xs...), randT(rng, ws...)
		var b *tensor.Tensor
		in := []arg{F(x), F(w)}
		if bias {
			b = randT(rng, ws[0])
			in = append(in, F(b))
		}
		want, shape := convRef(x, w, b, stride, pb, pe, dil, group)
		at := []*Attribute{tInts("strides", i64(stride)...), tInts("dilations", i64(dil)...), tInt("group", int64(group))}
		if extra == nil {
			at = append(at, tInts("pads", i64(append(slices.Clone(pb), pe...))...))
		}
		at = append(at, extra...)
		cases = append(cases, opCase{name: name, op: "Conv", at: at, in: in, want64: want, shape: shape, grad: true, tol: 1e-4})
	}
	add("plain", []int{2, 3, 5, 5}, []int{4, 3, 3, 3}, ones(2, 1), ones(2, 0), ones(2, 0), ones(2, 1), 1, true)
	add("stride_pad", []int{1, 2, 6, 5}, []int{3, 2, 3, 2}, []int{2, 1}, []int{1, 0}, []int{1, 0}, ones(2, 1), 1, true)
	add("asymmetric_pads", []int{1, 2, 5, 5}, []int{2, 2, 3, 3}, ones(2, 1), []int{0, 1}, []int{2, 0}, ones(2, 1), 1, false)
	add("dilated", []int{1, 2, 7, 7}, []int{2, 2, 3, 3}, ones(2, 1), ones(2, 2), ones(2, 2), []int{2, 3}, 1, true)
	add("groups", []int{1, 4, 5, 5}, []int{6, 2, 3, 3}, []int{1, 2}, ones(2, 1), ones(2, 1), ones(2, 1), 2, true)
	add("depthwise", []int{2, 3, 4, 4}, []int{3, 1, 3, 3}, ones(2, 1), ones(2, 1), ones(2, 1), ones(2, 1), 3, true)
	add("1d", []int{2, 3, 9}, []int{4, 3, 3}, []int{2}, []int{1}, []int{2}, []int{2}, 1, true)
	add("3d", []int{1, 2, 4, 4, 3}, []int{3, 2, 2, 3, 2}, []int{2, 1, 1}, []int{1, 1, 0}, []int{0, 1, 1}, []int{1, 1, 2}, 1, true)
	// auto_pad: SAME_UPPER puts the odd padding at the end, SAME_LOWER at the start.
	add("same_upper", []int{1, 1, 5, 6}, []int{1, 1, 2, 3}, []int{2, 2}, []int{0, 0}, []int{1, 1}, ones(2, 1), 1, false, tStr("auto_pad", "SAME_UPPER"))
	add("same_lower", []int{1, 1, 5, 6}, []int{1, 1, 2, 3}, []int{2, 2}, []int{1, 1}, []int{0, 0}, ones(2, 1), 1, false, tStr("auto_pad", "SAME_LOWER"))
	add("valid", []int{1, 2, 5, 6}, []int{1, 2, 3, 3}, []int{2, 2}, ones(2, 0), ones(2, 0), ones(2, 1), 1, false, tStr("auto_pad", "VALID"))
	runCases(t, cases)
}

// convTransposeRef scatters each input element times the kernel into the
// output: out[n, m, o·s + k·d − pad] += x[n, c, o] · w[c, m', k].
func convTransposeRef(x, w *tensor.Tensor, stride, padBegin, outSize, dil []int, group int) ([]float64, []int) {
	xs, ws := x.Shape(), w.Shape()
	n, c, h, wd := xs[0], xs[1], xs[2], xs[3]
	mg := ws[1]
	m := mg * group
	cg := c / group
	shape := []int{n, m, outSize[0], outSize[1]}
	res := make([]float64, tensor.Numel(shape))
	for b := 0; b < n; b++ {
		for ci := 0; ci < c; ci++ {
			g := ci / cg
			for i := 0; i < h; i++ {
				for j := 0; j < wd; j++ {
					xv := float64(x.At(b, ci, i, j))
					for mo := 0; mo < mg; mo++ {
						for ki := 0; ki < ws[2]; ki++ {
							for kj := 0; kj < ws[3]; kj++ {
								oi := i*stride[0] + ki*dil[0] - padBegin[0]
								oj := j*stride[1] + kj*dil[1] - padBegin[1]
								if oi < 0 || oj < 0 || oi >= outSize[0] || oj >= outSize[1] {
									continue
								}
								res[((b*m+g*mg+mo)*outSize[0]+oi)*outSize[1]+oj] += xv * float64(w.At(ci, mo, ki, kj))
							}
						}
					}
				}
			}
		}
	}
	return res, shape
}

func TestConvTranspose(t *testing.T) {
	rng := tensor.NewRNG(4)
	x, w := randT(rng, 1, 2, 3, 3), randT(rng, 2, 3, 3, 2)
	plain, plainShape := convTransposeRef(x, w, []int{1, 1}, []int{0, 0}, []int{5, 4}, []int{1, 1}, 1)
	strided, stridedShape := convTransposeRef(x, w, []int{2, 3}, []int{1, 0}, []int{6, 8}, []int{1, 1}, 1)
	xg, wg := randT(rng, 1, 4, 2, 2), randT(rng, 4, 1, 2, 2)
	grouped, groupedShape := convTransposeRef(xg, wg, []int{2, 2}, []int{0, 0}, []int{4, 4}, []int{1, 1}, 2)
	dilated, dilatedShape := convTransposeRef(x, w, []int{1, 1}, []int{0, 0}, []int{7, 5}, []int{2, 2}, 1)
	runCases(t, []opCase{
		{name: "plain", op: "ConvTranspose", in: []arg{F(x), F(w)}, want64: plain, shape: plainShape, grad: true, tol: 1e-4},
		// out = s·(in−1) + output_padding + k − pads: 2·2 + 1 + 3 − 2 = 6 and 3·2 + 1 + 2 − 1 = 8.
		{name: "strides_pads_outpad", op: "ConvTranspose", at: []*Attribute{tInts("strides", 2, 3), tInts("pads", 1, 0, 1, 1), tInts("output_padding", 1, 1)}, in: []arg{F(x), F(w)}, want64: strided, shape: stridedShape, grad: true, tol: 1e-4},
		{name: "output_shape", op: "ConvTranspose", at: []*Attribute{tInts("strides", 2, 3), tInts("output_shape", 6, 8)}, in: []arg{F(x), F(w)}, want64: shiftRef(x, w), shape: []int{1, 3, 6, 8}, tol: 1e-4},
		{name: "groups", op: "ConvTranspose", at: []*Attribute{tInts("strides", 2, 2), tInt("group", 2)}, in: []arg{F(xg), F(wg)}, want64: grouped, shape: groupedShape, grad: true, tol: 1e-4},
		{name: "dilated", op: "ConvTranspose", at: []*Attribute{tInts("dilations", 2, 2)}, in: []arg{F(x), F(w)}, want64: dilated, shape: dilatedShape, grad: true, tol: 1e-4},
	})
}

// shiftRef is the output_shape case: the full output is 2·2+3 = 7 by
// 3·2+2 = 8; asking for 6×8 pads 1 row, at the start (total − total/2).
func shiftRef(x, w *tensor.Tensor) []float64 {
	r, _ := convTransposeRef(x, w, []int{2, 3}, []int{1, 0}, []int{6, 8}, []int{1, 1}, 1)
	return r
}

// poolRef pools a [N, C, H, W] input naively.
func poolRef(x *tensor.Tensor, kind string, k, s, pb, pe, dil []int, ceil, countPad bool) ([]float64, []int) {
	xs := x.Shape()
	out := make([]int, 2)
	for i := range out {
		span := xs[2+i] + pb[i] + pe[i] - ((k[i]-1)*dil[i] + 1)
		if ceil {
			out[i] = (span+s[i]-1)/s[i] + 1
			if (out[i]-1)*s[i] >= xs[2+i]+pb[i] {
				out[i]--
			}
		} else {
			out[i] = span/s[i] + 1
		}
	}
	shape := []int{xs[0], xs[1], out[0], out[1]}
	res := make([]float64, tensor.Numel(shape))
	for p := 0; p < xs[0]*xs[1]; p++ {
		for oi := 0; oi < out[0]; oi++ {
			for oj := 0; oj < out[1]; oj++ {
				best, sum, cnt := math.Inf(-1), 0.0, 0
				for ki := 0; ki < k[0]; ki++ {
					for kj := 0; kj < k[1]; kj++ {
						i, j := oi*s[0]+ki*dil[0]-pb[0], oj*s[1]+kj*dil[1]-pb[1]
						inPad := i >= -pb[0] && i < xs[2]+pe[0] && j >= -pb[1] && j < xs[3]+pe[1]
						if i < 0 || j < 0 || i >= xs[2] || j >= xs[3] {
							if countPad && inPad {
								cnt++
							}
							continue
						}
						v := float64(x.Data()[(p*xs[2]+i)*xs[3]+j])
						best = math.Max(best, v)
						sum += v
						cnt++
					}
				}
				o := (p*out[0]+oi)*out[1] + oj
				if kind == "max" {
					res[o] = best
				} else {
					res[o] = sum / float64(cnt)
				}
			}
		}
	}
	return res, shape
}

func TestPooling(t *testing.T) {
	rng := tensor.NewRNG(5)
	x := randDistinct(rng, 2, 2, 7, 6)
	var cases []opCase
	add := func(name, op string, k, s, pb, pe, dil []int, ceil, countPad bool, noGrad bool) {
		kind := "max"
		if op == "AveragePool" {
			kind = "avg"
		}
		want, shape := poolRef(x, kind, k, s, pb, pe, dil, ceil, countPad)
		at := []*Attribute{tInts("kernel_shape", i64(k)...), tInts("strides", i64(s)...), tInts("pads", i64(append(slices.Clone(pb), pe...))...)}
		if ceil {
			at = append(at, tInt("ceil_mode", 1))
		}
		if countPad {
			at = append(at, tInt("count_include_pad", 1))
		}
		if dil[0] != 1 || dil[1] != 1 {
			at = append(at, tInts("dilations", i64(dil)...))
		}
		cases = append(cases, opCase{name: name, op: op, at: at, in: []arg{F(x)}, want64: want, shape: shape, grad: !noGrad})
	}
	one := ones(2, 1)
	add("max_2x2", "MaxPool", []int{2, 2}, []int{2, 2}, ones(2, 0), ones(2, 0), one, false, false, false)
	add("max_pad", "MaxPool", []int{3, 3}, []int{2, 2}, ones(2, 1), ones(2, 1), one, false, false, false)
	add("max_asym_ceil", "MaxPool", []int{3, 2}, []int{2, 2}, []int{0, 1}, []int{1, 0}, one, true, false, false)
	add("max_dilated", "MaxPool", []int{2, 2}, []int{1, 1}, ones(2, 0), ones(2, 0), []int{2, 2}, false, false, false)
	add("avg_2x2", "AveragePool", []int{2, 2}, []int{2, 2}, ones(2, 0), ones(2, 0), one, false, false, false)
	add("avg_pad_exclude", "AveragePool", []int{3, 3}, []int{2, 2}, ones(2, 1), ones(2, 1), one, false, false, false)
	add("avg_pad_include", "AveragePool", []int{3, 3}, []int{2, 2}, ones(2, 1), ones(2, 1), one, false, true, false)
	add("avg_ceil_include", "AveragePool", []int{3, 3}, []int{2, 2}, []int{1, 0}, []int{0, 1}, one, true, true, false)
	// Windows wholly in the padding average nothing: NaN, as the reference's nanmean.
	add("avg_big_pad", "AveragePool", []int{2, 2}, []int{1, 1}, ones(2, 2), ones(2, 2), one, false, false, true)
	// Global pools and 1-D pooling.
	gap := make([]float64, 4)
	gmp := make([]float64, 4)
	for p := 0; p < 4; p++ {
		gmp[p] = math.Inf(-1)
		for _, v := range x.Data()[p*42 : (p+1)*42] {
			gap[p] += float64(v) / 42
			gmp[p] = math.Max(gmp[p], float64(v))
		}
	}
	x1 := tens([]int{1, 1, 5}, 1, 5, 2, 4, 3)
	cases = append(cases,
		opCase{op: "GlobalAveragePool", in: []arg{F(x)}, want64: gap, shape: []int{2, 2, 1, 1}, grad: true},
		opCase{op: "GlobalMaxPool", in: []arg{F(x)}, want64: gmp, shape: []int{2, 2, 1, 1}, grad: true},
		opCase{name: "MaxPool_1d", op: "MaxPool", at: []*Attribute{tInts("kernel_shape", 2), tInts("strides", 1)}, in: []arg{F(x1)}, want: tens([]int{1, 1, 4}, 5, 5, 4, 4), grad: true},
		opCase{name: "MaxPool_indices", op: "MaxPool", outs: 2, at: []*Attribute{tInts("kernel_shape", 2)}, in: []arg{F(x1)}, want: tens([]int{1, 1, 4}, 5, 5, 4, 4)},
		opCase{name: "AveragePool_same_upper", op: "AveragePool", at: []*Attribute{tInts("kernel_shape", 2), tStr("auto_pad", "SAME_UPPER")}, in: []arg{F(x1)}, want: tens([]int{1, 1, 5}, 3, 3.5, 3, 3.5, 3), grad: true},
		opCase{name: "LpPool", op: "LpPool", at: []*Attribute{tInts("kernel_shape", 2), tInts("strides", 2)}, in: []arg{F(tens([]int{1, 1, 4}, 3, 4, -1, 1))}, want: tens([]int{1, 1, 2}, 5, float32(math.Sqrt2)), grad: true},
	)
	runCases(t, cases)
}

// TestMaxPoolIndices checks the second output in both storage orders.
func TestMaxPoolIndices(t *testing.T) {
	x := tens([]int{1, 1, 3, 3}, 1, 9, 2, 8, 3, 7, 4, 6, 5)
	for _, c := range []struct {
		order int64
		want  []int64
	}{{0, []int64{1, 1, 3, 5}}, {1, []int64{3, 3, 1, 7}}} {
		m := newModel(12).input("x", Float).node("MaxPool", []string{"x"}, []string{"y", "i"},
			tInts("kernel_shape", 2, 2), tInt("storage_order", c.order)).output("y", "i").m
		mod := mustImport(t, m, ImportOptions{AllInputs: true})
		got, err := mod.Eval(map[string]*Tensor{"x": floatTensor("x", x)})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got["y"].Floats, []float32{9, 9, 8, 7}) || !slices.Equal(got["i"].Ints, c.want) {
			t.Errorf("storage_order %d: values %v indices %v, want [9 9 8 7] %v", c.order, got["y"].Floats, got["i"].Ints, c.want)
		}
	}
}

func TestNormalization(t *testing.T) {
	rng := tensor.NewRNG(6)
	x := randT(rng, 2, 3, 2, 2)
	scale, bias, mean := randT(rng, 3), randT(rng, 3), randT(rng, 3)
	variance := tensor.AddScalar(tensor.Abs(randT(rng, 3)), 0.1)
	bn := make([]float64, x.Len())
	for i := range bn {
		ch := (i / 4) % 3
		bn[i] = (float64(x.Data()[i])-float64(mean.Data()[ch]))/math.Sqrt(float64(variance.Data()[ch])+1e-3)*float64(scale.Data()[ch]) + float64(bias.Data()[ch])
	}
	// Instance norm: per (n, c) over the 2×2 plane; layer norm over the last two axes.
	inorm := make([]float64, x.Len())
	lnorm := make([]float64, x.Len())
	norm := func(dst []float64, src []float32, off int, g func(j int) (float64, float64)) {
		var m, v float64
		for _, s := range src {
			m += float64(s)
		}
		m /= float64(len(src))
		for _, s := range src {
			v += (float64(s) - m) * (float64(s) - m)
		}
		v /= float64(len(src))
		for j, s := range src {
			a, b := g(j)
			dst[off+j] = (float64(s)-m)/math.Sqrt(v+1e-5)*a + b
		}
	}
	for p := 0; p < 6; p++ {
		ch := p % 3
		norm(inorm, x.Data()[p*4:(p+1)*4], p*4, func(int) (float64, float64) {
			return float64(scale.Data()[ch]), float64(bias.Data()[ch])
		})
	}
	lscale, lbias := randT(rng, 2, 2), randT(rng, 2, 2)
	for p := 0; p < 6; p++ {
		norm(lnorm, x.Data()[p*4:(p+1)*4], p*4, func(j int) (float64, float64) {
			return float64(lscale.Data()[j]), float64(lbias.Data()[j])
		})
	}
	runCases(t, []opCase{
		// mean and var are statistics (buffers): the gradient check covers x, scale and B.
		{op: "BatchNormalization", at: []*Attribute{tFloat("epsilon", 1e-3)}, in: []arg{F(x), F(scale), F(bias), F(mean), F(variance)}, want64: bn, shape: x.Shape(), grad: true},
		{name: "BatchNormalization_opset6", op: "BatchNormalization", opset: 6, at: []*Attribute{tFloat("epsilon", 1e-3), tInt("is_test", 1), tFloat("momentum", 0.9)}, in: []arg{F(x), F(scale), F(bias), F(mean), F(variance)}, want64: bn, shape: x.Shape()},
		{op: "InstanceNormalization", in: []arg{F(x), F(scale), F(bias)}, want64: inorm, shape: x.Shape(), grad: true, tol: 1e-4},
		{op: "LayerNormalization", outs: 3, at: []*Attribute{tInt("axis", -2)}, in: []arg{F(x), F(lscale), F(lbias)}, want64: lnorm, shape: x.Shape(), grad: true, tol: 1e-4},
	})
}

func softmaxRef(x []float64, rows, width int, logOut bool) []float64 {
	out := make([]float64, len(x))
	for r := 0; r < rows; r++ {
		row := x[r*width : (r+1)*width]
		m := slices.Max(row)
		var s float64
		for _, v := range row {
			s += math.Exp(v - m)
		}
		for j, v := range row {
			if logOut {
				out[r*width+j] = v - m - math.Log(s)
			} else {
				out[r*width+j] = math.Exp(v-m) / s
			}
		}
	}
	return out
}

func TestSoftmax(t *testing.T) {
	rng := tensor.NewRNG(7)
	x := randT(rng, 2, 3, 4)
	xd := f64s(x)
	// Opset 13: axis 1 alone (transpose so it is last, then back).
	xt := f64s(x.Transpose(0, 2, 1).Contiguous())
	axis1 := func(logOut bool) []float64 {
		r := softmaxRef(xt, 8, 3, logOut)
		out := make([]float64, 24)
		for b := 0; b < 2; b++ {
			for j := 0; j < 4; j++ {
				for c := 0; c < 3; c++ {
					out[(b*3+c)*4+j] = r[(b*4+j)*3+c]
				}
			}
		}
		return out
	}
	hard := make([]float64, 24)
	for r := 0; r < 6; r++ {
		row := xd[r*4 : (r+1)*4]
		hard[r*4+slices.Index(row, slices.Max(row))] = 1
	}
	runCases(t, []opCase{
		{name: "Softmax_13_axis1", op: "Softmax", at: []*Attribute{tInt("axis", 1)}, in: []arg{F(x)}, want64: axis1(false), shape: x.Shape(), grad: true},
		{name: "Softmax_13_default_last", op: "Softmax", in: []arg{F(x)}, want64: softmaxRef(xd, 6, 4, false), shape: x.Shape(), grad: true},
		// Before opset 13, axis 1 flattens [2, 3·4] and normalises the 12.
		{name: "Softmax_11_flatten", op: "Softmax", opset: 11, at: []*Attribute{tInt("axis", 1)}, in: []arg{F(x)}, want64: softmaxRef(xd, 2, 12, false), shape: x.Shape(), grad: true},
		{name: "LogSoftmax_11_default", op: "LogSoftmax", opset: 11, in: []arg{F(x)}, want64: softmaxRef(xd, 2, 12, true), shape: x.Shape(), grad: true},
		{name: "LogSoftmax_13_axis1", op: "LogSoftmax", at: []*Attribute{tInt("axis", 1)}, in: []arg{F(x)}, want64: axis1(true), shape: x.Shape(), grad: true},
		{name: "LogSoftmax_11_axis2", op: "LogSoftmax", opset: 11, at: []*Attribute{tInt("axis", 2)}, in: []arg{F(x)}, want64: softmaxRef(xd, 6, 4, true), shape: x.Shape(), grad: true},
		{name: "Hardmax", op: "Hardmax", in: []arg{F(x)}, want64: hard, shape: x.Shape()},
	})
}

// reduceRef reduces x [2, 3, 4] over axes with f (acc, v) from init, then
// post.
func reduceRef(x *tensor.Tensor, axes []int, keep bool, init float64, f func(acc, v float64) float64, post func(acc float64, n int) float64) ([]float64, []int) {
	d := x.Shape()
	keepShape, dropShape := reducedShape(d, axes)
	outShape := dropShape
	if keep {
		outShape = keepShape
	}
	st := stridesOf(keepShape)
	n := tensor.Numel(keepShape)
	acc := make([]float64, n)
	cnt := make([]int, n)
	for i := range acc {
		acc[i] = init
	}
	idx := make([]int, len(d))
	for k, v := range x.Data() {
		r := k
		for a := len(d) - 1; a >= 0; a-- {
			idx[a] = r % d[a]
			r /= d[a]
		}
		o := 0
		for a := range d {
			if keepShape[a] != 1 || d[a] == 1 {
				o += idx[a] * st[a]
			}
		}
		acc[o] = f(acc[o], float64(v))
		cnt[o]++
	}
	for i := range acc {
		acc[i] = post(acc[i], cnt[i])
	}
	return acc, outShape
}

func TestReductions(t *testing.T) {
	rng := tensor.NewRNG(8)
	x := randDistinct(rng, 2, 3, 4)
	pos := tensor.AddScalar(tensor.Abs(randT(rng, 2, 3, 4)), 0.1)
	id := func(a float64, _ int) float64 { return a }
	sum := func(a, v float64) float64 { return a + v }
	var cases []opCase
	for _, r := range []struct {
		op   string
		x    *tensor.Tensor
		init float64
		f    func(a, v float64) float64
		post func(a float64, n int) float64
	}{
		{"ReduceSum", x, 0, sum, id},
		{"ReduceMean", x, 0, sum, func(a float64, n int) float64 { return a / float64(n) }},
		{"ReduceMax", x, math.Inf(-1), math.Max, id},
		{"ReduceMin", x, math.Inf(1), math.Min, id},
		{"ReduceProd", x, 1, func(a, v float64) float64 { return a * v }, id},
		{"ReduceL1", x, 0, func(a, v float64) float64 { return a + math.Abs(v) }, id},
		{"ReduceL2", x, 0, func(a, v float64) float64 { return a + v*v }, func(a float64, _ int) float64 { return math.Sqrt(a) }},
		{"ReduceSumSquare", x, 0, func(a, v float64) float64 { return a + v*v }, id},
		{"ReduceLogSum", pos, 0, sum, func(a float64, _ int) float64 { return math.Log(a) }},
		{"ReduceLogSumExp", x, 0, func(a, v float64) float64 { return a + math.Exp(v) }, func(a float64, _ int) float64 { return math.Log(a) }},
	} {
		for _, keep := range []bool{true, false} {
			want, shape := reduceRef(r.x, []int{0, 2}, keep, r.init, r.f, r.post)
			k := int64(0)
			if keep {
				k = 1
			}
			// Opset 17: ReduceSum takes the axes as an input, the others
			// as an attribute; opset 18 makes them all inputs.
			attrCase := opCase{name: r.op + "_attr", op: r.op, opset: 13, at: []*Attribute{tInts("axes", 0, -1), tInt("keepdims", k)}, in: []arg{F(r.x)}, want64: want, shape: shape, grad: true, tol: 1e-4}
			inCase := opCase{name: r.op + "_input", op: r.op, opset: 18, at: []*Attribute{tInt("keepdims", k)}, in: []arg{F(r.x), S(0, -1)}, want64: want, shape: shape, grad: true, tol: 1e-4}
			if r.op == "ReduceSum" {
				attrCase.opset = 11
			}
			if keep {
				attrCase.name += "_keepdims"
				inCase.name += "_keepdims"
			}
			cases = append(cases, attrCase, inCase)
		}
		all, _ := reduceRef(r.x, []int{0, 1, 2}, true, r.init, r.f, r.post)
		cases = append(cases, opCase{name: r.op + "_all", op: r.op, opset: 13, in: []arg{F(r.x)}, want64: all, shape: []int{1, 1, 1}, grad: true, tol: 1e-4})
	}
	cases = append(cases,
		opCase{name: "ReduceSum_noop", op: "ReduceSum", at: []*Attribute{tInt("noop_with_empty_axes", 1)}, in: []arg{F(x)}, want: x},
		opCase{name: "ReduceProd_int", op: "ReduceProd", opset: 13, at: []*Attribute{tInt("keepdims", 0)}, in: []arg{S(2, 3, 4)}, wantI: []int64{24}, shape: []int{}},
		opCase{name: "ArgMax", op: "ArgMax", at: []*Attribute{tInt("axis", 1), tInt("keepdims", 0)}, in: []arg{F(tens([]int{2, 3}, 1, 5, 5, 7, 2, 7))}, wantI: []int64{1, 0}, shape: []int{2}},
		opCase{name: "ArgMax_last", op: "ArgMax", at: []*Attribute{tInt("axis", 1), tInt("select_last_index", 1)}, in: []arg{F(tens([]int{2, 3}, 1, 5, 5, 7, 2, 7))}, wantI: []int64{2, 2}, shape: []int{2, 1}},
		opCase{name: "ArgMin", op: "ArgMin", in: []arg{F(tens([]int{2, 2}, 3, 1, 2, 4))}, wantI: []int64{1, 0}, shape: []int{1, 2}},
	)
	runCases(t, cases)
}

func TestLRN(t *testing.T) {
	rng := tensor.NewRNG(9)
	x := randT(rng, 1, 5, 2, 2)
	want := make([]float64, x.Len())
	for c := 0; c < 5; c++ {
		for p := 0; p < 4; p++ {
			var s float64
			for j := max(0, c-1); j <= min(4, c+1); j++ {
				v := float64(x.Data()[j*4+p])
				s += v * v
			}
			want[c*4+p] = float64(x.Data()[c*4+p]) / math.Pow(2+0.1/3*s, 0.75)
		}
	}
	runCases(t, []opCase{{op: "LRN", at: []*Attribute{tInt("size", 3), tFloat("alpha", 0.1), tFloat("bias", 2)}, in: []arg{F(x)}, want64: want, shape: x.Shape(), grad: true}})
}
