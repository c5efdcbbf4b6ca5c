package onnx

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Every operator on small inputs: the forward value against a
// hand-computed or naive float64 reference, and (for the differentiable
// ones) the gradient of every float operand against finite differences
// with autograd.GradCheck.

// arg is one operand of a test node.
type arg struct {
	f     *tensor.Tensor // float data, fed as a graph input
	ints  []int64        // integer data, an initialiser
	shape []int
	omit  bool
	konst bool     // float data as an initialiser (not perturbed by the gradient check)
	dt    DataType // integer type (default int64)
}

func F(t *tensor.Tensor) arg            { return arg{f: t} }
func K(t *tensor.Tensor) arg            { return arg{f: t, konst: true} }
func I(shape []int, v ...int64) arg     { return arg{ints: v, shape: shape} }
func S(v ...int64) arg                  { return arg{ints: v, shape: []int{len(v)}} } // 1-D ints
func scalarI(v int64) arg               { return arg{ints: []int64{v}, shape: []int{}} }
func scalarF(v float32) arg             { return arg{f: tensor.Scalar(v)} }
func omitted() arg                      { return arg{omit: true} }
func vec(v ...float32) *tensor.Tensor   { return tens([]int{len(v)}, v...) }
func f64s(t *tensor.Tensor) []float64   { return toF64(t.Data()) }
func toF64(v []float32) (out []float64) { return appendF64(nil, v) }

type opCase struct {
	name  string
	op    string
	opset int64 // 0: 17
	at    []*Attribute
	in    []arg
	// want is the float result (want64 with shape when computed in
	// float64), or wantI with shape for an integer result.
	want   *tensor.Tensor
	want64 []float64
	wantI  []int64
	shape  []int
	outs   int // outputs the node has (default 1); the first is checked
	grad   bool
	tol    float64
}

// model builds the one-node model of a case.
func (c opCase) model() *Model {
	opset := c.opset
	if opset == 0 {
		opset = 17
	}
	b := newModel(opset)
	names := make([]string, len(c.in))
	for i, a := range c.in {
		name := fmt.Sprintf("x%d", i)
		switch {
		case a.omit:
			name = ""
		case a.konst:
			b.floatInit(name, a.f)
		case a.f != nil:
			b.input(name, Float)
		default:
			b.intInit(name, toInt64s(a.shape), a.ints...)
			if a.dt != Undefined {
				b.m.Graph.Initializers[len(b.m.Graph.Initializers)-1].DataType = a.dt
			}
		}
		names[i] = name
	}
	outs := []string{"y"}
	for i := 1; i < max(c.outs, 1); i++ {
		outs = append(outs, fmt.Sprintf("y%d", i))
	}
	b.node(c.op, names, outs, c.at...)
	b.output("y")
	return b.m
}

// floatArgs returns the float operands' names and values.
func (c opCase) floatArgs() ([]string, []*tensor.Tensor) {
	var names []string
	var ts []*tensor.Tensor
	for i, a := range c.in {
		if a.f != nil && !a.konst {
			names = append(names, fmt.Sprintf("x%d", i))
			ts = append(ts, a.f)
		}
	}
	return names, ts
}

func (c opCase) check(t *testing.T) {
	mod := mustImport(t, c.model(), ImportOptions{AllInputs: true})
	names, ts := c.floatArgs()
	feed := map[string]*Tensor{}
	for i, n := range names {
		feed[n] = floatTensor(n, ts[i])
	}
	got, err := mod.Eval(feed)
	if err != nil {
		t.Fatal(err)
	}
	y := got["y"]
	tol := c.tol
	if tol == 0 {
		tol = 2e-5
	}
	switch {
	case c.wantI != nil || (c.want == nil && c.want64 == nil):
		if !slices.Equal(y.Ints, c.wantI) || !slices.Equal(toInts(y.Dims), c.shape) || y.Floats != nil {
			t.Fatalf("got %v %v (floats %v), want %v %v", y.Dims, y.Ints, y.Floats, c.shape, c.wantI)
		}
	default:
		want, shape := c.want64, c.shape
		if c.want != nil {
			want, shape = f64s(c.want), c.want.Shape()
		}
		if !slices.Equal(toInts(y.Dims), shape) {
			t.Fatalf("shape %v, want %v", y.Dims, shape)
		}
		if i, ok := close64(y.Floats, want, tol); !ok {
			t.Fatalf("value %d: got %v, want %v\n got  %v\n want %v", i, at(y.Floats, i), at64(want, i), y.Floats, want)
		}
	}
	if !c.grad {
		return
	}
	err = autograd.GradCheck(func(tp *autograd.Tape, xs []*autograd.Var) *autograd.Var {
		vars := map[string]*autograd.Var{}
		for i, n := range names {
			vars[n] = xs[i]
		}
		return runVars(mod, tp, vars, "y")
	}, ts, 1e-2, 2e-2, 2e-3)
	if err != nil {
		t.Fatalf("gradient: %v", err)
	}
}

