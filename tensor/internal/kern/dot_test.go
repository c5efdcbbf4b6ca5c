package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestSgemmDotImages checks the image-summed indirect A·Bᵀ against a
// float64 reference for block edges (m, n not multiples of 4, and below
// 4), k with and without a masked tail, several images, beta 0 and 1,
// and that the assembly (where present) and the Go lanes agree within
// rounding; a second call gives the same bits. It runs with every usable
// GEMM kernel active, so both the AVX-512 4×4 and the AVX2 4×3 blocks
// are checked where the CPU has them.
func TestSgemmDotImages(t *testing.T) {
	withEachKernel(t, testSgemmDotImages)
}

func testSgemmDotImages(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, m := range []int{1, 3, 4, 6, 16} {
		for _, n := range []int{2, 4, 7, 25} {
			for _, k := range []int{5, 16, 37, 140} {
				for _, nimg := range []int{1, 3} {
					name := fmt.Sprintf("m%d_n%d_k%d_img%d", m, n, k, nimg)
					lda := k + 3
					astep := m*lda + 5
					a := make([]float32, nimg*astep)
					for i := range a {
						a[i] = float32(rng.NormFloat64())
					}
					sstep := 2*k + 11
					src := make([]float32, nimg*sstep+k)
					for i := range src {
						src[i] = float32(rng.NormFloat64())
					}
					offs := make([]int32, n)
					for i := range offs {
						offs[i] = int32(rng.IntN(sstep))
					}
					ldc := n + 2
					c0 := make([]float32, m*ldc)
					for i := range c0 {
						c0[i] = float32(rng.NormFloat64())
					}
					for _, beta := range []float32{0, 1} {
						c := append([]float32(nil), c0...)
						SgemmDotImages(m, n, k, nimg, a, lda, astep, src, offs, sstep, beta, c, ldc)
						again := append([]float32(nil), c0...)
						SgemmDotImages(m, n, k, nimg, a, lda, astep, src, offs, sstep, beta, again, ldc)
						for i := 0; i < m; i++ {
							for tt := 0; tt < n; tt++ {
								var s float64
								for j := 0; j < nimg; j++ {
									for p := 0; p < k; p++ {
										s += float64(a[j*astep+i*lda+p]) * float64(src[j*sstep+int(offs[tt])+p])
									}
								}
								want := float64(beta)*float64(c0[i*ldc+tt]) + s
								got := float64(c[i*ldc+tt])
								if math.Abs(got-want) > 1e-4*math.Sqrt(float64(k*nimg))*(1+math.Abs(want)) {
									t.Fatalf("%s beta %v: C[%d,%d] = %v, want %v", name, beta, i, tt, got, want)
								}
								if math.Float32bits(c[i*ldc+tt]) != math.Float32bits(again[i*ldc+tt]) {
									t.Fatalf("%s: two calls differ at C[%d,%d]", name, i, tt)
								}
							}
							if i < m-1 && c[i*ldc+n] != c0[i*ldc+n] {
								t.Fatalf("%s: wrote past column %d of row %d", name, n, i)
							}
						}
					}
				}
			}
		}
	}
}

// TestSgemmDotImagesAnySplit checks that an entry's bits do not depend on
// the block that computes it: rows and runs taken from the middle of a
// product (other block boundaries, a moved-back last block) give the same
// bits as the whole product, with every usable kernel.
func TestSgemmDotImagesAnySplit(t *testing.T) {
	saved := active
	defer func() { active = saved }()
	rng := rand.New(rand.NewPCG(9, 10))
	const m, n, k, nimg = 14, 23, 75, 2
	lda, astep, sstep := k+1, m*(k+1), 3*k
	a := make([]float32, nimg*astep)
	src := make([]float32, nimg*sstep+k)
	for i := range a {
		a[i] = float32(rng.NormFloat64())
	}
	for i := range src {
		src[i] = float32(rng.NormFloat64())
	}
	offs := make([]int32, n)
	for i := range offs {
		offs[i] = int32(rng.IntN(sstep))
	}
	for _, kr := range kernels {
		if !kr.usable() {
			continue
		}
		active = kr
		whole := make([]float32, m*n)
		SgemmDotImages(m, n, k, nimg, a, lda, astep, src, offs, sstep, 0, whole, n)
		const i0, t0, mm, nn = 5, 7, 6, 13
		part := make([]float32, mm*nn)
		SgemmDotImages(mm, nn, k, nimg, a[i0*lda:], lda, astep, src, offs[t0:], sstep, 0, part, nn)
		for i := 0; i < mm; i++ {
			for j := 0; j < nn; j++ {
				if math.Float32bits(part[i*nn+j]) != math.Float32bits(whole[(i0+i)*n+t0+j]) {
					t.Fatalf("%s: C[%d,%d] = %v in a part, %v in the whole", kr.name, i0+i, t0+j, part[i*nn+j], whole[(i0+i)*n+t0+j])
				}
			}
		}
	}
}

// TestSgemmDotImagesErrors checks that bad arguments panic with the
// function's name instead of reading out of range.
func TestSgemmDotImagesErrors(t *testing.T) {
	a := make([]float32, 64)
	src := make([]float32, 64)
	c := make([]float32, 16)
	cases := map[string]func(){
		"negative k":  func() { SgemmDotImages(2, 2, -1, 1, a, 8, 0, src, []int32{0, 1}, 0, 0, c, 4) },
		"few offsets": func() { SgemmDotImages(2, 3, 4, 1, a, 8, 0, src, []int32{0, 1}, 0, 0, c, 4) },
		"short A":     func() { SgemmDotImages(4, 2, 30, 2, a, 30, 40, src, []int32{0, 1}, 0, 0, c, 4) },
		"run past":    func() { SgemmDotImages(2, 2, 8, 1, a, 8, 0, src, []int32{0, 60}, 0, 0, c, 4) },
	}
	for name, f := range cases {
		func() {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), "kern.SgemmDotImages") {
					t.Errorf("%s: panic %v, want one naming kern.SgemmDotImages", name, r)
				}
			}()
			f()
		}()
	}
}
