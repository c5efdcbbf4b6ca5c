package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// indirectRef is C = A·B in float64 with B's rows read through offs.
func indirectRef(m, n, k int, a []float32, lda int, src []float32, offs []int32) []float64 {
	c := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				s += float64(a[i*lda+p]) * float64(src[int(offs[p])+j])
			}
			c[i*n+j] = s
		}
	}
	return c
}

// TestSgemmIndirectBMatchesReference covers every tile height (6, 4, 2
// and the zero-padded 5, 3, 1), full and partial 16-column strips,
// k not a multiple of the unrolling, overlapping runs, and strided A
// and C; in the purego build it checks the Go tile.
func TestSgemmIndirectBMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, m := range []int{1, 2, 3, 4, 5, 6, 7, 11, 12, 32} {
		for _, n := range []int{1, 15, 16, 17, 33, 64} {
			for _, k := range []int{1, 3, 4, 9, 27, 130} {
				name := fmt.Sprintf("m%d_n%d_k%d", m, n, k)
				lda, ldc := k+3, n+5
				a := make([]float32, m*lda)
				for i := range a {
					a[i] = float32(rng.NormFloat64())
				}
				src := make([]float32, 3*n+50)
				for i := range src {
					src[i] = float32(rng.NormFloat64())
				}
				offs := make([]int32, k)
				for p := range offs {
					offs[p] = int32(rng.IntN(len(src) - n + 1))
				}
				c := make([]float32, m*ldc)
				for i := range c {
					c[i] = float32(math.NaN()) // overwritten, never read
				}
				SgemmIndirectB(m, n, k, a, lda, src, offs, c, ldc)
				want := indirectRef(m, n, k, a, lda, src, offs)
				tol := 1e-5 * math.Sqrt(float64(k)) * 4
				for i := 0; i < m; i++ {
					for j := 0; j < n; j++ {
						got, w := float64(c[i*ldc+j]), want[i*n+j]
						if math.Abs(got-w) > tol*(1+math.Abs(w)) {
							t.Fatalf("%s: C[%d,%d] = %v, want %v", name, i, j, got, w)
						}
					}
					for j := n; j < ldc && i < m-1; j++ {
						if !math.IsNaN(float64(c[i*ldc+j])) {
							t.Fatalf("%s: wrote C[%d,%d] past the %d columns", name, i, j, n)
						}
					}
				}
			}
		}
	}
}

func TestSgemmIndirectBEmptyAndErrors(t *testing.T) {
	c := []float32{1, 2, 3, 4}
	SgemmIndirectB(2, 2, 0, nil, 1, nil, nil, c, 2)
	for _, v := range c {
		if v != 0 {
			t.Fatalf("k = 0 must zero C, got %v", c)
		}
	}
	for _, tc := range []struct {
		name, want string
		f          func()
	}{
		{"short offs", "row offsets", func() {
			SgemmIndirectB(1, 2, 3, make([]float32, 3), 3, make([]float32, 9), []int32{0, 1}, make([]float32, 2), 2)
		}},
		{"run past src", "offset 8", func() {
			SgemmIndirectB(1, 2, 2, make([]float32, 2), 2, make([]float32, 9), []int32{0, 8}, make([]float32, 2), 2)
		}},
		{"negative offset", "offset -1", func() {
			SgemmIndirectB(1, 2, 1, make([]float32, 1), 1, make([]float32, 9), []int32{-1}, make([]float32, 2), 2)
		}},
		{"short C", "len(C)", func() {
			SgemmIndirectB(2, 2, 1, make([]float32, 2), 1, make([]float32, 9), []int32{0}, make([]float32, 3), 2)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), tc.want) {
					t.Fatalf("panic %v, want one mentioning %q", r, tc.want)
				}
			}()
			tc.f()
		})
	}
}

