package tensor

import (
	"math"

	"github.com/glassbox-ml/glassbox/tensor/internal/kern"
)

// binOp selects the arithmetic of a broadcasting binary operation. A switch
// on it sits outside the inner loops, so each loop is a plain float32 loop
// the compiler can keep in registers.
type binOp int

const (
	opAdd binOp = iota
	opSub
	opMul
	opDiv
	opMax
	opMin
	opGe
)

var binOpNames = [...]string{"Add", "Sub", "Mul", "Div", "Maximum", "Minimum", "GreaterEqual"}

// elementwiseGrain is the number of elements below which a loop stays on
// one goroutine: smaller loops cost less than waking a second core.
const elementwiseGrain = 1 << 15

// BroadcastShapes returns the shape that a and b broadcast to under NumPy's
// rules (align trailing axes; a dimension of 1 stretches), or ok=false.
func BroadcastShapes(a, b []int) (out []int, ok bool) {
	r := max(len(a), len(b))
	out = make([]int, r)
	for i := 0; i < r; i++ {
		da, db := 1, 1
		if j := len(a) - r + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - r + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db, db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, false
		}
	}
	return out, true
}

// broadcastStrides returns t's strides stretched to shape: stride 0 on the
// axes where t has size 1 (or is missing).
func broadcastStrides(t *Tensor, shape []int) []int {
	r := len(shape)
	st := make([]int, r)
	off := r - len(t.shape)
	for i := range t.shape {
		if t.shape[i] != 1 {
			st[off+i] = t.strides[i]
		}
	}
	return st
}

// Add returns a + b with broadcasting.
func Add(a, b *Tensor) *Tensor { return binary(opAdd, a, b) }

// Sub returns a - b with broadcasting.
func Sub(a, b *Tensor) *Tensor { return binary(opSub, a, b) }

// Mul returns a * b elementwise with broadcasting.
func Mul(a, b *Tensor) *Tensor { return binary(opMul, a, b) }

// Div returns a / b elementwise with broadcasting.
func Div(a, b *Tensor) *Tensor { return binary(opDiv, a, b) }

// Maximum returns the elementwise maximum of a and b with broadcasting.
func Maximum(a, b *Tensor) *Tensor { return binary(opMax, a, b) }

// Minimum returns the elementwise minimum of a and b with broadcasting.
func Minimum(a, b *Tensor) *Tensor { return binary(opMin, a, b) }

func binary(op binOp, a, b *Tensor) *Tensor {
	shape, ok := BroadcastShapes(a.shape, b.shape)
	if !ok {
		shapeErr(binOpNames[op], "shapes %v and %v do not broadcast", a.shape, b.shape)
	}
	out := New(shape...)
	n := out.Len()
	if n == 0 {
		return out
	}
	// Fast paths: identical contiguous shapes, or b repeating along the
	// leading axes of a (a bias row, a per-channel scale after reshape).
	if a.IsContiguous() && b.IsContiguous() {
		ad, bd := a.Data(), b.Data()
		if len(ad) == n && len(bd) == n {
			parallelFor(n, elementwiseGrain, func(lo, hi int) { binLoop(op, out.data[lo:hi], ad[lo:hi], bd[lo:hi]) })
			return out
		}
		if len(ad) == n && len(bd) == 1 {
			s := bd[0]
			parallelFor(n, elementwiseGrain, func(lo, hi int) { binScalarLoop(op, out.data[lo:hi], ad[lo:hi], s) })
			return out
		}
		if len(ad) == n && n%len(bd) == 0 && suffixOf(b.shape, shape) {
			m := len(bd)
			rows := n / m
			parallelFor(rows, max(1, elementwiseGrain/m), func(lo, hi int) {
				for r := lo; r < hi; r++ {
					binLoop(op, out.data[r*m:(r+1)*m], ad[r*m:(r+1)*m], bd)
				}
			})
			return out
		}
	}
	as := broadcastStrides(a, shape)
	bs := broadcastStrides(b, shape)
	walk2(shape, as, bs, a.offset, b.offset, func(o, ia, ib, last, sa, sb int) {
		binStrided(op, out.data[o:o+last], a.data, ia, sa, b.data, ib, sb)
	})
	return out
}

