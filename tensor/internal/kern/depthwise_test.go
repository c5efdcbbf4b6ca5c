package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestDepthwiseFlat checks the depthwise plane kernel against a float64
// sum of the same taps (the vector paths fuse multiply and add, the Go
// path rounds each step, so both sit within a few ulps of it) for lengths
// that exercise every step (128/64, 32/8, the masked tails), with and
// without the rectifier; that nothing past dst is written; and that the
// rectifier keeps a NaN and turns −0 into +0 as AddBias does.
func TestDepthwiseFlat(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, n := range []int{1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 100, 127, 128, 129, 161, 200, 263, 1000} {
		for _, act := range []struct {
			relu  bool
			bound float32
		}{{false, 0}, {true, 0}, {true, 0.75}, {false, 0.5}} {
			relu, bound := act.relu, act.bound
			name := fmt.Sprintf("n%d_relu%v_bound%v", n, relu, bound)
			pitch := 13
			offs := []int32{0, 1, 2, int32(pitch), int32(pitch) + 1, int32(pitch) + 2, int32(2 * pitch), int32(2*pitch) + 1, int32(2*pitch) + 2}
			w := make([]float32, len(offs))
			for i := range w {
				w[i] = float32(rng.NormFloat64())
			}
			src := make([]float32, n+2*pitch+2)
			for i := range src {
				src[i] = float32(rng.NormFloat64())
			}
			const sentinel = 777
			buf := make([]float32, n+20)
			for i := range buf {
				buf[i] = sentinel
			}
			goBuf := append([]float32(nil), buf...)
			DepthwiseFlat(buf[:n], src, offs, w, -0.125, relu, bound)
			depthwiseFlatGo(goBuf[:n], src, offs, w, -0.125, relu, bound)
			for i := range buf {
				got, gotGo := buf[i], goBuf[i]
				if i >= n {
					if got != sentinel || gotGo != sentinel {
						t.Fatalf("%s: element %d past n written: %v, %v", name, i, got, gotGo)
					}
					continue
				}
				s := -0.125
				for k, o := range offs {
					s += float64(w[k]) * float64(src[int(o)+i])
				}
				if relu {
					s = math.Max(s, 0)
				}
				if bound > 0 {
					s = math.Min(s, float64(bound))
				}
				if math.Abs(float64(got)-s) > 1e-5 || math.Abs(float64(gotGo)-s) > 1e-5 {
					t.Fatalf("%s: [%d] = %v (asm or Go) / %v (Go), want %v", name, i, got, gotGo, s)
				}
			}
		}
	}
	// Rectifier and bound edge values, in the vector steps and the tails
	// alike: a NaN stays, −0 becomes +0, and with a bound 7 becomes 6.
	for _, n := range []int{4, 36, 132} {
		src := make([]float32, n)
		for i := range src {
			src[i] = []float32{float32(math.NaN()), float32(math.Copysign(0, -1)), -3, 7}[i%4]
		}
		for _, f := range []func([]float32, []float32, []int32, []float32, float32, bool, float32){DepthwiseFlat, depthwiseFlatGo} {
			dst := make([]float32, n)
			f(dst, src, []int32{0}, []float32{1}, 0, true, 6)
			for i, v := range dst {
				switch i % 4 {
				case 0:
					if !math.IsNaN(float64(v)) {
						t.Fatalf("n %d: rectified NaN at %d = %v", n, i, v)
					}
				case 3:
					if v != 6 {
						t.Fatalf("n %d: 7 bounded by 6 at %d = %v", n, i, v)
					}
				default:
					if v != 0 || math.Signbit(float64(v)) {
						t.Fatalf("n %d: rectified %v at %d = %v, want +0", n, src[i], i, v)
					}
				}
			}
		}
	}
}

// TestDepthwiseFlatChecks checks that mismatched or out-of-range
// arguments panic instead of reading past the buffers.
func TestDepthwiseFlatChecks(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"offsets vs weights", func() {
			DepthwiseFlat(make([]float32, 4), make([]float32, 8), []int32{0, 1}, []float32{1}, 0, false, 0)
		}},
		{"src too short", func() {
			DepthwiseFlat(make([]float32, 4), make([]float32, 4), []int32{1}, []float32{1}, 0, false, 0)
		}},
		{"negative offset", func() {
			DepthwiseFlat(make([]float32, 4), make([]float32, 8), []int32{-1}, []float32{1}, 0, false, 0)
		}},
		{"deinterleave into too little", func() {
			Deinterleave2Rows(make([]float32, 2), make([]float32, 3), 3, make([]float32, 6), 6, 1, 6)
		}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tc.name)
				}
			}()
			tc.f()
		}()
	}
}

// TestDeinterleave2Rows checks the pair split for widths around the
// vector steps (8 and 16 pairs) and their masked tails, odd widths
// included, over three rows at strides wider than the rows, against the
// Go loop and the definition; and that nothing between or after the rows
// is written.
func TestDeinterleave2Rows(t *testing.T) {
	const rows, sentinel = 3, -1
	for cols := 0; cols <= 70; cols++ {
		srcStride, dstStride := cols+3, (cols+1)/2+2
		src := make([]float32, rows*srcStride)
		for i := range src {
			src[i] = float32(i) + 0.5
		}
		mk := func() []float32 {
			d := make([]float32, rows*dstStride+4)
			for i := range d {
				d[i] = sentinel
			}
			return d
		}
		even, odd, goEven, goOdd := mk(), mk(), mk(), mk()
		Deinterleave2Rows(even, odd, dstStride, src, srcStride, rows, cols)
		if cols > 0 {
			deinterleave2RowsGo(goEven, goOdd, dstStride, src, srcStride, rows, cols)
		}
		for i := range even {
			r, j := i/dstStride, i%dstStride
			wantE, wantO := float32(sentinel), float32(sentinel)
			if r < rows && 2*j < cols {
				wantE = src[r*srcStride+2*j]
			}
			if r < rows && 2*j+1 < cols {
				wantO = src[r*srcStride+2*j+1]
			}
			if even[i] != wantE || odd[i] != wantO || goEven[i] != wantE || goOdd[i] != wantO {
				t.Fatalf("cols %d: row %d entry %d: even %v (Go %v), odd %v (Go %v); want %v, %v", cols, r, j, even[i], goEven[i], odd[i], goOdd[i], wantE, wantO)
			}
		}
	}
}
