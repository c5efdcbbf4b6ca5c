package explain

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"
)

func init() { Register(tcavMethod{}) }

// TCAVOptions tune TCAV.
type TCAVOptions struct {
	// Runs is the number of concept CAVs, each trained against its own
	// random set, and of random CAVs (random set against random set) the
	// significance test compares them with (default 10, at least 2).
	Runs int
	// Seed draws the random sets and the train/test splits.
	Seed uint64
	// Alpha is the significance level of the two-sided t-test (default
	// 0.05).
	Alpha float64
}

// TCAVExplanation is a concept's TCAV score for one output at one layer,
// with the test of whether it differs from what random directions give.
type TCAVExplanation struct {
	Method  string `json:"method"`
	Layer   string `json:"layer"`
	Concept string `json:"concept"`
	Label   int    `json:"label"`
	// Inputs is the number of inputs scored; Runs the number of concept
	// (and of random) CAVs; ConceptExamples and RandomSetSize the rows
	// each CAV was trained on per side.
	Inputs          int `json:"inputs"`
	Runs            int `json:"runs"`
	ConceptExamples int `json:"concept_examples"`
	RandomSetSize   int `json:"random_set_size"`
	// Scores are each concept CAV's TCAV score: the fraction of inputs
	// whose output label grows along the CAV (positive directional
	// derivative). RandomScores are the same for the random CAVs.
	Scores       []float64 `json:"scores"`
	RandomScores []float64 `json:"random_scores"`
	// Magnitudes are Captum's magnitude scores of the concept CAVs:
	// Σ positive derivatives / Σ |derivatives|.
	Magnitudes []float64 `json:"magnitudes"`
	// Score and RandomScore are the means of Scores and RandomScores.
	Score       float64 `json:"score"`
	RandomScore float64 `json:"random_score"`
	// PValue is the two-sided Student t-test of Scores against
	// RandomScores; Significant says PValue < Alpha.
	PValue      float64 `json:"p_value"`
	Alpha       float64 `json:"alpha"`
	Significant bool    `json:"significant"`
	// CAVAccuracy is the concept CAVs' mean accuracy on held-out examples
	// (a third of each side): near 0.5 the layer does not separate the
	// concept from random inputs, and the CAV is noise.
	CAVAccuracy float64  `json:"cav_accuracy"`
	Warnings    []string `json:"warnings,omitempty"`
	Timing      Timing   `json:"timing"`
}

