//go:build !amd64 || purego

package kern

// dwSmallAsm is never reached here: DepthwiseSmall3x3 reports false first
// (indWide is false without amd64 assembly).
func dwSmallAsm(dst, src *float32, w, h, planes int, wts, bias *float32, flags int, bound float32, masks *uint64) {
	panic("kern: no DepthwiseSmall3x3 kernel")
}

// dwS2Asm is never reached here either: DepthwiseStride2x3x3 reports false
// first.
func dwS2Asm(dst, src *float32, w, h, planes int, wts, bias *float32, flags int, bound float32, masks *uint64, ow, oh int) {
	panic("kern: no DepthwiseStride2x3x3 kernel")
}

// dwSmall8Asm is never reached here either.
func dwSmall8Asm(dst, src *float32, w, h, planes int, wts, bias *float32, flags int, bound float32, masks *int32) {
	panic("kern: no DepthwiseSmall3x3 kernel")
}

// dwS2Asm8 is never reached here either.
func dwS2Asm8(dst, src *float32, w, h, planes int, wts, bias *float32, flags int, bound float32, masks *int32, ow, oh int) {
	panic("kern: no in-place depthwise kernel on this platform")
}
