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
}
