//go:build !amd64 || purego

package kern

func winoInputAsm(dst []float32, xiStride, cStride int, src []float32, goffs []int32, srcStride, planeStride, nc int) bool {
	return false
}

func winoOutputAsm(dst []float32, goffs []int32, gmask []uint64, dstStride, dstPlane int, m []float32, xiStride, kStride, nk int, bias, res []float32, relu bool, bound float32) bool {
	return false
}

func winoGradInputAsm(dst []float32, xiStride, cStride int, src []float32, goffs []int32, srcStride, planeStride, nc int) bool {
	return false
}

// WinoFast reports whether the Winograd transforms run vector kernels
// here: the convolutions use them only then.
func WinoFast() bool { return false }
