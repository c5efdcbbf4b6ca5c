package explain

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"time"
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
	// RankConfidence says how clearly the StableTop largest |weights| stand
	// apart from the rest, as a z-score: the smallest, over a feature a in
	// the top StableTop and a feature b outside it, of
	// (|β_a| − |β_b|) / SE(|β_a| − |β_b|), with the standard errors of the
	// ridge weights from their sandwich covariance
	// (Zᵀ W Z + λI)⁻¹ (Σ w_i² e_i² z_i z_iᵀ) (Zᵀ W Z + λI)⁻¹ (z centred,
	// e the surrogate's residuals), the smallest over the explained labels.
	// Near 0 the top set is a coin toss between seeds; at RankZ (2.5) or
	// above another seed names the same top set with high probability. It
	// is capped at 100, which it also reads when the top set holds every
	// feature.
	RankConfidence float64 `json:"rank_confidence"`
	// RankTarget is the rank confidence the stopping rule asks for:
	// RankZTabular for tabular LIME, RankZ for image and text LIME.
	RankTarget float64 `json:"rank_target"`
	// StableTop is the size of the top set RankConfidence is about:
	// the StableTop option, at most the number of features kept.
	StableTop int `json:"stable_top"`
	// Stable says RankConfidence reached RankTarget: with the default adaptive
	// budget, that the stopping rule was met before MaxSamples.
	Stable bool `json:"stable"`
	// Stop says why the sample budget ended: StopStable (the stopping rule
	// was met), StopCap (MaxSamples reached first), StopFutile (tabular
	// LIME: at the rate the rank confidence grows it would stay below
	// RankTarget even at MaxSamples) or StopFixed (Samples was set).
	Stop string `json:"stop"`
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
	// Samples is the number of perturbations used (the instance included).
	Samples int `json:"samples"`
	// MaxSamples is the cap of the adaptive budget, 0 when Samples was set
	// (a fixed budget). With the adaptive budget, Samples started at the
	// method's default and doubled until the stopping rule was met
	// (Quality.Stable) or MaxSamples was reached.
	MaxSamples int `json:"max_samples,omitempty"`
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
// representation (row 0 is the instance), their distances to the instance
// and the model's outputs.
//
// A dense problem holds the rows in z and the distances in dist. A binary
// problem (every feature 0 or 1: binned columns, kept segments, kept words)
// holds row i as a bit mask, masks[i*dw:(i+1)*dw] (feature j is bit j%64 of
// word j/64), the number of its ones in ones[i], and the distance of a row
// with c ones in classDist[c]: in every binary design the distance depends
// on that count only, so rows fall into at most d+1 weight classes.
type problem struct {
	n, d int
	z    []float32 // dense: n×d
	dist []float64 // dense: n

	binary    bool
	dw        int
	masks     []uint64  // binary: n×dw
	ones      []int32   // binary: n
	classDist []float64 // binary: d+1
	// cols caches columns() and order classBits(), for colRows and
	// orderRows rows.
	cols      []uint64
	colRows   int
	order     *classOrder
	orderRows int
	denseView *problem // dense(), for AutoKernelWidth's leave-one-out
	gramG     []float64
	gramW     []float64
	gramRows  int

	z0 []float32 // the instance's row
	y  []float32 // n×k
	k  int
}

// newMaskProblem makes an empty binary problem of d features whose
// instance row is all ones, with the distance of a row of c ones dist(c).
func newMaskProblem(d int, dist func(ones int) float64) *problem {
	p := &problem{d: d, binary: true, dw: (d + 63) / 64, z0: make([]float32, d), classDist: make([]float64, d+1)}
	for j := range p.z0 {
		p.z0[j] = 1
	}
	for c := range p.classDist {
		p.classDist[c] = dist(c)
	}
	return p
}

// growRows makes room for the masks and counts of rows up to hi.
func (p *problem) growRows(hi int) {
	p.masks = slices.Grow(p.masks, hi*p.dw-len(p.masks))[:hi*p.dw]
	p.ones = slices.Grow(p.ones, hi-len(p.ones))[:hi]
}

