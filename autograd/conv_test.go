package autograd

import (
	"fmt"
	"testing"

	"github.com/glassbox-ml/glassbox/tensor"
)

const (
	convEps  = 1e-2
	convRtol = 2e-2
	convAtol = 2e-3
)

func TestConv2DGradCheck(t *testing.T) {
	for _, tc := range []struct {
		name   string
		x, w   []int
		p      tensor.ConvParams
		noBias bool
	}{
		{"stride2 pad1", []int{2, 2, 5, 6}, []int{3, 2, 3, 3}, tensor.ConvParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}, false},
		{"non-square stride", []int{1, 3, 6, 5}, []int{2, 3, 2, 3}, tensor.ConvParams{StrideH: 1, StrideW: 2, PadW: 1}, false},
		{"groups2", []int{2, 4, 4, 4}, []int{4, 2, 3, 3}, tensor.ConvParams{PadH: 1, PadW: 1, Groups: 2}, false},
		{"1x1 no bias", []int{3, 3, 3, 3}, []int{2, 3, 1, 1}, tensor.ConvParams{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := tensor.NewRNG(11)
			x := tensor.RandN(rng, 0, 1, tc.x...)
			w := tensor.RandN(rng, 0, 1, tc.w...)
			b := tensor.RandN(rng, 0, 1, tc.w[0])
			err := GradCheck(func(tp *Tape, v []*Var) *Var {
				var bias *Var
				if !tc.noBias {
					bias = v[2]
				}
				return tp.Conv2D(v[0], v[1], bias, tc.p)
			}, []*tensor.Tensor{x, w, b}, convEps, convRtol, convAtol)
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestConv2DInputGradientOnly is the saliency case: only the input wants a
// gradient; the weights are constants and get none.
func TestConv2DInputGradientOnly(t *testing.T) {
	rng := tensor.NewRNG(2)
	x := Input(tensor.RandN(rng, 0, 1, 1, 1, 5, 5))
	w := Const(tensor.RandN(rng, 0, 1, 2, 1, 3, 3))
	tp := NewTape()
	y := tp.Conv2D(x, w, nil, tensor.ConvParams{PadH: 1, PadW: 1})
	if err := tp.Backward(tp.Sum(y, false)); err != nil {
		t.Fatal(err)
	}
	if x.Grad == nil || w.Grad != nil {
		t.Fatalf("x.Grad %v, w.Grad %v: want only the input gradient", x.Grad, w.Grad)
	}
	// d Σy / dx at the centre pixel is the sum of all kernel taps (every
	// tap sees the centre once).
	want := tensor.Sum(w.Value, false).Item()
	if got := x.Grad.At(0, 0, 2, 2); got-want > 1e-5 || want-got > 1e-5 {
		t.Fatalf("centre gradient %v, want %v", got, want)
	}
	// With a parameter weight and a constant input, no input gradient is
	// computed.
	xc := Const(x.Value)
	wp := Param(w.Value.Clone(), "w")
	tp = NewTape()
	if err := tp.Backward(tp.Sum(tp.Conv2D(xc, wp, nil, tensor.ConvParams{}), false)); err != nil {
		t.Fatal(err)
	}
	if xc.Grad != nil || wp.Grad == nil {
		t.Fatal("constant input got a gradient or the weight did not")
	}
}

// distinct returns a tensor holding a random permutation of 0, 0.1, 0.2, …
// so every pooling window has a unique maximum far from its runner-up
// (finite differences of a max are only defined then).
func distinct(seed uint64, shape ...int) *tensor.Tensor {
	n := tensor.Numel(shape)
	perm := tensor.NewRNG(seed).Perm(n)
	d := make([]float32, n)
	for i, p := range perm {
		d[i] = 0.1 * float32(p)
	}
	return tensor.MustFromSlice(d, shape...)
}

func TestPoolGradCheck(t *testing.T) {
	for _, tc := range []struct {
		name  string
		shape []int
		p     tensor.PoolParams
	}{
		{"2x2", []int{2, 2, 4, 6}, tensor.PoolParams{KH: 2, KW: 2}},
		{"3x3 stride2 pad1", []int{1, 2, 5, 5}, tensor.PoolParams{KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}},
		{"overlapping", []int{2, 1, 4, 5}, tensor.PoolParams{KH: 2, KW: 3, StrideH: 1, StrideW: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := distinct(3, tc.shape...)
			if err := GradCheck(func(tp *Tape, v []*Var) *Var { return tp.MaxPool2D(v[0], tc.p) },
				[]*tensor.Tensor{x}, convEps, convRtol, convAtol); err != nil {
				t.Fatalf("max: %v", err)
			}
			if err := GradCheck(func(tp *Tape, v []*Var) *Var { return tp.AvgPool2D(v[0], tc.p) },
				[]*tensor.Tensor{x}, convEps, convRtol, convAtol); err != nil {
				t.Fatalf("avg: %v", err)
			}
		})
	}
	x := tensor.RandN(tensor.NewRNG(4), 0, 1, 2, 3, 3, 4)
	if err := GradCheck(func(tp *Tape, v []*Var) *Var { return tp.GlobalAvgPool2D(v[0]) },
		[]*tensor.Tensor{x}, convEps, convRtol, convAtol); err != nil {
		t.Fatalf("global avg: %v", err)
	}
}

// TestConvPoolChainGradCheck checks a small CNN block end to end:
// conv → ReLU → max-pool → global average.
func TestConvPoolChainGradCheck(t *testing.T) {
	rng := tensor.NewRNG(9)
	x := tensor.RandN(rng, 0, 1, 2, 2, 6, 6)
	w := tensor.RandN(rng, 0, 0.5, 3, 2, 3, 3)
	b := tensor.RandN(rng, 0, 0.1, 3)
	err := GradCheck(func(tp *Tape, v []*Var) *Var {
		h := tp.Conv2D(v[0], v[1], v[2], tensor.ConvParams{PadH: 1, PadW: 1})
		h = tp.AvgPool2D(tp.Tanh(h), tensor.PoolParams{KH: 2, KW: 2})
		return tp.GlobalAvgPool2D(h)
	}, []*tensor.Tensor{x, w, b}, convEps, convRtol, convAtol)
	if err != nil {
		t.Fatal(err)
	}
}

// The gradient of a convolution's output with respect to its input, as a
// saliency map needs it: with a 2×2 box filter on a 3×3 image, the centre
// pixel feeds all four outputs and each corner only one.
func ExampleTape_Conv2D() {
	x := Input(tensor.Ones(1, 1, 3, 3))
	w := Const(tensor.Ones(1, 1, 2, 2))
	tp := NewTape()
	y := tp.Conv2D(x, w, nil, tensor.ConvParams{})
	if err := tp.Backward(tp.Sum(y, false)); err != nil {
		panic(err)
	}
	fmt.Println(y.Value.Data(), x.Grad.Data())
	// Output: [4 4 4 4] [1 2 1 2 4 2 1 2 1]
}

// TestConv2DReLUMatchesComposition: the fused op gives the values and
// gradients of ReLU(Conv2D) in every lowering (wide stride-1 over several
// blocks, rows written in place, im2col with stride, grouped, 1×1
// direct), with or without an input gradient.
func TestConv2DReLUMatchesComposition(t *testing.T) {
	for _, tc := range []struct {
		name string
		x, w []int
		p    tensor.ConvParams
	}{
		{"wide batch", []int{20, 3, 9, 7}, []int{5, 3, 3, 3}, tensor.ConvParams{PadH: 1, PadW: 1}},
		{"stride2 pad1", []int{3, 2, 5, 6}, []int{3, 2, 3, 3}, tensor.ConvParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}},
		{"groups2", []int{2, 4, 4, 4}, []int{4, 2, 3, 3}, tensor.ConvParams{PadH: 1, PadW: 1, Groups: 2}},
		{"1x1", []int{3, 3, 3, 3}, []int{2, 3, 1, 1}, tensor.ConvParams{}},
		// Rows that fill 32-column tiles: written in place with AVX-512.
		{"in-place rows", []int{4, 1, 6, 28}, []int{6, 1, 5, 5}, tensor.ConvParams{PadH: 2, PadW: 2}},
	} {
		for _, inputGrad := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/dx=%v", tc.name, inputGrad), func(t *testing.T) {
				rng := tensor.NewRNG(5)
				xs := tensor.RandN(rng, 0, 1, tc.x...)
				ws := tensor.RandN(rng, 0, 1, tc.w...)
				bs := tensor.RandN(rng, 0, 1, tc.w[0])
				gy := tensor.RandN(rng, 0, 1, tc.x[0], tc.w[0], 1, 1) // broadcast weights for the loss
				run := func(fused bool) (y *tensor.Tensor, grads []*tensor.Tensor) {
					tp := NewTape()
					x, w, b := Const(xs), Param(ws.Clone(), "w"), Param(bs.Clone(), "b")
					if inputGrad {
						x = Input(xs)
					}
					var out *Var
					if fused {
						out = tp.Conv2DReLU(x, w, b, tc.p)
					} else {
						out = tp.ReLU(tp.Conv2D(x, w, b, tc.p))
					}
					if err := tp.Backward(tp.Sum(tp.Mul(out, Const(gy)), false)); err != nil {
						t.Fatal(err)
					}
					grads = []*tensor.Tensor{w.Grad, b.Grad}
					if inputGrad {
						grads = append(grads, x.Grad)
					}
					return out.Value, grads
				}
				y0, g0 := run(false)
				y1, g1 := run(true)
				if !tensor.AllClose(y0, y1, 0, 0) {
					t.Fatal("fused forward differs from ReLU(Conv2D)")
				}
				zeros := 0
				for _, v := range y1.Data() {
					if v == 0 {
						zeros++
					}
				}
				if zeros == 0 || zeros == y1.Len() {
					t.Fatalf("%d of %d outputs are zero: the case does not exercise the mask", zeros, y1.Len())
				}
				for i := range g0 {
					if !tensor.AllClose(g0[i], g1[i], 1e-5, 1e-5) {
						t.Fatalf("gradient %d differs: %v vs %v", i, g0[i].Data()[:4], g1[i].Data()[:4])
					}
				}
			})
		}
	}
}

