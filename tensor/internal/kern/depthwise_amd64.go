//go:build amd64 && !purego

package kern

//go:noescape
func depthwiseFlatAVX512(dst, src *float32, offs *int32, w *float32, ntaps, n int, b float32, relu bool, bound float32, clamp bool)

//go:noescape
func depthwiseFlatAVX2(dst, src *float32, offs *int32, w *float32, ntaps, n int, b float32, relu bool, bound float32, clamp bool, mask *int32)

//go:noescape
func deinterleave2RowsAVX512(even, odd *float32, dstStride uintptr, src *float32, srcStride uintptr, rows, cols int, masks uint64)

//go:noescape
func deinterleave2RowsAVX2(even, odd *float32, dstStride uintptr, src *float32, srcStride uintptr, rows, cols int, masks *[4]*int32)

func depthwiseFlatAsm(dst, src []float32, offs []int32, w []float32, b float32, relu bool, bound float32) bool {
	switch {
	case indWide():
		depthwiseFlatAVX512(&dst[0], &src[0], &offs[0], &w[0], len(w), len(dst), b, relu, bound, bound > 0)
	case hasAVX2FMA:
		depthwiseFlatAVX2(&dst[0], &src[0], &offs[0], &w[0], len(w), len(dst), b, relu, bound, bound > 0, &tailMask[8-len(dst)%8])
	default:
		return false
	}
	return true
}

func deinterleave2RowsAsm(even, odd []float32, dstStride int, src []float32, srcStride, rows, cols int) bool {
	switch {
	case indWide():
		// The tail's masks (the last cols mod 32 floats of a row): the
		// two source vectors, then the even and the odd stores.
		t := cols & 31
		masks := uint64(1)<<min(t, 16) - 1
		masks |= (uint64(1)<<max(0, t-16) - 1) << 16
		masks |= (uint64(1)<<((t+1)/2) - 1) << 32
		masks |= (uint64(1)<<(t/2) - 1) << 48
		deinterleave2RowsAVX512(&even[0], &odd[0], uintptr(dstStride*4), &src[0], uintptr(srcStride*4), rows, cols, masks)
	case hasAVX2FMA:
		t := cols & 15
		masks := [4]*int32{&tailMask[8-min(t, 8)], &tailMask[8-max(0, t-8)], &tailMask[8-(t+1)/2], &tailMask[8-t/2]}
		deinterleave2RowsAVX2(&even[0], &odd[0], uintptr(dstStride*4), &src[0], uintptr(srcStride*4), rows, cols, &masks)
	default:
		return false
	}
	return true
}