// setInstanceRow makes row 0 the instance: every feature 1.
func (p *problem) setInstanceRow() {
	row := p.masks[:p.dw]
	for w := range row {
		row[w] = ^uint64(0)
		if rest := p.d - 64*w; rest < 64 {
			row[w] = 1<<rest - 1
		}
	}
	p.ones[0] = int32(p.d)
}

// classWeights returns the kernel weight of each distance class of a
// binary problem.
func (p *problem) classWeights(width float64) []float64 {
	wc := make([]float64, len(p.classDist))
	for c, d := range p.classDist {
		wc[c] = kernel(d, width)
	}
	return wc
}

// rowWeights returns the kernel weight of every row.
func (p *problem) rowWeights(width float64) []float64 {
	w := make([]float64, p.n)
	if p.binary {
		wc := p.classWeights(width)
		for i, c := range p.ones[:p.n] {
			w[i] = wc[c]
		}
		return w
	}
	for i, d := range p.dist[:p.n] {
		w[i] = kernel(d, width)
	}
	return w
}

// bit returns z_ij of a binary problem.
func (p *problem) bit(i, j int) uint64 {
	return p.masks[i*p.dw+j>>6] >> (j & 63) & 1
}

// columns returns the binary problem's columns as bitsets over the rows:
// column j is cols[j*words:(j+1)*words], row i its bit i%64 of word i/64,
// words = ⌈n/64⌉. Built by 64×64 bit transposes and cached until rows are
// added.
func (p *problem) columns() (cols []uint64, words int) {
	words = (p.n + 63) / 64
	if p.colRows == p.n && p.cols != nil {
		return p.cols, words
	}
	cols = make([]uint64, p.d*words)
	parallelChunks(words, 16, func(_, lo, hi int) {
		var a [64]uint64
		for g := lo; g < hi; g++ {
			for w := range p.dw {
				for t := range a {
					a[t] = 0
					if i := g*64 + t; i < p.n {
						a[t] = p.masks[i*p.dw+w]
					}
				}
				transpose64(&a)
				for t := range min(64, p.d-64*w) {
					cols[(64*w+t)*words+g] = a[t]
				}
			}
		}
	})
	p.cols, p.colRows = cols, p.n
	return cols, words
}

// dense returns the problem with its rows materialised in z (a binary
// problem is copied, and the copy cached until rows are added; a dense one
// returned as is).
func (p *problem) dense() *problem {
	if !p.binary {
		return p
	}
	if p.denseView != nil && p.denseView.n == p.n {
		return p.denseView
	}
	q := *p
	q.denseView = nil
	q.binary = false
	q.z = make([]float32, p.n*p.d)
	q.dist = make([]float64, p.n)
	parallelChunks(p.n, 1024, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			for j := range p.d {
				q.z[i*p.d+j] = float32(p.bit(i, j))
			}
			q.dist[i] = p.classDist[p.ones[i]]
		}
	})
	p.denseView = &q
	return &q
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
	w     []float64   // dense: kernel weight of each row
	wc    []float64   // binary: kernel weight of each distance class
	nrows int
}

// stats computes the statistics of p for kernel width width. keepRows
// keeps the centred rows (for leave-one-out scores).
func (p *problem) stats(width float64, labels []int, keepRows bool) *stats {
	if p.binary && !keepRows {
		return binaryStats(p, p.classWeights(width), labels)
	}
	q := p.dense()
	return weightedStats(q, q.rowWeights(width), labels, keepRows)
}

// gramChunks is the number of row chunks weightedStats reduces over: fixed
// by n and d only (never by the number of cores), so sums are added in the
// same order on every machine; partial d×d sums stay under about 32 MiB.
func gramChunks(n, d int) int {
	return max(1, min((n+255)/256, (1<<22)/max(1, d*d)))
}

// weightedStats computes the statistics of a dense problem with row
// weights w, in parallel over fixed row chunks whose partial sums are added
// in chunk order.
func weightedStats(p *problem, w []float64, labels []int, keepRows bool) *stats {
	n, d, L := p.n, p.d, len(labels)
	st := &stats{d: d, mu: make([]float64, d), ybar: make([]float64, L), syy: make([]float64, L), nrows: n, w: w}
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
		st.zc, st.yc = zc, yc
	}
	return st
}

