package onnx

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/tensor"
)

func TestResize(t *testing.T) {
	x := tens([]int{1, 1, 2, 2}, 1, 2, 3, 4)
	rng := tensor.NewRNG(20)
	r := randT(rng, 1, 2, 3, 4)
	// Bilinear, half_pixel, ×2 along the last axis of [1 2] rows: the
	// positions (o+0.5)/2−0.5 = −0.25, 0.25, 0.75, 1.25 clamp at the edges.
	lin := func(a, b float32) []float32 { return []float32{a, 0.75*a + 0.25*b, 0.25*a + 0.75*b, b} }
	row1, row2 := lin(1, 2), lin(3, 4)
	runCases(t, []opCase{
		{name: "nearest_scales", op: "Resize", in: []arg{F(x), omitted(), K(vec(1, 1, 2, 3))},
			want: tens([]int{1, 1, 4, 6}, 1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4), grad: true},
		{name: "linear_half_pixel", op: "Resize", at: []*Attribute{tStr("mode", "linear")}, in: []arg{F(x), omitted(), K(vec(1, 1, 1, 2))},
			want: tens([]int{1, 1, 2, 4}, append(row1, row2...)...), grad: true},
		{name: "linear_align_corners_sizes", op: "Resize", at: []*Attribute{tStr("mode", "linear"), tStr("coordinate_transformation_mode", "align_corners")},
			in: []arg{F(x), omitted(), omitted(), S(1, 1, 3, 3)}, want: tens([]int{1, 1, 3, 3}, 1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4), grad: true},
		{name: "cubic_downsample", op: "Resize", at: []*Attribute{tStr("mode", "cubic")}, in: []arg{F(r), omitted(), K(vec(1, 1, 0.7, 0.6))},
			want64: resizeRef(r, []float64{1, 1, 0.7, 0.6}, "cubic"), shape: []int{1, 2, 2, 2}, grad: true, tol: 1e-4},
		{name: "linear_downsample", op: "Resize", at: []*Attribute{tStr("mode", "linear")}, in: []arg{F(r), omitted(), K(vec(1, 1, 0.7, 0.6))},
			want64: resizeRef(r, []float64{1, 1, 0.7, 0.6}, "linear"), shape: []int{1, 2, 2, 2}, grad: true, tol: 1e-4},
		{name: "Upsample_opset9", op: "Upsample", opset: 9, in: []arg{F(x), K(vec(1, 1, 2, 2))},
			want: tens([]int{1, 1, 4, 4}, 1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4), grad: true},
		{name: "Upsample_opset7_attr", op: "Upsample", opset: 7, at: []*Attribute{tFloats("scales", 1, 1, 1, 2)}, in: []arg{F(x)},
			want: tens([]int{1, 1, 2, 4}, 1, 1, 2, 2, 3, 3, 4, 4)},
		{name: "Resize_opset10_linear", op: "Resize", opset: 10, at: []*Attribute{tStr("mode", "linear")}, in: []arg{F(x), K(vec(1, 1, 1, 2))},
			want: tens([]int{1, 1, 2, 4}, 1, 1.5, 2, 2, 3, 3.5, 4, 4)},
	})
}

// resizeRef is separable half_pixel interpolation written from the
// formula: taps around (o+0.5)/s − 0.5 with edge clamping.
func resizeRef(x *tensor.Tensor, scales []float64, mode string) []float64 {
	d := x.Shape()
	out := f64s(x)
	shape := append([]int(nil), d...)
	for a := range d {
		if scales[a] == 1 {
			continue
		}
		n := int(float64(shape[a]) * scales[a])
		inner := 1
		for _, s := range shape[a+1:] {
			inner *= s
		}
		outer := len(out) / (shape[a] * inner)
		next := make([]float64, outer*n*inner)
		for o := 0; o < outer; o++ {
			for p := 0; p < n; p++ {
				xs := (float64(p)+0.5)/scales[a] - 0.5
				i0 := math.Floor(xs)
				t := xs - i0
				var taps []int
				var w []float64
				if mode == "linear" {
					taps, w = []int{int(i0), int(i0) + 1}, []float64{1 - t, t}
				} else {
					A := -0.75
					cub := func(z float64) float64 {
						z = math.Abs(z)
						if z <= 1 {
							return ((A+2)*z-(A+3))*z*z + 1
						}
						if z < 2 {
							return ((A*z-5*A)*z+8*A)*z - 4*A
						}
						return 0
					}
					for j := -1; j <= 2; j++ {
						taps = append(taps, int(i0)+j)
						w = append(w, cub(xs-(i0+float64(j))))
					}
				}
				for i := 0; i < inner; i++ {
					var s float64
					for j, tp := range taps {
						tp = min(max(tp, 0), shape[a]-1)
						s += w[j] * out[(o*shape[a]+tp)*inner+i]
					}
					next[(o*n+p)*inner+i] = s
				}
			}
		}
		out = next
		shape[a] = n
	}
	return out
}

