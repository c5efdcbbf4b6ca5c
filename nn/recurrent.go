package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
)

// This file holds what RNN, LSTM and GRU share: options, Spec args, the
// recurrent base they embed (fields, stacked forward pass, Params, Spec,
// naming), weights and their initialisation, input and state checks. Each
// layer's file holds only its doc, its recurrentKind (gate count, cell
// state, recurrent bias, fused tape op) and its constructor.
//
// Each layer runs like PyTorch's CPU LSTM but with the recurrence fused:
// the input projection of every time step is one GEMM ([B·T, in]·[in,
// G·H]), then autograd's LSTMSeq / GRUSeq / RNNSeq runs the steps as one
// tape record (one GEMM h·W_hh per step plus a fused gate kernel; dW_hh
// for all steps as one GEMM in the backward).

// RecurrentOption sets an optional knob of NewRNN, NewLSTM and NewGRU.
type RecurrentOption func(*recurrentArgs)

// RecurrentLayers stacks n recurrent layers (default 1): layer l+1 reads
// the hidden-state sequence of layer l.
func RecurrentLayers(n int) RecurrentOption { return func(a *recurrentArgs) { a.Layers = n } }

// ReturnSequences makes the layer output the hidden state of every time
// step, [batch, seq, hidden], instead of the last one, [batch, hidden]
// (for stacking under another sequence layer or per-step predictions such
// as a character model).
func ReturnSequences() RecurrentOption { return func(a *recurrentArgs) { a.ReturnSequences = true } }

// recurrentArgs is the Spec of RNN, LSTM and GRU.
type recurrentArgs struct {
	Input           int  `json:"input"`
	Hidden          int  `json:"hidden"`
	Layers          int  `json:"layers"`
	ReturnSequences bool `json:"return_sequences"`
}

func (a recurrentArgs) valid() error {
	if !dimsOK(a.Input, a.Hidden) || a.Layers < 1 || a.Layers > MaxRecurrentLayers {
		return fmt.Errorf("input=%d hidden=%d layers=%d must all be ≥ 1, the sizes at most MaxDim = %d and the layers at most MaxRecurrentLayers = %d",
			a.Input, a.Hidden, a.Layers, MaxDim, MaxRecurrentLayers)
	}
	return nil
}

// elements counts the weights newRecurrentWeights draws for a stack of
// k's layers: per layer w_ih [in, G·H], w_hh [H, G·H] and one bias [G·H]
// (two for a GRU), where in is a.Input for the first layer and H above.
// a must be valid.
func (a recurrentArgs) elements(k *recurrentKind) int64 {
	biases := 1
	if k.biasHH {
		biases = 2
	}
	first := Elements(a.Input+a.Hidden+biases, k.gates, a.Hidden)
	above := Elements(a.Layers-1, 2*a.Hidden+biases, k.gates, a.Hidden)
	return satAdd(first, above)
}

// recurrentKind is what sets RNN, LSTM and GRU apart; everything else
// they share through the recurrent base.
type recurrentKind struct {
	typ    string // Spec type and panic prefix: "rnn", "lstm" or "gru"
	gates  int    // gate blocks per layer, each Hidden wide
	cell   bool   // a cell state C and a forget-gate bias of 1 (LSTM)
	biasHH bool   // a separate recurrent bias b_hh (GRU)
	// seq runs one stacked layer as one fused tape op over xw, the input
	// projection of every step, from h0 (and c0, LSTM only), and returns
	// every step's h and the final h (and c, LSTM only).
	seq func(tp *autograd.Tape, xw *autograd.Var, w RecurrentWeights, h0, c0 *autograd.Var) (hs, hT, cT *autograd.Var)
}

// args returns the Spec args of New<kind>(in, hidden, opts...) and panics
// with a ShapeError when they are invalid.
func (k *recurrentKind) args(in, hidden int, opts []RecurrentOption) recurrentArgs {
	a := recurrentArgs{Input: in, Hidden: hidden, Layers: 1}
	for _, o := range opts {
		o(&a)
	}
	if err := a.valid(); err != nil {
		panic(&tensor.ShapeError{Op: k.typ, Msg: err.Error()})
	}
	return a
}

