package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

// gemmCase is one product to check: shapes, transposes, scalars and the
// padding added to each leading dimension.
type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	pad            int
}

func (tc gemmCase) String() string {
	return fmt.Sprintf("tA=%v,tB=%v,m=%d,n=%d,k=%d,alpha=%g,beta=%g,pad=%d",
		tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, tc.beta, tc.pad)
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.Float64()*2 - 1)
	}
	return s
}

// runCase runs Sgemm (or SgemmSerial) on random data and compares with a
// float64 reference, including that C's padding is untouched and that
// beta == 0 ignores NaNs in C.
func runCase(t *testing.T, tc gemmCase, serial bool, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, uint64(tc.m*1000003+tc.n*1009+tc.k)))
	ar, ac := tc.m, tc.k
	if tc.transA {
		ar, ac = tc.k, tc.m
	}
	br, bc := tc.k, tc.n
	if tc.transB {
		br, bc = tc.n, tc.k
	}
	lda, ldb, ldc := max(1, ac)+tc.pad, max(1, bc)+tc.pad, max(1, tc.n)+tc.pad
	a := randSlice(r, ar*lda)
	b := randSlice(r, br*ldb)
	c := randSlice(r, tc.m*ldc)
	const sentinel = float32(12345.5)
	for i := 0; i < tc.m; i++ {
		for j := tc.n; j < ldc; j++ {
			c[i*ldc+j] = sentinel
		}
		if tc.beta == 0 && tc.n > 0 {
			c[i*ldc+(i%tc.n)] = float32(math.NaN())
		}
	}
	c0 := append([]float32(nil), c...)
	if serial {
		SgemmSerial(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
	} else {
		Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
	}
	tol := 1e-5 * math.Sqrt(float64(max(tc.k, 1)))
	bad := 0
	for i := 0; i < tc.m; i++ {
		for j := 0; j < ldc; j++ {
			got := c[i*ldc+j]
			if j >= tc.n {
				if got != sentinel {
					t.Fatalf("%v: C[%d,%d] (padding) changed to %g", tc, i, j, got)
				}
				continue
			}
			var s, scale float64
			for p := 0; p < tc.k; p++ {
				var av, bv float64
				if tc.transA {
					av = float64(a[p*lda+i])
				} else {
					av = float64(a[i*lda+p])
				}
				if tc.transB {
					bv = float64(b[j*ldb+p])
				} else {
					bv = float64(b[p*ldb+j])
				}
				s += av * bv
				scale += math.Abs(av * bv)
			}
			want := float64(tc.alpha) * s
			scale = math.Abs(float64(tc.alpha))*scale + 1e-30
			if tc.beta != 0 {
				want += float64(tc.beta) * float64(c0[i*ldc+j])
				scale += math.Abs(float64(tc.beta) * float64(c0[i*ldc+j]))
			}
			if d := math.Abs(float64(got) - want); !(d <= tol*scale) {
				if bad++; bad <= 5 {
					t.Errorf("%v: C[%d,%d] = %g, want %g (|diff| %g > %g)", tc, i, j, got, want, d, tol*scale)
				}
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%v: %d wrong elements", tc, bad)
	}
}

// forEachKernel runs f once with every micro-kernel this CPU can run (the
// assembly one and the pure-Go one on amd64), and for kernels that can read
// A in place, once in each driver mode (row mode: A packed, B shared;
// column mode: A in place, B packed per task), restoring the defaults after.
// With -test.short only the kernel in use is run (testdata/avx512emu runs
// the tests that way under a slow emulator, for the AVX-512 kernel).
func forEachKernel(t *testing.T, f func(t *testing.T)) {
	saved, savedMaxM, savedMaxA := active, colModeMaxM, colModeMaxA
	defer func() { active, colModeMaxM, colModeMaxA = saved, savedMaxM, savedMaxA }()
	n := 0
	for _, kr := range kernels {
		if !kr.usable() || testing.Short() && kr != saved {
			continue
		}
		n++
		active = kr
		name := strings.ReplaceAll(kr.name, " ", "_")
		if !kr.stridedA {
			t.Run(name, f)
			continue
		}
		colModeMaxM, colModeMaxA = 0, 0
		t.Run(name+"/rows", f)
		colModeMaxM = math.MaxInt
		t.Run(name+"/cols", f)
		colModeMaxM, colModeMaxA = savedMaxM, savedMaxA
	}
	if n == 0 {
		t.Fatal("no usable GEMM kernel")
	}
}

var oddShapes = [][3]int{ // m, n, k
	{1, 1, 1}, {7, 13, 5}, {37, 43, 41}, {1, 3, 1000}, {1000, 7, 3}, {3, 1000, 5},
	{2, 300, 200}, {300, 2, 200}, {5, 5, 1000}, {6, 16, 8}, {12, 32, 256}, {13, 33, 257},
	{61, 47, 600}, {150, 70, 30}, {20, 300, 40}, {129, 257, 65},
}

func TestSgemmOddShapes(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		seed := uint64(1)
		for _, s := range oddShapes {
			for _, tA := range []bool{false, true} {
				for _, tB := range []bool{false, true} {
					seed++
					tc := gemmCase{transA: tA, transB: tB, m: s[0], n: s[1], k: s[2], alpha: 1, beta: 0, pad: int(seed % 4)}
					runCase(t, tc, false, seed)
				}
			}
		}
	})
}

