//go:build amd64 && !purego

package kern

//go:noescape
func addBiasAVX2(dst, src *float32, n int, b float32, relu bool)

//go:noescape
func reluGradAVX2(dst, grad, y *float32, n int)

func addBias(dst, src []float32, b float32, relu bool) {
	n8 := len(dst) &^ 7
	if !hasAVX2FMA || n8 == 0 {
		addBiasGo(dst, src, b, relu)
		return
	}
	addBiasAVX2(&dst[0], &src[0], n8, b, relu)
	addBiasGo(dst[n8:], src[n8:], b, relu)
}

//go:noescape
func clampMaxAVX2(d *float32, n int, hi float32)

func clampMax(d []float32, hi float32) {
	n8 := len(d) &^ 7
	if !hasAVX2FMA || n8 == 0 {
		clampMaxGo(d, hi)
		return
	}
	clampMaxAVX2(&d[0], n8, hi)
	clampMaxGo(d[n8:], hi)
}

func reluGrad(dst, g, y []float32) {
	n8 := len(dst) &^ 7
	if !hasAVX2FMA || n8 == 0 {
		reluGradGo(dst, g, y)
		return
	}
	reluGradAVX2(&dst[0], &g[0], &y[0], n8)
	reluGradGo(dst[n8:], g[n8:], y[n8:])
}

//go:noescape
func tanhAVX2(dst, src *float32, n int, table *[17][8]float32, sigmoid bool)

func tanhSlice(dst, src []float32, sigmoid bool) {
	n16 := len(dst) &^ 15
	if !hasAVX2FMA || n16 == 0 {
		tanhSliceGo(dst, src, sigmoid)
		return
	}
	tanhAVX2(&dst[0], &src[0], n16, &tanhTable, sigmoid)
	tanhSliceGo(dst[n16:], src[n16:], sigmoid)
}