func BenchmarkSgemmIndirectB(b *testing.B) {
	// The conv 32→32 on 32×32 images: 288 taps over one padded image.
	const cg, og, hp, wp = 32, 32, 34, 34
	L := 32 * wp
	src := make([]float32, cg*hp*wp+16)
	for i := range src {
		src[i] = float32(i%7) - 3
	}
	offs := make([]int32, 0, cg*9)
	for c := 0; c < cg; c++ {
		for ki := 0; ki < 3; ki++ {
			for kj := 0; kj < 3; kj++ {
				offs = append(offs, int32(c*hp*wp+ki*wp+kj))
			}
		}
	}
	a := make([]float32, og*len(offs))
	c := make([]float32, og*L)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		SgemmIndirectB(og, L, len(offs), a, len(offs), src, offs, c, L)
	}
	b.ReportMetric(2*float64(og*L*len(offs))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// TestSgemmIndirectBParallelMatchesSerial: splitting the strips over
// goroutines changes nothing, bit for bit.
func TestSgemmIndirectBParallelMatchesSerial(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	m, n, k := 13, 16*40+7, 300
	a := make([]float32, m*k)
	for i := range a {
		a[i] = float32(rng.NormFloat64())
	}
	src := make([]float32, n+400)
	for i := range src {
		src[i] = float32(rng.NormFloat64())
	}
	offs := make([]int32, k)
	for p := range offs {
		offs[p] = int32(rng.IntN(400))
	}
	c1, c2 := make([]float32, m*n), make([]float32, m*n)
	SgemmIndirectBSerial(m, n, k, a, k, src, offs, c1, n)
	SgemmIndirectB(m, n, k, a, k, src, offs, c2, n)
	for i := range c1 {
		if math.Float32bits(c1[i]) != math.Float32bits(c2[i]) {
			t.Fatalf("C[%d]: serial %v, parallel %v", i, c1[i], c2[i])
		}
	}
	want := indirectRef(m, n, k, a, k, src, offs)
	for i := range want {
		if math.Abs(float64(c2[i])-want[i]) > 1e-3*(1+math.Abs(want[i])) {
			t.Fatalf("C[%d] = %v, want %v", i, c2[i], want[i])
		}
	}
}

// TestSgemmIndirectBTMatchesSgemm: with B's rows gathered through offsets
// the product equals Sgemm's on the gathered matrix bit for bit, in the
// plain-loop, column and row modes, with beta, serial or parallel.
func TestSgemmIndirectBTMatchesSgemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, sh := range [][3]int{{1, 5, 3}, {2, 40, 9}, {7, 2, 30}, {5, 9, 4}, {32, 288, 1088}, {13, 33, 75}, {300, 20, 700}, {6, 16, 8}} {
		m, n, k := sh[0], sh[1], sh[2]
		for _, beta := range []float32{0, 1, 0.5} {
			for _, serial := range []bool{false, true} {
				name := fmt.Sprintf("%dx%dx%d beta%v serial%v", m, n, k, beta, serial)
				a := make([]float32, m*k)
				for i := range a {
					a[i] = float32(rng.NormFloat64())
				}
				src := make([]float32, k+3*n+17)
				for i := range src {
					src[i] = float32(rng.NormFloat64())
				}
				offs := make([]int32, n)
				dense := make([]float32, n*k)
				for j := range offs {
					offs[j] = int32(rng.IntN(len(src) - k + 1))
					copy(dense[j*k:], src[offs[j]:int(offs[j])+k])
				}
				c0 := make([]float32, m*n)
				for i := range c0 {
					c0[i] = float32(rng.NormFloat64())
				}
				want, got := append([]float32(nil), c0...), append([]float32(nil), c0...)
				Sgemm(false, true, m, n, k, 1.5, a, k, dense, k, beta, want, n)
				if serial {
					SgemmIndirectBTSerial(m, n, k, 1.5, a, k, src, offs, beta, got, n)
				} else {
					SgemmIndirectBT(m, n, k, 1.5, a, k, src, offs, beta, got, n)
				}
				for i := range want {
					if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
						t.Fatalf("%s: C[%d] = %v, Sgemm on the gathered B gives %v", name, i, got[i], want[i])
					}
				}
			}
		}
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "offset 7") {
			t.Fatalf("panic %v, want one about the run at offset 7", r)
		}
	}()
	SgemmIndirectBT(1, 1, 4, 1, make([]float32, 4), 4, make([]float32, 10), []int32{7}, 0, make([]float32, 1), 1)
}

