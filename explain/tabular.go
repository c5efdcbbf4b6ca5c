package explain

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sync"
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
// defaults: those of LIMEOptions for tabular data.
type TabularOptions struct {
	LIMEOptions
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
	binQuant    []*quantTable // per bin: quantile table of its truncated normal (nil: constant)
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
	strata  sync.Map // block size → normalStrata
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
	col.binQuant = make([]*quantTable, nb)
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
		lo32, hi32 := col.binRange32(b)
		col.binQuant[b] = truncNormTable(col.binMean[b], col.binStd[b], col.binLo[b], col.binHi[b], lo32, hi32)
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

// quantTable holds a quantile function at quantSteps+1 probabilities.
type quantTable [quantSteps + 1]float32

// truncNormTable tabulates the quantile function of N(mean, std²)
// truncated to [lo, hi] at quantSteps+1 evenly spaced probabilities, so
// undiscretising costs an interpolation instead of an inverse error
// function. Entries are clamped to the float32 range [lo32, hi32] of the
// bin, so every value interpolated from the table falls in the bin. It
// returns nil when the bin is a single value.
func truncNormTable(mean, std, lo, hi float64, lo32, hi32 float32) *quantTable {
	if !(std > 0) || !(hi > lo) {
		return nil
	}
	a, b := normCDF((lo-mean)/std), normCDF((hi-mean)/std)
	if b-a < 1e-12 {
		return nil
	}
	t := new(quantTable)
	for q := range t {
		p := a + (b-a)*float64(q)/quantSteps
		v := mean + std*normQuantile(p)
		t[q] = min(max(float32(math.Min(math.Max(v, lo), hi)), lo32), hi32)
	}
	return t
}

// binRange32 is the float32 range of bin b under binOf: above the lower
// edge and at most the upper edge (unbounded at the ends).
func (col *column) binRange32(b int) (lo, hi float32) {
	lo, hi = float32(math.Inf(-1)), float32(math.Inf(1))
	if b > 0 {
		e := col.edges[b-1]
		if lo = float32(e); float64(lo) <= e {
			lo = math.Nextafter32(lo, hi)
		}
	}
	if b < len(col.edges) {
		e := col.edges[b]
		if hi = float32(e); float64(hi) > e {
			hi = math.Nextafter32(hi, lo)
		}
	}
	return lo, hi
}

// NumFeatures is the number of columns the explainer expects.
func (t *Tabular) NumFeatures() int { return t.d }

// Explain explains model's prediction for instance x (d features).
//
// Perturbations are a randomised quasi-Monte Carlo sample: row i (after
// the instance, row 0) is point i−1 of a scrambled Sobol' sequence, one
// coordinate per column, mapped through the column's sampling distribution
// by its inverse CDF: a binned or categorical column takes a bin with its
// training frequency and, for a discretised value, a quantile of the bin's
// truncated normal; a continuous column takes N(center, std²). The points
// are spread more evenly than independent draws, so the surrogate's weights
// vary less between seeds for the same number of model calls (see
// sobolDim). Columns past the first sobolDims (512) are drawn as before
// the sequence existed: a Latin hypercube per chunk of 1024 rows, shuffled
// from the column's own stream. Rows are drawn in chunks of 1024, each
// drawn while the model evaluates the previous one, column by column in
// parallel; the result is bit-identical for a seed on any machine. The
// adaptive budget extends the same sequence, so the rows of a larger
// budget start with those of a smaller one.
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
	bud, cfg, batch, err := opt.resolve(what, limeDefaults{samples: 5000, numFeatures: 10, width: 0.75 * math.Sqrt(float64(t.d)), batch: 1024, rankZ: RankZTabular, futility: true})
	if err != nil {
		return nil, err
	}
	d := t.d
	g := t.newDesign(x, opt.Seed, opt.SampleAroundMean)
	p := g.p
	e := &Explanation{Method: "lime-tabular", Mode: t.mode, Seed: opt.Seed, NumFeatures: d,
		Selection: cfg.selection, Discretizer: string(t.disc), Ridge: cfg.ridge}
	if bud.adaptive {
		e.MaxSamples = bud.max
	}
	// Rows are drawn in chunks of tabularChunk, each chunk drawn while the
	// model evaluates the previous one, into two alternating buffers.
	in := [2][]float32{getF32(tabularChunk * d), getF32(tabularChunk * d)}
	defer func() { putF32(in[0]); putF32(in[1]) }()
	defer g.release()
	o := outputs{what: what, timing: &e.Timing}
	extend := func(lo, hi int) error {
		return p.addRows(ctx, &o, cfg.width, lo, hi, tabularChunk, func(c, a, b int) {
			g.block(a, b, in[c%2][:(b-a)*d])
		}, func(c, a, b int) error {
			buf := in[c%2]
			for r := a; r < b; r += batch {
				if err := ctx.Err(); err != nil {
					return err
				}
				s := min(r+batch, b)
				if err := o.add(s-r, r, func() ([]float32, error) { return model(ctx, buf[(r-a)*d:(s-a)*d], s-r) }); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := extend(0, bud.start); err != nil {
		return nil, err
	}
	labels, err := pickLabels(what, t.mode, p.y[:p.k], opt.Labels, opt.TopLabels)
	if err != nil {
		return nil, err
	}
	e.FeatureNames = make([]string, d)
	for j := range d {
		col := &t.cols[j]
		if col.binned {
			e.FeatureNames[j] = col.binLabel[g.instBin[j]]
		} else {
			e.FeatureNames[j] = col.name
		}
	}
	if err := finishLIME(e, p, bud, labels, cfg, e.FeatureNames, t.classes, extend, start); err != nil {
		return nil, err
	}
	return e, nil
}

// tabularChunk is the number of rows drawn at a time, while the model
// evaluates the previous chunk, and drawn as one Latin hypercube in the
// columns past the Sobol' coordinates (the first chunk also holds the
// instance).
const tabularChunk = 1024

// tabularDesign draws the perturbations of one tabular explanation, chunk
// by chunk.
type tabularDesign struct {
	t      *Tabular
	x      []float32
	seed   uint64
	around bool
	p      *problem
	blocks int
	// instBin is the instance's bin of each binned column; [loKey, hiKey]
	// the sortKeys of its float32 range (for a categorical column, the
	// code itself), so a value's interpretable 0/1 is read off the value.
	instBin []int
	loKey   []uint64
	hiKey   []uint64
	// colIn is one block's values, column-major (reused).
	colIn []float32
	// sobol holds the scrambled Sobol' coordinate of each of the first
	// sobolDims columns.
	sobol []sobolDim
}

func (t *Tabular) newDesign(x []float32, seed uint64, around bool) *tabularDesign {
	d := t.d
	g := &tabularDesign{t: t, x: x, seed: seed, around: around, instBin: make([]int, d), loKey: make([]uint64, d), hiKey: make([]uint64, d)}
	g.sobol = make([]sobolDim, min(d, sobolDims))
	for j := range g.sobol {
		g.sobol[j] = newSobolDim(j, subStream(seed, streamScramble, uint64(j)))
	}
	binary := true
	p := &problem{d: d, z0: make([]float32, d)}
	for j := range d {
		col := &t.cols[j]
		switch {
		case col.categorical:
			g.instBin[j] = int(x[j])
			g.loKey[j], g.hiKey[j] = sortKey(x[j]), sortKey(x[j])
		case col.binned:
			g.instBin[j] = binOf(col.edges, float64(x[j]))
			lo, hi := col.binRange32(g.instBin[j])
			g.loKey[j], g.hiKey[j] = sortKey(lo), sortKey(hi)
		}
		if col.binned {
			p.z0[j] = 1
		} else {
			binary = false
			p.z0[j] = float32((float64(x[j]) - col.mean) / col.scale)
		}
	}
	if binary {
		// Every binned value of the instance is 1, so a row with c ones
		// lies at Euclidean distance sqrt(d − c).
		p = newMaskProblem(d, func(c int) float64 { return math.Sqrt(float64(d - c)) })
	}
	g.p = p
	return g
}

// release hands the design's scratch back for reuse.
func (g *tabularDesign) release() {
	putF32(g.colIn)
	g.colIn = nil
}

// block draws rows lo..hi−1, one chunk, into the design and their model
// inputs into in ((hi−lo)×d, row-major), each column from the chunk's own
// stream. The first chunk holds the instance as row 0.
func (g *tabularDesign) block(lo, hi int, in []float32) {
	t, p, d := g.t, g.p, g.t.d
	b := g.blocks
	g.blocks++
	first := lo
	if lo == 0 {
		first = 1
		copy(in, g.x)
	}
	m := hi - first
	if cap(g.colIn) < m*d {
		g.release()
		g.colIn = getF32(m * d)
	}
	colIn := g.colIn[:m*d]
	// Continuous columns past the Sobol' coordinates share the centres of m
	// equal-probability strata of N(0, 1); each column visits them in its
	// own random order.
	var strata []float64
	if !p.binary {
		for j := len(g.sobol); j < d; j++ {
			if !t.cols[j].binned {
				strata = t.normalStrata(m)
				break
			}
		}
	}
	parallelChunks(d, 1, func(_, j, _ int) {
		col := &t.cols[j]
		v := colIn[j*m : (j+1)*m]
		center := float64(g.x[j])
		if g.around {
			center = col.mean
		}
		if j < len(g.sobol) {
			// Row r is point r−1 of the sequence (row 0 is the instance).
			col.quasiValues(&g.sobol[j], uint64(first-1), v, center)
			return
		}
		r := subStream(g.seed, streamColumn, blockIndex(j, b))
		if col.binned {
			col.binnedValues(r, v)
		} else {
			for i, s := range strata {
				v[i] = float32(center + col.std*s)
			}
		}
		shuffleF32(r, v)
	})
	if p.binary {
		p.growRows(hi)
		if lo == 0 {
			p.setInstanceRow()
		}
	} else {
		p.z = slices.Grow(p.z, hi*d-len(p.z))[:hi*d]
		p.dist = slices.Grow(p.dist, hi-len(p.dist))[:hi]
		if lo == 0 {
			copy(p.z, p.z0)
			p.dist[0] = 0
		}
	}
	// Transpose into the row-major inputs, reading each binned value's 0/1
	// off its range on the way, into the row's bit mask or dense row.
	parallelChunks(m, 256, func(_, a, c int) {
		for i := a; i < c; i++ {
			row := first + i
			in := in[(row-lo)*d : (row-lo+1)*d]
			if p.binary {
				ones := 0
				for w := range p.dw {
					j0, j1 := 64*w, min(d, 64*w+64)
					lk, hk := g.loKey[j0:j1], g.hiKey[j0:j1]
					var mask uint64
					for t := range lk {
						v := colIn[(j0+t)*m+i]
						in[j0+t] = v
						mask |= inRange(sortKey(v), lk[t], hk[t]) << (t & 63)
					}
					p.masks[row*p.dw+w] = mask
					ones += bits.OnesCount64(mask)
				}
				p.ones[row] = int32(ones)
				continue
			}
			zr := p.z[row*d : (row+1)*d]
			s := 0.0
			for j := range in {
				v := colIn[j*m+i]
				in[j] = v
				col := &t.cols[j]
				if col.binned {
					zr[j] = float32(inRange(sortKey(v), g.loKey[j], g.hiKey[j]))
				} else {
					zr[j] = float32((float64(v) - col.mean) / col.scale)
				}
				dv := float64(zr[j]) - float64(p.z0[j])
				s += dv * dv
			}
			p.dist[row] = math.Sqrt(s)
		}
	})
}

// sortKey maps a float32 to an integer that orders like the float (for
// non-NaN values).
func sortKey(v float32) uint64 {
	b := math.Float32bits(v)
	return uint64(b ^ (uint32(int32(b)>>31) | 0x80000000))
}

// inRange is 1 when lo ≤ k ≤ hi, else 0, without a branch (a random 0/1
// per value would defeat the branch predictor).
func inRange(k, lo, hi uint64) uint64 {
	return ((k-lo)>>63 ^ 1) & ((hi-k)>>63 ^ 1)
}

// quasiValues fills v with the column's values at points start,
// start+1, … of its Sobol' coordinate s, each point u in (0, 1) mapped by
// the inverse CDF of the column's sampling distribution: for a binned
// column, the bin b with cum[b−1] ≤ u < cum[b] and, for a discretised one,
// the quantile of the bin's truncated normal at u's position within
// [cum[b−1], cum[b]); for a continuous column, center + std·Φ⁻¹(u).
func (col *column) quasiValues(s *sobolDim, start uint64, v []float32, center float64) {
	var u [256]float64
	for lo := 0; lo < len(v); lo += len(u) {
		part := v[lo:min(len(v), lo+len(u))]
		us := u[:len(part)]
		s.fill(start+uint64(lo), us)
		if !col.binned {
			for i, p := range us {
				part[i] = float32(center + col.std*normQuantile(p))
			}
			continue
		}
		for i, p := range us {
			part[i] = col.binnedAt(p)
		}
	}
}

// binnedAt is the value of a binned column at probability u of its
// sampling distribution (see quasiValues).
func (col *column) binnedAt(u float64) float32 {
	cum := col.cum
	lo, hi := 0, len(cum)-1 // cum[len−1] is 1 > u
	for lo < hi {
		mid := (lo + hi) / 2
		if u < cum[mid] {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	b := lo
	if col.categorical {
		return float32(b)
	}
	t := col.binQuant[b]
	if t == nil {
		lo32, hi32 := col.binRange32(b)
		return min(max(float32(col.binMean[b]), lo32), hi32)
	}
	prev := 0.0
	if b > 0 {
		prev = cum[b-1]
	}
	x := (u - prev) / (cum[b] - prev) * quantSteps
	k := min(int(x), quantSteps-1)
	f := float32(x - float64(k))
	return t[k] + f*(t[k+1]-t[k])
}

// binnedValues fills v with one block of a binned column in sorted order:
// bins by systematic sampling of their training frequencies, values at
// stratified quantiles of each bin's truncated normal (the category code
// for a categorical column).
func (col *column) binnedValues(r *rng, v []float32) {
	m := len(v)
	u0 := r.Float64()
	i := 0
	nb := len(col.cum)
	for b := range nb {
		end := m
		if b < nb-1 {
			// Position i falls in bins ≤ b when (i+u0)/m < cum[b].
			end = min(max(int(math.Ceil(col.cum[b]*float64(m)-u0)), i), m)
		}
		run := v[i:end]
		i = end
		if len(run) == 0 {
			continue
		}
		if col.categorical {
			for q := range run {
				run[q] = float32(b)
			}
			continue
		}
		t := col.binQuant[b]
		if t == nil {
			lo, hi := col.binRange32(b)
			c := min(max(float32(col.binMean[b]), lo), hi)
			for q := range run {
				run[q] = c
			}
			continue
		}
		step := quantSteps / float64(len(run))
		x := r.Float64() * step
		interp := func(x float64) float32 {
			k := int(x) & (quantSteps - 1) // x < quantSteps
			f := float32(x - float64(k))
			return t[k] + f*(t[k+1]-t[k])
		}
		// Four positions per step, on four running sums, so iterations
		// overlap instead of waiting on one another's sum.
		q := 0
		for ; q+4 <= len(run); q += 4 {
			r4 := run[q : q+4 : q+4]
			r4[0], r4[1], r4[2], r4[3] = interp(x), interp(x+step), interp(x+2*step), interp(x+3*step)
			x += 4 * step
		}
		for ; q < len(run); q++ {
			run[q] = interp(x)
			x += step
		}
	}
}

// normalStrata returns Φ⁻¹((s+½)/m) for s = 0..m−1, computed once per m
// and explainer.
func (t *Tabular) normalStrata(m int) []float64 {
	if q, ok := t.strata.Load(m); ok {
		return q.([]float64)
	}
	q := normalStrata(m)
	t.strata.Store(m, q)
	return q
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
