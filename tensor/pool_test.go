package tensor

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// poolGrid is the 4×4 grid used by the known-answer tests:
//
//	 1  5  2  0
//	 3  4  8  6
//	-1  0  7  9
//	 2 -3 10  4
func poolGrid() *Tensor {
	return MustFromSlice([]float32{
		1, 5, 2, 0,
		3, 4, 8, 6,
		-1, 0, 7, 9,
		2, -3, 10, 4,
	}, 1, 1, 4, 4)
}

func TestMaxPool2DKnownAnswers(t *testing.T) {
	y, arg := MaxPool2D(poolGrid(), PoolParams{KH: 2, KW: 2})
	wantData(t, y, []int{1, 1, 2, 2}, []float32{5, 8, 2, 10})
	if want := []int32{1, 6, 12, 14}; fmt.Sprint(arg) != fmt.Sprint(want) {
		t.Fatalf("argmax %v, want %v", arg, want)
	}
	// Backward sends each gradient to the winning position only.
	dx := MaxPool2DBackward(MustFromSlice([]float32{10, 20, 30, 40}, 1, 1, 2, 2), arg, []int{1, 1, 4, 4})
	wantData(t, dx, []int{1, 1, 4, 4}, []float32{
		0, 10, 0, 0,
		0, 0, 20, 0,
		0, 0, 0, 0,
		30, 0, 40, 0,
	})

	// 3×3 windows, stride 1, padding 1 (the generic path): each output is
	// the maximum of the 3×3 neighbourhood clipped to the grid. The 9 at
	// (2,3) wins two windows, so its gradient adds up.
	y, arg = MaxPool2D(poolGrid(), PoolParams{KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1})
	wantData(t, y, []int{1, 1, 4, 4}, []float32{
		5, 8, 8, 8,
		5, 8, 9, 9,
		4, 10, 10, 10,
		2, 10, 10, 10,
	})
	dx = MaxPool2DBackward(Ones(1, 1, 4, 4), arg, []int{1, 1, 4, 4})
	wantData(t, dx, []int{1, 1, 4, 4}, []float32{
		0, 2, 0, 0,
		0, 1, 4, 0,
		0, 0, 0, 2,
		1, 0, 6, 0,
	})
}

func TestMaxPool2DTiesAndNaN(t *testing.T) {
	x := MustFromSlice([]float32{3, 3, 3, 3, 1, float32(math.NaN()), 2, 0}, 1, 2, 2, 2)
	y, arg := MaxPool2D(x, PoolParams{KH: 2, KW: 2})
	if arg[0] != 0 || y.Data()[0] != 3 {
		t.Fatalf("tie: max %v at %d, want 3 at the first position 0", y.Data()[0], arg[0])
	}
	if !math.IsNaN(float64(y.Data()[1])) || arg[1] != 1 {
		t.Fatalf("NaN: max %v at %d, want NaN at 1", y.Data()[1], arg[1])
	}
}

// The general windows (3×3, stride 2, padded: ResNet's stem) keep the
// same rules: ties to the first position, a NaN wins at its own.
func TestMaxPool2DGeneralTiesAndNaN(t *testing.T) {
	x := RandN(NewRNG(9), 0, 1, 1, 2, 9, 11)
	for i, v := range x.Data() {
		x.Data()[i] = float32(math.Round(float64(v))) // many ties
	}
	p := PoolParams{KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}
	y, arg := MaxPool2D(x, p)
	ref, refArg := poolRef(x, p, true)
	closeTo(t, "ties", y.Data(), ref)
	if fmt.Sprint(arg) != fmt.Sprint(refArg) {
		t.Fatalf("ties: argmax %v, want %v", arg, refArg)
	}
	nan := float32(math.NaN())
	x.Data()[2*11+3], x.Data()[2*11+4] = nan, nan // row 2, columns 3 and 4
	y, arg = MaxPool2D(x, p)
	// Output (1, 2) covers rows 1–3 and columns 3–5: the first NaN, at 2·11+3.
	if o := 1*6 + 2; !math.IsNaN(float64(y.Data()[o])) || arg[o] != 2*11+3 {
		t.Fatalf("NaN: max %v at %d, want NaN at %d", y.Data()[o], arg[o], 2*11+3)
	}
}