// new draws the weights of a stack of k layers from rng and names them
// as an unnamed layer.
func (k *recurrentKind) new(a recurrentArgs, rng *rand.Rand) recurrent {
	r := recurrent{Layers: newRecurrentWeights(a, k, rng), In: a.Input, Hidden: a.Hidden, ReturnSequences: a.ReturnSequences, kind: k}
	r.SetName("")
	return r
}

// recurrent is the base that RNN, LSTM and GRU embed: their weights,
// sizes, options and name, the stacked forward pass and the Module and
// Named methods. Its kind holds what differs.
type recurrent struct {
	// Layers holds each stacked layer's weights, input layer first.
	Layers []RecurrentWeights
	// In and Hidden are the input and hidden sizes.
	In, Hidden int
	// ReturnSequences makes Forward return every step's hidden state.
	ReturnSequences bool

	kind *recurrentKind
	name string
}

// Forward runs the layer from a zero state: x [batch, seq, in] →
// [batch, hidden], or [batch, seq, hidden] with ReturnSequences.
func (l *recurrent) Forward(c *Ctx, x *autograd.Var) *autograd.Var {
	y, _ := l.ForwardState(c, x, nil)
	return y
}

// ForwardState runs the layer from the initial state init (nil, or nil
// entries, mean zeros; H holds one [batch, hidden] tensor per layer, and
// so does C for an LSTM, while an RNN's or GRU's C must be empty) and
// returns the output and the final state of every layer. Gradients flow
// into init's tensors when they require them.
func (l *recurrent) ForwardState(c *Ctx, x *autograd.Var, init *RecurrentState) (*autograd.Var, *RecurrentState) {
	op := layerOpName(l.kind.typ, l.name)
	batch := checkRecurrentInput(op, x, l.In)
	tp := ctxTape(c)
	final := &RecurrentState{}
	seq, last := x, (*autograd.Var)(nil)
	for i, w := range l.Layers {
		h0, c0 := initialState(op, init, i, len(l.Layers), batch, l.Hidden, l.kind.cell)
		hs, hT, cT := l.kind.seq(tp, inputProjection(tp, seq, w.WIH), w, h0, c0)
		final.H = append(final.H, hT)
		if l.kind.cell {
			final.C = append(final.C, cT)
		}
		seq, last = hs, hT
	}
	if l.ReturnSequences {
		return seq, final
	}
	return last, final
}

// Params returns every layer's w_ih, w_hh and bias (a GRU's b_ih and
// b_hh), input layer first.
func (l *recurrent) Params() []*autograd.Var {
	var ps []*autograd.Var
	for _, w := range l.Layers {
		ps = append(ps, w.params()...)
	}
	return ps
}

// Spec describes the layer for saving; Build rebuilds it.
func (l *recurrent) Spec() Spec {
	return MakeSpec(l.kind.typ, l.name, recurrentArgs{Input: l.In, Hidden: l.Hidden, Layers: len(l.Layers), ReturnSequences: l.ReturnSequences})
}

// LayerName returns the layer's name ("" until named).
func (l *recurrent) LayerName() string { return l.name }

// SetName names the layer and its parameters ("NAME/l0/w_ih", …).
func (l *recurrent) SetName(name string) {
	l.name = name
	nameRecurrentWeights(name, l.Layers)
}

// RecurrentWeights are the parameters of one layer of a stacked RNN, LSTM
// or GRU. G is the number of gate blocks: 1 (RNN), 4 (LSTM: i, f, g, o) or
// 3 (GRU: r, z, n), each H columns wide, in cuDNN's and PyTorch's order.
type RecurrentWeights struct {
	// WIH is [in, G·H]: the input projection x·WIH (in is the layer's input
	// size for the first layer, H above it). Glorot-uniform initialised.
	WIH *autograd.Var
	// WHH is [H, G·H]: the recurrent projection h·WHH; each gate's H×H
	// block starts as a random orthogonal matrix.
	WHH *autograd.Var
	// Bias is [G·H], added to the gate pre-activations (the GRU's input
	// bias b_ih). Zero, except the LSTM forget gate's block, which starts
	// at 1 so the cell remembers by default.
	Bias *autograd.Var
	// BiasHH is the GRU's recurrent bias b_hh [3·H] (its n block sits
	// inside r ⊙ (h·W_hn + b_hn)); nil for RNN and LSTM.
	BiasHH *autograd.Var
}

