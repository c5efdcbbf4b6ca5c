package explain

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"
)

// KernelSHAP explains models with Kernel SHAP (Lundberg & Lee 2017): Shapley
// values estimated by a weighted linear regression over feature coalitions,
// where a feature left out of a coalition takes its values from a background
// set. Build it once from the background with NewKernelSHAP.
type KernelSHAP struct {
	bg    []float32
	nb, d int
	names []string
}

// NewKernelSHAP keeps nb background rows of d features (row-major) that
// stand for "feature unknown". A few dozen representative rows (e.g. a
// k-means summary of the training data) are enough; cost grows with nb.
// featureNames may be nil.
func NewKernelSHAP(background []float32, d int, featureNames []string) (*KernelSHAP, error) {
	if d <= 0 {
		return nil, fmt.Errorf("kernel shap: %d features per row; need at least 1", d)
	}
	if len(background) == 0 {
		return nil, fmt.Errorf("kernel shap: empty background set: pass some training rows (n×%d values) to stand for missing features", d)
	}
	if len(background)%d != 0 {
		return nil, fmt.Errorf("kernel shap: background has %d values, not a multiple of %d features per row", len(background), d)
	}
	if featureNames != nil && len(featureNames) != d {
		return nil, fmt.Errorf("kernel shap: %d feature names for %d features", len(featureNames), d)
	}
	for i, v := range background {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("kernel shap: background row %d, feature %d is %v; background values must be finite", i/d, i%d, v)
		}
	}
	names := featureNames
	if names == nil {
		names = make([]string, d)
		for j := range names {
			names[j] = fmt.Sprintf("x%d", j)
		}
	}
	return &KernelSHAP{bg: slices.Clone(background), nb: len(background) / d, d: d, names: slices.Clone(names)}, nil
}

// KernelSHAPOptions tune one Kernel SHAP explanation.
type KernelSHAPOptions struct {
	// Seed for the coalition sampling (unused when enumeration is exact).
	Seed uint64
	// Samples is the number of coalitions (default 2·M + 2048, M the
	// number of features that differ from the background). When
	// 2^M − 2 ≤ Samples every coalition is enumerated and the values are
	// exact Shapley values.
	Samples int
	// Labels to explain; default the TopLabels largest outputs (TopLabels
	// default 1), or output 0 for regression.
	Labels    []int
	TopLabels int
	Mode      Mode
	// BatchSize is the number of rows per model call (default 1024).
	BatchSize int
}

// SHAPLabel holds the attributions for one output.
type SHAPLabel struct {
	Label int `json:"label"`
	// BaseValue is E[f(background)], ModelOutput is f(x); Values sum to
	// ModelOutput − BaseValue.
	BaseValue   float64   `json:"base_value"`
	ModelOutput float64   `json:"model_output"`
	Values      []float64 `json:"values"`
}

// SHAPExplanation is a Kernel SHAP explanation of one instance.
type SHAPExplanation struct {
	Method       string   `json:"method"`
	Mode         Mode     `json:"mode"`
	Seed         uint64   `json:"seed"`
	NumFeatures  int      `json:"num_features"`
	FeatureNames []string `json:"feature_names"`
	// Varying counts the features that differ from some background row;
	// the others get exactly 0.
	Varying int `json:"varying"`
	// Coalitions evaluated, and whether they were all of them (exact
	// Shapley values).
	Coalitions int         `json:"coalitions"`
	Exact      bool        `json:"exact"`
	Background int         `json:"background"`
	Labels     []SHAPLabel `json:"labels"`
	Timing     Timing      `json:"timing"`
}

// Ranked returns the attributions of output label as feature weights,
// largest |value| first (nil if label was not explained).
func (e *SHAPExplanation) Ranked(label int) []FeatureWeight {
	for _, l := range e.Labels {
		if l.Label != label {
			continue
		}
		out := make([]FeatureWeight, len(l.Values))
		for j, v := range l.Values {
			out[j] = FeatureWeight{Feature: j, Name: e.FeatureNames[j], Weight: v}
		}
		slices.SortStableFunc(out, func(a, b FeatureWeight) int { return cmp.Compare(math.Abs(b.Weight), math.Abs(a.Weight)) })
		return out
	}
	return nil
}

