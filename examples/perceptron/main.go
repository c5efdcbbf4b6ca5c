// Command perceptron shows what a single perceptron can and cannot learn:
// with the perceptron rule it reaches 100% on AND and OR (linearly
// separable) and never on XOR; a small MLP trained by gradient descent
// learns XOR.
//
//	go run ./examples/perceptron
package main

import (
	"context"
	"fmt"
	"log"

	"github.com/glassbox-ml/glassbox/data"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/optim"
	"github.com/glassbox-ml/glassbox/tensor"
	"github.com/glassbox-ml/glassbox/train"
)

var inputs = []float32{0, 0, 0, 1, 1, 0, 1, 1}

func accuracy(pred, want []float32) float64 {
	ok := 0
	for i := range want {
		if pred[i] == want[i] {
			ok++
		}
	}
	return float64(ok) / float64(len(want))
}

func main() {
	x := tensor.MustFromSlice(inputs, 4, 2)
	for _, g := range []struct {
		name string
		y    []float32
	}{{"AND", []float32{0, 0, 0, 1}}, {"OR", []float32{0, 1, 1, 1}}, {"XOR", []float32{0, 1, 1, 0}}} {
		p := nn.NewPerceptron(2, 1, tensor.NewRNG(1))
		h, err := p.PerceptronRule(x, tensor.MustFromSlice(g.y, 4), 0.1, 100)
		if err != nil {
			log.Fatal(err)
		}
		out, _ := nn.Predict(p, x)
		fmt.Printf("perceptron %-3s: %3.0f%% after %d epochs (converged: %v)\n", g.name, 100*accuracy(out.Data(), g.y), len(h.Mistakes), h.Converged)
	}
	// An MLP with one hidden layer of 8 tanh units learns XOR.
	rng := tensor.NewRNG(3)
	mlp := nn.NewSequential(nn.NewLinear(2, 8, rng), nn.NewTanh(), nn.NewLinear(8, 2, rng))
	ds, _ := data.FromSlices(inputs, []int{2}, []float32{0, 1, 1, 0})
	l, _ := data.NewLoader(ds, data.Options{BatchSize: 4})
	opt, _ := optim.NewAdam(mlp.Params(), 0.05)
	h, err := train.Fit(context.Background(), mlp, l, train.Config{Epochs: 300, Optimizer: opt, Classes: 2, Quiet: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("MLP 2-8-2     XOR: %3.0f%% (loss %.4f)\n", 100*h.Last().Train["accuracy"], h.Last().Train["loss"])
}
