package adapt

import (
	"context"
	"testing"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// lenet is LeNet-5 sized for 1×28×28 digits (61.7k parameters).
func lenet() *nn.Sequential {
	rng := tensor.NewRNG(1)
	return nn.NewSequential(
		nn.NewConv2D(1, 6, 5, rng, nn.ConvPadding(2)), nn.NewReLU(), nn.NewMaxPool2D(2, 2, 0),
		nn.NewConv2D(6, 16, 5, rng), nn.NewReLU(), nn.NewMaxPool2D(2, 2, 0),
		nn.NewFlatten(),
		nn.NewLinear(400, 120, rng), nn.NewReLU(),
		nn.NewLinear(120, 84, rng), nn.NewReLU(),
		nn.NewLinear(84, 10, rng),
	)
}

var lenetShape = []int{1, 28, 28}

// BenchmarkIntegratedGradientsLeNet: 50 Gauss–Legendre steps plus the two
// end points, 52 input gradients in one batch.
func BenchmarkIntegratedGradientsLeNet(b *testing.B) {
	m := lenet()
	g := Grad(m, lenetShape, true)
	x := randInput(1, 28*28)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := explain.IntegratedGradients(ctx, g, x, nil, 3, explain.IGOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSaliencyLeNet is one input gradient: the unit IG pays 52 times.
func BenchmarkSaliencyLeNet(b *testing.B) {
	m := lenet()
	g := Grad(m, lenetShape, true)
	x := randInput(1, 28*28)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := explain.Saliency(ctx, g, x, 3, explain.SaliencyOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPredictLeNet52 is the forward pass alone on the 52 images IG
// differentiates.
func BenchmarkPredictLeNet52(b *testing.B) {
	m := lenet()
	f := Func(m, lenetShape, Probs())
	x := randInput(1, 52*28*28)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f(ctx, x, 52); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGradCAMLeNet(b *testing.B) {
	m := lenet()
	cam := CAM(m, 3, lenetShape)
	x := randInput(1, 28*28)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := explain.GradCAM(ctx, cam, x, 3, 28, 28); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOcclusionLeNet uses the default 4×4 window, stride 2: 169
// occluded digits.
func BenchmarkOcclusionLeNet(b *testing.B) {
	m := lenet()
	f := Func(m, lenetShape, Probs())
	x := randInput(1, 28*28)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := explain.Occlusion(ctx, f, x, 1, 28, 28, 3, explain.OcclusionOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