// classOrder groups the rows of a binary problem by distance class: rows
// lists them class by class (in row order within a class), class c's rows
// are rows[off[c]:off[c+1]], and in a bitset over this order class c
// starts at word start[c] (every class on a fresh word). words is the
// length of such a bitset. bits holds the columns as such bitsets: column
// j in bits[j*words:(j+1)*words].
type classOrder struct {
	rows   []int32
	off    []int
	start  []int
	words  int
	counts []int
	bits   []uint64
}

// classBits returns the rows grouped by class with the columns as bitsets
// in that order, cached until rows are added. It depends on the design
// only (not on the model's outputs or the kernel width), so it can be
// built while the model is still at work.
func (p *problem) classBits() *classOrder {
	if p.order != nil && p.orderRows == p.n {
		return p.order
	}
	C, d := len(p.classDist), p.d
	o := &classOrder{rows: make([]int32, p.n), off: make([]int, C+1), start: make([]int, C), counts: make([]int, C)}
	for _, c := range p.ones[:p.n] {
		o.counts[c]++
	}
	for c, k := range o.counts {
		o.off[c+1] = o.off[c] + k
		o.start[c] = o.words
		o.words += (k + 63) / 64
	}
	next := slices.Clone(o.off[:C])
	for i, c := range p.ones[:p.n] {
		o.rows[next[c]] = int32(i)
		next[c]++
	}
	// Transpose each class's rows 64 at a time.
	W := o.words
	o.bits = make([]uint64, d*W)
	type task struct{ c, chunk int }
	var tasks []task
	for c, k := range o.counts {
		for chunk := range (k + 63) / 64 {
			tasks = append(tasks, task{c, chunk})
		}
	}
	parallelChunks(len(tasks), 8, func(_, lo, hi int) {
		var a [64]uint64
		for _, tk := range tasks[lo:hi] {
			rows := o.rows[o.off[tk.c]+tk.chunk*64 : min(o.off[tk.c+1], o.off[tk.c]+tk.chunk*64+64)]
			for w := range p.dw {
				for t := range a {
					a[t] = 0
					if t < len(rows) {
						a[t] = p.masks[int(rows[t])*p.dw+w]
					}
				}
				transpose64(&a)
				for t := range min(64, d-64*w) {
					o.bits[(64*w+t)*W+o.start[tk.c]+tk.chunk] = a[t]
				}
			}
		}
	})
	p.order, p.orderRows = o, p.n
	return o
}

// prepareFit builds, for a binary problem, what its fit needs from the
// design alone (the class bitsets, the column bitsets and the Gram matrix
// for kernel width), so that it can run while the model evaluates the last
// perturbations.
func (p *problem) prepareFit(n int, width float64) {
	if !p.binary || n != p.n {
		return
	}
	p.gram(p.classWeights(width))
	p.columns()
}

// gram returns the upper triangle of the uncentred weighted Gram matrix
// Σ_i w_i z_i z_iᵀ (d×d, row-major) of a binary problem with class weights
// wc, cached for the last weights until rows are added: per pair of
// columns, the popcounts of their shared ones in each class, times the
// class weight. It depends on the design only.
func (p *problem) gram(wc []float64) []float64 {
	if p.gramRows == p.n && slices.Equal(p.gramW, wc) {
		return p.gramG
	}
	d, o := p.d, p.classBits()
	W, perm := o.words, o.bits
	// Each word of the class order belongs to one class: its weight.
	ww := make([]float64, W)
	for c, cnt := range o.counts {
		for w := o.start[c]; w < o.start[c]+(cnt+63)/64; w++ {
			ww[w] = wc[c]
		}
	}
	g := make([]float64, d*d)
	parallelChunks(d, 1, func(_, j, _ int) {
		pj := perm[j*W : (j+1)*W]
		ww := ww[:len(pj)]
		for k := j; k < d; k++ {
			pk := perm[k*W : (k+1)*W]
			pk = pk[:len(pj)]
			// Four running sums, so the multiply-adds overlap.
			var s [4]float64
			t := 0
			for ; t+4 <= len(pj); t += 4 {
				s[0] += ww[t] * float64(bits.OnesCount64(pj[t]&pk[t]))
				s[1] += ww[t+1] * float64(bits.OnesCount64(pj[t+1]&pk[t+1]))
				s[2] += ww[t+2] * float64(bits.OnesCount64(pj[t+2]&pk[t+2]))
				s[3] += ww[t+3] * float64(bits.OnesCount64(pj[t+3]&pk[t+3]))
			}
			for ; t < len(pj); t++ {
				s[0] += ww[t] * float64(bits.OnesCount64(pj[t]&pk[t]))
			}
			g[j*d+k] = (s[0] + s[1]) + (s[2] + s[3])
		}
	})
	p.gramG, p.gramW, p.gramRows = g, slices.Clone(wc), p.n
	return g
}

