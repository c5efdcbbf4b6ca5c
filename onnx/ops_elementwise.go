package onnx

import (
	"math"
	"slices"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Elementwise operators: activations, arithmetic with broadcasting,
// comparisons and logic.

// unary registers an operator y = f(x) on float data.
func unary(name string, fl func(tp *autograd.Tape, x *autograd.Var) *autograd.Var, in func(int64) int64) {
	register(name, nil, func(c *compiler) kernel {
		c.inputs(1, 1)
		c.outputs(1)
		if c.opset < 6 {
			c.ignore("consumed_inputs")
		}
		return func(e *env, x []*val) []*val {
			if x[0].v != nil {
				return []*val{floatVal(fl(e.tp, x[0].v), x[0].dt)}
			}
			if in == nil {
				fail("input has integer type %s; %s takes floats", typeName(x[0].dt), name)
			}
			out := make([]int64, len(x[0].ints))
			for i, v := range x[0].ints {
				out[i] = wrapInt(in(v), x[0].dt)
			}
			return []*val{intVal(out, x[0].shape, x[0].dt)}
		}
	})
}

// unaryMath registers an operator from a float64 function and its
// derivative df(x, y).
func unaryMath(name string, f func(float64) float64, df func(x, y float64) float64) {
	unary(name, func(tp *autograd.Tape, x *autograd.Var) *autograd.Var { return unaryFn(tp, x, f, df) }, nil)
}

// unaryParam registers an activation with float attributes read at import.
func unaryParam(name string, build func(c *compiler) (func(float64) float64, func(x, y float64) float64)) {
	register(name, nil, func(c *compiler) kernel {
		c.inputs(1, 1)
		c.outputs(1)
		f, df := build(c)
		return func(e *env, x []*val) []*val {
			v := x[0].asVar()
			return []*val{floatVal(unaryFn(e.tp, v, f, df), x[0].dt)}
		}
	})
}

func init() {
	unary("Relu", func(tp *autograd.Tape, x *autograd.Var) *autograd.Var { return tp.ReLU(x) }, func(v int64) int64 { return max(v, 0) })
	unary("Sigmoid", func(tp *autograd.Tape, x *autograd.Var) *autograd.Var { return tp.Sigmoid(x) }, nil)
	unary("Tanh", func(tp *autograd.Tape, x *autograd.Var) *autograd.Var { return tp.Tanh(x) }, nil)
	unary("Exp", func(tp *autograd.Tape, x *autograd.Var) *autograd.Var { return tp.Exp(x) }, nil)
	unary("Log", func(tp *autograd.Tape, x *autograd.Var) *autograd.Var { return tp.Log(x) }, nil)
	unary("Sqrt", func(tp *autograd.Tape, x *autograd.Var) *autograd.Var { return tp.Sqrt(x) }, nil)
	unary("Abs", func(tp *autograd.Tape, x *autograd.Var) *autograd.Var { return tp.Abs(x) }, func(v int64) int64 {
		if v < 0 {
			return -v
		}
		return v
	})
	unary("Neg", func(tp *autograd.Tape, x *autograd.Var) *autograd.Var { return tp.Neg(x) }, func(v int64) int64 { return -v })
	unary("Sign", func(tp *autograd.Tape, x *autograd.Var) *autograd.Var {
		return unaryFn(tp, x, func(v float64) float64 {
			switch {
			case v > 0:
				return 1
			case v < 0:
				return -1
			}
			return 0
		}, zeroGrad)
	}, func(v int64) int64 {
		switch {
		case v > 0:
			return 1
		case v < 0:
			return -1
		}
		return 0
	})
	unaryMath("Reciprocal", func(x float64) float64 { return 1 / x }, func(_, y float64) float64 { return -y * y })
	unaryMath("Floor", math.Floor, zeroGrad)
	unaryMath("Ceil", math.Ceil, zeroGrad)
	unaryMath("Round", math.RoundToEven, zeroGrad)
	unaryMath("Erf", erf, erfGrad)
	unaryMath("Sin", math.Sin, func(x, _ float64) float64 { return math.Cos(x) })
	unaryMath("Cos", math.Cos, func(x, _ float64) float64 { return -math.Sin(x) })
	unaryMath("Tan", math.Tan, func(_, y float64) float64 { return 1 + y*y })
	unaryMath("Asin", math.Asin, func(x, _ float64) float64 { return 1 / math.Sqrt(1-x*x) })
	unaryMath("Acos", math.Acos, func(x, _ float64) float64 { return -1 / math.Sqrt(1-x*x) })
	unaryMath("Atan", math.Atan, func(x, _ float64) float64 { return 1 / (1 + x*x) })
	unaryMath("Sinh", math.Sinh, func(x, _ float64) float64 { return math.Cosh(x) })
	unaryMath("Cosh", math.Cosh, func(x, _ float64) float64 { return math.Sinh(x) })
	unaryMath("Asinh", math.Asinh, func(x, _ float64) float64 { return 1 / math.Sqrt(x*x+1) })
	unaryMath("Acosh", math.Acosh, func(x, _ float64) float64 { return 1 / math.Sqrt(x*x-1) })
	unaryMath("Atanh", math.Atanh, func(x, _ float64) float64 { return 1 / (1 - x*x) })
	unaryMath("Softplus", softplus64, func(x, _ float64) float64 { return sigmoid64(x) })
	unaryMath("Softsign", func(x float64) float64 { return x / (1 + math.Abs(x)) },
		func(x, _ float64) float64 { d := 1 + math.Abs(x); return 1 / (d * d) })
	unaryMath("Mish", func(x float64) float64 { return x * math.Tanh(softplus64(x)) }, func(x, _ float64) float64 {
		t := math.Tanh(softplus64(x))
		return t + x*(1-t*t)*sigmoid64(x)
	})
	unaryMath("HardSwish", func(x float64) float64 { return x * math.Max(0, math.Min(1, x/6+0.5)) }, func(x, _ float64) float64 {
		switch {
		case x < -3:
			return 0
		case x > 3:
			return 1
		}
		return (2*x + 3) / 6
	})

	register("LeakyRelu", nil, func(c *compiler) kernel {
		c.inputs(1, 1)
		c.outputs(1)
		alpha := c.float("alpha", 0.01)
		return func(e *env, x []*val) []*val {
			return []*val{floatVal(e.tp.LeakyReLU(x[0].asVar(), alpha), x[0].dt)}
		}
	})
	unaryParam("Elu", func(c *compiler) (func(float64) float64, func(x, y float64) float64) {
		a := float64(c.float("alpha", 1))
		return func(x float64) float64 {
				if x > 0 {
					return x
				}
				return a * math.Expm1(x)
			}, func(x, y float64) float64 {
				if x > 0 {
					return 1
				}
				return y + a
			}
	})
	unaryParam("Selu", func(c *compiler) (func(float64) float64, func(x, y float64) float64) {
		a := float64(c.float("alpha", 1.67326319217681884765625))
		g := float64(c.float("gamma", 1.05070102214813232421875))
		return func(x float64) float64 {
				if x > 0 {
					return g * x
				}
				return g * a * math.Expm1(x)
			}, func(x, _ float64) float64 {
				if x > 0 {
					return g
				}
				return g * a * math.Exp(x)
			}
	})
	unaryParam("Celu", func(c *compiler) (func(float64) float64, func(x, y float64) float64) {
		a := float64(c.float("alpha", 1))
		return func(x float64) float64 {
				return math.Max(0, x) + math.Min(0, a*math.Expm1(x/a))
			}, func(x, _ float64) float64 {
				if x > 0 {
					return 1
				}
				return math.Exp(x / a)
			}
	})
	unaryParam("ThresholdedRelu", func(c *compiler) (func(float64) float64, func(x, y float64) float64) {
		a := float64(c.float("alpha", 1))
		return func(x float64) float64 {
				if x > a {
					return x
				}
				return 0
			}, func(x, _ float64) float64 {
				if x > a {
					return 1
				}
				return 0
			}
	})
	unaryParam("HardSigmoid", func(c *compiler) (func(float64) float64, func(x, y float64) float64) {
		a := float64(c.float("alpha", 0.2))
		b := float64(c.float("beta", 0.5))
		return func(x float64) float64 {
				return math.Max(0, math.Min(1, a*x+b))
			}, func(x, _ float64) float64 {
				if v := a*x + b; v > 0 && v < 1 {
					return a
				}
				return 0
			}
	})
	unaryParam("Shrink", func(c *compiler) (func(float64) float64, func(x, y float64) float64) {
		bias := float64(c.float("bias", 0))
		l := float64(c.float("lambd", 0.5))
		return func(x float64) float64 {
				switch {
				case x < -l:
					return x + bias
				case x > l:
					return x - bias
				}
				return 0
			}, func(x, _ float64) float64 {
				if x < -l || x > l {
					return 1
				}
				return 0
			}
	})
	register("Gelu", nil, func(c *compiler) kernel {
		c.inputs(1, 1)
		c.outputs(1)
		approx := c.str("approximate", "none")
		switch approx {
		case "none":
			return func(e *env, x []*val) []*val { return []*val{floatVal(e.tp.GELU(x[0].asVar()), x[0].dt)} }
		case "tanh":
			k := math.Sqrt(2 / math.Pi)
			return func(e *env, x []*val) []*val {
				return []*val{floatVal(unaryFn(e.tp, x[0].asVar(), func(x float64) float64 {
					return 0.5 * x * (1 + math.Tanh(k*(x+0.044715*x*x*x)))
				}, func(x, _ float64) float64 {
					u := k * (x + 0.044715*x*x*x)
					t := math.Tanh(u)
					return 0.5*(1+t) + 0.5*x*(1-t*t)*k*(1+3*0.044715*x*x)
				}), x[0].dt)}
			}
		}
		c.unsupported("approximate=%q (want \"none\" or \"tanh\")", approx)
		return nil
	})
	register("Clip", nil, compileClip)
	register("Identity", nil, func(c *compiler) kernel {
		c.inputs(1, 1)
		c.outputs(1)
		return func(e *env, x []*val) []*val { return []*val{x[0]} }
	})
	register("Not", nil, func(c *compiler) kernel {
		c.inputs(1, 1)
		c.outputs(1)
		return func(e *env, x []*val) []*val {
			d := x[0].asInts("input")
			out := make([]int64, len(d))
			for i, v := range d {
				if v == 0 {
					out[i] = 1
				}
			}
			return []*val{boolVal(out, x[0].dims())}
		}
	})
	register("IsNaN", []int{0}, func(c *compiler) kernel {
		c.inputs(1, 1)
		c.outputs(1)
		return func(e *env, x []*val) []*val {
			d := x[0].floats()
			out := make([]int64, len(d))
			for i, v := range d {
				if v != v {
					out[i] = 1
				}
			}
			return []*val{boolVal(out, x[0].dims())}
		}
	})
	register("IsInf", []int{0}, func(c *compiler) kernel {
		c.inputs(1, 1)
		c.outputs(1)
		pos, neg := c.int("detect_positive", 1) != 0, c.int("detect_negative", 1) != 0
		return func(e *env, x []*val) []*val {
			d := x[0].floats()
			out := make([]int64, len(d))
			for i, v := range d {
				if (pos && math.IsInf(float64(v), 1)) || (neg && math.IsInf(float64(v), -1)) {
					out[i] = 1
				}
			}
			return []*val{boolVal(out, x[0].dims())}
		}
	})

	arith("Add", func(tp *autograd.Tape, a, b *autograd.Var) *autograd.Var { return tp.Add(a, b) }, func(a, b int64) int64 { return a + b })
	arith("Sub", func(tp *autograd.Tape, a, b *autograd.Var) *autograd.Var { return tp.Sub(a, b) }, func(a, b int64) int64 { return a - b })
	arith("Mul", func(tp *autograd.Tape, a, b *autograd.Var) *autograd.Var { return tp.Mul(a, b) }, func(a, b int64) int64 { return a * b })
	arith("Div", func(tp *autograd.Tape, a, b *autograd.Var) *autograd.Var { return tp.Div(a, b) }, func(a, b int64) int64 {
		if b == 0 {
			fail("integer division by zero")
		}
		return a / b
	})
	arith("Pow", powVar, func(a, b int64) int64 {
		r := int64(1)
		if b < 0 {
			return int64(math.Pow(float64(a), float64(b)))
		}
		for ; b > 0; b-- {
			r *= a
		}
		return r
	})
	register("PRelu", nil, func(c *compiler) kernel {
		c.inputs(2, 2)
		c.outputs(1)
		if c.opset < 6 {
			c.ignore("consumed_inputs")
		}
		legacy := c.opset < 7
		return func(e *env, x []*val) []*val {
			slope := x[1].asVar()
			d, sd := x[0].dims(), slope.Value.Shape()
			if legacy && len(sd) == 1 && sd[0] != 1 && len(d) >= 2 && sd[0] == d[1] {
				// Before opset 7 a vector slope is per channel (axis 1).
				slope = e.tp.Reshape(slope, channelShape(len(d), d[1])...)
			}
			if s, ok := tensor.BroadcastShapes(d, slope.Value.Shape()); !ok || !slices.Equal(s, d) {
				fail("slope of shape %v does not broadcast to the input's %v", slope.Value.Shape(), d)
			}
			return []*val{floatVal(preluVar(e.tp, x[0].asVar(), slope), x[0].dt)}
		}
	})
	register("Mod", nil, func(c *compiler) kernel {
		c.inputs(2, 2)
		c.outputs(1)
		fmod := c.int("fmod", 0)
		return func(e *env, x []*val) []*val {
			if x[0].v != nil || x[1].v != nil {
				if fmod != 1 {
					fail("Mod of float tensors needs fmod=1")
				}
				return []*val{floatVal(binaryFn(e.tp, x[0].asVar(), x[1].asVar(), math.Mod,
					func(_, _, _ float64) float64 { return 1 },
					func(a, b, _ float64) float64 { return -math.Trunc(a / b) }), x[0].dt)}
			}
			return []*val{intBinary(x[0], x[1], x[0].dt, func(a, b int64) int64 {
				if b == 0 {
					fail("integer modulo by zero")
				}
				r := a % b
				if fmod == 0 && r != 0 && (r < 0) != (b < 0) {
					r += b
				}
				return r
			})}
		}
	})
	variadic("Max", func(tp *autograd.Tape, a, b *autograd.Var) *autograd.Var { return tp.Maximum(a, b) }, func(a, b int64) int64 { return max(a, b) })
	variadic("Min", minVar, func(a, b int64) int64 { return min(a, b) })
	variadic("Sum", func(tp *autograd.Tape, a, b *autograd.Var) *autograd.Var { return tp.Add(a, b) }, func(a, b int64) int64 { return a + b })
	register("Mean", nil, func(c *compiler) kernel {
		c.inputs(1, 1<<20)
		c.outputs(1)
		return func(e *env, x []*val) []*val {
			s := x[0].asVar()
			for _, v := range x[1:] {
				s = e.tp.Add(s, v.asVar())
			}
			return []*val{floatVal(e.tp.MulScalar(s, 1/float32(len(x))), x[0].dt)}
		}
	})

	compare("Equal", func(a, b float64) bool { return a == b })
	compare("Less", func(a, b float64) bool { return a < b })
	compare("LessOrEqual", func(a, b float64) bool { return a <= b })
	compare("Greater", func(a, b float64) bool { return a > b })
	compare("GreaterOrEqual", func(a, b float64) bool { return a >= b })
	logic("And", func(a, b bool) bool { return a && b })
	logic("Or", func(a, b bool) bool { return a || b })
	logic("Xor", func(a, b bool) bool { return a != b })
	register("Where", []int{0}, func(c *compiler) kernel {
		c.inputs(3, 3)
		c.outputs(1)
		return func(e *env, x []*val) []*val {
			cond := x[0].asInts("condition")
			if x[1].v == nil && x[2].v == nil {
				shape := broadcastShapes("Where", x[0].dims(), x[1].dims(), x[2].dims())
				cm := gatherInts(cond, broadcastMap(x[0].dims(), shape), 0)
				a := gatherInts(x[1].ints, broadcastMap(x[1].dims(), shape), 0)
				b := gatherInts(x[2].ints, broadcastMap(x[2].dims(), shape), 0)
				for i := range cm {
					if cm[i] == 0 {
						a[i] = b[i]
					}
				}
				return []*val{intVal(a, shape, x[1].dt)}
			}
			return []*val{floatVal(where(e.tp, cond, x[0].dims(), x[1].asVar(), x[2].asVar()), x[1].dt)}
		}
	})
}

// arith registers a binary operator with NumPy broadcasting on floats
// (through fl, on the tape) and integers (through in, when not nil).
func arith(name string, fl func(tp *autograd.Tape, a, b *autograd.Var) *autograd.Var, in func(a, b int64) int64) {
	register(name, nil, func(c *compiler) kernel {
		c.inputs(2, 2)
		c.outputs(1)
		legacy := c.legacyBroadcast()
		if c.opset < 6 {
			c.ignore("consumed_inputs")
		}
		return func(e *env, x []*val) []*val {
			a, b := x[0], x[1]
			if legacy != nil {
				if s := legacy(a.dims(), b.dims()); !slices.Equal(s, b.dims()) {
					b = reshapeVal(e.tp, b, s)
				}
			}
			if a.v == nil && b.v == nil && in != nil {
				return []*val{intBinary(a, b, a.dt, in)}
			}
			if name == "Pow" && a.v == nil && !b.v.RequiresGrad() {
				// An integer base keeps its type (ONNX's Pow output is the
				// base's type): truncate the float power.
				r := binaryFn(e.tp, a.asVar(), b.v, math.Pow, nil, nil).Value.Data()
				out := make([]int64, len(r))
				for i, f := range r {
					out[i] = wrapInt(int64(f), a.dt)
				}
				return []*val{intVal(out, broadcastShapes(name, a.dims(), b.dims()), a.dt)}
			}
			return []*val{floatVal(fl(e.tp, a.asVar(), b.asVar()), floatType(a, b))}
		}
	})
}

// floatType is the element type of a float result of a and b.
func floatType(a, b *val) DataType {
	if a.v != nil {
		return a.dt
	}
	if b.v != nil {
		return b.dt
	}
	return Float
}

// intBinary applies f elementwise with broadcasting to integer values.
func intBinary(a, b *val, dt DataType, f func(a, b int64) int64) *val {
	shape := broadcastShapes("elementwise operation", a.dims(), b.dims())
	ad := gatherInts(a.asInts("operand"), broadcastMap(a.dims(), shape), 0)
	bd := gatherInts(b.asInts("operand"), broadcastMap(b.dims(), shape), 0)
	for i := range ad {
		ad[i] = wrapInt(f(ad[i], bd[i]), dt)
	}
	return intVal(ad, shape, dt)
}

// variadic registers an operator folding any number of operands with f.
func variadic(name string, fl func(tp *autograd.Tape, a, b *autograd.Var) *autograd.Var, in func(a, b int64) int64) {
	register(name, nil, func(c *compiler) kernel {
		c.inputs(1, 1<<20)
		c.outputs(1)
		if c.opset < 6 {
			c.ignore("consumed_inputs")
		}
		return func(e *env, x []*val) []*val {
			allInt := true
			for _, v := range x {
				allInt = allInt && v.v == nil
			}
			if allInt {
				acc := x[0]
				for _, v := range x[1:] {
					acc = intBinary(acc, v, x[0].dt, in)
				}
				return []*val{acc}
			}
			acc := x[0].asVar()
			for _, v := range x[1:] {
				acc = fl(e.tp, acc, v.asVar())
			}
			if len(x) == 1 {
				return []*val{x[0]}
			}
			return []*val{floatVal(acc, floatType(x[0], x[1]))}
		}
	})
}

// compare registers a comparison with a boolean result.
func compare(name string, f func(a, b float64) bool) {
	register(name, []int{0, 1}, func(c *compiler) kernel {
		c.inputs(2, 2)
		c.outputs(1)
		legacy := c.legacyBroadcast()
		return func(e *env, x []*val) []*val {
			a, b := x[0], x[1]
			if legacy != nil {
				b = reshapeVal(e.tp, b, legacy(a.dims(), b.dims()))
			}
			shape := broadcastShapes(name, a.dims(), b.dims())
			out := make([]int64, tensor.Numel(shape))
			if a.v == nil && b.v == nil {
				ad := gatherInts(a.ints, broadcastMap(a.dims(), shape), 0)
				bd := gatherInts(b.ints, broadcastMap(b.dims(), shape), 0)
				for i := range out {
					// Integers compare exactly (int64 may not fit a float64).
					var r bool
					switch {
					case ad[i] == bd[i]:
						r = f(0, 0)
					case ad[i] < bd[i]:
						r = f(0, 1)
					default:
						r = f(1, 0)
					}
					if r {
						out[i] = 1
					}
				}
				return []*val{boolVal(out, shape)}
			}
			ad := expandData(a.asVar().Value, shape)
			bd := expandData(b.asVar().Value, shape)
			for i := range out {
				if f(float64(ad[i]), float64(bd[i])) {
					out[i] = 1
				}
			}
			return []*val{boolVal(out, shape)}
		}
	})
}

// logic registers a boolean operator.
func logic(name string, f func(a, b bool) bool) {
	register(name, nil, func(c *compiler) kernel {
		c.inputs(2, 2)
		c.outputs(1)
		legacy := c.legacyBroadcast()
		return func(e *env, x []*val) []*val {
			a, b := x[0], x[1]
			if legacy != nil {
				b = reshapeVal(e.tp, b, legacy(a.dims(), b.dims()))
			}
			return []*val{intBinary(a, b, Bool, func(p, q int64) int64 {
				if f(p != 0, q != 0) {
					return 1
				}
				return 0
			})}
		}
	})
}

// powVar is a^b with gradients to both: b·a^(b−1) and a^b·ln a.
func powVar(tp *autograd.Tape, a, b *autograd.Var) *autograd.Var {
	if b.Value.Len() == 1 && !b.RequiresGrad() {
		p := float64(b.Value.Data()[0])
		switch p {
		case 1:
			return a
		case 2:
			return tp.Square(a)
		case 0.5:
			return tp.Sqrt(a)
		}
	}
	return binaryFn(tp, a, b, math.Pow, func(x, y, _ float64) float64 {
		if y == 0 {
			return 0
		}
		return y * math.Pow(x, y-1)
	}, func(x, _, z float64) float64 {
		if x <= 0 {
			return 0
		}
		return z * math.Log(x)
	})
}

// preluVar is x where x ≥ 0 and slope·x elsewhere, slope broadcasting.
func preluVar(tp *autograd.Tape, x, slope *autograd.Var) *autograd.Var {
	return binaryFn(tp, x, slope, func(x, s float64) float64 {
		if x < 0 {
			return s * x
		}
		return x
	}, func(x, s, _ float64) float64 {
		if x < 0 {
			return s
		}
		return 1
	}, func(x, _, _ float64) float64 {
		if x < 0 {
			return x
		}
		return 0
	})
}

// minVar is the elementwise minimum (gradient to the smaller; ties to a).
func minVar(tp *autograd.Tape, a, b *autograd.Var) *autograd.Var {
	return binaryFn(tp, a, b, math.Min, func(x, y, _ float64) float64 {
		if x <= y {
			return 1
		}
		return 0
	}, func(x, y, _ float64) float64 {
		if x <= y {
			return 0
		}
		return 1
	})
}

// compileClip reads Clip's bounds: attributes before opset 11, optional
// inputs from 11.
func compileClip(c *compiler) kernel {
	c.outputs(1)
	var lo, hi float64 = math.Inf(-1), math.Inf(1)
	if c.opset < 11 {
		c.inputs(1, 1)
		lo = float64(c.float("min", -math.MaxFloat32))
		hi = float64(c.float("max", math.MaxFloat32))
		if c.opset < 6 {
			c.ignore("consumed_inputs")
		}
	} else {
		c.inputs(1, 3)
	}
	return func(e *env, x []*val) []*val {
		if x[0].v != nil && ((len(x) > 1 && x[1] != nil && x[1].v != nil && x[1].v.RequiresGrad()) ||
			(len(x) > 2 && x[2] != nil && x[2].v != nil && x[2].v.RequiresGrad())) {
			// Bounds that take a gradient: min(max(x, lo), hi) on the tape.
			y := x[0].v
			if x[1] != nil {
				y = e.tp.Maximum(y, x[1].asVar())
			}
			if len(x) > 2 && x[2] != nil {
				y = minVar(e.tp, y, x[2].asVar())
			}
			return []*val{floatVal(y, x[0].dt)}
		}
		l, h := lo, hi
		if len(x) > 1 && x[1] != nil {
			l = float64(x[1].scalarFloat("min"))
			if x[1].v == nil {
				l = float64(x[1].scalarInt("min"))
			}
		}
		if len(x) > 2 && x[2] != nil {
			h = float64(x[2].scalarFloat("max"))
			if x[2].v == nil {
				h = float64(x[2].scalarInt("max"))
			}
		}
		if x[0].v == nil {
			out := make([]int64, len(x[0].ints))
			for i, v := range x[0].ints {
				f := math.Min(math.Max(float64(v), l), h)
				out[i] = int64(f)
			}
			return []*val{intVal(out, x[0].shape, x[0].dt)}
		}
		if l == 0 && math.IsInf(h, 1) {
			return []*val{floatVal(e.tp.ReLU(x[0].v), x[0].dt)}
		}
		return []*val{floatVal(clampVar(e.tp, x[0].v, float32(l), float32(h)), x[0].dt)}
	}
}
