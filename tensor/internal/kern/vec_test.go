package kern

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestVectorKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := 0; n <= 75; n++ {
		for _, off := range []int{0, 1, 3} {
			x := randSlice(r, n+off)[off:]
			y := randSlice(r, n+off+2)[off:]
			alpha := float32(r.Float64()*4 - 2)

			y0 := append([]float32(nil), y...)
			Saxpy(alpha, x, y)
			for i := range y {
				want := float64(y0[i])
				if i < n {
					want += float64(alpha) * float64(x[i])
				}
				if math.Abs(float64(y[i])-want) > 1e-6*(1+math.Abs(want)) {
					t.Fatalf("Saxpy n=%d off=%d: y[%d] = %g, want %g", n, off, i, y[i], want)
				}
			}

			var want, scale float64
			for i := 0; i < n; i++ {
				want += float64(x[i]) * float64(y[i])
				scale += math.Abs(float64(x[i]) * float64(y[i]))
			}
			if got := Sdot(x, y); math.Abs(float64(got)-want) > 1e-6*(1+scale) {
				t.Fatalf("Sdot n=%d off=%d = %g, want %g", n, off, got, want)
			}

			x0 := append([]float32(nil), x...)
			Sscal(alpha, x)
			for i := range x {
				if w := alpha * x0[i]; x[i] != w {
					t.Fatalf("Sscal n=%d off=%d: x[%d] = %g, want %g", n, off, i, x[i], w)
				}
			}
		}
	}
}

func TestVectorKernelsPanicOnShortY(t *testing.T) {
	for name, f := range map[string]func(){
		"Saxpy": func() { Saxpy(1, make([]float32, 4), make([]float32, 3)) },
		"Sdot":  func() { Sdot(make([]float32, 4), make([]float32, 3)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Fatalf("%s with len(y) < len(x) did not panic", name)
				}
			}()
			f()
		}()
	}
}

func TestVecName(t *testing.T) {
	if n := vecName(); n != "avx2-fma" && n != "purego" {
		t.Fatalf("vecName() = %q", n)
	}
}

// gemvRows is k Saxpy calls over the rows of b, bit for bit, with the
// AVX-512 kernel (384-column passes, 16-column steps, a masked tail) and
// the AVX2 one.
func TestGemvRowsMatchesSaxpy(t *testing.T) { withEachKernel(t, testGemvRowsMatchesSaxpy) }

func testGemvRowsMatchesSaxpy(t *testing.T) {
	rng := rand.New(rand.NewPCG(71, 72))
	for _, n := range []int{1, 7, 8, 9, 15, 16, 17, 95, 96, 97, 104, 200, 383, 384, 385, 400, 783} {
		for _, k := range []int{1, 3, 17, 128} {
			ldb := n + 5
			b := make([]float32, k*ldb)
			for i := range b {
				b[i] = float32(rng.NormFloat64())
			}
			if k > 1 {
				b[ldb+n/2] = float32(math.Inf(1))
			}
			x := make([]float32, k)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			y0 := make([]float32, n)
			for i := range y0 {
				y0[i] = float32(rng.NormFloat64())
			}
			want := append([]float32(nil), y0...)
			for p := range x {
				Saxpy(x[p], b[p*ldb:p*ldb+n], want)
			}
			got := append([]float32(nil), y0...)
			if !gemvRows(x, b, ldb, got) {
				if hasGemv() {
					t.Fatalf("n=%d k=%d: gemvRows refused", n, k)
				}
				continue
			}
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
					t.Fatalf("n=%d k=%d: y[%d] = %v, Saxpy gives %v", n, k, i, got[i], want[i])
				}
			}
		}
	}
	// A zero in x is refused (Saxpy skips it, which an FMA would not).
	if gemvRows([]float32{1, 0}, make([]float32, 8), 4, make([]float32, 4)) {
		t.Fatal("gemvRows took an x with a zero")
	}
}
