package tensor

import (
	"math"
	"slices"
	"sync/atomic"
	"testing"
)

// TestBackendInterface: the slice-level functions autograd and the
// benchmarks use compute what their documentation says.
func TestBackendInterface(t *testing.T) {
	if KernelName() == "" || Threads() < 1 {
		t.Fatalf("KernelName() = %q, Threads() = %d", KernelName(), Threads())
	}

	// [1 2; 3 4]·[5 6; 7 8] = [19 22; 43 50], then Aᵀ·B + C.
	a, b := []float32{1, 2, 3, 4}, []float32{5, 6, 7, 8}
	c := []float32{math.Float32frombits(0x7fc00000), 0, 0, 0} // beta = 0 ignores NaN
	Sgemm(false, false, 2, 2, 2, 1, a, 2, b, 2, 0, c, 2)
	if want := []float32{19, 22, 43, 50}; !slices.Equal(c, want) {
		t.Fatalf("Sgemm = %v, want %v", c, want)
	}
	Sgemm(true, false, 2, 2, 2, 1, a, 2, b, 2, 1, c, 2) // Aᵀ·B = [26 30; 38 44]
	if want := []float32{45, 52, 81, 94}; !slices.Equal(c, want) {
		t.Fatalf("Sgemm(transA, beta 1) = %v, want %v", c, want)
	}

	var covered atomic.Int64
	ParallelFor(100000, 1000, func(lo, hi int) { covered.Add(int64(hi - lo)) })
	if covered.Load() != 100000 {
		t.Fatalf("ParallelFor covered %d of 100000", covered.Load())
	}

	d := make([]float32, 4)
	ReLUGradSlice(d, []float32{1, 2, 3, 4}, []float32{0.5, 0, -1, 2})
	if want := []float32{1, 0, 0, 4}; !slices.Equal(d, want) {
		t.Fatalf("ReLUGradSlice = %v, want %v", d, want)
	}
	s := []float32{-1, 0, 0.5, 30}
	TanhSlice(d, s)
	SigmoidSlice(s, s) // in place
	for i, x := range []float64{-1, 0, 0.5, 30} {
		if math.Abs(float64(d[i])-math.Tanh(x)) > 4e-7 || math.Abs(float64(s[i])-1/(1+math.Exp(-x))) > 3e-7 {
			t.Fatalf("x = %v: TanhSlice %v, SigmoidSlice %v", x, d[i], s[i])
		}
	}
}
