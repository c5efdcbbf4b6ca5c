package nn

import (
	"math/rand/v2"

	"github.com/glassbox-ml/glassbox/autograd"
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
//
// Its fields and methods come from the base it shares with RNN and GRU:
// Layers (each stacked layer's weights, input layer first), In and Hidden
// (the sizes) and ReturnSequences.
type LSTM struct{ recurrent }

var (
	_ Module = (*LSTM)(nil)
	_ Named  = (*LSTM)(nil)
	_ Shaper = (*LSTM)(nil)
)

// lstmKind is what makes an LSTM: four gate blocks (i, f, g, o), a cell
// state with forget-gate bias 1 and autograd.LSTMSeq.
var lstmKind = &recurrentKind{
	typ: "lstm", gates: 4, cell: true,
	seq: func(tp *autograd.Tape, xw *autograd.Var, w RecurrentWeights, h0, c0 *autograd.Var) (hs, hT, cT *autograd.Var) {
		return tp.LSTMSeq(xw, w.WHH, w.Bias, h0, c0)
	},
}

// NewLSTM returns an LSTM from in input features to hidden units, with
// weights drawn from rng: Glorot-uniform input weights, orthogonal
// recurrent weights, forget-gate bias 1. Sizes outside [1, MaxDim] or more
// than MaxRecurrentLayers layers panic with a *tensor.ShapeError; Build
// returns them as errors.
//
//	lstm := nn.NewLSTM(64, 256, rng, nn.RecurrentLayers(2), nn.ReturnSequences())
func NewLSTM(in, hidden int, rng *rand.Rand, opts ...RecurrentOption) *LSTM {
	return &LSTM{lstmKind.new(lstmKind.args(in, hidden, opts), rng)}
}

func init() { registerRecurrent(lstmKind, func(r recurrent) Module { return &LSTM{r} }) }
