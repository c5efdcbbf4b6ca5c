//go:build !amd64 || purego

package kern

func indTile(rows, k int, a, src []float32, offs []int32, c []float32, ldc int) bool { return false }

func packB16Rows(d, b []float32, offs []int32, p0, kLen int) bool { return false }

func indWide() bool { return false }

func indAVX2() bool { return false }

func indTileWidth() int { return 0 }

func indTile32(rows, k, cols int, a, src []float32, offs []int32, c []float32, ldc int, ep *epilogue) bool {
	return false
}

func dotShape() (rows, runs int) { return 0, 0 }

func dotBlock(k, nimg int, a []float32, lda, astep int, src []float32, offs []int32, sstep int, out *[16]float32) bool {
	return false
}

// DotImagesFast reports whether SgemmDotImages runs an assembly kernel
// here; in this build it never does.
func DotImagesFast() bool { return false }

// IndirectRowsFast reports whether SgemmIndirectRows writes rows of cols
// columns in place here; in this build it never does.
// IndirectFast reports whether the indirect GEMM runs an assembly kernel
// here: never without amd64 assembly.
func IndirectFast() bool { return false }

func IndirectRowsFast(cols, srcStride int) bool { return false }

func rows16() bool { return false }

func indTileMask(rows, k, w int, a, src []float32, offs []int32, c []float32, ldc int) bool {
	return false
}
