package kern

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// gemmBench is one benchmark shape: C (m×n) = op(A) (m×k) · op(B) (k×n).
type gemmBench struct {
	name           string
	m, n, k        int
	transA, transB bool
}

var gemmBenches = []gemmBench{
	{name: "n=64", m: 64, n: 64, k: 64},
	{name: "n=256", m: 256, n: 256, k: 256},
	{name: "n=512", m: 512, n: 512, k: 512},
	{name: "n=1024", m: 1024, n: 1024, k: 1024},
	// MLP forward: batch×in · in×out (weights stored in×out).
	{name: "mlp-128x784x256", m: 128, n: 256, k: 784},
	{name: "mlp-64x784x256", m: 64, n: 256, k: 784},
	{name: "mlp-128x256x128", m: 128, n: 128, k: 256},
	// MLP backward for the 784→256 layer: dW = Xᵀ·dY, dX = dY·Wᵀ.
	{name: "mlp-bwd-dW-AtB-784x256x128", m: 784, n: 256, k: 128, transA: true},
	{name: "mlp-bwd-dX-ABt-128x784x256", m: 128, n: 784, k: 256, transB: true},
	{name: "gemv-1x784x256", m: 1, n: 256, k: 784},
}

func benchSgemm(b *testing.B, bc gemmBench, f func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, bb []float32, ldb int, beta float32, c []float32, ldc int)) {
	r := rand.New(rand.NewPCG(1, 2))
	a := randSlice(r, bc.m*bc.k)
	bb := randSlice(r, bc.k*bc.n)
	c := make([]float32, bc.m*bc.n)
	lda, ldb := bc.k, bc.n
	if bc.transA {
		lda = bc.m
	}
	if bc.transB {
		ldb = bc.k
	}
	f(bc.transA, bc.transB, bc.m, bc.n, bc.k, 1, a, lda, bb, ldb, 0, c, bc.n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f(bc.transA, bc.transB, bc.m, bc.n, bc.k, 1, a, lda, bb, ldb, 0, c, bc.n)
	}
	flops := 2 * float64(bc.m) * float64(bc.n) * float64(bc.k) * float64(b.N)
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkSgemm measures Sgemm with the kernel in use (Name()) on all
// threads; BenchmarkSgemmSerial the same on one goroutine.
func BenchmarkSgemm(b *testing.B) {
	for _, bc := range gemmBenches {
		b.Run(bc.name, func(b *testing.B) { benchSgemm(b, bc, Sgemm) })
	}
}

func BenchmarkSgemmSerial(b *testing.B) {
	for _, bc := range gemmBenches {
		b.Run(bc.name, func(b *testing.B) { benchSgemm(b, bc, SgemmSerial) })
	}
}

func BenchmarkVector(b *testing.B) {
	for _, n := range []int{256, 4096, 65536} {
		r := rand.New(rand.NewPCG(1, 2))
		x, y := randSlice(r, n), randSlice(r, n)
		b.Run(fmt.Sprintf("Saxpy/n=%d", n), func(b *testing.B) {
			b.SetBytes(int64(8 * n))
			for i := 0; i < b.N; i++ {
				Saxpy(1e-9, x, y)
			}
		})
		b.Run(fmt.Sprintf("Sdot/n=%d", n), func(b *testing.B) {
			b.SetBytes(int64(8 * n))
			var s float32
			for i := 0; i < b.N; i++ {
				s += Sdot(x, y)
			}
			_ = s
		})
	}
}
