package autograd

import (
	"testing"

	"github.com/glassbox-ml/glassbox/tensor"
)

func rnd(seed uint64, shape ...int) *tensor.Tensor {
	return tensor.RandN(tensor.NewRNG(seed), 0, 1, shape...)
}

// positive returns values in [0.5, 2) for ops defined on positives.
func positive(seed uint64, shape ...int) *tensor.Tensor {
	return tensor.RandU(tensor.NewRNG(seed), 0.5, 2, shape...)
}

// awayFromZero returns values with |x| ≥ 0.1 so kinks (ReLU, Abs) are not
// straddled by the finite differences.
func awayFromZero(seed uint64, shape ...int) *tensor.Tensor {
	t := rnd(seed, shape...)
	d := t.Data()
	for i, v := range d {
		if v >= 0 && v < 0.1 {
			d[i] = v + 0.1
		} else if v < 0 && v > -0.1 {
			d[i] = v - 0.1
		}
	}
	return t
}

func TestGradients(t *testing.T) {
	cases := []struct {
		name   string
		inputs []*tensor.Tensor
		f      func(tp *Tape, x []*Var) *Var
	}{
		{"add", []*tensor.Tensor{rnd(1, 3, 4), rnd(2, 3, 4)}, func(tp *Tape, x []*Var) *Var { return tp.Add(x[0], x[1]) }},
		{"add/broadcast-row", []*tensor.Tensor{rnd(1, 3, 4), rnd(2, 4)}, func(tp *Tape, x []*Var) *Var { return tp.Add(x[0], x[1]) }},
		{"add/broadcast-both", []*tensor.Tensor{rnd(1, 3, 1), rnd(2, 1, 4)}, func(tp *Tape, x []*Var) *Var { return tp.Add(x[0], x[1]) }},
		{"sub/broadcast-col", []*tensor.Tensor{rnd(1, 2, 3, 4), rnd(2, 3, 1)}, func(tp *Tape, x []*Var) *Var { return tp.Sub(x[0], x[1]) }},
		{"mul/broadcast", []*tensor.Tensor{rnd(1, 2, 3), rnd(2, 2, 1)}, func(tp *Tape, x []*Var) *Var { return tp.Mul(x[0], x[1]) }},
		{"div/broadcast", []*tensor.Tensor{rnd(1, 2, 3), positive(2, 3)}, func(tp *Tape, x []*Var) *Var { return tp.Div(x[0], x[1]) }},
		{"scalar", []*tensor.Tensor{rnd(1, 5)}, func(tp *Tape, x []*Var) *Var { return tp.AddScalar(tp.MulScalar(tp.Neg(x[0]), 3), 2) }},
		{"matmul", []*tensor.Tensor{rnd(1, 3, 5), rnd(2, 5, 4)}, func(tp *Tape, x []*Var) *Var { return tp.MatMul(x[0], x[1]) }},
		{"matmul/transposed-views", []*tensor.Tensor{rnd(1, 5, 3), rnd(2, 4, 5)}, func(tp *Tape, x []*Var) *Var {
			return tp.MatMul(tp.Transpose(x[0]), tp.Transpose(x[1]))
		}},
		{"matmul/batched", []*tensor.Tensor{rnd(1, 2, 3, 5), rnd(2, 2, 5, 4)}, func(tp *Tape, x []*Var) *Var { return tp.MatMul(x[0], x[1]) }},
		{"matmul/shared-rhs", []*tensor.Tensor{rnd(1, 2, 3, 5), rnd(2, 5, 4)}, func(tp *Tape, x []*Var) *Var { return tp.MatMul(x[0], x[1]) }},
		{"relu", []*tensor.Tensor{awayFromZero(1, 4, 5)}, func(tp *Tape, x []*Var) *Var { return tp.ReLU(x[0]) }},
		{"leakyrelu", []*tensor.Tensor{awayFromZero(1, 4, 5)}, func(tp *Tape, x []*Var) *Var { return tp.LeakyReLU(x[0], 0.1) }},
		{"sigmoid", []*tensor.Tensor{rnd(1, 4, 5)}, func(tp *Tape, x []*Var) *Var { return tp.Sigmoid(x[0]) }},
		{"tanh", []*tensor.Tensor{rnd(1, 4, 5)}, func(tp *Tape, x []*Var) *Var { return tp.Tanh(x[0]) }},
		{"gelu", []*tensor.Tensor{rnd(1, 4, 5)}, func(tp *Tape, x []*Var) *Var { return tp.GELU(x[0]) }},
		{"exp", []*tensor.Tensor{rnd(1, 4, 5)}, func(tp *Tape, x []*Var) *Var { return tp.Exp(x[0]) }},
		{"log", []*tensor.Tensor{positive(1, 4, 5)}, func(tp *Tape, x []*Var) *Var { return tp.Log(x[0]) }},
		{"sqrt", []*tensor.Tensor{positive(1, 4, 5)}, func(tp *Tape, x []*Var) *Var { return tp.Sqrt(x[0]) }},
		{"square", []*tensor.Tensor{rnd(1, 4, 5)}, func(tp *Tape, x []*Var) *Var { return tp.Square(x[0]) }},
		{"abs", []*tensor.Tensor{awayFromZero(1, 4, 5)}, func(tp *Tape, x []*Var) *Var { return tp.Abs(x[0]) }},
		{"sum/all", []*tensor.Tensor{rnd(1, 3, 4)}, func(tp *Tape, x []*Var) *Var { return tp.Sum(x[0], false) }},
		{"sum/axis0", []*tensor.Tensor{rnd(1, 3, 4)}, func(tp *Tape, x []*Var) *Var { return tp.Sum(x[0], false, 0) }},
		{"sum/axis-1-keep", []*tensor.Tensor{rnd(1, 2, 3, 4)}, func(tp *Tape, x []*Var) *Var { return tp.Sum(x[0], true, -1) }},
		{"mean/axes", []*tensor.Tensor{rnd(1, 2, 3, 4)}, func(tp *Tape, x []*Var) *Var { return tp.Mean(x[0], false, 0, 2) }},
		{"reshape", []*tensor.Tensor{rnd(1, 2, 6)}, func(tp *Tape, x []*Var) *Var { return tp.Square(tp.Reshape(x[0], 3, -1)) }},
		{"transpose/3d", []*tensor.Tensor{rnd(1, 2, 3, 4)}, func(tp *Tape, x []*Var) *Var { return tp.Square(tp.Transpose(x[0], 2, 0, 1)) }},
		{"slice", []*tensor.Tensor{rnd(1, 4, 5)}, func(tp *Tape, x []*Var) *Var { return tp.Square(tp.Slice(x[0], 1, 1, 4)) }},
		{"slice-of-transpose", []*tensor.Tensor{rnd(1, 4, 5)}, func(tp *Tape, x []*Var) *Var {
			return tp.Mul(tp.Slice(tp.Transpose(x[0]), 0, 1, 3), tp.Slice(tp.Transpose(x[0]), 0, 2, 4))
		}},
		{"concat", []*tensor.Tensor{rnd(1, 2, 3), rnd(2, 2, 2)}, func(tp *Tape, x []*Var) *Var { return tp.Square(tp.Concat(1, x[0], x[1])) }},
		{"stack", []*tensor.Tensor{rnd(1, 2, 3), rnd(2, 2, 3)}, func(tp *Tape, x []*Var) *Var { return tp.Square(tp.Stack(0, x[0], x[1])) }},
		{"indexselect/repeats", []*tensor.Tensor{rnd(1, 5, 3)}, func(tp *Tape, x []*Var) *Var { return tp.Square(tp.IndexSelect(x[0], 0, []int{4, 0, 4, 2})) }},
		{"softmax", []*tensor.Tensor{rnd(1, 3, 5)}, func(tp *Tape, x []*Var) *Var { return tp.Softmax(x[0], -1) }},
		{"softmax/axis0", []*tensor.Tensor{rnd(1, 3, 5)}, func(tp *Tape, x []*Var) *Var { return tp.Softmax(x[0], 0) }},
		{"logsoftmax", []*tensor.Tensor{rnd(1, 3, 5)}, func(tp *Tape, x []*Var) *Var { return tp.LogSoftmax(x[0], 1) }},
		{"maximum", []*tensor.Tensor{rnd(1, 3, 4), rnd(2, 4)}, func(tp *Tape, x []*Var) *Var { return tp.Maximum(x[0], x[1]) }},
		{"reused-input", []*tensor.Tensor{rnd(1, 3, 3)}, func(tp *Tape, x []*Var) *Var { return tp.MatMul(x[0], tp.Tanh(x[0])) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := GradCheck(c.f, c.inputs, 1e-2, 2e-2, 2e-3); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestDropoutGradient(t *testing.T) {
	mask := tensor.MustFromSlice([]float32{2, 0, 2, 0, 2, 2}, 2, 3)
	err := GradCheck(func(tp *Tape, x []*Var) *Var { return tp.Dropout(x[0], mask) }, []*tensor.Tensor{rnd(1, 2, 3)}, 1e-2, 1e-2, 1e-3)
	if err != nil {
		t.Fatal(err)
	}
}

// GradCheck itself must catch a wrong gradient, or every test above is
// worthless.
func TestGradCheckDetectsWrongGradient(t *testing.T) {
	wrong := func(tp *Tape, x []*Var) *Var {
		a := x[0]
		return tp.record(tensor.Square(a.Value), func(g *tensor.Tensor) {
			accum(a, tensor.Mul(g, a.Value), true) // should be 2·a
		}, a)
	}
	if err := GradCheck(wrong, []*tensor.Tensor{rnd(1, 4)}, 1e-2, 1e-2, 1e-3); err == nil {
		t.Fatal("GradCheck accepted a gradient that is off by a factor of 2")
	}
}

func TestParamGradAccumulatesAndNoGrad(t *testing.T) {
	w := Param(tensor.MustFromSlice([]float32{1, 2, 3}, 3), "w")
	x := Const(tensor.MustFromSlice([]float32{4, 5, 6}, 3))
	for step := 1; step <= 2; step++ {
		tp := NewTape()
		if err := tp.Backward(tp.Sum(tp.Mul(w, x), false)); err != nil {
			t.Fatal(err)
		}
		want := []float32{4 * float32(step), 5 * float32(step), 6 * float32(step)}
		for i, v := range w.Grad.Data() {
			if v != want[i] {
				t.Fatalf("step %d: grad %v, want %v", step, w.Grad.Data(), want)
			}
		}
	}
	w.ZeroGrad()
	ng := NoGrad()
	y := ng.Sum(ng.Mul(w, x), false)
	if ng.Len() != 0 || y.RequiresGrad() {
		t.Fatalf("NoGrad tape recorded %d ops", ng.Len())
	}
	if err := ng.Backward(y); err == nil {
		t.Fatal("Backward on a NoGrad tape must fail")
	}
	if got := y.Value.Item(); got != 32 {
		t.Fatalf("NoGrad value %v, want 32", got)
	}
}

func TestBackwardErrors(t *testing.T) {
	tp := NewTape()
	w := Param(rnd(1, 2, 2), "w")
	if err := tp.Backward(tp.Mul(w, w)); err == nil {
		t.Fatal("non-scalar loss accepted")
	}
	c := Const(rnd(1, 2))
	if err := tp.Backward(tp.Sum(c, false)); err == nil {
		t.Fatal("loss without parameters accepted")
	}
	nan := tp.Sum(tp.Log(tp.MulScalar(Param(tensor.Full(1, 2), "p"), -1)), false)
	if err := tp.Backward(nan); err == nil {
		t.Fatal("NaN loss accepted")
	}
}

func TestShapeErrorIsCaught(t *testing.T) {
	err := tensor.Catch(func() {
		tp := NewTape()
		tp.MatMul(Const(rnd(1, 2, 3)), Const(rnd(2, 4, 5)))
	})
	if err == nil || !contains(err.Error(), "[2 3]") || !contains(err.Error(), "[4 5]") {
		t.Fatalf("want a shape error naming both shapes, got %v", err)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
