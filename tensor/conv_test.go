package tensor

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/tensor/internal/kern"
)

// convRef is a direct (seven nested loops) float64 convolution: the
// definition Conv2D must match.
func convRef(x, w, b *Tensor, p ConvParams) []float64 {
	p = p.norm()
	n, c, h, wd := x.Dim(0), x.Dim(1), x.Dim(2), x.Dim(3)
	o, cg, kh, kw := w.Dim(0), w.Dim(1), w.Dim(2), w.Dim(3)
	og := o / p.Groups
	oh, ow := ConvOutSize(h, kh, p.StrideH, p.PadH), ConvOutSize(wd, kw, p.StrideW, p.PadW)
	out := make([]float64, n*o*oh*ow)
	for i := 0; i < n; i++ {
		for oc := 0; oc < o; oc++ {
			g := oc / og
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					var s float64
					if b != nil {
						s = float64(b.At(oc))
					}
					for ci := 0; ci < cg; ci++ {
						for ki := 0; ki < kh; ki++ {
							for kj := 0; kj < kw; kj++ {
								iy, ix := oy*p.StrideH-p.PadH+ki, ox*p.StrideW-p.PadW+kj
								if iy < 0 || iy >= h || ix < 0 || ix >= wd {
									continue
								}
								s += float64(x.At(i, g*cg+ci, iy, ix)) * float64(w.At(oc, ci, ki, kj))
							}
						}
					}
					out[((i*o+oc)*oh+oy)*ow+ox] = s
				}
			}
		}
	}
	_ = c
	return out
}

// convRefBackward differentiates convRef directly: every product term
// x·w of the forward sum sends dy·w to x and dy·x to w.
func convRefBackward(x, w, dy *Tensor, p ConvParams) (dx, dw, db []float64) {
	p = p.norm()
	n, c, h, wd := x.Dim(0), x.Dim(1), x.Dim(2), x.Dim(3)
	o, cg, kh, kw := w.Dim(0), w.Dim(1), w.Dim(2), w.Dim(3)
	og := o / p.Groups
	oh, ow := dy.Dim(2), dy.Dim(3)
	dx = make([]float64, n*c*h*wd)
	dw = make([]float64, w.Len())
	db = make([]float64, o)
	for i := 0; i < n; i++ {
		for oc := 0; oc < o; oc++ {
			g := oc / og
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					gy := float64(dy.At(i, oc, oy, ox))
					db[oc] += gy
					for ci := 0; ci < cg; ci++ {
						for ki := 0; ki < kh; ki++ {
							for kj := 0; kj < kw; kj++ {
								iy, ix := oy*p.StrideH-p.PadH+ki, ox*p.StrideW-p.PadW+kj
								if iy < 0 || iy >= h || ix < 0 || ix >= wd {
									continue
								}
								dx[((i*c+g*cg+ci)*h+iy)*wd+ix] += gy * float64(w.At(oc, ci, ki, kj))
								dw[((oc*cg+ci)*kh+ki)*kw+kj] += gy * float64(x.At(i, g*cg+ci, iy, ix))
							}
						}
					}
				}
			}
		}
	}
	return dx, dw, db
}

// closeTo checks float32 results against a float64 reference with a
// tolerance scaled by the reference's magnitude.
func closeTo(t *testing.T, what string, got []float32, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	var scale float64
	for _, v := range want {
		scale = math.Max(scale, math.Abs(v))
	}
	for i := range want {
		if d := math.Abs(float64(got[i]) - want[i]); d > 1e-5*(1+scale) || math.IsNaN(float64(got[i])) {
			t.Fatalf("%s[%d] = %v, want %v (|diff| %.3g)", what, i, got[i], want[i], d)
		}
	}
}

func TestConv2DKnownAnswers(t *testing.T) {
	// x[i][j] = 4i + j + 1 on a 4×4 grid.
	x := Arange(1, 1, 16).Reshape(1, 1, 4, 4)
	// A 3×3 box filter with bias 1: each output is the sum of a 3×3 window
	// plus one. Windows: 1+2+3+5+6+7+9+10+11 = 54, then +9 per column step
	// and +36 per row step.
	y := Conv2D(x, Ones(1, 1, 3, 3), MustFromSlice([]float32{1}, 1), ConvParams{})
	wantData(t, y, []int{1, 1, 2, 2}, []float32{55, 64, 91, 100})

	// The same box with padding 1 and stride 2 sees the corner windows
	// 1+2+5+6 = 14 and 2+3+4+6+7+8 = 30, 5+6+9+10+13+14 = 57, and
	// 6+7+8+10+11+12+14+15+16 = 99.
	y = Conv2D(x, Ones(1, 1, 3, 3), nil, ConvParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1})
	wantData(t, y, []int{1, 1, 2, 2}, []float32{14, 30, 57, 99})

	// Sobel-x is a horizontal derivative: on a ramp rising by 1 per column
	// it gives (1+2+1)·(x[j−1] − x[j+1]) = 4·(−2) = −8 everywhere.
	sobel := MustFromSlice([]float32{1, 0, -1, 2, 0, -2, 1, 0, -1}, 1, 1, 3, 3)
	wantData(t, Conv2D(x, sobel, nil, ConvParams{}), []int{1, 1, 2, 2}, []float32{-8, -8, -8, -8})
}

func TestConv2DEdgeDetector(t *testing.T) {
	// A 6×6 image, dark on the left three columns and bright on the right:
	// Sobel-x fires (−4 = −(1+2+1)) only where its window straddles the
	// edge, i.e. at output columns 1 and 2 of every row, and is 0 on flat
	// regions.
	img := New(1, 1, 6, 6)
	for i := 0; i < 6; i++ {
		for j := 3; j < 6; j++ {
			img.Set(1, 0, 0, i, j)
		}
	}
	sobel := MustFromSlice([]float32{1, 0, -1, 2, 0, -2, 1, 0, -1}, 1, 1, 3, 3)
	y := Conv2D(img, sobel, nil, ConvParams{})
	row := []float32{0, -4, -4, 0}
	wantData(t, y, []int{1, 1, 4, 4}, append(append(append(append([]float32{}, row...), row...), row...), row...))
	// The transposed kernel (Sobel-y) sees no horizontal edge.
	y = Conv2D(img, sobel.Reshape(3, 3).Transpose().Reshape(1, 1, 3, 3), nil, ConvParams{})
	wantData(t, y, []int{1, 1, 4, 4}, make([]float32, 16))
}

