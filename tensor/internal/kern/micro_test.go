package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestMicroKernels calls every usable micro-kernel and edge kernel
// directly, without the driver: odd and unrolled depths, packed A and A
// read in place (row-major and transposed, with padding), several alpha
// and beta, beta == 0 over NaNs in C, and C's padding left untouched.
// Results are compared with a float64 reference.
func TestMicroKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	scalars := [][2]float32{{1, 0}, {-0.5, 0}, {1, 1}, {0.75, -1.5}}
	const sentinel = float32(-777.25)
	n := 0
	for _, kr := range kernels {
		if !kr.usable() {
			continue
		}
		n++
		rowsList := []int{kr.mr}
		for rows, f := range kr.edge {
			if f != nil {
				rowsList = append(rowsList, rows)
			}
		}
		for _, rows := range rowsList {
			f := kr.micro
			if rows < kr.mr {
				f = kr.edge[rows]
			}
			nr := kr.nr
			for _, kc := range []int{1, 2, 3, 4, 5, 7, 8, 9, 17, 64} {
				// Layouts of A: packed (rsa 1, csa mr), row-major with
				// padding, column-major (transposed) with padding.
				layouts := [][2]int{{1, kr.mr}, {kc + 3, 1}, {1, rows + 5}}
				for li, lay := range layouts {
					rsa, csa := lay[0], lay[1]
					a := randSlice(r, (rows-1)*rsa+(kc-1)*csa+1)
					b := randSlice(r, kc*nr)
					for _, ab := range scalars {
						alpha, beta := ab[0], ab[1]
						ldc := nr + 3
						c := randSlice(r, rows*ldc)
						for i := 0; i < rows; i++ {
							for j := nr; j < ldc; j++ {
								c[i*ldc+j] = sentinel
							}
							if beta == 0 {
								for j := 0; j < nr; j++ {
									c[i*ldc+j] = float32(math.NaN())
								}
							}
						}
						c0 := append([]float32(nil), c...)
						f(kc, a, rsa, csa, b, c, ldc, alpha, beta)
						name := fmt.Sprintf("%s rows=%d kc=%d layout=%d alpha=%g beta=%g", kr.name, rows, kc, li, alpha, beta)
						checkTile(t, name, rows, nr, kc, a, rsa, csa, b, c, c0, ldc, alpha, beta, sentinel)
					}
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no usable GEMM kernel")
	}
}

func checkTile(t *testing.T, name string, rows, nr, kc int, a []float32, rsa, csa int, b, c, c0 []float32, ldc int, alpha, beta, sentinel float32) {
	t.Helper()
	tol := 1e-5 * math.Sqrt(float64(kc))
	for i := 0; i < rows; i++ {
		for j := 0; j < ldc; j++ {
			got := c[i*ldc+j]
			if j >= nr {
				if got != sentinel {
					t.Fatalf("%s: C[%d,%d] (padding) changed to %g", name, i, j, got)
				}
				continue
			}
			var s, scale float64
			for p := 0; p < kc; p++ {
				v := float64(a[i*rsa+p*csa]) * float64(b[p*nr+j])
				s += v
				scale += math.Abs(v)
			}
			want := float64(alpha) * s
			scale = math.Abs(float64(alpha))*scale + 1e-30
			if beta != 0 {
				want += float64(beta) * float64(c0[i*ldc+j])
				scale += math.Abs(float64(beta) * float64(c0[i*ldc+j]))
			}
			if d := math.Abs(float64(got) - want); !(d <= tol*scale) {
				t.Fatalf("%s: C[%d,%d] = %g, want %g", name, i, j, got, want)
			}
		}
	}
}

// TestPickKernel checks the GLASSBOX_KERNEL choice: every usable kernel
// can be picked by the first word of its name, and an empty, unknown or
// unusable choice falls back to the first usable kernel.
func TestPickKernel(t *testing.T) {
	var def *gemmKernel
	for _, k := range kernels {
		if k.usable() {
			def = k
			break
		}
	}
	if def == nil {
		t.Fatal("no usable GEMM kernel")
	}
	for _, want := range []string{"", "  ", "no-such-kernel"} {
		if got := pickKernel(want); got != def {
			t.Errorf("pickKernel(%q) = %q, want the default %q", want, got.name, def.name)
		}
	}
	for _, k := range kernels {
		word := strings.Fields(k.name)[0]
		got := pickKernel(strings.ToUpper(word))
		if k.usable() && got != k {
			t.Errorf("pickKernel(%q) = %q, want %q", word, got.name, k.name)
		}
		if !k.usable() && got != def {
			t.Errorf("pickKernel(%q) = %q for a kernel this CPU cannot run, want the default %q", word, got.name, def.name)
		}
	}
	if got := pickKernel("purego"); got != goKernel {
		t.Errorf("pickKernel(\"purego\") = %q, want %q", got.name, goKernel.name)
	}
}
