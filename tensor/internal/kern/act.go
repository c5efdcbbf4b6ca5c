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

// ClampMax sets d[i] = min(d[i], hi); a NaN in d stays (as Go's min
// keeps it): the upper bound of ReLU6 (hi = 6).
func ClampMax(d []float32, hi float32) { clampMax(d, hi) }

// clampMaxGo is ClampMax in Go, the reference the vector kernel is tested
// against.
func clampMaxGo(d []float32, hi float32) {
	for i, v := range d {
		d[i] = min(v, hi)
	}
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

// Tanh sets dst[i] = tanh(src[i]) and Sigmoid dst[i] = 1/(1+e^−src[i])
// (dst and src may be the same slice), in float32 with a rational
// approximation: Eigen's tanh(x) ≈ x·P(x²)/Q(x²) on x clamped to ±tanhClamp
// (absolute error ≤ 4e-7, relative error near 0 below 3e-7) and
// σ(x) = ½ + ½·tanh(x/2) (absolute error ≤ 3e-7). NaN stays NaN, and
// beyond the clamp the results are exactly ±1 (σ exactly 0 or 1). The
// AVX2 version computes 16 at a time with FMAs, so its last bit may differ
// from the pure-Go loop's. Recurrent cells spend most of their non-GEMM time
// here: float64 math.Exp and math.Tanh would take longer than the GEMMs.
// They panic if src is shorter than dst.
func Tanh(dst, src []float32) {
	if len(src) < len(dst) {
		panic(fmt.Sprintf("kern.Tanh: len(src) = %d < len(dst) = %d", len(src), len(dst)))
	}
	tanhSlice(dst, src[:len(dst)], false)
}

// Sigmoid: see Tanh.
func Sigmoid(dst, src []float32) {
	if len(src) < len(dst) {
		panic(fmt.Sprintf("kern.Sigmoid: len(src) = %d < len(dst) = %d", len(src), len(dst)))
	}
	tanhSlice(dst, src[:len(dst)], true)
}

// tanhClamp: tanh rounds to ±1 in float32 beyond it.
const tanhClamp = 7.90531110763549805

// tanhTable holds the approximation's constants, each repeated in eight
// lanes for the assembly's memory operands: ±clamp, P's seven
// coefficients (x¹³ … x¹ after factoring x), Q's four (x⁶ … x⁰), ½, 1,
// and the masks of the absolute value and of the sign bit.
var tanhTable = func() (t [17][8]float32) {
	v := [17]float32{tanhClamp, -tanhClamp,
		-2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11, 5.12229709037114e-08, 1.48572235717979e-05, 6.37261928875436e-04, 4.89352455891786e-03,
		1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03, 4.89352518554385e-03, 0.5, 1,
		math.Float32frombits(0x7fffffff), math.Float32frombits(0x80000000)}
	for i, c := range v {
		for j := range t[i] {
			t[i][j] = c
		}
	}
	return t
}()

// tanhGo is the scalar approximation (see Tanh).
func tanhGo(x float32) float32 {
	if x > tanhClamp {
		x = tanhClamp
	}
	if x < -tanhClamp {
		x = -tanhClamp
	}
	x2 := x * x
	p := ((((((-2.76076847742355e-16*x2+2.00018790482477e-13)*x2-8.60467152213735e-11)*x2+5.12229709037114e-08)*x2+1.48572235717979e-05)*x2+6.37261928875436e-04)*x2 + 4.89352455891786e-03) * x
	q := ((1.19825839466702e-06*x2+1.18534705686654e-04)*x2+2.26843463243900e-03)*x2 + 4.89352518554385e-03
	return p / q
}

func tanhSliceGo(dst, src []float32, sigmoid bool) {
	src = src[:len(dst)]
	if sigmoid {
		for i, x := range src {
			dst[i] = 0.5 + 0.5*tanhGo(0.5*x)
		}
		return
	}
	for i, x := range src {
		dst[i] = tanhGo(x)
	}
}
