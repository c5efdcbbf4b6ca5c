package kern

import (
	"fmt"
	"sync/atomic"
)

// DepthwiseSmall3x3 computes planes consecutive planes of a 3×3,
// stride-1, one-pixel-padded depthwise convolution read in place: plane p
// of dst (h rows of w, stored like src) is src's plane p convolved with
// the 3×3 filter wts[9p : 9p+9], plus bias[p], rectified when relu,
// bounded above by bound when bound > 0, each output row 16 columns a
// vector (8 with AVX2) with the padding read through masks: no padded
// copy of the plane and no copy out (MobileNet's 7×7 planes cost more in
// those copies than in their arithmetic, and its 112×112 ones a copy of
// 50 KB each). Each
// output is its bias then the taps in row-major order, one FMA each (the
// bits of DepthwiseFlat's sums from the bias). It reports false, having
// done nothing, where there is no vector kernel for it (neither AVX-512
// nor AVX2, or a plane wider than maxDWSmallWidth); it panics when a
// slice is short.
func DepthwiseSmall3x3(dst, src []float32, w, h, planes int, wts, bias []float32, relu bool, bound float32) bool {
	if !dwInPlace("DepthwiseSmall3x3", dst, src, w, h, w, h, planes, wts, bias, 1) {
		return false
	}
	if indAVX2() {
		dwSmall8Asm(&dst[0], &src[0], w, h, planes, &wts[0], &bias[0], dwFlags(relu, bound), bound, &dwMasks(&dw8MaskTables, w, dw8Masks)[0])
		return true
	}
	dwSmallAsm(&dst[0], &src[0], w, h, planes, &wts[0], &bias[0], dwFlags(relu, bound), bound, &dwMasks(&dw16MaskTables, w, dw16Masks)[0])
	return true
}

// dw16Masks makes the AVX-512 kernel's masks for planes w wide: per chunk
// of 16 columns the lanes the left tap may read (not column −1), the
// row's columns, and those the right tap may read (not column w).
func dw16Masks(w int) []uint64 {
	m := make([]uint64, (w+15)/16)
	for c := range m {
		mid := lanesIn(16*c, w)
		m[c] = lanesIn(16*c-1, w)&mid | mid<<16 | lanesIn(16*c+1, w)<<32
	}
	return m
}

// dwMasks returns build(w) from table, made on the first call for w and
// kept: the in-place kernels are called once per plane of 112×112 and
// more, and their masks depend on the width alone (building them at
// every call had cost the AVX2 kernel's 32×112×112 layer a fifth of its
// time). A racing call stores the same masks.
func dwMasks[T any](table *[maxDWSmallWidth + 1]atomic.Pointer[[]T], w int, build func(int) []T) []T {
	if m := table[w].Load(); m != nil {
		return *m
	}
	m := build(w)
	table[w].Store(&m)
	return m
}

var (
	dw8MaskTables   [maxDWSmallWidth + 1]atomic.Pointer[[]int32]
	dw16MaskTables  [maxDWSmallWidth + 1]atomic.Pointer[[]uint64]
	dwS2MaskTables  [maxDWSmallWidth + 1]atomic.Pointer[[]uint64]
	dwS2Mask8Tables [maxDWSmallWidth + 1]atomic.Pointer[[]int32]
)

// maxDWSmallWidth is the widest plane the in-place kernels take.
const maxDWSmallWidth = 1024

// dw8Masks makes the AVX2 kernel's lane masks for planes w wide: per
// chunk of 8 columns the left tap's, the row's and the right tap's (8
// int32 each, −1 where the lane reads).
func dw8Masks(w int) []int32 {
	m := make([]int32, 24*((w+7)/8))
	for x := 0; x < w; x++ {
		c, l := x/8, x%8
		m[24*c+8+l] = -1
		if x >= 1 {
			m[24*c+l] = -1
		}
		if x+1 < w {
			m[24*c+16+l] = -1
		}
	}
	return m
}

