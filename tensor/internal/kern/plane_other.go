//go:build !amd64 || purego

package kern

func maxPool2x2Asm(out []float32, arg []int32, in []float32, w, oh, ow int) bool { return false }

func addBiasRowsAsm(dst []float32, dstStride int, src []float32, srcStride, rows, cols int, b float32, relu bool) bool {
	return false
}

func spreadRowsAsm(dst []float32, dstStride int, g, y []float32, srcStride, rows, cols int) (float32, bool) {
	return 0, false
}

func lstmGateGradsAsm(a, cPrev, tc, dhRec, dhOut, dc, da []float32) bool { return false }

func adamAsm(w, g, m, v []float32, c *[8]float32) bool { return false }

func maxPool2x2BackAsm(dx, dy []float32, arg []int32, w, oh, ow int) bool { return false }
