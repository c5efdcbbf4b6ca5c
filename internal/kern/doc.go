// Package kern holds glassbox's hot CPU kernels: a packed, cache-blocked
// single-precision matrix multiply (SGEMM), a few vector kernels (Saxpy,
// Sdot, Sscal) and the persistent worker pool (ParallelFor) that spreads
// them over the cores.
//
// SGEMM follows the Goto/BLIS structure. op(B) is packed once per call into
// KC×NR micro-panels (NR columns, contiguous), split over the workers; then
// each worker takes blocks of MC rows of op(A), packs them into MR-row
// micro-panels that stay in L2, and runs the register-blocked micro-kernel
// over every MR×NR tile of C, one KC-deep slice of k at a time. Edge tiles
// are computed from zero-padded panels into a scratch tile and blended into
// C, so the micro-kernel only ever sees full tiles.
//
// The micro-kernel is chosen at start-up from what the CPU supports:
// "avx2-fma 6x16" (Go assembly, amd64, twelve ymm accumulators) when
// golang.org/x/sys/cpu reports AVX2 and FMA, and a register-tiled pure-Go
// kernel otherwise, or always under the purego build tag and on other
// architectures. Name reports which. The kernels are listed in preference
// order in one table (see kernels in kern.go), so an AVX-512 kernel can be
// added as a new entry with its own MR, NR and block sizes; none is shipped
// because it could not be tested on the development machines.
//
// Everything here is safe for concurrent use. Scratch buffers come from
// sync.Pools, so steady-state calls do not allocate. Calls made from inside
// a worker (nested parallelism) run on the calling goroutine instead of
// waiting for busy workers, so they cannot deadlock.
package kern
