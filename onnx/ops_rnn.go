package onnx

import (
	"math"
	"slices"
	"strings"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
)

// The recurrent operators LSTM, GRU and RNN: forward, reverse and
// bidirectional, layout 0 ([seq, batch, features]) and 1 (batch first).
// With the default activations (and for GRU linear_before_reset=1) a
// direction runs as one fused whole-sequence tape op (autograd.LSTMSeq,
// GRUSeq, RNNSeq) after one GEMM for the input projection of every step;
// peepholes, clipping, other activations and GRU's linear_before_reset=0
// run step by step on the tape.

type rnnKind int

const (
	kindLSTM rnnKind = iota
	kindGRU
	kindRNN
)

// rnnSpec is a recurrent node's attributes.
type rnnSpec struct {
	kind     rnnKind
	gates    int // 4, 3, 1
	hidden   int
	dirs     int
	reverse  []bool // per direction
	layout   int64
	acts     []activation // per direction: kind's count each
	clip     float64      // 0: none
	lbr      bool         // GRU linear_before_reset
	fused    bool
	nOutputs int
}

// activation is one of ONNX's recurrent activation functions.
type activation struct {
	name        string
	alpha, beta float64
}

var defaultActs = map[rnnKind][]string{
	kindLSTM: {"Sigmoid", "Tanh", "Tanh"},
	kindGRU:  {"Sigmoid", "Tanh"},
	kindRNN:  {"Tanh"},
}

// actDefaults are the default alpha and beta of the activations that
// take them.
var actDefaults = map[string][2]float64{
	"Sigmoid": {}, "Tanh": {}, "Relu": {}, "Softsign": {}, "Softplus": {},
	"LeakyRelu": {0.01, 0}, "ThresholdedRelu": {1, 0}, "ScaledTanh": {1, 1},
	"HardSigmoid": {0.2, 0.5}, "Elu": {1, 0}, "Affine": {1, 0},
}

func init() {
	register("LSTM", []int{4}, func(c *compiler) kernel { return compileRNN(c, kindLSTM) })
	register("GRU", []int{4}, func(c *compiler) kernel { return compileRNN(c, kindGRU) })
	register("RNN", []int{4}, func(c *compiler) kernel { return compileRNN(c, kindRNN) })
}

func compileRNN(c *compiler, kind rnnKind) kernel {
	s := &rnnSpec{kind: kind}
	switch kind {
	case kindLSTM:
		s.gates = 4
		c.inputs(3, 8)
		c.outputs(3)
		s.nOutputs = 3
	case kindGRU:
		s.gates = 3
		c.inputs(3, 6)
		c.outputs(2)
		s.nOutputs = 2
	default:
		s.gates = 1
		c.inputs(3, 6)
		c.outputs(2)
		s.nOutputs = 2
	}
	s.hidden = int(c.int("hidden_size", 0))
	dir := c.str("direction", "forward")
	switch dir {
	case "forward":
		s.reverse = []bool{false}
	case "reverse":
		s.reverse = []bool{true}
	case "bidirectional":
		s.reverse = []bool{false, true}
	default:
		c.bad("direction %q (want forward, reverse or bidirectional)", dir)
	}
	s.dirs = len(s.reverse)
	if c.opset >= 14 {
		s.layout = c.int("layout", 0)
		if s.layout != 0 && s.layout != 1 {
			c.bad("layout %d (want 0 or 1)", s.layout)
		}
	}
	if kind == kindLSTM && c.int("input_forget", 0) != 0 {
		c.unsupported("input_forget=1 (coupled input and forget gates)")
	}
	if kind == kindGRU {
		s.lbr = c.int("linear_before_reset", 0) != 0
	}
	s.clip = float64(c.float("clip", 0))
	if s.clip < 0 {
		c.bad("clip %v must be positive", s.clip)
	}
	if c.opset < 7 {
		c.ignore("output_sequence") // Y is produced when its output is named
	}
	names, hasActs := c.strs("activations")
	alphas, _ := c.floats("activation_alpha")
	betas, _ := c.floats("activation_beta")
	def := defaultActs[kind]
	if !hasActs {
		for range s.dirs {
			names = append(names, def...)
		}
	}
	if len(names) != len(def)*s.dirs {
		c.bad("activations %v: want %d (%d per direction)", names, len(def)*s.dirs, len(def))
	}
	ai, bi := 0, 0
	s.fused = s.clip == 0 && (kind != kindGRU || s.lbr)
	for i, n := range names {
		canon := ""
		for k := range actDefaults {
			if strings.EqualFold(k, n) {
				canon = k
			}
		}
		if canon == "" {
			c.unsupported("activation %q", n)
		}
		a := activation{name: canon, alpha: actDefaults[canon][0], beta: actDefaults[canon][1]}
		switch canon {
		case "LeakyRelu", "ThresholdedRelu", "Elu":
			if ai < len(alphas) {
				a.alpha = float64(alphas[ai])
				ai++
			}
		case "ScaledTanh", "HardSigmoid", "Affine":
			if ai < len(alphas) {
				a.alpha = float64(alphas[ai])
				ai++
			}
			if bi < len(betas) {
				a.beta = float64(betas[bi])
				bi++
			}
		}
		s.acts = append(s.acts, a)
		if canon != def[i%len(def)] {
			s.fused = false
		}
	}
	if ai != len(alphas) || bi != len(betas) {
		c.bad("activation_alpha %v and activation_beta %v do not match activations %v", alphas, betas, names)
	}
	return func(e *env, x []*val) []*val { return runRNN(e, s, x) }
}

