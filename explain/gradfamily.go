package explain

import (
	"context"
	"fmt"
	"math"
	"slices"
)

// The gradient family with modified backward passes (Input×Gradient,
// guided backprop, deconvolution, guided Grad-CAM, DeepLIFT, DeepLIFT
// SHAP, GradientSHAP, LRP) shares these helpers; each method registers in
// its own file.

// Streams of the gradient family's random draws.
const (
	streamGradSHAP  uint64 = 0x2545f4914f6cdd1d
	streamReference uint64 = 0x4cf5ad432745937f
)

// finishValues records per-input-value attributions v in res: the pixel
// map of an image (summed over channels), the ranked features of a table.
func finishValues(s *Subject, res *Result, what string, v []float32, out []float32) error {
	res.Features = len(v)
	res.Details = &Attribution{Method: what, Label: res.Label, Values: v, Output: float64(out[res.Label]), Outputs: slices.Clone(out), Warnings: res.Warnings}
	res.Warnings = append(res.Warnings, gradZeroWarning(v)...)
	if s.Kind == Image {
		attr, err := gradPixelSum(what, v, s.Shape[0], s.Shape[1], s.Shape[2])
		if err != nil {
			return err
		}
		res.Attribution = attr
		return nil
	}
	res.Top = rankTop(v, s.FeatureNames)
	return nil
}

// recordCompleteness records the completeness_residual quality figure:
// |Σ v − delta| relative to |delta|, or to 1e-3·max(1, |fx|) when delta
// is smaller (an input the model scores almost as its references, where
// float32 rounding alone would look large against delta); above 1% it
// warns, saying why.
func recordCompleteness(res *Result, v []float32, delta, fx float64, why string) {
	var sum float64
	for _, a := range v {
		sum += float64(a)
	}
	rel := math.Abs(sum-delta) / math.Max(math.Abs(delta), 1e-3*math.Max(1, math.Abs(fx)))
	res.Quality["completeness_residual"] = rel
	if rel > 0.01 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the attributions add up to %.4g, not %.4g (%.1f%% off): %s", sum, delta, 100*rel, why))
	}
}

// references returns n reference inputs for the SHAP variants, seeded,
// as a function that writes reference r into dst: rows drawn from the
// Background for a table; for an image the black image and then images
// of uniform noise in [0, 1] (an image model has no training rows at
// hand), each made from its own random stream when asked for, so memory
// does not grow with n. It also returns how many there are (a table may
// have fewer rows than n).
func references(s *Subject, n int, seed uint64) (func(r int, dst []float32), int, error) {
	d := s.Dim()
	if s.Kind == Table {
		rows := BackgroundRows(s.Background, d, n, seed)
		if len(rows) < d {
			return nil, 0, fmt.Errorf("no background rows to draw references from; pass the training data (--data SPEC)")
		}
		return func(r int, dst []float32) { copy(dst, rows[r*d:(r+1)*d]) }, len(rows) / d, nil
	}
	return func(r int, dst []float32) {
		if r == 0 {
			clear(dst)
			return
		}
		rng := subStream(seed, streamReference, uint64(r))
		for i := range dst {
			dst[i] = float32(rng.unit32())
		}
	}, n, nil
}

// defaultBaseline is the reference input of DeepLIFT (as of integrated
// gradients): the Subject's Baseline, else the background's mean for a
// table, else zeros (a black image).
func defaultBaseline(s *Subject) []float32 {
	switch {
	case s.Baseline != nil:
		return slices.Clone(s.Baseline)
	case s.Kind == Table && len(s.Background) >= s.Dim():
		return columnMeans(s.Background, s.Dim())
	}
	return make([]float32, s.Dim())
}

// ruleCall runs s.RuleGradient and checks what it returns.
func ruleCall(ctx context.Context, s *Subject, x []float32, n, label int, rule BackwardRule, ref []float32) (out, grad []float32, err error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	out, grad, err = s.RuleGradient(ctx, x, n, label, rule, ref)
	if err != nil {
		return nil, nil, err
	}
	rows := n
	if ref != nil {
		rows = 2 * n
	}
	if len(grad) != len(x) || len(out) == 0 || len(out)%rows != 0 || label >= len(out)/rows {
		return nil, nil, fmt.Errorf("%s: the model returned %d outputs and %d gradient values for %d inputs of %d values", rule.Kind, len(out), len(grad), n, len(x)/max(n, 1))
	}
	if err := gradCheckFinite(string(rule.Kind), "output", out); err != nil {
		return nil, nil, err
	}
	return out, grad, nil
}
