package check

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/glassbox-ml/glassbox/explain"
)

func init() { explain.SetChecker(Evaluate) }

// The noise of the robustness check: a tenth of each column's spread in
// the training rows for tables (Quantus's default Gaussian noise is 0.1
// on standardised inputs), ±0.05 on pixels in [0, 1].
const (
	TableNoise = 0.1
	ImageNoise = 0.05
	// RobustnessSamples is how many noisy copies the robustness check
	// explains (Quantus uses 200; each copy costs a whole explanation).
	RobustnessSamples = 5
)

// Evaluate judges the explanation res of input x by s (installed as
// explain's checker): it fills res.Checks and res.Verdict. opt.Checks
// chooses the cheap checks (the default) or all of them.
func Evaluate(ctx context.Context, s *explain.Subject, x []float32, opt explain.Options, res *explain.Result) error {
	title, kind := res.Method, explain.InputAttribution
	if m, err := explain.Lookup(res.Method); err == nil {
		title, kind = m.Info().Title, m.Info().Result
	}
	var cs []explain.Check
	var skipped []string
	switch kind {
	case explain.RuleResult:
		cs = RuleChecks(res)
		skipped = []string{attributionChecks + ": a rule is not a weight per feature; its precision and coverage are judged instead"}
	case explain.WhatIfResult:
		cs = WhatIfChecks(res)
		skipped = []string{attributionChecks + ": a counterfactual is a changed input, not a weight per feature; whether it changes the decision, and how far it moves, are judged instead"}
	case explain.ConceptScore:
		cs = ConceptChecks(res)
		skipped = []string{attributionChecks + ": a concept's score is one number for the whole layer, not a weight per feature; its significance against random directions is judged instead"}
	default:
		var err error
		cs, skipped, err = mapOrLayerChecks(ctx, s, x, opt, res, kind)
		if err != nil {
			return err
		}
	}
	for i, c := range cs {
		// JSON has no NaN or ±Inf; a figure that is not a number says
		// nothing good about the map.
		if math.IsNaN(c.Value) || math.IsInf(c.Value, 0) {
			cs[i].Words = fmt.Sprintf("%s is %v, not a number: %s", c.Name, c.Value, c.Words)
			cs[i].Value, cs[i].Verdict = 0, explain.Poor
		}
	}
	res.Checks, res.NotChecked = cs, skipped
	res.Verdict = Overall(title, cs)
	if res.Verdict != nil && res.Verdict.Level == explain.Good && len(skipped) > 0 {
		// "The model's reason" would claim more than the checks that
		// apply can show.
		res.Verdict.Words = fmt.Sprintf("%s: passes the %d checks that apply to it; the others do not (see not checked)", title, len(cs))
	}
	if res.Verdict == nil && len(skipped) > 0 {
		res.Verdict = &explain.Verdict{Level: explain.NotChecked, Words: fmt.Sprintf("%s: not checked — %s", title, skipped[0])}
	}
	return nil
}

// attributionChecks names the checks that need a weight per input
// feature, for the records of results that have none.
const attributionChecks = "faithfulness correlation, deletion and insertion, complexity, localisation, randomisation, random logit and robustness"