// binaryStats computes the statistics of a binary problem with class
// weights wc. With rows grouped by weight class, Σ_i w_i z_ij z_ik is
// Σ_c w_c·popcount(class c's bits of columns j and k): G costs d²/2 popcounts
// per 64 rows instead of a multiply-add per pair of ones per row, and its
// class counts are exact integers. b_l[j] = Σ w_i (y_il − ȳ_l) over the ones
// of column j. Every entry is summed by one goroutine in a fixed order, so
// the result does not depend on the number of cores.
func binaryStats(p *problem, wc []float64, labels []int) *stats {
	n, d, L := p.n, p.d, len(labels)
	st := &stats{d: d, mu: make([]float64, d), ybar: make([]float64, L), syy: make([]float64, L), nrows: n, wc: wc}
	o := p.classBits()
	var sw, sw2 float64
	for c, k := range o.counts {
		sw += float64(k) * wc[c]
		sw2 += float64(k) * wc[c] * wc[c]
	}
	st.sumW = sw
	if sw2 > 0 {
		st.ess = sw * sw / sw2
	}
	g := slices.Clone(p.gram(wc))
	if sw > 0 {
		for j := range d {
			st.mu[j] = g[j*d+j] / sw
		}
	}
	// Label means, weighted centred outputs v and their sums of squares.
	v := make([]float64, n*L)
	for l, lab := range labels {
		s := 0.0
		for i := range n {
			s += wc[p.ones[i]] * float64(p.y[i*p.k+lab])
		}
		if sw > 0 {
			st.ybar[l] = s / sw
		}
		ss := 0.0
		for i := range n {
			wi := wc[p.ones[i]]
			e := float64(p.y[i*p.k+lab]) - st.ybar[l]
			v[l*n+i] = wi * e
			ss += wi * e * e
		}
		st.syy[l] = ss
	}
	st.b = make([][]float64, L)
	for l := range st.b {
		st.b[l] = make([]float64, d)
	}
	// b_l[j] = Σ_i v_li z_ij by byte of the row masks: each row adds its
	// v into one cell per byte, the cell of its pattern of 8 features; a
	// feature's sum is then the sum of the cells whose pattern holds it.
	groups := (d + 7) / 8
	cells := make([]float64, groups*256)
	for l := range L {
		clear(cells)
		vl := v[l*n : (l+1)*n]
		for i, vi := range vl {
			row := p.masks[i*p.dw : (i+1)*p.dw]
			for gr := range groups {
				cells[gr<<8|int(row[gr>>3]>>((gr&7)*8)&0xff)] += vi
			}
		}
		for j := range d {
			gr, bit := j>>3, j&7
			c := cells[gr<<8 : gr<<8+256]
			s := 0.0
			for pat := range c {
				if pat>>bit&1 != 0 {
					s += c[pat]
				}
			}
			st.b[l][j] = s
		}
	}
	st.g = g
	for j := range d {
		for k := j; k < d; k++ {
			g[j*d+k] -= sw * st.mu[j] * st.mu[k]
			g[k*d+j] = g[j*d+k]
		}
	}
	return st
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
		local += beta[a] * float64(p.z0[j])
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

// fitResult is the outcome of one LIME fit.
type fitResult struct {
	labs  []LabelExplanation
	width float64
	grid  []WidthScore
	ess   float64
	// rankZ is the smallest rank confidence over the labels; top the size
	// of the top set it is about.
	rankZ float64
	top   int
}

// fit runs the whole LIME fit on a problem: kernel weights, optional
// automatic width, feature selection, one surrogate per label and the
// confidence of its top-ranked features.
func fit(p *problem, labels []int, cfg fitConfig, names []string) fitResult {
	res := fitResult{width: cfg.width, rankZ: maxRankZ}
	if cfg.autoWidth {
		bestScore := math.Inf(-1)
		for _, f := range autoWidthFactors {
			wd := cfg.width * f
			st := p.stats(wd, labels[:1], true)
			s := st.selectFeatures(0, cfg.numFeatures, cfg.selection, cfg.ridge)
			sc := st.looScore(0, s, cfg.ridge)
			res.grid = append(res.grid, WidthScore{Width: wd, LOOScore: sc, EffectiveSamples: st.ess})
			// A width must keep enough effective samples to be trusted.
			if st.ess < minESS(len(s)) {
				continue
			}
			if sc > bestScore+1e-12 {
				bestScore, res.width = sc, wd
			}
		}
	}
	st := p.stats(res.width, labels, false)
	res.ess = st.ess
	res.labs = make([]LabelExplanation, len(labels))
	all := make([]int, p.d)
	for j := range all {
		all[j] = j
	}
	for l, lab := range labels {
		s := st.selectFeatures(l, cfg.numFeatures, cfg.selection, cfg.ridge)
		res.labs[l] = st.fitLabel(p, l, lab, s, cfg.ridge, names)
		// The top set of the surrogate: its k largest weights when it keeps
		// more than k features, else the kept features themselves, whose
		// choice is then judged on the ridge over all features.
		k := min(cfg.stableTop, len(s))
		res.top = k
		f := s
		if len(s) <= k {
			f = all
		}
		if k == 0 || len(f) <= k {
			continue
		}
		beta, factor := ridgeSolve(st.g, p.d, st.b[l], f, cfg.ridge)
		res.rankZ = min(res.rankZ, st.rankConfidence(p, l, lab, f, beta, factor, k))
	}
	return res
}

// autoWidthFactors multiply the default width to give AutoKernelWidth's
// grid.
var autoWidthFactors = []float64{0.25, 0.5, 0.75, 1, 1.5, 2, 3}

func minESS(features int) float64 { return float64(10 * (features + 1)) }

// fitConfig carries the surrogate settings common to all LIME variants.
type fitConfig struct {
	width       float64
	autoWidth   bool
	numFeatures int
	selection   Selection
	ridge       float64
	stableTop   int
}

// budget is the sample budget of an explanation: a fixed number of
// perturbations, or an adaptive one that starts at start and doubles up to
// max until the top features are separated (Quality.Stable).
type budget struct {
	start, max int
	adaptive   bool
	// rankZ is the rank confidence the stopping rule asks for.
	rankZ float64
	// futility lets the budget stop before the cap once it is hopeless
	// (see growUntilStable).
	futility bool
}

// Why an explanation's sample budget ended (Quality.Stop).
const (
	StopStable = "stable"
	StopCap    = "cap"
	StopFutile = "futile"
	StopFixed  = "fixed"
)

// addRows adds rows lo..hi−1 to p in chunks of chunk rows: draw(i, a, b)
// builds chunk i (rows a..b−1) into its buffer while eval(i−1, …) gives
// the previous chunk to the model (see pipeline; draw and eval alternate
// between two buffers by i%2). Once the design is complete the fit is
// prepared for the kernel width, and afterwards p takes the outputs
// gathered in o. It stops at the first error or when ctx is done.
func (p *problem) addRows(ctx context.Context, o *outputs, width float64, lo, hi, chunk int, draw func(i, a, b int), eval func(i, a, b int) error) error {
	n := (hi - lo + chunk - 1) / chunk
	bounds := func(i int) (int, int) { return lo + i*chunk, min(hi, lo+(i+1)*chunk) }
	err := pipeline(n, func(i int) {
		if i == n {
			p.n = hi // the design is complete; the outputs follow
			p.prepareFit(hi, width)
			return
		}
		a, b := bounds(i)
		draw(i, a, b)
	}, func(i int) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		a, b := bounds(i)
		return eval(i, a, b)
	})
	if err != nil {
		return err
	}
	p.y, p.k, p.n = o.y, o.k, hi
	return nil
}

