package nn

import (
	"math/rand/v2"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
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
type GRU struct {
	// Layers holds each stacked layer's weights, input layer first.
	Layers []RecurrentWeights
	// In and Hidden are the input and hidden sizes.
	In, Hidden int
	// ReturnSequences makes Forward return every step's hidden state.
	ReturnSequences bool

	name string
}

var (
	_ Module = (*GRU)(nil)
	_ Named  = (*GRU)(nil)
)

// NewGRU returns a GRU from in input features to hidden units, with
// weights drawn from rng: Glorot-uniform input weights, orthogonal
// recurrent weights, zero biases. Non-positive sizes panic with a
// *tensor.ShapeError; Build returns them as errors.
//
//	gru := nn.NewGRU(64, 128, rng, nn.RecurrentLayers(2))
func NewGRU(in, hidden int, rng *rand.Rand, opts ...RecurrentOption) *GRU {
	a := recurrentOpts(in, hidden, opts)
	if err := a.valid(); err != nil {
		panic(&tensor.ShapeError{Op: "gru", Msg: err.Error()})
	}
	return newGRU(a, rng)
}

func newGRU(a recurrentArgs, rng *rand.Rand) *GRU {
	l := &GRU{Layers: newRecurrentWeights(a, 3, false, true, rng), In: a.Input, Hidden: a.Hidden, ReturnSequences: a.ReturnSequences}
	l.SetName("")
	return l
}

// Forward runs the layer from a zero state: x [batch, seq, in] →
// [batch, hidden], or [batch, seq, hidden] with ReturnSequences.
func (l *GRU) Forward(c *Ctx, x *autograd.Var) *autograd.Var {
	y, _ := l.ForwardState(c, x, nil)
	return y
}

// ForwardState runs the layer from the initial state init (nil, or nil
// entries, mean zeros; H holds one [batch, hidden] tensor per layer, C
// must be empty) and returns the output and the final state of every
// layer. Gradients flow into init's tensors when they require them.
func (l *GRU) ForwardState(c *Ctx, x *autograd.Var, init *RecurrentState) (*autograd.Var, *RecurrentState) {
	op := layerOpName("gru", l.name)
	batch := checkRecurrentInput(op, x, l.In)
	tp := ctxTape(c)
	final := &RecurrentState{}
	seq, last := x, (*autograd.Var)(nil)
	for i, w := range l.Layers {
		h0, _ := initialState(op, init, i, len(l.Layers), batch, l.Hidden, false)
		hs, hT := tp.GRUSeq(inputProjection(tp, seq, w.WIH), w.WHH, w.Bias, w.BiasHH, h0)
		final.H = append(final.H, hT)
		seq, last = hs, hT
	}
	if l.ReturnSequences {
		return seq, final
	}
	return last, final
}

// Params returns every layer's w_ih, w_hh, b_ih and b_hh, input layer
// first.
func (l *GRU) Params() []*autograd.Var { return recurrentParams(l.Layers) }

// Spec describes the layer for saving; Build rebuilds it.
func (l *GRU) Spec() Spec {
	return MakeSpec("gru", l.name, recurrentArgs{Input: l.In, Hidden: l.Hidden, Layers: len(l.Layers), ReturnSequences: l.ReturnSequences})
}

// LayerName returns the layer's name ("" until named).
func (l *GRU) LayerName() string { return l.name }

// SetName names the layer and its parameters ("NAME/l0/w_ih", …).
func (l *GRU) SetName(name string) {
	l.name = name
	nameRecurrentWeights(name, l.Layers)
}

func init() {
	registerRecurrent("gru", func(a recurrentArgs, rng *rand.Rand) Module { return newGRU(a, rng) })
}