// mapOrLayerChecks judges an attribution: the full set for an attribution
// of the explained output over the input; for a layer method's units
// only their completeness (and, drawn over an image, the map's checks as
// for Grad-CAM); for a neuron method's input map the checks that do not
// measure the explained output.
func mapOrLayerChecks(ctx context.Context, s *explain.Subject, x []float32, opt explain.Options, res *explain.Result, kind explain.ResultKind) ([]explain.Check, []string, error) {
	cs := QualityChecks(res)
	var skipped []string
	attr := Attribution(s, res)
	switch {
	case kind == explain.LayerUnits && res.Attribution == nil:
		attr = nil
		skipped = append(skipped, fmt.Sprintf("%s: its attributions are over the %d units of layer %s, not the input's features", attributionChecks, res.Features, res.Layer))
	case kind == explain.NeuronUnit:
		// The map explains one hidden unit: the output's deletion and
		// insertion curves, the faithfulness correlation with the
		// output and the random-logit test measure something else.
		cs = slices.DeleteFunc(cs, func(c explain.Check) bool { return c.Name == "deletion" || c.Name == "insertion" })
		skipped = append(skipped, fmt.Sprintf("deletion, insertion, faithfulness correlation and random logit: the map explains unit %s of layer %s, not the output", unitName(res), res.Layer))
	case attr == nil:
		skipped = append(skipped, fmt.Sprintf("%s: they need a weight per input feature, which a %s explanation does not give", attributionChecks, s.Kind))
	}
	if attr == nil {
		return cs, skipped, nil
	}
	more, err := mapChecks(ctx, s, x, opt, res, attr, kind != explain.NeuronUnit)
	if err != nil {
		return nil, nil, err
	}
	cs = append(cs, more...)
	if opt.Checks == explain.ChecksAll {
		// Re-runs explain the same layer and unit as this result (a
		// layer or neuron method's; Grad-CAM's layer is its own).
		o := opt
		if kind == explain.LayerUnits || kind == explain.NeuronUnit {
			o.Layer = res.Layer
		}
		if kind == explain.NeuronUnit {
			o.Neuron = res.Unit
		}
		more, err := costlyChecks(ctx, s, x, o, res, attr, kind != explain.NeuronUnit)
		if err != nil {
			return nil, nil, err
		}
		cs = append(cs, more...)
	}
	return cs, skipped, nil
}

func unitName(res *explain.Result) string {
	if res.Unit == nil {
		return "?"
	}
	return fmt.Sprint(*res.Unit)
}

// output is the explained output's size, the unit of the curve areas and
// the additivity error.
func output(res *explain.Result) float64 {
	if res.Probability != 0 {
		return res.Probability
	}
	return math.Abs(res.Value)
}

// QualityChecks judges the figures the method reported itself (surrogate
// R², completeness, additivity, deletion and insertion areas). They cost
// no further model calls.
func QualityChecks(res *explain.Result) []explain.Check {
	var cs []explain.Check
	q := res.Quality
	if v, ok := q["r2"]; ok {
		c := explain.Check{Name: "surrogate_r2", Family: "faithfulness", Value: v, Verdict: judge(v, SurrogateGood, SurrogatePoor, true)}
		c.Words = fmt.Sprintf("the linear surrogate explains %.0f%% of the model's variation near the input", 100*math.Max(v, 0))
		cs = append(cs, c)
	}
	if v, ok := q["completeness_residual"]; ok {
		c := explain.Check{Name: "completeness", Family: "axiomatic", Value: v, Verdict: judge(v, CompletenessGood, CompletenessPoor, false)}
		c.Words = fmt.Sprintf("the attributions add up to the output's change within %.2g%%", 100*v)
		cs = append(cs, c)
	}
	scale := math.Max(output(res), 1e-3)
	if v, ok := q["sum_error"]; ok {
		r := v / scale
		c := explain.Check{Name: "additivity", Family: "axiomatic", Value: r, Verdict: judge(r, AdditivityGood, AdditivityPoor, false)}
		c.Words = fmt.Sprintf("the Shapley values add up to the output minus the background's within %.2g of the output", r)
		cs = append(cs, c)
	}
	if v, ok := q["deletion_auc"]; ok {
		r := v / scale
		c := explain.Check{Name: "deletion", Family: "faithfulness", Value: r, Verdict: judge(r, DeletionGood, DeletionPoor, false)}
		c.Words = fmt.Sprintf("removing the pixels it ranks first leaves %.0f%% of the output on average", 100*r)
		cs = append(cs, c)
	}
	if v, ok := q["insertion_auc"]; ok {
		r := v / scale
		c := explain.Check{Name: "insertion", Family: "faithfulness", Value: r, Verdict: judge(r, InsertionGood, InsertionPoor, true)}
		c.Words = fmt.Sprintf("restoring the pixels it ranks first into a blurred copy brings back %.0f%% of the output on average", 100*r)
		cs = append(cs, c)
	}
	return cs
}

// Baseline is what a removed feature becomes in the faithfulness check,
// and its name: black for images, the subject's Baseline or the training
// mean for tables (zero without either).
func Baseline(s *explain.Subject) ([]float32, string) {
	d := s.Dim()
	switch {
	case s.Kind == explain.Image:
		return make([]float32, d), "black"
	case len(s.Baseline) == d:
		return s.Baseline, "the model's baseline"
	case len(s.Background) >= d:
		rows := len(s.Background) / d
		out := make([]float32, d)
		for r := range rows {
			for j := range d {
				out[j] += s.Background[r*d+j] / float32(rows)
			}
		}
		return out, "the training mean"
	}
	return make([]float32, d), "zero"
}