// growUntilStable fits p and, with an adaptive budget, doubles the
// perturbations until the rank confidence reaches b.rankZ or the budget's
// cap. extend(lo, hi) must add rows lo..hi−1 to p, drawn from the same
// seeded streams whatever the number of rounds, so the rows of a budget of
// 2n start with those of n and the decisions depend on the seed only.
//
// With b.futility it also stops once the budget has grown to 4× its start
// and the rank confidence z, projected to the cap at the rate standard
// errors shrink (z·sqrt(cap/n)), stays below b.rankZ: the top set is then a
// near-tie that the remaining rounds would most likely not separate either,
// and their model calls would buy little stability. Four times the start
// keeps an early, noisy z from ending a budget that would have separated.
// It returns the fit and why the budget ended (Quality.Stop).
func growUntilStable(p *problem, b budget, labels []int, cfg fitConfig, names []string, extend func(lo, hi int) error) (fitResult, string, error) {
	for {
		res := fit(p, labels, cfg, names)
		switch {
		case !b.adaptive:
			return res, StopFixed, nil
		case res.rankZ >= b.rankZ:
			return res, StopStable, nil
		case p.n >= b.max:
			return res, StopCap, nil
		case b.futility && p.n >= 4*b.start && res.rankZ*math.Sqrt(float64(b.max)/float64(p.n)) < b.rankZ:
			return res, StopFutile, nil
		}
		if err := extend(p.n, min(2*p.n, b.max)); err != nil {
			return res, "", err
		}
	}
}

