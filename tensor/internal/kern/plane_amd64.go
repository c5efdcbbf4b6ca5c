//go:build amd64 && !purego

package kern

//go:noescape
func maxPool2x2AVX512(out *float32, arg *int32, in *float32, oh, ow, w int, masks uint64, perm *[32]int32) (sawNaN bool)

// pool2Perm holds the VPERMT2PS indices that split 32 floats into their
// even and odd elements.
var pool2Perm = func() (p [32]int32) {
	for i := 0; i < 16; i++ {
		p[i], p[16+i] = int32(2*i), int32(2*i+1)
	}
	return p
}()

//go:noescape
func maxPool2x2AVX2(out *float32, arg *int32, in *float32, oh, ow, w int, pos0, inLo, inHi, outMask *int32) (sawNaN bool)

//go:noescape
func maxPool2x2BackAVX2(dx *float32, dy *float32, arg *int32, oh, ow, w int, pos0, inLo, inHi, outMask *int32)

// pool2Pos0 holds the first positions of the AVX2 pooling kernels' eight
// windows in the order of their lanes.
var pool2Pos0 = [8]int32{0, 2, 8, 10, 4, 6, 12, 14}

// pool2Masks returns the VMASKMOVPS masks of a row's last ow mod 8
// windows: its first and second eight input floats, and its windows.
func pool2Masks(ow int) (inLo, inHi, out *int32) {
	t := ow & 7
	return &tailMask[8-min(2*t, 8)], &tailMask[8-max(0, 2*t-8)], &tailMask[8-t]
}

func maxPool2x2Asm(out []float32, arg []int32, in []float32, w, oh, ow int) bool {
	if indAVX2() {
		lo, hi, om := pool2Masks(ow)
		return !maxPool2x2AVX2(&out[0], &arg[0], &in[0], oh, ow, w, &pool2Pos0[0], lo, hi, om)
	}
	if !indWide() {
		return false
	}
	return !maxPool2x2AVX512(&out[0], &arg[0], &in[0], oh, ow, w, poolMasks(ow), &pool2Perm)
}

// poolMasks packs the masks of a row's last ow mod 16 windows: bits 0–15
// the windows, 16–31 and 32–47 the two zmm of each input row under them.
func poolMasks(ow int) uint64 {
	t := ow % 16
	masks := uint64(1)<<t - 1
	masks |= (uint64(1)<<min(2*t, 16) - 1) << 16
	masks |= (uint64(1)<<max(0, 2*t-16) - 1) << 32
	return masks
}

//go:noescape
func addBiasRowsAVX512(dst *float32, dstStride uintptr, src *float32, srcStride uintptr, rows, cols int, b float32, relu bool, mask uint64)

//go:noescape
func spreadRowsAVX512(dst *float32, dstStride uintptr, grad, y *float32, srcStride uintptr, rows, cols int, mask uint64) (sum float32)

//go:noescape
func addBiasRowsAVX2(dst *float32, dstStride uintptr, src *float32, srcStride uintptr, rows, cols int, b float32, relu bool, masks, masks2 *int32)

//go:noescape
func spreadRowsAVX2(dst *float32, dstStride uintptr, grad, y *float32, srcStride uintptr, rows, cols int, masks, masks2 *int32) (sum float32)

// rowMasks returns the VMASKMOVPS masks of a row's last cols mod 16
// floats: the first eight of them, then the next eight.
func rowMasks(cols int) (lo, hi *int32) {
	t := cols & 15
	return &tailMask[8-min(t, 8)], &tailMask[8-max(0, t-8)]
}

func addBiasRowsAsm(dst []float32, dstStride int, src []float32, srcStride, rows, cols int, b float32, relu bool) bool {
	if indAVX2() {
		lo, hi := rowMasks(cols)
		addBiasRowsAVX2(&dst[0], uintptr(dstStride*4), &src[0], uintptr(srcStride*4), rows, cols, b, relu, lo, hi)
		return true
	}
	if !indWide() {
		return false
	}
	addBiasRowsAVX512(&dst[0], uintptr(dstStride*4), &src[0], uintptr(srcStride*4), rows, cols, b, relu, uint64(1)<<(cols&15)-1)
	return true
}

