package batch

import (
	"fmt"
	"math"

	"github.com/glassbox-ml/glassbox/explain"
)

// Thresholds say when an explanation's quality figures are poor. A
// figure the method does not report is not judged.
type Thresholds struct {
	// MinR2: a LIME surrogate fitting the model's outputs with a weighted
	// R² below this explains little of them (default 0.5).
	MinR2 float64
	// MaxSumError: Kernel SHAP values whose sum misses the output's
	// distance from the background mean by more than this fraction of
	// (1 + |output|) do not account for the prediction (default 0.01).
	MaxSumError float64
	// MaxCompleteness: integrated gradients whose relative completeness
	// residual exceeds this need more steps (default 0.05).
	MaxCompleteness float64
}

// DefaultThresholds are the Thresholds the command uses.
var DefaultThresholds = Thresholds{MinR2: 0.5, MaxSumError: 0.01, MaxCompleteness: 0.05}

// Poor lists the quality figures of res that fall short of t, with their
// values: r2, sum_error, completeness_residual, and an image attribution
// whose insertion curve is no better than its deletion curve (its top
// pixels matter no more than its bottom ones).
func (t Thresholds) Poor(res *explain.Result) []string {
	var poor []string
	q := res.Quality
	if v, ok := q["r2"]; ok && !(v >= t.MinR2) {
		poor = append(poor, fmt.Sprintf("r2 %.3g < %g", v, t.MinR2))
	}
	if v, ok := q["sum_error"]; ok {
		out := res.Probability + math.Abs(res.Value)
		if !(v <= t.MaxSumError*(1+out)) {
			poor = append(poor, fmt.Sprintf("sum_error %.3g > %g·(1+|output|)", v, t.MaxSumError))
		}
	}
	if v, ok := q["completeness_residual"]; ok && !(math.Abs(v) <= t.MaxCompleteness) {
		poor = append(poor, fmt.Sprintf("completeness_residual %.3g > %g", v, t.MaxCompleteness))
	}
	del, okD := q["deletion_auc"]
	ins, okI := q["insertion_auc"]
	if okD && okI && !(ins > del) {
		poor = append(poor, fmt.Sprintf("insertion_auc %.3g <= deletion_auc %.3g", ins, del))
	}
	return poor
}
