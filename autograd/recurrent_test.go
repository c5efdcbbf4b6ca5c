package autograd

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/tensor"
)

// TestRecurrentActivations: the slice helpers the cells use are the
// float32 approximations behind tensor.TanhSlice and tensor.SigmoidSlice
// (whose accuracy the kernel tests check over the whole range), in place or not.
func TestRecurrentActivations(t *testing.T) {
	d := []float32{-1, 0.5, 3}
	sigmoidSlice(d, d)
	want := []float64{1 / (1 + math.Exp(1)), 1 / (1 + math.Exp(-0.5)), 1 / (1 + math.Exp(-3))}
	for i := range d {
		if math.Abs(float64(d[i])-want[i]) > 3e-7 {
			t.Errorf("sigmoid: got %v, want %v", d, want)
		}
	}
	tanhSlice(d[:1], []float32{2})
	if math.Abs(float64(d[0])-math.Tanh(2)) > 4e-7 {
		t.Errorf("tanh(2) = %v", d[0])
	}
}

const (
	gcEps  = 1e-2
	gcRtol = 2e-2
	gcAtol = 2e-3
)

func TestRecurrentCellGradients(t *testing.T) {
	const b, h = 3, 4
	cases := []struct {
		name   string
		inputs []*tensor.Tensor
		f      func(tp *Tape, x []*Var) *Var
	}{
		{"lstm_cell/h_and_c", []*tensor.Tensor{rnd(1, b, 4*h), rnd(2, b, h)}, func(tp *Tape, x []*Var) *Var {
			hv, cv := tp.LSTMCell(x[0], x[1])
			return tp.Concat(1, hv, cv)
		}},
		{"lstm_cell/only_c", []*tensor.Tensor{rnd(3, b, 4*h), rnd(4, b, h)}, func(tp *Tape, x []*Var) *Var {
			_, cv := tp.LSTMCell(x[0], x[1])
			return cv
		}},
		{"lstm_cell/zero_state", []*tensor.Tensor{rnd(5, b, 4*h)}, func(tp *Tape, x []*Var) *Var {
			hv, _ := tp.LSTMCell(x[0], nil)
			return hv
		}},
		{"lstm_cell/two_steps", []*tensor.Tensor{rnd(6, b, 4*h), rnd(7, b, 4*h), rnd(8, h, 4*h)}, func(tp *Tape, x []*Var) *Var {
			h1, c1 := tp.LSTMCell(x[0], nil)
			h2, c2 := tp.LSTMCell(tp.Add(x[1], tp.MatMul(h1, x[2])), c1)
			return tp.Concat(1, h2, c2)
		}},
		{"gru_cell", []*tensor.Tensor{rnd(9, b, 3*h), rnd(10, b, 3*h), rnd(11, b, h)}, func(tp *Tape, x []*Var) *Var {
			return tp.GRUCell(x[0], x[1], x[2])
		}},
		{"gru_cell/zero_state", []*tensor.Tensor{rnd(12, b, 3*h), rnd(13, b, 3*h)}, func(tp *Tape, x []*Var) *Var {
			return tp.GRUCell(x[0], x[1], nil)
		}},
		{"rnn_cell", []*tensor.Tensor{rnd(14, b, h), rnd(15, b, h)}, func(tp *Tape, x []*Var) *Var {
			return tp.RNNCell(x[0], x[1])
		}},
		{"rnn_cell/no_state", []*tensor.Tensor{rnd(16, b, h)}, func(tp *Tape, x []*Var) *Var {
			return tp.RNNCell(x[0], nil)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := GradCheck(c.f, c.inputs, gcEps, gcRtol, gcAtol); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestLSTMCellKnownValues checks the cell against the formulas evaluated in
// float64 by hand.
func TestLSTMCellKnownValues(t *testing.T) {
	gates := tensor.MustFromSlice([]float32{0.5, -1, 2, 0.25}, 1, 4) // H = 1: i, f, g, o
	cPrev := tensor.MustFromSlice([]float32{0.3}, 1, 1)
	hv, cv := NoGrad().LSTMCell(Const(gates), Const(cPrev))
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	c := sig(-1)*0.3 + sig(0.5)*math.Tanh(2)
	h := sig(0.25) * math.Tanh(c)
	if math.Abs(float64(cv.Value.Item())-c) > 1e-6 || math.Abs(float64(hv.Value.Item())-h) > 1e-6 {
		t.Fatalf("LSTMCell: h, c = %v, %v; want %v, %v", hv.Value.Item(), cv.Value.Item(), h, c)
	}
	// GRU: r, z, n gates with h_n inside the reset product.
	xg := tensor.MustFromSlice([]float32{0.1, -0.2, 0.3}, 1, 3)
	hg := tensor.MustFromSlice([]float32{0.4, 0.5, -0.6}, 1, 3)
	hp := tensor.MustFromSlice([]float32{0.7}, 1, 1)
	got := NoGrad().GRUCell(Const(xg), Const(hg), Const(hp)).Value.Item()
	r, z := sig(0.1+0.4), sig(-0.2+0.5)
	n := math.Tanh(0.3 + r*-0.6)
	want := (1-z)*n + z*0.7
	if math.Abs(float64(got)-want) > 1e-6 {
		t.Fatalf("GRUCell: h = %v, want %v", got, want)
	}
}

// seqInputs returns xproj, whh, bias, h0, c0 for a sequence op with the
// given number of gates.
func seqInputs(seed uint64, gates, b, steps, h int) []*tensor.Tensor {
	return []*tensor.Tensor{
		rnd(seed, b, steps, gates*h),
		tensor.MulScalar(rnd(seed+1, h, gates*h), 0.5),
		rnd(seed+2, gates*h),
		rnd(seed+3, b, h),
		rnd(seed+4, b, h),
	}
}

// flatSeq joins hs and final states into one [B, ·] output so GradCheck
// covers every output's gradient path.
func flatSeq(tp *Tape, hs *Var, finals ...*Var) *Var {
	sh := hs.Value.Shape()
	return tp.Concat(1, append([]*Var{tp.Reshape(hs, sh[0], sh[1]*sh[2])}, finals...)...)
}

func TestRecurrentSeqGradients(t *testing.T) {
	const b, steps, h = 2, 4, 3
	cases := []struct {
		name   string
		inputs []*tensor.Tensor
		f      func(tp *Tape, x []*Var) *Var
	}{
		{"lstm_seq", seqInputs(20, 4, b, steps, h), func(tp *Tape, x []*Var) *Var {
			hs, hT, cT := tp.LSTMSeq(x[0], x[1], x[2], x[3], x[4])
			return flatSeq(tp, hs, hT, cT)
		}},
		{"lstm_seq/zero_state_no_bias", seqInputs(30, 4, b, steps, h)[:2], func(tp *Tape, x []*Var) *Var {
			hs, _, _ := tp.LSTMSeq(x[0], x[1], nil, nil, nil)
			return hs
		}},
		{"lstm_seq/only_final_state", seqInputs(35, 4, b, steps, h), func(tp *Tape, x []*Var) *Var {
			_, hT, cT := tp.LSTMSeq(x[0], x[1], x[2], x[3], x[4])
			return tp.Concat(1, hT, cT)
		}},
		{"gru_seq", append(seqInputs(40, 3, b, steps, h)[:4], rnd(45, 3*h)), func(tp *Tape, x []*Var) *Var {
			hs, hT := tp.GRUSeq(x[0], x[1], x[2], x[4], x[3])
			return flatSeq(tp, hs, hT)
		}},
		{"gru_seq/zero_state", seqInputs(50, 3, b, steps, h)[:3], func(tp *Tape, x []*Var) *Var {
			hs, _ := tp.GRUSeq(x[0], x[1], nil, x[2], nil)
			return hs
		}},
		{"rnn_seq", seqInputs(60, 1, b, steps, h)[:4], func(tp *Tape, x []*Var) *Var {
			hs, hT := tp.RNNSeq(x[0], x[1], x[2], x[3])
			return flatSeq(tp, hs, hT)
		}},
		{"rnn_seq/only_final", seqInputs(70, 1, b, steps, h)[:2], func(tp *Tape, x []*Var) *Var {
			_, hT := tp.RNNSeq(x[0], x[1], nil, nil)
			return hT
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := GradCheck(c.f, c.inputs, gcEps, gcRtol, gcAtol); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// gradsOf runs f on fresh Inputs, back-propagates Σ r⊙y and returns the
// output value and each input's gradient.
func gradsOf(t *testing.T, f func(tp *Tape, x []*Var) *Var, inputs []*tensor.Tensor) (*tensor.Tensor, []*tensor.Tensor) {
	t.Helper()
	tp := NewTape()
	vars := make([]*Var, len(inputs))
	for i, x := range inputs {
		vars[i] = Input(x.Clone())
	}
	y := f(tp, vars)
	r := tensor.RandU(tensor.NewRNG(99), -1, 1, y.Value.Shape()...)
	if err := tp.Backward(tp.Sum(tp.Mul(y, Const(r)), false)); err != nil {
		t.Fatal(err)
	}
	gs := make([]*tensor.Tensor, len(vars))
	for i, v := range vars {
		gs[i] = v.Grad
	}
	return y.Value, gs
}

// TestSeqOpsMatchCellLoops checks each sequence op against the same
// recurrence written step by step with MatMul, Slice and the cell ops, in
// values and in every gradient, at a size where the row kernels run in
// parallel.
func TestSeqOpsMatchCellLoops(t *testing.T) {
	const b, steps, h = 5, 6, 40
	step := func(tp *Tape, xproj *Var, t int) *Var {
		sh := xproj.Value.Shape()
		return tp.Reshape(tp.Slice(xproj, 1, t, t+1), sh[0], sh[2])
	}
	cases := []struct {
		name       string
		inputs     []*tensor.Tensor
		fused, ref func(tp *Tape, x []*Var) *Var
	}{
		{"lstm", seqInputs(80, 4, b, steps, h), func(tp *Tape, x []*Var) *Var {
			hs, hT, cT := tp.LSTMSeq(x[0], x[1], x[2], x[3], x[4])
			return flatSeq(tp, hs, hT, cT)
		}, func(tp *Tape, x []*Var) *Var {
			hv, cv := x[3], x[4]
			var outs []*Var
			for t := 0; t < steps; t++ {
				g := tp.Add(tp.Add(step(tp, x[0], t), tp.MatMul(hv, x[1])), x[2])
				hv, cv = tp.LSTMCell(g, cv)
				outs = append(outs, hv)
			}
			return tp.Concat(1, append(outs, hv, cv)...)
		}},
		{"gru", append(seqInputs(90, 3, b, steps, h)[:4], rnd(95, 3*h)), func(tp *Tape, x []*Var) *Var {
			hs, hT := tp.GRUSeq(x[0], x[1], x[2], x[4], x[3])
			return flatSeq(tp, hs, hT)
		}, func(tp *Tape, x []*Var) *Var {
			hv := x[3]
			var outs []*Var
			for t := 0; t < steps; t++ {
				hv = tp.GRUCell(tp.Add(step(tp, x[0], t), x[2]), tp.Add(tp.MatMul(hv, x[1]), x[4]), hv)
				outs = append(outs, hv)
			}
			return tp.Concat(1, append(outs, hv)...)
		}},
		{"rnn", seqInputs(100, 1, b, steps, h)[:4], func(tp *Tape, x []*Var) *Var {
			hs, hT := tp.RNNSeq(x[0], x[1], x[2], x[3])
			return flatSeq(tp, hs, hT)
		}, func(tp *Tape, x []*Var) *Var {
			hv := x[3]
			var outs []*Var
			for t := 0; t < steps; t++ {
				hv = tp.RNNCell(tp.Add(step(tp, x[0], t), x[2]), tp.MatMul(hv, x[1]))
				outs = append(outs, hv)
			}
			return tp.Concat(1, append(outs, hv)...)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			yf, gf := gradsOf(t, c.fused, c.inputs)
			yr, gr := gradsOf(t, c.ref, c.inputs)
			if !tensor.AllClose(yf, yr, 1e-5, 1e-5) {
				t.Fatalf("values differ: fused %v, reference %v", yf, yr)
			}
			for i := range gf {
				if gf[i] == nil || gr[i] == nil || !tensor.AllClose(gf[i], gr[i], 1e-4, 1e-4) {
					t.Fatalf("gradient of input %d differs: fused %v, reference %v", i, gf[i], gr[i])
				}
			}
			// Inference keeps only the last steps' state; values must not change.
			ins := make([]*Var, len(c.inputs))
			for i, x := range c.inputs {
				ins[i] = Const(x)
			}
			if yn := c.fused(NoGrad(), ins).Value; !tensor.AllClose(yn, yf, 0, 0) {
				t.Fatalf("NoGrad values differ from the recorded run")
			}
		})
	}
}

func TestRecurrentOpsRejectBadShapes(t *testing.T) {
	x := func(shape ...int) *Var { return Const(tensor.New(shape...)) }
	cases := []struct {
		name, want string
		f          func()
	}{
		{"lstm_cell/gates", "want [batch, 4·hidden]", func() { NewTape().LSTMCell(x(2, 7), nil) }},
		{"lstm_cell/cPrev", "cPrev has shape [2 3]", func() { NewTape().LSTMCell(x(2, 8), x(2, 3)) }},
		{"gru_cell/hg", "hg has shape", func() { NewTape().GRUCell(x(2, 6), x(2, 9), nil) }},
		{"rnn_cell/rank", "want [batch, hidden]", func() { NewTape().RNNCell(x(2, 3, 4), nil) }},
		{"lstm_seq/whh", "whh has shape [3 8]", func() { NewTape().LSTMSeq(x(2, 5, 12), x(3, 8), nil, nil, nil) }},
		{"lstm_seq/xproj", "xproj has shape [2 5 8]", func() { NewTape().LSTMSeq(x(2, 5, 8), x(3, 12), nil, nil, nil) }},
		{"lstm_seq/empty", "sequence is empty", func() { NewTape().LSTMSeq(x(2, 0, 12), x(3, 12), nil, nil, nil) }},
		{"gru_seq/h0", "h0 has shape [3 3]", func() { NewTape().GRUSeq(x(2, 5, 9), x(3, 9), nil, nil, x(3, 3)) }},
		{"rnn_seq/bias", "bias has shape [4]", func() { NewTape().RNNSeq(x(2, 5, 3), x(3, 3), x(4), nil) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := tensor.Catch(c.f)
			var se *tensor.ShapeError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want a ShapeError containing %q", err, c.want)
			}
		})
	}
}

// TestColSums checks the blocked parallel column sums (bias gradients)
// against a float64 loop, for shapes that give one block, a few, and 16
// blocks with a short last one.
func TestColSums(t *testing.T) {
	for _, sh := range [][2]int{{3, 5}, {1001, 37}, {4099, 1024}, {17, 2048}} {
		rows, cols := sh[0], sh[1]
		m := rnd(uint64(rows), rows, cols)
		got := colSums(m.Data(), rows, cols).Data()
		d := m.Data()
		for j := 0; j < cols; j++ {
			var want float64
			for r := 0; r < rows; r++ {
				want += float64(d[r*cols+j])
			}
			if math.Abs(float64(got[j])-want) > 1e-5*float64(rows) {
				t.Fatalf("%d×%d: column %d sums to %v, want %v", rows, cols, j, got[j], want)
			}
		}
	}
}