type convCase struct {
	name          string
	n, c, h, w, o int
	kh, kw        int
	p             ConvParams
	bias          bool
}

var convCases = []convCase{
	{"3x3 same", 2, 3, 7, 6, 4, 3, 3, ConvParams{PadH: 1, PadW: 1}, true},
	{"stride2 pad1", 3, 2, 9, 8, 5, 3, 3, ConvParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}, true},
	{"non-square kernel", 2, 3, 7, 9, 2, 2, 5, ConvParams{StrideH: 2, StrideW: 1, PadH: 0, PadW: 2}, false},
	{"groups2", 3, 4, 6, 5, 6, 3, 3, ConvParams{PadH: 1, PadW: 1, Groups: 2}, true},
	{"depthwise", 2, 3, 5, 5, 3, 3, 3, ConvParams{Groups: 3}, true},
	{"1x1", 3, 5, 4, 3, 7, 1, 1, ConvParams{}, true},
	{"1x1 groups", 2, 4, 3, 3, 6, 1, 1, ConvParams{Groups: 2}, false},
	{"1x1 stride2", 2, 3, 5, 5, 4, 1, 1, ConvParams{StrideH: 2, StrideW: 2}, true},
	// Strided 1×1 forwards take their pixels out first (subsampled): an
	// even width, and strides other than 2.
	{"1x1 stride2 even width", 1, 8, 9, 12, 40, 1, 1, ConvParams{StrideH: 2, StrideW: 2}, true},
	{"1x1 stride 3x1", 2, 3, 7, 5, 6, 1, 1, ConvParams{StrideH: 3, StrideW: 1}, false},
	{"single image", 1, 2, 6, 6, 3, 3, 3, ConvParams{PadH: 2, PadW: 1, StrideW: 3}, true},
	{"wide pad", 1, 1, 3, 3, 2, 3, 3, ConvParams{PadH: 2, PadW: 2}, true},
	{"many small images", 40, 2, 5, 4, 3, 3, 2, ConvParams{PadH: 1}, true},
	{"16 filters", 5, 2, 6, 6, 16, 3, 3, ConvParams{PadH: 1, PadW: 1}, true},
	{"groups few taps", 3, 2, 5, 5, 8, 1, 2, ConvParams{PadW: 1, Groups: 2}, true},
	{"many images", 19, 2, 5, 4, 3, 2, 2, ConvParams{StrideH: 1, StrideW: 2, PadW: 1}, true},
	// Padding wider than kernel−1: the input gradient cannot be the
	// flipped convolution, so it goes through col2im.
	{"pad beyond kernel", 3, 2, 4, 5, 3, 2, 2, ConvParams{PadH: 2, PadW: 1}, true},
	// Rows that fill 32-column tiles: with AVX-512 the forward writes them
	// in place (rowOut); LeNet's first layer, and a partial tile of rows.
	{"lenet first layer", 3, 1, 28, 28, 6, 5, 5, ConvParams{PadH: 2, PadW: 2}, true},
	{"32-wide rows", 2, 2, 4, 32, 7, 3, 3, ConvParams{PadH: 1, PadW: 1}, false},
	// Filters large enough for their packing to be shared out over the
	// cores (og·c·kh·kw ≥ 2^16), as ResNet's are.
	{"many channels", 2, 64, 6, 5, 128, 3, 3, ConvParams{PadH: 1, PadW: 1}, true},
	// One image: its output rows (and its input gradient's) are spread
	// over the cores.
	{"one image rows", 1, 3, 28, 28, 8, 5, 5, ConvParams{PadH: 2, PadW: 2}, true},
	{"one image 32-wide", 1, 2, 9, 32, 13, 3, 3, ConvParams{PadH: 1, PadW: 1}, true},
}

func (tc convCase) tensors(seed uint64) (x, w, b *Tensor) {
	rng := NewRNG(seed)
	x = RandN(rng, 0, 1, tc.n, tc.c, tc.h, tc.w)
	g := max(tc.p.Groups, 1)
	w = RandN(rng, 0, 1, tc.o, tc.c/g, tc.kh, tc.kw)
	if tc.bias {
		b = RandN(rng, 0, 1, tc.o)
	}
	return x, w, b
}

func TestConv2DMatchesDirect(t *testing.T) {
	for i, tc := range convCases {
		t.Run(tc.name, func(t *testing.T) {
			x, w, b := tc.tensors(uint64(i + 1))
			y := Conv2D(x, w, b, tc.p)
			p := tc.p.norm()
			wantShape := []int{tc.n, tc.o, ConvOutSize(tc.h, tc.kh, p.StrideH, p.PadH), ConvOutSize(tc.w, tc.kw, p.StrideW, p.PadW)}
			if !SameShape(y.Shape(), wantShape) {
				t.Fatalf("shape %v, want %v", y.Shape(), wantShape)
			}
			closeTo(t, "y", y.Data(), convRef(x, w, b, tc.p))
		})
	}
}

