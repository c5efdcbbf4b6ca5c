package explain

import (
	"cmp"
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// tableSubject is a regression or two-class subject over a background.
func tableSubject(f Func, d int, mode Mode, outputs int, background []float32) *Subject {
	return &Subject{Kind: Table, Shape: []int{d}, Mode: mode, Outputs: outputs, Predict: f, Background: background}
}

func topByFeature(res *Result) map[int]float64 {
	m := map[int]float64{}
	for _, fw := range res.Top {
		m[fw.Feature] = fw.Weight
	}
	return m
}

// On a linear model f = w·x + b, ablation to the training mean gives
// w_j (x_j − mean_j) exactly, and permutation over every training row the
// same (the mean of f over the rows' values of column j); groups add up.
func TestAblationAndPermutationOnALinearModel(t *testing.T) {
	ctx := context.Background()
	w := []float64{1, -2, 0.5, 3}
	bg := gaussianData(120, 4, 1, []float64{1, 2, 0.5, 1})
	s := tableSubject(linearModel(w, 0.7), 4, Regression, 1, bg)
	x := []float32{1.5, -0.5, 2, 0.25}
	mean := columnMeans(bg, 4)
	want := func(j int) float64 { return w[j] * float64(x[j]-mean[j]) }
	for _, m := range []string{"ablation", "permutation"} {
		res, err := Run(ctx, m, s, x, Options{Samples: 120})
		if err != nil {
			t.Fatal(m, err)
		}
		got := topByFeature(res)
		for j := range w {
			if math.Abs(got[j]-want(j)) > 1e-4 {
				t.Errorf("%s: feature %d %v, analytic %v", m, j, got[j], want(j))
			}
		}
		if res.ModelCalls == 0 || res.Features != 4 {
			t.Errorf("%s: %d model calls, %d features", m, res.ModelCalls, res.Features)
		}
		if m == "permutation" && !(res.Quality["max_std_error"] > 0) {
			t.Errorf("permutation reports no standard error: %v", res.Quality)
		}
	}
	groups := [][]int{{0, 2}, {1, 3}}
	e, err := FeatureAblation(ctx, linearModel(w, 0.7), x, mean, 0, groups, []string{"a", "b", "c", "d"})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(e.Drops[0]-want(0)-want(2)) > 1e-4 || math.Abs(e.Drops[1]-want(1)-want(3)) > 1e-4 || e.Names[0] != "a+c" {
		t.Fatalf("grouped ablation %v %v", e.Drops, e.Names)
	}
	p, err := FeaturePermutation(ctx, linearModel(w, 0.7), x, bg, 0, groups, nil, 120, 3)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(p.Drops[1]-want(1)-want(3)) > 1e-4 {
		t.Fatalf("grouped permutation %v", p.Drops)
	}
	for _, bad := range [][][]int{{{0, 1}, {1, 2, 3}}, {{0, 1}, {2}}, {{0, 1, 2, 4}}, {{}, {0, 1, 2, 3}}} {
		if _, err := FeatureAblation(ctx, linearModel(w, 0), x, mean, 0, bad, nil); err == nil {
			t.Errorf("groups %v accepted", bad)
		}
	}
	// Fewer draws than rows: the seed chooses them.
	p1, _ := FeaturePermutation(ctx, linearModel(w, 0.7), x, bg, 0, nil, nil, 20, 3)
	p2, _ := FeaturePermutation(ctx, linearModel(w, 0.7), x, bg, 0, nil, nil, 20, 3)
	p3, _ := FeaturePermutation(ctx, linearModel(w, 0.7), x, bg, 0, nil, nil, 20, 4)
	if !slices.Equal(p1.Drops, p2.Drops) || slices.Equal(p1.Drops, p3.Drops) {
		t.Error("permutation: the same seed gave other drops, or another seed the same")
	}
	if _, err := FeaturePermutation(ctx, linearModel(w, 0), x, bg[:5], 0, nil, nil, 10, 1); err == nil {
		t.Error("a background of 5 values for 4 columns accepted")
	}
}

// exactShapley computes the Shapley values of f at x against one
// baseline b by enumerating every coalition.
func exactShapley(f func([]float64) float64, x, b []float64) []float64 {
	d := len(x)
	phi := make([]float64, d)
	fact := func(n int) float64 {
		r := 1.0
		for i := 2; i <= n; i++ {
			r *= float64(i)
		}
		return r
	}
	for mask := 0; mask < 1<<d; mask++ {
		z := make([]float64, d)
		size := 0
		for j := range d {
			z[j] = b[j]
			if mask&(1<<j) != 0 {
				z[j] = x[j]
				size++
			}
		}
		base := f(z)
		for j := range d {
			if mask&(1<<j) != 0 {
				continue
			}
			z[j] = x[j]
			w := fact(size) * fact(d-size-1) / fact(d)
			phi[j] += w * (f(z) - base)
			z[j] = b[j]
		}
	}
	return phi
}

// Shapley value sampling converges to the exact Shapley values of a
// non-linear function of 4 features, within its standard errors, and its
// values add up to f(x) − f(baseline).
func TestShapleySamplingMatchesExactValues(t *testing.T) {
	g := func(v []float64) float64 {
		return v[0]*v[1] + math.Sin(2*v[2]) + v[3]*v[3]*v[0] + math.Max(0, v[1]-v[3])
	}
	f := func(_ context.Context, x []float32, n int) ([]float32, error) {
		out := make([]float32, n)
		for i := range n {
			v := make([]float64, 4)
			for j := range v {
				v[j] = float64(x[i*4+j])
			}
			out[i] = float32(g(v))
		}
		return out, nil
	}
	x, b := []float32{1.5, -1, 0.7, 2}, []float32{0.2, 0.5, -0.3, -1}
	x64, b64 := make([]float64, 4), make([]float64, 4)
	for j := range 4 {
		x64[j], b64[j] = float64(x[j]), float64(b[j])
	}
	exact := exactShapley(g, x64, b64)
	e, err := ShapleyValueSampling(context.Background(), f, x, b, 0, nil, nil, 400, 5)
	if err != nil {
		t.Fatal(err)
	}
	for j := range 4 {
		if d := math.Abs(e.Values[j] - exact[j]); d > 4*e.StdErrors[j]+1e-5 {
			t.Errorf("feature %d: %v ± %v, exact %v", j, e.Values[j], e.StdErrors[j], exact[j])
		}
	}
	if !(e.StdErrors[0] > 0) || e.SumError() > 1e-4 {
		t.Errorf("standard errors %v, sum error %v", e.StdErrors, e.SumError())
	}
	again, _ := ShapleyValueSampling(context.Background(), f, x, b, 0, nil, nil, 400, 5)
	other, _ := ShapleyValueSampling(context.Background(), f, x, b, 0, nil, nil, 400, 6)
	if !slices.Equal(e.Values, again.Values) || slices.Equal(e.Values, other.Values) {
		t.Error("the same seed gave other values, or another seed the same")
	}
	// Through the registry, over a background, on a classifier.
	bg := gaussianData(100, 4, 2, nil)
	res, err := Run(context.Background(), "shapleysampling", tableSubject(mlpModel(4, 8, 1), 4, Classification, 2, bg), x, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Quality["sum_error"] > 1e-4 || !(res.Quality["max_std_error"] > 0) || res.Samples != 200 || len(res.Top) != 4 {
		t.Fatalf("registry run: quality %v, samples %d, top %v", res.Quality, res.Samples, res.Top)
	}
	if _, err := Run(context.Background(), "shapleysampling", tableSubject(mlpModel(4, 8, 1), 4, Classification, 2, bg), x, Options{Samples: 1}); err == nil {
		t.Error("one ordering accepted")
	}
}

// RISE, ablation, permutation and Shapley sampling on an image model that
// reads one region put most of the positive attribution there.
func TestImagePerturbationMethodsFindTheRegion(t *testing.T) {
	// 4×4 blocks of one brightness each, bright in the model's 8×8
	// corner and darker elsewhere, so superpixels follow the blocks.
	const h, w, q = 16, 16, 8
	img := make([]float32, h*w)
	r := rand.New(rand.NewPCG(3, 3))
	for by := 0; by < h; by += 4 {
		for bx := 0; bx < w; bx += 4 {
			v := 0.1 + 0.5*float32(r.Float64())
			if by < q && bx < q {
				v = 0.8 + 0.2*float32(r.Float64())
			}
			for y := by; y < by+4; y++ {
				for x := bx; x < bx+4; x++ {
					img[y*w+x] = v
				}
			}
		}
	}
	s := &Subject{Kind: Image, Shape: []int{1, h, w}, Mode: Classification, Outputs: 2, Predict: regionModel(1, h, w, 0, q, 0, q)}
	for _, m := range []string{"rise", "ablation", "permutation", "shapleysampling"} {
		res, err := Run(context.Background(), m, s, img, Options{Seed: 2, Label: Class(1)})
		if err != nil {
			t.Fatal(m, err)
		}
		var in, all float64
		for p, v := range res.Attribution {
			if v <= 0 {
				continue
			}
			all += float64(v)
			if p/w < q && p%w < q {
				in += float64(v)
			}
		}
		// The region is a quarter of the image: most of the positive
		// attribution lies there (RISE's smooth masks spill about a grid
		// cell past its edge), and of the q² most important pixels
		// nearly all.
		order := make([]int, len(res.Attribution))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(res.Attribution[b], res.Attribution[a]) })
		top := 0
		for _, p := range order[:q*q] {
			if p/w < q && p%w < q {
				top++
			}
		}
		if all == 0 || in/all < 0.7 || top < q*q*9/10 {
			t.Errorf("%s: %.2f of the positive attribution in the region, %d of the top %d pixels", m, in/all, top, q*q)
		}
		if _, ok := res.Quality["deletion_auc"]; !ok || res.ModelCalls == 0 {
			t.Errorf("%s: quality %v, %d model calls", m, res.Quality, res.ModelCalls)
		}
	}
	a, _ := RISE(context.Background(), regionModel(1, h, w, 0, q, 0, q), img, 1, h, w, 1, RISEOptions{Masks: 50, Seed: 9})
	b, _ := RISE(context.Background(), regionModel(1, h, w, 0, q, 0, q), img, 1, h, w, 1, RISEOptions{Masks: 50, Seed: 9})
	c, _ := RISE(context.Background(), regionModel(1, h, w, 0, q, 0, q), img, 1, h, w, 1, RISEOptions{Masks: 50, Seed: 10})
	if !slices.Equal(a.Map, b.Map) || slices.Equal(a.Map, c.Map) || a.Masks != 50 {
		t.Error("RISE: the same seed gave another map, or another seed the same")
	}
	for _, o := range []RISEOptions{{Masks: 1}, {Grid: 17}, {Keep: 1}, {Keep: -0.5}} {
		if _, err := RISE(context.Background(), regionModel(1, h, w, 0, q, 0, q), img, 1, h, w, 0, o); err == nil {
			t.Errorf("RISE accepted %+v", o)
		}
	}
	if _, err := RISE(context.Background(), regionModel(1, h, w, 0, q, 0, q), img, 1, h, w, 2, RISEOptions{Masks: 10}); err == nil || !strings.Contains(err.Error(), "label 2") {
		t.Errorf("RISE on a missing label: %v", err)
	}
}