// Explain computes Shapley values of model at x.
func (s *KernelSHAP) Explain(ctx context.Context, model Func, x []float32, opt KernelSHAPOptions) (*SHAPExplanation, error) {
	start := time.Now()
	const what = "kernel shap"
	if model == nil {
		return nil, fmt.Errorf("%s: model is nil", what)
	}
	d := s.d
	if len(x) != d {
		return nil, fmt.Errorf("%s: instance has %d features, the background has %d", what, len(x), d)
	}
	for j, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("%s: feature %q of the instance is %v; values must be finite", what, s.names[j], v)
		}
	}
	mode := opt.Mode
	if mode == "" {
		mode = Classification
	}
	if mode != Classification && mode != Regression {
		return nil, fmt.Errorf("%s: unknown mode %q; use classification or regression", what, mode)
	}
	batch := opt.BatchSize
	if batch == 0 {
		batch = 1024
	}
	if batch < 1 {
		return nil, fmt.Errorf("%s: BatchSize is %d; use a positive number of rows per model call (default 1024)", what, batch)
	}
	if opt.Samples < 0 {
		return nil, fmt.Errorf("%s: Samples is %d; use a positive number of coalitions", what, opt.Samples)
	}
	var varying []int
	for j := range d {
		for b := range s.nb {
			if s.bg[b*d+j] != x[j] {
				varying = append(varying, j)
				break
			}
		}
	}
	M := len(varying)
	ns := opt.Samples
	if ns == 0 {
		ns = 2*M + 2048
	}
	var masks []uint8 // coalitions × M
	var weights []float64
	exact := false
	if M >= 2 {
		masks, weights, exact = shapCoalitions(opt.Seed, M, ns)
	}
	nc := len(weights)
	e := &SHAPExplanation{Method: "kernel-shap", Mode: mode, Seed: opt.Seed, NumFeatures: d, FeatureNames: s.names,
		Varying: M, Coalitions: nc, Exact: exact || M < 2, Background: s.nb}

	// Rows: x, the background, then nb rows per coalition.
	nb := s.nb
	total := 1 + nb + nc*nb
	o := outputs{what: what, timing: &e.Timing}
	buf := make([]float32, min(batch, total)*d)
	for lo := 0; lo < total; lo += batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi := min(lo+batch, total)
		parallelChunks(hi-lo, 64, func(_, a, b int) {
			for r := lo + a; r < lo+b; r++ {
				dst := buf[(r-lo)*d : (r-lo+1)*d]
				switch {
				case r == 0:
					copy(dst, x)
				case r <= nb:
					copy(dst, s.bg[(r-1)*d:r*d])
				default:
					c, bi := (r-1-nb)/nb, (r-1-nb)%nb
					copy(dst, s.bg[bi*d:(bi+1)*d])
					mk := masks[c*M : (c+1)*M]
					for a, j := range varying {
						if mk[a] != 0 {
							dst[j] = x[j]
						}
					}
				}
			}
		})
		if err := o.add(hi-lo, lo, func() ([]float32, error) { return model(ctx, buf[:(hi-lo)*d], hi-lo) }); err != nil {
			return nil, err
		}
	}
	k := o.k
	labels, err := pickLabels(what, mode, o.y[:k], opt.Labels, opt.TopLabels)
	if err != nil {
		return nil, err
	}
	// Mean output over the background, per coalition, in float64.
	meanRows := func(first int) []float64 {
		m := make([]float64, k)
		for b := range nb {
			for l := range k {
				m[l] += float64(o.y[(first+b)*k+l])
			}
		}
		for l := range m {
			m[l] /= float64(nb)
		}
		return m
	}
	base := meanRows(1)
	ey := make([][]float64, nc)
	for c := range nc {
		ey[c] = meanRows(1 + nb + c*nb)
	}
	for _, lab := range labels {
		fx := float64(o.y[lab])
		delta := fx - base[lab]
		values := make([]float64, d)
		switch M {
		case 0:
		case 1:
			values[varying[0]] = delta
		default:
			phi := shapRegression(masks, weights, M, ey, lab, base[lab], delta)
			for a, j := range varying {
				values[j] = phi[a]
			}
		}
		e.Labels = append(e.Labels, SHAPLabel{Label: lab, BaseValue: base[lab], ModelOutput: fx, Values: values})
	}
	e.Timing.Total = time.Since(start)
	return e, nil
}

// shapRegression solves the Shapley-kernel weighted least squares under the
// efficiency constraint Σφ = delta by eliminating the last feature:
// y_c − z_cM·delta = Σ_{j<M} φ_j (z_cj − z_cM).
func shapRegression(masks []uint8, w []float64, M int, ey [][]float64, lab int, base, delta float64) []float64 {
	m := M - 1
	g := make([]float64, m*m)
	b := make([]float64, m)
	xr := make([]float64, m)
	for c := range w {
		mk := masks[c*M : (c+1)*M]
		last := float64(mk[M-1])
		y := ey[c][lab] - base - last*delta
		for j := range m {
			xr[j] = float64(mk[j]) - last
		}
		for i := range m {
			if xr[i] == 0 {
				continue
			}
			wi := w[c] * xr[i]
			b[i] += wi * y
			for j := range m {
				g[i*m+j] += wi * xr[j]
			}
		}
	}
	all := make([]int, m)
	for i := range all {
		all[i] = i
	}
	phi, _ := ridgeSolve(g, m, b, all, 0)
	sum := 0.0
	for _, v := range phi {
		sum += v
	}
	return append(phi, delta-sum)
}

