package explain

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

func init() { Register(counterfactualMethod{}) }

// A counterfactual explanation answers "what is the smallest change to
// this input that changes the decision?" (Wachter et al. 2017). Distance
// is Wachter's: the L1 norm of the change with each feature divided by
// its median absolute deviation in the training data, which favours
// changing few features (sparsity). Every counterfactual stays inside the
// box of the training data's ranges (plausibility). The search is
// gradient descent on Wachter's objective where the model has gradients;
// gradient-free, it starts from the nearest training rows the model
// decides differently, and moves single features along their ranges (the
// sparsest changes there are). Each finishes by undoing every change the
// decision does not need and moving back towards the input up to the
// decision boundary, and the nearest answer wins.

// CounterfactualChange is one feature a counterfactual changes.
type CounterfactualChange struct {
	Feature int     `json:"feature"`
	Name    string  `json:"name"`
	From    float64 `json:"from"`
	To      float64 `json:"to"`
}

// CounterfactualExplanation is the nearest change found that flips the
// classifier's decision.
type CounterfactualExplanation struct {
	Method string `json:"method"`
	// Label is the input's decision; Target the class asked for (−1: any
	// other class).
	Label     int    `json:"label"`
	LabelName string `json:"label_name,omitempty"`
	Target    int    `json:"target"`
	// Flipped says whether a counterfactual was found; NewLabel is its
	// decision and NewProbability that class's probability.
	Flipped        bool    `json:"flipped"`
	NewLabel       int     `json:"new_label"`
	NewLabelName   string  `json:"new_label_name,omitempty"`
	NewProbability float64 `json:"new_probability"`
	// Original is the input, Counterfactual the changed input (in the
	// data's units), Changes the features that differ.
	Original       []float32              `json:"original"`
	Counterfactual []float32              `json:"counterfactual"`
	Changes        []CounterfactualChange `json:"changes"`
	// Distance is Σ |change| / MAD (the training data's median absolute
	// deviation of each feature); L1 the plain Σ |change|.
	Distance float64 `json:"distance"`
	L1       float64 `json:"l1"`
	// Search says which search found the counterfactual: "gradient"
	// (Wachter's objective, descended), "nearest-neighbour" (from the
	// nearest training rows decided otherwise) or "single-feature" (one
	// feature moved along its range).
	Search   string   `json:"search"`
	Warnings []string `json:"warnings,omitempty"`
}

// cfProblem is one counterfactual search: the input, its decision, the
// box and scales from the training data, and the model.
type cfProblem struct {
	ctx    context.Context
	f      Func
	grad   GradFunc
	x      []float32
	d      int
	label  int // the input's decision
	target int // −1: any other class
	lo, hi []float32
	mad    []float64
	bg     []float32 // training rows [n × d]
}

// flips reports whether outputs out (one input's probabilities) are a
// counterfactual's.
func (p *cfProblem) flips(out []float32) bool {
	c := argmax(out)
	if p.target >= 0 {
		return c == p.target
	}
	return c != p.label
}

func (p *cfProblem) distance(z []float32) float64 {
	var s float64
	for j := range p.d {
		s += math.Abs(float64(z[j]-p.x[j])) / p.mad[j]
	}
	return s
}

// evalMany returns the outputs of rows [n × d].
func (p *cfProblem) evalMany(rows []float32, n int) ([][]float32, error) {
	outs := make([][]float32, n)
	err := evalRows(p.ctx, p.f, "counterfactual", n, p.d, max(p.label, p.target), func(i int, row []float32) {
		copy(row, rows[i*p.d:(i+1)*p.d])
	}, func(i int, out []float32) { outs[i] = slices.Clone(out) })
	return outs, err
}

// lineSearch moves z back towards x: the point x + α(z − x) with the
// smallest α on a grid of 16, refined once, that still flips (z flips).
func (p *cfProblem) lineSearch(z []float32) ([]float32, error) {
	lo, hi := 0.0, 1.0
	for range 2 {
		const steps = 16
		rows := make([]float32, steps*p.d)
		for s := range steps {
			a := lo + (hi-lo)*float64(s+1)/steps
			for j := range p.d {
				rows[s*p.d+j] = p.x[j] + float32(a)*(z[j]-p.x[j])
			}
		}
		outs, err := p.evalMany(rows, steps)
		if err != nil {
			return nil, err
		}
		for s := range steps {
			if p.flips(outs[s]) {
				lo, hi = lo+(hi-lo)*float64(s)/steps, lo+(hi-lo)*float64(s+1)/steps
				break
			}
		}
	}
	out := make([]float32, p.d)
	for j := range p.d {
		out[j] = p.x[j] + float32(hi)*(z[j]-p.x[j])
	}
	return out, nil
}