// TestConv2DReLUGradCheck checks the fused op against finite differences
// on inputs that keep every pre-activation well away from the kink: the
// first filter's bias makes its outputs positive, the second's negative.
func TestConv2DReLUGradCheck(t *testing.T) {
	rng := tensor.NewRNG(3)
	x := tensor.RandU(rng, 0.5, 1, 2, 2, 5, 5)
	w := tensor.RandU(rng, 0.1, 0.3, 2, 2, 3, 3)
	b := tensor.New(2)
	b.Data()[0], b.Data()[1] = 0.5, -10
	err := GradCheck(func(tp *Tape, v []*Var) *Var {
		return tp.Conv2DReLU(v[0], v[1], v[2], tensor.ConvParams{StrideH: 1, StrideW: 1})
	}, []*tensor.Tensor{x, w, b}, convEps, convRtol, convAtol)
	if err != nil {
		t.Fatal(err)
	}
}

// TestFreezeSkipsParameterGradients: with the filters and bias frozen,
// a convolution's backward gives the same input gradient, bit for bit,
// without computing or storing any parameter gradient; thawing restores
// the parameters' gradients.
func TestFreezeSkipsParameterGradients(t *testing.T) {
	rng := tensor.NewRNG(8)
	xs := tensor.RandN(rng, 0, 1, 3, 2, 9, 9)
	w := Param(tensor.RandN(rng, 0, 1, 4, 2, 3, 3), "w")
	b := Param(tensor.RandN(rng, 0, 1, 4), "b")
	p := tensor.ConvParams{PadH: 1, PadW: 1}
	inputGrad := func(relu bool) *tensor.Tensor {
		tp := NewTape()
		x := Input(xs)
		var y *Var
		if relu {
			y = tp.Conv2DReLU(x, w, b, p)
		} else {
			y = tp.Conv2D(x, w, b, p)
		}
		if err := tp.Backward(tp.Sum(tp.Mul(y, y), false)); err != nil {
			t.Fatal(err)
		}
		return x.Grad
	}
	for _, relu := range []bool{false, true} {
		w.ZeroGrad()
		b.ZeroGrad()
		want := inputGrad(relu)
		if w.Grad == nil || b.Grad == nil {
			t.Fatal("unfrozen parameters got no gradient")
		}
		w.ZeroGrad()
		b.ZeroGrad()
		thaw := Freeze([]*Var{w, b})
		got := inputGrad(relu)
		if w.Grad != nil || b.Grad != nil || w.RequiresGrad() {
			t.Fatal("frozen parameters took a gradient")
		}
		thaw()
		if !w.RequiresGrad() || !b.RequiresGrad() {
			t.Fatal("thaw did not restore the parameters")
		}
		if !tensor.AllClose(got, want, 0, 0) {
			t.Fatalf("relu=%v: input gradient with frozen parameters differs", relu)
		}
	}
}