// params lists the weights in a stable order.
func (w RecurrentWeights) params() []*autograd.Var {
	ps := []*autograd.Var{w.WIH, w.WHH, w.Bias}
	if w.BiasHH != nil {
		ps = append(ps, w.BiasHH)
	}
	return ps
}

// newRecurrentWeights draws the weights of a stack of layers with k's
// gate count; an LSTM's forget-gate bias block is set to 1, a GRU gets the
// recurrent bias.
func newRecurrentWeights(a recurrentArgs, k *recurrentKind, rng *rand.Rand) []RecurrentWeights {
	h, gates := a.Hidden, k.gates
	ws := make([]RecurrentWeights, a.Layers)
	for l := range ws {
		in := a.Input
		if l > 0 {
			in = h
		}
		wih := GlorotUniform(rng, in, gates*h, in, gates*h)
		whh := tensor.New(h, gates*h)
		for g := 0; g < gates; g++ {
			whh.Slice(1, g*h, (g+1)*h).Assign(Orthogonal(rng, h, h))
		}
		bias := tensor.New(gates * h)
		if k.cell {
			bias.Slice(0, h, 2*h).Fill(1)
		}
		ws[l] = RecurrentWeights{
			WIH:  autograd.Param(wih, ""),
			WHH:  autograd.Param(whh, ""),
			Bias: autograd.Param(bias, ""),
		}
		if k.biasHH {
			ws[l].BiasHH = autograd.Param(tensor.New(gates*h), "")
		}
	}
	return ws
}

// nameRecurrentWeights names the parameters "NAME/l0/w_ih", "NAME/l0/w_hh",
// "NAME/l0/bias" (GRU: "b_ih" and "b_hh"), layer by layer.
func nameRecurrentWeights(name string, ws []RecurrentWeights) {
	for l, w := range ws {
		p := fmt.Sprintf("l%d/", l)
		w.WIH.Name = layerParamName(name, p+"w_ih")
		w.WHH.Name = layerParamName(name, p+"w_hh")
		if w.BiasHH != nil {
			w.Bias.Name = layerParamName(name, p+"b_ih")
			w.BiasHH.Name = layerParamName(name, p+"b_hh")
		} else {
			w.Bias.Name = layerParamName(name, p+"bias")
		}
	}
}

// RecurrentState is the state of a stacked recurrent layer between calls:
// one [batch, hidden] tensor per stacked layer, input layer first. C is
// the LSTM's cell state (nil for RNN and GRU). ForwardState takes an
// initial state (nil means zeros) and returns the final one, so a long
// sequence can be fed in pieces or a model can generate step by step.
type RecurrentState struct {
	H []*autograd.Var
	C []*autograd.Var
}

// Detach returns the state cut from the graph (truncated backpropagation
// through time: carry the values, not the gradients, into the next piece).
func (s *RecurrentState) Detach() *RecurrentState {
	if s == nil {
		return nil
	}
	out := &RecurrentState{}
	for _, h := range s.H {
		out.H = append(out.H, h.Detach())
	}
	for _, c := range s.C {
		out.C = append(out.C, c.Detach())
	}
	return out
}

// checkRecurrentInput panics with a ShapeError unless x is [batch, seq,
// in] with seq ≥ 1, and returns batch.
func checkRecurrentInput(op string, x *autograd.Var, in int) int {
	sh := x.Shape()
	if err := recurrentInputErr(op, sh, in); err != nil {
		panic(err)
	}
	return sh[0]
}

// recurrentInputErr returns a ShapeError unless sh is [batch, seq, in]
// with seq ≥ 1.
func recurrentInputErr(op string, sh []int, in int) error {
	switch {
	case len(sh) == 2 && sh[1] == in:
		return shapeErr(op, "input has shape %v, layer expects [batch, seq, %d]; add the sequence axis (x.Reshape(batch, 1, %d) for one step)", sh, in, in)
	case len(sh) == 2:
		return shapeErr(op, "input has shape %v, layer expects [batch, seq, %d]; token ids go through an Embedding first", sh, in)
	case len(sh) != 3:
		return shapeErr(op, "input has shape %v, layer expects [batch, seq, %d]", sh, in)
	case sh[2] != in:
		return shapeErr(op, "input has %d features (shape %v), layer expects [batch, seq, %d]", sh[2], sh, in)
	case sh[1] < 1:
		return shapeErr(op, "input has shape %v: the sequence is empty, layer expects [batch, seq ≥ 1, %d]", sh, in)
	}
	return nil
}

