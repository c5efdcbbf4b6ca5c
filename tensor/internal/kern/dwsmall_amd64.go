//go:build amd64 && !purego

package kern

//go:noescape
func dw3x3SmallAVX512(dst, src *float32, w, h, planes int, wts, bias *float32, flags int, bound float32, masks *uint64)

func dwSmallAsm(dst, src *float32, w, h, planes int, wts, bias *float32, flags int, bound float32, masks *uint64) {
	dw3x3SmallAVX512(dst, src, w, h, planes, wts, bias, flags, bound, masks)
}

//go:noescape
func dw3x3SmallAVX2(dst, src *float32, w, h, planes int, wts, bias *float32, flags int, bound float32, masks *int32)

func dwSmall8Asm(dst, src *float32, w, h, planes int, wts, bias *float32, flags int, bound float32, masks *int32) {
	dw3x3SmallAVX2(dst, src, w, h, planes, wts, bias, flags, bound, masks)
}

//go:noescape
func dw3x3S2AVX512(dst, src *float32, w, h, planes int, wts, bias *float32, flags int, bound float32, masks *uint64, ow, oh int, perm *[32]int32)

func dwS2Asm(dst, src *float32, w, h, planes int, wts, bias *float32, flags int, bound float32, masks *uint64, ow, oh int) {
	dw3x3S2AVX512(dst, src, w, h, planes, wts, bias, flags, bound, masks, ow, oh, &pool2Perm)
}

//go:noescape
func dw3x3S2AVX2(dst, src *float32, w, h, planes int, wts, bias *float32, flags int, bound float32, masks *int32, ow, oh int)

func dwS2Asm8(dst, src *float32, w, h, planes int, wts, bias *float32, flags int, bound float32, masks *int32, ow, oh int) {
	dw3x3S2AVX2(dst, src, w, h, planes, wts, bias, flags, bound, masks, ow, oh)
}
