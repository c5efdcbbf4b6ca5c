package explain

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Selection names how LIME chooses the features of the surrogate.
type Selection string

const (
	// SelectAuto uses forward selection for at most 6 features and highest
	// weights above (as lime does).
	SelectAuto Selection = "auto"
	// SelectForward adds, one at a time, the feature that most raises the
	// surrogate's weighted R².
	SelectForward Selection = "forward_selection"
	// SelectHighestWeights fits a ridge on all features and keeps the
	// largest |weights|.
	SelectHighestWeights Selection = "highest_weights"
	// SelectLassoPath follows the weighted lasso path and keeps the largest
	// active set of at most NumFeatures features.
	SelectLassoPath Selection = "lasso_path"
	// SelectNone keeps every feature.
	SelectNone Selection = "none"
)

func (s Selection) valid() bool {
	switch s {
	case SelectAuto, SelectForward, SelectHighestWeights, SelectLassoPath, SelectNone:
		return true
	}
	return false
}

// FeatureWeight is one feature's weight in a surrogate.
type FeatureWeight struct {
	// Feature indexes the interpretable features (Explanation.FeatureNames).
	Feature int `json:"feature"`
	// Name is the feature's readable name ("age <= 42.5", a word, "segment 3").
	Name   string  `json:"name"`
	Weight float64 `json:"weight"`
}

// LabelExplanation is the surrogate fitted for one model output.
type LabelExplanation struct {
	Label int    `json:"label"`
	Name  string `json:"name,omitempty"`
	// Intercept of the surrogate.
	Intercept float64 `json:"intercept"`
	// Weights of the selected features, largest |weight| first (ties by
	// feature index).
	Weights []FeatureWeight `json:"weights"`
	// Score is the surrogate's kernel-weighted R² on the perturbations.
	Score float64 `json:"score"`
	// LocalPrediction is the surrogate's value at the instance,
	// ModelPrediction the model's, LocalError their absolute difference.
	LocalPrediction float64 `json:"local_prediction"`
	ModelPrediction float64 `json:"model_prediction"`
	LocalError      float64 `json:"local_error"`
}

// Quality sums up how far an explanation can be trusted.
type Quality struct {
	// MinScore is the lowest weighted R² over the explained labels.
	MinScore float64 `json:"min_score"`
	// MaxLocalError is the largest |local − model| over the labels.
	MaxLocalError float64 `json:"max_local_error"`
	// EffectiveSamples is (Σw)²/Σw² of the kernel weights: how many
	// perturbations really shaped the surrogate.
	EffectiveSamples float64 `json:"effective_samples"`
	// Warnings say in words what is wrong, and what to try.
	Warnings []string `json:"warnings,omitempty"`
}

// WidthScore is one candidate kernel width tried by AutoKernelWidth.
type WidthScore struct {
	Width float64 `json:"width"`
	// LOOScore is the surrogate's weighted leave-one-out R² at this width.
	LOOScore         float64 `json:"loo_score"`
	EffectiveSamples float64 `json:"effective_samples"`
}

// Explanation is a LIME explanation of one instance. It is JSON-serialisable
// and records everything needed to reproduce it.
type Explanation struct {
	// Method is "lime-tabular", "lime-text" or "lime-image".
	Method string `json:"method"`
	Mode   Mode   `json:"mode"`
	Seed   uint64 `json:"seed"`
	// Samples is the number of perturbations (the instance included).
	Samples int `json:"samples"`
	// NumFeatures is the number of interpretable features (columns, words,
	// segments); FeatureNames names them.
	NumFeatures  int      `json:"num_features"`
	FeatureNames []string `json:"feature_names"`
	// Selection and Discretizer record the method's settings.
	Selection   Selection `json:"selection"`
	Discretizer string    `json:"discretizer,omitempty"`
	// KernelWidth is the width used; KernelWidths lists the candidates when
	// AutoKernelWidth chose it.
	KernelWidth  float64      `json:"kernel_width"`
	KernelWidths []WidthScore `json:"kernel_widths,omitempty"`
	Ridge        float64      `json:"ridge"`
	// Labels holds one surrogate per explained output.
	Labels  []LabelExplanation `json:"labels"`
	Quality Quality            `json:"quality"`
	Timing  Timing             `json:"timing"`
}

