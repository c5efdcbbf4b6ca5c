package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestMaxPool2x2EveryKernel checks the 2×2 pooling kernels, forward and
// backward, with every usable GEMM kernel active (the AVX-512 and AVX2
// versions where the CPU has them) against a plain loop: the maximum with
// +0 above −0, the first position among equals in row-major order, and
// the gradient as a scatter into zeros, for widths with full steps of 8
// and 16 windows, tails, odd input widths and ties; the rest of dx stays
// as it was. A plane holding a NaN must be reported (false).
func TestMaxPool2x2EveryKernel(t *testing.T) {
	withEachKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(41, 42))
		for _, ow := range []int{1, 3, 7, 8, 9, 14, 16, 23, 40} {
			for _, extra := range []int{0, 1} {
				oh, w := 3, 2*ow+extra
				name := fmt.Sprintf("ow%d_w%d", ow, w)
				in := make([]float32, (2*oh+extra)*w)
				for i := range in {
					switch rng.IntN(4) {
					case 0:
						in[i] = float32(math.Copysign(0, rng.NormFloat64()))
					case 1:
						in[i] = float32(rng.IntN(3) - 1)
					default:
						in[i] = float32(rng.NormFloat64())
					}
				}
				out, arg := make([]float32, oh*ow), make([]int32, oh*ow)
				if !MaxPool2x2(out, arg, in, w, oh, ow) {
					if DotImagesFast() { // the AVX-512 or AVX2 plane kernels are active
						t.Fatalf("%s: no vector kernel ran with %s", name, active.name)
					}
					continue
				}
				for oy := 0; oy < oh; oy++ {
					for ox := 0; ox < ow; ox++ {
						pos := []int{2*oy*w + 2*ox, 2*oy*w + 2*ox + 1, (2*oy+1)*w + 2*ox, (2*oy+1)*w + 2*ox + 1}
						best := max(max(in[pos[0]], in[pos[1]]), max(in[pos[2]], in[pos[3]]))
						first := pos[0]
						for _, p := range pos {
							if in[p] == best {
								first = p
								break
							}
						}
						k := oy*ow + ox
						if math.Float32bits(out[k]) != math.Float32bits(best) || int(arg[k]) != first {
							t.Fatalf("%s: window (%d,%d) = %v at %d, want %v at %d", name, oy, ox, out[k], arg[k], best, first)
						}
					}
				}
				dy := make([]float32, oh*ow)
				for i := range dy {
					dy[i] = float32(rng.NormFloat64())
				}
				const sentinel = 7
				dx, want := make([]float32, len(in)), make([]float32, len(in))
				for i := range dx {
					dx[i], want[i] = sentinel, sentinel
				}
				for oy := 0; oy < 2*oh; oy++ {
					clear(want[oy*w : oy*w+2*ow])
				}
				for k, a := range arg {
					want[a] += dy[k]
				}
				if !MaxPool2x2Backward(dx, dy, arg, w, oh, ow) {
					t.Fatalf("%s: the forward ran a vector kernel but the backward did not", name)
				}
				same(t, name+" backward", dx, want)

				in[len(in)/2] = float32(math.NaN())
				if len(in)/2/w < 2*oh && len(in)/2%w < 2*ow && MaxPool2x2(out, arg, in, w, oh, ow) {
					t.Fatalf("%s: a window with a NaN was not reported", name)
				}
			}
		}
	})
}
