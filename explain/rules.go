package explain

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
)

func init() { Register(anchorsMethod{}) }

// Anchors (Ribeiro et al. 2018) explain a classifier's decision by a rule:
// a few conditions on the input (an "anchor") under which the model makes
// the same decision with high probability, whatever the rest of the input
// is. Precision is that probability, coverage the share of inputs the rule
// applies to. The search is the paper's (and alibi's): a beam search over
// anchors of growing size, where KL-LUCB, a best-arm bandit, decides which
// candidate rules to keep by sampling each as little as its confidence
// bounds allow, and a rule is accepted when the lower bound of its
// precision clears the target.

// AnchorOptions tune an anchor search. The zero value gives alibi's
// defaults, with a budget.
type AnchorOptions struct {
	// Threshold is the precision target (default 0.95).
	Threshold float64
	// Delta is the confidence the bounds hold with 1 − Delta (default
	// 0.1); Epsilon the tolerance of the precision decisions (default
	// 0.15).
	Delta, Epsilon float64
	// Beam is how many candidate anchors each size keeps (default 1, as
	// alibi: a wider beam costs KL-LUCB many more samples).
	Beam int
	// Batch is the number of samples drawn each time a candidate is
	// sampled (default 100).
	Batch int
	// Budget caps the samples (model inputs) of the search (default
	// 100000); past it the best anchor so far is returned with a warning.
	Budget int
	// MaxSize caps the number of conditions (default: no cap).
	MaxSize int
	// Seed chooses the samples.
	Seed uint64
}

func (o *AnchorOptions) resolve(what string) error {
	if o.Threshold == 0 {
		o.Threshold = 0.95
	}
	if o.Delta == 0 {
		o.Delta = 0.1
	}
	if o.Epsilon == 0 {
		o.Epsilon = 0.15
	}
	if o.Beam == 0 {
		o.Beam = 1
	}
	if o.Batch == 0 {
		o.Batch = 100
	}
	if o.Budget == 0 {
		o.Budget = 100000
	}
	switch {
	case !(o.Threshold > 0 && o.Threshold < 1):
		return fmt.Errorf("%s: precision threshold %v; use a number strictly between 0 and 1", what, o.Threshold)
	case !(o.Delta > 0 && o.Delta < 1), !(o.Epsilon > 0 && o.Epsilon < 1):
		return fmt.Errorf("%s: delta %v and epsilon %v must be strictly between 0 and 1", what, o.Delta, o.Epsilon)
	case o.Beam < 1, o.Batch < 1, o.MaxSize < 0:
		return fmt.Errorf("%s: beam %d, batch %d and max size %d: want beam and batch ≥ 1, max size ≥ 0", what, o.Beam, o.Batch, o.MaxSize)
	case o.Budget < o.Batch:
		return fmt.Errorf("%s: a budget of %d samples is less than one batch of %d; ask for at least %d (--samples), or 0 for the default", what, o.Budget, o.Batch, o.Batch)
	}
	return nil
}

// AnchorExplanation is an anchor: the rule, how often it holds and how
// much of the input space it covers.
type AnchorExplanation struct {
	Method string `json:"method"`
	// Label is the decision explained; LabelName its class name.
	Label     int    `json:"label"`
	LabelName string `json:"label_name,omitempty"`
	// Anchor lists the rule's conditions in the order the search added
	// them ("mean radius > 17.5", a word that must stay); Features the
	// feature (column, word position) of each.
	Anchor   []string `json:"anchor"`
	Features []int    `json:"features"`
	// Precision is the share of samples satisfying the rule that the
	// model gives Label, and PrecisionLow its lower confidence bound;
	// Coverage the share of inputs the rule applies to.
	Precision    float64 `json:"precision"`
	PrecisionLow float64 `json:"precision_lower_bound"`
	Coverage     float64 `json:"coverage"`
	// Prefixes give the precision and coverage of the rule's first k+1
	// conditions.
	PrefixPrecision []float64 `json:"prefix_precision"`
	PrefixCoverage  []float64 `json:"prefix_coverage"`
	// Threshold is the precision target and Met whether the rule reached
	// it with confidence 1 − Delta.
	Threshold float64 `json:"threshold"`
	Met       bool    `json:"met"`
	// Samples is the number of model inputs the search evaluated.
	Samples  int      `json:"samples"`
	Warnings []string `json:"warnings,omitempty"`
}