// rnnInput returns input i as a Var, or nil when omitted.
func rnnInput(x []*val, i int) *val {
	if i < len(x) {
		return x[i]
	}
	return nil
}

func runRNN(e *env, s *rnnSpec, x []*val) []*val {
	tp := e.tp
	X := x[0].asVar()
	xs := X.Value.Shape()
	if len(xs) != 3 {
		fail("X must be 3-D, got %v", xs)
	}
	if s.layout == 0 { // [T, B, in] → [B, T, in]
		X = contiguous(tp, tp.Transpose(X, 1, 0, 2))
	}
	bsz, steps, in := X.Value.Dim(0), X.Value.Dim(1), X.Value.Dim(2)
	W, R := x[1].asVar(), x[2].asVar()
	gh := s.gates * s.hidden
	h := s.hidden
	if h == 0 && W.Value.Rank() == 3 {
		h = W.Value.Dim(1) / s.gates
		gh = W.Value.Dim(1)
	}
	if h < 1 || !slices.Equal(W.Value.Shape(), []int{s.dirs, gh, in}) || !slices.Equal(R.Value.Shape(), []int{s.dirs, gh, h}) {
		fail("W %v and R %v must be [%d, %d, %d] and [%d, %d, %d] for input %v and hidden size %d", W.Value.Shape(), R.Value.Shape(), s.dirs, gh, in, s.dirs, gh, h, xs, h)
	}
	var B *autograd.Var
	if v := rnnInput(x, 3); v != nil {
		B = v.asVar()
		if !slices.Equal(B.Value.Shape(), []int{s.dirs, 2 * gh}) {
			fail("B has shape %v, want [%d, %d]", B.Value.Shape(), s.dirs, 2*gh)
		}
	}
	if v := rnnInput(x, 4); v != nil {
		for _, l := range v.asInts("sequence_lens") {
			if l != int64(steps) {
				unsupportedAt("sequence_lens %v shorter than the sequence (%d steps): pad-free batches are implemented", v.asInts("sequence_lens"), steps)
			}
		}
	}
	state := func(i int) *autograd.Var { // [dirs, B, H] (layout 0) or [B, dirs, H]
		v := rnnInput(x, i)
		if v == nil {
			return nil
		}
		t := v.asVar()
		if s.layout == 1 && t.Value.Rank() == 3 {
			t = contiguous(tp, tp.Transpose(t, 1, 0, 2))
		}
		ts := t.Value.Shape()
		if len(ts) == 3 && ts[0] == s.dirs && ts[2] == h && ts[1] == 1 && bsz != 1 {
			// A zero state exported for batch 1 broadcasts to the batch.
			t = tp.Add(t, autograd.Const(tensor.New(s.dirs, bsz, h)))
		}
		if !slices.Equal(t.Value.Shape(), []int{s.dirs, bsz, h}) {
			fail("initial state %d has shape %v, want [%d, %d, %d]", i, v.dims(), s.dirs, bsz, h)
		}
		return t
	}
	h0all, c0all := state(5), (*autograd.Var)(nil)
	var P *autograd.Var
	if s.kind == kindLSTM {
		c0all = state(6)
		if v := rnnInput(x, 7); v != nil {
			P = v.asVar()
			if !slices.Equal(P.Value.Shape(), []int{s.dirs, 3 * h}) {
				fail("P has shape %v, want [%d, %d]", P.Value.Shape(), s.dirs, 3*h)
			}
		}
	}
	pick := func(v *autograd.Var, d int) *autograd.Var {
		if v == nil {
			return nil
		}
		sh := v.Value.Shape()
		return tp.Reshape(tp.Slice(v, 0, d, d+1), sh[1:]...)
	}
	var ys, hts, cts []*autograd.Var
	for d, rev := range s.reverse {
		Xd := X
		if rev {
			Xd = reverseTime(tp, X)
		}
		Wd, Rd := pick(W, d), pick(R, d)
		var Wb, Rb *autograd.Var
		if B != nil {
			Bd := pick(B, d)
			Wb, Rb = tp.Slice(Bd, 0, 0, gh), tp.Slice(Bd, 0, gh, 2*gh)
		}
		h0, c0 := pick(h0all, d), pick(c0all, d)
		var hs, hT, cT *autograd.Var
		if s.fused && P == nil {
			memo := e.m.frozenWeights(tp, W, R, B, d)
			hs, hT, cT = rnnFused(tp, s, Xd, Wd, Rd, Wb, Rb, h0, c0, h, memo)
		} else {
			acts := s.acts[d*len(defaultActs[s.kind]) : (d+1)*len(defaultActs[s.kind])]
			hs, hT, cT = rnnSteps(tp, s, acts, Xd, Wd, Rd, Wb, Rb, h0, c0, pick(P, d), h)
		}
		if rev {
			hs = reverseTime(tp, hs)
		}
		ys = append(ys, hs)
		hts = append(hts, hT)
		cts = append(cts, cT)
	}
	// Y: [T, dirs, B, H] (layout 0) or [B, T, dirs, H]; Y_h, Y_c: [dirs, B, H] or [B, dirs, H].
	var Y *autograd.Var
	stackY := make([]*autograd.Var, len(ys))
	for i, y := range ys { // [B, T, H] → [B, T, 1, H]
		stackY[i] = tp.Reshape(y, bsz, steps, 1, h)
	}
	if len(stackY) == 1 {
		Y = stackY[0]
	} else {
		Y = tp.Concat(2, stackY...)
	}
	if s.layout == 0 {
		Y = contiguous(tp, tp.Transpose(Y, 1, 2, 0, 3))
	}
	final := func(vs []*autograd.Var) *autograd.Var {
		parts := make([]*autograd.Var, len(vs))
		for i, v := range vs {
			parts[i] = tp.Reshape(v, 1, bsz, h)
		}
		out := parts[0]
		if len(parts) > 1 {
			out = tp.Concat(0, parts...)
		}
		if s.layout == 1 {
			out = contiguous(tp, tp.Transpose(out, 1, 0, 2))
		}
		return out
	}
	outs := []*val{floatVal(Y, x[0].dt), floatVal(final(hts), x[0].dt)}
	if s.kind == kindLSTM {
		outs = append(outs, floatVal(final(cts), x[0].dt))
	}
	if !tp.Recording() {
		// An inference's temporaries (the batch-first copy of X, the
		// sequences Y was copied from) go back for the next node's
		// outputs instead of to the collector: a batch of 32 made 1.5 MB
		// of them per GRU. Whatever the outputs or inputs share memory
		// with stays.
		dead := []*tensor.Tensor{X.Value}
		for _, y := range ys {
			dead = append(dead, y.Value)
		}
		var keep []*tensor.Tensor
		for _, o := range outs {
			keep = append(keep, o.v.Value)
		}
		for _, v := range x {
			if v != nil && v.v != nil {
				keep = append(keep, v.v.Value)
			}
		}
		tensor.Recycle(dead, keep)
	}
	return outs
}

