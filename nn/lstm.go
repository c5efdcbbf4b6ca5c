package nn

import (
	"math/rand/v2"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
)

// LSTM is a long short-term memory layer (Hochreiter & Schmidhuber, with
// a forget gate), optionally stacked, on batch-first sequences:
//
//	x: [batch, seq, in]; returns [batch, hidden] (the last hidden state),
//	or [batch, seq, hidden] with ReturnSequences
//
// Each step computes, with gates in cuDNN's order i, f, g, o,
//
//	i, f, g, o = σ(·), σ(·), tanh(·), σ(·) of x_t·W_ih + h_{t−1}·W_hh + b
//	c_t = f ⊙ c_{t−1} + i ⊙ g
//	h_t = o ⊙ tanh(c_t)
//
// The input projection of all steps is one GEMM and the recurrence one
// fused tape operation (autograd.LSTMSeq). The state starts at zero unless
// ForwardState is given one. Parameters are named "NAME/l0/w_ih",
// "NAME/l0/w_hh", "NAME/l0/bias", "NAME/l1/…" (see RecurrentWeights).
type LSTM struct {
	// Layers holds each stacked layer's weights, input layer first.
	Layers []RecurrentWeights
	// In and Hidden are the input and hidden sizes.
	In, Hidden int
	// ReturnSequences makes Forward return every step's hidden state.
	ReturnSequences bool

	name string
}

var (
	_ Module = (*LSTM)(nil)
	_ Named  = (*LSTM)(nil)
)

// NewLSTM returns an LSTM from in input features to hidden units, with
// weights drawn from rng: Glorot-uniform input weights, orthogonal
// recurrent weights, forget-gate bias 1. Non-positive sizes panic with a
// *tensor.ShapeError; Build returns them as errors.
//
//	lstm := nn.NewLSTM(64, 256, rng, nn.RecurrentLayers(2), nn.ReturnSequences())
func NewLSTM(in, hidden int, rng *rand.Rand, opts ...RecurrentOption) *LSTM {
	a := recurrentOpts(in, hidden, opts)
	if err := a.valid(); err != nil {
		panic(&tensor.ShapeError{Op: "lstm", Msg: err.Error()})
	}
	return newLSTM(a, rng)
}

func newLSTM(a recurrentArgs, rng *rand.Rand) *LSTM {
	l := &LSTM{Layers: newRecurrentWeights(a, 4, true, false, rng), In: a.Input, Hidden: a.Hidden, ReturnSequences: a.ReturnSequences}
	l.SetName("")
	return l
}

// Forward runs the layer from a zero state: x [batch, seq, in] →
// [batch, hidden], or [batch, seq, hidden] with ReturnSequences.
func (l *LSTM) Forward(c *Ctx, x *autograd.Var) *autograd.Var {
	y, _ := l.ForwardState(c, x, nil)
	return y
}

// ForwardState runs the layer from the initial state init (nil, or nil
// entries, mean zeros; H and C hold one [batch, hidden] tensor per layer)
// and returns the output and the final state of every layer. Gradients
// flow into init's tensors when they require them.
func (l *LSTM) ForwardState(c *Ctx, x *autograd.Var, init *RecurrentState) (*autograd.Var, *RecurrentState) {
	op := layerOpName("lstm", l.name)
	batch := checkRecurrentInput(op, x, l.In)
	tp := ctxTape(c)
	final := &RecurrentState{}
	seq, last := x, (*autograd.Var)(nil)
	for i, w := range l.Layers {
		h0, c0 := initialState(op, init, i, len(l.Layers), batch, l.Hidden, true)
		hs, hT, cT := tp.LSTMSeq(inputProjection(tp, seq, w.WIH), w.WHH, w.Bias, h0, c0)
		final.H = append(final.H, hT)
		final.C = append(final.C, cT)
		seq, last = hs, hT
	}
	if l.ReturnSequences {
		return seq, final
	}
	return last, final
}

// Params returns every layer's w_ih, w_hh and bias, input layer first.
func (l *LSTM) Params() []*autograd.Var { return recurrentParams(l.Layers) }

// Spec describes the layer for saving; Build rebuilds it.
func (l *LSTM) Spec() Spec {
	return MakeSpec("lstm", l.name, recurrentArgs{Input: l.In, Hidden: l.Hidden, Layers: len(l.Layers), ReturnSequences: l.ReturnSequences})
}

// LayerName returns the layer's name ("" until named).
func (l *LSTM) LayerName() string { return l.name }

// SetName names the layer and its parameters ("NAME/l0/w_ih", …).
func (l *LSTM) SetName(name string) {
	l.name = name
	nameRecurrentWeights(name, l.Layers)
}

func init() {
	registerRecurrent("lstm", func(a recurrentArgs, rng *rand.Rand) Module { return newLSTM(a, rng) })
}
