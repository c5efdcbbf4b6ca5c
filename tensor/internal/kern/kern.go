package kern

import (
	"os"
	"strings"
)

// microFn is a GEMM micro-kernel. It computes the mr×nr tile
//
//	C = alpha * A·B + beta * C
//
// where A is mr×kc with element (i, p) at a[i*rsa+p*csa] (packed panels
// have rsa = 1, csa = mr), B is a packed kc×nr micro-panel (element (p, j)
// at b[p*nr+j]) and C has row stride ldc. beta == 0 overwrites C without
// reading it. kc ≥ 1. The caller guarantees all the elements touched
// exist; assembly kernels do not check.
type microFn func(kc int, a []float32, rsa, csa int, b, c []float32, ldc int, alpha, beta float32)

// gemmKernel describes one micro-kernel and the block sizes that suit it.
type gemmKernel struct {
	name   string
	mr, nr int // register tile
	kc     int // depth of one packed slice of k: a kc×nr B micro-panel stays in L1
	mc     int // rows of A packed at once (multiple of mr): an mc×kc block stays in L2
	// cacheBlocked kernels get kc and mc from the detected caches
	// (blockSizes); the table's values are used when they are unknown.
	cacheBlocked bool
	// stridedA is true when the kernel reads A with any row/column strides,
	// so well-shaped A can be used in place instead of packed.
	stridedA bool
	micro    microFn
	// edge[r], where not nil, is a kernel for r×nr tiles (r < mr), used for
	// the last rows of C when m is not a multiple of mr (m = 128 is 21·6+2).
	edge []microFn
	// usable reports whether this CPU can run the kernel.
	usable func() bool
}

// kernels lists the GEMM micro-kernels in order of preference; the first
// usable one is used. archKernels (per build) come first, the portable
// pure-Go kernel last: on amd64 "avx512f 12x32" (when the CPU and OS
// support AVX-512F) ahead of "avx2-fma 6x16". Nothing else in the driver
// depends on mr or nr beyond the table.
var kernels = tuneBlocks(append(archKernels(), goKernel), caches)

// kernelEnv is the environment variable that picks the GEMM micro-kernel
// by the start of its name (e.g. GLASSBOX_KERNEL=avx2 or =purego), read
// once at start-up; see pickKernel.
const kernelEnv = "GLASSBOX_KERNEL"

// active is the kernel in use; tests switch it to cover every usable one.
var active = pickKernel(os.Getenv(kernelEnv))

// pickKernel returns the first usable kernel whose name starts with want
// (ignoring case), or, when want is empty or no usable kernel matches it
// (an unknown name, or one this CPU cannot run), the first usable kernel.
func pickKernel(want string) *gemmKernel {
	want = strings.ToLower(strings.TrimSpace(want))
	if want != "" {
		for _, k := range kernels {
			if k.usable() && strings.HasPrefix(k.name, want) {
				return k
			}
		}
	}
	for _, k := range kernels {
		if k.usable() {
			return k
		}
	}
	return goKernel
}

// Name reports the GEMM micro-kernel in use, e.g. "avx512f 12x32",
// "avx2-fma 6x16" or "purego 2x4".
func Name() string { return active.name }
