package nn

import (
	"math/rand/v2"

	"github.com/glassbox-ml/glassbox/autograd"
)

// GRU is a gated recurrent unit layer (Cho et al.) in PyTorch's and
// cuDNN's formulation, optionally stacked, on batch-first sequences:
//
//	x: [batch, seq, in]; returns [batch, hidden] (the last hidden state),
//	or [batch, seq, hidden] with ReturnSequences
//
// Each step computes, with gates in the order r, z, n,
//
//	r = σ(x_t·W_ir + b_ir + h_{t−1}·W_hr + b_hr)
//	z = σ(x_t·W_iz + b_iz + h_{t−1}·W_hz + b_hz)
//	n = tanh(x_t·W_in + b_in + r ⊙ (h_{t−1}·W_hn + b_hn))
//	h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}
//
// The input projection of all steps is one GEMM and the recurrence one
// fused tape operation (autograd.GRUSeq). The state starts at zero unless
// ForwardState is given one. Parameters are named "NAME/l0/w_ih",
// "NAME/l0/w_hh", "NAME/l0/b_ih", "NAME/l0/b_hh", "NAME/l1/…".
//
// Its fields and methods come from the base it shares with RNN and LSTM:
// Layers (each stacked layer's weights, input layer first), In and Hidden
// (the sizes) and ReturnSequences.
type GRU struct{ recurrent }

var (
	_ Module = (*GRU)(nil)
	_ Named  = (*GRU)(nil)
	_ Shaper = (*GRU)(nil)
)

// gruKind is what makes a GRU: three gate blocks (r, z, n), a separate
// recurrent bias b_hh and autograd.GRUSeq.
var gruKind = &recurrentKind{
	typ: "gru", gates: 3, biasHH: true,
	seq: func(tp *autograd.Tape, xw *autograd.Var, w RecurrentWeights, h0, _ *autograd.Var) (hs, hT, cT *autograd.Var) {
		hs, hT = tp.GRUSeq(xw, w.WHH, w.Bias, w.BiasHH, h0)
		return hs, hT, nil
	},
}

// NewGRU returns a GRU from in input features to hidden units, with
// weights drawn from rng: Glorot-uniform input weights, orthogonal
// recurrent weights, zero biases. Sizes outside [1, MaxDim] or more
// than MaxRecurrentLayers layers panic with a *tensor.ShapeError; Build
// returns them as errors.
//
//	gru := nn.NewGRU(64, 128, rng, nn.RecurrentLayers(2))
func NewGRU(in, hidden int, rng *rand.Rand, opts ...RecurrentOption) *GRU {
	return &GRU{gruKind.new(gruKind.args(in, hidden, opts), rng)}
}

func init() { registerRecurrent(gruKind, func(r recurrent) Module { return &GRU{r} }) }