// TCAV tests whether a concept matters to model output label at a hidden
// layer (Kim et al. 2018; Captum's TCAV). Each run draws a random set the
// size of the concept set from random (rows of counter-examples, in the
// input's units) and fits a linear classifier (L2-regularised logistic
// regression) separating the layer's activations on the concept examples
// from those on the random set; its normal vector, pointing to the
// concept, is the concept activation vector (CAV). The TCAV score of a CAV
// is the fraction of inputs (n rows) whose output label grows along it.
// The same is done with a second random set in place of the concept, and
// a two-sided t-test says whether the concept's scores differ from the
// random ones: a concept that does not matter scores like chance.
func TCAV(ctx context.Context, la *LayerAccess, inputs []float32, n int, concept, random []float32, label int, opt TCAVOptions) (*TCAVExplanation, error) {
	start := time.Now()
	const what = "tcav"
	if la == nil || la.Activations == nil || la.Onward == nil {
		return nil, fmt.Errorf("%s: no access to the layer (LayerAccess with Activations and Onward)", what)
	}
	if n < 1 || len(inputs)%n != 0 {
		return nil, fmt.Errorf("%s: %d input values do not make %d inputs", what, len(inputs), n)
	}
	d := len(inputs) / n
	runs := opt.Runs
	if runs == 0 {
		runs = 10
	}
	if runs < 2 || runs > 1000 {
		return nil, fmt.Errorf("%s: %d runs; use 2 to 1000 (10 or more for a meaningful test)", what, runs)
	}
	alpha := opt.Alpha
	if alpha == 0 {
		alpha = 0.05
	}
	if !(alpha > 0 && alpha < 1) {
		return nil, fmt.Errorf("%s: significance level %v; use a number between 0 and 1 (0.05 is usual)", what, alpha)
	}
	if len(concept) == 0 || len(concept)%d != 0 {
		return nil, fmt.Errorf("%s: the concept examples have %d values, not a whole number of %d-value inputs; give at least 2", what, len(concept), d)
	}
	if len(random)%d != 0 {
		return nil, fmt.Errorf("%s: the random counter-examples have %d values, not a whole number of %d-value inputs", what, len(random), d)
	}
	m, pool := len(concept)/d, len(random)/d
	if m < 2 {
		return nil, fmt.Errorf("%s: %d concept example; give at least 2 (tens are usual)", what, m)
	}
	if pool < 4 {
		return nil, fmt.Errorf("%s: %d random counter-examples; give at least 4 (two random sets of 2), tens or hundreds are usual", what, pool)
	}
	size := min(m, pool/2)
	e := &TCAVExplanation{Method: what, Layer: la.Name, Label: label, Inputs: n, Runs: runs,
		ConceptExamples: m, RandomSetSize: size, Alpha: alpha}
	u := la.Units()

	// The directional derivatives need ∂f_label/∂activation at each input.
	actIn, err := la.activations(ctx, what, inputs, n)
	if err != nil {
		return nil, err
	}
	g := gradCaller{what: what, f: la.Onward, d: u, label: label, timing: &e.Timing}
	_, grads, err := g.call(ctx, actIn, n, 0)
	if err != nil {
		return nil, err
	}
	actC, err := la.activations(ctx, what, concept, m)
	if err != nil {
		return nil, err
	}
	actR, err := la.activations(ctx, what, random, pool)
	if err != nil {
		return nil, err
	}
	e.Timing.ModelCalls += 3
	score := func(cav []float64) (sign, mag float64) {
		var pos, abs float64
		var count int
		for r := range n {
			var s float64
			for j, v := range grads[r*u : (r+1)*u] {
				s += float64(v) * cav[j]
			}
			if s > 0 {
				count++
				pos += s
			}
			abs += math.Abs(s)
		}
		if abs > 0 {
			mag = pos / abs
		}
		return float64(count) / float64(n), mag
	}
	rows := func(acts []float32, idx []int) [][]float32 {
		out := make([][]float32, len(idx))
		for i, k := range idx {
			out[i] = acts[k*u : (k+1)*u]
		}
		return out
	}
	allConcept := make([]int, m)
	for i := range allConcept {
		allConcept[i] = i
	}
	var acc float64
	for r := range runs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		perm := tcavPerm(subStream(opt.Seed, streamOther, uint64(r)), pool)
		setA, setB := perm[:size], perm[size:2*size]
		split := subStream(opt.Seed, streamChunk, uint64(r))
		cav, accuracy := fitCAV(rows(actC, allConcept), rows(actR, setA), split)
		acc += accuracy
		s, mag := score(cav)
		e.Scores, e.Magnitudes = append(e.Scores, s), append(e.Magnitudes, mag)
		rcav, _ := fitCAV(rows(actR, setB), rows(actR, setA), split)
		rs, _ := score(rcav)
		e.RandomScores = append(e.RandomScores, rs)
	}
	e.Score, e.RandomScore = mean(e.Scores), mean(e.RandomScores)
	e.CAVAccuracy = acc / float64(runs)
	e.PValue = tTestTwoSided(e.Scores, e.RandomScores)
	e.Significant = e.PValue < alpha
	if runs < 10 {
		e.Warnings = append(e.Warnings, fmt.Sprintf("only %d runs: the t-test has little power; use 10 or more", runs))
	}
	if e.CAVAccuracy < 0.7 {
		e.Warnings = append(e.Warnings, fmt.Sprintf("the CAVs separate the concept from random inputs with only %.0f%% held-out accuracy: layer %s hardly represents this concept, so its TCAV score means little; try another layer or clearer examples", 100*e.CAVAccuracy, la.Name))
	}
	if !e.Significant {
		e.Warnings = append(e.Warnings, fmt.Sprintf("the concept's scores are not significantly different from random directions' (p = %.3g ≥ %g): no evidence that the concept matters here", e.PValue, alpha))
	}
	e.Timing.Total = time.Since(start)
	return e, nil
}