func TestLosses(t *testing.T) {
	rng := tensor.NewRNG(21)
	in := randT(rng, 3, 4, 2) // [N, C, d]
	target := []int64{0, 3, 1, 1, 2, 0}
	w := tensor.AddScalar(tensor.Abs(randT(rng, 4)), 0.1)
	nll := func(x []float64, weighted bool, ignore int64, red string) []float64 {
		var loss []float64
		var sum, den float64
		for n := 0; n < 3; n++ {
			for d := 0; d < 2; d++ {
				tg := target[n*2+d]
				if tg == ignore {
					loss = append(loss, 0)
					continue
				}
				wt := 1.0
				if weighted {
					wt = float64(w.Data()[tg])
				}
				l := -x[(n*4+int(tg))*2+d] * wt
				loss = append(loss, l)
				sum += l
				den += wt
			}
		}
		switch red {
		case "sum":
			return []float64{sum}
		case "mean":
			return []float64{sum / den}
		}
		return loss
	}
	x := f64s(in)
	// log-softmax over the classes (axis 1) for the cross-entropy.
	logp := make([]float64, len(x))
	for n := 0; n < 3; n++ {
		for d := 0; d < 2; d++ {
			var m float64 = math.Inf(-1)
			for c := 0; c < 4; c++ {
				m = math.Max(m, x[(n*4+c)*2+d])
			}
			var s float64
			for c := 0; c < 4; c++ {
				s += math.Exp(x[(n*4+c)*2+d] - m)
			}
			for c := 0; c < 4; c++ {
				logp[(n*4+c)*2+d] = x[(n*4+c)*2+d] - m - math.Log(s)
			}
		}
	}
	tg := I([]int{3, 2}, target...)
	runCases(t, []opCase{
		{name: "NLL_mean", op: "NegativeLogLikelihoodLoss", in: []arg{F(in), tg}, want64: nll(x, false, -100, "mean"), shape: []int{}, grad: true},
		{name: "NLL_none_weight_ignore", op: "NegativeLogLikelihoodLoss", at: []*Attribute{tStr("reduction", "none"), tInt("ignore_index", 1)}, in: []arg{F(in), tg, F(w)}, want64: nll(x, true, 1, "none"), shape: []int{3, 2}, grad: true},
		{name: "NLL_sum_weight", op: "NegativeLogLikelihoodLoss", at: []*Attribute{tStr("reduction", "sum")}, in: []arg{F(in), tg, F(w)}, want64: nll(x, true, -100, "sum"), shape: []int{}, grad: true},
		{name: "NLL_mean_weight_ignore", op: "NegativeLogLikelihoodLoss", at: []*Attribute{tInt("ignore_index", 0)}, in: []arg{F(in), tg, F(w)}, want64: nll(x, true, 0, "mean"), shape: []int{}, grad: true},
		{name: "SoftmaxCrossEntropy", op: "SoftmaxCrossEntropyLoss", outs: 2, in: []arg{F(in), tg}, want64: nll(logp, false, -100, "mean"), shape: []int{}, grad: true},
		{name: "SoftmaxCrossEntropy_weight_none", op: "SoftmaxCrossEntropyLoss", at: []*Attribute{tStr("reduction", "none")}, in: []arg{F(in), tg, F(w)}, want64: nll(logp, true, -100, "none"), shape: []int{3, 2}, grad: true},
	})
}