func at(v []float32, i int) any {
	if i >= 0 && i < len(v) {
		return v[i]
	}
	return "-"
}

func at64(v []float64, i int) any {
	if i >= 0 && i < len(v) {
		return v[i]
	}
	return "-"
}

func runCases(t *testing.T, cases []opCase) {
	t.Helper()
	for _, c := range cases {
		name := c.name
		if name == "" {
			name = c.op
		}
		t.Run(name, func(t *testing.T) { c.check(t) })
	}
}

// mapRef applies f to every element of x.
func mapRef(x *tensor.Tensor, f func(float64) float64) []float64 {
	out := f64s(x)
	for i, v := range out {
		out[i] = f(v)
	}
	return out
}

func TestUnaryOps(t *testing.T) {
	x := tens([]int{2, 3}, -2.5, -1.2, -0.4, 0.3, 0.9, 1.7)
	pos := tens([]int{2, 3}, 0.2, 0.5, 0.9, 1.3, 2.1, 3.4)
	unit := tens([]int{2, 3}, -0.8, -0.45, -0.1, 0.2, 0.55, 0.85)
	big := tens([]int{2, 3}, 1.2, 1.5, 2.0, 2.6, 3.1, 4.2)
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	cases := []struct {
		op string
		at []*Attribute
		x  *tensor.Tensor
		f  func(float64) float64
	}{
		{"Relu", nil, x, func(v float64) float64 { return math.Max(v, 0) }},
		{"Sigmoid", nil, x, sig},
		{"Tanh", nil, x, math.Tanh},
		{"Exp", nil, x, math.Exp},
		{"Log", nil, pos, math.Log},
		{"Sqrt", nil, pos, math.Sqrt},
		{"Abs", nil, x, math.Abs},
		{"Neg", nil, x, func(v float64) float64 { return -v }},
		{"Reciprocal", nil, x, func(v float64) float64 { return 1 / v }},
		{"Erf", nil, x, math.Erf},
		{"Sin", nil, x, math.Sin},
		{"Cos", nil, x, math.Cos},
		{"Tan", nil, unit, math.Tan},
		{"Asin", nil, unit, math.Asin},
		{"Acos", nil, unit, math.Acos},
		{"Atan", nil, x, math.Atan},
		{"Sinh", nil, x, math.Sinh},
		{"Cosh", nil, x, math.Cosh},
		{"Asinh", nil, x, math.Asinh},
		{"Acosh", nil, big, math.Acosh},
		{"Atanh", nil, unit, math.Atanh},
		{"Softplus", nil, x, func(v float64) float64 { return math.Log(1 + math.Exp(v)) }},
		{"Softsign", nil, x, func(v float64) float64 { return v / (1 + math.Abs(v)) }},
		{"Mish", nil, x, func(v float64) float64 { return v * math.Tanh(math.Log(1+math.Exp(v))) }},
		{"HardSwish", nil, x, func(v float64) float64 { return v * math.Max(0, math.Min(1, v/6+0.5)) }},
		{"HardSigmoid", nil, tens([]int{2, 3}, -2.7, -1.2, -0.4, 0.3, 0.9, 2.6), func(v float64) float64 { return math.Max(0, math.Min(1, 0.2*v+0.5)) }},
		{"HardSigmoid", []*Attribute{tFloat("alpha", 0.5), tFloat("beta", 0.6)}, tens([]int{2, 3}, -2.5, -1.5, -0.4, 0.3, 0.9, 1.7), func(v float64) float64 { return math.Max(0, math.Min(1, 0.5*v+0.6)) }},
		{"LeakyRelu", nil, x, func(v float64) float64 { return math.Max(v, 0.01*v) }},
		{"LeakyRelu", []*Attribute{tFloat("alpha", 0.2)}, x, func(v float64) float64 { return math.Max(v, 0.2*v) }},
		{"Elu", []*Attribute{tFloat("alpha", 0.7)}, x, func(v float64) float64 {
			if v > 0 {
				return v
			}
			return 0.7 * (math.Exp(v) - 1)
		}},
		{"Selu", nil, x, func(v float64) float64 {
			if v > 0 {
				return 1.0507009873554805 * v
			}
			return 1.0507009873554805 * 1.6732632423543772 * (math.Exp(v) - 1)
		}},
		{"Celu", []*Attribute{tFloat("alpha", 2)}, x, func(v float64) float64 { return math.Max(0, v) + math.Min(0, 2*(math.Exp(v/2)-1)) }},
		{"ThresholdedRelu", []*Attribute{tFloat("alpha", 0.5)}, x, func(v float64) float64 {
			if v > 0.5 {
				return v
			}
			return 0
		}},
		{"Shrink", []*Attribute{tFloat("lambd", 0.5), tFloat("bias", 0.1)}, x, func(v float64) float64 {
			switch {
			case v < -0.5:
				return v + 0.1
			case v > 0.5:
				return v - 0.1
			}
			return 0
		}},
		{"Gelu", nil, x, func(v float64) float64 { return 0.5 * v * (1 + math.Erf(v/math.Sqrt2)) }},
		{"Gelu", []*Attribute{tStr("approximate", "tanh")}, x, func(v float64) float64 {
			return 0.5 * v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v)))
		}},
		{"Identity", nil, x, func(v float64) float64 { return v }},
		{"Floor", nil, x, math.Floor},
		{"Ceil", nil, x, math.Ceil},
		{"Round", nil, tens([]int{4}, 0.3, 1.2, -2.3, 2.4), math.RoundToEven},
		{"Sign", nil, x, func(v float64) float64 { return float64(sign(v)) }},
	}
	var ops []opCase
	for _, c := range cases {
		name := c.op
		if c.at != nil {
			name += "_attrs"
		}
		opset := int64(0)
		if c.op == "Gelu" {
			opset = 20
		}
		ops = append(ops, opCase{name: name, op: c.op, opset: opset, at: c.at, in: []arg{F(c.x)}, want64: mapRef(c.x, c.f), shape: c.x.Shape(), grad: true})
	}
	// Round halves to even (not differentiable at the ties).
	ops = append(ops, opCase{name: "Round_ties", op: "Round", in: []arg{F(vec(0.5, 1.5, -2.5, 2.5))}, want: vec(0, 2, -2, 2)})
	runCases(t, ops)
}

