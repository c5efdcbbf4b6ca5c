package nn

import (
	"math/rand/v2"

	"github.com/glassbox-ml/glassbox/autograd"
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
//
// Its fields and methods come from the base it shares with LSTM and GRU:
// Layers (each stacked layer's weights, input layer first), In and Hidden
// (the sizes) and ReturnSequences.
type RNN struct{ recurrent }

var (
	_ Module = (*RNN)(nil)
	_ Named  = (*RNN)(nil)
	_ Shaper = (*RNN)(nil)
)

// rnnKind is what makes an RNN: one gate block (the tanh candidate) and
// autograd.RNNSeq.
var rnnKind = &recurrentKind{
	typ: "rnn", gates: 1,
	seq: func(tp *autograd.Tape, xw *autograd.Var, w RecurrentWeights, h0, _ *autograd.Var) (hs, hT, cT *autograd.Var) {
		hs, hT = tp.RNNSeq(xw, w.WHH, w.Bias, h0)
		return hs, hT, nil
	},
}

// NewRNN returns a tanh RNN from in input features to hidden units, with
// weights drawn from rng: Glorot-uniform input weights, orthogonal
// recurrent weights, zero bias. Sizes outside [1, MaxDim] or more
// than MaxRecurrentLayers layers panic with a *tensor.ShapeError; Build
// returns them as errors.
//
//	rnn := nn.NewRNN(1, 32, rng)
func NewRNN(in, hidden int, rng *rand.Rand, opts ...RecurrentOption) *RNN {
	return &RNN{rnnKind.new(rnnKind.args(in, hidden, opts), rng)}
}

func init() { registerRecurrent(rnnKind, func(r recurrent) Module { return &RNN{r} }) }
