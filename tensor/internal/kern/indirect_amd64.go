//go:build amd64 && !purego

package kern

//go:noescape
func sgemmInd6x16(kc int, a *float32, src *float32, offs *int32, c *float32, ldc uintptr)

//go:noescape
func sgemmInd4x16(kc int, a *float32, src *float32, offs *int32, c *float32, ldc uintptr)

//go:noescape
func sgemmInd2x16(kc int, a *float32, src *float32, offs *int32, c *float32, ldc uintptr)

// indTile computes the rows×16 tile c = a·B (rows 6, 4 or 2; a a packed
// micro-panel, B's row p the 16 floats at src[offs[p]:]) and reports
// whether an assembly kernel did it.
func indTile(rows, k int, a, src []float32, offs []int32, c []float32, ldc int) bool {
	if !hasAVX2FMA {
		return false
	}
	switch rows {
	case 6:
		sgemmInd6x16(k, &a[0], &src[0], &offs[0], &c[0], uintptr(ldc*4))
	case 4:
		sgemmInd4x16(k, &a[0], &src[0], &offs[0], &c[0], uintptr(ldc*4))
	case 2:
		sgemmInd2x16(k, &a[0], &src[0], &offs[0], &c[0], uintptr(ldc*4))
	default:
		return false
	}
	return true
}

//go:noescape
func sgemmInd6x16Mask(kc int, a *float32, src *float32, offs *int32, c *float32, ldc uintptr, mask *int32)

//go:noescape
func sgemmInd4x16Mask(kc int, a *float32, src *float32, offs *int32, c *float32, ldc uintptr, mask *int32)

//go:noescape
func sgemmInd2x16Mask(kc int, a *float32, src *float32, offs *int32, c *float32, ldc uintptr, mask *int32)

// tail16 holds sixteen all-ones int32 then sixteen zeros: &tail16[16-w]
// is the pair of VMASKMOVPS masks of the first w of sixteen floats.
var tail16 = [32]int32{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1}

// indTileMask is indTile for a tile whose runs of B are read only in
// their first w (1..15) columns: the rows×16 tile c gets their sums (the
// same bits as indTile's) in those columns and zeros in the others. It
// reports false where there is no AVX2.
func indTileMask(rows, k, w int, a, src []float32, offs []int32, c []float32, ldc int) bool {
	if !hasAVX2FMA {
		return false
	}
	mask := &tail16[16-w]
	switch rows {
	case 6:
		sgemmInd6x16Mask(k, &a[0], &src[0], &offs[0], &c[0], uintptr(ldc*4), mask)
	case 4:
		sgemmInd4x16Mask(k, &a[0], &src[0], &offs[0], &c[0], uintptr(ldc*4), mask)
	case 2:
		sgemmInd2x16Mask(k, &a[0], &src[0], &offs[0], &c[0], uintptr(ldc*4), mask)
	default:
		return false
	}
	return true
}

//go:noescape
func packB8TRows(dst, src *float32, offs *int32, k8 int)

// packB16Rows packs a full 16-column panel of op(B) = Bᵀ whose stored rows
// start at b[offs[jj]] (see packBRows) with the AVX2 8×8 transposer; it
// reports false when it cannot.
func packB16Rows(d, b []float32, offs []int32, p0, kLen int) bool {
	if !hasAVX2FMA {
		return false
	}
	k8 := kLen / 8
	if k8 > 0 {
		_ = d[(8*k8-1)*16+15]
		packB8TRows(&d[0], &b[p0], &offs[0], k8)
		packB8TRows(&d[8], &b[p0], &offs[8], k8)
	}
	for p := 8 * k8; p < kLen; p++ {
		t := (*[16]float32)(d[p*16:])
		for jj := range t {
			t[jj] = b[int(offs[jj])+p0+p]
		}
	}
	return true
}