// bcastRef applies f to a and b broadcast NumPy-style.
func bcastRef(a, b *tensor.Tensor, f func(x, y float64) float64) ([]float64, []int) {
	shape, ok := tensor.BroadcastShapes(a.Shape(), b.Shape())
	if !ok {
		panic("bad test shapes")
	}
	am := broadcastMap(a.Shape(), shape)
	bm := broadcastMap(b.Shape(), shape)
	ad, bd := a.Data(), b.Data()
	out := make([]float64, len(am))
	for i := range out {
		out[i] = f(float64(ad[am[i]]), float64(bd[bm[i]]))
	}
	return out, shape
}

func TestBinaryOps(t *testing.T) {
	rng := tensor.NewRNG(1)
	a := randT(rng, 2, 3, 4)
	b := randT(rng, 3, 1)
	p := tensor.AddScalar(tensor.Abs(randT(rng, 2, 3, 4)), 0.2) // Pow bases > 0
	e := randT(rng, 4)
	var cases []opCase
	for _, c := range []struct {
		op string
		f  func(x, y float64) float64
		a  *tensor.Tensor
		b  *tensor.Tensor
	}{
		{"Add", func(x, y float64) float64 { return x + y }, a, b},
		{"Sub", func(x, y float64) float64 { return x - y }, a, b},
		{"Mul", func(x, y float64) float64 { return x * y }, a, b},
		{"Div", func(x, y float64) float64 { return x / y }, a, b},
		{"Pow", math.Pow, p, e},
		{"Max", math.Max, a, b},
		{"Min", math.Min, a, b},
		{"Sum", func(x, y float64) float64 { return x + y }, a, b},
		{"Mean", func(x, y float64) float64 { return (x + y) / 2 }, a, b},
		{"PRelu", func(x, s float64) float64 {
			if x < 0 {
				return s * x
			}
			return x
		}, a, b},
	} {
		want, shape := bcastRef(c.a, c.b, c.f)
		cases = append(cases, opCase{op: c.op, in: []arg{F(c.a), F(c.b)}, want64: want, shape: shape, grad: true})
	}
	// Pow with a scalar integer-valued exponent (Square) and the Erf-based GELU pieces.
	cases = append(cases,
		opCase{name: "Pow_square", op: "Pow", in: []arg{F(a), scalarF(2)}, want64: mapRef(a, func(v float64) float64 { return v * v }), shape: a.Shape(), grad: true},
		opCase{name: "Mod_fmod", op: "Mod", at: []*Attribute{tInt("fmod", 1)}, in: []arg{F(tens([]int{4}, 5.5, -5.5, 7, -7)), F(tens([]int{4}, 2, 2, -3, -3))}, want: tens([]int{4}, 1.5, -1.5, 1, -1)},
		opCase{name: "Mod_int", op: "Mod", in: []arg{S(5, -5, 7, -7), S(3, 3, -3, -3)}, wantI: []int64{2, 1, -2, -1}, shape: []int{4}},
		opCase{name: "Add_int", op: "Add", in: []arg{I([]int{2, 1}, 1, 2), S(10, 20, 30)}, wantI: []int64{11, 21, 31, 12, 22, 32}, shape: []int{2, 3}},
		opCase{name: "Div_int", op: "Div", in: []arg{S(7, -7), S(2, 2)}, wantI: []int64{3, -3}, shape: []int{2}},
		opCase{name: "Max_variadic", op: "Max", in: []arg{F(vec(1, 5, 3)), F(vec(4, 2, 6)), F(vec(0, 7, 1))}, want: vec(4, 7, 6), grad: true},
		// Before opset 7: broadcast=1 with axis aligns B's axes at axis.
		opCase{name: "Add_legacy_axis", op: "Add", opset: 6, at: []*Attribute{tInt("broadcast", 1), tInt("axis", 1)},
			in: []arg{F(tensor.New(2, 3, 2)), F(vec(1, 2, 3))}, want: tens([]int{2, 3, 2}, 1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3), grad: true},
		opCase{name: "PRelu_legacy_channel", op: "PRelu", opset: 6, in: []arg{F(tens([]int{1, 2, 2}, -1, 2, -3, 4)), F(vec(0.5, 0.25))}, want: tens([]int{1, 2, 2}, -0.5, 2, -0.75, 4), grad: true},
	)
	runCases(t, cases)
}

