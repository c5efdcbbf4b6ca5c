package kern

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestLSTMGateGradsMatchesGo checks the vector LSTM cell backward against
// the Go loop bit for bit, for widths with and without a masked tail, and
// that nothing past the row is written.
func TestLSTMGateGradsMatchesGo(t *testing.T) { withEachKernel(t, testLSTMGateGradsMatchesGo) }

func testLSTMGateGradsMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, n := range []int{1, 7, 8, 16, 33, 256} {
		rnd := func(m int, sig bool) []float32 {
			v := make([]float32, m+3)
			for i := range v {
				x := rng.NormFloat64()
				if sig {
					x = 1 / (1 + math.Exp(-x))
				}
				v[i] = float32(x)
			}
			return v
		}
		a, cPrev, tc := rnd(4*n, true), rnd(n, false), rnd(n, true)
		dhRec, dhOut, dc := rnd(n, false), rnd(n, false), rnd(n, false)
		da := rnd(4*n, false)
		dc2, da2 := append([]float32(nil), dc...), append([]float32(nil), da...)
		LSTMGateGrads(a, cPrev, tc, dhRec, dhOut, dc[:n], da)
		lstmGateGradsGo(a, cPrev, tc, dhRec, dhOut, dc2[:n], da2, 0)
		same(t, "dc", dc, dc2)
		same(t, "da", da, da2)
	}
}