func TestConv2DBackwardMatchesDirect(t *testing.T) {
	for i, tc := range convCases {
		t.Run(tc.name, func(t *testing.T) {
			x, w, b := tc.tensors(uint64(i + 100))
			y := Conv2D(x, w, b, tc.p)
			dy := RandN(NewRNG(uint64(i+200)), 0, 1, y.Shape()...)
			dx, dw, db := Conv2DBackward(x, w, dy, tc.p, true)
			rx, rw, rb := convRefBackward(x, w, dy, tc.p)
			closeTo(t, "dx", dx.Data(), rx)
			closeTo(t, "dw", dw.Data(), rw)
			closeTo(t, "db", db.Data(), rb)
			if !SameShape(dx.Shape(), x.Shape()) || !SameShape(dw.Shape(), w.Shape()) || !SameShape(db.Shape(), []int{tc.o}) {
				t.Fatalf("gradient shapes %v %v %v", dx.Shape(), dw.Shape(), db.Shape())
			}
			nx, nw, _ := Conv2DBackward(x, w, dy, tc.p, false)
			if nx != nil {
				t.Fatal("needDX=false returned a dx")
			}
			if !bitsEqual(nw.Data(), dw.Data()) {
				t.Fatal("dw differs between needDX true and false")
			}
		})
	}
}

func TestConv2DNonContiguousInput(t *testing.T) {
	x, w, b := convCases[0].tensors(7)
	// The same values through a transposed view (channels and batch swapped twice).
	xt := x.Transpose(1, 0, 2, 3).Contiguous().Transpose(1, 0, 2, 3)
	if xt.IsContiguous() {
		t.Fatal("test view is contiguous")
	}
	if !bitsEqual(Conv2D(xt, w, b, convCases[0].p).Data(), Conv2D(x, w, b, convCases[0].p).Data()) {
		t.Fatal("strided input gives a different result")
	}
}

func TestConv2DEmptyBatch(t *testing.T) {
	w := RandN(NewRNG(1), 0, 1, 16, 2, 3, 3)
	y := Conv2D(New(0, 2, 5, 5), w, nil, ConvParams{PadH: 1, PadW: 1})
	if !SameShape(y.Shape(), []int{0, 16, 5, 5}) {
		t.Fatalf("shape %v", y.Shape())
	}
	dx, dw, db := Conv2DBackward(New(0, 2, 5, 5), w, New(0, 16, 5, 5), ConvParams{PadH: 1, PadW: 1}, true)
	if dx.Len() != 0 || Sum(Abs(dw), false).Item() != 0 || Sum(Abs(db), false).Item() != 0 {
		t.Fatalf("empty batch gave gradients %v %v %v", dx, dw, db)
	}
}

func bitsEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestConv2DDeterministic checks that gradients are bit-identical run to
// run and do not depend on how many cores share the batch.
func TestConv2DDeterministic(t *testing.T) {
	rng := NewRNG(3)
	x := RandN(rng, 0, 1, 37, 4, 12, 12)
	w := RandN(rng, 0, 1, 8, 4, 3, 3)
	p := ConvParams{PadH: 1, PadW: 1}
	dy := RandN(rng, 0, 1, 37, 8, 12, 12)
	y0 := Conv2D(x, w, nil, p)
	dx0, dw0, db0 := Conv2DBackward(x, w, dy, p, true)
	for run := 0; run < 3; run++ {
		dx, dw, db := Conv2DBackward(x, w, dy, p, true)
		if !bitsEqual(dx.Data(), dx0.Data()) || !bitsEqual(dw.Data(), dw0.Data()) || !bitsEqual(db.Data(), db0.Data()) {
			t.Fatalf("run %d: gradients differ from the first run", run)
		}
		if !bitsEqual(Conv2D(x, w, nil, p).Data(), y0.Data()) {
			t.Fatalf("run %d: forward differs from the first run", run)
		}
	}
	prev := Threads()
	SetThreads(1) // the kernels' split follows Threads, not GOMAXPROCS
	_, dw1, db1 := Conv2DBackward(x, w, dy, p, false)
	SetThreads(prev)
	if !bitsEqual(dw1.Data(), dw0.Data()) || !bitsEqual(db1.Data(), db0.Data()) {
		t.Fatal("dw or db on one core differs from the multi-core result")
	}
}

// The forward writes every element of its output, which may be recycled
// memory holding anything (NaN here).
func TestConv2DOverwritesRecycledMemory(t *testing.T) {
	big := []convCase{ // outputs of at least recycleMin floats in every mode
		{"big stride2", 2, 3, 40, 40, 16, 3, 3, ConvParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}, false},
		{"big 1x1", 2, 8, 24, 24, 8, 1, 1, ConvParams{}, false},
		{"big 1x1 bias", 1, 8, 24, 24, 8, 1, 1, ConvParams{}, true},
		{"big wide", 3, 2, 20, 20, 12, 3, 3, ConvParams{PadH: 1, PadW: 1}, false},
	}
	for i, tc := range append(big, convCases...) {
		x, w, b := tc.tensors(uint64(i + 300))
		want := Conv2D(x, w, b, tc.p)
		for try := 0; try < 3; try++ {
			junk := New(want.Shape()...)
			for j := range junk.data {
				junk.data[j] = float32(math.NaN())
			}
			Recycle([]*Tensor{junk}, nil)
			got := Conv2D(x, w, b, tc.p)
			if !bitsEqual(got.Data(), want.Data()) {
				t.Fatalf("%s: output over recycled NaNs differs", tc.name)
			}
		}
	}
}

// An image gets the same bits alone (its rows split over the cores) as in
// a batch (the batch split over the cores, each image on one).
func TestConv2DOneImageMatchesBatch(t *testing.T) {
	rng := NewRNG(5)
	for _, sh := range [][2]int{{28, 28}, {9, 32}, {14, 14}, {7, 7}} {
		x := RandN(rng, 0, 1, 4, 3, sh[0], sh[1])
		w := RandN(rng, 0, 1, 16, 3, 3, 3)
		b := RandN(rng, 0, 1, 16)
		p := ConvParams{PadH: 1, PadW: 1}
		y := Conv2DReLU(x, w, b, p)
		dy := RandN(rng, 0, 1, y.Shape()...)
		dx := Conv2DInputGrad(x, w, y, dy, p)
		for i := 0; i < 4; i++ {
			xi := x.Slice(0, i, i+1).Contiguous()
			yi := Conv2DReLU(xi, w, b, p)
			if !bitsEqual(yi.Data(), y.Slice(0, i, i+1).Contiguous().Data()) {
				t.Fatalf("%v image %d: forward alone differs from in the batch", sh, i)
			}
			dxi := Conv2DInputGrad(xi, w, yi, dy.Slice(0, i, i+1).Contiguous(), p)
			if !bitsEqual(dxi.Data(), dx.Slice(0, i, i+1).Contiguous().Data()) {
				t.Fatalf("%v image %d: input gradient alone differs from in the batch", sh, i)
			}
		}
	}
}