// suffixOf reports whether small equals the trailing axes of big after
// dropping leading ones from small.
func suffixOf(small, big []int) bool {
	for len(small) > 0 && small[0] == 1 {
		small = small[1:]
	}
	if len(small) > len(big) {
		return false
	}
	return SameShape(small, big[len(big)-len(small):])
}

// walk2 visits every row (last axis) of shape, passing the output offset and
// the starting offsets of two strided operands plus the last axis's length
// and strides.
func walk2(shape, as, bs []int, aoff, boff int, fn func(o, ia, ib, last, sa, sb int)) {
	r := len(shape)
	if r == 0 {
		fn(0, aoff, boff, 1, 0, 0)
		return
	}
	last := shape[r-1]
	idx := make([]int, r-1)
	n := Numel(shape)
	ia, ib := aoff, boff
	for o := 0; o < n; o += last {
		fn(o, ia, ib, last, as[r-1], bs[r-1])
		for ax := r - 2; ax >= 0; ax-- {
			idx[ax]++
			ia += as[ax]
			ib += bs[ax]
			if idx[ax] < shape[ax] {
				break
			}
			ia -= idx[ax] * as[ax]
			ib -= idx[ax] * bs[ax]
			idx[ax] = 0
		}
	}
}

func binLoop(op binOp, o, a, b []float32) {
	b = b[:len(a)]
	o = o[:len(a)]
	switch op {
	case opAdd:
		for i := range a {
			o[i] = a[i] + b[i]
		}
	case opSub:
		for i := range a {
			o[i] = a[i] - b[i]
		}
	case opMul:
		for i := range a {
			o[i] = a[i] * b[i]
		}
	case opDiv:
		for i := range a {
			o[i] = a[i] / b[i]
		}
	case opMax:
		for i := range a {
			o[i] = max(a[i], b[i])
		}
	case opMin:
		for i := range a {
			o[i] = min(a[i], b[i])
		}
	case opGe:
		for i := range a {
			o[i] = b2f(a[i] >= b[i])
		}
	}
}

func b2f(b bool) float32 {
	if b {
		return 1
	}
	return 0
}

func binScalarLoop(op binOp, o, a []float32, s float32) {
	o = o[:len(a)]
	switch op {
	case opAdd:
		for i := range a {
			o[i] = a[i] + s
		}
	case opSub:
		for i := range a {
			o[i] = a[i] - s
		}
	case opMul:
		for i := range a {
			o[i] = a[i] * s
		}
	case opDiv:
		for i := range a {
			o[i] = a[i] / s
		}
	case opMax:
		for i := range a {
			o[i] = max(a[i], s)
		}
	case opMin:
		for i := range a {
			o[i] = min(a[i], s)
		}
	case opGe:
		for i := range a {
			o[i] = b2f(a[i] >= s)
		}
	}
}

func binStrided(op binOp, o []float32, a []float32, ia, sa int, b []float32, ib, sb int) {
	for j := range o {
		x, y := a[ia], b[ib]
		var v float32
		switch op {
		case opAdd:
			v = x + y
		case opSub:
			v = x - y
		case opMul:
			v = x * y
		case opDiv:
			v = x / y
		case opMax:
			v = max(x, y)
		case opMin:
			v = min(x, y)
		case opGe:
			v = b2f(x >= y)
		}
		o[j] = v
		ia += sa
		ib += sb
	}
}

// GreaterEqual returns 1 where a >= b and 0 elsewhere, with broadcasting.
func GreaterEqual(a, b *Tensor) *Tensor { return binary(opGe, a, b) }

// AddScalar returns t + s.
func AddScalar(t *Tensor, s float32) *Tensor { return binary(opAdd, t, Scalar(s)) }

// MulScalar returns t * s.
func MulScalar(t *Tensor, s float32) *Tensor { return binary(opMul, t, Scalar(s)) }

// Map applies f to every element and returns the result. It is the slow,
// general path; the named functions below are specialised loops.
func Map(t *Tensor, f func(float32) float32) *Tensor {
	out := t.Clone()
	parallelFor(len(out.data), elementwiseGrain, func(lo, hi int) {
		d := out.data[lo:hi]
		for i, v := range d {
			d[i] = f(v)
		}
	})
	return out
}

// unary applies an in-place loop to a copy of t.
func unary(t *Tensor, loop func(d []float32)) *Tensor {
	out := t.Clone()
	parallelFor(len(out.data), elementwiseGrain/4, func(lo, hi int) { loop(out.data[lo:hi]) })
	return out
}

