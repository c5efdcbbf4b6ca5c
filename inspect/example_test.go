package inspect_test

import (
	"context"
	"fmt"

	"github.com/glassbox-ml/glassbox/inspect"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
	"github.com/glassbox-ml/glassbox/zoo"
)

// Points on the plane z = x + y in 3-D: two components keep all the
// variance. (By hand: the covariance [[2 0 2] [0 5 5] [2 5 7]] has
// eigenvalues 7 ± √19 and 0, of a total of 14.)
func ExampleFitPCA() {
	var pts []float64
	for i := 0; i < 20; i++ {
		x, y := float64(i%5), float64(i/5)*2
		pts = append(pts, x, y, x+y)
	}
	p, err := inspect.FitPCA(pts, 20, 3, 3)
	if err != nil {
		panic(err)
	}
	r := p.ExplainedRatio()
	fmt.Printf("PC1 %.3f, PC2 %.3f, PC3 %.3f\n", r[0], r[1], r[2])
	// Output: PC1 0.811, PC2 0.189, PC3 0.000
}

// Every layer's output for one input, as model.Summarize lists the layers.
func ExampleActivations() {
	m, _ := zoo.New("lenet", zoo.Config{InputShape: []int{1, 28, 28}, Outputs: 10}, tensor.NewRNG(1))
	x := make([]float32, 28*28)
	acts, err := inspect.Activations(context.Background(), m, x, []int{1, 28, 28})
	if err != nil {
		panic(err)
	}
	for _, a := range acts[:7] {
		fmt.Println(a.Index, a.Name, a.Shape)
	}
	// Output:
	// 0 conv2d0 [6 28 28]
	// 1 relu1 [6 28 28]
	// 2 maxpool2d2 [6 14 14]
	// 3 conv2d3 [16 10 10]
	// 4 relu4 [16 10 10]
	// 5 maxpool2d5 [16 5 5]
	// 6 flatten6 [400]
}

// Gradient ascent on the input finds what a channel responds to.
func ExampleMaximize() {
	ctx := context.Background()
	rng := tensor.NewRNG(1)
	m := nn.NewSequential(nn.NewConv2D(1, 4, 3, rng), nn.NewReLU(), nn.NewConv2D(4, 8, 3, rng))
	shape := []int{1, 16, 16}
	grey := make([]float32, 16*16)
	for i := range grey {
		grey[i] = 0.5
	}
	x, err := inspect.Maximize(ctx, m, shape, 2, 5, inspect.MaximizeOptions{Seed: 1})
	if err != nil {
		panic(err)
	}
	before, _ := inspect.ChannelActivation(ctx, m, grey, shape, 2, 5, false)
	after, _ := inspect.ChannelActivation(ctx, m, x, shape, 2, 5, false)
	fmt.Println("channel 5 responds more to its synthetic input than to grey:", after > before)
	// Output: channel 5 responds more to its synthetic input than to grey: true
}
