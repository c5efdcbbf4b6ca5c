package nn_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/nn/layertest"
	"github.com/glassbox-ml/glassbox/tensor"
)

// TestRecurrentConformance runs the layer conformance kit (shapes, names,
// gradients w.r.t. the input and every parameter, Spec round trip, seeds,
// eval determinism) on 2-layer RNN, LSTM and GRU stacks over 4 steps, in
// both output modes.
func TestRecurrentConformance(t *testing.T) {
	kinds := map[string]func(in, hidden int, rng *rand.Rand, opts ...nn.RecurrentOption) nn.Module{
		"rnn": func(in, h int, rng *rand.Rand, o ...nn.RecurrentOption) nn.Module { return nn.NewRNN(in, h, rng, o...) },
		"lstm": func(in, h int, rng *rand.Rand, o ...nn.RecurrentOption) nn.Module {
			return nn.NewLSTM(in, h, rng, o...)
		},
		"gru": func(in, h int, rng *rand.Rand, o ...nn.RecurrentOption) nn.Module { return nn.NewGRU(in, h, rng, o...) },
	}
	for _, kind := range []string{"rnn", "lstm", "gru"} {
		for _, seq := range []bool{false, true} {
			name := kind + "/last"
			opts := []nn.RecurrentOption{nn.RecurrentLayers(2)}
			if seq {
				name = kind + "/sequences"
				opts = append(opts, nn.ReturnSequences())
			}
			t.Run(name, func(t *testing.T) {
				layertest.Run(t, func(rng *rand.Rand) nn.Module { return kinds[kind](3, 4, rng, opts...) }, []int{2, 4, 3})
			})
		}
	}
}

func ExampleNewLSTM() {
	rng := tensor.NewRNG(1)
	// Two stacked layers reading 8 features per step, 16 hidden units.
	lstm := nn.NewLSTM(8, 16, rng, nn.RecurrentLayers(2), nn.ReturnSequences())
	lstm.SetName("lstm1")
	x := tensor.RandN(rng, 0, 1, 4, 10, 8) // 4 sequences of 10 steps
	y, err := nn.Predict(lstm, x)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("output:", y.Shape())
	for _, p := range lstm.Params()[:3] {
		fmt.Println(p.Name, p.Shape())
	}
	_, err = nn.Predict(lstm, tensor.New(4, 10, 5))
	fmt.Println(err)
	// Output:
	// output: [4 10 16]
	// lstm1/l0/w_ih [8 64]
	// lstm1/l0/w_hh [16 64]
	// lstm1/l0/bias [64]
	// lstm "lstm1": input has 5 features (shape [4 10 5]), layer expects [batch, seq, 8]
}

// ExampleLSTM_ForwardState feeds a sequence one step at a time, carrying
// the state, as a text generator does, and gets the same final output as
// one call on the whole sequence.
func ExampleLSTM_ForwardState() {
	rng := tensor.NewRNG(2)
	lstm := nn.NewLSTM(3, 5, rng)
	x := tensor.RandN(rng, 0, 1, 1, 6, 3)
	whole := lstm.Forward(nn.Eval(), autograd.Const(x))

	var state *nn.RecurrentState // nil: start from zeros
	var last *autograd.Var
	for t := 0; t < 6; t++ {
		step := x.Slice(1, t, t+1).Contiguous() // [1, 1, 3]
		last, state = lstm.ForwardState(nn.Eval(), autograd.Const(step), state)
	}
	fmt.Println(last.Shape(), len(state.H), len(state.C))
	fmt.Println("same as one call:", tensor.AllClose(last.Value, whole.Value, 1e-6, 1e-6))
	// Output:
	// [1 5] 1 1
	// same as one call: true
}

func ExampleNewGRU() {
	gru := nn.NewGRU(2, 8, tensor.NewRNG(1))
	y, _ := nn.Predict(gru, tensor.New(5, 20, 2)) // last hidden state only
	fmt.Println(y.Shape(), nn.NumParams(gru))
	// Output: [5 8] 288
}

func ExampleNewRNN() {
	rnn := nn.NewRNN(1, 4, tensor.NewRNG(1), nn.RecurrentLayers(3))
	y, _ := nn.Predict(rnn, tensor.New(2, 7, 1))
	fmt.Println(y.Shape(), len(rnn.Params()))
	// Output: [2 4] 9
}
