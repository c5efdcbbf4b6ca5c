package nn

import (
	"math/rand/v2"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
)

// RNN is a vanilla (Elman) recurrent layer with tanh, optionally stacked,
// on batch-first sequences:
//
//	x: [batch, seq, in]; returns [batch, hidden] (the last hidden state),
//	or [batch, seq, hidden] with ReturnSequences
//
// Each step computes h_t = tanh(x_t·W_ih + h_{t−1}·W_hh + b). The input
// projection of all steps is one GEMM and the recurrence one fused tape
// operation (autograd.RNNSeq). The state starts at zero unless
// ForwardState is given one. Parameters are named "NAME/l0/w_ih",
// "NAME/l0/w_hh", "NAME/l0/bias", "NAME/l1/…".
type RNN struct {
	// Layers holds each stacked layer's weights, input layer first.
	Layers []RecurrentWeights
	// In and Hidden are the input and hidden sizes.
	In, Hidden int
	// ReturnSequences makes Forward return every step's hidden state.
	ReturnSequences bool

	name string
}

var (
	_ Module = (*RNN)(nil)
	_ Named  = (*RNN)(nil)
)

// NewRNN returns a tanh RNN from in input features to hidden units, with
// weights drawn from rng: Glorot-uniform input weights, orthogonal
// recurrent weights, zero bias. Non-positive sizes panic with a
// *tensor.ShapeError; Build returns them as errors.
//
//	rnn := nn.NewRNN(1, 32, rng)
func NewRNN(in, hidden int, rng *rand.Rand, opts ...RecurrentOption) *RNN {
	a := recurrentOpts(in, hidden, opts)
	if err := a.valid(); err != nil {
		panic(&tensor.ShapeError{Op: "rnn", Msg: err.Error()})
	}
	return newRNN(a, rng)
}

func newRNN(a recurrentArgs, rng *rand.Rand) *RNN {
	l := &RNN{Layers: newRecurrentWeights(a, 1, false, false, rng), In: a.Input, Hidden: a.Hidden, ReturnSequences: a.ReturnSequences}
	l.SetName("")
	return l
}

// Forward runs the layer from a zero state: x [batch, seq, in] →
// [batch, hidden], or [batch, seq, hidden] with ReturnSequences.
func (l *RNN) Forward(c *Ctx, x *autograd.Var) *autograd.Var {
	y, _ := l.ForwardState(c, x, nil)
	return y
}

// ForwardState runs the layer from the initial state init (nil, or nil
// entries, mean zeros; H holds one [batch, hidden] tensor per layer, C
// must be empty) and returns the output and the final state of every
// layer. Gradients flow into init's tensors when they require them.
func (l *RNN) ForwardState(c *Ctx, x *autograd.Var, init *RecurrentState) (*autograd.Var, *RecurrentState) {
	op := layerOpName("rnn", l.name)
	batch := checkRecurrentInput(op, x, l.In)
	tp := ctxTape(c)
	final := &RecurrentState{}
	seq, last := x, (*autograd.Var)(nil)
	for i, w := range l.Layers {
		h0, _ := initialState(op, init, i, len(l.Layers), batch, l.Hidden, false)
		hs, hT := tp.RNNSeq(inputProjection(tp, seq, w.WIH), w.WHH, w.Bias, h0)
		final.H = append(final.H, hT)
		seq, last = hs, hT
	}
	if l.ReturnSequences {
		return seq, final
	}
	return last, final
}

// Params returns every layer's w_ih, w_hh and bias, input layer first.
func (l *RNN) Params() []*autograd.Var { return recurrentParams(l.Layers) }

// Spec describes the layer for saving; Build rebuilds it.
func (l *RNN) Spec() Spec {
	return MakeSpec("rnn", l.name, recurrentArgs{Input: l.In, Hidden: l.Hidden, Layers: len(l.Layers), ReturnSequences: l.ReturnSequences})
}

// LayerName returns the layer's name ("" until named).
func (l *RNN) LayerName() string { return l.name }

// SetName names the layer and its parameters ("NAME/l0/w_ih", …).
func (l *RNN) SetName(name string) {
	l.name = name
	nameRecurrentWeights(name, l.Layers)
}

func init() {
	registerRecurrent("rnn", func(a recurrentArgs, rng *rand.Rand) Module { return newRNN(a, rng) })
}