// MaxPool2DValues (inference: no positions) gives MaxPool2D's values, on
// planes narrower and wider than the vector steps, with NaN in some
// planes (where the flat kernel hands over to the scalar loop) and ±Inf
// in others.
func TestMaxPool2DValuesMatchesMaxPool2D(t *testing.T) {
	nan := float32(math.NaN())
	for i, p := range []PoolParams{
		{KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1},
		{KH: 2, KW: 2},
		{KH: 2, KW: 3, StrideH: 1, StrideW: 2, PadW: 1},
		{KH: 5, KW: 5},
		{KH: 3, KW: 1, StrideH: 1, StrideW: 1, PadH: 1},
		{KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1},
		{KH: 3, KW: 3, StrideH: 3, StrideW: 3},
		{KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1},
		{KH: 4, KW: 4, StrideH: 2, StrideW: 2, PadH: 2, PadW: 2},
	} {
		h, w := 11, 13
		if i >= 5 {
			h, w = 40, 37
		}
		x := RandN(NewRNG(uint64(i+20)), 0, 1, 2, 3, h, w)
		for j, v := range x.Data() {
			x.Data()[j] = float32(math.Round(float64(v) * 2)) // ties, and zeros
		}
		x.Data()[5], x.Data()[h*w+60] = nan, nan
		x.Data()[2*h*w+7], x.Data()[3*h*w+9] = float32(math.Inf(1)), float32(math.Inf(-1))
		want, _ := MaxPool2D(x, p)
		got := MaxPool2DValues(x, p)
		if !SameShape(got.Shape(), want.Shape()) {
			t.Fatalf("case %d: shape %v, want %v", i, got.Shape(), want.Shape())
		}
		for j, w := range want.Data() {
			if g := got.Data()[j]; g != w && !(g != g && w != w) {
				t.Fatalf("case %d: [%d] = %v, want %v", i, j, g, w)
			}
		}
	}
}

func TestAvgPool2DKnownAnswers(t *testing.T) {
	y := AvgPool2D(poolGrid(), PoolParams{KH: 2, KW: 2})
	// (1+5+3+4)/4, (2+0+8+6)/4, (−1+0+2−3)/4, (7+9+10+4)/4
	wantData(t, y, []int{1, 1, 2, 2}, []float32{3.25, 4, -0.5, 7.5})
	dx := AvgPool2DBackward(MustFromSlice([]float32{4, 8, 12, 16}, 1, 1, 2, 2), []int{1, 1, 4, 4}, PoolParams{KH: 2, KW: 2})
	wantData(t, dx, []int{1, 1, 4, 4}, []float32{
		1, 1, 2, 2,
		1, 1, 2, 2,
		3, 3, 4, 4,
		3, 3, 4, 4,
	})
	// Padding is not counted: the corner window of a 3×3/stride-2/pad-1
	// pool covers only 1, 5, 3, 4 and averages those four.
	y = AvgPool2D(poolGrid(), PoolParams{KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1})
	wantData(t, y, []int{1, 1, 2, 2}, []float32{
		(1 + 5 + 3 + 4) / 4., (5 + 2 + 0 + 4 + 8 + 6) / 6.,
		(3 + 4 - 1 + 0 + 2 - 3) / 6., (4 + 8 + 6 + 0 + 7 + 9 - 3 + 10 + 4) / 9.,
	})
}

func TestGlobalAvgPool2D(t *testing.T) {
	x := Arange(0, 1, 2*3*2*2).Reshape(2, 3, 2, 2)
	y := GlobalAvgPool2D(x)
	wantData(t, y, []int{2, 3}, []float32{1.5, 5.5, 9.5, 13.5, 17.5, 21.5})
	dx := GlobalAvgPool2DBackward(MustFromSlice([]float32{4, 8, 0, 0, 0, -4}, 2, 3), x.Shape())
	wantData(t, dx, []int{2, 3, 2, 2}, []float32{1, 1, 1, 1, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1, -1, -1})
}

// poolRef pools directly in float64 and returns outputs and, for max,
// the winning positions.
func poolRef(x *Tensor, p PoolParams, isMax bool) ([]float64, []int32) {
	p = p.norm()
	n, c, h, w := x.Dim(0), x.Dim(1), x.Dim(2), x.Dim(3)
	oh, ow := ConvOutSize(h, p.KH, p.StrideH, p.PadH), ConvOutSize(w, p.KW, p.StrideW, p.PadW)
	var out []float64
	var arg []int32
	for i := 0; i < n*c; i++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				best, bi, sum, cnt := math.Inf(-1), -1, 0.0, 0
				for ky := 0; ky < p.KH; ky++ {
					for kx := 0; kx < p.KW; kx++ {
						iy, ix := oy*p.StrideH-p.PadH+ky, ox*p.StrideW-p.PadW+kx
						if iy < 0 || iy >= h || ix < 0 || ix >= w {
							continue
						}
						v := float64(x.At(i/c, i%c, iy, ix))
						sum += v
						cnt++
						if v > best {
							best, bi = v, iy*w+ix
						}
					}
				}
				if isMax {
					out = append(out, best)
					arg = append(arg, int32(bi))
				} else {
					out = append(out, sum/float64(cnt))
				}
			}
		}
	}
	return out, arg
}