// DepthwiseSmallFast reports whether an in-place kernel takes planes w
// wide here at stride 1 (DepthwiseSmall3x3) or 2 (DepthwiseStride2x3x3):
// with AVX-512 or AVX2.
func DepthwiseSmallFast(w, stride int) bool {
	return (indWide() || indAVX2()) && (stride == 1 || stride == 2) && w >= 1 && w <= maxDWSmallWidth
}

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
	ow, oh := (w+1)/2, (h+1)/2
	if !dwInPlace("DepthwiseStride2x3x3", dst, src, w, h, ow, oh, planes, wts, bias, 2) {
		return false
	}
	if indAVX2() {
		dwS2Asm8(&dst[0], &src[0], w, h, planes, &wts[0], &bias[0], dwFlags(relu, bound), bound, &dwMasks(&dwS2Mask8Tables, w, dwS2Masks8)[0], ow, oh)
		return true
	}
	dwS2Asm(&dst[0], &src[0], w, h, planes, &wts[0], &bias[0], dwFlags(relu, bound), bound, &dwMasks(&dwS2MaskTables, w, dwS2Masks)[0], ow, oh)
	return true
}

// dwS2Masks makes the stride-2 kernel's masks for planes w wide: per
// chunk of 16 outputs the lanes of the two loads at column 2x0 and the
// two at 2x0−2 that lie in the row, then the outputs'.
func dwS2Masks(w int) []uint64 {
	ow := (w + 1) / 2
	m := make([]uint64, 2*((ow+15)/16))
	for c := 0; 2*c < len(m); c++ {
		x0 := 2 * 16 * c
		m[2*c] = lanesIn(x0, w) | lanesIn(x0+16, w)<<16 | lanesIn(x0-2, w)<<32 | lanesIn(x0+14, w)<<48
		m[2*c+1] = lanesIn(16*c, ow)
	}
	return m
}

// dwS2Masks8 makes the AVX2 stride-2 kernel's lane masks for planes w
// wide: per chunk of 8 outputs, those of the loads at columns 2x0,
// 2x0+8, 2x0−2 and 2x0+6 (the lanes inside the row) and the store's
// (the outputs inside the output row), 8 int32 each, −1 where the lane
// reads or writes.
func dwS2Masks8(w int) []int32 {
	ow := (w + 1) / 2
	chunks := (ow + 7) / 8
	m := make([]int32, 40*chunks)
	for c := 0; c < chunks; c++ {
		x0 := 2 * 8 * c
		for l := 0; l < 8; l++ {
			for i, start := range [4]int{x0, x0 + 8, x0 - 2, x0 + 6} {
				if col := start + l; col >= 0 && col < w {
					m[40*c+8*i+l] = -1
				}
			}
			if 8*c+l < ow {
				m[40*c+32+l] = -1
			}
		}
	}
	return m
}

// dwInPlace reports whether an in-place depthwise kernel runs here for
// planes of w (≤ maxDWSmallWidth) by h into ow by oh at stride, and
// panics, naming op, when a slice is too short for them.
func dwInPlace(op string, dst, src []float32, w, h, ow, oh, planes int, wts, bias []float32, stride int) bool {
	if !DepthwiseSmallFast(w, stride) || h < 1 || planes < 1 {
		return false
	}
	if len(src) < planes*w*h || len(dst) < planes*ow*oh || len(wts) < 9*planes || len(bias) < planes {
		panic(fmt.Sprintf("kern.%s: slices too short for %d planes of %d×%d", op, planes, h, w))
	}
	return true
}

// dwFlags is the in-place kernels' epilogue: bit 0 rectify, bit 1 bound.
func dwFlags(relu bool, bound float32) int {
	var flags int
	if relu {
		flags |= 1
	}
	if bound > 0 {
		flags |= 2
	}
	return flags
}

// lanesIn is the mask of the 16 columns from col on that lie in [0, n).
func lanesIn(col, n int) uint64 {
	var m uint64
	for i := 0; i < 16; i++ {
		if c := col + i; c >= 0 && c < n {
			m |= 1 << i
		}
	}
	return m
}
