//go:build !amd64 || purego

package kern

func depthwiseRowsAsm(dst []float32, ldd int, src []float32, lds int, offs []int32, w []float32, b float32, rows, cols int, relu bool) bool {
	return false
}
