package nn_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/nn/layertest"
	"github.com/glassbox-ml/glassbox/tensor"
)

func TestFlatten(t *testing.T) {
	x := tensor.Arange(0, 1, 24).Reshape(2, 3, 2, 2)
	y, err := nn.Predict(nn.NewFlatten(), x)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(y.Shape()) != "[2 12]" || y.At(1, 0) != 12 || y.At(0, 11) != 11 {
		t.Fatalf("flatten gave %v %v", y.Shape(), y)
	}
	err = autograd.GradCheck(func(tp *autograd.Tape, v []*autograd.Var) *autograd.Var {
		return nn.NewFlatten().Forward(&nn.Ctx{Tape: tp}, v[0])
	}, []*tensor.Tensor{tensor.RandN(tensor.NewRNG(1), 0, 1, 2, 3, 2)}, 1e-2, 2e-2, 2e-3)
	if err != nil {
		t.Fatal(err)
	}
	f := nn.NewFlatten()
	f.SetName("flat")
	if _, err := nn.Apply(f, nn.Eval(), tensor.New(784)); err == nil || !strings.Contains(err.Error(), `flatten "flat": input must be [batch, features...] with at least 2 axes, got [784]`) {
		t.Fatalf("rank-1 input: %v", err)
	}
}

// distinctInput fills a tensor with a random permutation of 0, 0.1, 0.2, …
// so every max-pooling window has a unique maximum well clear of the
// finite-difference step.
func distinctInput(rng *rand.Rand, shape []int) *tensor.Tensor {
	n := tensor.Numel(shape)
	d := make([]float32, n)
	for i, p := range rng.Perm(n) {
		d[i] = 0.1 * float32(p)
	}
	return tensor.MustFromSlice(d, shape...)
}

// tiedInput draws every value from {−1, 0, 1}, so most max-pooling
// windows hold a tie for their maximum: the gradient there is checked as
// a subgradient. Only for non-overlapping windows: an element tied in
// several overlapping windows sits on several kinks at once, where the
// one-sided derivatives along it need not bracket the (valid) gradient
// the first-maximum rule picks.
func tiedInput(rng *rand.Rand, shape []int) *tensor.Tensor {
	x := tensor.New(shape...)
	d := x.Data()
	for i := range d {
		d[i] = float32(rng.IntN(3) - 1)
	}
	return x
}

// TestSpatialLayersConformance runs the nn/layertest kit (shapes, names,
// gradients for the input and every parameter, Spec round trip, seeding,
// eval determinism) on the convolution, pooling and flatten layers.
func TestSpatialLayersConformance(t *testing.T) {
	for _, tc := range []struct {
		name  string
		mk    func(rng *rand.Rand) nn.Module
		shape []int
		opts  []layertest.Option
	}{
		{"conv2d", func(rng *rand.Rand) nn.Module { return nn.NewConv2D(3, 4, 3, rng, nn.ConvPadding(1)) }, []int{2, 3, 5, 6}, nil},
		{"conv2d strided", func(rng *rand.Rand) nn.Module {
			return nn.NewConv2D(2, 3, 3, rng, nn.ConvStrideHW(2, 1), nn.ConvPaddingHW(1, 0), nn.ConvKernelHW(3, 2))
		}, []int{2, 2, 6, 5}, nil},
		{"conv2d groups", func(rng *rand.Rand) nn.Module { return nn.NewConv2D(4, 6, 3, rng, nn.ConvGroups(2), nn.ConvNoBias()) }, []int{2, 4, 5, 5}, nil},
		{"conv2d 1x1", func(rng *rand.Rand) nn.Module { return nn.NewConv2D(3, 5, 1, rng) }, []int{2, 3, 4, 4}, nil},
		{"maxpool2d", func(*rand.Rand) nn.Module { return nn.NewMaxPool2D(2, 0, 0) }, []int{2, 3, 4, 6}, []layertest.Option{layertest.Input(distinctInput)}},
		{"maxpool2d overlapping", func(*rand.Rand) nn.Module { return nn.NewMaxPool2D(3, 2, 1) }, []int{2, 2, 5, 5}, []layertest.Option{layertest.Input(distinctInput)}},
		{"conv2d depthwise", func(rng *rand.Rand) nn.Module {
			return nn.NewConv2D(3, 3, 3, rng, nn.ConvGroups(3), nn.ConvStride(2), nn.ConvPadding(1))
		}, []int{2, 3, 5, 4}, nil},
		{"maxpool2d random input", func(*rand.Rand) nn.Module { return nn.NewMaxPool2D(2, 1, 1) }, []int{2, 2, 4, 5}, nil},
		{"maxpool2d ties", func(*rand.Rand) nn.Module { return nn.NewMaxPool2D(2, 0, 0) }, []int{2, 2, 4, 4}, []layertest.Option{layertest.Input(tiedInput)}},
		{"maxpool2d non-square", func(*rand.Rand) nn.Module {
			return &nn.MaxPool2D{Pool: tensor.PoolParams{KH: 2, KW: 3, StrideH: 1, StrideW: 2, PadW: 1}}
		}, []int{2, 2, 4, 5}, nil},
		{"avgpool2d", func(*rand.Rand) nn.Module { return nn.NewAvgPool2D(3, 2, 1) }, []int{2, 2, 5, 6}, nil},
		{"avgpool2d non-overlapping", func(*rand.Rand) nn.Module { return nn.NewAvgPool2D(2, 0, 0) }, []int{2, 3, 4, 6}, nil},
		{"avgpool2d non-square", func(*rand.Rand) nn.Module {
			return &nn.AvgPool2D{Pool: tensor.PoolParams{KH: 3, KW: 2, StrideH: 2, StrideW: 1, PadH: 1}}
		}, []int{2, 2, 5, 4}, nil},
		{"globalavgpool2d", func(*rand.Rand) nn.Module { return nn.NewGlobalAvgPool2D() }, []int{2, 3, 4, 5}, nil},
		{"flatten", func(*rand.Rand) nn.Module { return nn.NewFlatten() }, []int{2, 3, 2, 2}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) { layertest.Run(t, tc.mk, tc.shape, tc.opts...) })
	}
}