// TestIm2ColAdjoint checks ⟨Im2Col(x), c⟩ = ⟨x, Col2Im(c)⟩: Col2Im is the
// exact transpose of Im2Col, which is what the input gradient needs.
func TestIm2ColAdjoint(t *testing.T) {
	for _, tc := range []struct {
		c, h, w, kh, kw int
		p               ConvParams
	}{
		{2, 5, 7, 3, 3, ConvParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}},
		{1, 4, 4, 2, 3, ConvParams{StrideW: 3, PadW: 2}},
		{3, 6, 5, 5, 5, ConvParams{PadH: 2, PadW: 2}},
	} {
		p := tc.p.norm()
		oh, ow := ConvOutSize(tc.h, tc.kh, p.StrideH, p.PadH), ConvOutSize(tc.w, tc.kw, p.StrideW, p.PadW)
		rng := NewRNG(5)
		x := RandN(rng, 0, 1, tc.c*tc.h*tc.w).Data()
		c := RandN(rng, 0, 1, tc.c*tc.kh*tc.kw*oh*ow).Data()
		cols := make([]float32, len(c))
		for i := range cols {
			cols[i] = 99 // Im2Col must overwrite everything
		}
		Im2Col(cols, x, tc.c, tc.h, tc.w, tc.kh, tc.kw, tc.p)
		img := make([]float32, len(x))
		Col2Im(img, c, tc.c, tc.h, tc.w, tc.kh, tc.kw, tc.p)
		var lhs, rhs float64
		for i := range c {
			lhs += float64(cols[i]) * float64(c[i])
		}
		for i := range x {
			rhs += float64(x[i]) * float64(img[i])
		}
		if math.Abs(lhs-rhs) > 1e-4*(1+math.Abs(lhs)) {
			t.Fatalf("%+v: ⟨im2col x, c⟩ = %v but ⟨x, col2im c⟩ = %v", tc, lhs, rhs)
		}
	}
}

func TestConv2DShapeErrors(t *testing.T) {
	x := New(2, 3, 8, 8)
	for _, tc := range []struct {
		x, w, b *Tensor
		p       ConvParams
		want    string
	}{
		{New(784), New(4, 3, 3, 3), nil, ConvParams{}, "input must be [batch, channels, height, width], got [784]"},
		{x, New(4, 1, 3, 3), nil, ConvParams{}, "input has 3 channels"},
		{x, New(4, 3, 9, 9), nil, ConvParams{}, "smaller than the 9×9 kernel"},
		{x, New(4, 3, 3, 3), New(5), ConvParams{}, "bias has shape [5], want [4]"},
		{x, New(4, 1, 3, 3), nil, ConvParams{Groups: 2}, "do not split into 2 groups"},
		{x, New(4, 3, 3, 3), nil, ConvParams{PadH: -1}, "must not be negative"},
	} {
		err := Catch(func() { Conv2D(tc.x, tc.w, tc.b, tc.p) })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Conv2D(%v, %v): error %v, want it to contain %q", tc.x.Shape(), tc.w.Shape(), err, tc.want)
		}
	}
	err := Catch(func() { Conv2DBackward(x, New(4, 3, 3, 3), New(2, 4, 5, 5), ConvParams{}, true) })
	if err == nil || !strings.Contains(err.Error(), "output gradient has shape [2 4 5 5], want [2 4 6 6]") {
		t.Errorf("Conv2DBackward with a wrong dy: %v", err)
	}
}

func ExampleConv2D() {
	// A 4×4 ramp (1…16) convolved with a 3×3 box filter: each output is
	// the sum of one 3×3 window.
	x := Arange(1, 1, 16).Reshape(1, 1, 4, 4)
	y := Conv2D(x, Ones(1, 1, 3, 3), nil, ConvParams{})
	fmt.Println(y.Shape(), y.Data())
	// Output: [1 1 2 2] [54 63 90 99]
}

// Benchmark shapes: LeNet-5 on MNIST (batch 64) and the CIFAR CNN
// conv32-conv32-pool-conv64-conv64-pool (batch 128), all 3×3 "same" in the
// CIFAR net.
var convBenchCases = []struct {
	name          string
	n, c, h, w, o int
	k, pad        int
	needDX        bool
}{
	{"lenet-conv1", 64, 1, 28, 28, 6, 5, 2, false},
	{"lenet-conv2", 64, 6, 14, 14, 16, 5, 0, true},
	{"cifar-conv1", 128, 3, 32, 32, 32, 3, 1, false},
	{"cifar-conv2", 128, 32, 32, 32, 32, 3, 1, true},
	{"cifar-conv3", 128, 32, 16, 16, 64, 3, 1, true},
	{"cifar-conv4", 128, 64, 16, 16, 64, 3, 1, true},
}

