package infer

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// A linear classifier over standardised features: predictions, CSV
// parsing and a gradient explanation with known answers.
func TestPredictAndExplainLinearTable(t *testing.T) {
	lin := nn.NewLinear(3, 2, tensor.NewRNG(1))
	copy(lin.Weight.Value.Data(), []float32{1, -1, 2, -2, 0, 0}) // [in=3, out=2]
	meta := model.Meta{Task: "classification", Classes: []string{"no", "yes"}, InputShape: []int{3},
		Features: []string{"a", "b", "c"}, Mean: []float32{10, 0, 0}, Std: []float32{2, 1, 1}}
	x, err := ParseRows([]byte("a,b,c\n12,0,0\n8,0,0\n"), meta)
	if err != nil {
		t.Fatal(err)
	}
	if got := x.At(0, 0); got != 1 { // (12−10)/2
		t.Fatalf("standardised a = %v, want 1", got)
	}
	preds, err := PredictRows(lin, meta, x)
	if err != nil {
		t.Fatal(err)
	}
	if preds[0].Label != "no" || preds[1].Label != "yes" {
		t.Fatalf("labels %q %q", preds[0].Label, preds[1].Label)
	}
	if s := preds[0].Probabilities[0] + preds[0].Probabilities[1]; math.Abs(float64(s)-1) > 1e-6 {
		t.Fatalf("probabilities sum to %v", s)
	}
	// Saliency of logit "no" w.r.t. the standardised inputs is column 0 of
	// the weights, |1|, |2|, |0|: feature b ranks first.
	res, err := Explain(context.Background(), lin, meta, x.Row(0).Data(), Options{Method: "saliency", Label: 0})
	if err != nil {
		t.Fatal(err)
	}
	if res.Top[0].Name != "b" || res.Top[0].Weight != 2 || res.Picture == nil {
		t.Fatalf("saliency top %+v", res.Top)
	}
	if _, err := Explain(context.Background(), lin, meta, x.Row(0).Data(), Options{Method: "lime"}); err == nil || !strings.Contains(err.Error(), "training data") {
		t.Fatalf("LIME without training rows: %v", err)
	}
	if _, err := ParseRows([]byte("1,2\n"), meta); err == nil || !strings.Contains(err.Error(), "2 features, the model takes 3") {
		t.Fatalf("wrong width: %v", err)
	}
}
