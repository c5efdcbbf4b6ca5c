// Command curve is one-to-one regression: an MLP (1-64-64-1, tanh) fits
// y = sin(2x) + x/2 on [-3, 3] from 512 points and prints the mean squared
// error on 200 unseen points (it reaches < 1e-3 with this recipe: Adam
// lr 1e-2 with cosine decay, batch 64, 300 epochs).
//
//	go run ./examples/curve
package main

import (
	"context"
	"fmt"
	"log"
	"math"

	"github.com/glassbox-ml/glassbox/data"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/optim"
	"github.com/glassbox-ml/glassbox/tensor"
	"github.com/glassbox-ml/glassbox/train"
)

func f(x float64) float64 { return math.Sin(2*x) + x/2 }

func points(n int, seed uint64) *data.Tensors {
	rng := tensor.NewRNG(seed)
	xs, ys := make([]float32, n), make([]float32, n)
	for i := range xs {
		x := -3 + 6*rng.Float64()
		xs[i], ys[i] = float32(x), float32(f(x))
	}
	ds, _ := data.FromSlices(xs, []int{1}, ys)
	return ds
}

func main() {
	rng := tensor.NewRNG(1)
	m := nn.NewSequential(nn.NewLinear(1, 64, rng), nn.NewTanh(), nn.NewLinear(64, 64, rng), nn.NewTanh(), nn.NewLinear(64, 1, rng))
	tl, _ := data.NewLoader(points(512, 1), data.Options{BatchSize: 64, Shuffle: true, Seed: 1})
	vl, _ := data.NewLoader(points(200, 2), data.Options{BatchSize: 200})
	const epochs = 300
	opt, _ := optim.NewAdam(m.Params(), 1e-2)
	h, err := train.Fit(context.Background(), m, tl, train.Config{Epochs: epochs, Optimizer: opt, Task: train.Regression, Val: vl, Quiet: true,
		Schedule: optim.Cosine{Base: 1e-2, Min: 1e-4, Steps: epochs * tl.Len()}.LR})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("y = sin(2x) + x/2: held-out MSE %.2e, R² %.5f\n", h.Last().Val["mse"], h.Last().Val["r2"])
	for _, x := range []float32{-2.5, -1, 0, 1, 2.5} {
		out, _ := nn.Predict(m, tensor.MustFromSlice([]float32{x}, 1, 1))
		fmt.Printf("  f(%4.1f) = %7.4f, model %7.4f\n", x, f(float64(x)), out.Item())
	}
}