func spreadRowsAsm(dst []float32, dstStride int, g, y []float32, srcStride, rows, cols int) (float32, bool) {
	var yp *float32
	if y != nil {
		yp = &y[0]
	}
	if indAVX2() {
		lo, hi := rowMasks(cols)
		return spreadRowsAVX2(&dst[0], uintptr(dstStride*4), &g[0], yp, uintptr(srcStride*4), rows, cols, lo, hi), true
	}
	if !indWide() {
		return 0, false
	}
	return spreadRowsAVX512(&dst[0], uintptr(dstStride*4), &g[0], yp, uintptr(srcStride*4), rows, cols, uint64(1)<<(cols&15)-1), true
}

//go:noescape
func lstmGradsPass1(n int, ao, tc, dhRec, dhOut, dc, do *float32, mask uint64)

//go:noescape
func lstmGradsPass2(n int, ai, af, ag, cPrev, dc, di, df, dg *float32, mask uint64)

//go:noescape
func lstmGradsPass1AVX2(n int, ao, tc, dhRec, dhOut, dc, do *float32)

//go:noescape
func lstmGradsPass2AVX2(n int, ai, af, ag, cPrev, dc, di, df, dg *float32)

func lstmGateGradsAsm(a, cPrev, tc, dhRec, dhOut, dc, da []float32) bool {
	n := len(dc)
	if indAVX2() {
		// Whole steps of 8 in assembly, the last n mod 8 units in Go.
		n8 := n &^ 7
		if n8 > 0 {
			lstmGradsPass1AVX2(n8, &a[3*n], &tc[0], &dhRec[0], &dhOut[0], &dc[0], &da[3*n])
			lstmGradsPass2AVX2(n8, &a[0], &a[n], &a[2*n], &cPrev[0], &dc[0], &da[0], &da[n], &da[2*n])
		}
		lstmGateGradsGo(a, cPrev, tc, dhRec, dhOut, dc, da, n8)
		return true
	}
	if !indWide() {
		return false
	}
	m := uint64(1)<<(n&15) - 1
	lstmGradsPass1(n, &a[3*n], &tc[0], &dhRec[0], &dhOut[0], &dc[0], &da[3*n], m)
	lstmGradsPass2(n, &a[0], &a[n], &a[2*n], &cPrev[0], &dc[0], &da[0], &da[n], &da[2*n], m)
	return true
}

//go:noescape
func adamAVX512(n int, w, grad, m, v *float32, c *[8]float32, mask uint64)

//go:noescape
func adamAVX2(n int, w, grad, m, v *float32, c *[8]float32)

func adamAsm(w, g, m, v []float32, c *[8]float32) bool {
	n := len(w)
	if indAVX2() {
		// Whole steps of 8 in assembly, the last n mod 8 weights in Go.
		n8 := n &^ 7
		if n8 > 0 {
			adamAVX2(n8, &w[0], &g[0], &m[0], &v[0], c)
		}
		adamGo(w[n8:], g[n8:n], m[n8:n], v[n8:n], c)
		return true
	}
	if !indWide() {
		return false
	}
	adamAVX512(n, &w[0], &g[0], &m[0], &v[0], c, uint64(1)<<(n&15)-1)
	return true
}

//go:noescape
func maxPool2x2BackAVX512(dx *float32, dy *float32, arg *int32, oh, ow, w int, masks uint64, perm *[48]int32)

// pool2Interleave holds the VPERMT2PS indices that interleave two vectors
// (first and second halves) and the even numbers 0..30.
var pool2Interleave = func() (p [48]int32) {
	for i := 0; i < 8; i++ {
		p[2*i], p[2*i+1] = int32(i), int32(16+i)
		p[16+2*i], p[16+2*i+1] = int32(8+i), int32(24+i)
	}
	for i := 0; i < 16; i++ {
		p[32+i] = int32(2 * i)
	}
	return p
}()

func maxPool2x2BackAsm(dx, dy []float32, arg []int32, w, oh, ow int) bool {
	if indAVX2() {
		lo, hi, om := pool2Masks(ow)
		maxPool2x2BackAVX2(&dx[0], &dy[0], &arg[0], oh, ow, w, &pool2Pos0[0], lo, hi, om)
		return true
	}
	if !indWide() {
		return false
	}
	maxPool2x2BackAVX512(&dx[0], &dy[0], &arg[0], oh, ow, w, poolMasks(ow), &pool2Interleave)
	return true
}
