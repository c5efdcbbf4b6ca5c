package explain

import (
	"context"
	"math"
	"testing"
)

func TestTabularLinearRecoversScaledWeights(t *testing.T) {
	const n, d = 2000, 8
	scales := []float64{1, 2, 0.5, 3, 1, 0.25, 1.5, 4}
	train := gaussianData(n, d, 1, scales)
	w := []float64{3, -1, 2, 0.5, -2.5, 4, -0.2, 0.7}
	ex, err := NewTabular(train, d, TabularConfig{Discretizer: DiscretizeNone, Mode: Regression})
	if err != nil {
		t.Fatal(err)
	}
	x := train[5*d : 6*d]
	e, err := ex.Explain(context.Background(), linearModel(w, 1), x, TabularOptions{Seed: 3, NumFeatures: d})
	if err != nil {
		t.Fatal(err)
	}
	le := e.Label(0)
	got := weightsByFeature(le, d)
	want := make([]float64, d)
	for j := range d {
		want[j] = w[j] * ex.cols[j].std
		if math.Signbit(got[j]) != math.Signbit(want[j]) {
			t.Errorf("feature %d: sign of %v, want sign of %v", j, got[j], want[j])
		}
		if math.Abs(got[j]-want[j]) > 0.01*math.Abs(want[j])+1e-3 {
			t.Errorf("feature %d: weight %v, want w·std = %v", j, got[j], want[j])
		}
	}
	if rho := spearman(got, want); rho < 0.99 {
		t.Errorf("Spearman %v < 0.99: got %v want %v", rho, got, want)
	}
	if le.Score < 0.999 || le.LocalError > 1e-3*math.Abs(le.ModelPrediction)+1e-3 {
		t.Errorf("a linear model must be fitted exactly: score %v, local %v vs model %v", le.Score, le.LocalPrediction, le.ModelPrediction)
	}
	t.Logf("weights %v\nwant    %v\ntiming %+v overhead %.2f", got, want, e.Timing, e.Timing.OverheadShare())
}
