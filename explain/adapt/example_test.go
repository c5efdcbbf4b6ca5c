package adapt_test

import (
	"context"
	"fmt"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/explain/adapt"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Explain a small CNN's prediction for a 6×6 image three ways: integrated
// gradients (with its completeness check), Grad-CAM on the last
// convolution, and occlusion.
func Example() {
	rng := tensor.NewRNG(1)
	m := nn.NewSequential(
		nn.NewConv2D(1, 4, 3, rng, nn.ConvPadding(1)), nn.NewReLU(),
		nn.NewGlobalAvgPool2D(), nn.NewFlatten(), nn.NewLinear(4, 2, rng),
	)
	shape := []int{1, 6, 6}
	img := make([]float32, 36)
	for i := range img {
		img[i] = float32(i%6) / 5 // a left-to-right ramp
	}
	ctx := context.Background()

	ig, err := explain.IntegratedGradients(ctx, adapt.Grad(m, shape, true), img, nil, 1, explain.IGOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("integrated gradients: %d attributions, completeness within 1e-3: %v\n",
		len(ig.Values), ig.Completeness.Relative < 1e-3)

	layer, err := adapt.LastConv(m)
	if err != nil {
		panic(err)
	}
	cam, err := explain.GradCAM(ctx, adapt.CAM(m, layer, shape), img, 1, 6, 6)
	if err != nil {
		panic(err)
	}
	fmt.Printf("grad-cam on layer %d: %d×%d channels=%d\n", layer, cam.H, cam.W, cam.Channels)

	occ, err := explain.Occlusion(ctx, adapt.Func(m, shape, adapt.Probs()), img, 1, 6, 6, 1, explain.OcclusionOptions{Window: 2})
	if err != nil {
		panic(err)
	}
	fmt.Printf("occlusion: %d patches of %d×%d\n", occ.Patches, occ.Window, occ.Window)
	// Output:
	// integrated gradients: 36 attributions, completeness within 1e-3: true
	// grad-cam on layer 0: 6×6 channels=4
	// occlusion: 25 patches of 2×2
}
