package segment

import "testing"

func benchSeg(b *testing.B, pix []float32, c, h, w int, fn func([]float32, int, int, int) (*Segmentation, error)) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := fn(pix, c, h, w); err != nil {
			b.Fatal(err)
		}
	}
}

func qs(p []float32, c, h, w int) (*Segmentation, error) {
	return Quickshift(p, c, h, w, QuickshiftOptions{})
}
func slic(p []float32, c, h, w int) (*Segmentation, error) { return SLIC(p, c, h, w, SLICOptions{}) }

func BenchmarkQuickshift28(b *testing.B) { benchSeg(b, digit7(28, 28), 1, 28, 28, qs) }
func BenchmarkSLIC28(b *testing.B)       { benchSeg(b, digit7(28, 28), 1, 28, 28, slic) }
func BenchmarkAuto28(b *testing.B)       { benchSeg(b, digit7(28, 28), 1, 28, 28, Auto) }
func BenchmarkQuickshift224(b *testing.B) {
	benchSeg(b, scene(224, 224), 3, 224, 224, qs)
}
func BenchmarkSLIC224(b *testing.B) { benchSeg(b, scene(224, 224), 3, 224, 224, slic) }
func BenchmarkAuto224(b *testing.B) { benchSeg(b, scene(224, 224), 3, 224, 224, Auto) }
