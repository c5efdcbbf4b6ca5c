package check

import (
	"fmt"

	"github.com/glassbox-ml/glassbox/explain"
)

// The thresholds that turn figures into verdicts. Each pair is (good,
// poor): a figure on the good side of the first is good, past the second
// poor, between them doubtful. They are calibrated on models whose answer
// is known — calibration_test.go and metrics_test.go hold them: the
// planted-signal image model (a network that reads only a 3×3 patch), the
// planted-signal table (two of twenty columns decide) and the linear
// table model, where saliency, integrated gradients, LIME and Kernel SHAP
// must come out good; the same networks with random weights and a broken
// explainer that returns the input's edges whatever the model, which
// must come out poor.
const (
	// Randomisation (model-parameter and random logit): Spearman
	// similarity of the map to the original. The edge explainer scores 1
	// exactly; faithful methods on the planted model score below 0.3
	// after the top layer is randomised; maps of two unrelated random
	// networks correlate around 0 ± 0.1.
	RandomSimilarityGood = 0.5
	RandomSimilarityPoor = 0.8

	// Faithfulness correlation: 1 for integrated gradients and Kernel
	// SHAP on the linear model (exact); the edge explainer and random
	// maps give |r| < 0.25 with 64 subsets (the sampling noise of a null
	// correlation is 1/√64 = 0.125, so 0.25 is two of it).
	FaithfulnessGood = 0.5
	FaithfulnessPoor = 0.25

	// Max-sensitivity (relative change of the map under noise): gradient
	// maps of the linear model move by 0 to 0.05; LIME's seeded sampling
	// by under 0.2 at the default noise; above 1 the noise changes the
	// map more than the map's own size.
	SensitivityGood = 0.3
	SensitivityPoor = 1.0

	// Deletion area (per unit of the explained output): LIME on the demo
	// digits 0.03–0.16, Grad-CAM 0.56–0.82 (issue 15), the planted model's
	// integrated gradients below 0.1; half the output left on average
	// while the "most important" pixels go is no evidence.
	DeletionGood = 0.25
	DeletionPoor = 0.5
	// Insertion area (per unit of the explained output): the opposite.
	InsertionGood = 0.5
	InsertionPoor = 0.25

	// Surrogate R² (LIME): even the linear model is fitted with R² ≈ 0.6
	// only, since LIME's quartile bins turn each column into a step; below
	// 0.15 the surrogate explains little of what the model does near x.
	SurrogateGood = 0.4
	SurrogatePoor = 0.15

	// Completeness residual of integrated gradients (relative) and the
	// additivity error of Kernel SHAP (per unit of the output): both are
	// rounding-small when the method works (the linear model: < 1e-5).
	CompletenessGood = 0.01
	CompletenessPoor = 0.05
	AdditivityGood   = 1e-3
	AdditivityPoor   = 1e-2

	// Sparseness (Gini of |map|): the planted model's gradient maps score
	// above 0.9 (the 3×3 patch of 64 pixels); a map of independent
	// uniform values scores 1/3 and of |normal| values 0.41, so below
	// 0.3 a map is no more concentrated than noise.
	SparsenessGood = 0.45
	SparsenessPoor = 0.3

	// Relevance mass inside a mask: good above one half; poor when no
	// more than a uniform map's (the mask's share of the features).
	RelevanceMassGood = 0.5

	// Effective complexity (share of features that count): the planted
	// model's gradient maps give a tenth of the top pixel's weight to the
	// 9 patch pixels of 64 and a few others (below 0.3); the edge map to
	// every edge pixel of the noisy background (above 0.5).
	EffectiveGood = 0.5
	EffectivePoor = 0.9

	// ComplexityEps is the share of the largest |attribution| a feature
	// must exceed to count in the effective complexity: features that
	// matter at least a tenth as much as the top one.
	ComplexityEps = 0.1

	// MinComplexityFeatures: complexity is judged only on maps of at
	// least this many features (a 4-column table's map is not "complex").
	MinComplexityFeatures = 16
)

// judge maps a value to a verdict; higher is better when up.
func judge(v, good, poor float64, up bool) string {
	if !up {
		v, good, poor = -v, -good, -poor
	}
	switch {
	case v >= good:
		return explain.Good
	case v > poor:
		return explain.Doubtful
	}
	return explain.Poor
}

// rank orders the levels: good 0, doubtful 1, poor 2.
func rank(level string) int {
	switch level {
	case explain.Good:
		return 0
	case explain.Doubtful:
		return 1
	}
	return 2
}

// Overall is the explanation's verdict from its checks: the worst level
// among them (complexity counts at most as doubtful: a diffuse map is
// hard to read, not wrong), in one sentence naming method title and the
// check that decided it.
func Overall(title string, checks []explain.Check) *explain.Verdict {
	if len(checks) == 0 {
		return nil
	}
	worst, at := -1, -1
	for i, c := range checks {
		r := rank(c.Verdict)
		if c.Family == "complexity" {
			r = min(r, 1)
		}
		if r > worst {
			worst, at = r, i
		}
	}
	switch worst {
	case 0:
		return &explain.Verdict{Level: explain.Good, Words: fmt.Sprintf("%s: passes all %d checks — it can be read as the model's reason for this output", title, len(checks))}
	case 1:
		return &explain.Verdict{Level: explain.Doubtful, Words: fmt.Sprintf("%s: %s — read it with care", title, checks[at].Words)}
	}
	return &explain.Verdict{Level: explain.Poor, Words: fmt.Sprintf("%s: %s — do not read it as the model's reason", title, checks[at].Words)}
}
