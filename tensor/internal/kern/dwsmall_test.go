package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// checkDepthwiseInPlace runs an in-place 3×3 depthwise kernel (run) at
// the given stride (1 or 2, padding 1) against the float64 definition, for
// every width and height given, with and without the rectifier and the
// bound, over several planes with their own filters and biases; nothing
// past the output planes may be written.
func checkDepthwiseInPlace(t *testing.T, stride int, widths, heights []int, seed uint64, run func(dst, src []float32, w, h, planes int, wts, bias []float32, relu bool, bound float32) bool) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed+1))
	for _, w := range widths {
		for _, h := range heights {
			for _, mode := range []struct {
				relu  bool
				bound float32
			}{{false, 0}, {true, 0}, {true, 0.5}} {
				name := fmt.Sprintf("stride %d w%d h%d relu %v bound %v", stride, w, h, mode.relu, mode.bound)
				const planes = 3
				ow, oh := (w-1)/stride+1, (h-1)/stride+1
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
				dst := make([]float32, planes*ow*oh+20)
				for i := range dst {
					dst[i] = sentinel
				}
				if !run(dst, src, w, h, planes, wts, bias, mode.relu, mode.bound) {
					t.Fatalf("%s: declined", name)
				}
				for i := range dst {
					if i >= planes*ow*oh {
						if dst[i] != sentinel {
							t.Fatalf("%s: wrote past the planes at %d", name, i)
						}
						continue
					}
					p, y, x := i/(ow*oh), i%(ow*oh)/ow, i%ow
					s := float64(bias[p])
					for ki := 0; ki < 3; ki++ {
						for kj := 0; kj < 3; kj++ {
							iy, ix := stride*y+ki-1, stride*x+kj-1
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
}

// TestDepthwiseSmall3x3 checks the in-place stride-1 kernel for planes of
// one vector and of several (a last one partial or whole), heights from
// one row, and that it declines planes wider than maxDWSmallWidth.
func TestDepthwiseSmall3x3(t *testing.T) {
	withEachKernel(t, func(t *testing.T) {
		if !indWide() && !indAVX2() {
			if DepthwiseSmall3x3(make([]float32, 4), make([]float32, 4), 2, 2, 1, make([]float32, 9), make([]float32, 1), false, 0) {
				t.Fatal("ran without a vector kernel")
			}
			return
		}
		checkDepthwiseInPlace(t, 1, []int{1, 2, 3, 5, 7, 8, 9, 14, 15, 16, 17, 24, 31, 32, 33, 56, 112}, []int{1, 2, 3, 7, 14}, 31, DepthwiseSmall3x3)
		const wide = maxDWSmallWidth + 1
		if DepthwiseSmall3x3(make([]float32, wide), make([]float32, wide), wide, 1, 1, make([]float32, 9), make([]float32, 1), false, 0) {
			t.Fatalf("took a plane %d wide", wide)
		}
	})
}

// TestDepthwiseStride2x3x3 checks the stride-2 in-place kernel for odd and
// even widths and heights around its vectors (16 outputs from 32 columns).
func TestDepthwiseStride2x3x3(t *testing.T) {
	withEachKernel(t, func(t *testing.T) {
		if !indWide() && !indAVX2() {
			if DepthwiseStride2x3x3(make([]float32, 4), make([]float32, 4), 2, 2, 1, make([]float32, 9), make([]float32, 1), false, 0) {
				t.Fatal("ran without a vector kernel")
			}
			return
		}
		checkDepthwiseInPlace(t, 2, []int{1, 2, 3, 7, 14, 15, 16, 17, 18, 31, 32, 33, 34, 63, 65, 112, 113}, []int{1, 2, 3, 14, 15}, 33, DepthwiseStride2x3x3)
	})
}

// TestDepthwiseInPlaceSameOnEveryKernel checks that the in-place kernels
// give the same bits with AVX-512 and with AVX2, at both strides: each
// output is its bias and then the taps in row-major order, one FMA each.
func TestDepthwiseInPlaceSameOnEveryKernel(t *testing.T) {
	saved := active
	defer func() { active = saved }()
	rng := rand.New(rand.NewPCG(91, 92))
	for _, stride := range []int{1, 2} {
		run := DepthwiseSmall3x3
		if stride == 2 {
			run = DepthwiseStride2x3x3
		}
		for _, w := range []int{1, 5, 16, 17, 33, 56, 113} {
			h, planes := 9, 4
			src := make([]float32, planes*w*h)
			for i := range src {
				src[i] = float32(rng.NormFloat64())
			}
			wts := make([]float32, 9*planes)
			for i := range wts {
				wts[i] = float32(rng.NormFloat64())
			}
			bias := []float32{0.5, -0.25, 0, 1}
			ow, oh := (w-1)/stride+1, (h-1)/stride+1
			var ref []float32
			var refName string
			for _, kr := range kernels {
				if !kr.usable() || kr == goKernel {
					continue
				}
				active = kr
				dst := make([]float32, planes*ow*oh)
				if !run(dst, src, w, h, planes, wts, bias, true, 0) {
					t.Fatalf("stride %d w%d: %s declined", stride, w, kr.name)
				}
				if ref == nil {
					ref, refName = dst, kr.name
					continue
				}
				for i := range dst {
					if math.Float32bits(dst[i]) != math.Float32bits(ref[i]) {
						t.Fatalf("stride %d w%d: element %d = %v with %s, %v with %s", stride, w, i, dst[i], kr.name, ref[i], refName)
					}
				}
			}
		}
	}
}
