// Package kern holds glassbox's hot CPU kernels: a packed, cache-blocked
// single-precision matrix multiply (Sgemm), a few vector kernels (Saxpy,
// Sdot, Sscal) and the persistent worker pool (ParallelFor, Threads) that
// spreads them over the cores.
//
// Sgemm follows the Goto/BLIS structure: k is cut into slices of at most
// KC; op(B) is packed into KC×NR micro-panels that stay in L1 while the
// register-blocked micro-kernel sweeps MR-row micro-panels of op(A) (an
// MC×KC block of A stays in L2) over every MR×NR tile of C. How the work is
// split depends on the shape of A:
//
//   - row mode (large A): op(B) is packed once into a buffer shared by all
//     goroutines, then each goroutine takes blocks of MC rows, packs them
//     and runs the micro-kernel;
//   - column mode (short or small A, e.g. an MLP batch of 128 rows): each
//     goroutine takes a range of columns, packs its own B panels and reads
//     A in place, so goroutines share nothing and never wait for each other.
//
// Tiny products use plain loops, and products with m ≤ 2 or n ≤ 2 (a
// vector times a matrix) use the vector kernels without packing. Rows of C
// past the last full MR rows use narrower edge kernels where there is one
// (4×16 and 2×16, so that m = 64 or 128 wastes nothing) and a zero-padded
// scratch tile otherwise. Each element of C sums its k-slices in a fixed
// order, so results do not depend on the number of goroutines.
//
// The micro-kernel is chosen at start-up from what the CPU supports:
// "avx2-fma 6x16" (Go assembly, amd64, twelve ymm accumulators, the shape
// BLIS uses on Haswell and Zen) when golang.org/x/sys/cpu reports AVX2 and
// FMA, and "purego 2x4" (register-tiled Go, k unrolled by four) otherwise,
// always under the purego build tag and on other architectures. Name
// reports which. Kernels are listed in preference order in one table
// (kernels in kern.go) with their own MR, NR, KC and MC, so an AVX-512
// kernel can be added as one more entry (selected by cpu.X86.HasAVX512F);
// none is shipped because it could not be tested on the development
// machines, which have no AVX-512.
//
// Everything here is safe for concurrent use. Scratch buffers come from
// sync.Pools, so steady-state calls do not allocate. A call made from
// inside a worker (nested parallelism) finds no free worker and runs on
// its own goroutine, so it cannot deadlock. Idle workers poll for new work
// for 100µs before parking, so back-to-back calls (a training loop) do not
// pay a goroutine wake-up each; a caller never waits for a helper that has
// not started; and while other processes keep the cores busy (sampled from
// /proc/loadavg on Linux) calls run serially, since helpers would only
// take CPU time from their caller.
package kern
