//go:build !race

// The race detector makes sync.Pool drop items at random, so allocation
// counts are only meaningful without it.

package kern

import (
	"math/rand/v2"
	"testing"
)

// TestSgemmNoAllocs checks that steady-state calls reuse their buffers.
func TestSgemmNoAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	m, n, k := 128, 256, 200
	a := randSlice(r, m*k)
	b := randSlice(r, k*n)
	c := make([]float32, m*n)
	for _, tB := range []bool{false, true} {
		ldb := n
		if tB {
			ldb = k
		}
		f := func() { Sgemm(false, tB, m, n, k, 1, a, k, b, ldb, 0, c, n) }
		f()
		if allocs := testing.AllocsPerRun(20, f); allocs >= 1 {
			t.Errorf("transB=%v: %.1f allocations per call, want 0", tB, allocs)
		}
	}
	g := func() { Sgemm(false, false, 1, n, k, 1, a, k, b, n, 0, c, n) }
	g()
	if allocs := testing.AllocsPerRun(20, g); allocs >= 1 {
		t.Errorf("m=1: %.1f allocations per call, want 0", allocs)
	}
}