// reverseTime reverses a batch-first [B, T, F] sequence along time.
func reverseTime(tp *autograd.Tape, x *autograd.Var) *autograd.Var {
	t := x.Value.Dim(1)
	idx := make([]int, t)
	for i := range idx {
		idx[i] = t - 1 - i
	}
	return tp.IndexSelect(contiguous(tp, x), 1, idx)
}

// gateBlocks reorders the gate blocks (rows of [G·H, ·], or a [G·H]
// vector) from ONNX's order into the tape op's: LSTM i,o,f,c → i,f,c,o;
// GRU z,r,h → r,z,h.
func gateBlocks(tp *autograd.Tape, v *autograd.Var, kind rnnKind, h int) *autograd.Var {
	var order []int
	switch kind {
	case kindLSTM:
		order = []int{0, 2, 3, 1}
	case kindGRU:
		order = []int{1, 0, 2}
	default:
		return v
	}
	parts := make([]*autograd.Var, len(order))
	for i, b := range order {
		parts[i] = tp.Slice(v, 0, b*h, (b+1)*h)
	}
	return tp.Concat(0, parts...)
}

// rnnFused runs one direction with a fused sequence op. X is [B, T, in];
// W [G·H, in], R [G·H, H]; biases [G·H] or nil; states [B, H] or nil.
// memo returns the weights rearranged for the op (see frozenWeights).
func rnnFused(tp *autograd.Tape, s *rnnSpec, X, W, R, Wb, Rb, h0, c0 *autograd.Var, h int, memo weightMemo) (hs, hT, cT *autograd.Var) {
	wih := memo("wih", func() *autograd.Var { return contiguous(tp, tp.Transpose(gateBlocks(tp, W, s.kind, h))) }) // [in, G·H]
	whh := memo("whh", func() *autograd.Var { return contiguous(tp, tp.Transpose(gateBlocks(tp, R, s.kind, h))) })
	xproj := tp.MatMul(X, wih) // [B, T, G·H]
	if !tp.Recording() {
		// The input projection is read only by the sequence op: once it
		// has run, its memory serves the next tensors (it is the largest
		// value of a recurrent inference, and no graph value).
		defer func() {
			tensor.Recycle([]*tensor.Tensor{xproj.Value}, valuesOf(hs, hT, cT, X, wih, whh, h0, c0))
		}()
	}
	switch s.kind {
	case kindLSTM:
		var bias *autograd.Var
		if Wb != nil {
			bias = memo("bias", func() *autograd.Var { return gateBlocks(tp, tp.Add(Wb, Rb), s.kind, h) })
		}
		return tp.LSTMSeq(xproj, whh, bias, h0, c0)
	case kindGRU:
		var bih, bhh *autograd.Var
		if Wb != nil {
			bih = memo("bih", func() *autograd.Var { return gateBlocks(tp, Wb, s.kind, h) })
			bhh = memo("bhh", func() *autograd.Var { return gateBlocks(tp, Rb, s.kind, h) })
		}
		hs, hT = tp.GRUSeq(xproj, whh, bih, bhh, h0)
		return hs, hT, nil
	}
	var bias *autograd.Var
	if Wb != nil {
		bias = memo("bias", func() *autograd.Var { return tp.Add(Wb, Rb) })
	}
	hs, hT = tp.RNNSeq(xproj, whh, bias, h0)
	return hs, hT, nil
}