//go:noescape
func sgemmInd12x32(kc int, a *float32, src *float32, offs *int32, c *float32, ldc uintptr, masks uint64, bias *float32, mode uint64, bound float32)

//go:noescape
func sgemmInd6x32(kc int, a *float32, src *float32, offs *int32, c *float32, ldc uintptr, masks uint64, bias *float32, mode uint64, bound float32)

//go:noescape
func sgemmInd4x32(kc int, a *float32, src *float32, offs *int32, c *float32, ldc uintptr, masks uint64, bias *float32, mode uint64, bound float32)

//go:noescape
func sgemmInd2x32(kc int, a *float32, src *float32, offs *int32, c *float32, ldc uintptr, masks uint64, bias *float32, mode uint64, bound float32)

//go:noescape
func sgemmInd12x16Z(kc int, a *float32, src *float32, offs *int32, c *float32, ldc uintptr, masks uint64, bias *float32, mode uint64, bound float32)

//go:noescape
func sgemmInd6x16Z(kc int, a *float32, src *float32, offs *int32, c *float32, ldc uintptr, masks uint64, bias *float32, mode uint64, bound float32)

//go:noescape
func sgemmInd4x16Z(kc int, a *float32, src *float32, offs *int32, c *float32, ldc uintptr, masks uint64, bias *float32, mode uint64, bound float32)

//go:noescape
func sgemmInd2x16Z(kc int, a *float32, src *float32, offs *int32, c *float32, ldc uintptr, masks uint64, bias *float32, mode uint64, bound float32)

// indWide reports whether the indirect products use the 32-column AVX-512
// tiles: when the GEMM runs the AVX-512 kernel (so GLASSBOX_KERNEL=avx2
// turns both off together).
func indWide() bool { return active == avx512Kernel }

// indTileWidth is the columns of the indirect product's tiles: 32 with
// AVX-512, 16 with AVX2, 0 where only the Go tile runs.
func indTileWidth() int {
	switch {
	case indWide():
		return 32
	case indAVX2():
		return 16
	}
	return 0
}

// indTile32 is indTile for a rows×cols tile, cols ≤ 32, with the AVX-512
// kernels (the caller has checked indWide): only the first cols columns
// of B are read and of C written; ep (when not nil) adds bias and
// rectifies as it stores. It reports false for other heights.
func indTile32(rows, k, cols int, a, src []float32, offs []int32, c []float32, ldc int, ep *epilogue) bool {
	masks := uint64(1)<<min(cols, 16) - 1 | (uint64(1)<<max(0, cols-16)-1)<<16
	var bp *float32
	var mode uint64
	var bound float32
	if ep != nil {
		bp, mode = &ep.bias[0], 1
		if ep.relu {
			mode |= 2
		}
		if ep.bound > 0 {
			mode, bound = mode|4, ep.bound
		}
	}
	// Direct calls, not a table of funcs: an indirect call would make the
	// callers' scratch tiles escape to the heap.
	if cols <= 16 && !halfTilesOff {
		// One zmm of columns: the 16-column tiles, which spend no FMA
		// on masked-off lanes.
		switch rows {
		case 12:
			sgemmInd12x16Z(k, &a[0], &src[0], &offs[0], &c[0], uintptr(ldc*4), masks, bp, mode, bound)
		case 6:
			sgemmInd6x16Z(k, &a[0], &src[0], &offs[0], &c[0], uintptr(ldc*4), masks, bp, mode, bound)
		case 4:
			sgemmInd4x16Z(k, &a[0], &src[0], &offs[0], &c[0], uintptr(ldc*4), masks, bp, mode, bound)
		case 2:
			sgemmInd2x16Z(k, &a[0], &src[0], &offs[0], &c[0], uintptr(ldc*4), masks, bp, mode, bound)
		default:
			return false
		}
		return true
	}
	switch rows {
	case 12:
		sgemmInd12x32(k, &a[0], &src[0], &offs[0], &c[0], uintptr(ldc*4), masks, bp, mode, bound)
	case 6:
		sgemmInd6x32(k, &a[0], &src[0], &offs[0], &c[0], uintptr(ldc*4), masks, bp, mode, bound)
	case 4:
		sgemmInd4x32(k, &a[0], &src[0], &offs[0], &c[0], uintptr(ldc*4), masks, bp, mode, bound)
	case 2:
		sgemmInd2x32(k, &a[0], &src[0], &offs[0], &c[0], uintptr(ldc*4), masks, bp, mode, bound)
	default:
		return false
	}
	return true
}

