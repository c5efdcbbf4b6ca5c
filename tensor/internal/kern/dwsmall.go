package kern

import "fmt"

// DepthwiseSmall3x3 computes planes consecutive planes of a 3×3,
// stride-1, one-pixel-padded depthwise convolution whose planes are at
// most 16 wide (MobileNet's 14×14 and 7×7 stages): plane p of dst (h rows
// of w, stored like src) is src's plane p convolved with the 3×3 filter
// wts[9p : 9p+9], plus bias[p], rectified when relu, bounded above by
// bound when bound > 0, with each output row one vector and the padding
// read through masks: no padded copy of the plane and no copy out, which
// cost a 7×7 plane more than its arithmetic. Each output is its bias then
// the taps in row-major order, one FMA each (the bits of DepthwiseFlat's
// sums from the bias). It reports false, having done nothing, where there
// is no vector kernel for it (no AVX-512, or a plane wider than 16); it
// panics when a slice is short.
func DepthwiseSmall3x3(dst, src []float32, w, h, planes int, wts, bias []float32, relu bool, bound float32) bool {
	if !DepthwiseSmallFast(w) || h < 1 || planes < 1 {
		return false
	}
	if len(src) < planes*w*h || len(dst) < planes*w*h || len(wts) < 9*planes || len(bias) < planes {
		panic(fmt.Sprintf("kern.DepthwiseSmall3x3: slices too short for %d planes of %d×%d", planes, h, w))
	}
	var flags int
	if relu {
		flags |= 1
	}
	if bound > 0 {
		flags |= 2
	}
	left := (uint64(1)<<w - 1) &^ 1
	mid := uint64(1)<<w - 1
	right := uint64(1)<<(w-1) - 1
	dwSmallAsm(&dst[0], &src[0], w, h, planes, &wts[0], &bias[0], flags, bound, left|mid<<16|right<<32)
	return true
}

// DepthwiseSmallFast reports whether DepthwiseSmall3x3 takes planes w
// wide here.
func DepthwiseSmallFast(w int) bool { return indWide() && w >= 1 && w <= 16 }
