package explain

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"
)

// TabularConfig describes the training data of a Tabular explainer.
type TabularConfig struct {
	// FeatureNames names the columns (default "x0", "x1", …).
	FeatureNames []string
	// Categorical maps a column index to the names of its categories; the
	// column then holds integer codes 0..len(names)-1.
	Categorical map[int][]string
	// Discretizer for continuous columns (default DiscretizeQuartile).
	Discretizer Discretizer
	// TrainingLabels, one per training row, are needed by
	// DiscretizeEntropy: class indices for classification, values for
	// regression.
	TrainingLabels []float64
	// Mode of the model (default Classification).
	Mode Mode
	// ClassNames names the model's outputs in explanations (optional).
	ClassNames []string
}

// TabularOptions tune one tabular explanation. The zero value gives the
// defaults.
type TabularOptions struct {
	// Seed makes the explanation reproducible: the same seed gives the
	// bit-identical explanation.
	Seed uint64
	// Samples is the number of perturbations, the instance included
	// (default 5000).
	Samples int
	// NumFeatures is how many features the surrogate keeps (default 10).
	NumFeatures int
	// Labels lists the outputs to explain; default: the TopLabels most
	// probable classes (TopLabels default 1), or output 0 for regression.
	Labels    []int
	TopLabels int
	// KernelWidth of the exponential kernel (default 0.75·sqrt(columns)).
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
	// BatchSize is the number of rows per model call (default 1024).
	BatchSize int
	// SampleAroundMean draws continuous features around the training mean
	// instead of around the instance (non-discretised mode only; lime's
	// default, less local).
	SampleAroundMean bool
}

// column is what the explainer learned about one training column.
type column struct {
	name        string
	categorical bool
	binned      bool      // categorical or discretised continuous
	categories  []string  // category names
	edges       []float64 // bin edges of a discretised column
	cum         []float64 // cumulative frequencies of bins/categories
	binLabel    []string  // readable condition per bin/category
	binMean     []float64 // per-bin training statistics for undiscretising
	binStd      []float64
	binLo       []float64
	binHi       []float64
	binQuant    [][]float32 // per bin: quantile table of its truncated normal (nil: constant)
	mean, std   float64
	scale       float64 // std, or 1 for a constant column
}

// Tabular explains models of tabular data. Build it once from training data
// with NewTabular; Explain may then be called concurrently.
type Tabular struct {
	d       int
	cols    []column
	disc    Discretizer
	mode    Mode
	classes []string
}