// mapChecks are the cheap checks on the attribution map: complexity,
// localisation (with a mask) and faithfulness correlation.
func mapChecks(ctx context.Context, s *explain.Subject, x []float32, opt explain.Options, res *explain.Result, attr []float64, ofOutput bool) ([]explain.Check, error) {
	var cs []explain.Check
	if len(attr) >= MinComplexityFeatures {
		g := Sparseness(attr)
		c := explain.Check{Name: "sparseness", Family: "complexity", Value: g, Verdict: judge(g, SparsenessGood, SparsenessPoor, true)}
		c.Words = fmt.Sprintf("Gini %.2f: ", g)
		switch c.Verdict {
		case explain.Good:
			c.Words += "the map is concentrated on a few features"
		case explain.Doubtful:
			c.Words += "the map is spread over many features"
		default:
			c.Words += "the map is no more concentrated than noise"
		}
		cs = append(cs, c)
		e := EffectiveComplexity(attr, ComplexityEps)
		c = explain.Check{Name: "effective_complexity", Family: "complexity", Value: e, Verdict: judge(e, EffectiveGood, EffectivePoor, false)}
		c.Words = fmt.Sprintf("%.0f%% of the features carry more than %g of the largest attribution", 100*e, ComplexityEps)
		cs = append(cs, c)
	}
	if opt.Mask != nil {
		hit, err := PointingGame(attr, opt.Mask)
		if err != nil {
			return nil, err
		}
		c := explain.Check{Name: "pointing_game", Family: "localisation", Verdict: explain.Poor,
			Words: "the feature it ranks first lies outside the mask"}
		if hit {
			c.Value, c.Verdict, c.Words = 1, explain.Good, "the feature it ranks first lies inside the mask"
		}
		cs = append(cs, c)
		mass, area, err := RelevanceMass(attr, opt.Mask)
		if err != nil {
			return nil, err
		}
		c = explain.Check{Name: "relevance_mass", Family: "localisation", Value: mass, Verdict: judge(mass, RelevanceMassGood, area, true)}
		c.Words = fmt.Sprintf("%.0f%% of the positive attribution lies inside the mask, which covers %.0f%% of the input", 100*mass, 100*area)
		cs = append(cs, c)
	}
	if !ofOutput {
		return cs, nil
	}
	base, name := Baseline(s)
	ch := 1
	if s.Kind == explain.Image {
		ch = s.Shape[0]
	}
	fc, err := FaithfulnessCorrelation(ctx, s.Predict, x, attr, res.Label, Faithfulness{Seed: opt.Seed, Baseline: base, Channels: ch})
	if err != nil {
		return nil, err
	}
	c := explain.Check{Name: "faithfulness_correlation", Family: "faithfulness", Value: fc, Verdict: judge(fc, FaithfulnessGood, FaithfulnessPoor, true), ModelCalls: 1}
	c.Words = fmt.Sprintf("the attributions of random feature subsets correlate at %.2f with the output's drop when the subset is set to %s", fc, name)
	if c.Verdict == explain.Poor {
		c.Words = fmt.Sprintf("the attributions hardly predict the output's drop when features are set to %s (correlation %.2f)", name, fc)
	}
	return append(cs, c), nil
}

