//go:build !amd64 || purego

package kern

func depthwiseFlatAsm(dst, src []float32, offs []int32, w []float32, b float32, relu bool, bound float32) bool {
	return false
}

func deinterleave2RowsAsm(even, odd []float32, dstStride int, src []float32, srcStride, rows, cols int) bool {
	return false
}
