package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestDepthwiseRows checks the depthwise plane kernel against a float64
// sum of the same taps (the AVX-512 path fuses multiply and add, the Go
// path rounds each step, so both sit within a few ulps of it) for widths
// that exercise the 64-, 16-column steps and the masked tail, with and
// without the rectifier; that the columns between rows and after the last
// row keep their values; and that the Go loop rectifies -0 and NaN as
// AddBias does.
func TestDepthwiseRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, cols := range []int{1, 7, 16, 28, 64, 83, 112} {
		for _, relu := range []bool{false, true} {
			name := fmt.Sprintf("cols%d_relu%v", cols, relu)
			rows, lds, ldd := 3, cols+4, cols+2
			offs := []int32{0, 1, 2, int32(lds), int32(lds) + 1, int32(lds) + 2, int32(2 * lds), int32(2*lds) + 1, int32(2*lds) + 2}
			w := make([]float32, len(offs))
			for i := range w {
				w[i] = float32(rng.NormFloat64())
			}
			src := make([]float32, (rows+2)*lds+2)
			for i := range src {
				src[i] = float32(rng.NormFloat64())
			}
			const sentinel = 777
			dst := make([]float32, rows*ldd)
			for i := range dst {
				dst[i] = sentinel
			}
			goDst := append([]float32(nil), dst...)
			DepthwiseRows(dst, ldd, src, lds, offs, w, -0.125, rows, cols, relu)
			depthwiseRowsGo(goDst, ldd, src, lds, offs, w, -0.125, rows, cols, relu)
			for r := 0; r < rows; r++ {
				for i := 0; i < ldd; i++ {
					got, gotGo := dst[r*ldd+i], goDst[r*ldd+i]
					if i >= cols {
						if got != sentinel || gotGo != sentinel {
							t.Fatalf("%s: row %d column %d past cols written: %v, %v", name, r, i, got, gotGo)
						}
						continue
					}
					s := -0.125
					for k, o := range offs {
						s += float64(w[k]) * float64(src[r*lds+int(o)+i])
					}
					if relu {
						s = math.Max(s, 0)
					}
					if math.Abs(float64(got)-s) > 1e-5 || math.Abs(float64(gotGo)-s) > 1e-5 {
						t.Fatalf("%s: [%d, %d] = %v (asm or Go) / %v (Go), want %v", name, r, i, got, gotGo, s)
					}
				}
			}
		}
	}
	// Rectifier edge values: a NaN stays NaN and −0 becomes +0.
	src := []float32{float32(math.NaN()), float32(math.Copysign(0, -1)), -3}
	for _, f := range []func([]float32, int, []float32, int, []int32, []float32, float32, int, int, bool){DepthwiseRows, depthwiseRowsGo} {
		dst := make([]float32, 3)
		f(dst, 3, src, 3, []int32{0}, []float32{1}, 0, 1, 3, true)
		if !math.IsNaN(float64(dst[0])) || math.Signbit(float64(dst[1])) || dst[1] != 0 || dst[2] != 0 {
			t.Fatalf("rectified [NaN, -0, -3] = %v, want [NaN, +0, 0]", dst)
		}
	}
}

// TestDepthwiseRowsChecks checks that mismatched or out-of-range
// arguments panic instead of reading past the buffers.
func TestDepthwiseRowsChecks(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"offsets vs weights", func() {
			DepthwiseRows(make([]float32, 4), 4, make([]float32, 8), 4, []int32{0, 1}, []float32{1}, 0, 1, 4, false)
		}},
		{"src too short", func() {
			DepthwiseRows(make([]float32, 4), 4, make([]float32, 4), 4, []int32{1}, []float32{1}, 0, 1, 4, false)
		}},
		{"dst too short", func() {
			DepthwiseRows(make([]float32, 3), 4, make([]float32, 8), 4, []int32{0}, []float32{1}, 0, 1, 4, false)
		}},
		{"negative offset", func() {
			DepthwiseRows(make([]float32, 4), 4, make([]float32, 8), 4, []int32{-1}, []float32{1}, 0, 1, 4, false)
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