func TestCompareLogicOps(t *testing.T) {
	a, b := vec(1, 2, 3), vec(2, 2, 2)
	runCases(t, []opCase{
		{op: "Equal", in: []arg{F(a), F(b)}, wantI: []int64{0, 1, 0}, shape: []int{3}},
		{op: "Less", in: []arg{F(a), F(b)}, wantI: []int64{1, 0, 0}, shape: []int{3}},
		{op: "LessOrEqual", in: []arg{F(a), F(b)}, wantI: []int64{1, 1, 0}, shape: []int{3}},
		{op: "Greater", in: []arg{F(a), F(b)}, wantI: []int64{0, 0, 1}, shape: []int{3}},
		{op: "GreaterOrEqual", in: []arg{F(a), F(b)}, wantI: []int64{0, 1, 1}, shape: []int{3}},
		{name: "Equal_int", op: "Equal", in: []arg{S(1, 2), S(2, 2)}, wantI: []int64{0, 1}, shape: []int{2}},
		{op: "And", in: []arg{S(0, 0, 1, 1), S(0, 1, 0, 1)}, wantI: []int64{0, 0, 0, 1}, shape: []int{4}},
		{op: "Or", in: []arg{S(0, 0, 1, 1), S(0, 1, 0, 1)}, wantI: []int64{0, 1, 1, 1}, shape: []int{4}},
		{op: "Xor", in: []arg{S(0, 0, 1, 1), S(0, 1, 0, 1)}, wantI: []int64{0, 1, 1, 0}, shape: []int{4}},
		{op: "Not", in: []arg{S(0, 1)}, wantI: []int64{1, 0}, shape: []int{2}},
		{op: "IsNaN", in: []arg{F(vec(1, float32(math.NaN())))}, wantI: []int64{0, 1}, shape: []int{2}},
		{op: "IsInf", in: []arg{F(vec(1, float32(math.Inf(1)), float32(math.Inf(-1))))}, wantI: []int64{0, 1, 1}, shape: []int{3}},
		{op: "Where", in: []arg{I([]int{2, 1}, 1, 0), F(vec(1, 2, 3)), F(vec(-1, -2, -3))}, want: tens([]int{2, 3}, 1, 2, 3, -1, -2, -3), grad: true},
		{name: "Where_int", op: "Where", in: []arg{S(1, 0), S(1, 2), S(3, 4)}, wantI: []int64{1, 4}, shape: []int{2}},
	})
}