//go:noescape
func sdot4x4(k, nimg int, a *float32, lda, astep uintptr, src *float32, offs *int32, sstep uintptr, out *[16]float32, mask uint64)

//go:noescape
func sdot4x3AVX2(k, nimg int, a *float32, lda, astep uintptr, src *float32, offs *int32, sstep uintptr, out *[16]float32, mask *int32)

// indAVX2 reports whether the AVX2 versions of the AVX-512 plane kernels
// run (and of the Winograd transforms and DepthwiseSmall3x3): when the
// GEMM runs the AVX2 kernel (an AVX2-only CPU, or GLASSBOX_KERNEL=avx2),
// which the CPU can only do with AVX2 and FMA.
func indAVX2() bool { return active == avx2Kernel }

// dotShape reports the rows and runs of SgemmDotImages's assembly block:
// 4×4 with AVX-512 (16 zmm accumulators), 4×3 with AVX2 (12 ymm
// accumulators), 0×0 where none runs.
func dotShape() (rows, runs int) {
	switch {
	case indWide():
		return 4, 4
	case indAVX2():
		return 4, 3
	}
	return 0, 0
}

// dotBlock runs the assembly block of SgemmDotImages (dotShape's rows of
// A at a with stride lda, its runs at offs) and reports whether it could.
func dotBlock(k, nimg int, a []float32, lda, astep int, src []float32, offs []int32, sstep int, out *[16]float32) bool {
	switch {
	case indWide():
		sdot4x4(k, nimg, &a[0], uintptr(lda*4), uintptr(astep*4), &src[0], &offs[0], uintptr(sstep*4), out, uint64(1)<<(k&15)-1)
	case indAVX2():
		sdot4x3AVX2(k, nimg, &a[0], uintptr(lda*4), uintptr(astep*4), &src[0], &offs[0], uintptr(sstep*4), out, &tailMask[8-k&7])
	default:
		return false
	}
	return true
}

// tailMask holds eight all-ones int32 then eight zeros: &tailMask[8-t] is
// the VMASKMOVPS mask of the first t of eight floats.
var tailMask = [16]int32{-1, -1, -1, -1, -1, -1, -1, -1}

// DotImagesFast reports whether SgemmDotImages runs an assembly kernel
// here (AVX-512 or AVX2); callers keep a packed GEMM elsewhere.
func DotImagesFast() bool { return indWide() || indAVX2() }

// IndirectFast reports whether the indirect GEMM runs an assembly kernel
// here (AVX-512 or AVX2).
func IndirectFast() bool { return indWide() || indAVX2() }

// IndirectRowsFast reports whether SgemmIndirectRows writes rows of cols
// columns whose runs lie srcStride apart (a convolution's output width and
// padded input width) in place here, filling its tiles at least as well
// as the padded-width product would: when the rows' tiles, 32 columns
// with AVX-512 and 16 with AVX2, need no more columns than the padded
// width.
func IndirectRowsFast(cols, srcStride int) bool {
	if indWide() {
		return (cols+31)/32*32 <= srcStride
	}
	return indAVX2() && (cols+15)/16*16 <= srcStride
}

// rows16 reports whether SgemmIndirectRows runs the AVX2 16-column tiles
// (any width: the last tile of a row is column-masked).
func rows16() bool { return indAVX2() }
