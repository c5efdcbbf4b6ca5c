package kern

import (
	"math"
	"testing"
)

// AllFinite finds a NaN, +Inf or −Inf wherever it sits (the unrolled body,
// the 16- or 8-float steps, the masked or Go tail) and accepts large finite
// values, zeros and subnormals, on every kernel.
func TestAllFinite(t *testing.T) { withEachKernel(t, testAllFinite) }

func testAllFinite(t *testing.T) {
	bad := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 63, 64, 65, 100, 1000} {
		d := make([]float32, n+1)
		for i := range d[:n] {
			switch i % 4 {
			case 0:
				d[i] = math.MaxFloat32
			case 1:
				d[i] = -math.MaxFloat32
			case 2:
				d[i] = math.SmallestNonzeroFloat32
			}
		}
		d[n] = float32(math.NaN()) // past the end: never read
		if !AllFinite(d[:n]) {
			t.Fatalf("n=%d: finite values reported as not finite", n)
		}
		for i := 0; i < n; i++ {
			for _, b := range bad {
				old := d[i]
				d[i] = b
				if AllFinite(d[:n]) {
					t.Fatalf("n=%d: %v at %d not found", n, b, i)
				}
				d[i] = old
			}
		}
	}
}

func BenchmarkAllFinite(b *testing.B) {
	d := make([]float32, 784*256)
	b.SetBytes(int64(4 * len(d)))
	for i := 0; i < b.N; i++ {
		if !AllFinite(d) {
			b.Fatal("zeros reported as not finite")
		}
	}
}
