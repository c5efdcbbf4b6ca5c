package nn

import (
	"fmt"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
)

func TestFlatten(t *testing.T) {
	x := tensor.Arange(0, 1, 24).Reshape(2, 3, 2, 2)
	y, err := Predict(NewFlatten(), x)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(y.Shape()) != "[2 12]" || y.At(1, 0) != 12 || y.At(0, 11) != 11 {
		t.Fatalf("flatten gave %v %v", y.Shape(), y)
	}
	err = autograd.GradCheck(func(tp *autograd.Tape, v []*autograd.Var) *autograd.Var {
		return NewFlatten().Forward(&Ctx{Tape: tp}, v[0])
	}, []*tensor.Tensor{tensor.RandN(tensor.NewRNG(1), 0, 1, 2, 3, 2)}, 1e-2, 2e-2, 2e-3)
	if err != nil {
		t.Fatal(err)
	}
	f := NewFlatten()
	f.SetName("flat")
	if _, err := Apply(f, Eval(), tensor.New(784)); err == nil || !strings.Contains(err.Error(), `flatten "flat": input must be [batch, features...] with at least 2 axes, got [784]`) {
		t.Fatalf("rank-1 input: %v", err)
	}
	specRoundTrip(t, f)
}