// Summary is the anchor as one line: "IF a AND b THEN class", with its
// precision and coverage.
func (e *AnchorExplanation) Summary() string {
	return fmt.Sprintf("%s (precision %.3f, coverage %.3f)", e.Rule(), e.Precision, e.Coverage)
}

// Rule is the anchor as a rule: "IF a AND b THEN class".
func (e *AnchorExplanation) Rule() string {
	cond := "always"
	if len(e.Anchor) > 0 {
		cond = strings.Join(e.Anchor, " AND ")
	}
	then := e.LabelName
	if then == "" {
		then = "output " + strconv.Itoa(e.Label)
	}
	return "IF " + cond + " THEN " + then
}

// anchorSpace is what an anchor search conditions on: n candidate
// conditions (one per feature), how to draw an input that satisfies a set
// of them, and what share of inputs does.
type anchorSpace struct {
	n, dim int
	names  []string
	// sample fills row with an input satisfying the conditions anchor,
	// drawing from r.
	sample   func(r *rng, anchor []int, row []float32)
	coverage func(anchor []int) float64
}

// anchorArm is one candidate anchor and its samples.
type anchorArm struct {
	order     []int // conditions in the order they were added
	key       string
	n, hits   int
	coverage  float64
	parent    *anchorArm
	lb, ub    float64
	precision float64
}

func (a *anchorArm) mean() float64 {
	if a.n == 0 {
		return 0
	}
	return float64(a.hits) / float64(a.n)
}

// anchorSearch runs the beam search for model f's decision label.
type anchorSearch struct {
	ctx   context.Context
	f     Func
	sp    anchorSpace
	label int
	opt   AnchorOptions
	arms  map[string]*anchorArm
	used  int
	draws uint64
	spent bool
}

func anchorKey(order []int) string {
	s := slices.Clone(order)
	slices.Sort(s)
	var b strings.Builder
	for _, v := range s {
		b.WriteString(strconv.Itoa(v))
		b.WriteByte(',')
	}
	return b.String()
}

func (s *anchorSearch) arm(order []int, parent *anchorArm) *anchorArm {
	k := anchorKey(order)
	if a, ok := s.arms[k]; ok {
		return a
	}
	a := &anchorArm{order: order, key: k, coverage: s.sp.coverage(order), parent: parent}
	s.arms[k] = a
	return a
}

// sample draws s.opt.Batch inputs for each arm in one model pass and
// counts those the model gives label. It returns false once the budget is
// spent (nothing is drawn then).
func (s *anchorSearch) sample(arms ...*anchorArm) (bool, error) {
	b := s.opt.Batch
	total := b * len(arms)
	if s.used+total > s.opt.Budget {
		s.spent = true
		return false, nil
	}
	first := s.draws
	s.draws += uint64(len(arms))
	err := evalRows(s.ctx, s.f, "anchors", total, s.sp.dim, s.label, func(i int, row []float32) {
		// Each (arm, batch) pair has its own stream, and row i of it is
		// the i-th draw from it: parallel painting cannot change them.
		a := i / b
		r := subStream(s.opt.Seed, streamOther, blockIndex(i%b, int(first)+a))
		s.sp.sample(r, arms[a].order, row)
	}, func(i int, out []float32) {
		a := arms[i/b]
		a.n++
		if argmax(out) == s.label {
			a.hits++
		}
	})
	s.used += total
	return err == nil, err
}

// klBernoulli is KL(Bern(p) ‖ Bern(q)).
func klBernoulli(p, q float64) float64 {
	p = math.Min(math.Max(p, 1e-7), 1-1e-7)
	q = math.Min(math.Max(q, 1e-7), 1-1e-7)
	return p*math.Log(p/q) + (1-p)*math.Log((1-p)/(1-q))
}