// Label returns the surrogate for output label, or nil if it was not
// explained.
func (e *Explanation) Label(label int) *LabelExplanation {
	for i := range e.Labels {
		if e.Labels[i].Label == label {
			return &e.Labels[i]
		}
	}
	return nil
}

// Top returns the k features with the largest |weight| for the first
// explained label (all of them if k ≤ 0 or k exceeds their number).
func (e *Explanation) Top(k int) []FeatureWeight {
	if len(e.Labels) == 0 {
		return nil
	}
	w := e.Labels[0].Weights
	if k <= 0 || k > len(w) {
		k = len(w)
	}
	return w[:k]
}

// kernel is LIME's exponential kernel sqrt(exp(-d²/w²)).
func kernel(d, width float64) float64 {
	return math.Sqrt(math.Exp(-(d * d) / (width * width)))
}

// problem is the data of a LIME fit: n perturbations in the interpretable
// representation z (row 0 is the instance), their distances to the instance
// and the model's outputs.
type problem struct {
	z    []float32 // n×d
	n, d int
	dist []float64 // n
	y    []float32 // n×k
	k    int
	// binary says every z is 0 or 1, so cross-products can skip the zeros.
	binary bool
}

// stats are the kernel-weighted, centred sufficient statistics of a
// problem for a set of labels: G = Zcᵀ W Zc, b_l = Zcᵀ W yc_l.
type stats struct {
	d     int
	sumW  float64
	ess   float64
	mu    []float64   // weighted means of z
	g     []float64   // d×d
	ybar  []float64   // per label
	b     [][]float64 // per label, d
	syy   []float64   // per label
	zc    []float64   // n×d, sqrt(w)(z − mu), kept for leverages
	yc    []float64   // n×L, sqrt(w)(y − ybar)
	w     []float64   // kernel weights
	nrows int
}

// gramChunks is the number of row chunks weightedStats reduces over: fixed
// by n and d only (never by the number of cores), so sums are added in the
// same order on every machine; partial d×d sums stay under about 32 MiB.
func gramChunks(n, d int) int {
	return max(1, min((n+255)/256, (1<<22)/max(1, d*d)))
}

