package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestDepthwiseSmall3x3 checks the in-place kernel against the float64
// definition (3×3, stride 1, zero padding 1) for widths around its vectors and
// heights from one row, with and without the rectifier and the bound,
// over several planes with their own filters and biases, for planes of
// one vector and of several (a last one partial or whole); that nothing
// past the planes is written; and that it declines planes wider than
// maxDWSmallWidth.
func TestDepthwiseSmall3x3(t *testing.T) {
	if !indWide() {
		if DepthwiseSmall3x3(make([]float32, 4), make([]float32, 4), 2, 2, 1, make([]float32, 9), make([]float32, 1), false, 0) {
			t.Fatal("ran without the AVX-512 kernel")
		}
		return
	}
	rng := rand.New(rand.NewPCG(31, 32))
	for _, w := range []int{1, 2, 3, 5, 7, 14, 15, 16, 17, 31, 32, 33, 56, 112} {
		for _, h := range []int{1, 2, 3, 7, 14} {
			for _, mode := range []struct {
				relu  bool
				bound float32
			}{{false, 0}, {true, 0}, {true, 0.5}} {
				name := fmt.Sprintf("w%d h%d relu %v bound %v", w, h, mode.relu, mode.bound)
				const planes = 3
				src := make([]float32, planes*w*h)
				for i := range src {
					src[i] = float32(rng.NormFloat64())
				}
				wts := make([]float32, 9*planes)
				for i := range wts {
					wts[i] = float32(rng.NormFloat64())
				}
				bias := []float32{0.25, -0.5, 0}
				const sentinel = 777
				dst := make([]float32, planes*w*h+20)
				for i := range dst {
					dst[i] = sentinel
				}
				if !DepthwiseSmall3x3(dst, src, w, h, planes, wts, bias, mode.relu, mode.bound) {
					t.Fatalf("%s: declined", name)
				}
				for i := range dst {
					if i >= planes*w*h {
						if dst[i] != sentinel {
							t.Fatalf("%s: wrote past the planes at %d", name, i)
						}
						continue
					}
					p, y, x := i/(w*h), i%(w*h)/w, i%w
					s := float64(bias[p])
					for ki := 0; ki < 3; ki++ {
						for kj := 0; kj < 3; kj++ {
							iy, ix := y+ki-1, x+kj-1
							if iy >= 0 && iy < h && ix >= 0 && ix < w {
								s += float64(wts[9*p+3*ki+kj]) * float64(src[p*w*h+iy*w+ix])
							}
						}
					}
					if mode.relu {
						s = math.Max(s, 0)
					}
					if mode.bound > 0 {
						s = math.Min(s, float64(mode.bound))
					}
					if math.Abs(float64(dst[i])-s) > 1e-5 {
						t.Fatalf("%s: plane %d [%d, %d] = %v, want %v", name, p, y, x, dst[i], s)
					}
				}
			}
		}
	}
	const wide = maxDWSmallWidth + 1
	if DepthwiseSmall3x3(make([]float32, wide), make([]float32, wide), wide, 1, 1, make([]float32, 9), make([]float32, 1), false, 0) {
		t.Fatalf("took a plane %d wide", wide)
	}
}
