package explain

import (
	"cmp"
	"fmt"
	"math"
)

// LIMEOptions are the options the three LIME explainers share
// (Tabular.Explain, ExplainImage, ExplainText). TabularOptions,
// ImageOptions and TextOptions embed it, so its fields read and assign as
// their own (opt.Samples = 1000); in a composite literal they go through
// the embedded struct:
//
//	explain.TabularOptions{LIMEOptions: explain.LIMEOptions{Seed: 1, Samples: 1000}}
//
// The zero value gives the defaults; where a default depends on the kind of
// data, the field says it for each kind.
type LIMEOptions struct {
	// Seed makes the explanation reproducible: the same seed gives the
	// bit-identical explanation.
	Seed uint64
	// Samples fixes the number of perturbations (rows, images or
	// documents), the instance included. Left at 0, the budget is adaptive:
	// it starts at 5000 (tabular, text) or 1000 (image) perturbations and
	// doubles (extending the same seeded sample) until the StableTop
	// features are separated from the rest by RankZTabular (tabular) or
	// RankZ (image, text) standard errors (Quality.RankTarget), or
	// MaxSamples is reached, or (tabular) the separation is out of reach
	// even at MaxSamples; Explanation.Samples, Quality.Stable and
	// Quality.Stop say how it went.
	Samples int
	// MaxSamples caps the adaptive budget (default 16 × its start: 80000
	// for tabular and text, 16000 for images); it cannot be combined with
	// Samples.
	MaxSamples int
	// StableTop is the number of top features the adaptive budget makes
	// stable and Quality.RankConfidence is about (default 5).
	StableTop int
	// NumFeatures is how many features the surrogate keeps (default 10;
	// for images, all segments).
	NumFeatures int
	// Labels lists the outputs to explain; default: the TopLabels most
	// probable classes, or output 0 for regression.
	Labels []int
	// TopLabels is how many of the most probable classes are explained
	// when Labels is empty (default 1).
	TopLabels int
	// KernelWidth of the exponential kernel on a perturbation's distance
	// to the instance. Tabular: distance between scaled rows, default
	// 0.75·sqrt(columns). Image: cosine distance between the kept-segment
	// mask and the full image, default 0.25 (as lime). Text: cosine
	// distance ×100 between the kept-feature mask and the full document,
	// default 25 (as lime).
	KernelWidth float64
	// AutoKernelWidth tries KernelWidth × {0.25, 0.5, 0.75, 1, 1.5, 2, 3}
	// and keeps the width whose surrogate (for the first explained label)
	// has the best weighted leave-one-out R², among widths keeping at least
	// 10·(features+1) effective samples. Leave-one-out, not the in-sample
	// R², so a narrow kernel that merely overfits a few samples does not
	// win. The candidates and their scores are reported in the result.
	AutoKernelWidth bool
	// Selection of features (default SelectAuto).
	Selection Selection
	// Ridge penalty of the surrogate (default 1, as lime).
	Ridge float64
	// BatchSize is the most perturbations per model call. Tabular: default
	// 1024; rows are drawn in chunks of 1024 whatever the batch size (so
	// the explanation does not depend on it), and a call never spans two
	// chunks. Image: default as many images as fit in 16 MiB of pixels, at
	// least 1 and at most 256. Text: default 256.
	BatchSize int
}

// limeDefaults are what one LIME explainer puts in place of the zero
// fields of LIMEOptions whose default depends on the kind of data.
type limeDefaults struct {
	samples     int     // start of the adaptive budget
	numFeatures int     // features the surrogate keeps
	width       float64 // kernel width
	batch       int     // perturbations per model call
	rankZ       float64 // rank confidence the stopping rule asks for (0: RankZ)
	futility    bool    // the adaptive budget may stop when separation is hopeless
}

// resolve validates o and fills in the defaults, giving the sample budget,
// the surrogate's configuration and the batch size. Errors start with what
// (the explainer, e.g. "lime image") and name the field at fault.
func (o LIMEOptions) resolve(what string, def limeDefaults) (budget, fitConfig, int, error) {
	var cfg fitConfig
	var bud budget
	samples, maxSamples := o.Samples, o.MaxSamples
	switch {
	case samples != 0 && maxSamples != 0:
		return bud, cfg, 0, fmt.Errorf("%s: Samples (%d) fixes the budget and MaxSamples (%d) caps the adaptive one; set only one of them", what, samples, maxSamples)
	case samples < 0 || samples == 1:
		return bud, cfg, 0, fmt.Errorf("%s: Samples is %d; need at least 2, or 0 for the adaptive budget (from %d)", what, samples, def.samples)
	case maxSamples < 0 || maxSamples == 1:
		return bud, cfg, 0, fmt.Errorf("%s: MaxSamples is %d; need at least 2, or 0 for the default cap %d", what, maxSamples, 16*def.samples)
	case samples > 0:
		bud = budget{start: samples, max: samples}
	default:
		bud = budget{start: def.samples, max: 16 * def.samples, adaptive: true}
		if maxSamples > 0 {
			bud.start, bud.max = min(def.samples, maxSamples), maxSamples
		}
	}
	bud.rankZ = cmp.Or(def.rankZ, RankZ)
	bud.futility = bud.adaptive && def.futility
	stableTop := cmp.Or(o.StableTop, 5)
	if stableTop < 0 {
		return bud, cfg, 0, fmt.Errorf("%s: StableTop is %d; use a positive number of top features (default 5)", what, stableTop)
	}
	numFeatures := cmp.Or(o.NumFeatures, def.numFeatures)
	if numFeatures < 0 {
		return bud, cfg, 0, fmt.Errorf("%s: NumFeatures is %d; use a positive count (default %d)", what, numFeatures, def.numFeatures)
	}
	width := cmp.Or(o.KernelWidth, def.width)
	if !(width > 0) || math.IsInf(width, 0) {
		return bud, cfg, 0, fmt.Errorf("%s: KernelWidth is %v; use a positive width (default %.4g)", what, width, def.width)
	}
	sel := cmp.Or(o.Selection, SelectAuto)
	if !sel.valid() {
		return bud, cfg, 0, fmt.Errorf("%s: unknown feature selection %q; use auto, forward_selection, highest_weights, lasso_path or none", what, sel)
	}
	ridge := cmp.Or(o.Ridge, 1)
	if !(ridge > 0) {
		return bud, cfg, 0, fmt.Errorf("%s: Ridge is %v; use a positive penalty (default 1)", what, ridge)
	}
	batch := cmp.Or(o.BatchSize, def.batch)
	if batch < 1 {
		return bud, cfg, 0, fmt.Errorf("%s: BatchSize is %d; use a positive number of rows per model call (default %d)", what, batch, def.batch)
	}
	cfg = fitConfig{width: width, autoWidth: o.AutoKernelWidth, numFeatures: numFeatures, selection: sel, ridge: ridge, stableTop: stableTop}
	return bud, cfg, batch, nil
}
