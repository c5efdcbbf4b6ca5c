package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestSgemmPixelsRows checks the pixel-major convolution rows against a
// float64 definition on every kernel, and bit for bit against the indirect
// GEMM's in-place rows where both run assembly: channel counts around the
// 16- and 32-channel panels, row widths around the 12-pixel tiles, a
// range of panels and rows, every epilogue, and C's gaps left untouched.
func TestSgemmPixelsRows(t *testing.T) { withEachKernel(t, testSgemmPixelsRows) }

func testSgemmPixelsRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(71, 72))
	for _, m := range []int{1, 7, 16, 17, 32, 40, 64, 70} {
		for _, ow := range []int{1, 5, 7, 12, 13, 14, 28, 56} {
			for _, cin := range []int{1, 3, 20} {
				for _, mode := range []string{"plain", "bias", "bias+relu", "relu", "bias+relu+bound"} {
					name := fmt.Sprintf("m%d ow%d cin%d %s", m, ow, cin, mode)
					oh, wp := 4, ow+2
					hp := oh + 2
					k := cin * 9
					src := make([]float32, cin*hp*wp+2)
					for i := range src {
						src[i] = float32(rng.NormFloat64())
					}
					offs := make([]int32, k)
					for q := range offs {
						c, t := q/9, q%9
						offs[q] = int32(c*hp*wp + (t/3)*wp + t%3)
					}
					w := make([]float32, m*k)
					for i := range w {
						w[i] = float32(rng.NormFloat64())
					}
					var bias []float32
					if mode != "plain" && mode != "relu" {
						bias = make([]float32, m)
						for i := range bias {
							bias[i] = float32(rng.NormFloat64())
						}
					}
					relu := mode == "relu" || mode == "bias+relu" || mode == "bias+relu+bound"
					var bound float32
					if mode == "bias+relu+bound" {
						bound = 1.5
					}
					// C with gaps: rows cStride = ow+3 apart, planes ldc apart.
					cStride := ow + 3
					ldc := oh*cStride + 5
					got := make([]float32, m*ldc)
					sentinel := float32(-12345)
					for i := range got {
						got[i] = sentinel
					}
					pw := PackPixW(m, k, w, k)
					// Rows [1, oh) of every panel, then row 0 panel by panel.
					SgemmPixelsRows(pw, 0, pw.Panels(), src, offs, 1, oh, ow, wp, bias, relu, bound, got, ldc, cStride)
					for p := 0; p < pw.Panels(); p++ {
						SgemmPixelsRows(pw, p, p+1, src, offs, 0, 1, ow, wp, bias, relu, bound, got, ldc, cStride)
					}
					for j := 0; j < m; j++ {
						for i := 0; i < ldc; i++ {
							r, x := i/cStride, i%cStride
							v := got[j*ldc+i]
							if r >= oh || x >= ow {
								if v != sentinel {
									t.Fatalf("%s: channel %d, gap element %d written (%v)", name, j, i, v)
								}
								continue
							}
							var s, mag float64
							for q := 0; q < k; q++ {
								p := float64(w[j*k+q]) * float64(src[int(offs[q])+r*wp+x])
								s += p
								mag += math.Abs(p)
							}
							if bias != nil {
								s += float64(bias[j])
								mag += math.Abs(float64(bias[j]))
							}
							if relu {
								s = math.Max(s, 0)
							}
							if bound > 0 {
								s = math.Min(s, float64(bound))
							}
							if math.Abs(float64(v)-s) > 1e-5*(mag+1) {
								t.Fatalf("%s: channel %d pixel (%d, %d) = %v, want %v", name, j, r, x, v, s)
							}
						}
					}
					if !PixelsFast(ldc) || bound > 0 {
						continue
					}
					// The same FMA chains as the indirect GEMM's rows.
					want := make([]float32, m*ldc)
					copy(want, got)
					if !SgemmIndirectRows(m, k, w, k, src, offs, oh, ow, wp, bias, relu, want, ldc, cStride) {
						t.Fatalf("%s: SgemmIndirectRows refused", name)
					}
					same(t, name+" vs SgemmIndirectRows", got, want)
				}
			}
		}
	}
}

