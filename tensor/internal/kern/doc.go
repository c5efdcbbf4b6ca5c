// Package kern holds glassbox's hot CPU kernels: a packed, cache-blocked
// single-precision matrix multiply (Sgemm), its indirect variants for
// convolution (SgemmIndirectB, SgemmIndirectBT), vector kernels (Saxpy,
// Sdot, Sscal; AddBias, ReLUGrad, Tanh, Sigmoid for activations), the
// Winograd F(4×4, 3×3) transforms the 3×3 convolutions use (WinoInput,
// WinoOutput, WinoGradInput, WinoFilter, WinoFilterGrad) and the
// persistent worker pool (ParallelFor, Threads) that spreads them over the
// cores.
//
// It sits under tensor/internal, so only tensor may import it: every other
// package reaches these kernels through tensor's backend interface
// (tensor.Sgemm, tensor.ParallelFor, tensor.TanhSlice and the rest), which
// is what a GPU backend would replace.
//
// Sgemm follows the Goto/BLIS structure: k is cut into slices of at most
// KC; op(B) is packed into KC×NR micro-panels that stay in L1 while the
// register-blocked micro-kernel sweeps MR-row micro-panels of op(A) (an
// MC×KC block of A stays in L2) over every MR×NR tile of C. How the work is
// split depends on the shape of A:
//
//   - row mode (large A): op(B) is packed once into a buffer shared by all
//     goroutines (each packs its share), then each goroutine takes blocks
//     of MC rows, packs them and runs the micro-kernel; the only wait is
//     for the packed B, once per call;
//   - column mode (short or small A, e.g. an MLP batch of 128 rows): each
//     goroutine takes a range of columns, packs its own B panels and reads
//     A in place, so goroutines share nothing and never wait for each other.
//
// Tiny products use plain loops, and products with m ≤ 2 or n ≤ 2 (a
// vector times a matrix) use the vector kernels without packing. Rows of C
// past the last full MR rows use narrower edge kernels where there is one
// (4 and 2 rows for the 6×16 tile, 8, 4 and 2 rows for 12×32, so that
// m = 64 or 128 wastes nothing) and a zero-padded scratch tile otherwise.
// Each element of C sums its k-slices in a fixed order, so results do not
// depend on the number of goroutines.
//
// KC and MC come from the CPU's caches (Blocking reports them): the L1
// data and L2 sizes are read from /sys/devices/system/cpu/cpu0/cache, or,
// where that is missing (containers, some VMs), from CPUID (leaf 4 on
// Intel, 0x8000001D or 0x80000005/6 on AMD, read by a few lines of
// assembly on amd64; nothing elsewhere and under purego). KC makes a
// KC×NR micro-panel of B fill L1 but 16 KiB, MC an MC×KC block of A half
// of L2: 256 and 504 for the 12×32 kernel on Zen 5. When neither source
// answers, the kernel table's values are used.
//
// The micro-kernel is chosen at start-up from what the CPU supports, in
// this order: "avx512f 12x32" (Go assembly, amd64, 24 zmm accumulators,
// the shape of BLIS's Skylake-X kernel, with 8-, 4- and 2-row edge
// kernels) when golang.org/x/sys/cpu reports AVX-512F with the zmm and
// mask state enabled by the OS; "avx2-fma 6x16" (twelve ymm accumulators,
// the shape BLIS uses on Haswell and Zen) when it reports AVX2 and FMA;
// and "purego 2x4" (register-tiled Go, k unrolled by four) otherwise,
// always under the purego build tag and on other architectures. Name
// reports which. Kernels are listed in preference order in one table
// (kernels in kern.go) with their own MR, NR, KC and MC. The environment
// variable GLASSBOX_KERNEL, read once at start-up, picks a kernel by the
// start of its name instead (avx512f, avx2 or purego); a name the CPU
// cannot run, or an unknown one, is ignored. The vector kernels (Saxpy,
// AddBias, Tanh, ...) use AVX2 whenever the CPU has it; the plane kernels
// below follow the GEMM kernel.
//
// The AVX-512 kernel runs on Zen 5 hardware (where its block-size rule
// was measured) and is also tested under an emulator:
// testdata/avx512emu/run.sh boots Linux in Bochs with a Skylake-X CPU
// model and runs this package's tests there (see its README). Its full
// micro-panels of A (12 rows) and B (32 columns) are packed by assembly,
// as the AVX2 kernel's are (6 rows, 16 columns); the Go packing loops do
// the rest and everything under purego, and tests compare the two.
//
// SgemmIndirectB multiplies by a matrix whose rows are runs of a source
// slice given by offsets (the implicit im2col of a stride-1 convolution
// over a padded image): its 6×16, 4×16 and 2×16 AVX2 micro-kernels load
// each row of B straight from the image, so nothing is unfolded or
// packed; A (the filters) is packed once per call. SgemmIndirectBT is
// Sgemm(A, Bᵀ) with such rows, gathered while packing (the weight
// gradient). The activation kernels are AVX2 with pure-Go fallbacks that
// compute the same function (bit for bit for AddBias and ReLUGrad).
//
// The plane kernels of a training step (SgemmDotImages, the weight
// gradient of a convolution as dot products over the padded images;
// SgemmIndirectRows, a convolution's output rows in place with bias and
// rectifier; MaxPool2x2 and MaxPool2x2Backward; AddBiasRows and
// SpreadRows; AdamUpdate; LSTMGateGrads) have an AVX-512 version (zmm,
// row tails under mask registers) used with the AVX-512 GEMM kernel and an
// AVX2 version (ymm, tails under VMASKMOVPS masks or in Go) used with the
// AVX2 one, so GLASSBOX_KERNEL=avx2 runs the AVX2 path on any machine;
// purego and other architectures use Go loops (SgemmIndirectRows and
// MaxPool2x2 report false and leave the work to the caller). All but
// SgemmDotImages give the Go loops' bits. SgemmDotImages sums 4×4 blocks
// in 16 lanes with AVX-512 and 4×3 blocks in 8 lanes with AVX2, each
// lane in a fixed order and the lanes in a fixed tree: the same bits run
// to run on a machine, within rounding of each other across kernels.
// SgemmIndirectRows writes rows of any width in place, in 32-column tiles
// with AVX-512 and 16-column ones with AVX2 (a row's last tile masked on
// both); IndirectRowsFast says where that beats the padded-width product.
// SgemmPixelsRows computes the same rows with the roles swapped: the
// output channels on the lanes (panels of 32 filters, packed once by
// PackPixW), a row's pixels in tiles of 1 to 12 broadcast from the image,
// each tile's sums turned around through a scratch tile (gathers) and
// stored as runs in the channels' planes. Rows of 7, 14 or 28
// pixels fill no 32-lane tile, but every lane of a panel of 32 filters;
// each output is the same FMA chain as the indirect GEMM's, so the two give
// the same bits. Its AVX-512 tiles (1×32 to 12×32) are generated by
// gen_pix.go; other builds use Go loops (PixelsFast reports which).
//
// Everything here is safe for concurrent use. Scratch buffers come from
// sync.Pools, so steady-state calls do not allocate. A call made from
// inside a worker (nested parallelism) finds no free worker and runs on
// its own goroutine, so it cannot deadlock. Idle workers poll for new work
// for 2 ms before parking, so back-to-back calls (a training loop, the
// layers of one inference) do not pay a goroutine wake-up each; a caller
// whose own share is done polls for its last helper for up to 200 µs
// before it blocks, because a blocked caller was woken onto the helper's
// P and left the other idle until the OS woke it (a recurrent layer's 128
// small calls per sequence ran slower on two threads than on one).
//
// Parallel calls split their work statically with stealing: with P
// goroutines (the caller and P−1 helpers), each owns a contiguous 1/P of
// the units (row blocks of C, B-packing units, ParallelFor chunks) and
// does them in order, then takes the units the others have not started.
// So on idle cores the work divides evenly without contention, and a core
// briefly busy with another process delays only the unit its helper is
// in: the others take the rest, and a helper that has not started by the
// time the caller runs out of work is not waited for. Nothing reads the
// machine's load, and no call is made serial because of it. Each unit
// computes the same elements with the same k order whoever runs it, so
// results stay bit-identical from run to run.
package kern
