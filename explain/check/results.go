package check

import (
	"fmt"

	"github.com/glassbox-ml/glassbox/explain"
)

// The thresholds of the results that are not attributions.
const (
	// Anchors' precision: the share of perturbed inputs the rule covers
	// that keep the decision. Anchors aim at 0.95 (Ribeiro et al. 2018,
	// alibi's default threshold); below 0.8 one covered input in five
	// gets another decision, and the rule does not explain it.
	PrecisionGood = 0.95
	PrecisionPoor = 0.8
	// Anchors' coverage: the share of the data the rule applies to. A rule
	// for a tenth of the data is general; one for under 1% describes this
	// input alone (complexity: at most doubtful).
	CoverageGood = 0.1
	CoveragePoor = 0.01
	// A counterfactual's distance (Σ |change| / MAD, in the training
	// data's median absolute deviations): a few deviations in all is a
	// plausible change; ten or more leaves the data's usual range.
	DistanceGood = 3
	DistancePoor = 10
	// Changed features: people act on up to three changes (the sparsity
	// aim of Wachter et al. and DiCE); six or more is hard to act on.
	ChangesGood = 3
	ChangesPoor = 6
	// TCAV: the concept's scores must differ from random directions'
	// (TCAV's t-test at 5%); the concept activation vectors must separate
	// the concept from random examples (below 0.6 held-out accuracy the
	// layer hardly represents the concept; TCAV warns below 0.7).
	PValueGood      = 0.05
	PValuePoor      = 0.2
	CAVAccuracyGood = 0.8
	CAVAccuracyPoor = 0.6
)

// RuleChecks judges an anchor: its precision (faithfulness: does the
// decision hold where the rule does) and its coverage (complexity: how
// general the rule is).
func RuleChecks(res *explain.Result) []explain.Check {
	var cs []explain.Check
	if v, ok := res.Quality["precision"]; ok {
		c := explain.Check{Name: "precision", Family: "faithfulness", Value: v, Verdict: judge(v, PrecisionGood, PrecisionPoor, true)}
		c.Words = fmt.Sprintf("the decision holds for %.0f%% of the inputs the rule covers", 100*v)
		if c.Verdict == explain.Poor {
			c.Words = fmt.Sprintf("the decision holds for only %.0f%% of the inputs the rule covers", 100*v)
		}
		cs = append(cs, c)
	}
	if v, ok := res.Quality["coverage"]; ok {
		c := explain.Check{Name: "coverage", Family: "complexity", Value: v, Verdict: judge(v, CoverageGood, CoveragePoor, true)}
		c.Words = fmt.Sprintf("the rule applies to %.1f%% of the data", 100*v)
		cs = append(cs, c)
	}
	return cs
}

// WhatIfChecks judges a counterfactual: whether it changes the decision
// (faithfulness), how far it moves the input and how many features it
// changes (complexity).
func WhatIfChecks(res *explain.Result) []explain.Check {
	var cs []explain.Check
	if v, ok := res.Quality["flipped"]; ok {
		c := explain.Check{Name: "flipped", Family: "faithfulness", Value: v, Verdict: explain.Good,
			Words: "the changed input gets another decision from the model"}
		if v != 1 {
			c.Verdict, c.Words = explain.Poor, "no change within the training data's ranges changes the decision"
		}
		cs = append(cs, c)
		if v != 1 {
			return cs // the distance of a failed search means nothing
		}
	}
	if v, ok := res.Quality["distance"]; ok {
		c := explain.Check{Name: "distance", Family: "complexity", Value: v, Verdict: judge(v, DistanceGood, DistancePoor, false)}
		c.Words = fmt.Sprintf("the change adds up to %.2g of the features' median absolute deviations", v)
		cs = append(cs, c)
	}
	if v, ok := res.Quality["changed_features"]; ok {
		c := explain.Check{Name: "changed_features", Family: "complexity", Value: v, Verdict: judge(v, ChangesGood, ChangesPoor, false)}
		c.Words = fmt.Sprintf("it changes %.0f features", v)
		cs = append(cs, c)
	}
	return cs
}

// ConceptChecks judges a TCAV score: its significance against random
// directions (randomisation) and how well the layer represents the
// concept (faithfulness).
func ConceptChecks(res *explain.Result) []explain.Check {
	var cs []explain.Check
	if v, ok := res.Quality["p_value"]; ok {
		c := explain.Check{Name: "significance", Family: "randomisation", Value: v, Verdict: judge(v, PValueGood, PValuePoor, false)}
		c.Words = fmt.Sprintf("the concept's scores differ from random directions' with p = %.2g", v)
		if c.Verdict == explain.Poor {
			c.Words = fmt.Sprintf("the concept scores no differently from random directions (p = %.2g)", v)
		}
		cs = append(cs, c)
	}
	if v, ok := res.Quality["cav_accuracy"]; ok {
		c := explain.Check{Name: "cav_accuracy", Family: "faithfulness", Value: v, Verdict: judge(v, CAVAccuracyGood, CAVAccuracyPoor, true)}
		c.Words = fmt.Sprintf("the layer's activations tell the concept from random examples with %.0f%% held-out accuracy", 100*v)
		cs = append(cs, c)
	}
	return cs
}
