//go:build amd64 && !purego

package kern

//go:noescape
func depthwiseRowsAVX512(dst *float32, ldd uintptr, src *float32, lds uintptr, offs *int32, w *float32, ntaps, rows, cols int, b float32, relu bool, mask uint64)

func depthwiseRowsAsm(dst []float32, ldd int, src []float32, lds int, offs []int32, w []float32, b float32, rows, cols int, relu bool) bool {
	if !indWide() {
		return false
	}
	depthwiseRowsAVX512(&dst[0], uintptr(ldd*4), &src[0], uintptr(lds*4), &offs[0], &w[0], len(w), rows, cols, b, relu, uint64(1)<<(cols&15)-1)
	return true
}
