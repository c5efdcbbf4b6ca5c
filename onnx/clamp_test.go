package onnx

import (
	"math"
	"testing"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
)

// TestClampGrad checks the branch-free clamp gradient against its
// definition (g where lo ≤ v ≤ hi, else 0) on the edges: the bounds
// themselves, signed zeros, infinities (as values and as bounds), NaN and
// crossed bounds.
func TestClampGrad(t *testing.T) {
	inf, nan, negz := float32(math.Inf(1)), float32(math.NaN()), float32(math.Copysign(0, -1))
	vals := []float32{-7, -1e-30, negz, 0, 1e-30, 3, 6, 6.000001, 1e30, inf, -inf, nan, math.MaxFloat32, -math.MaxFloat32}
	bounds := [][2]float32{{0, 6}, {negz, 6}, {-1, 1}, {-inf, 6}, {0, inf}, {-inf, inf}, {2, 1}, {6, 6}, {-math.MaxFloat32, math.MaxFloat32}}
	for _, b := range bounds {
		for _, v := range vals {
			want := float32(0)
			if v >= b[0] && v <= b[1] {
				want = 2.5
			}
			if got := clampGrad(v, b[0], b[1], 2.5); got != want {
				t.Errorf("clampGrad(%v, [%v, %v]) = %v, want %v", v, b[0], b[1], got, want)
			}
		}
	}
}

// TestClampVar checks values and gradient of the recorded clamp on a
// tensor long enough to be split across cores.
func TestClampVar(t *testing.T) {
	x := tensor.RandN(tensor.NewRNG(9), 0, 4, 3, 20000)
	tp := autograd.NewTape()
	xv := autograd.Input(x)
	y := clampVar(tp, xv, 0, 6)
	g := tensor.RandN(tensor.NewRNG(10), 0, 1, 3, 20000)
	if err := tp.Backward(tp.Sum(tp.Mul(y, autograd.Const(g)), false)); err != nil {
		t.Fatal(err)
	}
	for i, v := range x.Data() {
		want, wg := v, g.Data()[i]
		if v < 0 {
			want, wg = 0, 0
		} else if v > 6 {
			want, wg = 6, 0
		}
		if y.Value.Data()[i] != want || xv.Grad.Data()[i] != wg {
			t.Fatalf("x = %v: clamp %v, gradient %v; want %v, %v", v, y.Value.Data()[i], xv.Grad.Data()[i], want, wg)
		}
	}
}