// weightedStats computes the statistics with kernel weights w, in
// parallel over fixed row chunks whose partial sums are added in chunk
// order.
func weightedStats(p *problem, w []float64, labels []int, keepRows bool) *stats {
	n, d, L := p.n, p.d, len(labels)
	st := &stats{d: d, mu: make([]float64, d), ybar: make([]float64, L), syy: make([]float64, L), nrows: n}
	var sw, sw2 float64
	for i := range n {
		sw += w[i]
		sw2 += w[i] * w[i]
	}
	st.sumW = sw
	if sw2 > 0 {
		st.ess = sw * sw / sw2
	}
	chunks := gramChunks(n, d)
	size := (n + chunks - 1) / chunks
	// Pass 1: weighted means.
	part := make([]float64, chunks*(d+L))
	parallelChunks(n, size, func(c, lo, hi int) {
		acc := part[c*(d+L) : (c+1)*(d+L)]
		for i := lo; i < hi; i++ {
			wi := w[i]
			if wi == 0 {
				continue
			}
			for j, v := range p.z[i*d : (i+1)*d] {
				acc[j] += wi * float64(v)
			}
			for l, lab := range labels {
				acc[d+l] += wi * float64(p.y[i*p.k+lab])
			}
		}
	})
	for c := range chunks {
		acc := part[c*(d+L) : (c+1)*(d+L)]
		for j := range d {
			st.mu[j] += acc[j]
		}
		for l := range L {
			st.ybar[l] += acc[d+l]
		}
	}
	for j := range d {
		st.mu[j] /= sw
	}
	for l := range L {
		st.ybar[l] /= sw
	}
	if p.binary && !keepRows {
		binaryCross(p, w, labels, st, chunks, size)
		return st
	}
	// Pass 2: centred, sqrt(w)-scaled rows and their cross-products (upper
	// triangle of G, b and syy per chunk).
	var zc, yc []float64
	if keepRows {
		zc = make([]float64, n*d)
		yc = make([]float64, n*L)
	}
	stride := d*d + L*d + L
	part = make([]float64, chunks*stride)
	parallelChunks(n, size, func(c, lo, hi int) {
		acc := part[c*stride : (c+1)*stride]
		g, b, syy := acc[:d*d], acc[d*d:d*d+L*d], acc[d*d+L*d:]
		// Rows are centred into a block of 4 and added to G together: one
		// load and store of G per 4 multiply-adds.
		const blk = 4
		zb := make([]float64, blk*d)
		yb := make([]float64, blk*L)
		fill := 0
		flush := func() {
			for f := fill; f < blk; f++ {
				clear(zb[f*d : (f+1)*d])
				clear(yb[f*L : (f+1)*L])
			}
			z0, z1, z2, z3 := zb[:d], zb[d:2*d], zb[2*d:3*d], zb[3*d:4*d]
			for j := range d {
				a0, a1, a2, a3 := z0[j], z1[j], z2[j], z3[j]
				row := g[j*d+j : j*d+d]
				r0, r1, r2, r3 := z0[j:], z1[j:], z2[j:], z3[j:]
				r1, r2, r3 = r1[:len(r0)], r2[:len(r0)], r3[:len(r0)]
				row = row[:len(r0)]
				for k := range row {
					row[k] += a0*r0[k] + a1*r1[k] + a2*r2[k] + a3*r3[k]
				}
			}
			for f := range blk {
				zr := zb[f*d : (f+1)*d]
				for l, yv := range yb[f*L : (f+1)*L] {
					bl := b[l*d : (l+1)*d]
					for j, a := range zr {
						bl[j] += a * yv
					}
					syy[l] += yv * yv
				}
			}
			fill = 0
		}
		for i := lo; i < hi; i++ {
			sq := math.Sqrt(w[i])
			zr := zb[fill*d : (fill+1)*d]
			yr := yb[fill*L : (fill+1)*L]
			for j, v := range p.z[i*d : (i+1)*d] {
				zr[j] = sq * (float64(v) - st.mu[j])
			}
			for l, lab := range labels {
				yr[l] = sq * (float64(p.y[i*p.k+lab]) - st.ybar[l])
			}
			if keepRows {
				copy(zc[i*d:], zr)
				copy(yc[i*L:], yr)
			}
			if sq == 0 {
				continue
			}
			if fill++; fill == blk {
				flush()
			}
		}
		if fill > 0 {
			flush()
		}
	})
	st.g = make([]float64, d*d)
	st.b = make([][]float64, L)
	for l := range st.b {
		st.b[l] = make([]float64, d)
	}
	for c := range chunks {
		acc := part[c*stride : (c+1)*stride]
		for j := range d {
			for k := j; k < d; k++ {
				st.g[j*d+k] += acc[j*d+k]
			}
		}
		for l := range L {
			for j := range d {
				st.b[l][j] += acc[d*d+l*d+j]
			}
			st.syy[l] += acc[d*d+L*d+l]
		}
	}
	for j := range d {
		for k := j + 1; k < d; k++ {
			st.g[k*d+j] = st.g[j*d+k]
		}
	}
	if keepRows {
		st.zc, st.yc, st.w = zc, yc, w
	}
	return st
}