// sparsify undoes changes of z the decision does not need: each round
// tries every single undo in one batch and keeps the one that saves the
// most distance while still flipping, until none does.
func (p *cfProblem) sparsify(z []float32) ([]float32, error) {
	z = slices.Clone(z)
	for {
		var changed []int
		for j := range p.d {
			if z[j] != p.x[j] {
				changed = append(changed, j)
			}
		}
		if len(changed) <= 1 {
			return z, nil
		}
		rows := make([]float32, len(changed)*p.d)
		for i, j := range changed {
			copy(rows[i*p.d:], z)
			rows[i*p.d+j] = p.x[j]
		}
		outs, err := p.evalMany(rows, len(changed))
		if err != nil {
			return nil, err
		}
		best, saved := -1, 0.0
		for i, j := range changed {
			if s := math.Abs(float64(z[j]-p.x[j])) / p.mad[j]; p.flips(outs[i]) && s > saved {
				best, saved = j, s
			}
		}
		if best < 0 {
			return z, nil
		}
		z[best] = p.x[best]
	}
}

// nearestUnlike starts from the training rows the model decides
// otherwise, nearest first: the few nearest, each pulled towards x and
// sparsified, and returns the closest result (nil when no training row
// flips).
func (p *cfProblem) nearestUnlike(seed uint64) ([]float32, error) {
	rows := BackgroundRows(p.bg, p.d, 2000, seed)
	n := len(rows) / p.d
	outs, err := p.evalMany(rows, n)
	if err != nil {
		return nil, err
	}
	var cands []int
	for r := range n {
		if p.flips(outs[r]) {
			cands = append(cands, r)
		}
	}
	dist := func(r int) float64 { return p.distance(rows[r*p.d : (r+1)*p.d]) }
	sort.SliceStable(cands, func(a, b int) bool { return dist(cands[a]) < dist(cands[b]) })
	var best []float32
	for _, r := range cands[:min(5, len(cands))] {
		z, err := p.refine(rows[r*p.d : (r+1)*p.d])
		if err != nil {
			return nil, err
		}
		if best == nil || p.distance(z) < p.distance(best) {
			best = z
		}
	}
	return best, nil
}

// refine undoes the changes of a flipping z that the decision does not
// need (from a point well past the boundary, so undoing has room), then
// pulls it towards x up to the boundary.
func (p *cfProblem) refine(z []float32) ([]float32, error) {
	// A point just past the boundary (where gradient descent stops) has
	// no room to undo anything: go twice as far first, when that still
	// flips inside the box.
	far := make([]float32, p.d)
	for j := range p.d {
		far[j] = min(max(p.x[j]+2*(z[j]-p.x[j]), p.lo[j]), p.hi[j])
	}
	out, err := p.evalMany(far, 1)
	if err != nil {
		return nil, err
	}
	if p.flips(out[0]) {
		z = far
	}
	z, err = p.sparsify(z)
	if err != nil {
		return nil, err
	}
	return p.lineSearch(z)
}

// singleFeature looks for the sparsest counterfactuals, those changing
// one feature: each feature alone is moved in 16 steps to either end of
// its training range (one batch for all), and the three nearest that
// flip are pulled back to the boundary. It returns the nearest (nil if no
// single feature flips the decision).
func (p *cfProblem) singleFeature() ([]float32, error) {
	const steps = 16
	rows := make([]float32, 2*p.d*steps*p.d)
	for j := range p.d {
		for dir, end := range []float32{p.lo[j], p.hi[j]} {
			for k := range steps {
				row := rows[((j*2+dir)*steps+k)*p.d:][:p.d]
				copy(row, p.x)
				row[j] = p.x[j] + float32(k+1)/steps*(end-p.x[j])
			}
		}
	}
	outs, err := p.evalMany(rows, 2*p.d*steps)
	if err != nil {
		return nil, err
	}
	var cands [][]float32
	for line := range 2 * p.d {
		for k := range steps {
			if i := line*steps + k; p.flips(outs[i]) {
				cands = append(cands, rows[i*p.d:(i+1)*p.d])
				break
			}
		}
	}
	sort.SliceStable(cands, func(a, b int) bool { return p.distance(cands[a]) < p.distance(cands[b]) })
	var best []float32
	for _, z := range cands[:min(3, len(cands))] {
		z, err := p.lineSearch(z)
		if err != nil {
			return nil, err
		}
		if best == nil || p.distance(z) < p.distance(best) {
			best = z
		}
	}
	return best, nil
}

