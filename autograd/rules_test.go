package autograd

import (
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/tensor"
)

func TestStrictRuleNamesTheOperationItDoesNotCover(t *testing.T) {
	x := Input(tensor.MustFromSlice([]float32{0.5, -1, 2}, 1, 3))
	w := Param(tensor.MustFromSlice([]float32{1, 2, 3}, 3, 1), "w")
	tp := NewTape()
	tp.SetRule(&Rule{Name: "test", Strict: true})
	// An operation on the weights alone is not the rule's business; the
	// exp of an activation is.
	y := tp.MatMul(tp.Exp(x), tp.Square(w))
	err := tp.Backward(tp.Sum(y, false))
	if err == nil || !strings.Contains(err.Error(), "exp") || strings.Contains(err.Error(), "square") {
		t.Fatalf("err = %v, want one naming exp (not square)", err)
	}
	// Without Strict the ordinary gradient passes: e^x ⊙ w².
	tp = NewTape()
	tp.SetRule(&Rule{Name: "test"})
	x.ZeroGrad()
	if err := tp.Backward(tp.Sum(tp.MatMul(tp.Exp(x), tp.Square(w)), false)); err != nil {
		t.Fatal(err)
	}
	e := tensor.Exp(x.Value).Data()
	for i, want := range []float32{e[0] * 1, e[1] * 4, e[2] * 9} {
		if got := x.Grad.Data()[i]; got != want {
			t.Errorf("grad[%d] = %v, want %v", i, got, want)
		}
	}
}

func TestRuleSeesTheReLUOfAFusedConvolution(t *testing.T) {
	x := Input(tensor.MustFromSlice([]float32{1, -2, 3, -4}, 1, 1, 2, 2))
	w := Param(tensor.MustFromSlice([]float32{1}, 1, 1, 1, 1), "w")
	var kinds []string
	tp := NewTape()
	tp.SetRule(&Rule{Name: "test",
		Activation: func(kind string, _, _, _, grad *tensor.Tensor) *tensor.Tensor {
			kinds = append(kinds, kind)
			return grad
		},
		Linear: func(op *LinearOp, g *tensor.Tensor) *tensor.Tensor {
			kinds = append(kinds, op.Kind)
			return op.Backward(op.W, g)
		}})
	y := tp.Conv2DReLU(x, w, nil, tensor.ConvParams{StrideH: 1, StrideW: 1})
	if err := tp.Backward(tp.Sum(y, false)); err != nil {
		t.Fatal(err)
	}
	if strings.Join(kinds, " ") != "relu conv2d" {
		t.Errorf("the rule saw %v, want the ReLU then the convolution", kinds)
	}
	for i, want := range []float32{1, 0, 1, 0} {
		if got := x.Grad.Data()[i]; got != want {
			t.Errorf("grad[%d] = %v, want %v", i, got, want)
		}
	}
}
