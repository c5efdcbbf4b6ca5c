package nn_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/nn/layertest"
	"github.com/glassbox-ml/glassbox/tensor"
)

// TestSequentialConforms runs the conformance kit on whole small models:
// a CNN (conv → relu → pool → flatten → linear) whose Conv2D is followed
// by a ReLU, so Sequential takes the fused Conv2DReLU path, a CNN whose
// conv feeds a pool directly (the unfused path), an MLP with batch norm
// and dropout, and a recurrent text classifier.
func TestSequentialConforms(t *testing.T) {
	for _, tc := range []struct {
		name  string
		mk    func(rng *rand.Rand) nn.Module
		shape []int
		opts  []layertest.Option
	}{
		{"cnn fused conv-relu", func(rng *rand.Rand) nn.Module {
			return nn.NewSequential(
				nn.NewConv2D(2, 3, 3, rng, nn.ConvPadding(1)), nn.NewReLU(), nn.NewMaxPool2D(2, 0, 0),
				nn.NewFlatten(), nn.NewLinear(3*2*2, 2, rng))
		}, []int{2, 2, 4, 4}, nil},
		{"cnn strided groups avgpool", func(rng *rand.Rand) nn.Module {
			return nn.NewSequential(
				nn.NewConv2D(2, 4, 3, rng, nn.ConvStride(2), nn.ConvPadding(1), nn.ConvGroups(2)), nn.NewReLU(),
				nn.NewConv2D(4, 4, 1, rng), nn.NewAvgPool2D(2, 1, 0),
				nn.NewFlatten(), nn.NewLinear(4*2*2, 3, rng))
		}, []int{2, 2, 6, 6}, nil},
		{"cnn unfused conv-pool", func(rng *rand.Rand) nn.Module {
			return nn.NewSequential(
				nn.NewConv2D(1, 2, 3, rng), nn.NewMaxPool2D(2, 0, 0), nn.NewTanh(),
				nn.NewConv2D(2, 2, 1, rng, nn.ConvNoBias()), nn.NewReLU(), nn.NewGlobalAvgPool2D(),
				nn.NewLinear(2, 2, rng))
		}, []int{2, 1, 6, 6}, nil},
		{"mlp batchnorm dropout", func(rng *rand.Rand) nn.Module {
			return nn.NewSequential(
				nn.NewLinear(4, 5, rng), nn.NewBatchNorm1D(5), nn.NewGELU(), nn.NewDropout(0.25),
				nn.NewLinear(5, 3, rng), nn.NewSoftmax())
		}, []int{4, 4}, nil},
		{"nested", func(rng *rand.Rand) nn.Module {
			return nn.NewSequential(
				nn.NewSequential(nn.NewLinear(3, 4, rng), nn.NewSigmoid()),
				nn.NewSequential(nn.NewLinear(4, 2, rng), nn.NewLeakyReLU(0.1)))
		}, []int{3, 3}, nil},
		{"embedding gru", func(rng *rand.Rand) nn.Module {
			return nn.NewSequential(
				nn.NewEmbedding(6, 3, rng), nn.NewGRU(3, 4, rng, nn.ReturnSequences()),
				nn.NewLSTM(4, 3, rng), nn.NewLinear(3, 2, rng))
		}, []int{2, 4}, []layertest.Option{layertest.Input(ids(6)), layertest.NoInputGrad()}},
	} {
		t.Run(tc.name, func(t *testing.T) { layertest.Run(t, tc.mk, tc.shape, tc.opts...) })
	}
}

// TestSequentialNamesUnique: parameter names are unique across nested
// Sequentials and when a generated name is already taken, and survive a
// Spec round trip unchanged.
func TestSequentialNamesUnique(t *testing.T) {
	rng := tensor.NewRNG(1)
	named := nn.NewLinear(2, 2, rng)
	named.SetName("linear1")
	for _, m := range []*nn.Sequential{
		nn.NewSequential(
			nn.NewSequential(nn.NewLinear(2, 3, rng), nn.NewReLU()),
			nn.NewSequential(nn.NewLinear(3, 2, rng), nn.NewReLU()),
			nn.NewSequential(nn.NewSequential(nn.NewLinear(2, 2, rng)))),
		nn.NewSequential(named, nn.NewLinear(2, 2, rng)),
		nn.NewSequential(&nn.Sequential{Layers: []nn.Module{nn.NewLinear(2, 2, rng), nn.NewLinear(2, 2, rng)}}),
	} {
		names := map[string]bool{}
		for _, p := range m.Params() {
			if p.Name == "" || names[p.Name] {
				t.Fatalf("parameter name %q empty or repeated in %v", p.Name, paramNames(m))
			}
			names[p.Name] = true
		}
		b, err := nn.Build(m.Spec(), tensor.NewRNG(2))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := fmt.Sprint(paramNames(b)), fmt.Sprint(paramNames(m)); got != want {
			t.Fatalf("rebuilt names %s, want %s", got, want)
		}
	}
}

func paramNames(m nn.Module) []string {
	var out []string
	for _, p := range m.Params() {
		out = append(out, p.Name)
	}
	return out
}