// Frozen filters on a recording tape (an explanation) run the convolution
// with exact sums (tensor.ConvParams.Exact), trainable ones and those of a
// prediction (a tape that does not record) with the fast algorithms: on a
// layer Winograd takes (3×3 "same", 16 channels), the frozen forward and
// input gradient are those of the Exact call, bit for bit, and the
// trainable forward and the prediction that of the plain call.
func TestFrozenConvolutionIsExact(t *testing.T) {
	rng := tensor.NewRNG(9)
	xs := tensor.RandN(rng, 0, 1, 2, 16, 16, 16)
	w := Param(tensor.RandN(rng, 0, 0.2, 16, 16, 3, 3), "w")
	b := Param(tensor.RandN(rng, 0, 1, 16), "b")
	p := tensor.ConvParams{PadH: 1, PadW: 1}
	exact := p
	exact.Exact = true
	for _, relu := range []bool{false, true} {
		run := func() (y, dx *tensor.Tensor) {
			tp := NewTape()
			x := Input(xs)
			var v *Var
			if relu {
				v = tp.Conv2DReLU(x, w, b, p)
			} else {
				v = tp.Conv2D(x, w, b, p)
			}
			if err := tp.Backward(tp.Sum(v, false)); err != nil {
				t.Fatal(err)
			}
			return v.Value, x.Grad
		}
		plain := tensor.Conv2D(xs, w.Value, b.Value, p)
		want := tensor.Conv2D(xs, w.Value, b.Value, exact)
		if relu {
			plain = tensor.Conv2DReLU(xs, w.Value, b.Value, p)
			want = tensor.Conv2DReLU(xs, w.Value, b.Value, exact)
		}
		y, _ := run()
		if !tensor.AllClose(y, plain, 0, 0) {
			t.Fatalf("relu=%v: a trainable layer's forward is not the plain call's", relu)
		}
		thaw := Freeze([]*Var{w, b})
		y, dx := run()
		thaw()
		if !tensor.AllClose(y, want, 0, 0) {
			t.Fatalf("relu=%v: a frozen layer's forward is not the exact sums'", relu)
		}
		var mask *tensor.Tensor
		if relu {
			mask = want
		}
		if wantDX := tensor.Conv2DInputGrad(xs, w.Value, mask, tensor.Ones(want.Shape()...), exact); !tensor.AllClose(dx, wantDX, 0, 0) {
			t.Fatalf("relu=%v: a frozen layer's input gradient is not the exact sums'", relu)
		}
		// A tape that does not record (a prediction) takes no gradient
		// through the layer: frozen or not, it keeps the fast algorithms.
		thaw = Freeze([]*Var{w, b})
		ng := NoGrad()
		if relu {
			y = ng.Conv2DReLU(Const(xs), w, b, p).Value
		} else {
			y = ng.Conv2D(Const(xs), w, b, p).Value
		}
		thaw()
		if !tensor.AllClose(y, plain, 0, 0) {
			t.Fatalf("relu=%v: a frozen layer's prediction is not the plain call's", relu)
		}
	}
}