// finishLIME grows the fit of p until it is stable (growUntilStable) and
// fills e with its result: labels named from classNames, kernel widths,
// sample count, quality and total time. It is the common end of the
// tabular, image and text explainers.
func finishLIME(e *Explanation, p *problem, b budget, labels []int, cfg fitConfig, names, classNames []string, extend func(lo, hi int) error, start time.Time) error {
	res, stop, err := growUntilStable(p, b, labels, cfg, names, extend)
	if err != nil {
		return err
	}
	for i := range res.labs {
		if l := res.labs[i].Label; l < len(classNames) {
			res.labs[i].Name = classNames[l]
		}
	}
	e.Samples = p.n
	e.Labels, e.KernelWidth, e.KernelWidths = res.labs, res.width, res.grid
	e.Quality = quality(res, p.n, b, stop)
	e.Timing.Total = time.Since(start)
	return nil
}

// quality fills in the summary and warnings of an explanation.
func quality(res fitResult, samples int, b budget, stop string) Quality {
	labs, ess := res.labs, res.ess
	q := Quality{MinScore: math.Inf(1), EffectiveSamples: ess, RankConfidence: res.rankZ, RankTarget: b.rankZ, StableTop: res.top, Stable: res.rankZ >= b.rankZ, Stop: stop}
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
	if !q.Stable {
		switch {
		case stop == StopFutile:
			q.Warnings = append(q.Warnings, fmt.Sprintf("the top %d features are not separated from the next ones at %d samples (rank confidence z = %.2f < %.1f), and at the rate z grows with the samples it would stay below %.1f even at the cap of %d, so the budget stopped here: features ranked near %d have nearly equal weights, and another seed may swap them; raise MaxSamples to insist, or compare fewer features (StableTop)", q.StableTop, samples, q.RankConfidence, q.RankTarget, q.RankTarget, b.max, q.StableTop))
		case b.adaptive:
			q.Warnings = append(q.Warnings, fmt.Sprintf("the top %d features are not separated from the next ones even at the cap of %d samples (rank confidence z = %.2f < %.1f): features ranked near %d have nearly equal weights, and another seed may swap them; raise MaxSamples, or compare fewer features (StableTop)", q.StableTop, samples, q.RankConfidence, q.RankTarget, q.StableTop))
		default:
			q.Warnings = append(q.Warnings, fmt.Sprintf("the top %d features are not clearly separated from the next ones at %d samples (rank confidence z = %.2f < %.1f): another seed may name others; leave Samples at 0 for the adaptive budget, or raise it", q.StableTop, samples, q.RankConfidence, q.RankTarget))
		}
	}
	return q
}