// shapCoalitions chooses coalitions and their kernel weights as the shap
// package does: subset sizes are filled completely, smallest and largest
// first (a size and its complement together), while the budget allows; the
// rest of the budget samples coalitions (with their complements) from the
// remaining sizes in proportion to their Shapley kernel mass.
func shapCoalitions(seed uint64, M, ns int) (masks []uint8, weights []float64, exact bool) {
	if M <= 30 && ns > (1<<M)-2 {
		ns = (1 << M) - 2
	}
	numSizes := M / 2 // ceil((M-1)/2): sizes 1..numSizes with complements
	numPaired := (M - 1) / 2
	wv := make([]float64, numSizes)
	for i := range wv {
		s := float64(i + 1)
		wv[i] = float64(M-1) / (s * (float64(M) - s))
		if i+1 <= numPaired {
			wv[i] *= 2
		}
	}
	tot := 0.0
	for _, v := range wv {
		tot += v
	}
	for i := range wv {
		wv[i] /= tot
	}
	left := ns
	full := 0
	rem := slices.Clone(wv)
	mask := make([]uint8, M)
	for size := 1; size <= numSizes; size++ {
		nsub := binom(M, size)
		if size <= numPaired {
			nsub *= 2
		}
		if !(float64(left)*rem[size-1]/nsub >= 1-1e-8) {
			break
		}
		full++
		left -= int(nsub)
		if rem[size-1] < 1 {
			scale := 1 / (1 - rem[size-1])
			for i := size; i < numSizes; i++ {
				rem[i] *= scale
			}
		}
		w := wv[size-1] / binom(M, size)
		if size <= numPaired {
			w /= 2
		}
		forEachSubset(M, size, func(idx []int) {
			clear(mask)
			for _, j := range idx {
				mask[j] = 1
			}
			masks = append(masks, mask...)
			weights = append(weights, w)
			if size <= numPaired {
				for j := range mask {
					mask[j] ^= 1
				}
				masks = append(masks, mask...)
				weights = append(weights, w)
			}
		})
	}
	if full == numSizes {
		return masks, weights, true
	}
	nfixed := len(weights)
	weightLeft := 0.0
	for _, v := range wv[full:] {
		weightLeft += v
	}
	if left > 0 {
		r := subStream(seed, streamOther, 1)
		dist := slices.Clone(rem[full:])
		s := 0.0
		for _, v := range dist {
			s += v
		}
		for i := range dist {
			dist[i] /= s
		}
		seen := map[string]int{}
		idx := make([]int, M)
		for i := range idx {
			idx[i] = i
		}
		add := func(m []uint8) {
			key := string(m)
			if at, ok := seen[key]; ok {
				weights[at]++
				return
			}
			seen[key] = len(weights)
			masks = append(masks, m...)
			weights = append(weights, 1)
		}
		for tries := 0; len(weights)-nfixed < left && tries < 4*left; tries++ {
			u := r.Float64()
			size := full + 1
			for a, p := range dist {
				if u < p || a == len(dist)-1 {
					size = full + 1 + a
					break
				}
				u -= p
			}
			for k := range size {
				j := k + r.IntN(M-k)
				idx[k], idx[j] = idx[j], idx[k]
			}
			clear(mask)
			for _, j := range idx[:size] {
				mask[j] = 1
			}
			add(mask)
			if len(weights)-nfixed < left && size <= numPaired {
				for j := range mask {
					mask[j] ^= 1
				}
				add(mask)
			}
		}
		s = 0
		for _, v := range weights[nfixed:] {
			s += v
		}
		for i := nfixed; i < len(weights); i++ {
			weights[i] *= weightLeft / s
		}
	}
	return masks, weights, false
}

func binom(n, k int) float64 {
	r := 1.0
	for i := 1; i <= k; i++ {
		r = r * float64(n-k+i) / float64(i)
	}
	return math.Round(r)
}

// forEachSubset calls fn with each size-k subset of 0..n-1 in
// lexicographic order.
func forEachSubset(n, k int, fn func([]int)) {
	idx := make([]int, k)
	for i := range idx {
		idx[i] = i
	}
	for {
		fn(idx)
		i := k - 1
		for i >= 0 && idx[i] == n-k+i {
			i--
		}
		if i < 0 {
			return
		}
		idx[i]++
		for j := i + 1; j < k; j++ {
			idx[j] = idx[j-1] + 1
		}
	}
}