// valuesOf returns the values of the non-nil vs.
func valuesOf(vs ...*autograd.Var) []*tensor.Tensor {
	var ts []*tensor.Tensor
	for _, v := range vs {
		if v != nil {
			ts = append(ts, v.Value)
		}
	}
	return ts
}

// apply runs activation a on the tape.
func (a activation) apply(tp *autograd.Tape, x *autograd.Var) *autograd.Var {
	al, be := a.alpha, a.beta
	switch a.name {
	case "Sigmoid":
		return tp.Sigmoid(x)
	case "Tanh":
		return tp.Tanh(x)
	case "Relu":
		return tp.ReLU(x)
	case "LeakyRelu":
		return tp.LeakyReLU(x, float32(al))
	case "Softsign":
		return unaryFn(tp, x, func(v float64) float64 { return v / (1 + math.Abs(v)) },
			func(v, _ float64) float64 { d := 1 + math.Abs(v); return 1 / (d * d) })
	case "Softplus":
		return unaryFn(tp, x, softplus64, func(v, _ float64) float64 { return sigmoid64(v) })
	case "ThresholdedRelu":
		return unaryFn(tp, x, func(v float64) float64 {
			if v > al {
				return v
			}
			return 0
		}, func(v, _ float64) float64 {
			if v > al {
				return 1
			}
			return 0
		})
	case "ScaledTanh":
		return unaryFn(tp, x, func(v float64) float64 { return al * math.Tanh(be*v) },
			func(v, _ float64) float64 { t := math.Tanh(be * v); return al * be * (1 - t*t) })
	case "HardSigmoid":
		return unaryFn(tp, x, func(v float64) float64 { return math.Max(0, math.Min(1, al*v+be)) },
			func(v, _ float64) float64 {
				if u := al*v + be; u > 0 && u < 1 {
					return al
				}
				return 0
			})
	case "Elu":
		return unaryFn(tp, x, func(v float64) float64 {
			if v > 0 {
				return v
			}
			return al * math.Expm1(v)
		}, func(v, y float64) float64 {
			if v > 0 {
				return 1
			}
			return y + al
		})
	case "Affine":
		return unaryFn(tp, x, func(v float64) float64 { return al*v + be }, func(_, _ float64) float64 { return al })
	}
	fail("activation %q", a.name)
	return nil
}

