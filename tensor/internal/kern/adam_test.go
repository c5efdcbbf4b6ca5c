package kern

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestAdamUpdateMatchesGo checks the vector Adam update against the Go
// loop bit for bit over a few steps, with and without L2 decay, for sizes
// with and without a masked tail, and that nothing past n is written.
func TestAdamUpdateMatchesGo(t *testing.T) { withEachKernel(t, testAdamUpdateMatchesGo) }

func testAdamUpdateMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, n := range []int{1, 7, 8, 15, 16, 100, 1000} {
		for _, l2 := range []float32{0, 0.01} {
			rnd := func(scale float64) []float32 {
				v := make([]float32, n+2)
				for i := range v {
					v[i] = float32(rng.NormFloat64() * scale)
				}
				return v
			}
			w, m := rnd(1), rnd(0.1)
			v := rnd(0.1)
			for i := range v {
				v[i] *= v[i]
			}
			w2, m2, v2 := append([]float32(nil), w...), append([]float32(nil), m...), append([]float32(nil), v...)
			for step := 0; step < 3; step++ {
				g := rnd(1)
				AdamUpdate(w[:n], g, m, v, 0.9, 0.999, l2, 1e-3, 1.2, 1e-8)
				b1, b2 := float32(0.9), float32(0.999)
				c := [8]float32{b1, 1 - b1, b2, 1 - b2, l2, 1e-3, 1.2, 1e-8}
				adamGo(w2[:n], g[:n], m2[:n], v2[:n], &c)
			}
			same(t, "w", w, w2)
			same(t, "m", m, m2)
			same(t, "v", v, v2)
		}
	}
}

// BenchmarkAdamUpdate times the update of an MLP's first and second layer
// on one thread and on two (AdamUpdate runs on the caller's alone; this
// shows whether it should not).
func BenchmarkAdamUpdate(b *testing.B) {
	for _, n := range []int{784 * 256, 256 * 128} {
		for _, th := range []int{1, 2} {
			b.Run(fmt.Sprintf("n=%d/threads=%d", n, th), func(b *testing.B) {
				defer SetThreads(Threads())
				SetThreads(th)
				w, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
				b.SetBytes(int64(28 * n))
				for i := 0; i < b.N; i++ {
					AdamUpdate(w, g, m, v, 0.9, 0.999, 0, 1e-3, 1.2, 1e-8)
				}
			})
		}
	}
}
