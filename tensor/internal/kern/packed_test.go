package kern

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestSgemmPackedBMatchesSgemm checks the product with a B packed once
// against Sgemm on the same operands, bit for bit, for every kernel and
// driver mode, both layouts of B, several k-slices, edge rows and
// columns, alpha and beta, and a B reused across products with different
// A (as a recurrence does).
func TestSgemmPackedBMatchesSgemm(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(51, 52))
		for _, transB := range []bool{false, true} {
			for _, kn := range [][2]int{{37, 33}, {256, 1024}, {300, 100}} {
				k, n := kn[0], kn[1]
				ldb := n + 3
				if transB {
					ldb = k + 3
				}
				rows := k
				if transB {
					rows = n
				}
				b := make([]float32, rows*ldb)
				for i := range b {
					b[i] = float32(rng.NormFloat64())
				}
				pb := PackB(transB, k, n, b, ldb)
				for _, m := range []int{1, 3, 12, 64, 100} {
					for _, ab := range [][2]float32{{1, 0}, {0.5, 1}} {
						name := fmt.Sprintf("transB%v_k%d_n%d_m%d_a%v_b%v", transB, k, n, m, ab[0], ab[1])
						lda, ldc := k+1, n+2
						a := make([]float32, m*lda)
						for i := range a {
							a[i] = float32(rng.NormFloat64())
						}
						c0 := make([]float32, m*ldc)
						for i := range c0 {
							c0[i] = float32(rng.NormFloat64())
						}
						got := append([]float32(nil), c0...)
						want := append([]float32(nil), c0...)
						SgemmPackedB(m, ab[0], a, lda, pb, ab[1], got, ldc)
						Sgemm(false, transB, m, n, k, ab[0], a, lda, b, ldb, ab[1], want, ldc)
						same(t, name, got, want)
					}
				}
			}
		}
	})
}

// BenchmarkSgemmPackedB times products with B packed once, at the shapes of
// recurrent steps (batch × hidden × gates: a GRU's 3H, an LSTM's 4H) and a
// frozen classifier at batch 32.
func BenchmarkSgemmPackedB(b *testing.B) {
	for _, s := range [][3]int{{32, 128, 384}, {64, 256, 1024}, {16, 128, 384}, {32, 512, 1000}} {
		m, k, n := s[0], s[1], s[2]
		b.Run(fmt.Sprintf("%dx%dx%d", m, k, n), func(b *testing.B) {
			a, bm, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
			pb := PackB(false, k, n, bm, n)
			defer pb.Release()
			for i := 0; i < b.N; i++ {
				SgemmPackedB(m, 1, a, k, pb, 0, c, n)
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