// fitCAV separates pos from neg activations with L2-regularised logistic
// regression (weight 0.01 on ‖w‖², as Captum's default SGD classifier)
// fitted by full-batch gradient descent on two thirds of each side, after
// centring on the mean of both sides and scaling by their RMS so the step
// size does not depend on the layer's units. It returns the unit normal of
// the boundary (pointing to pos) in the layer's own coordinates and the
// accuracy on the held-out third.
func fitCAV(pos, neg [][]float32, split *rng) (cav []float64, accuracy float64) {
	u := len(pos[0])
	all := append(slices.Clone(pos), neg...)
	y := make([]float64, len(all))
	for i := range pos {
		y[i] = 1
	}
	centre := make([]float64, u)
	for _, row := range all {
		for j, v := range row {
			centre[j] += float64(v)
		}
	}
	for j := range centre {
		centre[j] /= float64(len(all))
	}
	var ss float64
	for _, row := range all {
		for j, v := range row {
			dv := float64(v) - centre[j]
			ss += dv * dv
		}
	}
	scale := math.Sqrt(ss / float64(len(all)))
	if scale == 0 {
		scale = 1
	}
	z := make([][]float64, len(all))
	for i, row := range all {
		z[i] = make([]float64, u)
		for j, v := range row {
			z[i][j] = (float64(v) - centre[j]) / scale
		}
	}
	// Hold out a third of each side for the accuracy.
	var train, test []int
	for _, side := range [][2]int{{0, len(pos)}, {len(pos), len(all)}} {
		idx := tcavPerm(split, side[1]-side[0])
		k := max(1, (len(idx)*2+2)/3)
		k = min(k, len(idx)-1)
		for i, p := range idx {
			if i < k {
				train = append(train, side[0]+p)
			} else {
				test = append(test, side[0]+p)
			}
		}
	}
	const lambda, iters = 0.01, 300
	// After scaling the rows' mean squared norm is 1, so the Hessian of
	// the mean logistic loss is at most ¼·tr(ZᵀZ)/n = ¼, plus 2λ for the
	// penalty: the step 1/L never overshoots.
	step := 1 / (0.25 + 2*lambda)
	w := make([]float64, u)
	var b float64
	grad := make([]float64, u)
	for range iters {
		clear(grad)
		var gb float64
		for _, i := range train {
			p := sigmoid(dot(w, z[i]) + b)
			r := p - y[i]
			for j, v := range z[i] {
				grad[j] += r * v
			}
			gb += r
		}
		nt := float64(len(train))
		for j := range w {
			w[j] -= step * (grad[j]/nt + 2*lambda*w[j])
		}
		b -= step * gb / nt
	}
	correct := 0
	for _, i := range test {
		if (dot(w, z[i])+b > 0) == (y[i] == 1) {
			correct++
		}
	}
	var norm float64
	for _, v := range w {
		norm += v * v
	}
	norm = math.Sqrt(norm)
	cav = make([]float64, u)
	if norm > 0 {
		for j, v := range w {
			// w is per unit of z = (a − centre)/scale; a direction in a's
			// coordinates is the same up to the positive factor 1/scale.
			cav[j] = v / norm
		}
	}
	return cav, float64(correct) / float64(len(test))
}

func dot(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

func sigmoid(v float64) float64 { return 1 / (1 + math.Exp(-v)) }

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(max(len(v), 1))
}

// tTestTwoSided is the p-value of Student's two-sample t-test (equal
// variances, as scipy's ttest_ind by default) of the means of a and b.
// Two samples without any spread give 1 when their means are equal, 0
// when they differ.
func tTestTwoSided(a, b []float64) float64 {
	na, nb := float64(len(a)), float64(len(b))
	ma, mb := mean(a), mean(b)
	var ssa, ssb float64
	for _, v := range a {
		ssa += (v - ma) * (v - ma)
	}
	for _, v := range b {
		ssb += (v - mb) * (v - mb)
	}
	df := na + nb - 2
	pooled := (ssa + ssb) / df
	se := math.Sqrt(pooled * (1/na + 1/nb))
	if se == 0 {
		if ma == mb {
			return 1
		}
		return 0
	}
	t := (ma - mb) / se
	return regIncBeta(df/2, 0.5, df/(df+t*t))
}

// regIncBeta is the regularised incomplete beta function I_x(a, b),
// evaluated by its continued fraction (modified Lentz), using the symmetry
// I_x(a, b) = 1 − I_{1−x}(b, a) where the fraction converges slowly.
func regIncBeta(a, b, x float64) float64 {
	switch {
	case x <= 0:
		return 0
	case x >= 1:
		return 1
	}
	la, _ := math.Lgamma(a + b)
	lb, _ := math.Lgamma(a)
	lc, _ := math.Lgamma(b)
	front := math.Exp(la - lb - lc + a*math.Log(x) + b*math.Log1p(-x))
	if x > (a+1)/(a+b+2) {
		return 1 - front*betaFraction(b, a, 1-x)/b
	}
	return front * betaFraction(a, b, x) / a
}

