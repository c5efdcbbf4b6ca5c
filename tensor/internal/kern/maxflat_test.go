package kern

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestMaxFlat checks the flat pooling maximum for lengths that exercise
// every step and masked tail, against the Go loop and the definition;
// that nothing past dst is written; that a NaN in any run (first tap or
// later, in a vector step or a tail) is reported; and ±Inf.
func TestMaxFlat(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	offs := []int32{0, 1, 2, 13, 14, 15, 26, 27, 28}
	for _, n := range []int{1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 129} {
		src := make([]float32, n+30)
		for i := range src {
			src[i] = float32(rng.NormFloat64())
		}
		src[len(src)/2] = float32(math.Inf(-1))
		src[len(src)/3] = float32(math.Inf(1))
		const sentinel = 777
		dst := make([]float32, n+20)
		goDst := make([]float32, n+20)
		for i := range dst {
			dst[i], goDst[i] = sentinel, sentinel
		}
		if MaxFlat(dst[:n], src, offs) || maxFlatGo(goDst[:n], src, offs) {
			t.Fatalf("n %d: a NaN reported with none in the runs", n)
		}
		for i := range dst {
			want := float32(sentinel)
			if i < n {
				want = float32(math.Inf(-1))
				for _, o := range offs {
					want = max(want, src[int(o)+i])
				}
			}
			if dst[i] != want || goDst[i] != want {
				t.Fatalf("n %d: [%d] = %v (Go %v), want %v", n, i, dst[i], goDst[i], want)
			}
		}
		for _, at := range []int{0, n - 1, n/2 + 13, n + 27} { // first tap, tail, a middle tap, the last tap's end
			s := append([]float32(nil), src...)
			s[at] = float32(math.NaN())
			if !MaxFlat(make([]float32, n), s, offs) || !maxFlatGo(make([]float32, n), s, offs) {
				t.Fatalf("n %d: a NaN at %d not reported", n, at)
			}
		}
	}
	// A NaN outside every run read is not reported.
	s := make([]float32, 40)
	s[39] = float32(math.NaN())
	if MaxFlat(make([]float32, 8), s, offs[:3]) {
		t.Fatal("a NaN no run reads was reported")
	}
}