func TestSgemmAlphaBeta(t *testing.T) {
	scalars := [][2]float32{{1, 0}, {0.5, 0}, {1, 1}, {-1.5, 0.25}, {2, -1}, {0, 2}, {0, 0}}
	forEachKernel(t, func(t *testing.T) {
		seed := uint64(100)
		for _, s := range [][3]int{{9, 19, 7}, {37, 43, 41}, {70, 90, 300}, {14, 40, 50}, {2, 50, 60}, {50, 1, 60}} {
			for _, ab := range scalars {
				for _, tA := range []bool{false, true} {
					for _, tB := range []bool{false, true} {
						seed++
						tc := gemmCase{transA: tA, transB: tB, m: s[0], n: s[1], k: s[2], alpha: ab[0], beta: ab[1], pad: 3}
						runCase(t, tc, seed%2 == 0, seed)
					}
				}
			}
		}
	})
}

// TestSgemmParallelShapes covers the multi-goroutine paths: row blocks,
// column splits for short A, several k-slices, and (with a small packing
// budget) several column blocks of B.
func TestSgemmParallelShapes(t *testing.T) {
	savedT, savedMax := Threads(), maxPackedB
	defer func() { SetThreads(savedT); maxPackedB = savedMax }()
	forEachKernel(t, func(t *testing.T) {
		seed := uint64(500)
		for _, threads := range []int{2, 3} {
			SetThreads(threads)
			for _, s := range [][3]int{{200, 130, 100}, {64, 200, 300}, {33, 300, 70}, {8, 500, 60}, {300, 1, 500}} {
				for _, tA := range []bool{false, true} {
					for _, tB := range []bool{false, true} {
						seed++
						tc := gemmCase{transA: tA, transB: tB, m: s[0], n: s[1], k: s[2], alpha: 0.75, beta: 0.5, pad: 1}
						runCase(t, tc, false, seed)
					}
				}
			}
			maxPackedB = 40 * 300 // forces column blocks of 32 or 40 columns in row mode
			runCase(t, gemmCase{m: 50, n: 170, k: 300, alpha: 1, beta: 1, pad: 2}, false, seed)
			runCase(t, gemmCase{transB: true, m: 50, n: 170, k: 300, alpha: 1, beta: 0}, false, seed)
			maxPackedB = savedMax
		}
	})
}

// TestSgemmThinParallel covers the vector-kernel path (m ≤ 2 or n ≤ 2) at
// sizes where it splits over goroutines.
func TestSgemmThinParallel(t *testing.T) {
	savedT := Threads()
	defer SetThreads(savedT)
	SetThreads(2)
	seed := uint64(900)
	for _, s := range [][3]int{{1, 4100, 1024}, {2, 1100, 2000}, {2050, 2, 1024}, {4000, 1, 1100}} {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				seed++
				runCase(t, gemmCase{transA: tA, transB: tB, m: s[0], n: s[1], k: s[2], alpha: -0.5, beta: 2, pad: 1}, false, seed)
			}
		}
	}
}

// TestSgemmDeterministic checks results do not depend on the number of
// goroutines: Sgemm on 1, 2 and 3 threads and SgemmSerial agree bit for bit.
func TestSgemmDeterministic(t *testing.T) {
	savedT := Threads()
	defer SetThreads(savedT)
	forEachKernel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 6))
		for _, s := range [][3]int{{150, 140, 600}, {20, 333, 260}} {
			m, n, k := s[0], s[1], s[2]
			a, b := randSlice(r, m*k), randSlice(r, k*n)
			want := make([]float32, m*n)
			SgemmSerial(false, true, m, n, k, 1, a, k, b, k, 0, want, n)
			for _, threads := range []int{1, 2, 3} {
				SetThreads(threads)
				got := make([]float32, m*n)
				Sgemm(false, true, m, n, k, 1, a, k, b, k, 0, got, n)
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("%dx%dx%d, %d threads: C[%d] = %g, serial gave %g", m, n, k, threads, i, got[i], want[i])
					}
				}
			}
		}
	})
}

