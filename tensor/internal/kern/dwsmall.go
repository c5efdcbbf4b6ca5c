package kern

import "fmt"

// DepthwiseSmall3x3 computes planes consecutive planes of a 3×3,
// stride-1, one-pixel-padded depthwise convolution read in place: plane p
// of dst (h rows of w, stored like src) is src's plane p convolved with
// the 3×3 filter wts[9p : 9p+9], plus bias[p], rectified when relu,
// bounded above by bound when bound > 0, each output row 16 columns a
// vector with the padding read through masks: no padded copy of the plane
// and no copy out (MobileNet's 7×7 planes cost more in those copies than
// in their arithmetic, and its 112×112 ones a copy of 50 KB each). Each
// output is its bias then the taps in row-major order, one FMA each (the
// bits of DepthwiseFlat's sums from the bias). It reports false, having
// done nothing, where there is no vector kernel for it (no AVX-512, or a
// plane wider than maxDWSmallWidth); it panics when a slice is short.
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
	// Per chunk of 16 columns: the lanes the left tap may read (not
	// column −1), the row's columns, and those the right tap may read (not
	// column w).
	var masks [maxDWSmallWidth / 16]uint64
	for c := 0; c*16 < w; c++ {
		valid := min(16, w-16*c)
		mid := uint64(1)<<valid - 1
		left := mid
		if c == 0 {
			left &^= 1
		}
		right := uint64(1)<<min(valid, w-1-16*c) - 1
		masks[c] = left | mid<<16 | right<<32
	}
	dwSmallAsm(&dst[0], &src[0], w, h, planes, &wts[0], &bias[0], flags, bound, &masks[0])
	return true
}

// maxDWSmallWidth is the widest plane DepthwiseSmall3x3 takes (its mask
// table lives on the stack).
const maxDWSmallWidth = 1024

// DepthwiseSmallFast reports whether DepthwiseSmall3x3 takes planes w
// wide here.
func DepthwiseSmallFast(w int) bool { return indWide() && w >= 1 && w <= maxDWSmallWidth }

// DepthwiseStride2x3x3 is DepthwiseSmall3x3 at stride 2 (MobileNet's
// downsampling depthwise layers): dst's planes are (h+1)/2 rows of
// (w+1)/2, output (y, x) summing input rows 2y−1…2y+1 and columns
// 2x−1…2x+1 (those inside), 16 outputs a vector from 32 input columns
// split into even and odd ones, read in place — the planes had been split
// into their stride phases first, a copy that cost MobileNetV2 more than
// these layers' arithmetic. The same bits as DepthwiseFlat's sums. It
// reports false, having done nothing, where there is no vector kernel
// (no AVX-512, or a plane wider than maxDWSmallWidth).
func DepthwiseStride2x3x3(dst, src []float32, w, h, planes int, wts, bias []float32, relu bool, bound float32) bool {
	if !DepthwiseSmallFast(w) || h < 1 || planes < 1 {
		return false
	}
	ow, oh := (w+1)/2, (h+1)/2
	if len(src) < planes*w*h || len(dst) < planes*ow*oh || len(wts) < 9*planes || len(bias) < planes {
		panic(fmt.Sprintf("kern.DepthwiseStride2x3x3: slices too short for %d planes of %d×%d", planes, h, w))
	}
	var flags int
	if relu {
		flags |= 1
	}
	if bound > 0 {
		flags |= 2
	}
	// lanes returns the mask of the 16 columns from col on that lie in
	// [0, n).
	lanes := func(col, n int) uint64 {
		var m uint64
		for i := 0; i < 16; i++ {
			if c := col + i; c >= 0 && c < n {
				m |= 1 << i
			}
		}
		return m
	}
	var masks [2 * maxDWSmallWidth / 32]uint64
	for c := 0; 16*c < ow; c++ {
		x0 := 2 * 16 * c
		masks[2*c] = lanes(x0, w) | lanes(x0+16, w)<<16 | lanes(x0-2, w)<<32 | lanes(x0+14, w)<<48
		masks[2*c+1] = lanes(16*c, ow)
	}
	dwS2Asm(&dst[0], &src[0], w, h, planes, &wts[0], &bias[0], flags, bound, &masks[0], ow, oh)
	return true
}