func TestSgemmPixelsRowsErrors(t *testing.T) {
	pw := PackPixW(4, 9, make([]float32, 36), 9)
	offs := make([]int32, 9)
	for name, f := range map[string]func(){
		"panel past the end": func() {
			SgemmPixelsRows(pw, 0, 2, make([]float32, 100), offs, 0, 1, 4, 4, nil, false, 0, make([]float32, 100), 10, 4)
		},
		"src too short": func() {
			SgemmPixelsRows(pw, 0, 1, make([]float32, 10), offs, 0, 3, 4, 4, nil, false, 0, make([]float32, 100), 20, 4)
		},
		"C too short": func() {
			SgemmPixelsRows(pw, 0, 1, make([]float32, 100), offs, 0, 2, 4, 4, nil, false, 0, make([]float32, 30), 10, 4)
		},
		"few offsets": func() {
			SgemmPixelsRows(pw, 0, 1, make([]float32, 100), offs[:3], 0, 1, 4, 4, nil, false, 0, make([]float32, 100), 10, 4)
		},
		"short bias": func() {
			SgemmPixelsRows(pw, 0, 1, make([]float32, 100), offs, 0, 1, 4, 4, make([]float32, 2), false, 0, make([]float32, 100), 10, 4)
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// TestSgemmPixelsRowsAdd checks the residual epilogue on every kernel:
// the sums with their bias, plus the residual, then the rectifier and the
// bound, bit for bit as those steps done one after another in float32.
func TestSgemmPixelsRowsAdd(t *testing.T) { withEachKernel(t, testSgemmPixelsRowsAdd) }

func testSgemmPixelsRowsAdd(t *testing.T) {
	rng := rand.New(rand.NewPCG(73, 74))
	for _, m := range []int{5, 32, 45} {
		for _, ow := range []int{3, 12, 14, 29} {
			for _, act := range []struct {
				relu  bool
				bound float32
			}{{false, 0}, {true, 0}, {true, 0.7}} {
				oh, wp, cin := 3, ow+2, 6
				hp, k := oh+2, 6*9
				src := make([]float32, cin*hp*wp+2)
				for i := range src {
					src[i] = float32(rng.NormFloat64())
				}
				offs := make([]int32, k)
				for q := range offs {
					offs[q] = int32(q/9*hp*wp + (q%9)/3*wp + q%3)
				}
				w := make([]float32, m*k)
				for i := range w {
					w[i] = float32(rng.NormFloat64())
				}
				bias := make([]float32, m)
				for i := range bias {
					bias[i] = float32(rng.NormFloat64())
				}
				ohw := oh * ow
				res := make([]float32, m*ohw)
				for i := range res {
					res[i] = float32(rng.NormFloat64())
				}
				pw := PackPixW(m, k, w, k)
				plain := make([]float32, m*ohw)
				SgemmPixelsRows(pw, 0, pw.Panels(), src, offs, 0, oh, ow, wp, bias, false, 0, plain, ohw, ow)
				want := make([]float32, m*ohw)
				for i, v := range plain {
					v += res[i]
					if act.relu && !(v > 0) {
						v = 0
					}
					if act.bound > 0 && v > act.bound {
						v = act.bound
					}
					want[i] = v
				}
				got := make([]float32, m*ohw)
				SgemmPixelsRowsAdd(pw, 0, pw.Panels(), src, offs, 0, oh, ow, wp, bias, res, act.relu, act.bound, got, ohw, ow)
				same(t, fmt.Sprintf("m%d ow%d relu %v bound %v", m, ow, act.relu, act.bound), got, want)
			}
		}
	}
}