// uniformRows are n rows of d features uniform in [0, 1).
func uniformRows(n, d int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]float32, n*d)
	for i := range out {
		out[i] = float32(r.Float64())
	}
	return out
}

// plantedRule is a two-class model: class 1 iff x0 > 0.5 and x2 < 0.3.
func plantedRule(d int) Func {
	return func(_ context.Context, x []float32, n int) ([]float32, error) {
		out := make([]float32, 2*n)
		for i := range n {
			if x[i*d] > 0.5 && x[i*d+2] < 0.3 {
				out[2*i+1] = 1
			} else {
				out[2*i] = 1
			}
		}
		return out, nil
	}
}

// Anchors find the planted rule's two features and reach the precision
// target, which training rows the rule covers confirm; the coverage is
// the share of rows it covers.
func TestAnchorsFindAPlantedRule(t *testing.T) {
	const d = 5
	bg := uniformRows(2000, d, 4)
	s := tableSubject(plantedRule(d), d, Classification, 2, bg)
	s.ClassNames = []string{"no", "yes"}
	x := []float32{0.8, 0.5, 0.1, 0.5, 0.5}
	res, err := Run(context.Background(), "anchors", s, x, Options{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	e := res.Details.(*AnchorExplanation)
	feats := slices.Sorted(slices.Values(e.Features))
	if !slices.Equal(feats, []int{0, 2}) || !e.Met || e.Precision < 0.95 || res.Label != 1 {
		t.Fatalf("anchor %v (%v), precision %v, met %v", e.Anchor, e.Features, e.Precision, e.Met)
	}
	if len(res.Top) != 2 || !strings.Contains(e.Summary(), "THEN yes") || res.ModelCalls == 0 {
		t.Fatalf("top %v, summary %q", res.Top, e.Summary())
	}
	// The rows the anchor covers (x0 above its upper quartile, x2 at or
	// below its lower quartile), read off the training data directly.
	col := func(j int) []float64 {
		c := make([]float64, 0, 2000)
		for r := range 2000 {
			c = append(c, float64(bg[r*d+j]))
		}
		slices.Sort(c)
		return c
	}
	q0, q2 := percentile(col(0), 75), percentile(col(2), 25)
	out, _ := plantedRule(d)(context.Background(), bg, 2000)
	var covered, kept int
	for r := range 2000 {
		if float64(bg[r*d]) > q0 && float64(bg[r*d+2]) <= q2 {
			covered++
			if out[2*r+1] == 1 {
				kept++
			}
		}
	}
	if frac := float64(kept) / float64(covered); frac < 0.95 {
		t.Errorf("the anchor's training rows keep the decision %.3f of the time", frac)
	}
	if math.Abs(e.Coverage-float64(covered)/2000) > 0.01 {
		t.Errorf("coverage %v, the rows say %v", e.Coverage, float64(covered)/2000)
	}
	again, _ := Run(context.Background(), "anchors", s, x, Options{Seed: 3})
	if ae := again.Details.(*AnchorExplanation); !slices.Equal(ae.Features, e.Features) || ae.Samples != e.Samples || ae.Precision != e.Precision {
		t.Error("the same seed gave another anchor")
	}
	reg := tableSubject(linearModel([]float64{1, 1, 1, 1, 1}, 0), d, Regression, 1, bg)
	if _, err := Run(context.Background(), "anchors", reg, x, Options{}); err == nil || !strings.Contains(err.Error(), "classifier") {
		t.Errorf("anchors on a regression: %v", err)
	}
	if _, err := Run(context.Background(), "anchors", s, x, Options{Samples: 10}); err == nil {
		t.Error("a budget below one batch accepted")
	}
}

// A text anchor is the word the classifier keys on.
func TestAnchorTextFindsTheKeyWord(t *testing.T) {
	model := func(_ context.Context, docs []string) ([]float32, error) {
		out := make([]float32, 2*len(docs))
		for i, doc := range docs {
			if strings.Contains(doc, "excellent") {
				out[2*i+1] = 1
			} else {
				out[2*i] = 1
			}
		}
		return out, nil
	}
	e, err := AnchorText(context.Background(), model, "the food was excellent and the service slow", 1, AnchorOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Anchor) != 1 || !strings.Contains(e.Anchor[0], "excellent") || !e.Met || e.Coverage != 0.5 {
		t.Fatalf("text anchor %v, met %v, coverage %v", e.Anchor, e.Met, e.Coverage)
	}
	if _, err := AnchorText(context.Background(), model, "  ,, ", 1, AnchorOptions{}); err == nil {
		t.Error("a document without words accepted")
	}
	// A text model's subject takes token ids; the registry's anchors keep
	// words and replace the others by the unknown token.
	vocab := []string{"<pad>", "<unk>", "the", "food", "was", "excellent"}
	ids := func(_ context.Context, x []float32, n int) ([]float32, error) {
		out := make([]float32, 2*n)
		for i := range n {
			out[2*i] = 1
			if slices.Contains(x[i*6:(i+1)*6], 5) {
				out[2*i], out[2*i+1] = 0, 1
			}
		}
		return out, nil
	}
	s := &Subject{Kind: Text, Shape: []int{6}, Mode: Classification, Outputs: 2, Predict: ids, Vocabulary: vocab}
	res, err := Run(context.Background(), "anchors", s, []float32{2, 3, 4, 5, 0, 0}, Options{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if te := res.Details.(*AnchorExplanation); len(te.Anchor) != 1 || te.Anchor[0] != `"excellent" (word 4)` || !te.Met {
		t.Fatalf("token anchor %v", te.Anchor)
	}
	if _, err := Run(context.Background(), "anchors", s, make([]float32, 6), Options{}); err == nil || !strings.Contains(err.Error(), "padding") {
		t.Errorf("an all-padding input: %v", err)
	}
}

// logisticSubject is a two-class logistic model with its gradients.
func logisticSubject(w []float64, b float64, bg []float32) *Subject {
	d := len(w)
	s := tableSubject(logisticModel(w, b), d, Classification, 2, bg)
	s.Gradient = func(ctx context.Context, x []float32, n, label int) ([]float32, []float32, error) {
		out, _ := logisticModel(w, b)(ctx, x, n)
		g := make([]float32, n*d)
		for i := range n {
			for j := range d {
				if label == 1 { // scores: 0 for class 0, w·x + b for class 1
					g[i*d+j] = float32(w[j])
				}
			}
		}
		return out, g, nil
	}
	return s
}

// A counterfactual flips the decision, stays in the training box, and
// changes no feature the model ignores; with and without gradients.
func TestCounterfactualFlipsTheDecision(t *testing.T) {
	const d = 4
	bg := uniformRows(500, d, 6)
	w := []float64{4, -3, 0, 2}
	x := []float32{0.1, 0.8, 0.5, 0.2} // w·x − 1 < 0: class 0
	for _, grad := range []bool{true, false} {
		s := logisticSubject(w, -1, bg)
		if !grad {
			s.Gradient = nil
		}
		res, err := Run(context.Background(), "counterfactual", s, x, Options{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		e := res.Details.(*CounterfactualExplanation)
		out, _ := logisticModel(w, -1)(context.Background(), e.Counterfactual, 1)
		if !e.Flipped || res.Quality["flipped"] != 1 || argmax(out) != 1 || e.NewLabel != 1 {
			t.Fatalf("gradient %v: not flipped: %+v", grad, e)
		}
		for j, v := range e.Counterfactual {
			if v < 0 || v >= 1 {
				t.Errorf("gradient %v: feature %d = %v leaves the training range [0, 1)", grad, j, v)
			}
		}
		for _, c := range e.Changes {
			if c.Feature == 2 {
				t.Errorf("gradient %v: changed feature 2, which the model ignores", grad)
			}
		}
		// The nearest counterfactual in L1/MAD within the box moves x0
		// alone to the boundary w·x = 1 (x1 or x3 alone would leave [0, 1)).
		if len(e.Changes) != 1 || e.Changes[0].Feature != 0 || math.Abs(e.Changes[0].To-0.75) > 0.01 || len(res.Top) != 1 {
			t.Errorf("gradient %v: changes %+v (search %q), want x0 → 0.75 alone", grad, e.Changes, e.Search)
		}
		// Close to the boundary: a tenth of the way back to x undoes it.
		back := make([]float32, d)
		for j := range d {
			back[j] = e.Counterfactual[j] + 0.1*(x[j]-e.Counterfactual[j])
		}
		if o, _ := logisticModel(w, -1)(context.Background(), back, 1); argmax(o) != 0 {
			t.Errorf("gradient %v: the counterfactual %v is far past the boundary", grad, e.Counterfactual)
		}
		again, _ := Run(context.Background(), "counterfactual", s, x, Options{Seed: 1})
		if !slices.Equal(again.Details.(*CounterfactualExplanation).Counterfactual, e.Counterfactual) {
			t.Errorf("gradient %v: the same seed gave another counterfactual", grad)
		}
	}
	// When no single feature can flip the decision (x0 + x1 ≥ 1.5 needs
	// both), the gradient search alone finds one changing both, and so
	// does the search from the training rows.
	s := logisticSubject([]float64{8, 8, 0, 0}, -12, bg)
	x = []float32{0.1, 0.1, 0.5, 0.2}
	p := &cfProblem{ctx: context.Background(), f: s.Predict, grad: s.Gradient, x: x, d: d, target: -1, bg: bg}
	p.lo, p.hi, p.mad = cfBox(bg, d)
	if one, err := p.singleFeature(); err != nil || one != nil {
		t.Fatalf("a single feature flips x0 + x1 ≥ 1.5 from %v: %v %v", x, one, err)
	}
	for search, find := range map[string]func() ([]float32, error){
		"gradient": p.gradientSearch, "nearest-neighbour": func() ([]float32, error) { return p.nearestUnlike(2) }} {
		z, err := find()
		if err != nil || z == nil {
			t.Fatalf("%s: %v %v", search, z, err)
		}
		if z, err = p.refine(z); err != nil {
			t.Fatal(err)
		}
		out, _ := s.Predict(context.Background(), z, 1)
		if argmax(out) != 1 || z[0] == x[0] || z[1] == x[1] || z[2] != x[2] || z[3] != x[3] {
			t.Errorf("%s: %v → %v", search, z, out)
		}
	}
	// A model that always says class 0 has no counterfactual: it says so.
	never := tableSubject(func(_ context.Context, x []float32, n int) ([]float32, error) {
		out := make([]float32, 2*n)
		for i := range n {
			out[2*i] = 1
		}
		return out, nil
	}, d, Classification, 2, bg)
	res, err := Run(context.Background(), "counterfactual", never, x, Options{})
	if err != nil || res.Quality["flipped"] != 0 || len(res.Warnings) == 0 {
		t.Fatalf("a constant model: %v, %v", err, res)
	}
	if _, err := Counterfactual(context.Background(), logisticModel(w, -1), nil, x, bg, 0, nil, nil, 1); err == nil {
		t.Error("the input's own class accepted as the target")
	}
	reg := tableSubject(linearModel(w, 0), d, Regression, 1, bg)
	if _, err := Run(context.Background(), "counterfactual", reg, x, Options{}); err == nil {
		t.Error("a counterfactual of a regression")
	}
}
