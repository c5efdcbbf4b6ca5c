package explain

import (
	"context"
	"strings"
	"testing"
)

// Run refuses budgets past MaxSamples before any work (a CLI user once
// asked image LIME for 10^12 samples and ran out of memory), and names
// unknown methods with a suggestion.
func TestRunBoundsAndNames(t *testing.T) {
	s := &Subject{Kind: Table, Shape: []int{2}, Mode: Regression, Outputs: 1,
		Predict: func(ctx context.Context, x []float32, n int) ([]float32, error) {
			out := make([]float32, n)
			for i := range out {
				out[i] = x[2*i] + 2*x[2*i+1]
			}
			return out, nil
		},
		Background: []float32{0, 0, 1, 1, 2, 0, 0, 2}}
	if _, err := Run(context.Background(), "lime", s, []float32{1, 1}, Options{Samples: MaxSamples + 1}); err == nil || !strings.Contains(err.Error(), "MaxSamples") {
		t.Fatalf("an over-budget request: %v", err)
	}
	if _, err := Run(context.Background(), "lmie", s, []float32{1, 1}, Options{}); err == nil || !strings.Contains(err.Error(), `did you mean "lime"`) {
		t.Fatalf("a typo: %v", err)
	}
	res, err := Run(context.Background(), "kernelshap", s, []float32{1, 1}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Exact Shapley values of a linear model: w·(x − mean(background)).
	got := map[string]float64{}
	for _, f := range res.Top {
		got[f.Name] = f.Weight
	}
	if d0, d1 := got["x0"]-0.25, got["x1"]-2*0.25; d0*d0+d1*d1 > 1e-10 || res.Value != 3 || res.ModelCalls == 0 {
		t.Fatalf("shapley %v, value %v, calls %d", got, res.Value, res.ModelCalls)
	}
	if err := (MethodInfo{Name: "gradcam", Inputs: []InputKind{Image}}).Applies(s); err == nil {
		t.Fatal("an image method applies to a table")
	}
	// An option the method would ignore is an error, not an explanation
	// of something else than asked.
	unit := 3
	for _, c := range []struct {
		method, want string
		opt          Options
	}{
		{"kernelshap", `layer "dense0"`, Options{Layer: "dense0"}},
		{"lime", "neuron 3", Options{Neuron: &unit}},
		{"kernelshap", `rule "epsilon"`, Options{Rule: "epsilon"}},
	} {
		if _, err := Run(context.Background(), c.method, s, []float32{1, 1}, c.opt); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s with %+v: %v, want an error naming %s", c.method, c.opt, err, c.want)
		}
	}
	layerUnits := MethodInfo{Name: "layerig", Needs: NeedsLayer, Result: LayerUnits}
	if err := layerUnits.takes(Options{Layer: "dense0"}); err != nil {
		t.Errorf("layerig refused a layer: %v", err)
	}
	if err := layerUnits.takes(Options{Layer: "dense0", Neuron: &unit}); err == nil {
		t.Error("layerig took a neuron")
	}
	if err := (MethodInfo{Name: "neuronig", Needs: NeedsLayer, Result: NeuronUnit}).takes(Options{Layer: "d", Neuron: &unit}); err != nil {
		t.Errorf("neuronig refused a layer and a unit: %v", err)
	}
	if err := (MethodInfo{Name: "lrp", Needs: NeedsRules}).takes(Options{Rule: "gamma=0.25"}); err != nil {
		t.Errorf("lrp refused a rule: %v", err)
	}
}
