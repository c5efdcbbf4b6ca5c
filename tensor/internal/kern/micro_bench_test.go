package kern

import (
	"strconv"
	"testing"
)

// BenchmarkMicroL1 runs the micro-kernel alone on panels that stay in L1:
// the ceiling for Sgemm (on Zen 3, 6x16 reaches 32 flops/cycle per core).
func BenchmarkMicroL1(b *testing.B) {
	for _, kc := range []int{64, 128, 256, 384} {
		b.Run("kc="+strconv.Itoa(kc), func(b *testing.B) {
			kr := active
			a := make([]float32, kr.mr*kc)
			bb := make([]float32, kr.nr*kc)
			c := make([]float32, kr.mr*kr.nr)
			for i := 0; i < b.N; i++ {
				kr.micro(kc, a, 1, kr.mr, bb, c, kr.nr, 1, 1)
			}
			b.ReportMetric(2*float64(kr.mr*kr.nr*kc)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkParallelForOverhead is the cost of one ParallelFor hand-off.
func BenchmarkParallelForOverhead(b *testing.B) {
	var sink [2]int64
	for i := 0; i < b.N; i++ {
		ParallelFor(2, 1, func(lo, hi int) { sink[lo]++ })
	}
}