func TestClip(t *testing.T) {
	x := vec(-2, -0.5, 0.3, 1.5)
	runCases(t, []opCase{
		{name: "inputs", op: "Clip", in: []arg{F(x), scalarF(-1), scalarF(1)}, want: vec(-1, -0.5, 0.3, 1), grad: true},
		{name: "min_only", op: "Clip", in: []arg{F(x), scalarF(0)}, want: vec(0, 0, 0.3, 1.5), grad: true},
		{name: "max_only", op: "Clip", in: []arg{F(x), omitted(), scalarF(0.4)}, want: vec(-2, -0.5, 0.3, 0.4), grad: true},
		{name: "attrs_opset6", op: "Clip", opset: 6, at: []*Attribute{tFloat("min", -1), tFloat("max", 1)}, in: []arg{F(x)}, want: vec(-1, -0.5, 0.3, 1), grad: true},
		{name: "int", op: "Clip", opset: 13, in: []arg{S(-5, 0, 5), scalarI(-1), scalarI(2)}, wantI: []int64{-1, 0, 2}, shape: []int{3}},
	})
}

func TestShapeOps(t *testing.T) {
	x := tensor.Arange(0, 1, 24).Reshape(2, 3, 4)
	xr := func(shape ...int) *tensor.Tensor { return x.Reshape(shape...) }
	runCases(t, []opCase{
		{op: "Shape", in: []arg{F(x)}, wantI: []int64{2, 3, 4}, shape: []int{3}},
		{name: "Shape_start_end", op: "Shape", at: []*Attribute{tInt("start", 1), tInt("end", -1)}, in: []arg{F(x)}, wantI: []int64{3}, shape: []int{1}},
		{op: "Size", in: []arg{F(x)}, wantI: []int64{24}, shape: []int{}},
		{op: "Reshape", in: []arg{F(x), S(0, -1)}, want: xr(2, 12), grad: true},
		{name: "Reshape_allowzero", op: "Reshape", opset: 14, at: []*Attribute{tInt("allowzero", 1)}, in: []arg{F(x), S(4, 6)}, want: xr(4, 6)},
		{name: "Reshape_int", op: "Reshape", in: []arg{I([]int{2, 2}, 1, 2, 3, 4), S(-1)}, wantI: []int64{1, 2, 3, 4}, shape: []int{4}},
		{op: "Flatten", in: []arg{F(x)}, want: xr(2, 12), grad: true},
		{name: "Flatten_axis0", op: "Flatten", at: []*Attribute{tInt("axis", 0)}, in: []arg{F(x)}, want: xr(1, 24)},
		{name: "Flatten_neg", op: "Flatten", at: []*Attribute{tInt("axis", -1)}, in: []arg{F(x)}, want: xr(6, 4)},
		{name: "Squeeze_attr", op: "Squeeze", opset: 11, at: []*Attribute{tInts("axes", 1)}, in: []arg{F(xr(2, 1, 12))}, want: xr(2, 12), grad: true},
		{name: "Squeeze_input", op: "Squeeze", in: []arg{F(xr(2, 1, 12, 1)), S(-1)}, want: xr(2, 1, 12)},
		{name: "Squeeze_all", op: "Squeeze", in: []arg{F(xr(2, 1, 12, 1))}, want: xr(2, 12)},
		{name: "Unsqueeze_attr", op: "Unsqueeze", opset: 11, at: []*Attribute{tInts("axes", 0, 3)}, in: []arg{F(x)}, want: xr(1, 2, 3, 1, 4), grad: true},
		{name: "Unsqueeze_input", op: "Unsqueeze", in: []arg{F(x), S(-1)}, want: xr(2, 3, 4, 1)},
		{name: "Unsqueeze_int", op: "Unsqueeze", in: []arg{scalarI(7), S(0)}, wantI: []int64{7}, shape: []int{1}},
		{op: "Concat", at: []*Attribute{tInt("axis", 1)}, in: []arg{F(tens([]int{2, 1}, 1, 2)), F(tens([]int{2, 2}, 3, 4, 5, 6))}, want: tens([]int{2, 3}, 1, 3, 4, 2, 5, 6), grad: true},
		{name: "Concat_int", op: "Concat", at: []*Attribute{tInt("axis", 0)}, in: []arg{S(1), S(2, 3)}, wantI: []int64{1, 2, 3}, shape: []int{3}},
		{op: "Transpose", at: []*Attribute{tInts("perm", 2, 0, 1)}, in: []arg{F(x)}, want: x.Transpose(2, 0, 1).Contiguous(), grad: true},
		{name: "Transpose_default", op: "Transpose", in: []arg{F(xr(4, 6))}, want: xr(4, 6).Transpose().Contiguous()},
		{name: "Transpose_int", op: "Transpose", in: []arg{I([]int{2, 2}, 1, 2, 3, 4)}, wantI: []int64{1, 3, 2, 4}, shape: []int{2, 2}},
		{op: "Slice", in: []arg{F(x), S(1, 0), S(3, -1), S(1, 2)}, want: x.Slice(1, 1, 3).Slice(2, 0, 3).Contiguous(), grad: true},
		{name: "Slice_steps", op: "Slice", in: []arg{F(xr(24)), S(-1), S(-100), S(0), S(-5)}, want: vec(23, 18, 13, 8, 3), grad: true},
		{name: "Slice_big_end", op: "Slice", in: []arg{F(xr(24)), S(20), S(math.MaxInt64)}, want: vec(20, 21, 22, 23)},
		{name: "Slice_attrs", op: "Slice", opset: 9, at: []*Attribute{tInts("starts", 1), tInts("ends", 3), tInts("axes", 2)}, in: []arg{F(x)}, want: x.Slice(2, 1, 3).Contiguous(), grad: true},
		{name: "Slice_int", op: "Slice", in: []arg{S(5, 6, 7, 8), S(1), S(3)}, wantI: []int64{6, 7}, shape: []int{2}},
		{op: "Gather", in: []arg{F(xr(6, 4)), I([]int{2, 2}, 5, 0, -1, 2)}, want: tens([]int{2, 2, 4}, 20, 21, 22, 23, 0, 1, 2, 3, 20, 21, 22, 23, 8, 9, 10, 11), grad: true},
		{name: "Gather_axis1", op: "Gather", at: []*Attribute{tInt("axis", 1)}, in: []arg{F(xr(2, 12)), scalarI(3)}, want: vec(3, 15), grad: true},
		{name: "Gather_int", op: "Gather", in: []arg{S(2, 3, 4), scalarI(0)}, wantI: []int64{2}, shape: []int{}},
		{op: "GatherElements", at: []*Attribute{tInt("axis", 1)}, in: []arg{F(tens([]int{2, 2}, 1, 2, 3, 4)), I([]int{2, 2}, 0, 0, 1, 0)}, want: tens([]int{2, 2}, 1, 1, 4, 3), grad: true},
		{name: "Cast_to_int", op: "Cast", at: []*Attribute{tInt("to", int64(Int64))}, in: []arg{F(vec(1.7, -1.7, 3))}, wantI: []int64{1, -1, 3}, shape: []int{3}},
		{name: "Cast_to_float", op: "Cast", at: []*Attribute{tInt("to", int64(Float))}, in: []arg{S(1, 2)}, want: vec(1, 2)},
		{name: "Cast_float_float", op: "Cast", at: []*Attribute{tInt("to", int64(Float))}, in: []arg{F(vec(1, 2))}, want: vec(1, 2), grad: true},
		{name: "Cast_uint8_wraps", op: "Cast", at: []*Attribute{tInt("to", int64(Uint8))}, in: []arg{S(300, -1)}, wantI: []int64{44, 255}, shape: []int{2}},
		{op: "ConstantOfShape", in: []arg{S(2, 3)}, want: tensor.New(2, 3)},
		{name: "ConstantOfShape_int", op: "ConstantOfShape", at: []*Attribute{tTensor("value", &Tensor{DataType: Int64, Dims: []int64{1}, Ints: []int64{7}})}, in: []arg{S(2)}, wantI: []int64{7, 7}, shape: []int{2}},
		{name: "Constant", op: "Constant", at: []*Attribute{tTensor("value", &Tensor{DataType: Float, Dims: []int64{2}, Floats: []float32{1, 2}})}, want: vec(1, 2)},
		{name: "Constant_ints", op: "Constant", at: []*Attribute{tInts("value_ints", 3, 4)}, wantI: []int64{3, 4}, shape: []int{2}},
		{name: "Constant_float", op: "Constant", at: []*Attribute{tFloat("value_float", 2.5)}, want: tensor.Scalar(2.5)},
		{op: "Expand", in: []arg{F(tens([]int{3, 1}, 1, 2, 3)), S(2, 1, 2)}, want: tens([]int{2, 3, 2}, 1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3), grad: true},
		{op: "Tile", in: []arg{F(tens([]int{2, 1}, 1, 2)), S(2, 3)}, want: tens([]int{4, 3}, 1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2), grad: true},
		{name: "Split_input", op: "Split", outs: 2, at: []*Attribute{tInt("axis", 1)}, in: []arg{F(xr(2, 12)), S(5, 7)}, want: xr(2, 12).Slice(1, 0, 5).Contiguous(), grad: true},
		{name: "Split_attr", op: "Split", opset: 11, outs: 3, in: []arg{F(xr(6, 4))}, want: xr(6, 4).Slice(0, 0, 2).Contiguous(), grad: true},
		{op: "Range", in: []arg{scalarI(1), scalarI(10), scalarI(3)}, wantI: []int64{1, 4, 7}, shape: []int{3}},
		{name: "Range_float", op: "Range", in: []arg{scalarF(0), scalarF(1), scalarF(0.25)}, want: vec(0, 0.25, 0.5, 0.75)},
		{op: "Dropout", in: []arg{F(x)}, want: x, grad: true},
		{name: "Dropout_opset6", op: "Dropout", opset: 6, at: []*Attribute{tInt("is_test", 1), tFloat("ratio", 0.3)}, in: []arg{F(x)}, want: x},
		{op: "DepthToSpace", at: []*Attribute{tInt("blocksize", 2)}, in: []arg{F(tensor.Arange(0, 1, 8).Reshape(1, 4, 1, 2))}, want: tens([]int{1, 1, 2, 4}, 0, 2, 1, 3, 4, 6, 5, 7), grad: true},
		// CRD: channel c·4 + b1·2 + b2 of 2 output channels.
		{name: "DepthToSpace_CRD", op: "DepthToSpace", at: []*Attribute{tInt("blocksize", 2), tStr("mode", "CRD")}, in: []arg{F(tensor.Arange(0, 1, 8).Reshape(1, 8, 1, 1))}, want: tens([]int{1, 2, 2, 2}, 0, 1, 2, 3, 4, 5, 6, 7)},
		{name: "DepthToSpace_DCR2", op: "DepthToSpace", at: []*Attribute{tInt("blocksize", 2)}, in: []arg{F(tensor.Arange(0, 1, 8).Reshape(1, 8, 1, 1))}, want: tens([]int{1, 2, 2, 2}, 0, 2, 4, 6, 1, 3, 5, 7)},
		{op: "SpaceToDepth", at: []*Attribute{tInt("blocksize", 2)}, in: []arg{F(tens([]int{1, 1, 2, 4}, 0, 2, 1, 3, 4, 6, 5, 7))}, want: tensor.Arange(0, 1, 8).Reshape(1, 4, 1, 2), grad: true},
		{op: "Trilu", in: []arg{F(tensor.Arange(1, 1, 9).Reshape(3, 3))}, want: tens([]int{3, 3}, 1, 2, 3, 0, 5, 6, 0, 0, 9), grad: true},
		{name: "Trilu_lower_k", op: "Trilu", at: []*Attribute{tInt("upper", 0)}, in: []arg{F(tensor.Arange(1, 1, 9).Reshape(3, 3)), scalarI(-1)}, want: tens([]int{3, 3}, 0, 0, 0, 4, 0, 0, 7, 8, 0)},
		{op: "EyeLike", in: []arg{F(tensor.New(2, 3))}, want: tens([]int{2, 3}, 1, 0, 0, 0, 1, 0)},
	})
}