// costlyChecks re-run the method: model randomisation, random logit and
// robustness.
func costlyChecks(ctx context.Context, s *explain.Subject, x []float32, opt explain.Options, res *explain.Result, attr []float64, ofOutput bool) ([]explain.Check, error) {
	var cs []explain.Check
	e := MethodExplainer(res.Method, opt)
	if s.Randomized != nil && s.RandomLayers > 0 {
		c, err := randomisationCheck(ctx, s, e, x, res.Label, attr, opt.Seed+1)
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil:
			// A model that cannot be rebuilt (a user's own layer) loses
			// this check, not the explanation.
			res.Warnings = append(res.Warnings, fmt.Sprintf("the model-parameter randomisation test did not run: %v", err))
		default:
			cs = append(cs, c)
		}
	}
	if ofOutput && s.Mode == explain.Classification && s.Outputs >= 3 {
		sim, other, calls, err := RandomLogit(ctx, s, e, x, res.Label, attr, opt.Seed+2)
		if err != nil {
			return nil, err
		}
		c := explain.Check{Name: "random_logit", Family: "randomisation", Value: sim, Verdict: judge(sim, RandomSimilarityGood, RandomSimilarityPoor, false), ModelCalls: calls}
		c.Words = fmt.Sprintf("the map of another class (output %d) has a rank correlation of %.2f with this one", other, sim)
		if c.Verdict == explain.Poor {
			c.Words = fmt.Sprintf("the map hardly changes when another class (output %d) is explained (rank correlation %.2f)", other, sim)
		}
		cs = append(cs, c)
	}
	noise := Noise{Scale: ImageNoise, Uniform: true, Clamp: true, Samples: RobustnessSamples, Seed: opt.Seed + 3}
	what := fmt.Sprintf("±%g on each pixel", ImageNoise)
	if s.Kind == explain.Table {
		noise = Noise{Scale: TableNoise, Uniform: true, Scales: columnSpread(s), Samples: RobustnessSamples, Seed: opt.Seed + 3}
		what = fmt.Sprintf("±%g of each column's spread", TableNoise)
	}
	r, err := Robustness(ctx, s, e, x, res.Label, attr, noise)
	if err != nil {
		return nil, err
	}
	c := explain.Check{Name: "max_sensitivity", Family: "robustness", Value: r.MaxSensitivity, Verdict: judge(r.MaxSensitivity, SensitivityGood, SensitivityPoor, false), ModelCalls: r.Calls}
	c.Words = fmt.Sprintf("under input noise of %s the map moves by up to %.0f%% of its size (%d noisy copies; local Lipschitz estimate %.3g)", what, 100*r.MaxSensitivity, noise.Samples, r.Lipschitz)
	return append(cs, c), nil
}

// randomisationCheck runs the cascading model-parameter randomisation
// test and judges it.
func randomisationCheck(ctx context.Context, s *explain.Subject, e Explainer, x []float32, label int, attr []float64, seed uint64) (explain.Check, error) {
	r, err := ModelRandomisation(ctx, s, e, x, label, attr, true, seed)
	if err != nil {
		return explain.Check{}, err
	}
	if len(r.Spearman) == 0 {
		return explain.Check{}, fmt.Errorf("model randomisation: the model has no layer to randomise")
	}
	v, at := r.Peak()
	c := explain.Check{Name: "model_randomisation", Family: "randomisation", Value: v, Verdict: judge(v, RandomSimilarityGood, RandomSimilarityPoor, false), ModelCalls: r.Calls}
	c.Words = fmt.Sprintf("randomising the model's weights from the top layer down, the map keeps a rank correlation of at most %.2f (%.2f with the top layer random, %.2f with %d layers; mean %.2f)",
		v, r.Spearman[0], r.Spearman[len(r.Spearman)-1], r.Layers[len(r.Layers)-1], r.Mean())
	if c.Verdict == explain.Poor {
		c.Words = fmt.Sprintf("the map barely changes when the model's top %d layer(s) are randomised (rank correlation %.2f)", r.Layers[at], v)
	}
	if r.SSIM != nil {
		c.Words += fmt.Sprintf("; SSIM %.2f with the top layer random", r.SSIM[0])
	}
	return c, nil
}

// columnSpread is each column's standard deviation in the subject's
// background (1 without one).
func columnSpread(s *explain.Subject) []float64 {
	d := s.Dim()
	out := make([]float64, d)
	rows := len(s.Background) / max(d, 1)
	if rows < 2 {
		for j := range out {
			out[j] = 1
		}
		return out
	}
	for j := range d {
		var sum, ss float64
		for r := range rows {
			v := float64(s.Background[r*d+j])
			sum += v
			ss += v * v
		}
		m := sum / float64(rows)
		out[j] = math.Sqrt(math.Max(ss/float64(rows)-m*m, 0))
		if out[j] == 0 {
			out[j] = 1
		}
	}
	return out
}
