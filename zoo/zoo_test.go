package zoo

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/data"
	"github.com/glassbox-ml/glassbox/datasets"
	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/optim"
	"github.com/glassbox-ml/glassbox/tensor"
	"github.com/glassbox-ml/glassbox/train"
)

func TestEveryModelBuildsAndRoundTrips(t *testing.T) {
	shapes := map[string][]int{"linear": {1, 28, 28}, "mlp": {1, 28, 28}, "deep": {30}, "lenet": {1, 28, 28}, "cnn": {3, 32, 32},
		"perceptron": {4}, "rnn": {6}, "lstm": {6}, "gru": {6}, "rnn-lm": {6}, "lstm-lm": {6}, "gru-lm": {6}}
	for _, name := range Names() {
		shape, ok := shapes[name]
		if !ok {
			continue
		}
		t.Run(name, func(t *testing.T) {
			m, err := New(name, Config{InputShape: shape, Outputs: 7, Vocab: 7}, tensor.NewRNG(1))
			if err != nil {
				t.Fatal(err)
			}
			x := tensor.RandN(tensor.NewRNG(2), 0, 1, append([]int{2}, shape...)...)
			want := []int{2, 7}
			if len(shape) == 1 && name != "perceptron" && name != "deep" { // token ids
				x = tensor.RandU(tensor.NewRNG(2), 0, 6.99, 2, shape[0])
				x = tensor.Map(x, func(v float32) float32 { return float32(int(v)) })
				if strings.HasSuffix(name, "-lm") {
					want = []int{2, shape[0], 7}
				}
			}
			y, err := nn.Predict(m, x)
			if err != nil {
				t.Fatal(err)
			}
			if !tensor.SameShape(y.Shape(), want) {
				t.Fatalf("output shape %v, want %v", y.Shape(), want)
			}
			b, _ := json.Marshal(m.Spec())
			var s nn.Spec
			json.Unmarshal(b, &s)
			m2, err := nn.Build(s, tensor.NewRNG(3))
			if err != nil {
				t.Fatal(err)
			}
			st1, n1, _ := model.State(m)
			st2, n2, _ := model.State(m2)
			if strings.Join(n1, ",") != strings.Join(n2, ",") {
				t.Fatalf("rebuilt names %v, want %v", n2, n1)
			}
			for _, n := range n1 {
				if !tensor.SameShape(st1[n].Value.Shape(), st2[n].Value.Shape()) {
					t.Fatalf("%s: %v vs %v", n, st1[n].Value.Shape(), st2[n].Value.Shape())
				}
			}
		})
	}
}

func TestBadConfigs(t *testing.T) {
	cases := map[string]Config{
		"unknown model":  {InputShape: []int{4}, Outputs: 2},
		"needs image":    {InputShape: []int{784}, Outputs: 10},
		"at least 12×12": {InputShape: []int{1, 8, 8}, Outputs: 10},
		"one output":     {InputShape: []int{1, 28, 28}},
	}
	names := map[string]string{"unknown model": "resnet", "needs image": "lenet", "at least 12×12": "lenet", "one output": "lenet"}
	for want, cfg := range cases {
		if _, err := New(names[want], cfg, tensor.NewRNG(1)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v", want, err)
		}
	}
	// A model fed the wrong input gives an error, not a crash.
	m, _ := New("lenet", Config{InputShape: []int{1, 28, 28}, Outputs: 10}, tensor.NewRNG(1))
	if _, err := nn.Predict(m, tensor.New(2, 3, 28, 28)); err == nil || !strings.Contains(err.Error(), "channels") {
		t.Errorf("wrong channel count: %v", err)
	}
}

// A short run on real digits must really learn: the CI-sized version of
// the MNIST recipes (the full numbers are in the examples and the notes).
func TestMLPLearnsMNISTQuickly(t *testing.T) {
	ds, err := datasets.Load(context.Background(), "mnist-small", datasets.Options{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	tr, _ := data.FromImages(ds.Train)
	te, _ := data.FromImages(ds.Test)
	sub := &data.Subset{Base: tr, Indices: make([]int, 6400)}
	for i := range sub.Indices {
		sub.Indices[i] = i
	}
	m, _ := New("mlp", Config{InputShape: []int{1, 28, 28}, Outputs: 10}, tensor.NewRNG(1))
	opt, _ := optim.NewAdam(m.Params(), 1e-3)
	tl, _ := data.NewLoader(sub, data.Options{BatchSize: 64, Shuffle: true, Seed: 1})
	vl, _ := data.NewLoader(te, data.Options{BatchSize: 500})
	h, err := train.Fit(context.Background(), m, tl, train.Config{Epochs: 3, Optimizer: opt, Classes: 10, Val: vl, Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	if acc := h.Last().Val["accuracy"]; acc < 0.90 {
		t.Fatalf("MLP test accuracy after 300 steps = %.3f, want ≥ 0.90", acc)
	}
}
