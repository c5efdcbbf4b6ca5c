//go:build !amd64 || purego

package kern

func addBias(dst, src []float32, b float32, relu bool) { addBiasGo(dst, src, b, relu) }
func reluGrad(dst, g, y []float32)                     { reluGradGo(dst, g, y) }
func clampMax(d []float32, hi float32)                 { clampMaxGo(d, hi) }

func tanhSlice(dst, src []float32, sigmoid bool) { tanhSliceGo(dst, src, sigmoid) }
