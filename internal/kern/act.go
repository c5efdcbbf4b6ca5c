package kern

import (
	"fmt"
	"math"
)

// AddBias sets dst[i] = src[i] + b for every i of dst, and with relu
// max(src[i]+b, 0) exactly as Go's max computes it (NaN stays NaN, −0
// becomes +0). It is the copy-out of a convolution's GEMM. It panics if
// src is shorter than dst.
func AddBias(dst, src []float32, b float32, relu bool) {
	if len(src) < len(dst) {
		panic(fmt.Sprintf("kern.AddBias: len(src) = %d < len(dst) = %d", len(src), len(dst)))
	}
	if len(dst) == 0 {
		return
	}
	addBias(dst, src[:len(dst)], b, relu)
}

// ReLUGrad sets dst[i] = g[i] where y[i], the output of a ReLU, is
// positive and 0 elsewhere: the gradient through the rectifier. Like
// autograd's ReLU it tests the sign of −bits(y), so a NaN output passes
// the gradient. It panics if g or y is shorter than dst.
func ReLUGrad(dst, g, y []float32) {
	if len(g) < len(dst) || len(y) < len(dst) {
		panic(fmt.Sprintf("kern.ReLUGrad: len(dst) = %d, len(g) = %d, len(y) = %d", len(dst), len(g), len(y)))
	}
	if len(dst) == 0 {
		return
	}
	reluGrad(dst, g[:len(dst)], y[:len(dst)])
}

func addBiasGo(dst, src []float32, b float32, relu bool) {
	src = src[:len(dst)]
	if relu {
		for i, v := range src {
			dst[i] = max(v+b, 0)
		}
		return
	}
	for i, v := range src {
		dst[i] = v + b
	}
}

func reluGradGo(dst, g, y []float32) {
	g, y = g[:len(dst)], y[:len(dst)]
	for i, v := range y {
		m := uint32(-int32(math.Float32bits(v)) >> 31)
		dst[i] = math.Float32frombits(math.Float32bits(g[i]) & m)
	}
}