func betaFraction(a, b, x float64) float64 {
	const tiny, eps = 1e-300, 1e-15
	c, d := 1.0, 1-(a+b)*x/(a+1)
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	f := d
	for m := 1; m <= 300; m++ {
		fm := float64(m)
		for _, num := range []float64{
			fm * (b - fm) * x / ((a + 2*fm - 1) * (a + 2*fm)),
			-(a + fm) * (a + b + fm) * x / ((a + 2*fm) * (a + 2*fm + 1)),
		} {
			d = 1 + num*d
			if math.Abs(d) < tiny {
				d = tiny
			}
			c = 1 + num/c
			if math.Abs(c) < tiny {
				c = tiny
			}
			d = 1 / d
			f *= c * d
		}
		if math.Abs(c*d-1) < eps {
			break
		}
	}
	return f
}

// tcavMaxInputs bounds the inputs TCAV scores: the explained one and the
// Background rows the model assigns the explained label.
const tcavMaxInputs = 200

// tcavMethod is TCAV through the registry.
type tcavMethod struct{}

func (tcavMethod) Info() MethodInfo {
	return MethodInfo{Name: "tcav", Title: "TCAV (concept activation vectors)",
		Summary: "whether a concept (--concept examples) pushes the output up at a hidden layer, against random directions, with a t-test",
		Inputs:  []InputKind{Image, Table, Text}, Needs: NeedsLayer | NeedsExamples,
		Budget: "concept and random CAVs (runs)", DefaultBudget: "10", Result: ConceptScore}
}

func (tcavMethod) Explain(ctx context.Context, s *Subject, x []float32, opt Options, res *Result) error {
	if len(opt.Concept) == 0 {
		return fmt.Errorf("tcav needs examples of a concept (--concept: a folder of images, a file of words or phrases, or table rows)")
	}
	random := opt.Random
	if len(random) == 0 {
		random = s.Background
	}
	if len(random) == 0 {
		return fmt.Errorf("tcav needs random counter-examples (--random), or the model's training rows to draw them from")
	}
	la, err := openLayer(s, opt.Layer)
	if err != nil {
		return err
	}
	// The inputs scored: x and the background rows given the same label,
	// as TCAV scores a class's examples.
	d := s.Dim()
	inputs := slices.Clone(x)
	if rows := len(s.Background) / d; rows > 0 && s.Mode == Classification {
		bg := s.Background[:min(rows, 4*tcavMaxInputs)*d]
		out, err := s.Predict(ctx, bg, len(bg)/d)
		if err != nil {
			return err
		}
		k := len(out) / (len(bg) / d)
		for r := 0; r < len(bg)/d && len(inputs)/d < tcavMaxInputs; r++ {
			if argmax(out[r*k:(r+1)*k]) == res.Label {
				inputs = append(inputs, bg[r*d:(r+1)*d]...)
			}
		}
	}
	e, err := TCAV(ctx, la, inputs, len(inputs)/d, opt.Concept, random, res.Label, TCAVOptions{Runs: opt.Samples, Seed: opt.Seed})
	if err != nil {
		return err
	}
	e.Concept = opt.ConceptName
	if e.Concept == "" {
		e.Concept = "concept"
	}
	res.Layer, res.Details, res.Samples, res.Warnings, res.Features = la.Name, e, e.Runs, e.Warnings, 2
	res.Quality["tcav_score"], res.Quality["random_score"] = e.Score, e.RandomScore
	res.Quality["p_value"], res.Quality["cav_accuracy"] = e.PValue, e.CAVAccuracy
	res.Top = []FeatureWeight{
		{Feature: 0, Name: e.Concept, Weight: e.Score},
		{Feature: 1, Name: fmt.Sprintf("random directions (%d)", e.Runs), Weight: e.RandomScore},
	}
	return nil
}

// tcavPerm is a seeded random permutation of 0..n−1 (Fisher–Yates).
func tcavPerm(r *rng, n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := r.IntN(i + 1)
		p[i], p[j] = p[j], p[i]
	}
	return p
}