func TestPad(t *testing.T) {
	x := tens([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	runCases(t, []opCase{
		{name: "constant", op: "Pad", in: []arg{F(x), S(0, 1, 1, 0), scalarF(9)}, want: tens([]int{3, 4}, 9, 1, 2, 3, 9, 4, 5, 6, 9, 9, 9, 9), grad: true},
		{name: "reflect", op: "Pad", at: []*Attribute{tStr("mode", "reflect")}, in: []arg{F(x), S(0, 2, 0, 1)}, want: tens([]int{2, 6}, 3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5), grad: true},
		{name: "edge", op: "Pad", at: []*Attribute{tStr("mode", "edge")}, in: []arg{F(x), S(1, 0, 0, 1)}, want: tens([]int{3, 4}, 1, 2, 3, 3, 1, 2, 3, 3, 4, 5, 6, 6), grad: true},
		{name: "crop", op: "Pad", in: []arg{F(x), S(0, -1, 0, 0)}, want: tens([]int{2, 2}, 2, 3, 5, 6), grad: true},
		{name: "attrs_opset2", op: "Pad", opset: 2, at: []*Attribute{tInts("pads", 0, 1, 0, 0), tFloat("value", 1)}, in: []arg{F(x)}, want: tens([]int{2, 4}, 1, 1, 2, 3, 1, 4, 5, 6), grad: true},
		{name: "axes_opset18", op: "Pad", opset: 18, in: []arg{F(x), S(1, 1), omitted(), S(-1)}, want: tens([]int{2, 5}, 0, 1, 2, 3, 0, 0, 4, 5, 6, 0)},
	})
}

func TestGemmMatMul(t *testing.T) {
	rng := tensor.NewRNG(2)
	a, b, c := randT(rng, 3, 4), randT(rng, 4, 5), randT(rng, 5)
	at_, bt := a.Transpose().Contiguous(), b.Transpose().Contiguous()
	ref := func(alpha, beta float64, withC bool) []float64 {
		out := make([]float64, 15)
		for i := 0; i < 3; i++ {
			for j := 0; j < 5; j++ {
				var s float64
				for k := 0; k < 4; k++ {
					s += float64(a.At(i, k)) * float64(b.At(k, j))
				}
				out[i*5+j] = alpha * s
				if withC {
					out[i*5+j] += beta * float64(c.At(j))
				}
			}
		}
		return out
	}
	x3, y3 := randT(rng, 2, 1, 3, 4), randT(rng, 3, 4, 2)
	mm := func(x, y *tensor.Tensor) ([]float64, []int) { // naive broadcast batched matmul
		xs, ys := x.Shape(), y.Shape()
		batch, _ := tensor.BroadcastShapes(xs[:len(xs)-2], ys[:len(ys)-2])
		m, k, n := xs[len(xs)-2], xs[len(xs)-1], ys[len(ys)-1]
		xb := tensor.Add(x, tensor.New(append(slices.Clone(batch), m, k)...))
		yb := tensor.Add(y, tensor.New(append(slices.Clone(batch), k, n)...))
		nb := tensor.Numel(batch)
		xd, yd := xb.Data(), yb.Data()
		out := make([]float64, nb*m*n)
		for q := 0; q < nb; q++ {
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					var s float64
					for l := 0; l < k; l++ {
						s += float64(xd[q*m*k+i*k+l]) * float64(yd[q*k*n+l*n+j])
					}
					out[q*m*n+i*n+j] = s
				}
			}
		}
		return out, append(slices.Clone(batch), m, n)
	}
	bm, bmShape := mm(x3, y3)
	v := randT(rng, 4)
	vr, _ := mm(a, v.Reshape(4, 1))
	runCases(t, []opCase{
		{name: "Gemm", op: "Gemm", in: []arg{F(a), F(b), F(c)}, want64: ref(1, 1, true), shape: []int{3, 5}, grad: true},
		{name: "Gemm_trans_alpha_beta", op: "Gemm", at: []*Attribute{tInt("transA", 1), tInt("transB", 1), tFloat("alpha", 0.5), tFloat("beta", 2)}, in: []arg{F(at_), F(bt), F(c)}, want64: ref(0.5, 2, true), shape: []int{3, 5}, grad: true},
		{name: "Gemm_noC", op: "Gemm", in: []arg{F(a), F(b)}, want64: ref(1, 1, false), shape: []int{3, 5}, grad: true},
		{name: "MatMul_2d", op: "MatMul", in: []arg{F(a), F(b)}, want64: ref(1, 1, false), shape: []int{3, 5}, grad: true},
		{name: "MatMul_broadcast", op: "MatMul", in: []arg{F(x3), F(y3)}, want64: bm, shape: bmShape, grad: true},
		{name: "MatMul_vector", op: "MatMul", in: []arg{F(a), F(v)}, want64: vr, shape: []int{3}, grad: true},
	})
}