// binaryCross fills G, b and syy of st for 0/1 data from the uncentred
// sums over each row's ones only: G = Σ w z zᵀ − Σw·μμᵀ and
// b = Σ w (y − ȳ) z, exact because Σ w (y − ȳ) = 0. With a fraction q of
// ones per row this costs q² of the dense product.
func binaryCross(p *problem, w []float64, labels []int, st *stats, chunks, size int) {
	n, d, L := p.n, p.d, len(labels)
	stride := d*d + L*d + L
	part := make([]float64, chunks*stride)
	parallelChunks(n, size, func(c, lo, hi int) {
		acc := part[c*stride : (c+1)*stride]
		g, b, syy := acc[:d*d], acc[d*d:d*d+L*d], acc[d*d+L*d:]
		ones := make([]int, 0, d)
		for i := lo; i < hi; i++ {
			wi := w[i]
			if wi == 0 {
				continue
			}
			// Branch-free gather of the ones (v is exactly 0 or 1).
			ones = ones[:d]
			cnt := 0
			for j, v := range p.z[i*d : (i+1)*d] {
				ones[cnt] = j
				cnt += int(v)
			}
			ones = ones[:cnt]
			for a, j := range ones {
				row := g[j*d:]
				for _, k := range ones[a:] {
					row[k] += wi
				}
			}
			for l, lab := range labels {
				yv := wi * (float64(p.y[i*p.k+lab]) - st.ybar[l])
				bl := b[l*d : (l+1)*d]
				for _, j := range ones {
					bl[j] += yv
				}
				syy[l] += yv * (float64(p.y[i*p.k+lab]) - st.ybar[l])
			}
		}
	})
	st.g = make([]float64, d*d)
	st.b = make([][]float64, L)
	for l := range st.b {
		st.b[l] = make([]float64, d)
	}
	for c := range chunks {
		acc := part[c*stride : (c+1)*stride]
		for j := range d {
			for k := j; k < d; k++ {
				st.g[j*d+k] += acc[j*d+k]
			}
		}
		for l := range L {
			for j := range d {
				st.b[l][j] += acc[d*d+l*d+j]
			}
			st.syy[l] += acc[d*d+L*d+l]
		}
	}
	for j := range d {
		for k := j; k < d; k++ {
			st.g[j*d+k] -= st.sumW * st.mu[j] * st.mu[k]
			st.g[k*d+j] = st.g[j*d+k]
		}
	}
}

// r2 is the weighted R² of coefficients beta on features s for label l.
func (st *stats) r2(l int, s []int, beta []float64) float64 {
	syy := st.syy[l]
	sse := syy
	for a, sa := range s {
		sse -= 2 * beta[a] * st.b[l][sa]
		for c, sc := range s {
			sse += beta[a] * st.g[sa*st.d+sc] * beta[c]
		}
	}
	if syy <= 1e-300 {
		if sse <= 1e-300 {
			return 1
		}
		return 0
	}
	return 1 - math.Max(sse, 0)/syy
}

// selectFeatures returns the features chosen for label l, in ascending
// order.
func (st *stats) selectFeatures(l, k int, sel Selection, alpha float64) []int {
	d := st.d
	all := make([]int, d)
	for j := range all {
		all[j] = j
	}
	if k >= d || sel == SelectNone {
		return all
	}
	if sel == SelectAuto {
		if k <= 6 {
			sel = SelectForward
		} else {
			sel = SelectHighestWeights
		}
	}
	var out []int
	switch sel {
	case SelectForward:
		out = st.forward(l, k, alpha)
	case SelectHighestWeights:
		beta, _ := ridgeSolve(st.g, d, st.b[l], all, alpha)
		order := slices.Clone(all)
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(math.Abs(beta[b]), math.Abs(beta[a])) })
		out = order[:k]
	case SelectLassoPath:
		out = st.lassoPath(l, k)
	}
	slices.Sort(out)
	return out
}

// forward is greedy forward selection by weighted R².
func (st *stats) forward(l, k int, alpha float64) []int {
	var used []int
	in := make([]bool, st.d)
	for len(used) < k {
		best, bestScore := -1, math.Inf(-1)
		for j := range st.d {
			if in[j] {
				continue
			}
			s := append(slices.Clone(used), j)
			beta, _ := ridgeSolve(st.g, st.d, st.b[l], s, alpha)
			if sc := st.r2(l, s, beta); sc > bestScore {
				best, bestScore = j, sc
			}
		}
		in[best] = true
		used = append(used, best)
	}
	return used
}

