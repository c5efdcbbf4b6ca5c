package kern

import (
	"math"
	"testing"
)

// actInputs covers every lane of the vector loop and the scalar tail,
// with the values the rectifier must get right: ±0, NaN, ±Inf, the
// smallest subnormal.
func actInputs(n int) []float32 {
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, 1.5, -2.25}
	x := make([]float32, n)
	for i := range x {
		if i%3 == 0 {
			x[i] = special[(i/3)%len(special)]
		} else {
			x[i] = float32(i%11) - 5.5
		}
	}
	return x
}

func sameBits(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }

func TestAddBiasMatchesGo(t *testing.T) {
	for _, n := range []int{1, 7, 8, 9, 31, 64, 133} {
		src := actInputs(n)
		for _, b := range []float32{0, float32(math.Copysign(0, -1)), 0.75, -1} {
			for _, relu := range []bool{false, true} {
				got := make([]float32, n)
				AddBias(got, src, b, relu)
				for i, v := range src {
					want := v + b
					if relu {
						want = max(v+b, 0)
					}
					if !sameBits(got[i], want) {
						t.Fatalf("n=%d b=%v relu=%v: dst[%d] = %v (bits %#x), want %v (bits %#x) for src %v",
							n, b, relu, i, got[i], math.Float32bits(got[i]), want, math.Float32bits(want), v)
					}
				}
			}
		}
	}
}

func TestReLUGradMatchesGo(t *testing.T) {
	for _, n := range []int{1, 8, 15, 64, 101} {
		y := actInputs(n)
		g := make([]float32, n)
		for i := range g {
			g[i] = float32(i) + 0.5
		}
		got := make([]float32, n)
		ReLUGrad(got, g, y)
		for i := range y {
			pass := y[i] > 0 || math.IsNaN(float64(y[i])) || (y[i] == 0 && math.Signbit(float64(y[i])))
			want := float32(0)
			if pass {
				want = g[i]
			}
			if !sameBits(got[i], want) {
				t.Fatalf("n=%d: dst[%d] = %v, want %v (y = %v)", n, i, got[i], want, y[i])
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Fatal("short y: no panic")
		}
	}()
	ReLUGrad(make([]float32, 4), make([]float32, 4), make([]float32, 3))
}
