package kern

import (
	"fmt"
	"testing"
)

// BenchmarkConvRows times one image of ResNet-18's 3×3 stride-1 layers on
// one core, as the indirect GEMM's in-place rows (pixels on the lanes) and
// as SgemmPixelsRows (output channels on the lanes).
func BenchmarkConvRows(b *testing.B) {
	for _, s := range []struct{ c, hw int }{{64, 56}, {128, 28}, {256, 14}, {512, 7}} {
		hp, wp := s.hw+2, s.hw+2
		k := s.c * 9
		src := make([]float32, s.c*hp*wp+2)
		for i := range src {
			src[i] = float32(i%13) / 13
		}
		offs := make([]int32, k)
		for q := range offs {
			c, t := q/9, q%9
			offs[q] = int32(c*hp*wp + (t/3)*wp + t%3)
		}
		w := make([]float32, s.c*k)
		for i := range w {
			w[i] = float32(i%7) / 7
		}
		bias := make([]float32, s.c)
		ohw := s.hw * s.hw
		out := make([]float32, s.c*ohw)
		flops := float64(2 * s.c * k * ohw)
		b.Run(fmt.Sprintf("indirect/%d@%d", s.c, s.hw), func(b *testing.B) {
			pa := PackIndirectA(s.c, k, w, k, false)
			for i := 0; i < b.N; i++ {
				SgemmIndirectRowsPacked(pa, src, offs, s.hw, s.hw, wp, bias, true, 0, out, ohw, s.hw)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(fmt.Sprintf("pixels/%d@%d", s.c, s.hw), func(b *testing.B) {
			pw := PackPixW(s.c, k, w, k)
			for i := 0; i < b.N; i++ {
				SgemmPixelsRows(pw, 0, pw.Panels(), src, offs, 0, s.hw, s.hw, wp, bias, true, 0, out, ohw, s.hw)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
