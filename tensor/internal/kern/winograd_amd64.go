//go:build amd64 && !purego

package kern

//go:noescape
func winoInputAVX512(dst *float32, xiStride, cStride uintptr, src *float32, goffs *int32, srcStride, planeStride uintptr, nc, nsteps int, perm *[64]int32)

//go:noescape
func winoOutputAVX512(dst *float32, goffs *int32, gmask *uint64, dstStride, dstPlane uintptr, m *float32, xiStride, kStride uintptr, nk, nsteps int, bias, res *float32, mode uint64, bound float32, perm *[64]int32)

//go:noescape
func winoGradInputAVX512(dst *float32, xiStride, cStride uintptr, src *float32, goffs *int32, srcStride, planeStride uintptr, nc, nsteps int, perm *[64]int32)

//go:noescape
func winoInputAVX2(dst *float32, xiStride, cStride uintptr, src *float32, goffs *int32, srcStride, planeStride uintptr, nc, nsteps int)

//go:noescape
func winoOutputAVX2(dst *float32, goffs *int32, gmask *uint64, dstStride, dstPlane uintptr, m *float32, xiStride, kStride uintptr, nk, nsteps int, bias, res *float32, mode uint64, bound float32)

//go:noescape
func winoGradInputAVX2(dst *float32, xiStride, cStride uintptr, src *float32, goffs *int32, srcStride, planeStride uintptr, nc, nsteps int)

// WinoFast reports whether the Winograd transforms run vector kernels
// here: the AVX-512 ones with the AVX-512 GEMM, the AVX2 ones with the
// AVX2 GEMM (GLASSBOX_KERNEL=avx2, or a CPU without AVX-512). The
// convolutions use them only then: the Go transforms made Winograd
// slower than the direct paths.
func WinoFast() bool { return indWide() || indAVX2() }

// winoGather holds the VPERMT2PS indices that take every fourth float of
// 64 in two levels: from a pair of vectors (32 floats), floats 0, 4, …, 28
// then 1, 5, …, 29 (the first 16), and 2, 6, …, 30 then 3, 7, …, 31 (the
// next 16); then from two such results, their first halves and their
// second halves (the last 32).
var winoGather = func() (p [64]int32) {
	for i := 0; i < 8; i++ {
		p[i], p[8+i] = int32(4*i), int32(4*i+1)
		p[16+i], p[24+i] = int32(4*i+2), int32(4*i+3)
		p[32+i], p[40+i] = int32(i), int32(16+i)
		p[48+i], p[56+i] = int32(8+i), int32(24+i)
	}
	return p
}()

// winoScatter holds the indices that interleave four vectors A, B, C, D
// of 16 into 64 floats A0 B0 C0 D0 A1 …: first A with B (and C with D),
// floats 0–7 then 8–15 of each pair; then those pairs two by two.
var winoScatter = func() (p [64]int32) {
	for i := 0; i < 8; i++ {
		p[2*i], p[2*i+1] = int32(i), int32(16+i)
		p[16+2*i], p[16+2*i+1] = int32(8+i), int32(24+i)
	}
	for i := 0; i < 4; i++ {
		for j, v := range []int32{0, 1, 16, 17} {
			p[32+4*i+j] = v + int32(2*i)
			p[48+4*i+j] = v + int32(8+2*i)
		}
	}
	return p
}()

// winoInputAsm runs WinoInput's vector kernel: the AVX-512 one four
// groups (16 tiles) a step, or the AVX2 one two groups (8 tiles) a step.
// It reports false when neither runs here.
func winoInputAsm(dst []float32, xiStride, cStride int, src []float32, goffs []int32, srcStride, planeStride, nc int) bool {
	if indAVX2() {
		winoInputAVX2(&dst[0], uintptr(xiStride*4), uintptr(cStride*4), &src[0], &goffs[0], uintptr(srcStride*4), uintptr(planeStride*4), nc, len(goffs)/2)
		return true
	}
	if !indWide() {
		return false
	}
	winoInputAVX512(&dst[0], uintptr(xiStride*4), uintptr(cStride*4), &src[0], &goffs[0], uintptr(srcStride*4), uintptr(planeStride*4), nc, len(goffs)/4, &winoGather)
	return true
}

// winoOutputAsm runs WinoOutput's vector kernel: the AVX-512 one four
// groups (16 tiles, 16 output columns each) a step, or the AVX2 one two
// groups a step.
func winoOutputAsm(dst []float32, goffs []int32, gmask []uint64, dstStride, dstPlane int, m []float32, xiStride, kStride, nk int, bias, res []float32, relu bool, bound float32) bool {
	if !indWide() && !indAVX2() {
		return false
	}
	var mode uint64
	var bp, rp *float32
	if bias != nil {
		mode |= 1
		bp = &bias[0]
	}
	if relu {
		mode |= 2
	}
	if bound > 0 {
		mode |= 4
	}
	if res != nil {
		mode |= 8
		rp = &res[0]
	}
	if indAVX2() {
		winoOutputAVX2(&dst[0], &goffs[0], &gmask[0], uintptr(dstStride*4), uintptr(dstPlane*4), &m[0], uintptr(xiStride*4), uintptr(kStride*4), nk, len(goffs)/2, bp, rp, mode, bound)
		return true
	}
	winoOutputAVX512(&dst[0], &goffs[0], &gmask[0], uintptr(dstStride*4), uintptr(dstPlane*4), &m[0], uintptr(xiStride*4), uintptr(kStride*4), nk, len(goffs)/4, bp, rp, mode, bound, &winoScatter)
	return true
}

// winoGradInputAsm runs WinoGradInput's vector kernel: the AVX-512 one
// four groups (16 tiles) a step, or the AVX2 one two groups a step.
func winoGradInputAsm(dst []float32, xiStride, cStride int, src []float32, goffs []int32, srcStride, planeStride, nc int) bool {
	if indAVX2() {
		winoGradInputAVX2(&dst[0], uintptr(xiStride*4), uintptr(cStride*4), &src[0], &goffs[0], uintptr(srcStride*4), uintptr(planeStride*4), nc, len(goffs)/2)
		return true
	}
	if !indWide() {
		return false
	}
	winoGradInputAVX512(&dst[0], uintptr(xiStride*4), uintptr(cStride*4), &src[0], &goffs[0], uintptr(srcStride*4), uintptr(planeStride*4), nc, len(goffs)/4, &winoGather)
	return true
}