// rnnSteps runs one direction step by step on the tape, with ONNX's
// equations as written (gate orders iofc and zrh).
func rnnSteps(tp *autograd.Tape, s *rnnSpec, acts []activation, X, W, R, Wb, Rb, h0, c0, P *autograd.Var, h int) (hs, hT, cT *autograd.Var) {
	bsz, steps := X.Value.Dim(0), X.Value.Dim(1)
	gh := s.gates * h
	xw := tp.MatMul(X, tp.Transpose(W)) // [B, T, G·H]
	if Wb != nil {
		xw = tp.Add(xw, Wb)
	}
	Rt := tp.Transpose(R) // [H, G·H]
	hPrev := h0
	if hPrev == nil {
		hPrev = autograd.Const(tensor.New(bsz, h))
	}
	cPrev := c0
	if s.kind == kindLSTM && cPrev == nil {
		cPrev = autograd.Const(tensor.New(bsz, h))
	}
	clip := func(v *autograd.Var) *autograd.Var {
		if s.clip == 0 {
			return v
		}
		cl := s.clip
		return unaryFn(tp, v, func(u float64) float64 { return math.Max(-cl, math.Min(cl, u)) }, func(u, _ float64) float64 {
			if u >= -cl && u <= cl {
				return 1
			}
			return 0
		})
	}
	gate := func(v *autograd.Var, k int) *autograd.Var { return tp.Slice(v, 1, k*h, (k+1)*h) }
	var peep [3]*autograd.Var
	if P != nil {
		for k := range peep {
			peep[k] = tp.Slice(P, 0, k*h, (k+1)*h)
		}
	}
	out := make([]*autograd.Var, steps)
	for t := 0; t < steps; t++ {
		xt := tp.Reshape(tp.Slice(xw, 1, t, t+1), bsz, gh)
		switch s.kind {
		case kindLSTM:
			g := tp.Add(xt, tp.MatMul(hPrev, Rt))
			if Rb != nil {
				g = tp.Add(g, Rb)
			}
			gi, gO, gf, gc := gate(g, 0), gate(g, 1), gate(g, 2), gate(g, 3)
			if P != nil {
				gi = tp.Add(gi, tp.Mul(peep[0], cPrev))
				gf = tp.Add(gf, tp.Mul(peep[2], cPrev))
			}
			i := acts[0].apply(tp, clip(gi))
			f := acts[0].apply(tp, clip(gf))
			ct := acts[1].apply(tp, clip(gc))
			c := tp.Add(tp.Mul(f, cPrev), tp.Mul(i, ct))
			if P != nil {
				gO = tp.Add(gO, tp.Mul(peep[1], c))
			}
			o := acts[0].apply(tp, clip(gO))
			hPrev = tp.Mul(o, acts[2].apply(tp, c))
			cPrev = c
		case kindGRU:
			hr := tp.MatMul(hPrev, Rt) // [B, 3H]: z, r, h blocks
			var rbz, rbr, rbh *autograd.Var
			if Rb != nil {
				rbz, rbr, rbh = tp.Slice(Rb, 0, 0, h), tp.Slice(Rb, 0, h, 2*h), tp.Slice(Rb, 0, 2*h, 3*h)
			}
			addB := func(v, b *autograd.Var) *autograd.Var {
				if b == nil {
					return v
				}
				return tp.Add(v, b)
			}
			z := acts[0].apply(tp, clip(addB(tp.Add(gate(xt, 0), gate(hr, 0)), rbz)))
			r := acts[0].apply(tp, clip(addB(tp.Add(gate(xt, 1), gate(hr, 1)), rbr)))
			var hh *autograd.Var
			if s.lbr {
				hh = tp.Mul(r, addB(gate(hr, 2), rbh))
			} else {
				hh = addB(tp.MatMul(tp.Mul(r, hPrev), tp.Slice(Rt, 1, 2*h, 3*h)), rbh)
			}
			n := acts[1].apply(tp, clip(tp.Add(gate(xt, 2), hh)))
			// h = (1 − z)·n + z·hPrev = n + z·(hPrev − n)
			hPrev = tp.Add(n, tp.Mul(z, tp.Sub(hPrev, n)))
		default:
			g := tp.Add(xt, tp.MatMul(hPrev, Rt))
			if Rb != nil {
				g = tp.Add(g, Rb)
			}
			hPrev = acts[0].apply(tp, clip(g))
		}
		out[t] = hPrev
	}
	return tp.Stack(1, out...), hPrev, cPrev
}
