package onnx

import (
	"math"
	"testing"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
	"github.com/glassbox-ml/glassbox/zoo"
)

// Every zoo model written as ONNX, encoded, decoded and imported back
// computes what the glassbox model computes, within 1e-5.
func TestZooRoundTripThroughONNX(t *testing.T) {
	rng := tensor.NewRNG(3)
	for _, c := range []struct {
		name  string
		cfg   zoo.Config
		shape []int
		ids   int // > 0: inputs are token ids below this
	}{
		{"linear", zoo.Config{InputShape: []int{6}, Outputs: 3}, []int{6}, 0},
		{"perceptron", zoo.Config{InputShape: []int{6}, Outputs: 3}, []int{6}, 0},
		{"mlp", zoo.Config{InputShape: []int{6}, Outputs: 3}, []int{6}, 0},
		{"deep", zoo.Config{InputShape: []int{6}, Outputs: 3}, []int{6}, 0},
		{"lenet", zoo.Config{InputShape: []int{1, 28, 28}, Outputs: 10}, []int{1, 28, 28}, 0},
		{"cnn", zoo.Config{InputShape: []int{3, 16, 16}, Outputs: 5, Hidden: 32}, []int{3, 16, 16}, 0},
		{"rnn", zoo.Config{InputShape: []int{7}, Outputs: 2, Vocab: 30, Hidden: 8}, []int{7}, 30},
		{"lstm", zoo.Config{InputShape: []int{7}, Outputs: 2, Vocab: 30, Hidden: 8}, []int{7}, 30},
		{"gru", zoo.Config{InputShape: []int{7}, Outputs: 2, Vocab: 30, Hidden: 8}, []int{7}, 30},
		{"rnn-lm", zoo.Config{InputShape: []int{7}, Outputs: 30, Vocab: 30, Hidden: 8}, []int{7}, 30},
		{"lstm-lm", zoo.Config{InputShape: []int{7}, Outputs: 30, Vocab: 30, Hidden: 8}, []int{7}, 30},
		{"gru-lm", zoo.Config{InputShape: []int{7}, Outputs: 30, Vocab: 30, Hidden: 8}, []int{7}, 30},
	} {
		m, err := zoo.New(c.name, c.cfg, tensor.NewRNG(1))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		// Random batch-norm statistics and biases, so nothing hides behind
		// the initial zeros and ones.
		for _, p := range m.Params() {
			for i := range p.Value.Data() {
				p.Value.Data()[i] += float32(rng.NormFloat64() * 0.05)
			}
		}
		if b, ok := m.(nn.Buffered); ok {
			for _, v := range b.Buffers() {
				for i := range v.Value.Data() {
					v.Value.Data()[i] = 0.5 + rng.Float32()
				}
			}
		}
		const batch = 3
		x := tensor.New(append([]int{batch}, c.shape...)...)
		for i := range x.Data() {
			if c.ids > 0 {
				x.Data()[i] = float32(rng.IntN(c.ids))
			} else {
				x.Data()[i] = float32(rng.NormFloat64())
			}
		}
		want, err := nn.Predict(m, x)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		om, err := Export(m, c.shape, ExportOptions{})
		if err != nil {
			t.Fatalf("%s: export: %v", c.name, err)
		}
		b, err := om.Encode()
		if err != nil {
			t.Fatalf("%s: encode: %v", c.name, err)
		}
		back, err := Decode(b, ReadOptions{})
		if err != nil {
			t.Fatalf("%s: decode: %v", c.name, err)
		}
		imp, err := Import(back, ImportOptions{})
		if err != nil {
			t.Fatalf("%s: import: %v", c.name, err)
		}
		got := imp.Forward(nn.Eval(), autograd.Const(x)).Value
		if !tensor.SameShape(got.Shape(), want.Shape()) {
			t.Fatalf("%s: output %v, glassbox %v", c.name, got.Shape(), want.Shape())
		}
		for i, v := range want.Data() {
			if d := math.Abs(float64(got.Data()[i] - v)); d > 1e-5*math.Max(1, math.Abs(float64(v))) {
				t.Fatalf("%s: output %d is %v after the round trip, %v before", c.name, i, got.Data()[i], v)
			}
		}
	}
}
