//go:build amd64 && !purego

package kern

//go:noescape
func biasRowsAVX512(c *float32, ldc uintptr, rows, cols int, bias *float32, flags int, bound float32, mask uint64)

//go:noescape
func biasRowsAVX2(c *float32, ldc uintptr, rows, cols int, bias *float32, flags int, bound float32, mask *int32)

func biasRowsAsm(c []float32, ldc, rows, cols int, bias []float32, relu bool, bound float32) bool {
	var flags int
	var bp *float32
	if bias != nil {
		flags, bp = 1, &bias[0]
	}
	if relu {
		flags |= 2
	}
	if bound > 0 {
		flags |= 4
	}
	switch {
	case indWide():
		biasRowsAVX512(&c[0], uintptr(ldc*4), rows, cols, bp, flags, bound, uint64(1)<<(cols&15)-1)
	case hasAVX2FMA:
		biasRowsAVX2(&c[0], uintptr(ldc*4), rows, cols, bp, flags, bound, &tailMask[8-cols&7])
	default:
		return false
	}
	return true
}
