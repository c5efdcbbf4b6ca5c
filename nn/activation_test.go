package nn_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/nn/layertest"
	"github.com/glassbox-ml/glassbox/tensor"
)

func TestActivationsConform(t *testing.T) {
	layers := map[string]func() nn.Module{
		"relu":       func() nn.Module { return nn.NewReLU() },
		"leaky_relu": func() nn.Module { return nn.NewLeakyReLU(0.1) },
		"sigmoid":    func() nn.Module { return nn.NewSigmoid() },
		"tanh":       func() nn.Module { return nn.NewTanh() },
		"gelu":       func() nn.Module { return nn.NewGELU() },
		"softmax":    func() nn.Module { return nn.NewSoftmax() },
	}
	for name, mk := range layers {
		t.Run(name, func(t *testing.T) {
			layertest.Run(t, func(*rand.Rand) nn.Module { return mk() }, []int{3, 2, 4})
		})
	}
}

func TestActivationKnownValues(t *testing.T) {
	x := tensor.MustFromSlice([]float32{-2, -0.5, 0, 1, 3}, 1, 5)
	phi := func(v float64) float64 { return 0.5 * (1 + math.Erf(v/math.Sqrt2)) }
	cases := []struct {
		m nn.Module
		f func(float64) float64
	}{
		{nn.NewReLU(), func(v float64) float64 { return math.Max(v, 0) }},
		{nn.NewLeakyReLU(0.2), func(v float64) float64 {
			if v > 0 {
				return v
			}
			return 0.2 * v
		}},
		{nn.NewSigmoid(), func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }},
		{nn.NewTanh(), math.Tanh},
		{nn.NewGELU(), func(v float64) float64 { return v * phi(v) }},
	}
	for _, c := range cases {
		y, err := nn.Predict(c.m, x)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range x.Data() {
			if want := c.f(float64(v)); math.Abs(float64(y.Data()[i])-want) > 1e-6 {
				t.Errorf("%s(%v) = %v, want %v", c.m.Spec().Type, v, y.Data()[i], want)
			}
		}
	}
	// Softmax over the last axis: rows sum to 1, order kept, and shifting a
	// row does not change it.
	z := tensor.MustFromSlice([]float32{1, 2, 3, 1001, 1002, 1003}, 2, 3)
	p, _ := nn.Predict(nn.NewSoftmax(), z)
	e := []float64{math.Exp(-2), math.Exp(-1), 1}
	s := e[0] + e[1] + e[2]
	for r := 0; r < 2; r++ {
		for k := 0; k < 3; k++ {
			if got := float64(p.At(r, k)); math.Abs(got-e[k]/s) > 1e-6 {
				t.Fatalf("softmax[%d][%d] = %v, want %v", r, k, got, e[k]/s)
			}
		}
	}
}
