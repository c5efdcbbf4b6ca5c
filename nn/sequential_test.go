package nn_test

import (
	"fmt"
	"testing"

	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

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