func TestPoolMatchesDirect(t *testing.T) {
	for i, tc := range []struct {
		shape []int
		p     PoolParams
	}{
		{[]int{2, 3, 8, 8}, PoolParams{KH: 2, KW: 2}},
		{[]int{2, 3, 7, 9}, PoolParams{KH: 2, KW: 2}}, // odd sizes drop the last row/column
		{[]int{1, 2, 7, 7}, PoolParams{KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}},
		{[]int{3, 1, 6, 5}, PoolParams{KH: 2, KW: 3, StrideH: 1, StrideW: 2, PadW: 1}},
		{[]int{1, 1, 5, 5}, PoolParams{KH: 5, KW: 5}},
	} {
		x := RandN(NewRNG(uint64(i+1)), 0, 1, tc.shape...)
		y, arg := MaxPool2D(x, tc.p)
		ref, refArg := poolRef(x, tc.p, true)
		closeTo(t, fmt.Sprintf("case %d max", i), y.Data(), ref)
		if fmt.Sprint(arg) != fmt.Sprint(refArg) {
			t.Fatalf("case %d: argmax %v, want %v", i, arg, refArg)
		}
		ref, _ = poolRef(x, tc.p, false)
		closeTo(t, fmt.Sprintf("case %d avg", i), AvgPool2D(x, tc.p).Data(), ref)
	}
}

func TestPoolShapeErrors(t *testing.T) {
	for _, tc := range []struct {
		fn   func()
		want string
	}{
		{func() { MaxPool2D(New(784), PoolParams{KH: 2, KW: 2}) }, "input must be [batch, channels, height, width], got [784]"},
		{func() { MaxPool2D(New(1, 1, 4, 4), PoolParams{KH: 2, KW: 2, PadH: 2}) }, "more than half"},
		{func() { AvgPool2D(New(1, 1, 1, 4), PoolParams{KH: 2, KW: 2}) }, "smaller than the 2×2 window"},
		{func() { AvgPool2D(New(1, 1, 4, 4), PoolParams{}) }, "must be ≥ 1"},
		{func() { GlobalAvgPool2D(New(2, 3)) }, "got [2 3]"},
		{func() { MaxPool2DBackward(New(1, 1, 2, 2), make([]int32, 3), []int{1, 1, 4, 4}) }, "argmax has 3 entries"},
		{func() { AvgPool2DBackward(New(1, 1, 3, 3), []int{1, 1, 4, 4}, PoolParams{KH: 2, KW: 2}) }, "want [1 1 2 2]"},
	} {
		if err := Catch(tc.fn); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want it to contain %q", err, tc.want)
		}
	}
}

func ExampleMaxPool2D() {
	x := MustFromSlice([]float32{
		1, 5, 2, 0,
		3, 4, 8, 6,
		-1, 0, 7, 9,
		2, -3, 10, 4,
	}, 1, 1, 4, 4)
	y, argmax := MaxPool2D(x, PoolParams{KH: 2, KW: 2})
	fmt.Println(y.Data(), argmax)
	// Output: [5 8 2 10] [1 6 12 14]
}

func BenchmarkMaxPool2D(b *testing.B) {
	x := RandN(NewRNG(1), 0, 1, 128, 32, 32, 32)
	dy := New(128, 32, 16, 16)
	for i := 0; i < b.N; i++ {
		_, arg := MaxPool2D(x, PoolParams{KH: 2, KW: 2})
		MaxPool2DBackward(dy, arg, x.Shape())
	}
}