// lassoPath runs coordinate descent along a geometric path of penalties
// (warm-started, on the Gram matrix) and returns the largest active set with
// at most k features, as lime's lasso_path selection does with LARS.
func (st *stats) lassoPath(l, k int) []int {
	d, g, b := st.d, st.g, st.b[l]
	lmax := 0.0
	for j := range d {
		lmax = math.Max(lmax, math.Abs(b[j]))
	}
	beta := make([]float64, d)
	grad := slices.Clone(b) // b − G β
	var best []int
	if lmax == 0 {
		return []int{}
	}
	const steps = 100
	for t := 1; t <= steps; t++ {
		lam := lmax * math.Pow(1e-4, float64(t)/steps)
		for sweep := 0; sweep < 1000; sweep++ {
			maxDelta, scale := 0.0, 0.0
			for j := range d {
				gjj := g[j*d+j]
				if gjj <= 0 {
					continue
				}
				rho := grad[j] + gjj*beta[j]
				nb := 0.0
				if rho > lam {
					nb = (rho - lam) / gjj
				} else if rho < -lam {
					nb = (rho + lam) / gjj
				}
				if delta := nb - beta[j]; delta != 0 {
					for i := range d {
						grad[i] -= delta * g[i*d+j]
					}
					beta[j] = nb
					maxDelta = math.Max(maxDelta, math.Abs(delta)*math.Sqrt(gjj))
				}
				scale = math.Max(scale, math.Abs(beta[j])*math.Sqrt(gjj))
			}
			if maxDelta <= 1e-9*math.Max(scale, 1e-300) {
				break
			}
		}
		var active []int
		for j := range d {
			if beta[j] != 0 {
				active = append(active, j)
			}
		}
		if len(active) > k {
			break
		}
		best = active
	}
	return slices.Clone(best)
}

// fitLabel fits the ridge surrogate on features s for label l.
func (st *stats) fitLabel(p *problem, l, label int, s []int, alpha float64, names []string) LabelExplanation {
	beta, _ := ridgeSolve(st.g, st.d, st.b[l], s, alpha)
	le := LabelExplanation{Label: label}
	le.Intercept = st.ybar[l]
	local := 0.0
	for a, j := range s {
		le.Intercept -= beta[a] * st.mu[j]
		local += beta[a] * float64(p.z[j])
	}
	le.LocalPrediction = le.Intercept + local
	le.ModelPrediction = float64(p.y[label])
	le.LocalError = math.Abs(le.LocalPrediction - le.ModelPrediction)
	le.Score = st.r2(l, s, beta)
	le.Weights = make([]FeatureWeight, len(s))
	for a, j := range s {
		le.Weights[a] = FeatureWeight{Feature: j, Name: names[j], Weight: beta[a]}
	}
	slices.SortStableFunc(le.Weights, func(x, y FeatureWeight) int {
		return cmp.Compare(math.Abs(y.Weight), math.Abs(x.Weight))
	})
	return le
}

// looScore is the weighted leave-one-out R² of the ridge on features s for
// label l (needs stats computed with keepRows).
func (st *stats) looScore(l int, s []int, alpha float64) float64 {
	if len(s) == 0 || st.syy[l] <= 1e-300 {
		return st.r2(l, s, nil)
	}
	beta, factor := ridgeSolve(st.g, st.d, st.b[l], s, alpha)
	m, d, L := len(s), st.d, len(st.syy)
	press := 0.0
	buf := make([]float64, m)
	for i := range st.nrows {
		row := st.zc[i*d : (i+1)*d]
		res := st.yc[i*L+l]
		for a, j := range s {
			buf[a] = row[j]
			res -= row[j] * beta[a]
		}
		forwardSubst(factor, m, buf)
		h := 0.0
		for _, v := range buf {
			h += v * v
		}
		h += st.w[i] / st.sumW // the intercept's leverage
		if h >= 1 {
			h = 1 - 1e-12
		}
		r := res / (1 - h)
		press += r * r
	}
	return 1 - press/st.syy[l]
}