// gradientSearch descends Wachter's objective λ·(s_other − s_label margin
// hinge) + Σ |z − x| / MAD by proximal gradient steps (the L1 term's
// soft threshold sets unneeded changes exactly to zero), projected on the
// training box; λ grows fourfold every 100 steps without a flip. It
// returns the first point that flips (nil if none within 500 steps).
func (p *cfProblem) gradientSearch() ([]float32, error) {
	const eta, stepsPerLambda, rounds = 0.05, 100, 5
	delta := make([]float64, p.d) // the change, in MAD units
	z := slices.Clone(p.x)
	for j := range p.d {
		z[j] = min(max(z[j], p.lo[j]), p.hi[j])
		delta[j] = float64(z[j]-p.x[j]) / p.mad[j]
	}
	lambda := 1.0
	for round := range rounds * stepsPerLambda {
		if round > 0 && round%stepsPerLambda == 0 {
			lambda *= 4
		}
		out, gLabel, err := p.grad(p.ctx, z, 1, p.label)
		if err != nil {
			return nil, err
		}
		if p.flips(out) {
			return z, nil
		}
		other := p.target
		if other < 0 {
			other = -1
			for c, v := range out {
				if c != p.label && (other < 0 || v > out[other]) {
					other = c
				}
			}
		}
		_, gOther, err := p.grad(p.ctx, z, 1, other)
		if err != nil {
			return nil, err
		}
		// Gradient of the margin s_label − s_other, per MAD unit; the
		// step is normalised so λ sets its size whatever the scores' scale.
		g := make([]float64, p.d)
		var norm float64
		for j := range p.d {
			g[j] = float64(gLabel[j]-gOther[j]) * p.mad[j]
			norm += g[j] * g[j]
		}
		norm = math.Sqrt(norm)
		if norm == 0 || math.IsNaN(norm) {
			return nil, nil
		}
		for j := range p.d {
			v := delta[j] - eta*lambda*g[j]/norm
			// Soft threshold: the proximal step of the L1 term.
			v = math.Copysign(math.Max(0, math.Abs(v)-eta), v)
			lo, hi := float64(p.lo[j]-p.x[j])/p.mad[j], float64(p.hi[j]-p.x[j])/p.mad[j]
			delta[j] = math.Min(math.Max(v, math.Min(lo, 0)), math.Max(hi, 0))
			z[j] = p.x[j] + float32(delta[j]*p.mad[j])
			z[j] = min(max(z[j], p.lo[j]), p.hi[j])
		}
	}
	return nil, nil
}

// Counterfactual finds a counterfactual for classifier model at table row
// x (d values): the nearest input (in L1 over the training data's median
// absolute deviations) within the training rows' ranges (background,
// [rows × d]) that the model decides otherwise, or as class target when
// target ≥ 0. grad, when not nil, is the model's score gradient (see
// GradFunc) and selects the gradient search. The result says whether the
// decision flipped.
func Counterfactual(ctx context.Context, model Func, grad GradFunc, x, background []float32, target int, names, classNames []string, seed uint64) (*CounterfactualExplanation, error) {
	d := len(x)
	if model == nil || d == 0 || len(background) < d || len(background)%d != 0 {
		return nil, fmt.Errorf("counterfactual: want a model, a row and training rows of the row's %d values (got %d background values)", d, len(background))
	}
	p := &cfProblem{ctx: ctx, f: model, grad: grad, x: x, d: d, target: target, bg: background}
	out, err := p.evalMany(x, 1)
	if err != nil {
		return nil, err
	}
	p.label = argmax(out[0])
	if target >= len(out[0]) || target == p.label {
		return nil, fmt.Errorf("counterfactual: target class %d: want another class than the input's (%d) among the model's %d", target, p.label, len(out[0]))
	}
	p.lo, p.hi, p.mad = cfBox(background, d)
	e := &CounterfactualExplanation{Method: "counterfactual", Label: p.label, Target: target, NewLabel: p.label,
		Original: slices.Clone(x), Changes: []CounterfactualChange{}}
	// Every search that applies proposes one counterfactual; the nearest
	// wins. The training rows' and the single features' searches cost a
	// few thousand rows of a table, and often beat the gradient's
	// (which stops at the first point that flips, wherever it lies).
	var z []float32
	consider := func(c []float32, search string) {
		if c != nil && (z == nil || p.distance(c) < p.distance(z)) {
			z, e.Search = c, search
		}
	}
	if grad != nil {
		g, err := p.gradientSearch()
		if err != nil {
			return nil, err
		}
		if g == nil {
			e.Warnings = append(e.Warnings, "gradient descent found no counterfactual in 500 steps")
		} else if g, err = p.refine(g); err != nil {
			return nil, err
		}
		consider(g, "gradient")
	}
	nn, err := p.nearestUnlike(seed)
	if err != nil {
		return nil, err
	}
	consider(nn, "nearest-neighbour")
	one, err := p.singleFeature()
	if err != nil {
		return nil, err
	}
	consider(one, "single-feature")
	if z == nil {
		e.Counterfactual = slices.Clone(x)
		e.Warnings = append(e.Warnings, "no counterfactual found: neither the search nor any training row gets another decision from the model")
		return e, nil
	}
	zo, err := p.evalMany(z, 1)
	if err != nil {
		return nil, err
	}
	e.Flipped = p.flips(zo[0])
	e.NewLabel = argmax(zo[0])
	e.NewProbability = float64(zo[0][e.NewLabel])
	e.Counterfactual = z
	e.Distance = p.distance(z)
	for j := range d {
		if z[j] == x[j] {
			continue
		}
		name := fmt.Sprintf("x%d", j)
		if j < len(names) {
			name = names[j]
		}
		e.L1 += math.Abs(float64(z[j] - x[j]))
		e.Changes = append(e.Changes, CounterfactualChange{Feature: j, Name: name, From: float64(x[j]), To: float64(z[j])})
	}
	if e.Label < len(classNames) {
		e.LabelName = classNames[e.Label]
	}
	if e.NewLabel < len(classNames) {
		e.NewLabelName = classNames[e.NewLabel]
	}
	return e, nil
}