// TestSgemmIndirectBSameOnEveryKernel checks that the indirect product is
// bit-identical whichever micro-kernel is active: the AVX-512 32-column
// tiles and the AVX2 16-column ones both sum each element in k order with
// one FMA per step (the Go tile, which multiplies and adds separately, is
// left to the reference test). Widths cover 32-column pairs, a lone
// 16-column strip after them and a partial strip; on AVX-512 both with the
// 16-column tiles for strips of 16 columns or fewer and without them.
func TestSgemmIndirectBSameOnEveryKernel(t *testing.T) {
	saved, savedHalf := active, halfTilesOff
	defer func() { active, halfTilesOff = saved, savedHalf }()
	type variant struct {
		kr      *gemmKernel
		halfOff bool
		name    string
	}
	var variants []variant
	for _, kr := range kernels {
		if !kr.usable() || kr == goKernel {
			continue
		}
		variants = append(variants, variant{kr, false, kr.name})
		if active = kr; indWide() {
			variants = append(variants, variant{kr, true, kr.name + " (32-column tiles only)"})
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, m := range []int{1, 6, 8, 12, 16, 23} {
		for _, n := range []int{5, 16, 31, 32, 48, 64, 80, 97} {
			k := 37
			a := make([]float32, m*k)
			for i := range a {
				a[i] = float32(rng.NormFloat64())
			}
			src := make([]float32, 2*n+k+64)
			for i := range src {
				src[i] = float32(rng.NormFloat64())
			}
			offs := make([]int32, k)
			for p := range offs {
				offs[p] = int32(rng.IntN(len(src) - n + 1))
			}
			var ref []float32
			var refName string
			for _, v := range variants {
				active, halfTilesOff = v.kr, v.halfOff
				c := make([]float32, m*n)
				SgemmIndirectB(m, n, k, a, k, src, offs, c, n)
				if ref == nil {
					ref, refName = c, v.name
					continue
				}
				for i := range c {
					if math.Float32bits(c[i]) != math.Float32bits(ref[i]) {
						t.Fatalf("m%d n%d: C[%d] = %v with %s, %v with %s", m, n, i, c[i], v.name, ref[i], refName)
					}
				}
			}
		}
	}
}

// TestSgemmIndirectRowsMatchesWide checks the in-place row product against
// SgemmIndirectB on the padded width followed by AddBias, bit for bit:
// a convolution's output rows with and without bias and rectifier, rows
// wider than one 32-column tile and narrower, channel counts that leave
// a partial tile.
func TestSgemmIndirectRowsMatchesWide(t *testing.T) {
	withEachKernel(t, testSgemmIndirectRowsMatchesWide)
}

func testSgemmIndirectRowsMatchesWide(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	for _, m := range []int{1, 6, 7, 16, 32} {
		for _, ow := range []int{5, 16, 28, 32, 40} {
			for _, mode := range []string{"plain", "bias", "bias+relu", "relu"} {
				oh, wp, k := 3, ow+4, 9
				src := make([]float32, (oh+2)*wp+k)
				for i := range src {
					src[i] = float32(rng.NormFloat64())
				}
				offs := make([]int32, k)
				for p := range offs {
					offs[p] = int32((p/3)*wp + p%3)
				}
				a := make([]float32, m*k)
				for i := range a {
					a[i] = float32(rng.NormFloat64())
				}
				var bias []float32
				if mode == "bias" || mode == "bias+relu" {
					bias = make([]float32, m)
					for i := range bias {
						bias[i] = float32(rng.NormFloat64())
					}
				}
				relu := mode == "relu" || mode == "bias+relu"
				ohw := oh * ow
				got := make([]float32, m*ohw)
				if !SgemmIndirectRows(m, k, a, k, src, offs, oh, ow, wp, bias, relu, got, ohw, ow) {
					// Only where there is no vector kernel for the width
					// (purego; AVX2 below a multiple of 16): the
					// convolution then keeps the padded-width product.
					if indWide() || rows16() {
						t.Fatalf("SgemmIndirectRows refused %d columns with %s", ow, active.name)
					}
					continue
				}
				L := oh * wp
				wide := make([]float32, m*L)
				SgemmIndirectB(m, L, k, a, k, src, offs, wide, L)
				want := make([]float32, m*ohw)
				for o := 0; o < m; o++ {
					var b float32
					if bias != nil {
						b = bias[o]
					}
					for y := 0; y < oh; y++ {
						AddBias(want[o*ohw+y*ow:o*ohw+(y+1)*ow], wide[o*L+y*wp:], b, relu)
						if bias == nil && !relu {
							copy(want[o*ohw+y*ow:o*ohw+(y+1)*ow], wide[o*L+y*wp:])
						}
					}
				}
				same(t, fmt.Sprintf("m%d ow%d %s", m, ow, mode), got, want)
				if !relu {
					continue
				}
				// ReLU6: the bound applied as the tiles store, the bits of
				// a bound after the rectified product.
				pa := PackIndirectA(m, k, a, k, false)
				bounded := make([]float32, m*ohw)
				if !SgemmIndirectRowsPacked(pa, src, offs, oh, ow, wp, bias, true, 0.5, bounded, ohw, ow) {
					t.Fatalf("SgemmIndirectRowsPacked refused what SgemmIndirectRows computed")
				}
				ClampMax(want, 0.5)
				same(t, fmt.Sprintf("m%d ow%d %s bound 0.5", m, ow, mode), bounded, want)
				pa.Release()
			}
		}
	}
}

// A packed A shared by many products (the images of a batch, the rows of
// one image spread over cores) gives what packing it per call gives.
func TestIndirectPackedMatchesUnpacked(t *testing.T) {
	withEachKernel(t, testIndirectPackedMatchesUnpacked)
}

func testIndirectPackedMatchesUnpacked(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	for _, m := range []int{1, 5, 8, 13, 64, 130} {
		for _, k := range []int{1, 9, 27, 300} {
			oh, ow := 7, 33
			wp := ow + 2
			src := make([]float32, (oh+3)*wp+k)
			for i := range src {
				src[i] = float32(rng.NormFloat64())
			}
			offs := make([]int32, k)
			for p := range offs {
				offs[p] = int32((p % 3) + (p/3%3)*wp + p/9)
			}
			a := make([]float32, m*(k+3))
			for i := range a {
				a[i] = float32(rng.NormFloat64())
			}
			lda := k + 3
			pa := PackIndirectA(m, k, a, lda, true)
			if pa.Rows() != m || pa.Cols() != k {
				t.Fatalf("packed %d×%d reports %d×%d", m, k, pa.Rows(), pa.Cols())
			}
			L := oh * wp
			want := make([]float32, m*L)
			SgemmIndirectB(m, L, k, a, lda, src, offs, want, L)
			for _, par := range []bool{false, true} {
				got := make([]float32, m*L)
				SgemmIndirectBPacked(pa, L, src, offs, got, L, par)
				same(t, fmt.Sprintf("B m%d k%d par=%v", m, k, par), got, want)
			}
			bias := make([]float32, m)
			for i := range bias {
				bias[i] = float32(rng.NormFloat64())
			}
			bias[0] = float32(math.Copysign(0, -1)) // −0 + −0 stays −0 unless rectified
			checkPackedBias(t, fmt.Sprintf("B+bias m%d k%d", m, k), pa, L, src, offs, want, bias)
			ohw := oh * ow
			whole := make([]float32, m*ohw)
			if SgemmIndirectRows(m, k, a, lda, src, offs, oh, ow, wp, bias, true, whole, ohw, ow) {
				// The same rows in three calls on disjoint row ranges.
				split := make([]float32, m*ohw)
				for _, r := range [][2]int{{0, 2}, {2, 3}, {3, oh}} {
					if !SgemmIndirectRowsPacked(pa, src[r[0]*wp:], offs, r[1]-r[0], ow, wp, bias, true, 0, split[r[0]*ow:], ohw, ow) {
						t.Fatal("SgemmIndirectRowsPacked refused what SgemmIndirectRows computed")
					}
				}
				same(t, fmt.Sprintf("rows m%d k%d", m, k), split, whole)
			}
			pa.Release()
			pa.Release() // twice is harmless
		}
	}
	// Few columns against many rows (a 7×7 image's last stage): shared out
	// by row panels, two at a time with every strip of C, partial strips
	// included, the same sums as serial by strips.
	for _, n := range []int{45, 20, 63} {
		m, k := 130, 300
		src := make([]float32, n+k)
		for i := range src {
			src[i] = float32(rng.NormFloat64())
		}
		offs := make([]int32, k)
		for p := range offs {
			offs[p] = int32(p)
		}
		a := make([]float32, m*k)
		for i := range a {
			a[i] = float32(rng.NormFloat64())
		}
		pa := PackIndirectA(m, k, a, k, true)
		want := make([]float32, m*n)
		SgemmIndirectB(m, n, k, a, k, src, offs, want, n)
		got := make([]float32, m*n)
		SgemmIndirectBPacked(pa, n, src, offs, got, n, true)
		same(t, fmt.Sprintf("few columns n%d", n), got, want)
		bias := make([]float32, m)
		for i := range bias {
			bias[i] = float32(rng.NormFloat64())
		}
		checkPackedBias(t, fmt.Sprintf("few columns+bias n%d", n), pa, n, src, offs, want, bias)
		pa.Release()
	}
	// A packing large enough to be shared out (m·k ≥ 2^16, k a multiple of
	// 8, where the assembly packer stores past its panel) is the serial
	// packing, bit for bit.
	for _, shape := range [][2]int{{130, 560}, {512, 576}, {64, 1152}, {257, 264}} {
		m, k := shape[0], shape[1]
		a := make([]float32, m*k)
		for i := range a {
			a[i] = float32(rng.NormFloat64())
		}
		for try := 0; try < 5; try++ {
			serial, shared := PackIndirectA(m, k, a, k, false), PackIndirectA(m, k, a, k, true)
			starts := indPanelStarts(m)
			last := starts[len(starts)-1]
			_, rows := indStep(m - last)
			n := (last + rows) * k // the end of the last panel
			same(t, fmt.Sprintf("parallel packing m%d k%d", m, k), shared.ap[:n], serial.ap[:n])
			serial.Release()
			shared.Release()
		}
	}
	// Few columns, many rows: the cores split the rows (row panels) rather
	// than the columns; the sums are the same.
	for _, shape := range [][3]int{{130, 20, 40}, {512, 63, 90}, {50, 9, 7}} {
		m, n, k := shape[0], shape[1], shape[2]
		a := make([]float32, m*k)
		for i := range a {
			a[i] = float32(rng.NormFloat64())
		}
		src := make([]float32, n+k)
		for i := range src {
			src[i] = float32(rng.NormFloat64())
		}
		offs := make([]int32, k)
		for p := range offs {
			offs[p] = int32(p)
		}
		pa := PackIndirectA(m, k, a, k, true)
		want, got := make([]float32, m*n), make([]float32, m*n)
		SgemmIndirectBPacked(pa, n, src, offs, want, n, false)
		SgemmIndirectBPacked(pa, n, src, offs, got, n, true)
		same(t, fmt.Sprintf("row split m%d n%d k%d", m, n, k), got, want)
		bias := make([]float32, m)
		for i := range bias {
			bias[i] = float32(rng.NormFloat64())
		}
		checkPackedBias(t, fmt.Sprintf("row split+bias m%d n%d k%d", m, n, k), pa, n, src, offs, want, bias)
		pa.Release()
	}
	mustPanic(t, "released", func() {
		pa := PackIndirectA(2, 2, []float32{1, 2, 3, 4}, 2, false)
		pa.Release()
		SgemmIndirectBPacked(pa, 1, []float32{1, 2}, []int32{0, 1}, make([]float32, 2), 1, false)
	})
	mustPanic(t, "short A", func() { PackIndirectA(3, 2, []float32{1, 2, 3, 4}, 2, false) })
}

// checkPackedBias checks SgemmIndirectBPackedBias against the plain
// product (want, ldc n) followed by BiasRows, bit for bit, with and
// without the rectifier, serial and shared out.
func checkPackedBias(t *testing.T, name string, pa *IndirectA, n int, src []float32, offs []int32, want, bias []float32) {
	t.Helper()
	m := pa.Rows()
	for _, mode := range []struct {
		relu  bool
		bound float32
	}{{false, 0}, {true, 0}, {true, 0.5}} {
		ref := append([]float32(nil), want...)
		BiasRows(ref, n, m, n, bias, mode.relu, mode.bound)
		for _, par := range []bool{false, true} {
			got := make([]float32, m*n)
			SgemmIndirectBPackedBias(pa, n, src, offs, got, n, bias, mode.relu, mode.bound, par)
			same(t, fmt.Sprintf("%s relu=%v bound %v par=%v", name, mode.relu, mode.bound, par), got, ref)
		}
	}
	mustPanic(t, "short bias", func() {
		SgemmIndirectBPackedBias(pa, n, src, offs, make([]float32, m*n), n, bias[:m-1], false, 0, false)
	})
}

func mustPanic(t *testing.T, what string, fn func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Fatalf("%s: no panic", what)
		}
	}()
	fn()
}