// fit runs the whole LIME fit on a problem: kernel weights, optional
// automatic width, feature selection and one surrogate per label.
func fit(p *problem, labels []int, cfg fitConfig, names []string) (labs []LabelExplanation, width float64, grid []WidthScore, ess float64) {
	width = cfg.width
	if cfg.autoWidth {
		bestScore := math.Inf(-1)
		for _, f := range autoWidthFactors {
			wd := cfg.width * f
			w := kernelWeights(p.dist, wd)
			st := weightedStats(p, w, labels[:1], true)
			s := st.selectFeatures(0, cfg.numFeatures, cfg.selection, cfg.ridge)
			sc := st.looScore(0, s, cfg.ridge)
			grid = append(grid, WidthScore{Width: wd, LOOScore: sc, EffectiveSamples: st.ess})
			// A width must keep enough effective samples to be trusted.
			if st.ess < minESS(len(s)) {
				continue
			}
			if sc > bestScore+1e-12 {
				bestScore, width = sc, wd
			}
		}
	}
	w := kernelWeights(p.dist, width)
	st := weightedStats(p, w, labels, false)
	labs = make([]LabelExplanation, len(labels))
	for l, lab := range labels {
		s := st.selectFeatures(l, cfg.numFeatures, cfg.selection, cfg.ridge)
		labs[l] = st.fitLabel(p, l, lab, s, cfg.ridge, names)
	}
	return labs, width, grid, st.ess
}

// autoWidthFactors multiply the default width to give AutoKernelWidth's
// grid.
var autoWidthFactors = []float64{0.25, 0.5, 0.75, 1, 1.5, 2, 3}

func minESS(features int) float64 { return float64(10 * (features + 1)) }

func kernelWeights(dist []float64, width float64) []float64 {
	w := make([]float64, len(dist))
	for i, d := range dist {
		w[i] = kernel(d, width)
	}
	return w
}

// fitConfig carries the surrogate settings common to all LIME variants.
type fitConfig struct {
	width       float64
	autoWidth   bool
	numFeatures int
	selection   Selection
	ridge       float64
}

// quality fills in the summary and warnings of an explanation.
func quality(labs []LabelExplanation, ess float64, samples int) Quality {
	q := Quality{MinScore: math.Inf(1), EffectiveSamples: ess}
	for _, le := range labs {
		q.MinScore = math.Min(q.MinScore, le.Score)
		q.MaxLocalError = math.Max(q.MaxLocalError, le.LocalError)
	}
	if len(labs) == 0 {
		q.MinScore = 0
	}
	for _, le := range labs {
		if le.Score < 0.5 {
			q.Warnings = append(q.Warnings, fmt.Sprintf("label %d: the surrogate explains only %.0f%% of the model's variation near the instance (weighted R² %.3f); the model is not close to linear here: try AutoKernelWidth, a smaller kernel width or more features", le.Label, 100*math.Max(le.Score, 0), le.Score))
		}
		scale := math.Max(math.Abs(le.ModelPrediction), 1e-3)
		if le.LocalError > 0.1*scale && le.LocalError > 0.05 {
			q.Warnings = append(q.Warnings, fmt.Sprintf("label %d: the surrogate predicts %.4g at the instance where the model gives %.4g; read its weights with care, or try AutoKernelWidth", le.Label, le.LocalPrediction, le.ModelPrediction))
		}
	}
	if ess < minESS(0) || ess < 0.01*float64(samples) {
		q.Warnings = append(q.Warnings, fmt.Sprintf("only %.1f effective samples of %d carry kernel weight: the kernel width is too small for these distances; widen it or use AutoKernelWidth", ess, samples))
	}
	return q
}