func TestSgemmZeroSizes(t *testing.T) {
	c := []float32{1, 2, 3, 4}
	Sgemm(false, false, 2, 2, 0, 1, nil, 1, nil, 2, 3, c, 2)
	for i, want := range []float32{3, 6, 9, 12} {
		if c[i] != want {
			t.Fatalf("k=0, beta=3: C = %v, want [3 6 9 12]", c)
		}
	}
	Sgemm(false, false, 2, 2, 0, 1, nil, 1, nil, 2, 0, c, 2)
	for _, v := range c {
		if v != 0 {
			t.Fatalf("k=0, beta=0: C = %v, want zeros", c)
		}
	}
	Sgemm(true, true, 0, 0, 5, 1, nil, 1, nil, 5, 0, nil, 1) // nothing to do, no panic
}

func TestSgemmPanicsOnBadArgs(t *testing.T) {
	a := make([]float32, 12)
	b := make([]float32, 12)
	c := make([]float32, 12)
	cases := []struct {
		name string
		f    func()
		want string
	}{
		{"negative m", func() { Sgemm(false, false, -1, 2, 2, 1, a, 2, b, 2, 0, c, 2) }, "negative dimension"},
		{"lda small", func() { Sgemm(false, false, 3, 3, 4, 1, a, 3, b, 3, 0, c, 3) }, "lda = 3, want ≥ 4"},
		{"A short", func() { Sgemm(false, false, 4, 3, 4, 1, a, 4, b, 3, 0, c, 3) }, "len(A) = 12, want ≥ 16"},
		{"B short trans", func() { Sgemm(false, true, 3, 4, 4, 1, a, 4, b, 4, 0, c, 4) }, "len(B) = 12, want ≥ 16"},
		{"ldc small", func() { Sgemm(false, false, 2, 3, 2, 1, a, 2, b, 3, 0, c, 2) }, "ldc = 2, want ≥ 3"},
	}
	for _, tc := range cases {
		func() {
			defer func() {
				p := recover()
				if p == nil {
					t.Fatalf("%s: no panic", tc.name)
				}
				if msg := fmt.Sprint(p); !strings.Contains(msg, tc.want) {
					t.Fatalf("%s: panic %q, want it to contain %q", tc.name, msg, tc.want)
				}
			}()
			tc.f()
		}()
	}
}

// TestSgemmConcurrent runs many Sgemm calls at once (run it with -race);
// each must match its serial result bit for bit.
func TestSgemmConcurrent(t *testing.T) {
	const workers = 8
	r := rand.New(rand.NewPCG(7, 8))
	m, n, k := 70, 90, 80
	a := randSlice(r, m*k)
	b := randSlice(r, k*n)
	want := make([]float32, m*n)
	SgemmSerial(false, false, m, n, k, 1, a, k, b, n, 0, want, n)
	var wg sync.WaitGroup
	errs := make(chan string, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := make([]float32, m*n)
			for it := 0; it < 5; it++ {
				Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
				for i := range c {
					if c[i] != want[i] {
						errs <- fmt.Sprintf("C[%d] = %g, want %g", i, c[i], want[i])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

// TestSgemmNestedInParallelFor calls the parallel Sgemm from inside
// ParallelFor bodies: it must neither deadlock nor go wrong.
func TestSgemmNestedInParallelFor(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	const batch = 6
	m, n, k := 40, 50, 300
	a := randSlice(r, batch*m*k)
	b := randSlice(r, k*n)
	got := make([]float32, batch*m*n)
	want := make([]float32, batch*m*n)
	for s := 0; s < batch; s++ {
		SgemmSerial(false, false, m, n, k, 1, a[s*m*k:], k, b, n, 0, want[s*m*n:], n)
	}
	ParallelFor(batch, 1, func(lo, hi int) {
		for s := lo; s < hi; s++ {
			Sgemm(false, false, m, n, k, 1, a[s*m*k:], k, b, n, 0, got[s*m*n:], n)
		}
	})
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("C[%d] = %g, want %g", i, got[i], want[i])
		}
	}
}

func TestName(t *testing.T) {
	name := Name()
	t.Logf("GEMM micro-kernel: %s", name)
	if name != active.name || name == "" {
		t.Fatalf("Name() = %q, active kernel %q", name, active.name)
	}
	if !active.usable() {
		t.Fatalf("active kernel %q is not usable on this CPU", name)
	}
}