// unaryMap writes f of each element of t into a new tensor in one pass
// (no copy first) when t is contiguous.
func unaryMap(t *Tensor, loop func(dst, src []float32)) *Tensor {
	if !t.IsContiguous() {
		return unary(t, func(d []float32) { loop(d, d) })
	}
	src := t.Data()
	out := New(t.shape...)
	parallelFor(len(src), elementwiseGrain/4, func(lo, hi int) { loop(out.data[lo:hi], src[lo:hi]) })
	return out
}

// Neg returns -t.
func Neg(t *Tensor) *Tensor {
	return unary(t, func(d []float32) {
		for i, v := range d {
			d[i] = -v
		}
	})
}

// Exp returns e^t elementwise.
func Exp(t *Tensor) *Tensor {
	return unary(t, func(d []float32) {
		for i, v := range d {
			d[i] = float32(math.Exp(float64(v)))
		}
	})
}

// Log returns the natural logarithm elementwise.
func Log(t *Tensor) *Tensor {
	return unary(t, func(d []float32) {
		for i, v := range d {
			d[i] = float32(math.Log(float64(v)))
		}
	})
}

// Sqrt returns the square root elementwise.
func Sqrt(t *Tensor) *Tensor {
	return unary(t, func(d []float32) {
		for i, v := range d {
			d[i] = float32(math.Sqrt(float64(v)))
		}
	})
}

// Abs returns |t| elementwise.
func Abs(t *Tensor) *Tensor {
	return unary(t, func(d []float32) {
		for i, v := range d {
			d[i] = float32(math.Abs(float64(v)))
		}
	})
}

// Square returns t² elementwise.
func Square(t *Tensor) *Tensor {
	return unary(t, func(d []float32) {
		for i, v := range d {
			d[i] = v * v
		}
	})
}

// Pow returns t^p elementwise.
func Pow(t *Tensor, p float32) *Tensor {
	return unary(t, func(d []float32) {
		for i, v := range d {
			d[i] = float32(math.Pow(float64(v), float64(p)))
		}
	})
}

// ReLU returns max(t, 0) elementwise.
func ReLU(t *Tensor) *Tensor {
	return unaryMap(t, func(dst, src []float32) { kern.AddBias(dst[:len(src)], src, 0, true) })
}

// LeakyReLU returns t where t > 0 and slope·t elsewhere.
func LeakyReLU(t *Tensor, slope float32) *Tensor {
	return unary(t, func(d []float32) {
		for i, v := range d {
			if v < 0 {
				d[i] = slope * v
			}
		}
	})
}

// Sigmoid returns 1/(1+e^-t) elementwise, computed without overflow.
func Sigmoid(t *Tensor) *Tensor {
	return unaryMap(t, func(dst, src []float32) {
		dst = dst[:len(src)]
		for i, v := range src {
			dst[i] = sigmoid32(v)
		}
	})
}

func sigmoid32(v float32) float32 {
	if v >= 0 {
		return float32(1 / (1 + math.Exp(-float64(v))))
	}
	e := math.Exp(float64(v))
	return float32(e / (1 + e))
}

// Tanh returns the hyperbolic tangent elementwise.
func Tanh(t *Tensor) *Tensor {
	return unaryMap(t, func(dst, src []float32) {
		dst = dst[:len(src)]
		for i, v := range src {
			dst[i] = float32(math.Tanh(float64(v)))
		}
	})
}

// GELU returns the Gaussian error linear unit x·Φ(x) (exact, erf form).
func GELU(t *Tensor) *Tensor {
	return unary(t, func(d []float32) {
		for i, v := range d {
			x := float64(v)
			d[i] = float32(0.5 * x * (1 + math.Erf(x/math.Sqrt2)))
		}
	})
}

// Step returns 1 where t > 0 and 0 elsewhere (the perceptron's activation).
func Step(t *Tensor) *Tensor {
	return unary(t, func(d []float32) {
		for i, v := range d {
			if v > 0 {
				d[i] = 1
			} else {
				d[i] = 0
			}
		}
	})
}

// Clip returns t limited to [lo, hi].
func Clip(t *Tensor, lo, hi float32) *Tensor {
	return unary(t, func(d []float32) {
		for i, v := range d {
			d[i] = min(max(v, lo), hi)
		}
	})
}