// klUpper is the largest q ≥ p with KL(p ‖ q) ≤ level, by bisection;
// klLower the smallest q ≤ p.
func klUpper(p, level float64) float64 {
	lo, hi := p, math.Min(1, p+math.Sqrt(level/2))
	for range 20 {
		mid := (lo + hi) / 2
		if klBernoulli(p, mid) > level {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

func klLower(p, level float64) float64 {
	lo, hi := math.Max(0, p-math.Sqrt(level/2)), p
	for range 20 {
		mid := (lo + hi) / 2
		if klBernoulli(p, mid) > level {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// lucbBeta is the exploration rate of KL-LUCB at round t over arms arms
// (Kaufmann & Kalyanakrishnan 2013, the constants alibi uses).
func lucbBeta(arms, t int, delta float64) float64 {
	v := math.Log(405.5 * float64(arms) * math.Pow(float64(t), 1.1) / delta)
	return v + math.Log(v)
}

// bestArms picks the top arms of cands by precision with KL-LUCB: it
// samples the weakest of the leaders and the strongest of the rest until
// their confidence bounds overlap by at most Epsilon.
func (s *anchorSearch) bestArms(cands []*anchorArm, top int) ([]*anchorArm, error) {
	order := func() []*anchorArm {
		c := slices.Clone(cands)
		sort.SliceStable(c, func(i, j int) bool { return c[i].mean() > c[j].mean() })
		return c
	}
	if len(cands) <= top {
		return order(), nil
	}
	for t := 1; ; t++ {
		c := order()
		beta := lucbBeta(len(cands), t, s.opt.Delta)
		lead, rest := c[:top], c[top:]
		weak := lead[0]
		for _, a := range lead {
			if a.lb = klLower(a.mean(), beta/float64(a.n)); a.lb < weak.lb {
				weak = a
			}
		}
		strong := rest[0]
		for _, a := range rest {
			if a.ub = klUpper(a.mean(), beta/float64(a.n)); a.ub > strong.ub {
				strong = a
			}
		}
		if strong.ub-weak.lb <= s.opt.Epsilon {
			return lead, nil
		}
		if ok, err := s.sample(weak, strong); err != nil || !ok {
			return lead, err
		}
	}
}

// decide samples arm a until its precision is known to be above or below
// the threshold (within Epsilon, with confidence 1 − Delta), and reports
// whether it is an anchor.
func (s *anchorSearch) decide(a *anchorArm) (bool, error) {
	beta := math.Log(1 / (s.opt.Delta / (1 + float64(s.opt.Beam-1)*float64(s.sp.n))))
	thr, eps := s.opt.Threshold, s.opt.Epsilon
	for {
		m := a.mean()
		a.lb, a.ub = klLower(m, beta/float64(a.n)), klUpper(m, beta/float64(a.n))
		if !((m >= thr && a.lb < thr-eps) || (m < thr && a.ub >= thr+eps)) {
			return m >= thr && a.lb > thr-eps, nil
		}
		if ok, err := s.sample(a); err != nil || !ok {
			return false, err
		}
	}
}

// run searches for the anchor with the largest coverage among those that
// reach the precision target, as alibi's beam search does: anchors of
// size k+1 extend the beam of size k, and only candidates covering more
// than the best anchor found so far are considered.
func (s *anchorSearch) run() (*anchorArm, bool, error) {
	s.arms = map[string]*anchorArm{}
	empty := s.arm(nil, nil)
	if _, err := s.sample(empty); err != nil {
		return nil, false, err
	}
	if ok, err := s.decide(empty); err != nil || ok {
		return empty, ok, err
	}
	var best *anchorArm
	beam := []*anchorArm{empty}
	maxSize := s.sp.n
	if s.opt.MaxSize > 0 {
		maxSize = min(maxSize, s.opt.MaxSize)
	}
	for size := 1; size <= maxSize && !s.spent; size++ {
		var cands []*anchorArm
		seen := map[string]bool{}
		for _, p := range beam {
			for f := range s.sp.n {
				if slices.Contains(p.order, f) {
					continue
				}
				order := append(slices.Clone(p.order), f)
				k := anchorKey(order)
				if seen[k] {
					continue
				}
				seen[k] = true
				a := s.arm(order, p)
				if best != nil && a.coverage <= best.coverage {
					continue
				}
				cands = append(cands, a)
			}
		}
		if len(cands) == 0 {
			break
		}
		var fresh []*anchorArm
		for _, a := range cands {
			if a.n == 0 {
				fresh = append(fresh, a)
			}
		}
		// The first samples of every new candidate go in one pass,
		// chunked so a pass never asks for more than the budget allows.
		for lo := 0; lo < len(fresh); lo += 32 {
			if ok, err := s.sample(fresh[lo:min(lo+32, len(fresh))]...); err != nil {
				return nil, false, err
			} else if !ok {
				break
			}
		}
		var ready []*anchorArm
		for _, a := range cands {
			if a.n > 0 {
				ready = append(ready, a)
			}
		}
		if len(ready) == 0 {
			break
		}
		chosen, err := s.bestArms(ready, min(s.opt.Beam, len(ready)))
		if err != nil {
			return nil, false, err
		}
		for _, a := range chosen {
			ok, err := s.decide(a)
			if err != nil {
				return nil, false, err
			}
			if ok && (best == nil || a.coverage > best.coverage) {
				best = a
			}
		}
		beam = chosen
	}
	if best != nil {
		return best, true, nil
	}
	// No rule reached the target: the one with the best lower bound on
	// its precision, as alibi returns its best non-eligible anchor.
	keys := make([]string, 0, len(s.arms))
	for k := range s.arms {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		a := s.arms[k]
		if a.n == 0 {
			continue
		}
		lb := klLower(a.mean(), math.Log(1/s.opt.Delta)/float64(a.n))
		if best == nil || lb > best.lb {
			best = a
			a.lb = lb
		}
	}
	return best, false, nil
}

// explainAnchor runs the search over space sp and writes the result.
func explainAnchor(ctx context.Context, f Func, sp anchorSpace, label int, opt AnchorOptions) (*AnchorExplanation, error) {
	if err := opt.resolve("anchors"); err != nil {
		return nil, err
	}
	s := &anchorSearch{ctx: ctx, f: f, sp: sp, label: label, opt: opt}
	best, met, err := s.run()
	if err != nil {
		return nil, err
	}
	e := &AnchorExplanation{Method: "anchors", Label: label, Threshold: opt.Threshold, Met: met, Samples: s.used,
		Features: []int{}, Anchor: []string{}, PrefixPrecision: []float64{}, PrefixCoverage: []float64{}}
	e.Precision, e.PrecisionLow, e.Coverage = best.mean(), best.lb, best.coverage
	e.Features = slices.Clone(best.order)
	// Every prefix of the rule was in the beam at its size (the search
	// extends only the beam), so each has samples of its own.
	for a := best; a != nil && len(a.order) > 0; a = a.parent {
		e.PrefixPrecision = append(e.PrefixPrecision, a.mean())
		e.PrefixCoverage = append(e.PrefixCoverage, a.coverage)
	}
	slices.Reverse(e.PrefixPrecision)
	slices.Reverse(e.PrefixCoverage)
	for _, f := range best.order {
		e.Anchor = append(e.Anchor, sp.names[f])
	}
	if !met {
		e.Warnings = append(e.Warnings, fmt.Sprintf("no rule reached precision %.2f with confidence %.2f within %d samples; this is the best found (precision %.3f)", opt.Threshold, 1-opt.Delta, opt.Budget, e.Precision))
	}
	return e, nil
}

// anchorTableCoverageRows is how many training rows estimate a table
// anchor's coverage and supply its samples.
const anchorTableCoverageRows = 10000

// tableAnchorSpace conditions on the quartile bin (of the background's
// columns) each feature of x lies in: a sample satisfying an anchor is a
// training row whose anchored features are replaced by those of a
// training row satisfying the anchor, as alibi's AnchorTabular samples.
func tableAnchorSpace(background []float32, d int, x []float32, names []string, seed uint64) anchorSpace {
	rows := BackgroundRows(background, d, anchorTableCoverageRows, seed)
	n := len(rows) / d
	sp := anchorSpace{n: d, dim: d, names: make([]string, d)}
	xbin := make([]int, d)
	inBin := make([][]float32, d) // training values in x's bin, per column
	rowIn := make([][]bool, d)    // whether row r lies in x's bin, per column
	for j := range d {
		col := make([]float64, n)
		for r := range n {
			col[r] = float64(rows[r*d+j])
		}
		sorted := slices.Clone(col)
		slices.Sort(sorted)
		edges := percentileEdges(sorted, []float64{25, 50, 75})
		xbin[j] = binOf(edges, float64(x[j]))
		rowIn[j] = make([]bool, n)
		for r, v := range col {
			if binOf(edges, v) == xbin[j] {
				rowIn[j][r] = true
				inBin[j] = append(inBin[j], rows[r*d+j])
			}
		}
		if len(inBin[j]) == 0 {
			inBin[j] = []float32{x[j]} // x lies where no training row does
		}
		name := fmt.Sprintf("x%d", j)
		if j < len(names) {
			name = names[j]
		}
		txt := formatEdges(edges)
		switch b := xbin[j]; {
		case b == 0:
			sp.names[j] = name + " <= " + txt[0]
		case b == len(edges):
			sp.names[j] = name + " > " + txt[b-1]
		default:
			sp.names[j] = txt[b-1] + " < " + name + " <= " + txt[b]
		}
	}
	// covering lists, per anchor, the training rows that satisfy it: a
	// sample copies the anchored features from one of them together (as
	// alibi does), keeping their correlations; the rest comes from any
	// row. Filled by coverage, which the search calls once per anchor
	// before sampling it; read by parallel samplers.
	var mu sync.RWMutex
	covering := map[string][]int32{}
	sp.sample = func(r *rng, anchor []int, row []float32) {
		k := r.IntN(n)
		copy(row, rows[k*d:(k+1)*d])
		if len(anchor) == 0 {
			return
		}
		mu.RLock()
		rs := covering[anchorKey(anchor)]
		mu.RUnlock()
		if len(rs) == 0 {
			// No training row satisfies every condition: draw each
			// anchored feature from x's bin on its own.
			for _, j := range anchor {
				row[j] = inBin[j][r.IntN(len(inBin[j]))]
			}
			return
		}
		src := int(rs[r.IntN(len(rs))])
		for _, j := range anchor {
			row[j] = rows[src*d+j]
		}
	}
	sp.coverage = func(anchor []int) float64 {
		var rs []int32
		for r := range n {
			ok := true
			for _, j := range anchor {
				if !rowIn[j][r] {
					ok = false
					break
				}
			}
			if ok {
				rs = append(rs, int32(r))
			}
		}
		mu.Lock()
		covering[anchorKey(anchor)] = rs
		mu.Unlock()
		return float64(len(rs)) / float64(n)
	}
	return sp
}

// AnchorTabular finds an anchor for classifier model's decision label at
// table row x (d values): conditions on the quartile bins (of the
// training rows background, [rows × d]) of a few features under which
// the model keeps the decision with precision opt.Threshold.
func AnchorTabular(ctx context.Context, model Func, x, background []float32, label int, names []string, opt AnchorOptions) (*AnchorExplanation, error) {
	d := len(x)
	if model == nil || d == 0 || len(background) < d || len(background)%d != 0 || label < 0 {
		return nil, fmt.Errorf("anchors: want a model, a row, training rows of the row's %d values and a label ≥ 0 (got %d background values, label %d)", d, len(background), label)
	}
	return explainAnchor(ctx, model, tableAnchorSpace(background, d, x, names, opt.Seed), label, opt)
}

// AnchorText finds an anchor for classifier model's decision label on
// document text: words that, kept in place, keep the decision with
// precision opt.Threshold while each other word is replaced by "UNK"
// with probability one half (alibi's AnchorText "unknown" sampling). A
// rule with k words covers 2⁻ᵏ of those perturbed documents.
func AnchorText(ctx context.Context, model TextFunc, text string, label int, opt AnchorOptions) (*AnchorExplanation, error) {
	if model == nil || label < 0 {
		return nil, fmt.Errorf("anchors: want a model and a label ≥ 0 (label %d)", label)
	}
	pieces, tokens, _, _ := tokenize(text, TextPositional)
	n := len(tokens)
	if n == 0 {
		return nil, fmt.Errorf("anchors: the document has no words to anchor on")
	}
	wordOf := make([]int, len(pieces)) // piece → word feature, −1 for separators
	for i, pc := range pieces {
		wordOf[i] = pc.feature
	}
	sp := anchorSpace{n: n, dim: n, names: make([]string, n)}
	for f, tok := range tokens {
		sp.names[f] = fmt.Sprintf("%q (word %d)", tok, f+1)
	}
	sp.sample = func(r *rng, anchor []int, row []float32) {
		for f := range row {
			row[f] = 0
			if r.Float64() < 0.5 {
				row[f] = 1
			}
		}
		for _, f := range anchor {
			row[f] = 1
		}
	}
	sp.coverage = func(anchor []int) float64 { return math.Pow(0.5, float64(len(anchor))) }
	f := func(ctx context.Context, rows []float32, m int) ([]float32, error) {
		docs := make([]string, m)
		var b strings.Builder
		for i := range m {
			b.Reset()
			for pi, pc := range pieces {
				if w := wordOf[pi]; w >= 0 && rows[i*n+w] == 0 {
					b.WriteString("UNK")
					continue
				}
				b.WriteString(pc.text)
			}
			docs[i] = b.String()
		}
		return model(ctx, docs)
	}
	return explainAnchor(ctx, f, sp, label, opt)
}

// Token ids of a text model's input, as datasets.Vocab numbers them.
const (
	textPadID = 0
	textUnkID = 1
)

// tokenAnchorSpace conditions on the words of token-id row x (padding
// aside) kept in place: the other words are replaced by the unknown token
// with probability one half, as AnchorText does with "UNK".
func tokenAnchorSpace(x []float32, vocab []string) (anchorSpace, error) {
	var pos []int
	for i, v := range x {
		if v != textPadID {
			pos = append(pos, i)
		}
	}
	if len(pos) == 0 {
		return anchorSpace{}, fmt.Errorf("anchors: the input has only padding; there are no words to anchor on")
	}
	sp := anchorSpace{n: len(pos), dim: len(x), names: make([]string, len(pos))}
	for f, i := range pos {
		id := int(x[i])
		word := fmt.Sprintf("#%d", id)
		if id >= 0 && id < len(vocab) {
			word = vocab[id]
		}
		sp.names[f] = fmt.Sprintf("%q (word %d)", word, f+1)
	}
	sp.sample = func(r *rng, anchor []int, row []float32) {
		copy(row, x)
		for f, i := range pos {
			if r.Float64() < 0.5 && !slices.Contains(anchor, f) {
				row[i] = textUnkID
			}
		}
	}
	sp.coverage = func(anchor []int) float64 { return math.Pow(0.5, float64(len(anchor))) }
	return sp, nil
}

// anchorsMethod registers anchors for tables and text.
type anchorsMethod struct{}

func (anchorsMethod) Info() MethodInfo {
	return MethodInfo{Name: "anchors", Title: "Anchors",
		Summary: "a rule (conditions on a few features' quartile bins, or words kept) under which the classifier keeps its decision with 95% precision, and the share of data it covers",
		Inputs:  []InputKind{Table, Text}, Needs: NeedsBackground,
		Budget: "model inputs sampled", DefaultBudget: "up to 100000, KL-LUCB stopping as soon as the bounds decide",
		Result: RuleResult}
}

func (anchorsMethod) Explain(ctx context.Context, s *Subject, x []float32, opt Options, res *Result) error {
	if s.Mode != Classification {
		return fmt.Errorf("anchors explain a classifier's decision; this model is a regression")
	}
	ao := AnchorOptions{Seed: opt.Seed, Budget: opt.Samples}
	var e *AnchorExplanation
	var err error
	if s.Kind == Text {
		var sp anchorSpace
		if sp, err = tokenAnchorSpace(x, s.Vocabulary); err == nil {
			e, err = explainAnchor(ctx, s.Predict, sp, res.Label, ao)
		}
	} else {
		e, err = AnchorTabular(ctx, s.Predict, x, s.Background, res.Label, s.FeatureNames, ao)
	}
	if err != nil {
		return err
	}
	e.LabelName = res.LabelName
	res.Details, res.Samples, res.Features, res.Warnings = e, e.Samples, len(e.Features), e.Warnings
	res.Quality["precision"], res.Quality["coverage"] = e.Precision, e.Coverage
	for k, f := range e.Features {
		// Each condition's weight is the precision of the rule up to it.
		res.Top = append(res.Top, FeatureWeight{Feature: f, Name: e.Anchor[k], Weight: e.PrefixPrecision[k]})
	}
	return nil
}