// OutputShape is [batch, hidden] for an input [batch, seq, in], or
// [batch, seq, hidden] with ReturnSequences.
func (l *recurrent) OutputShape(in []int) ([]int, error) {
	if err := recurrentInputErr(layerOpName(l.kind.typ, l.name), in, l.In); err != nil {
		return nil, err
	}
	if l.ReturnSequences {
		return []int{in[0], in[1], l.Hidden}, nil
	}
	return []int{in[0], l.Hidden}, nil
}

// allocates counts the output and, for every stacked layer, the input
// projection [batch, seq, G·hidden] and the hidden states [batch, seq,
// hidden] of all steps, a few steps' gates and cell states, the packed
// weights of the products and every step's bookkeeping.
func (l *recurrent) allocates(in, out []int) int64 {
	gh := l.kind.gates * l.Hidden
	perLayer := satAdd(Elements(in[0], in[1]+3, l.kind.gates+1, l.Hidden), Elements(in[1], stepOverhead))
	perLayer = satAdd(perLayer, gemmOperand(max(l.In, l.Hidden)+l.Hidden, gh))
	return satAdd(Elements(out...), satMul(int64(len(l.Layers)), perLayer))
}

// initialState returns layer l's initial h (and c) from s, checking shapes;
// nil means zeros.
func initialState(op string, s *RecurrentState, l, layers, batch, hidden int, cell bool) (h, c *autograd.Var) {
	if s == nil {
		return nil, nil
	}
	check := func(what string, vs []*autograd.Var) *autograd.Var {
		if len(vs) == 0 {
			return nil
		}
		if len(vs) != layers {
			panic(&tensor.ShapeError{Op: op, Msg: fmt.Sprintf("initial state has %d %s tensors, want one per layer (%d)", len(vs), what, layers)})
		}
		v := vs[l]
		if v != nil && !tensor.SameShape(v.Shape(), []int{batch, hidden}) {
			panic(&tensor.ShapeError{Op: op, Msg: fmt.Sprintf("initial state %s[%d] has shape %v, want [batch, hidden] = [%d, %d]", what, l, v.Shape(), batch, hidden)})
		}
		return v
	}
	h = check("H", s.H)
	if cell {
		c = check("C", s.C)
	} else if len(s.C) > 0 {
		panic(&tensor.ShapeError{Op: op, Msg: "initial state has a cell state C, which only an LSTM uses; leave C nil"})
	}
	return h, c
}

// inputProjection returns x·w for x [batch, seq, in] and w [in, G·H] as
// [batch, seq, G·H]: one GEMM over every time step (a non-contiguous x is
// copied first, so the product folds the batch into rows).
func inputProjection(tp *autograd.Tape, x, w *autograd.Var) *autograd.Var {
	if !x.Value.IsContiguous() {
		x = tp.Reshape(x, x.Shape()...)
	}
	return tp.MatMul(x, w)
}

// ctxTape returns c's tape (nil, which records nothing, for a nil Ctx).
func ctxTape(c *Ctx) *autograd.Tape {
	if c == nil {
		return nil
	}
	return c.Tape
}

// registerRecurrent registers the layer type of kind k for Build; wrap
// puts the base in the layer's struct.
func registerRecurrent(k *recurrentKind, wrap func(recurrent) Module) {
	specArgs := func(s Spec) (recurrentArgs, error) {
		a := recurrentArgs{Layers: 1}
		if err := s.UnmarshalArgs(&a); err != nil {
			return a, err
		}
		if err := a.valid(); err != nil {
			return a, fmt.Errorf("nn: %s %q: %v", k.typ, s.Name, err)
		}
		return a, nil
	}
	RegisterSized(k.typ, func(s Spec, rng *rand.Rand) (Module, error) {
		a, err := specArgs(s)
		if err != nil {
			return nil, err
		}
		m := wrap(k.new(a, rng))
		m.(Named).SetName(s.Name)
		return m, nil
	}, func(s Spec) (int64, error) {
		a, err := specArgs(s)
		if err != nil {
			return 0, err
		}
		return a.elements(k), nil
	})
}