// TestSgemmIndirectBPackedRows checks blocks of rows, whole panels each,
// against the rows of the whole product with its bias and rectifier, bit
// for bit, on every kernel, and that a block not on panel boundaries is
// refused.
func TestSgemmIndirectBPackedRows(t *testing.T) {
	withEachKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(51, 52))
		for _, m := range []int{1, 8, 23, 96, 130} {
			for _, n := range []int{5, 16, 45, 200} {
				k := 19
				src := make([]float32, n*k+n)
				for i := range src {
					src[i] = float32(rng.NormFloat64())
				}
				offs := make([]int32, k)
				for p := range offs {
					offs[p] = int32(p * n)
				}
				a := make([]float32, m*k)
				for i := range a {
					a[i] = float32(rng.NormFloat64())
				}
				bias := make([]float32, m)
				for i := range bias {
					bias[i] = float32(rng.NormFloat64())
				}
				pa := PackIndirectA(m, k, a, k, false)
				for _, mode := range []struct {
					relu  bool
					bound float32
				}{{false, 0}, {true, 0}, {true, 0.5}} {
					relu := mode.relu
					want := make([]float32, m*n)
					SgemmIndirectBPackedBias(pa, n, src, offs, want, n, bias, relu, 0, false)
					if mode.bound > 0 {
						ClampMax(want, mode.bound)
					}
					starts := append(pa.PanelStarts(), m)
					for s := 0; s+1 < len(starts); s++ {
						e := min(s+1+rng.IntN(3), len(starts)-1)
						i0, i1 := starts[s], starts[e]
						got := make([]float32, (i1-i0)*n)
						SgemmIndirectBPackedRows(pa, i0, i1, n, src, offs, got, n, bias[i0:], relu, mode.bound)
						same(t, fmt.Sprintf("m%d n%d rows [%d, %d) relu=%v bound %v", m, n, i0, i1, relu, mode.bound), got, want[i0*n:i1*n])
					}
				}
				if m > 1 {
					mustPanic(t, "rows off panel boundaries", func() {
						SgemmIndirectBPackedRows(pa, 1, m, n, src, offs, make([]float32, m*n), n, nil, false, 0)
					})
				}
				pa.Release()
			}
		}
	})
}
