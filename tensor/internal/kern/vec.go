package kern

import "fmt"

// Saxpy computes y[i] += alpha*x[i] for i < len(x). It panics if y is
// shorter than x.
func Saxpy(alpha float32, x, y []float32) {
	if len(y) < len(x) {
		panic(fmt.Sprintf("kern.Saxpy: len(y) = %d < len(x) = %d", len(y), len(x)))
	}
	if len(x) == 0 || alpha == 0 {
		return
	}
	saxpy(alpha, x, y[:len(x)])
}

// Sdot returns the sum of x[i]*y[i] for i < len(x). It panics if y is
// shorter than x.
func Sdot(x, y []float32) float32 {
	if len(y) < len(x) {
		panic(fmt.Sprintf("kern.Sdot: len(y) = %d < len(x) = %d", len(y), len(x)))
	}
	if len(x) == 0 {
		return 0
	}
	return sdot(x, y[:len(x)])
}

// Sscal computes x[i] *= alpha for every element of x.
func Sscal(alpha float32, x []float32) {
	if len(x) == 0 {
		return
	}
	sscal(alpha, x)
}

func saxpyGo(alpha float32, x, y []float32) {
	y = y[:len(x)]
	i := 0
	for ; i+4 <= len(x); i += 4 {
		xs := x[i : i+4 : i+4]
		ys := y[i : i+4 : i+4]
		ys[0] += alpha * xs[0]
		ys[1] += alpha * xs[1]
		ys[2] += alpha * xs[2]
		ys[3] += alpha * xs[3]
	}
	for ; i < len(x); i++ {
		y[i] += alpha * x[i]
	}
}

func sdotGo(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		xs := x[i : i+4 : i+4]
		ys := y[i : i+4 : i+4]
		s0 += xs[0] * ys[0]
		s1 += xs[1] * ys[1]
		s2 += xs[2] * ys[2]
		s3 += xs[3] * ys[3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func sscalGo(alpha float32, x []float32) {
	for i := range x {
		x[i] *= alpha
	}
}
