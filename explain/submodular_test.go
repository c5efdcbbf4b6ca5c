package explain

import (
	"context"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestSubmodularPickKnownAnswer(t *testing.T) {
	ws := [][]FeatureWeight{
		{{Feature: 0, Weight: 1}, {Feature: 1, Weight: -1}},
		{{Feature: 0, Weight: 1}, {Feature: 1, Weight: 1}}, // redundant with 0
		{{Feature: 2, Weight: 4}},
		{{Feature: 3, Weight: 0.25}},
	}
	p, err := SubmodularPick(ws, 4, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.Indices, []int{0, 2, 3}) {
		t.Errorf("picked %v, want [0 2 3] (the redundant explanation 1 adds nothing)", p.Indices)
	}
	s2 := math.Sqrt(2)
	want := []float64{2 * s2, 2*s2 + 2, 2*s2 + 2.5}
	for i := range want {
		if math.Abs(p.Coverage[i]-want[i]) > 1e-12 {
			t.Errorf("coverage %v, want %v", p.Coverage, want)
			break
		}
	}
	if math.Abs(p.Importance[2]-2) > 1e-12 {
		t.Errorf("importance %v", p.Importance)
	}
	if _, err := SubmodularPick(ws, 2, 1); err == nil || !strings.Contains(err.Error(), "feature 2") {
		t.Errorf("feature out of range: %v", err)
	}
	if _, err := SubmodularPick(nil, 2, 1); err == nil {
		t.Error("no explanations must be an error")
	}
	if _, err := SubmodularPick(ws, 4, 0); err == nil {
		t.Error("budget 0 must be an error")
	}
}

func TestSPLimeTabularSeeded(t *testing.T) {
	const n, d = 300, 6
	train := gaussianData(n, d, 1, nil)
	ex, _ := NewTabular(train, d, TabularConfig{})
	model := mlpModel(d, 8, 3)
	explain := func(ctx context.Context, i int, seed uint64) ([]FeatureWeight, error) {
		e, err := ex.Explain(ctx, model, train[i*d:(i+1)*d], TabularOptions{LIMEOptions: LIMEOptions{Seed: seed, Samples: 500, NumFeatures: 2}})
		if err != nil {
			return nil, err
		}
		return e.Labels[0].Weights, nil
	}
	a, err := SPLime(context.Background(), explain, n, 20, d, 3, 7)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := SPLime(context.Background(), explain, n, 20, d, 3, 7)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("same seed, different picks: %+v vs %+v", a, b)
	}
	c, _ := SPLime(context.Background(), explain, n, 20, d, 3, 8)
	if reflect.DeepEqual(a.Candidates, c.Candidates) {
		t.Error("a different seed drew the same candidates")
	}
	if len(a.Indices) != 3 || len(a.Candidates) != 20 {
		t.Fatalf("picked %v from %d candidates", a.Indices, len(a.Candidates))
	}
	for _, i := range a.Indices {
		if !containsInt(a.Candidates, i) {
			t.Errorf("picked instance %d is not a candidate", i)
		}
	}
	// Coverage grows and no single explanation of 2 features covers more
	// than the pick of 3.
	if !(a.Coverage[0] < a.Coverage[2]) {
		t.Errorf("coverage did not grow: %v", a.Coverage)
	}
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
