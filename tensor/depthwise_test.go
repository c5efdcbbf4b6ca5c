package tensor

import (
	"math"
	"testing"
)

// depthwiseCases are depthwise convolutions (groups = channels = outputs)
// as MobileNet-style networks use them, plus strides and kernels the
// phase-split layout must also get right.
var depthwiseCases = []convCase{
	{"3x3 s1 p1", 2, 3, 7, 6, 3, 3, 3, ConvParams{PadH: 1, PadW: 1, Groups: 3}, true},
	{"3x3 s2 p1 even", 2, 4, 8, 8, 4, 3, 3, ConvParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, Groups: 4}, true},
	{"3x3 s2 p1 odd", 3, 2, 9, 7, 2, 3, 3, ConvParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, Groups: 2}, false},
	{"5x5 s2 p2", 1, 3, 11, 10, 3, 5, 5, ConvParams{StrideH: 2, StrideW: 2, PadH: 2, PadW: 2, Groups: 3}, true},
	{"3x3 s3 unpadded", 2, 2, 10, 11, 2, 3, 3, ConvParams{StrideH: 3, StrideW: 3, Groups: 2}, true},
	{"mixed strides", 2, 2, 9, 8, 2, 2, 3, ConvParams{StrideH: 1, StrideW: 2, PadH: 0, PadW: 1, Groups: 2}, true},
	// Stride 2 splits the columns pairwise (kern.Deinterleave2): padding
	// 0, 1 and 2, even and odd widths, widths past the vector steps, and
	// planes narrower than the kernel.
	{"3x3 s2 p0 even", 2, 2, 7, 10, 2, 3, 3, ConvParams{StrideH: 2, StrideW: 2, Groups: 2}, true},
	{"3x3 s2 p0 odd", 1, 3, 6, 11, 3, 3, 3, ConvParams{StrideH: 2, StrideW: 2, Groups: 3}, false},
	{"2x2 s2 p0 width 2", 1, 2, 4, 2, 2, 2, 2, ConvParams{StrideH: 2, StrideW: 2, Groups: 2}, true},
	{"3x3 s2 p1 width 1", 1, 2, 5, 1, 2, 3, 3, ConvParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, Groups: 2}, true},
	{"3x3 s2 p1 width 2", 2, 2, 3, 2, 2, 3, 3, ConvParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, Groups: 2}, true},
	{"3x3 s2 p1 width 37", 1, 2, 6, 37, 2, 3, 3, ConvParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, Groups: 2}, true},
	{"3x3 s2 p2 width 40", 1, 2, 5, 40, 2, 3, 3, ConvParams{StrideH: 2, StrideW: 2, PadH: 2, PadW: 2, Groups: 2}, false},
	// Longer than the kernel's 128-output step, with a masked tail.
	{"wide rows", 2, 2, 5, 83, 2, 3, 3, ConvParams{PadH: 1, PadW: 1, Groups: 2}, true},
	// No junk columns (the phase pitch is the output width): the run is
	// written straight into the output plane.
	{"1x1 unpadded", 2, 3, 5, 6, 3, 1, 1, ConvParams{Groups: 3}, true},
	{"1x3 stride 1x3", 1, 2, 4, 9, 2, 1, 3, ConvParams{StrideW: 3, Groups: 2}, true},
}

// TestDepthwiseMatchesDirect checks the depthwise path's output and its
// three gradients against the float64 definitions, with and without the
// fused rectifier.
func TestDepthwiseMatchesDirect(t *testing.T) {
	for i, tc := range depthwiseCases {
		t.Run(tc.name, func(t *testing.T) {
			x, w, b := tc.tensors(uint64(i + 300))
			g := convCheck("test", x.Shape(), w.Shape(), tc.p)
			if !g.isDepthwise() {
				t.Fatalf("%+v is not routed to the depthwise path", tc.p)
			}
			y := Conv2D(x, w, b, tc.p)
			ref := convRef(x, w, b, tc.p)
			closeTo(t, "y", y.Data(), ref)

			dy := RandN(NewRNG(uint64(i+400)), 0, 1, y.Shape()...)
			dx, dw, db := Conv2DBackward(x, w, dy, tc.p, true)
			rx, rw, rb := convRefBackward(x, w, dy, tc.p)
			closeTo(t, "dx", dx.Data(), rx)
			closeTo(t, "dw", dw.Data(), rw)
			closeTo(t, "db", db.Data(), rb)
			if _, dw2, _ := Conv2DBackward(x, w, dy, tc.p, false); !bitsEqual(dw2.Data(), dw.Data()) {
				t.Fatal("dw differs between needDX true and false")
			}

			// Fused rectifier: y = max(conv, 0), and the gradient is the
			// plain one of dy masked where y > 0.
			yr := Conv2DReLU(x, w, b, tc.p)
			for j, v := range ref {
				ref[j] = math.Max(v, 0)
			}
			closeTo(t, "relu y", yr.Data(), ref)
			masked := dy.Contiguous().Clone()
			for j, v := range yr.Data() {
				if !(v > 0) {
					masked.Data()[j] = 0
				}
			}
			rx, rw, rb = convRefBackward(x, w, masked, tc.p)
			dx, dw, db = Conv2DReLUBackward(x, w, yr, dy, tc.p, true)
			closeTo(t, "relu dx", dx.Data(), rx)
			closeTo(t, "relu dw", dw.Data(), rw)
			closeTo(t, "relu db", db.Data(), rb)
		})
	}
}

// TestDepthwiseDeterministic checks that the depthwise path gives
// bit-identical results run to run and on one core or several.
func TestDepthwiseDeterministic(t *testing.T) {
	tc := convCase{"mobilenet-like", 9, 6, 14, 14, 6, 3, 3, ConvParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, Groups: 6}, true}
	x, w, b := tc.tensors(5)
	y0 := Conv2D(x, w, b, tc.p)
	dy := RandN(NewRNG(6), 0, 1, y0.Shape()...)
	dx0, dw0, db0 := Conv2DBackward(x, w, dy, tc.p, true)
	prev := Threads()
	SetThreads(1)
	y1 := Conv2D(x, w, b, tc.p)
	dx1, dw1, db1 := Conv2DBackward(x, w, dy, tc.p, true)
	SetThreads(prev)
	y2 := Conv2D(x, w, b, tc.p)
	dx2, dw2, db2 := Conv2DBackward(x, w, dy, tc.p, true)
	for _, r := range [][2][]float32{{y0.Data(), y1.Data()}, {y0.Data(), y2.Data()}, {dx0.Data(), dx1.Data()}, {dx0.Data(), dx2.Data()},
		{dw0.Data(), dw1.Data()}, {dw0.Data(), dw2.Data()}, {db0.Data(), db1.Data()}, {db0.Data(), db2.Data()}} {
		if !bitsEqual(r[0], r[1]) {
			t.Fatal("depthwise results differ between runs or core counts")
		}
	}
}
