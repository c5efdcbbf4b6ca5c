package kern

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestGRURowForward checks the GRU row kernel bit for bit against the
// plain loops it replaces (the same operations in the same order, around
// the same σ and tanh), for widths around the eight-lane passes, and that
// a short slice panics.
func TestGRURowForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	vec := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	for _, n := range []int{1, 7, 8, 9, 13, 16, 64, 100, 128} {
		x, bx, hg, bh, hPrev := vec(3*n), vec(3*n), vec(3*n), vec(3*n), vec(n)
		s, h := make([]float32, 4*n), make([]float32, n)
		GRURowForward(x, bx, hg, bh, hPrev, s, h)

		ws, wh := make([]float32, 4*n), make([]float32, n)
		for j := 0; j < 2*n; j++ {
			ws[j] = x[j] + bx[j] + hg[j] + bh[j]
		}
		Sigmoid(ws[:2*n], ws[:2*n])
		for j := 0; j < n; j++ {
			hn := hg[2*n+j] + bh[2*n+j]
			ws[3*n+j] = hn
			ws[2*n+j] = x[2*n+j] + bx[2*n+j] + ws[j]*hn
		}
		Tanh(ws[2*n:3*n], ws[2*n:3*n])
		for j := 0; j < n; j++ {
			wh[j] = ws[2*n+j] + ws[n+j]*(hPrev[j]-ws[2*n+j])
		}
		for j := range ws {
			if math.Float32bits(s[j]) != math.Float32bits(ws[j]) {
				t.Fatalf("n %d: s[%d] = %v, want %v", n, j, s[j], ws[j])
			}
		}
		for j := range wh {
			if math.Float32bits(h[j]) != math.Float32bits(wh[j]) {
				t.Fatalf("n %d: h[%d] = %v, want %v", n, j, h[j], wh[j])
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a short state slice did not panic")
		}
	}()
	GRURowForward(make([]float32, 6), make([]float32, 6), make([]float32, 6), make([]float32, 6), make([]float32, 2), make([]float32, 7), make([]float32, 2))
}