func BenchmarkConv2DForward(b *testing.B) {
	for _, bc := range convBenchCases {
		b.Run(bc.name, func(b *testing.B) {
			rng := NewRNG(1)
			x := RandN(rng, 0, 1, bc.n, bc.c, bc.h, bc.w)
			w := RandN(rng, 0, 0.1, bc.o, bc.c, bc.k, bc.k)
			bias := RandN(rng, 0, 0.1, bc.o)
			p := ConvParams{PadH: bc.pad, PadW: bc.pad}
			y := Conv2D(x, w, bias, p)
			flops := 2 * float64(y.Len()) * float64(bc.c*bc.k*bc.k)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				Conv2D(x, w, bias, p)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkConv2DBackward computes dw, db and (except for a first layer,
// as in training) dx: twice the forward's arithmetic, so its ns/op should
// be about 2× BenchmarkConv2DForward's (about 1× for the first layers). A
// ratio well above that is a regression in the backward path.
func BenchmarkConv2DBackward(b *testing.B) {
	for _, bc := range convBenchCases {
		b.Run(bc.name, func(b *testing.B) {
			rng := NewRNG(1)
			x := RandN(rng, 0, 1, bc.n, bc.c, bc.h, bc.w)
			w := RandN(rng, 0, 0.1, bc.o, bc.c, bc.k, bc.k)
			p := ConvParams{PadH: bc.pad, PadW: bc.pad}
			dy := RandN(rng, 0, 1, Conv2D(x, w, nil, p).Shape()...)
			flops := 2 * float64(dy.Len()) * float64(bc.c*bc.k*bc.k)
			if bc.needDX {
				flops *= 2
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				Conv2DBackward(x, w, dy, p, bc.needDX)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// Filters packed once (ConvParams.Prepared) give what packing them at
// every call gives, forward and input gradient, and are ignored for other
// filters.
func TestConv2DPreparedFilters(t *testing.T) {
	for i, tc := range convCases {
		x, w, b := tc.tensors(uint64(i + 500))
		p := tc.p
		want := Conv2DReLU(x, w, b, p)
		dy := RandN(NewRNG(uint64(i+600)), 0, 1, want.Shape()...)
		wantDX := Conv2DInputGrad(x, w, want, dy, p)
		f := PrepareConvFilters(w, p.Groups)
		pp := p
		pp.Prepared = f
		for run := 0; run < 2; run++ {
			got := Conv2DReLU(x, w, b, pp)
			if !bitsEqual(got.Data(), want.Data()) {
				t.Fatalf("%s run %d: prepared forward differs", tc.name, run)
			}
			if dx := Conv2DInputGrad(x, w, got, dy, pp); !bitsEqual(dx.Data(), wantDX.Data()) {
				t.Fatalf("%s run %d: prepared input gradient differs", tc.name, run)
			}
			f.Release() // the next run packs again
		}
		// Prepared for other filters: ignored, never applied to these.
		other := w.Clone()
		other.Data()[0] += 1
		po := p
		po.Prepared = PrepareConvFilters(other, p.Groups)
		Conv2D(x, other, b, po) // packs other's filters
		if got := Conv2DReLU(x, w, b, po); !bitsEqual(got.Data(), want.Data()) {
			t.Fatalf("%s: filters prepared for another tensor were used", tc.name)
		}
	}
}

// Conv2DReLUMax is min(Conv2DReLU, hi), bit for bit, in every mode
// (depthwise and a lone image included).
func TestConv2DReLUMax(t *testing.T) {
	for i, tc := range convCases {
		x, w, b := tc.tensors(uint64(i + 700))
		for _, hi := range []float32{0.5, 6} {
			want := Conv2DReLU(x, w, b, tc.p)
			for j, v := range want.Data() {
				want.Data()[j] = min(v, hi)
			}
			got := Conv2DReLUMax(x, w, b, tc.p, hi)
			if !bitsEqual(got.Data(), want.Data()) {
				t.Fatalf("%s, hi %v: differs from min(Conv2DReLU, hi)", tc.name, hi)
			}
		}
	}
	x, w, b := convCases[0].tensors(1)
	for _, hi := range []float32{0, -1, float32(math.NaN())} {
		if err := Catch(func() { Conv2DReLUMax(x, w, b, convCases[0].p, hi) }); err == nil {
			t.Fatalf("upper bound %v accepted", hi)
		}
	}
}

// BenchmarkConv2DInference runs single-image inference shapes from
// MobileNetV2 and ResNet-18 (224×224 inputs) through Conv2DReLUMax with
// ReLU6's bound, as an imported model runs them: the stem, depthwise
// layers of stride 1 and 2, the thin 1×1 expansion on the largest plane,
// and ResNet's 3×3 convolutions.
func BenchmarkConv2DInference(b *testing.B) {
	cases := []struct {
		name                    string
		c, h, o, k, pad, stride int
		groups                  int
	}{
		{"mbv2-stem", 3, 224, 32, 3, 1, 2, 1},
		{"mbv2-dw32-112", 32, 112, 32, 3, 1, 1, 32},
		{"mbv2-project32-16-112", 32, 112, 16, 1, 0, 1, 1},
		{"mbv2-expand16-96-112", 16, 112, 96, 1, 0, 1, 1},
		{"mbv2-dw96-112-s2", 96, 112, 96, 3, 1, 2, 96},
		{"mbv2-dw144-56", 144, 56, 144, 3, 1, 1, 144},
		{"mbv2-dw384-14", 384, 14, 384, 3, 1, 1, 384},
		{"mbv2-dw960-7", 960, 7, 960, 3, 1, 1, 960},
		{"mbv2-project144-24-56", 144, 56, 24, 1, 0, 1, 1},
		{"mbv2-expand24-144-56", 24, 56, 144, 1, 0, 1, 1},
		{"mbv2-expand96-576-14", 96, 14, 576, 1, 0, 1, 1},
		{"mbv2-project576-96-14", 576, 14, 96, 1, 0, 1, 1},
		{"mbv2-expand160-960-7", 160, 7, 960, 1, 0, 1, 1},
		{"mbv2-project960-320-7", 960, 7, 320, 1, 0, 1, 1},
		{"mbv2-last320-1280-7", 320, 7, 1280, 1, 0, 1, 1},
		{"resnet-stem", 3, 224, 64, 7, 3, 2, 1},
		{"resnet-64-56", 64, 56, 64, 3, 1, 1, 1},
		{"resnet-128-28", 128, 28, 128, 3, 1, 1, 1},
		{"resnet-256-14", 256, 14, 256, 3, 1, 1, 1},
	}
	for _, bc := range cases {
		run := func(name string) {
			b.Run(name, func(b *testing.B) {
				rng := NewRNG(1)
				x := RandN(rng, 0, 1, 1, bc.c, bc.h, bc.h)
				w := RandN(rng, 0, 0.1, bc.o, bc.c/bc.groups, bc.k, bc.k)
				bias := RandN(rng, 0, 0.1, bc.o)
				p := ConvParams{PadH: bc.pad, PadW: bc.pad, StrideH: bc.stride, StrideW: bc.stride, Groups: bc.groups}
				p.Prepared = PrepareConvFilters(w, bc.groups)
				y := Conv2DReLUMax(x, w, bias, p, 6)
				flops := 2 * float64(y.Len()) * float64(bc.c/bc.groups*bc.k*bc.k)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					Recycle([]*Tensor{Conv2DReLUMax(x, w, bias, p, 6)}, nil)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
		run(bc.name)
		g := convCheck("Conv2D", []int{1, bc.c, bc.h, bc.h}, []int{bc.o, bc.c / bc.groups, bc.k, bc.k},
			ConvParams{PadH: bc.pad, PadW: bc.pad, StrideH: bc.stride, StrideW: bc.stride, Groups: bc.groups}.norm())
		if g.winoFits() {
			// The same layer without Winograd, for comparison.
			winoOff = true
			run(bc.name + "-direct")
			winoOff = false
		}
	}
}

// TestConvBlockedEpilogue checks convolutions large enough that their
// products are computed a column block at a time with the epilogue right
// after (gemmFinish, for 1×1), and strided ones on phase-split images,
// with ReLU6's bound: against the float64 definition, and bit-identical
// on one core and on several, the blocks following from the shape alone.
func TestConvBlockedEpilogue(t *testing.T) {
	for i, tc := range []convCase{
		{"1x1 expansion", 2, 16, 40, 40, 24, 1, 1, ConvParams{}, true},
		{"1x1 few columns", 1, 160, 7, 7, 96, 1, 1, ConvParams{}, true},
		// The same product with a batch that fills the cores: each core
		// its own images (and 400 channels: the pixel-major tiles).
		{"1x1 few columns batch", 5, 160, 7, 7, 96, 1, 1, ConvParams{}, true},
		{"1x1 few columns batch pixels", 3, 400, 5, 5, 40, 1, 1, ConvParams{}, true},
		// Few filters on a large plane, one image: the indirect GEMM.
		{"1x1 few filters", 1, 24, 30, 30, 16, 1, 1, ConvParams{}, true},
		{"stride 2", 2, 3, 48, 48, 32, 3, 3, ConvParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}, true},
		{"1x1 no bias", 1, 24, 30, 30, 40, 1, 1, ConvParams{}, false},
		// Strided forwards run on phase-split images, the rows written in
		// place when a pitch of whole tiles fits (ow 30 on a pitch of 32).
		{"stride 2 rows in place", 1, 3, 60, 60, 20, 3, 3, ConvParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}, true},
		{"stride 2 rows in place batch", 3, 3, 60, 60, 20, 3, 3, ConvParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}, true},
		{"7x7 stride 2 stem", 1, 3, 45, 45, 16, 7, 7, ConvParams{StrideH: 2, StrideW: 2, PadH: 3, PadW: 3}, true},
		{"1x1 stride 2", 2, 16, 28, 28, 32, 1, 1, ConvParams{StrideH: 2, StrideW: 2}, true},
		{"stride 3x2", 2, 4, 31, 29, 8, 3, 2, ConvParams{StrideH: 3, StrideW: 2, PadH: 1}, true},
		// Many small images: several share one GEMM (nb > 1).
		{"stride 2 many images", 40, 3, 12, 12, 8, 3, 3, ConvParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}, true},
		{"7x7 stride 2 many images", 40, 2, 14, 14, 4, 7, 7, ConvParams{StrideH: 2, StrideW: 2, PadH: 3, PadW: 3}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, w, b := tc.tensors(uint64(900 + i))
			ref := convRef(x, w, b, tc.p)
			y := Conv2D(x, w, b, tc.p)
			closeTo(t, "y", y.Data(), ref)
			for j, v := range ref {
				ref[j] = math.Min(math.Max(v, 0), 0.5)
			}
			y6 := Conv2DReLUMax(x, w, b, tc.p, 0.5)
			closeTo(t, "relu6 y", y6.Data(), ref)
			prev := Threads()
			defer SetThreads(prev)
			for _, n := range []int{1, 3} {
				SetThreads(n)
				if y := Conv2DReLUMax(x, w, b, tc.p, 0.5); !bitsEqual(y.Data(), y6.Data()) {
					t.Fatalf("results differ between %d threads and %d", n, prev)
				}
			}
		})
	}
}

// TestConvRandomShapes runs convolutions of random small shapes through
// every forward path (padded-width and rows-in-place stride 1, phase-split
// strides, 1×1, depthwise flat and in place, grouped) against the float64
// definition: strides 1–3, kernels 1–5, padding up to and past the
// kernel, planes from one pixel, with and without bias and ReLU6's bound.
func TestConvRandomShapes(t *testing.T) {
	rng := NewRNG(77)
	pick := func(lo, hi int) int { return lo + int(rng.Uint64()%uint64(hi-lo+1)) }
	for i := 0; i < 300; i++ {
		c := pick(1, 6)
		groups := 1
		switch pick(0, 2) {
		case 1:
			groups = c // depthwise
		case 2:
			if c%2 == 0 {
				groups = 2
			}
		}
		o := groups * pick(1, 3)
		if groups == c {
			o = c
		}
		kh, kw := pick(1, 5), pick(1, 5)
		if pick(0, 1) == 0 {
			kh, kw = 3, 3
		}
		p := ConvParams{StrideH: pick(1, 3), StrideW: pick(1, 3), PadH: pick(0, kh), PadW: pick(0, kw), Groups: groups}
		if pick(0, 1) == 0 {
			p.StrideH, p.StrideW, p.PadH, p.PadW = 1, 1, kh/2, kw/2
		}
		h := max(pick(1, 20), kh-2*p.PadH)
		w := max(pick(1, 40), kw-2*p.PadW)
		tc := convCase{fmt.Sprintf("case %d", i), pick(1, 3), c, h, w, o, kh, kw, p, pick(0, 1) == 1}
		x, wt, b := tc.tensors(uint64(1000 + i))
		ref := convRef(x, wt, b, tc.p)
		y := Conv2D(x, wt, b, tc.p)
		if len(y.Data()) != len(ref) {
			t.Fatalf("%s %+v: %d outputs, want %d", tc.name, tc, len(y.Data()), len(ref))
		}
		for j, v := range ref {
			if math.Abs(float64(y.Data()[j])-v) > 1e-4*(1+math.Abs(v)) {
				t.Fatalf("%s %+v: y[%d] = %v, want %v", tc.name, tc, j, y.Data()[j], v)
			}
		}
		y6 := Conv2DReLUMax(x, wt, b, tc.p, 0.75)
		for j, v := range ref {
			v = math.Min(math.Max(v, 0), 0.75)
			if math.Abs(float64(y6.Data()[j])-v) > 1e-4*(1+math.Abs(v)) {
				t.Fatalf("%s %+v: relu6 y[%d] = %v, want %v", tc.name, tc, j, y6.Data()[j], v)
			}
		}
	}
}

// TestConvHugePaddingFallsBack: padding far larger than the image with a
// large stride (as a crafted model may ask) pads each plane to a size the
// output does not bound, so a strided or depthwise forward then unfolds
// instead of splitting the padded plane into phases; the answer is still
// the definition's, and the gradient path (im2col) too.
func TestConvHugePaddingFallsBack(t *testing.T) {
	for _, tc := range []convCase{
		{"strided", 1, 2, 2, 3, 3, 3, 3, ConvParams{StrideH: 40, StrideW: 40, PadH: 600, PadW: 600}, true},
		{"depthwise", 2, 2, 3, 2, 2, 3, 3, ConvParams{StrideH: 40, StrideW: 40, PadH: 600, PadW: 600, Groups: 2}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, w, b := tc.tensors(5)
			g := convCheck("test", x.Shape(), w.Shape(), tc.p)
			if g.phasesFit() {
				t.Fatal("the case does not reach the fallback")
			}
			closeTo(t, "y", Conv2D(x, w, b, tc.p).Data(), convRef(x, w, b, tc.p))
			dy := RandN(NewRNG(6), 0, 1, g.n, g.o, g.oh, g.ow)
			dx, dw, db := Conv2DBackward(x, w, dy, tc.p, true)
			rx, rw, rb := convRefBackward(x, w, dy, tc.p)
			closeTo(t, "dx", dx.Data(), rx)
			closeTo(t, "dw", dw.Data(), rw)
			closeTo(t, "db", db.Data(), rb)
		})
	}
}

// TestConvPixelsMatchesIndirect checks the pixel-major forward (output
// channels on the vector lanes) where it is chosen: one image (row blocks
// and panels over the cores), a batch (an image per core), a partial panel
// of filters, phase-split strides and groups, against the float64
// definition and bit for bit against the indirect GEMM's paths, which sum
// every output in the same order.
func TestConvPixelsMatchesIndirect(t *testing.T) {
	winoOff = true // these compare the GEMM paths; winograd_test.go, Winograd
	defer func() { winoOff = false }()
	for i, tc := range []convCase{
		{"one image", 1, 32, 14, 14, 64, 3, 3, ConvParams{PadH: 1, PadW: 1}, true},
		{"partial panel", 1, 32, 7, 7, 56, 3, 3, ConvParams{PadH: 1, PadW: 1}, true},
		{"stride 2", 1, 8, 15, 15, 32, 3, 3, ConvParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}, false},
		{"batch", 3, 32, 9, 11, 64, 3, 3, ConvParams{PadH: 1, PadW: 1}, true},
		{"groups", 2, 32, 7, 7, 64, 3, 3, ConvParams{PadH: 1, PadW: 1, Groups: 2}, true},
		{"tall rows", 1, 64, 30, 5, 32, 3, 3, ConvParams{PadH: 1, PadW: 1}, true},
		// Unpadded: the input read where it lies.
		{"unpadded", 1, 32, 16, 16, 64, 3, 3, ConvParams{}, true},
		{"unpadded batch", 3, 32, 11, 13, 64, 3, 3, ConvParams{}, false},
		// 1×1 layers on few pixels, read in place (MobileNet's
		// projections onto 14×14 and 7×7).
		{"1x1 14x14", 1, 384, 14, 14, 64, 1, 1, ConvParams{}, true},
		{"1x1 7x7 partial panel", 1, 400, 7, 7, 88, 1, 1, ConvParams{}, false},
		// A batch: each plane one run of pixels, tiles across its rows.
		{"1x1 batch", 3, 384, 5, 9, 64, 1, 1, ConvParams{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, w, b := tc.tensors(uint64(1200 + i))
			g := convCheck("Conv2D", x.Shape(), w.Shape(), tc.p.norm())
			pl := cachedPlan(g, 0, true)
			// (1×1 layers take it only while the batch leaves cores idle.)
			if kern.PixelsFast(g.ohw()) && !pl.usePixels() && !(g.onebyone() && convSerialGemm(g.n)) {
				t.Fatalf("the pixel-major forward was not chosen")
			}
			y := Conv2D(x, w, b, tc.p)
			closeTo(t, "y", y.Data(), convRef(x, w, b, tc.p))
			y6 := Conv2DReLUMax(x, w, b, tc.p, 0.5)
			for j, v := range y.Data() {
				if want := min(max(v, 0), 0.5); y6.Data()[j] != want {
					t.Fatalf("relu6 y[%d] = %v, want %v", j, y6.Data()[j], want)
				}
			}
			pixelsOff = true
			defer func() { pixelsOff = false }()
			if want := Conv2D(x, w, b, tc.p); !bitsEqual(y.Data(), want.Data()) {
				t.Fatalf("the pixel-major forward differs from the indirect GEMM's")
			}
			if want := Conv2DReLUMax(x, w, b, tc.p, 0.5); !bitsEqual(y6.Data(), want.Data()) {
				t.Fatalf("the pixel-major forward with ReLU6 differs from the indirect GEMM's")
			}
		})
	}
}

// TestConv2DAdd checks the fused residual forward on every path (pixel
// tiles, the indirect GEMM's, 1×1, strided, depthwise, grouped): bit for
// bit Conv2D, then + res, then the rectifier and bound, in float32.
func TestConv2DAdd(t *testing.T) {
	cases := append(slices.Clone(convCases),
		convCase{"pixels", 2, 32, 14, 14, 64, 3, 3, ConvParams{PadH: 1, PadW: 1}, true},
		convCase{"pixels one image", 1, 16, 9, 9, 32, 3, 3, ConvParams{PadH: 1, PadW: 1}, false},
		convCase{"pixels 1x1", 2, 384, 7, 7, 64, 1, 1, ConvParams{}, true})
	for i, tc := range cases {
		x, w, b := tc.tensors(uint64(1500 + i))
		y := Conv2D(x, w, b, tc.p)
		res := RandN(NewRNG(uint64(1600+i)), 0, 1, y.Shape()...)
		for _, act := range []struct {
			relu  bool
			bound float32
		}{{false, 0}, {true, 0}, {true, 0.5}} {
			want := make([]float32, y.Len())
			for j, v := range y.Data() {
				v += res.Data()[j]
				if act.relu && !(v > 0) {
					v = 0
				}
				if act.bound > 0 && v > act.bound {
					v = act.bound
				}
				want[j] = v
			}
			got := Conv2DAdd(x, w, b, res, tc.p, act.relu, act.bound)
			if !bitsEqual(got.Data(), want) {
				t.Fatalf("%s relu %v bound %v: differs from Conv2D, Add and the activation", tc.name, act.relu, act.bound)
			}
		}
	}
	x, w, b := convCases[0].tensors(1)
	if err := Catch(func() { Conv2DAdd(x, w, b, New(1, 2, 3), convCases[0].p, true, 0) }); err == nil {
		t.Fatal("a residual of the wrong shape was accepted")
	}
}

// TestConvPixelsRandomShapes runs random shapes with filters in and around
// whole panels of 32 (the pixel-major forward's lanes) and kernels of 1 to
// 5, padded or not (an unpadded layer is read in place), stride 1 or 2,
// batches of 1 to 3: against the float64 definition, and bit for bit
// against the indirect GEMM's paths. TestConvRandomShapes' few channels
// never take the pixel-major forward.
func TestConvPixelsRandomShapes(t *testing.T) {
	winoOff = true // these compare the GEMM paths; winograd_test.go, Winograd
	defer func() { winoOff = false }()
	rng := NewRNG(91)
	pick := func(lo, hi int) int { return lo + int(rng.Uint64()%uint64(hi-lo+1)) }
	took := 0
	const cases = 40
	for i := 0; i < cases; i++ {
		c := pick(4, 20)
		o := []int{32, 40, 64}[pick(0, 2)]
		kh, kw := pick(1, 5), pick(1, 5)
		p := ConvParams{PadH: pick(0, kh-1), PadW: pick(0, kw-1)}
		if pick(0, 1) == 0 {
			p.PadH, p.PadW = 0, 0
		}
		if pick(0, 3) == 0 {
			p.StrideH, p.StrideW = 2, 2
		}
		tc := convCase{fmt.Sprintf("case %d", i), pick(1, 3), c, max(pick(1, 16), kh), max(pick(1, 16), kw), o, kh, kw, p, pick(0, 1) == 1}
		x, wt, b := tc.tensors(uint64(3000 + i))
		pl := cachedPlan(convCheck("Conv2D", x.Shape(), wt.Shape(), tc.p.norm()), 0, true)
		if pl.usePixels() {
			took++
		}
		y := Conv2DReLU(x, wt, b, tc.p)
		for j, v := range convRef(x, wt, b, tc.p) {
			v = math.Max(v, 0)
			if math.Abs(float64(y.Data()[j])-v) > 1e-4*(1+math.Abs(v)) {
				t.Fatalf("%s %+v: y[%d] = %v, want %v", tc.name, tc, j, y.Data()[j], v)
			}
		}
		pixelsOff = true
		want := Conv2DReLU(x, wt, b, tc.p)
		pixelsOff = false
		if !bitsEqual(y.Data(), want.Data()) {
			t.Fatalf("%s %+v: the pixel-major forward differs from the indirect GEMM's", tc.name, tc)
		}
	}
	t.Logf("%d of %d cases ran pixel-major", took, cases)
	if kern.PixelsFast(64) && took < cases/4 {
		t.Fatalf("only %d of %d cases ran pixel-major: the test exercises too little", took, cases)
	}
}

// TestConvOneImageReusesCleanPadding checks one-image forwards that copy
// their input into a kept buffer whose padding stays zero (the output
// rows written in place, shared over the cores): called on one image,
// then on another, then with prepared filters, each matches the float64
// definition, so nothing of an earlier image or of the phase split's
// layout leaks into a later result.
func TestConvOneImageReusesCleanPadding(t *testing.T) {
	for i, tc := range []convCase{
		{"3x3 stride 2 stem", 1, 3, 64, 64, 24, 3, 3, ConvParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}, true},
		{"7x7 stride 2 stem", 1, 3, 45, 45, 16, 7, 7, ConvParams{StrideH: 2, StrideW: 2, PadH: 3, PadW: 3}, true},
		{"3x3 stride 1 rows", 1, 4, 32, 32, 8, 3, 3, ConvParams{PadH: 1, PadW: 1}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for call := 0; call < 3; call++ {
				x, w, b := tc.tensors(uint64(950 + 10*i + call))
				p := tc.p
				if call == 2 {
					p.Prepared = PrepareConvFilters(w, 1)
				}
				closeTo(t, fmt.Sprintf("call %d", call), Conv2D(x, w, b, p).Data(), convRef(x, w, b, tc.p))
			}
		})
	}
}