func TestIndexOps(t *testing.T) {
	m := tens([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	runCases(t, []opCase{
		{name: "CumSum", op: "CumSum", in: []arg{F(m), scalarI(1)}, want: tens([]int{2, 3}, 1, 3, 6, 4, 9, 15), grad: true},
		{name: "CumSum_exclusive_reverse", op: "CumSum", at: []*Attribute{tInt("exclusive", 1), tInt("reverse", 1)}, in: []arg{F(m), scalarI(0)}, want: tens([]int{2, 3}, 4, 5, 6, 0, 0, 0), grad: true},
		{name: "CumSum_int", op: "CumSum", in: []arg{S(1, 2, 3), scalarI(0)}, wantI: []int64{1, 3, 6}, shape: []int{3}},
		{name: "TopK_values", op: "TopK", outs: 2, in: []arg{F(tens([]int{2, 4}, 3, 1, 4, 2, 8, 5, 7, 6)), S(2)}, want: tens([]int{2, 2}, 4, 3, 8, 7), grad: true},
		{name: "TopK_smallest_axis0", op: "TopK", opset: 11, outs: 2, at: []*Attribute{tInt("axis", 0), tInt("largest", 0)}, in: []arg{F(tens([]int{3, 2}, 3, 1, 2, 5, 4, 0)), S(2)}, want: tens([]int{2, 2}, 2, 0, 3, 1), grad: true},
		{name: "OneHot", op: "OneHot", in: []arg{S(0, 2, -1), K(tensor.Scalar(3)), F(vec(0.5, 2))}, want: tens([]int{3, 3}, 2, 0.5, 0.5, 0.5, 0.5, 2, 0.5, 0.5, 2), grad: true},
		{name: "OneHot_axis0_int", op: "OneHot", at: []*Attribute{tInt("axis", 0)}, in: []arg{S(1, 0), scalarI(2), S(0, 1)}, wantI: []int64{0, 1, 1, 0}, shape: []int{2, 2}},
		{name: "GatherND", op: "GatherND", in: []arg{F(m), I([]int{2, 2}, 1, 2, 0, 1)}, want: vec(6, 2), grad: true},
		{name: "GatherND_slices_batch", op: "GatherND", at: []*Attribute{tInt("batch_dims", 1)}, in: []arg{F(tensor.Arange(0, 1, 12).Reshape(2, 3, 2)), I([]int{2, 1}, 2, 0)}, want: tens([]int{2, 2}, 4, 5, 6, 7), grad: true},
		{name: "ScatterElements", op: "ScatterElements", at: []*Attribute{tInt("axis", 1)}, in: []arg{F(m), I([]int{1, 2}, 2, 0), F(tens([]int{1, 2}, 10, 20))}, want: tens([]int{2, 3}, 20, 2, 10, 4, 5, 6), grad: true},
		{name: "ScatterElements_add", op: "ScatterElements", at: []*Attribute{tStr("reduction", "add")}, in: []arg{F(m), I([]int{2, 1}, 1, 1), F(tens([]int{2, 1}, 10, 20))}, want: tens([]int{2, 3}, 1, 2, 3, 34, 5, 6), grad: true},
		{name: "Scatter_opset9", op: "Scatter", opset: 9, in: []arg{F(m), I([]int{1, 3}, 1, 0, 1), F(tens([]int{1, 3}, 7, 8, 9))}, want: tens([]int{2, 3}, 1, 8, 3, 7, 5, 9), grad: true},
		{name: "ScatterND", op: "ScatterND", in: []arg{F(m), I([]int{1, 1}, 1), F(tens([]int{1, 3}, 7, 8, 9))}, want: tens([]int{2, 3}, 1, 2, 3, 7, 8, 9), grad: true},
		{name: "ReverseSequence", op: "ReverseSequence", at: []*Attribute{tInt("batch_axis", 0), tInt("time_axis", 1)}, in: []arg{F(m), S(2, 3)}, want: tens([]int{2, 3}, 2, 1, 3, 6, 5, 4), grad: true},
		{name: "NonZero", op: "NonZero", in: []arg{F(tens([]int{2, 2}, 1, 0, 0, 3))}, wantI: []int64{0, 1, 0, 1}, shape: []int{2, 2}},
		{name: "Compress", op: "Compress", at: []*Attribute{tInt("axis", 1)}, in: []arg{F(m), S(1, 0, 1)}, want: tens([]int{2, 2}, 1, 3, 4, 6), grad: true},
		{name: "Compress_flat", op: "Compress", in: []arg{F(m), S(0, 1, 0, 0, 1)}, want: vec(2, 5), grad: true},
		{name: "BitShift", op: "BitShift", at: []*Attribute{tStr("direction", "LEFT")}, in: []arg{S(1, 3), S(2, 1)}, wantI: []int64{4, 6}, shape: []int{2}},
		{name: "DequantizeLinear", op: "DequantizeLinear", in: []arg{arg{ints: []int64{0, 3, 128, 255}, shape: []int{4}, dt: Uint8}, scalarF(0.5), arg{ints: []int64{128}, shape: []int{}, dt: Uint8}}, want: vec(-64, -62.5, 0, 63.5)},
		{name: "QuantizeLinear", op: "QuantizeLinear", in: []arg{F(vec(-100, -1, 0.3, 1.25, 200)), scalarF(0.5), arg{ints: []int64{128}, shape: []int{}, dt: Uint8}}, wantI: []int64{0, 126, 129, 130, 255}, shape: []int{5}},
	})
	// MeanVarianceNormalization: (x − mean)/(std + 1e-9) over axes 0, 2, 3.
	x := randT(tensor.NewRNG(22), 2, 2, 2, 1)
	want := make([]float64, x.Len())
	for c := 0; c < 2; c++ {
		var s, q float64
		var idx []int
		for n := 0; n < 2; n++ {
			for h := 0; h < 2; h++ {
				i := (n*2+c)*2 + h
				idx = append(idx, i)
				s += float64(x.Data()[i])
				q += float64(x.Data()[i]) * float64(x.Data()[i])
			}
		}
		mean := s / 4
		sd := math.Sqrt(q/4 - mean*mean)
		for _, i := range idx {
			want[i] = (float64(x.Data()[i]) - mean) / (sd + 1e-9)
		}
	}
	runCases(t, []opCase{{op: "MeanVarianceNormalization", in: []arg{F(x)}, want64: want, shape: x.Shape(), grad: true, tol: 1e-4}})
}

// einsumRef evaluates an explicit equation over letters by brute force.
func einsumRef(eq string, xs ...*tensor.Tensor) ([]float64, []int) {
	lhs, rhs, _ := strings.Cut(eq, "->")
	terms := strings.Split(lhs, ",")
	size := map[rune]int{}
	var letters []rune
	for i, t := range terms {
		for j, r := range t {
			size[r] = xs[i].Dim(j)
			if !slices.Contains(letters, r) {
				letters = append(letters, r)
			}
		}
	}
	var shape []int
	for _, r := range rhs {
		shape = append(shape, size[r])
	}
	out := make([]float64, tensor.Numel(shape))
	idx := map[rune]int{}
	var rec func(k int)
	rec = func(k int) {
		if k == len(letters) {
			p := 1.0
			for i, t := range terms {
				var ix []int
				for _, r := range t {
					ix = append(ix, idx[r])
				}
				p *= float64(xs[i].At(ix...))
			}
			o := 0
			for _, r := range rhs {
				o = o*size[r] + idx[r]
			}
			out[o] += p
			return
		}
		for v := 0; v < size[letters[k]]; v++ {
			idx[letters[k]] = v
			rec(k + 1)
		}
	}
	rec(0)
	return out, orEmpty(shape)
}

func TestEinsum(t *testing.T) {
	rng := tensor.NewRNG(23)
	a, b := randT(rng, 2, 3, 4), randT(rng, 2, 4, 5)
	sq := randT(rng, 3, 3)
	v, w := randT(rng, 4), randT(rng, 4)
	c3 := randT(rng, 3, 4, 2)
	var cases []opCase
	for _, c := range []struct {
		eq string
		xs []*tensor.Tensor
	}{
		{"bij,bjk->bik", []*tensor.Tensor{a, b}},
		{"ii->i", []*tensor.Tensor{sq}},
		{"ii->", []*tensor.Tensor{sq}},
		{"i,i->", []*tensor.Tensor{v, w}},
		{"i,j->ij", []*tensor.Tensor{v, w}},
		{"bij->jbi", []*tensor.Tensor{a}},
		{"bij->b", []*tensor.Tensor{a}},
		{"ijk,jkl,bjl->ib", []*tensor.Tensor{c3, randT(rng, 4, 2, 3), randT(rng, 2, 4, 3)}},
	} {
		want, shape := einsumRef(c.eq, c.xs...)
		var in []arg
		for _, x := range c.xs {
			in = append(in, F(x))
		}
		cases = append(cases, opCase{name: c.eq, op: "Einsum", at: []*Attribute{tStr("equation", c.eq)}, in: in, want64: want, shape: shape, grad: true, tol: 1e-4})
	}
	// Implicit output (alphabetical single subscripts) and an ellipsis.
	want, shape := einsumRef("bij,bjk->bik", a, b)
	cases = append(cases,
		opCase{name: "implicit", op: "Einsum", at: []*Attribute{tStr("equation", "ij,jk")}, in: []arg{F(a.Slice(0, 0, 1).Reshape(3, 4)), F(b.Slice(0, 0, 1).Reshape(4, 5))}, want64: want[:15], shape: []int{3, 5}, grad: true, tol: 1e-4},
		opCase{name: "ellipsis", op: "Einsum", at: []*Attribute{tStr("equation", "...ij,...jk->...ik")}, in: []arg{F(a), F(b)}, want64: want, shape: shape, grad: true, tol: 1e-4},
	)
	runCases(t, cases)
}