// NewTabular learns the statistics LIME samples from: per-feature mean and
// standard deviation, bin edges and bin frequencies, category frequencies.
// train holds n rows of d float32 features, row-major.
func NewTabular(train []float32, d int, cfg TabularConfig) (*Tabular, error) {
	if d <= 0 {
		return nil, fmt.Errorf("lime tabular: %d features per row; need at least 1", d)
	}
	if len(train) == 0 {
		return nil, fmt.Errorf("lime tabular: empty training set: pass the training rows (n×%d values) LIME samples perturbations from", d)
	}
	if len(train)%d != 0 {
		return nil, fmt.Errorf("lime tabular: training data has %d values, not a multiple of %d features per row", len(train), d)
	}
	n := len(train) / d
	disc := cfg.Discretizer
	if disc == "" {
		disc = DiscretizeQuartile
	}
	switch disc {
	case DiscretizeQuartile, DiscretizeDecile, DiscretizeEntropy, DiscretizeNone:
	default:
		return nil, fmt.Errorf("lime tabular: unknown discretizer %q; use quartile, decile, entropy or none", disc)
	}
	mode := cfg.Mode
	if mode == "" {
		mode = Classification
	}
	if mode != Classification && mode != Regression {
		return nil, fmt.Errorf("lime tabular: unknown mode %q; use classification or regression", mode)
	}
	if cfg.FeatureNames != nil && len(cfg.FeatureNames) != d {
		return nil, fmt.Errorf("lime tabular: %d feature names for %d features", len(cfg.FeatureNames), d)
	}
	for c := range cfg.Categorical {
		if c < 0 || c >= d {
			return nil, fmt.Errorf("lime tabular: categorical column %d out of range 0..%d", c, d-1)
		}
		if len(cfg.Categorical[c]) == 0 {
			return nil, fmt.Errorf("lime tabular: categorical column %d has no category names", c)
		}
	}
	for i, v := range train {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("lime tabular: training row %d, column %d is %v; remove or impute missing values first", i/d, i%d, v)
		}
	}
	if disc == DiscretizeEntropy {
		if len(cfg.TrainingLabels) != n {
			return nil, fmt.Errorf("lime tabular: the entropy discretizer needs one training label per row: got %d labels for %d rows (set TrainingLabels)", len(cfg.TrainingLabels), n)
		}
		if mode == Classification {
			for i, v := range cfg.TrainingLabels {
				if v < 0 || v != math.Trunc(v) || v > 1e6 {
					return nil, fmt.Errorf("lime tabular: training label %d is %v; classification labels are class indices 0, 1, 2, …", i, v)
				}
			}
		}
	}
	t := &Tabular{d: d, cols: make([]column, d), disc: disc, mode: mode, classes: cfg.ClassNames}
	vals := make([]float64, n)
	for j := range d {
		col := &t.cols[j]
		col.name = fmt.Sprintf("x%d", j)
		if cfg.FeatureNames != nil {
			col.name = cfg.FeatureNames[j]
		}
		for i := range n {
			vals[i] = float64(train[i*d+j])
		}
		var s float64
		for _, v := range vals {
			s += v
		}
		col.mean = s / float64(n)
		var ss float64
		for _, v := range vals {
			ss += (v - col.mean) * (v - col.mean)
		}
		col.std = math.Sqrt(ss / float64(n))
		col.scale = col.std
		if col.scale < 1e-12*math.Max(1, math.Abs(col.mean)) {
			col.scale = 1 // a constant column: no scaling, as scikit-learn does
		}
		if names, ok := cfg.Categorical[j]; ok {
			col.categorical, col.binned = true, true
			col.categories = names
			counts := make([]float64, len(names))
			for i, v := range vals {
				c := int(v)
				if v != float64(c) || c < 0 || c >= len(names) {
					return nil, fmt.Errorf("lime tabular: training row %d, categorical column %q holds %v; codes must be integers 0..%d", i, col.name, v, len(names)-1)
				}
				counts[c]++
			}
			col.cum = cumulative(counts, n)
			col.binLabel = make([]string, len(names))
			for c, nm := range names {
				col.binLabel[c] = col.name + "=" + nm
			}
			continue
		}
		if disc == DiscretizeNone {
			continue
		}
		sorted := slices.Clone(vals)
		slices.Sort(sorted)
		switch disc {
		case DiscretizeQuartile:
			col.edges = percentileEdges(sorted, []float64{25, 50, 75})
		case DiscretizeDecile:
			col.edges = percentileEdges(sorted, []float64{10, 20, 30, 40, 50, 60, 70, 80, 90})
		case DiscretizeEntropy:
			col.edges = treeEdges(vals, cfg.TrainingLabels, mode == Classification, 3)
			if len(col.edges) == 0 {
				col.edges = []float64{percentile(sorted, 50)}
			}
		}
		col.binned = true
		t.binStats(col, vals, sorted)
	}
	return t, nil
}

func cumulative(counts []float64, n int) []float64 {
	cum := make([]float64, len(counts))
	s := 0.0
	for i, c := range counts {
		s += c
		cum[i] = s / float64(n)
	}
	cum[len(cum)-1] = 1
	return cum
}

// binStats computes per-bin frequencies, moments and bounds, and the
// readable bin labels.
func (t *Tabular) binStats(col *column, vals, sorted []float64) {
	nb := len(col.edges) + 1
	counts := make([]float64, nb)
	sum := make([]float64, nb)
	sumSq := make([]float64, nb)
	for _, v := range vals {
		b := binOf(col.edges, v)
		counts[b]++
		sum[b] += v
	}
	col.binMean = make([]float64, nb)
	col.binStd = make([]float64, nb)
	col.binLo = make([]float64, nb)
	col.binHi = make([]float64, nb)
	col.binQuant = make([][]float32, nb)
	for b := range nb {
		col.binLo[b] = sorted[0]
		if b > 0 {
			col.binLo[b] = col.edges[b-1]
		}
		col.binHi[b] = sorted[len(sorted)-1]
		if b < nb-1 {
			col.binHi[b] = col.edges[b]
		}
		if counts[b] > 0 {
			col.binMean[b] = sum[b] / counts[b]
		} else {
			col.binMean[b] = (col.binLo[b] + col.binHi[b]) / 2
		}
	}
	for _, v := range vals {
		b := binOf(col.edges, v)
		dv := v - col.binMean[b]
		sumSq[b] += dv * dv
	}
	for b := range nb {
		if counts[b] > 0 {
			col.binStd[b] = math.Sqrt(sumSq[b] / counts[b])
		}
		col.binQuant[b] = truncNormTable(col.binMean[b], col.binStd[b], col.binLo[b], col.binHi[b])
	}
	col.cum = cumulative(counts, len(vals))
	txt := formatEdges(col.edges)
	col.binLabel = make([]string, nb)
	for b := range nb {
		switch {
		case b == 0:
			col.binLabel[b] = col.name + " <= " + txt[0]
		case b == nb-1:
			col.binLabel[b] = col.name + " > " + txt[b-1]
		default:
			col.binLabel[b] = txt[b-1] + " < " + col.name + " <= " + txt[b]
		}
	}
}

