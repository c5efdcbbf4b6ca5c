//go:build amd64 && !purego

package kern

import "golang.org/x/sys/cpu"

var hasAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasAVX

// avx2Kernel is the AVX2+FMA micro-kernel: a 6×16 tile held in twelve ymm
// accumulators; per step of k it loads two ymm of B, broadcasts six values
// of A and issues twelve FMAs (BLIS's Haswell/Zen shape). kc and mc come
// from the caches (blockSizes: 256 and 252 on Zen 3, 256 and 126 on
// Haswell); the table's 256 and 144 (16 KiB of B in L1, 144 KiB of A in
// L2) are used when the caches are unknown.
var avx2Kernel = &gemmKernel{
	name:         "avx2-fma 6x16",
	mr:           6,
	nr:           16,
	kc:           256,
	mc:           144,
	stridedA:     true,
	cacheBlocked: true,
	micro:        microAVX2,
	edge:         []microFn{2: microAVX2x2, 4: microAVX2x4, 5: nil},
	usable:       func() bool { return hasAVX2FMA },
}

func archKernels() []*gemmKernel { return []*gemmKernel{avx512Kernel, avx2Kernel} }

// sgemm6x16 is the assembly micro-kernel; strides are in bytes.
//
//go:noescape
func sgemm6x16(kc int, a *float32, rsa, csa uintptr, b, c *float32, ldc uintptr, alpha, beta float32)

//go:noescape
func sgemm4x16(kc int, a *float32, rsa, csa uintptr, b, c *float32, ldc uintptr, alpha, beta float32)

//go:noescape
func sgemm2x16(kc int, a *float32, rsa, csa uintptr, b, c *float32, ldc uintptr, alpha, beta float32)

func microAVX2x4(kc int, a []float32, rsa, csa int, b, c []float32, ldc int, alpha, beta float32) {
	sgemm4x16(kc, &a[0], uintptr(rsa*4), uintptr(csa*4), &b[0], &c[0], uintptr(ldc*4), alpha, beta)
}

func microAVX2x2(kc int, a []float32, rsa, csa int, b, c []float32, ldc int, alpha, beta float32) {
	sgemm2x16(kc, &a[0], uintptr(rsa*4), uintptr(csa*4), &b[0], &c[0], uintptr(ldc*4), alpha, beta)
}

func microAVX2(kc int, a []float32, rsa, csa int, b, c []float32, ldc int, alpha, beta float32) {
	sgemm6x16(kc, &a[0], uintptr(rsa*4), uintptr(csa*4), &b[0], &c[0], uintptr(ldc*4), alpha, beta)
}

//go:noescape
func saxpyAVX2(alpha float32, x, y *float32, n int)

//go:noescape
func sdotAVX2(x, y *float32, n int) float32

//go:noescape
func sscalAVX2(alpha float32, x *float32, n int)

//go:noescape
func gemvRowsAVX2(x *float32, k int, b *float32, ldb uintptr, y *float32, n int)

//go:noescape
func gemvRowsAVX512(x *float32, k int, b *float32, ldb uintptr, y *float32, n int)

// hasGemv reports whether gemvRows has its kernel here.
func hasGemv() bool { return hasAVX2FMA }

// gemvRows adds Σ_p x[p]·b[p·ldb : p·ldb+len(y)] to y, bit for bit what
// Saxpy(x[p], row p of b, y) for p = 0, 1, … gives, and reports false
// (doing nothing) where there is no kernel or an x[p] is 0, which Saxpy
// skips.
func gemvRows(x, b []float32, ldb int, y []float32) bool {
	if !hasAVX2FMA || len(x) == 0 || len(y) == 0 {
		return false
	}
	for _, v := range x {
		if v == 0 {
			return false
		}
	}
	_ = b[(len(x)-1)*ldb+len(y)-1] // the last element read
	if indWide() {
		// With the AVX-512 GEMM kernel: 384 columns a pass, where the
		// AVX2 kernel's 96 read a GRU step's rows in four passes
		// (2.2 µs a batch-1 step of 384 × 128).
		gemvRowsAVX512(&x[0], len(x), &b[0], uintptr(ldb*4), &y[0], len(y))
		return true
	}
	gemvRowsAVX2(&x[0], len(x), &b[0], uintptr(ldb*4), &y[0], len(y))
	return true
}

func saxpy(alpha float32, x, y []float32) {
	if hasAVX2FMA {
		saxpyAVX2(alpha, &x[0], &y[0], len(x))
		return
	}
	saxpyGo(alpha, x, y)
}

func sdot(x, y []float32) float32 {
	if hasAVX2FMA {
		return sdotAVX2(&x[0], &y[0], len(x))
	}
	return sdotGo(x, y)
}

func sscal(alpha float32, x []float32) {
	if hasAVX2FMA {
		sscalAVX2(alpha, &x[0], len(x))
		return
	}
	sscalGo(alpha, x)
}

func vecName() string {
	if hasAVX2FMA {
		return "avx2-fma"
	}
	return "purego"
}

//go:noescape
func packB16N(dst, src *float32, ldb uintptr, k int)

//go:noescape
func packB8T(dst, src *float32, ldb uintptr, k8 int)

// packB16 packs a full 16-column B micro-panel with AVX2 (see packBPanel);
// it reports false when it cannot.
func packB16(d, b []float32, ldb int, transB bool, j, p0, kLen int) bool {
	if !hasAVX2FMA || !asmPack {
		return false
	}
	if !transB {
		o := p0*ldb + j
		_ = b[o+(kLen-1)*ldb+15] // the last element read
		packB16N(&d[0], &b[o], uintptr(ldb*4), kLen)
		return true
	}
	k8 := kLen / 8
	if k8 > 0 {
		o := j*ldb + p0
		_ = b[o+15*ldb+8*k8-1] // the last element read
		_ = d[(8*k8-1)*16+15]
		packB8T(&d[0], &b[o], uintptr(ldb*4), k8)
		packB8T(&d[8], &b[o+8*ldb], uintptr(ldb*4), k8)
	}
	for p := 8 * k8; p < kLen; p++ {
		t := (*[16]float32)(d[p*16:])
		for jj := range t {
			t[jj] = b[(j+jj)*ldb+p0+p]
		}
	}
	return true
}

//go:noescape
func packA6N(dst, src *float32, lda uintptr, k8 int)

// packA6 packs a full 6-row micro-panel of A (not transposed) with AVX2
// (see packANoTrans): d must have 2 floats of room past the 6·kLen packed
// ones for the assembly's last, overlapping store. It reports false when
// it cannot.
func packA6(d, a []float32, lda, i, p0, kLen int) bool {
	k8 := kLen / 8
	if !hasAVX2FMA || !asmPack || k8 == 0 || len(d) < 6*kLen+2 {
		return false
	}
	o := i*lda + p0
	_ = a[o+5*lda+8*k8-1] // the last element read
	packA6N(&d[0], &a[o], uintptr(lda*4), k8)
	for p := 8 * k8; p < kLen; p++ {
		t := (*[6]float32)(d[6*p:])
		t[0], t[1], t[2], t[3], t[4], t[5] = a[o+p], a[o+lda+p], a[o+2*lda+p], a[o+3*lda+p], a[o+4*lda+p], a[o+5*lda+p]
	}
	return true
}