// TestMaxPool2x2KernelMatchesGo checks the vector 2×2 pooling against the
// Go loop bit for bit (values and positions) on planes whose widths cover
// full 16-output steps, a masked tail and both, odd input widths (a last
// column no window uses), ties, signed zeros and, in some planes, a NaN.
func TestMaxPool2x2KernelMatchesGo(t *testing.T) {
	rng := NewRNG(3)
	for _, ow := range []int{1, 5, 14, 16, 17, 33} {
		for _, extra := range []int{0, 1} {
			for _, special := range []string{"random", "ties", "zeros", "nan"} {
				oh, w := 3, 2*ow+extra
				in := RandN(rng, 0, 1, 2*oh+extra, w).Data()
				switch special {
				case "ties":
					for i := range in {
						in[i] = float32(int(in[i] * 2))
					}
				case "zeros":
					for i := range in {
						if i%3 == 0 {
							in[i] = float32(math.Copysign(0, float64(in[i])))
						} else {
							in[i] = -1
						}
					}
				case "nan":
					in[len(in)/2] = float32(math.NaN())
				}
				got, gotArg := make([]float32, oh*ow), make([]int32, oh*ow)
				want, wantArg := make([]float32, oh*ow), make([]int32, oh*ow)
				maxPool2x2(got, gotArg, in, w, oh, ow)
				maxPool2x2Go(want, wantArg, in, w, oh, ow)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) || gotArg[i] != wantArg[i] {
						t.Fatalf("ow %d w %d %s: output %d = %v at %d, want %v at %d", ow, w, special, i, got[i], gotArg[i], want[i], wantArg[i])
					}
				}
			}
		}
	}
}

// TestMaxPool2DBackwardWindowsMatchesScatter checks that the 2×2 windowed
// backward (a vector kernel with AVX-512) gives exactly the generic
// scatter's gradient, for planes with odd sizes (a last row and column no
// window covers), widths with and without a masked tail, and ties.
func TestMaxPool2DBackwardWindowsMatchesScatter(t *testing.T) {
	rng := NewRNG(9)
	for _, hw := range [][2]int{{4, 4}, {5, 7}, {28, 28}, {10, 66}, {3, 35}} {
		x := RandN(rng, 0, 1, 2, 3, hw[0], hw[1])
		for i, v := range x.Data() {
			if i%5 == 0 {
				x.Data()[i] = float32(int(v))
			}
		}
		p := PoolParams{KH: 2, KW: 2}
		y, arg := MaxPool2D(x, p)
		dy := RandN(rng, 0, 1, y.Shape()...)
		got := MaxPool2DBackwardWindows(dy, arg, x.Shape(), p)
		want := MaxPool2DBackward(dy, arg, x.Shape())
		if !bitsEqual(got.Data(), want.Data()) {
			t.Fatalf("%v: windowed backward differs from the scatter", hw)
		}
	}
}

// TestMaxPoolValuesRandomShapes: MaxPool2DValues (the flat layout) gives
// MaxPool2D's values on random windows, strides and paddings (up to half
// the window) over planes from one pixel wide.
func TestMaxPoolValuesRandomShapes(t *testing.T) {
	rng := NewRNG(78)
	pick := func(lo, hi int) int { return lo + int(rng.Uint64()%uint64(hi-lo+1)) }
	for i := 0; i < 200; i++ {
		p := PoolParams{KH: pick(1, 5), KW: pick(1, 5), StrideH: pick(1, 3), StrideW: pick(1, 3)}
		p.PadH, p.PadW = pick(0, p.KH/2), pick(0, p.KW/2)
		h, w := pick(max(1, p.KH-2*p.PadH), 20), pick(max(1, p.KW-2*p.PadW), 40)
		x := RandN(NewRNG(uint64(2000+i)), 0, 1, pick(1, 2), pick(1, 4), h, w)
		want, _ := MaxPool2D(x, p)
		got := MaxPool2DValues(x, p)
		if !SameShape(got.Shape(), want.Shape()) || !bitsEqual(got.Data(), want.Data()) {
			t.Fatalf("case %d %+v on %v: MaxPool2DValues differs from MaxPool2D", i, p, x.Shape())
		}
	}
}

// TestGlobalAvgPool2DPlanes checks the four-way plane sums against a plain
// float64 sum on planes of every remainder (1, 3, 7×7, 14×14, 5×5).
func TestGlobalAvgPool2DPlanes(t *testing.T) {
	rng := NewRNG(9)
	for _, hw := range [][2]int{{1, 1}, {1, 3}, {7, 7}, {14, 14}, {5, 5}} {
		x := RandN(rng, 0, 3, 2, 3, hw[0], hw[1])
		y := GlobalAvgPool2D(x)
		n := hw[0] * hw[1]
		for pl := 0; pl < 6; pl++ {
			var s float64
			for _, v := range x.Data()[pl*n : (pl+1)*n] {
				s += float64(v)
			}
			want := s / float64(n)
			if d := math.Abs(float64(y.Data()[pl]) - want); d > 1e-6*(1+math.Abs(want)) {
				t.Fatalf("%v plane %d: %v, want %v", hw, pl, y.Data()[pl], want)
			}
		}
	}
}
