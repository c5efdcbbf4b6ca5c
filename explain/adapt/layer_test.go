package adapt

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/glassbox-ml/glassbox/explain"
)

// Split at any layer, Onward(Activations(x)) is the model itself, and the
// onward gradient is the CAM gradient Grad-CAM already checks.
func TestLayerSplitsTheModel(t *testing.T) {
	ctx := context.Background()
	m := smallCNN(2, relu)
	shape := []int{1, 8, 8}
	x := randInput(3, 3*64)
	want, err := Func(m, shape)(ctx, x, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.Layers {
		la, err := Layer(m, i, "l", shape, true)
		if err != nil {
			t.Fatal(err)
		}
		a, err := la.Activations(ctx, x, 3)
		if err != nil {
			t.Fatal(err)
		}
		out, _, err := la.Onward(ctx, a, 3, 1)
		if err != nil {
			t.Fatal(err)
		}
		closeTo(t, "onward outputs", out, want, 1e-5, 1e-6)
	}
	if _, err := Layer(m, len(m.Layers), "l", shape, true); err == nil {
		t.Fatal("a layer past the end was accepted")
	}
}

// Neuron's input gradient matches central differences of the unit's
// activation (a tanh network, smooth everywhere).
func TestNeuronGradientNumerically(t *testing.T) {
	ctx := context.Background()
	m := smallCNN(4, tanh)
	shape := []int{1, 8, 8}
	la, err := Layer(m, 2, "conv2d2", shape, true)
	if err != nil {
		t.Fatal(err)
	}
	x := randInput(5, 64)
	unit := 7
	_, g, err := la.Neuron(ctx, x, 1, unit)
	if err != nil {
		t.Fatal(err)
	}
	const h = 1e-2
	for _, i := range []int{0, 9, 27, 36, 63} {
		xp, xm := slices.Clone(x), slices.Clone(x)
		xp[i] += h
		xm[i] -= h
		ap, _ := la.Activations(ctx, xp, 1)
		am, _ := la.Activations(ctx, xm, 1)
		num := (float64(ap[unit]) - float64(am[unit])) / (2 * h)
		if math.Abs(num-float64(g[i])) > 2e-3+1e-2*math.Abs(num) {
			t.Fatalf("∂unit/∂x[%d] = %v, central difference %v", i, g[i], num)
		}
	}
	if _, _, err := la.Neuron(ctx, x, 1, len(la.Shape)*1000); err == nil {
		t.Fatal("an out-of-range unit was accepted")
	}
}

// Layer IG on a ReLU CNN's hidden layer adds up to the change of the
// logit, and neuron methods are refused for token-id inputs.
func TestLayerIGCompletenessOnCNN(t *testing.T) {
	ctx := context.Background()
	m := smallCNN(6, relu)
	shape := []int{1, 8, 8}
	la, err := Layer(m, 3, "relu3", shape, false)
	if err != nil {
		t.Fatal(err)
	}
	if la.Neuron != nil || !slices.Equal(la.Shape, []int{6, 6, 6}) {
		t.Fatalf("shape %v, neuron %v", la.Shape, la.Neuron != nil)
	}
	x := randInput(7, 64)
	e, err := explain.LayerIntegratedGradients(ctx, la, x, nil, 2, explain.IGOptions{Steps: 200})
	if err != nil {
		t.Fatal(err)
	}
	if c := e.Completeness; c.Relative > 0.01 || math.Abs(c.Delta) < 1e-4 {
		t.Fatalf("completeness %+v", c)
	}
}