// cfBox returns the training rows' range and median absolute deviation
// of each column (the MAD falls back to the standard deviation, then to
// 1, for a column mostly of one value).
func cfBox(rows []float32, d int) (lo, hi []float32, mad []float64) {
	n := len(rows) / d
	lo, hi, mad = make([]float32, d), make([]float32, d), make([]float64, d)
	col := make([]float64, n)
	for j := range d {
		for r := range n {
			col[r] = float64(rows[r*d+j])
		}
		slices.Sort(col)
		lo[j], hi[j] = float32(col[0]), float32(col[n-1])
		med := percentile(col, 50)
		dev := make([]float64, n)
		var ss, mean float64
		for r, v := range col {
			dev[r] = math.Abs(v - med)
			mean += v
		}
		mean /= float64(n)
		for _, v := range col {
			ss += (v - mean) * (v - mean)
		}
		slices.Sort(dev)
		mad[j] = percentile(dev, 50)
		if mad[j] <= 1e-12 {
			mad[j] = math.Sqrt(ss / float64(n))
		}
		if mad[j] <= 1e-12 {
			mad[j] = 1
		}
	}
	return lo, hi, mad
}

// counterfactualMethod registers counterfactuals for tables.
type counterfactualMethod struct{}

func (counterfactualMethod) Info() MethodInfo {
	return MethodInfo{Name: "counterfactual", Title: "Counterfactual",
		Summary: "the nearest change of a few features, within the training data's ranges, that changes the classifier's decision (to --label when it names another class)",
		Inputs:  []InputKind{Table}, Needs: NeedsBackground, Result: WhatIfResult}
}

func (counterfactualMethod) Explain(ctx context.Context, s *Subject, x []float32, opt Options, res *Result) error {
	if s.Mode != Classification {
		return fmt.Errorf("counterfactual explains a classifier's decision; this model is a regression")
	}
	// The explained label, when it is not the decision, is the class the
	// counterfactual must reach.
	target := -1
	if opt.Label != nil {
		out, err := s.Predict(ctx, x, 1)
		if err != nil {
			return err
		}
		if c := argmax(out); c != res.Label {
			target = res.Label
		}
	}
	e, err := Counterfactual(ctx, s.Predict, s.Gradient, x, s.Background, target, s.FeatureNames, s.ClassNames, opt.Seed)
	if err != nil {
		return err
	}
	res.Details, res.Features, res.Warnings = e, len(e.Changes), e.Warnings
	res.Quality["flipped"] = 0
	if e.Flipped {
		res.Quality["flipped"] = 1
	}
	res.Quality["distance"], res.Quality["changed_features"] = e.Distance, float64(len(e.Changes))
	for _, c := range e.Changes {
		res.Top = append(res.Top, FeatureWeight{Feature: c.Feature, Weight: c.To - c.From,
			Name: fmt.Sprintf("%s: %s → %s", c.Name, formatSig(c.From, 4), formatSig(c.To, 4))})
	}
	return nil
}

// Summary says in one line what the counterfactual changes and what the
// model then decides.
func (e *CounterfactualExplanation) Summary() string {
	if !e.Flipped {
		return "no counterfactual found within the training data's ranges"
	}
	parts := make([]string, len(e.Changes))
	for i, c := range e.Changes {
		parts[i] = fmt.Sprintf("%s %s → %s", c.Name, formatSig(c.From, 4), formatSig(c.To, 4))
	}
	to := e.NewLabelName
	if to == "" {
		to = fmt.Sprintf("class %d", e.NewLabel)
	}
	return fmt.Sprintf("IF %s THEN %s (p=%.3f), distance %.3g", strings.Join(parts, ", "), to, e.NewProbability, e.Distance)
}