// quantSteps is the resolution of the per-bin quantile tables.
const quantSteps = 256

// truncNormTable tabulates the quantile function of N(mean, std²)
// truncated to [lo, hi] at quantSteps+1 evenly spaced probabilities, so
// undiscretising costs an interpolation instead of an inverse error
// function. It returns nil when the bin is a single value.
func truncNormTable(mean, std, lo, hi float64) []float32 {
	if !(std > 0) || !(hi > lo) {
		return nil
	}
	a, b := normCDF((lo-mean)/std), normCDF((hi-mean)/std)
	if b-a < 1e-12 {
		return nil
	}
	t := make([]float32, quantSteps+1)
	for q := range t {
		p := a + (b-a)*float64(q)/quantSteps
		v := mean + std*normQuantile(p)
		t[q] = float32(math.Min(math.Max(v, lo), hi))
	}
	return t
}

// undiscretize draws a value inside bin b from a normal with the bin's
// training mean and standard deviation, truncated to the bin, by inverse
// CDF with uniform u.
func (col *column) undiscretize(b int, u float64) float32 {
	t := col.binQuant[b]
	if t == nil {
		return float32(col.binMean[b])
	}
	x := u * quantSteps
	q := min(int(x), quantSteps-1)
	f := float32(x - float64(q))
	return t[q] + f*(t[q+1]-t[q])
}

// NumFeatures is the number of columns the explainer expects.
func (t *Tabular) NumFeatures() int { return t.d }

// Explain explains model's prediction for instance x (d features).
//
// Perturbations are drawn per column with a Latin-hypercube design: a
// binned or categorical column takes each bin in proportion to its training
// frequency (systematic sampling, then shuffled), and a discretised value is
// drawn inside its bin from the bin's truncated normal; a continuous column
// takes the centre of each of n−1 equal-probability strata of
// N(center, std²) once, in random order. Each
// column has its own random stream, so columns are generated in parallel and
// the result is bit-identical for a seed on any machine.
func (t *Tabular) Explain(ctx context.Context, model Func, x []float32, opt TabularOptions) (*Explanation, error) {
	start := time.Now()
	const what = "lime tabular"
	if model == nil {
		return nil, fmt.Errorf("%s: model is nil", what)
	}
	if len(x) != t.d {
		return nil, fmt.Errorf("%s: instance has %d features, the explainer was built with %d", what, len(x), t.d)
	}
	for j, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("%s: feature %q of the instance is %v; LIME needs finite values", what, t.cols[j].name, v)
		}
		if col := &t.cols[j]; col.categorical {
			if c := int(v); float32(c) != v || c < 0 || c >= len(col.categories) {
				return nil, fmt.Errorf("%s: categorical feature %q of the instance is %v; codes are integers 0..%d", what, col.name, v, len(col.categories)-1)
			}
		}
	}
	n, cfg, batch, err := commonOptions(what, opt.Samples, 5000, opt.NumFeatures, opt.KernelWidth, 0.75*math.Sqrt(float64(t.d)), opt.Selection, opt.Ridge, opt.BatchSize, 1024)
	if err != nil {
		return nil, err
	}
	cfg.autoWidth = opt.AutoKernelWidth
	d := t.d
	z := make([]float32, n*d)  // interpretable representation
	in := make([]float32, n*d) // model inputs
	copy(in, x)
	instBin := make([]int, d)
	for j := range d {
		col := &t.cols[j]
		switch {
		case col.categorical:
			instBin[j] = int(x[j])
		case col.binned:
			instBin[j] = binOf(col.edges, float64(x[j]))
		}
	}
	m := n - 1
	// Continuous columns share the centres of m equal-probability strata of
	// N(0, 1); each column visits them in its own random order.
	var strata []float64
	for j := range d {
		if !t.cols[j].binned {
			strata = normalStrata(m)
			break
		}
	}
	// Columns are generated into column-major scratch (sequential writes),
	// then transposed into the row-major inputs in cache-sized row blocks,
	// with the distances computed on the way.
	colIn := make([]float32, d*m)
	colZ := make([]float32, d*m)
	parallelChunks(d, 1, func(_, j, _ int) {
		r := subStream(opt.Seed, streamColumn, uint64(j))
		col := &t.cols[j]
		cin, cz := colIn[j*m:(j+1)*m], colZ[j*m:(j+1)*m]
		if col.binned {
			z[j] = 1
			codes := make([]int32, m)
			u0 := r.Float64()
			b := 0
			for i := range m {
				p := (float64(i) + u0) / float64(m)
				for b < len(col.cum)-1 && col.cum[b] <= p {
					b++
				}
				codes[i] = int32(b)
			}
			shuffle(r, codes)
			inst := int32(instBin[j])
			for i, c := range codes {
				if c == inst {
					cz[i] = 1
				}
				if col.categorical {
					cin[i] = float32(c)
				} else {
					cin[i] = col.undiscretize(int(c), r.unit32())
				}
			}
			return
		}
		center := float64(x[j])
		if opt.SampleAroundMean {
			center = col.mean
		}
		z[j] = float32((float64(x[j]) - col.mean) / col.scale)
		perm := make([]int32, m)
		for i := range perm {
			perm[i] = int32(i)
		}
		shuffle(r, perm)
		for i, s := range perm {
			v := float32(center + col.std*strata[s])
			cin[i] = v
			cz[i] = float32((float64(v) - col.mean) / col.scale)
		}
	})
	dist := make([]float64, n)
	parallelChunks(m, 256, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			rin, rz := in[(i+1)*d:(i+2)*d], z[(i+1)*d:(i+2)*d]
			s := 0.0
			for j := range rin {
				rin[j] = colIn[j*m+i]
				v := colZ[j*m+i]
				rz[j] = v
				dv := float64(v) - float64(z[j])
				s += dv * dv
			}
			dist[i+1] = math.Sqrt(s)
		}
	})
	e := &Explanation{Method: "lime-tabular", Mode: t.mode, Seed: opt.Seed, Samples: n, NumFeatures: d,
		Selection: cfg.selection, Discretizer: string(t.disc), Ridge: cfg.ridge}
	y, k, err := callBatched(ctx, what, model, in, n, d, batch, &e.Timing)
	if err != nil {
		return nil, err
	}
	labels, err := pickLabels(what, t.mode, y[:k], opt.Labels, opt.TopLabels)
	if err != nil {
		return nil, err
	}
	e.FeatureNames = make([]string, d)
	for j := range d {
		col := &t.cols[j]
		if col.binned {
			e.FeatureNames[j] = col.binLabel[instBin[j]]
		} else {
			e.FeatureNames[j] = col.name
		}
	}
	binary := true
	for j := range d {
		binary = binary && t.cols[j].binned
	}
	p := &problem{z: z, n: n, d: d, dist: dist, y: y, k: k, binary: binary}
	labs, width, grid, ess := fit(p, labels, cfg, e.FeatureNames)
	for i := range labs {
		if l := labs[i].Label; l < len(t.classes) {
			labs[i].Name = t.classes[l]
		}
	}
	e.Labels, e.KernelWidth, e.KernelWidths = labs, width, grid
	e.Quality = quality(labs, ess, n)
	e.Timing.Total = time.Since(start)
	return e, nil
}

