package tensor

import "github.com/glassbox-ml/glassbox/tensor/internal/kern"

// The backend interface.
//
// Every hot kernel in glassbox is reached through this package: the Tensor
// operations themselves, and, for code that works on raw float32 slices
// (autograd's fused ops, the benchmarks), the functions in this file. They
// are the documented backend interface that tensor owns: thin forwards to
// the CPU kernels, which no package outside tensor may import. A GPU
// backend replaces what sits behind these functions (and the gemm
// variables in gemm.go); their callers do not change.

// ParallelFor calls fn on contiguous, disjoint ranges [lo, hi) that
// together cover [0, n), each at least grain items long (except when
// n < grain), spread over up to Threads() goroutines of the kernels'
// worker pool, and returns when all calls are done. fn must be safe to
// call concurrently; the number and order of the calls are unspecified.
// It runs fn(0, n) inline when n <= grain, Threads() == 1, or no worker is
// free (e.g. when called from inside another ParallelFor). A panic in fn
// is re-raised on the caller.
func ParallelFor(n, grain int, fn func(lo, hi int)) { kern.ParallelFor(n, grain, fn) }

// parallelFor is ParallelFor; elementwise loops use it so large tensors
// keep every core busy while small ones stay on one.
func parallelFor(n, grain int, fn func(lo, hi int)) { kern.ParallelFor(n, grain, fn) }

// Threads reports how many goroutines (the caller plus workers) one
// parallel kernel call may use; by default runtime.GOMAXPROCS(0) at
// start-up.
func Threads() int { return kern.Threads() }

// KernelName reports the GEMM micro-kernel in use, e.g. "avx512f 12x32",
// "avx2-fma 6x16" or "purego 2x4". The environment variable
// GLASSBOX_KERNEL, read once at start-up, picks one by the start of its
// name (avx512f, avx2 or purego) when the CPU can run it.
func KernelName() string { return kern.Name() }

// KernelBlocking describes the GEMM block sizes in use and the cache sizes
// they were chosen from, e.g. "kc=256 mc=504 (L1d 48 KiB, L2 1024 KiB,
// from cpuid 0x80000005/6)".
func KernelBlocking() string { return kern.Blocking() }

// SetThreads sets how many goroutines one parallel kernel call may use
// (n < 1 means 1: everything on the calling goroutine). Benchmarks use it
// to measure scaling; it is safe to call at any time.
func SetThreads(n int) { kern.SetThreads(n) }

// Sgemm computes C = alpha·op(A)·op(B) + beta·C on row-major float32
// matrices, with BLAS SGEMM's arguments: op(A) is m×k (A stored m×k with
// row stride lda, or k×m if transA), op(B) is k×n (B stored k×n with row
// stride ldb, or n×k if transB), C is m×n with row stride ldc. beta == 0
// overwrites C (NaNs in it are ignored). It uses up to Threads()
// goroutines, and its results are bit-identical from call to call whatever
// their number. It is the product MatMul uses, and panics if a dimension
// is negative, a stride too small or a slice too short.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// ReLUGradSlice sets dst[i] = g[i] where y[i], the output of a ReLU, is
// positive and 0 elsewhere: the gradient through the rectifier, branch-free
// and eight at a time with AVX2. It tests the sign bit of −bits(y), so a
// NaN output passes the gradient. It panics if g or y is shorter than dst.
func ReLUGradSlice(dst, g, y []float32) { kern.ReLUGrad(dst, g, y) }

// TanhSlice sets dst[i] = tanh(src[i]) (dst and src may be the same slice)
// in float32, with a rational approximation (absolute error ≤ 4e-7; NaN
// stays NaN, large inputs give exactly ±1), sixteen at a time with AVX2,
// whose last bit may differ from the pure-Go loop's. It panics if src is
// shorter than dst.
func TanhSlice(dst, src []float32) { kern.Tanh(dst, src) }

// GRURowForward computes one batch row of one GRU step from its input
// and recurrent projections x and hg (3n each, gates r, z, n) and their
// biases: the gate activations into s (r, z, n and the recurrent n-gate
// projection hg_n + bh_n, 4n) and the new state h (n) from hPrev, with
// eight-lane passes where AVX2 is at hand (the same bits as the Go loops).
// It panics when a slice is short.
func GRURowForward(x, bx, hg, bh, hPrev, s, h []float32) {
	kern.GRURowForward(x, bx, hg, bh, hPrev, s, h)
}

// SigmoidSlice sets dst[i] = 1/(1+e^−src[i]) (dst and src may be the same
// slice) as ½ + ½·tanh(src[i]/2) with TanhSlice's approximation (absolute
// error ≤ 3e-7; large inputs give exactly 0 or 1). It panics if src is
// shorter than dst.
func SigmoidSlice(dst, src []float32) { kern.Sigmoid(dst, src) }

// LSTMGateGrads is the closed-form backward of one LSTM cell for one row
// of n = len(dc) units: a holds the saved gate activations [i | f | g | o]
// (4n), cPrev the previous cell state, tc = tanh(c); dh = dhRec + dhOut is
// the gradient of h, dc the gradient of c on entry and of cPrev on
// return; da (4n) receives the gradients of the gate pre-activations
// (dct = dc + dh·o·(1 − tc²); do = dh·tc·o·(1 − o); di = dct·g·i·(1 − i);
// df = dct·cPrev·f·(1 − f); dg = dct·i·(1 − g²); dc ← dct·f). Sixteen
// units at a time with AVX-512, bit-identical to the Go loop. It panics if
// a slice is too short.
func LSTMGateGrads(a, cPrev, tc, dhRec, dhOut, dc, da []float32) {
	kern.LSTMGateGrads(a, cPrev, tc, dhRec, dhOut, dc, da)
}

// AdamUpdate applies Adam's update in place, in float32 as
// torch.optim.Adam does: g' = g + l2·w; m = b1·m + (1−b1)·g';
// v = b2·v + (1−b2)·g'·g'; w -= stepSize·m / (√v·invSqrtBC2 + eps), with
// stepSize = lr/(1−β₁ᵗ) and invSqrtBC2 = 1/√(1−β₂ᵗ). Sixteen weights at a
// time with AVX-512, bit-identical to the Go loop. It panics if g, m or v
// is shorter than w.
func AdamUpdate(w, g, m, v []float32, b1, b2, l2, stepSize, invSqrtBC2, eps float32) {
	kern.AdamUpdate(w, g, m, v, b1, b2, l2, stepSize, invSqrtBC2, eps)
}

// AllFinite reports whether d holds no NaN and no ±Inf, in one vector pass
// (an optimiser's check of every gradient before every step).
func AllFinite(d []float32) bool { return kern.AllFinite(d) }
