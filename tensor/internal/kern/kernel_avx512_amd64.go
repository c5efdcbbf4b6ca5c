//go:build amd64 && !purego

package kern

import "golang.org/x/sys/cpu"

// hasAVX512F reports AVX-512 Foundation with zmm and opmask state enabled
// by the OS (x/sys/cpu checks XCR0 bits 5–7 before setting HasAVX512F).
// The kernels also need AVX2/FMA-era instructions in their epilogues.
var hasAVX512F = cpu.X86.HasAVX512F && hasAVX2FMA

// avx512Kernel is the AVX-512F micro-kernel: a 12×32 tile held in 24 zmm
// accumulators; per step of k it loads two zmm of B, broadcasts twelve
// values of A and issues 24 FMAs (the shape of BLIS's Skylake-X sgemm
// kernel, transposed for row-major C). Edge kernels of 8, 4 and 2 rows
// cover m = 64 (5·12+4), 128 (10·12+8) and 32 (2·12+8) without padding.
//
// kc and mc come from the caches (blockSizes): kc = 256, mc = 504 on Zen 5
// (48 KiB L1d, 1 MiB L2: a 32 KiB B micro-panel in L1, a 504 KiB A block
// in L2), 128 and 1020 on Skylake-X and Zen 4 (32 KiB L1d). The table's
// kc = 128, mc = 480 (BLIS's Skylake-X choice) are used when the caches
// are unknown. Verified on Zen 5 hardware and under the Bochs emulator
// (Skylake-X CPU model, testdata/avx512emu).
var avx512Kernel = &gemmKernel{
	name:         "avx512f 12x32",
	mr:           12,
	nr:           32,
	kc:           128,
	mc:           480,
	stridedA:     true,
	cacheBlocked: true,
	micro:        microAVX512,
	edge:         []microFn{2: microAVX512x2, 4: microAVX512x4, 8: microAVX512x8, 11: nil},
	usable:       func() bool { return hasAVX512F },
}

// The assembly kernels (kernel_avx512_amd64.s); strides are in bytes.

//go:noescape
func sgemm12x32(kc int, a *float32, rsa, csa uintptr, b, c *float32, ldc uintptr, alpha, beta float32)

//go:noescape
func sgemm8x32(kc int, a *float32, rsa, csa uintptr, b, c *float32, ldc uintptr, alpha, beta float32)

//go:noescape
func sgemm4x32(kc int, a *float32, rsa, csa uintptr, b, c *float32, ldc uintptr, alpha, beta float32)

//go:noescape
func sgemm2x32(kc int, a *float32, rsa, csa uintptr, b, c *float32, ldc uintptr, alpha, beta float32)

func microAVX512(kc int, a []float32, rsa, csa int, b, c []float32, ldc int, alpha, beta float32) {
	sgemm12x32(kc, &a[0], uintptr(rsa*4), uintptr(csa*4), &b[0], &c[0], uintptr(ldc*4), alpha, beta)
}

func microAVX512x8(kc int, a []float32, rsa, csa int, b, c []float32, ldc int, alpha, beta float32) {
	sgemm8x32(kc, &a[0], uintptr(rsa*4), uintptr(csa*4), &b[0], &c[0], uintptr(ldc*4), alpha, beta)
}

func microAVX512x4(kc int, a []float32, rsa, csa int, b, c []float32, ldc int, alpha, beta float32) {
	sgemm4x32(kc, &a[0], uintptr(rsa*4), uintptr(csa*4), &b[0], &c[0], uintptr(ldc*4), alpha, beta)
}

func microAVX512x2(kc int, a []float32, rsa, csa int, b, c []float32, ldc int, alpha, beta float32) {
	sgemm2x32(kc, &a[0], uintptr(rsa*4), uintptr(csa*4), &b[0], &c[0], uintptr(ldc*4), alpha, beta)
}

// The assembly packers for the 12×32 kernel (kernel_avx512_amd64.s).

//go:noescape
func packA12N(dst, src *float32, lda uintptr, k8 int)

//go:noescape
func packB32N(dst, src *float32, ldb uintptr, k int)

//go:noescape
func packB8T32(dst, src *float32, ldb uintptr, k8 int)

// packA12 packs a full 12-row micro-panel of A (not transposed) into d
// (12·kLen floats) with the assembly packer; it reports false when it
// cannot (no AVX-512, the assembly packers switched off, or kLen < 8).
func packA12(d, a []float32, lda, i, p0, kLen int) bool {
	k8 := kLen / 8
	if !hasAVX512F || !asmPack || k8 == 0 {
		return false
	}
	o := i*lda + p0
	_ = a[o+11*lda+8*k8-1] // the last element read
	_ = d[12*kLen-1]
	packA12N(&d[0], &a[o], uintptr(lda*4), k8)
	for p := 8 * k8; p < kLen; p++ {
		t := (*[12]float32)(d[12*p:])
		for r := range t {
			t[r] = a[o+r*lda+p]
		}
	}
	return true
}

// packB32 packs a full 32-column micro-panel of op(B) into d (32·kLen
// floats) with the assembly packers; it reports false when it cannot.
func packB32(d, b []float32, ldb int, transB bool, j, p0, kLen int) bool {
	if !hasAVX512F || !asmPack {
		return false
	}
	_ = d[32*kLen-1]
	if !transB {
		o := p0*ldb + j
		_ = b[o+(kLen-1)*ldb+31] // the last element read
		packB32N(&d[0], &b[o], uintptr(ldb*4), kLen)
		return true
	}
	k8 := kLen / 8
	o := j*ldb + p0
	if k8 > 0 {
		_ = b[o+31*ldb+8*k8-1] // the last element read
		for q := 0; q < 4; q++ {
			packB8T32(&d[8*q], &b[o+8*q*ldb], uintptr(ldb*4), k8)
		}
	}
	for p := 8 * k8; p < kLen; p++ {
		t := (*[32]float32)(d[p*32:])
		for jj := range t {
			t[jj] = b[o+jj*ldb+p]
		}
	}
	return true
}