// normalStrata returns Φ⁻¹((s+½)/m) for s = 0..m−1.
func normalStrata(m int) []float64 {
	q := make([]float64, m)
	parallelChunks(m, 1024, func(_, lo, hi int) {
		for s := lo; s < hi; s++ {
			q[s] = normQuantile((float64(s) + 0.5) / float64(m))
		}
	})
	return q
}

// commonOptions validates and defaults the options shared by the LIME
// variants.
func commonOptions(what string, samples, defSamples, numFeatures int, width, defWidth float64, sel Selection, ridge float64, batch, defBatch int) (int, fitConfig, int, error) {
	var cfg fitConfig
	if samples == 0 {
		samples = defSamples
	}
	if samples < 2 {
		return 0, cfg, 0, fmt.Errorf("%s: Samples is %d; need at least 2 (default %d)", what, samples, defSamples)
	}
	if numFeatures == 0 {
		numFeatures = 10
	}
	if numFeatures < 0 {
		return 0, cfg, 0, fmt.Errorf("%s: NumFeatures is %d; use a positive count (default 10)", what, numFeatures)
	}
	if width == 0 {
		width = defWidth
	}
	if !(width > 0) || math.IsInf(width, 0) {
		return 0, cfg, 0, fmt.Errorf("%s: KernelWidth is %v; use a positive width (default %.4g)", what, width, defWidth)
	}
	if sel == "" {
		sel = SelectAuto
	}
	if !sel.valid() {
		return 0, cfg, 0, fmt.Errorf("%s: unknown feature selection %q; use auto, forward_selection, highest_weights, lasso_path or none", what, sel)
	}
	if ridge == 0 {
		ridge = 1
	}
	if !(ridge > 0) {
		return 0, cfg, 0, fmt.Errorf("%s: Ridge is %v; use a positive penalty (default 1)", what, ridge)
	}
	if batch == 0 {
		batch = defBatch
	}
	if batch < 1 {
		return 0, cfg, 0, fmt.Errorf("%s: BatchSize is %d; use a positive number of rows per model call (default %d)", what, batch, defBatch)
	}
	cfg = fitConfig{width: width, numFeatures: numFeatures, selection: sel, ridge: ridge}
	return samples, cfg, batch, nil
}
