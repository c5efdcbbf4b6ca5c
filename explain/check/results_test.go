package check_test

import (
	"testing"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/explain/check"
)

// TestRandomisationPeak: the verdict's statistic is the highest
// similarity over the cascade, so a map that survives the top layer's
// randomisation is caught even when the deep steps pull the mean down
// (guided backprop on the demo LeNet); in a two-layer model the first
// step is left out.
func TestRandomisationPeak(t *testing.T) {
	r := check.Randomisation{Layers: []int{1, 2, 3, 4, 5}, Spearman: []float64{0.92, 0.85, 0.64, 0.47, 0.20}}
	if v, at := r.Peak(); v != 0.92 || at != 0 {
		t.Errorf("peak %v at %d, want 0.92 at step 0", v, at)
	}
	if m := r.Mean(); m > 0.62 || m < 0.61 {
		t.Errorf("mean %v", m)
	}
	r = check.Randomisation{Layers: []int{1, 2}, Spearman: []float64{0.84, 0.1}}
	if v, at := r.Peak(); v != 0.1 || at != 1 {
		t.Errorf("two layers: peak %v at %d, want 0.1 at step 1", v, at)
	}
	r = check.Randomisation{Layers: []int{1, 2, 3}, Spearman: []float64{0.2, -0.3, 0.6}}
	if v, at := r.Peak(); v != 0.6 || at != 2 {
		t.Errorf("peak %v at %d, want 0.6 at step 2", v, at)
	}
}

// TestResultsThatAreNotAttributions: anchors, counterfactuals and TCAV
// scores are judged by their own figures.
func TestResultsThatAreNotAttributions(t *testing.T) {
	verdicts := func(cs []explain.Check) map[string]string {
		out := map[string]string{}
		for _, c := range cs {
			out[c.Name] = c.Verdict
		}
		return out
	}
	v := verdicts(check.RuleChecks(&explain.Result{Quality: map[string]float64{"precision": 0.97, "coverage": 0.005}}))
	if v["precision"] != explain.Good || v["coverage"] != explain.Poor {
		t.Errorf("anchor 0.97/0.005: %v", v)
	}
	if v = verdicts(check.RuleChecks(&explain.Result{Quality: map[string]float64{"precision": 0.6}})); v["precision"] != explain.Poor {
		t.Errorf("anchor of precision 0.6: %v", v)
	}
	v = verdicts(check.WhatIfChecks(&explain.Result{Quality: map[string]float64{"flipped": 0, "distance": 0, "changed_features": 0}}))
	if v["flipped"] != explain.Poor || len(v) != 1 {
		t.Errorf("a counterfactual that does not flip: %v", v)
	}
	v = verdicts(check.WhatIfChecks(&explain.Result{Quality: map[string]float64{"flipped": 1, "distance": 12, "changed_features": 2}}))
	if v["flipped"] != explain.Good || v["distance"] != explain.Poor || v["changed_features"] != explain.Good {
		t.Errorf("a far counterfactual of 2 changes: %v", v)
	}
	if ov := check.Overall("Counterfactual", check.WhatIfChecks(&explain.Result{Quality: map[string]float64{"flipped": 1, "distance": 12, "changed_features": 2}})); ov.Level != explain.Doubtful {
		t.Errorf("a far counterfactual's verdict %+v, want doubtful (distance is complexity)", ov)
	}
	v = verdicts(check.ConceptChecks(&explain.Result{Quality: map[string]float64{"p_value": 0.4, "cav_accuracy": 0.9}}))
	if v["significance"] != explain.Poor || v["cav_accuracy"] != explain.Good {
		t.Errorf("TCAV p 0.4, accuracy 0.9: %v", v)
	}
}
