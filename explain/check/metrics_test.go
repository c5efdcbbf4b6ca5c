package check_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/explain/check"
)

func TestSimilarities(t *testing.T) {
	a := []float64{1, 2, 3, 4, 5}
	if got := check.Spearman(a, []float64{10, 20, 30, 40, 50}); math.Abs(got-1) > 1e-12 {
		t.Errorf("Spearman of monotone maps = %v, want 1", got)
	}
	if got := check.Spearman(a, []float64{5, 4, 3, 2, 1}); math.Abs(got+1) > 1e-12 {
		t.Errorf("Spearman of reversed maps = %v, want -1", got)
	}
	// Ties share their mean rank: ranks (0.5, 0.5, 2) against (0, 1, 2).
	want := check.Pearson([]float64{0.5, 0.5, 2}, []float64{0, 1, 2})
	if got := check.Spearman([]float64{1, 1, 3}, []float64{1, 2, 3}); math.Abs(got-want) > 1e-12 {
		t.Errorf("Spearman with ties = %v, want %v", got, want)
	}
	if got := check.Pearson([]float64{1, 1, 1}, []float64{1, 2, 3}); got != 0 {
		t.Errorf("Pearson with a constant = %v, want 0", got)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	img := make([]float64, 64)
	for i := range img {
		img[i] = rng.Float64()
	}
	scaled := make([]float64, 64)
	other := make([]float64, 64)
	for i := range img {
		scaled[i] = 3 * img[i]
		other[i] = rng.Float64()
	}
	if got := check.SSIM(img, scaled, 8, 8); math.Abs(got-1) > 1e-9 {
		t.Errorf("SSIM of a map and its multiple = %v, want 1", got)
	}
	if got := check.SSIM(img, other, 8, 8); got > 0.5 {
		t.Errorf("SSIM of two independent noise maps = %v, want near 0", got)
	}
}

func TestComplexityAndLocalisation(t *testing.T) {
	if g := check.Sparseness([]float64{1, 1, 1, 1}); math.Abs(g) > 1e-12 {
		t.Errorf("Gini of a uniform map = %v, want 0", g)
	}
	// One feature holding everything among n: (n−1)/n.
	if g := check.Sparseness([]float64{0, 0, 0, -5}); math.Abs(g-0.75) > 1e-12 {
		t.Errorf("Gini of a one-hot map = %v, want 0.75", g)
	}
	if e := check.EffectiveComplexity([]float64{1, 0.5, 0.05, 0, -0.2}, 0.1); e != 0.6 {
		t.Errorf("effective complexity = %v, want 3 of 5", e)
	}
	attr := []float64{0.1, 0.9, -2, 0.3}
	mask := []float32{0, 1, 1, 0}
	if hit, err := check.PointingGame(attr, mask); err != nil || !hit {
		t.Errorf("pointing game = %v, %v; want a hit (the top is feature 1)", hit, err)
	}
	mass, area, err := check.RelevanceMass(attr, mask)
	if err != nil || math.Abs(mass-0.9/1.3) > 1e-12 || area != 0.5 {
		t.Errorf("relevance mass = %v, %v, %v; want 0.9/1.3 of the positive mass, area 0.5", mass, area, err)
	}
	if _, err := check.PointingGame(attr, []float32{0, 0, 0, 0}); err == nil {
		t.Error("an empty mask was accepted")
	}
	if _, _, err := check.RelevanceMass(attr, []float32{1}); err == nil {
		t.Error("a mask of the wrong size was accepted")
	}
}

// TestFaithfulnessCorrelationLinear: on f(x) = w·x with a zero baseline
// the drop of a subset is exactly the sum of w_j x_j over it, so the
// attribution w⊙x correlates at 1 and a random map near 0.
func TestFaithfulnessCorrelationLinear(t *testing.T) {
	w := []float64{3, -2, 1.5, -1, 0.5, 0.25, 2, -0.7}
	f := func(_ context.Context, x []float32, n int) ([]float32, error) {
		out := make([]float32, n)
		for i := range n {
			for j, wj := range w {
				out[i] += float32(wj) * x[i*len(w)+j]
			}
		}
		return out, nil
	}
	x := []float32{1, 2, -1, 0.5, 3, -2, 1, 1}
	attr := make([]float64, len(w))
	for j := range w {
		attr[j] = w[j] * float64(x[j])
	}
	r, err := check.FaithfulnessCorrelation(context.Background(), f, x, attr, 0, check.Faithfulness{Seed: 1, Subset: 3})
	if err != nil || math.Abs(r-1) > 1e-5 {
		t.Fatalf("faithfulness correlation of the exact attribution = %v, %v; want 1", r, err)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for i := range attr {
		attr[i] = rng.NormFloat64()
	}
	r, err = check.FaithfulnessCorrelation(context.Background(), f, x, attr, 0, check.Faithfulness{Seed: 1, Subset: 3})
	if err != nil || math.Abs(r) > check.FaithfulnessGood {
		t.Fatalf("faithfulness correlation of a random map = %v, %v; want well below %v", r, err, check.FaithfulnessGood)
	}
	if _, err := check.FaithfulnessCorrelation(context.Background(), f, x, attr[:3], 0, check.Faithfulness{}); err == nil {
		t.Error("an attribution of the wrong size was accepted")
	}
}

// TestLipschitzOfALinearExplainer: e(x) = A x with A = diag(3, 1, 0.5)
// has Lipschitz constant 3 (the largest |a|); the estimate is a maximum
// over noisy copies, so it lies below 3 and, with 400 Gaussian copies,
// within 5% of it.
func TestLipschitzOfALinearExplainer(t *testing.T) {
	a := []float64{3, 1, 0.5}
	e := func(_ context.Context, _ *explain.Subject, x []float32, _ int) ([]float64, int, error) {
		out := make([]float64, len(x))
		for i := range x {
			out[i] = a[i] * float64(x[i])
		}
		return out, 1, nil
	}
	x := []float32{1, -2, 0.5}
	attr, _, _ := e(context.Background(), nil, x, 0)
	r, err := check.Robustness(context.Background(), nil, e, x, 0, attr, check.Noise{Scale: 0.1, Samples: 400, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.Lipschitz > 3+1e-6 || r.Lipschitz < 0.95*3 {
		t.Errorf("Lipschitz estimate %v, want within 5%% below 3", r.Lipschitz)
	}
	if r.Calls != 400 {
		t.Errorf("%d calls counted, want 400", r.Calls)
	}
}

// TestLipschitzOfIntegratedGradients: on the linear table model, IG is
// w⊙(x − baseline), a linear explainer whose constant is max|w| = 3;
// Gaussian noise in 6 dimensions gives ratios about the root mean square
// of w (1.66), the maximum between the two.
func TestLipschitzOfIntegratedGradients(t *testing.T) {
	p, x := linearModel(t)
	s := p.Subject()
	e := check.MethodExplainer("ig", explain.Options{Seed: 1})
	attr, _, err := e(context.Background(), s, x, 0)
	if err != nil {
		t.Fatal(err)
	}
	r, err := check.Robustness(context.Background(), s, e, x, 0, attr, check.Noise{Scale: 0.1, Samples: 60, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	var ss, top float64
	for _, w := range linearWeights {
		ss += float64(w * w)
		top = math.Max(top, math.Abs(float64(w)))
	}
	if rmsW := math.Sqrt(ss / float64(len(linearWeights))); r.Lipschitz < rmsW || r.Lipschitz > top*1.001 {
		t.Errorf("IG's Lipschitz estimate %v, want between rms(w) %v and max|w| %v", r.Lipschitz, rmsW, top)
	}
}

// TestRandomNetworksDisagree: the calibration's null — saliency maps of
// two independently randomised planted networks, and a random map's
// faithfulness correlation, sit well inside the good/poor thresholds'
// gaps.
func TestRandomNetworksDisagree(t *testing.T) {
	p, x, _ := plantedModel(t)
	e := check.MethodExplainer("saliency", explain.Options{})
	var maps [][]float64
	for seed := range uint64(2) {
		q, err := p.Randomized([]int{0, 1}, seed+10)
		if err != nil {
			t.Fatal(err)
		}
		a, _, err := e(context.Background(), q.Subject(), x, 0)
		if err != nil {
			t.Fatal(err)
		}
		maps = append(maps, a)
	}
	if sim := check.Spearman(maps[0], maps[1]); math.Abs(sim) > check.RandomSimilarityGood {
		t.Errorf("two random networks' maps correlate at %v, beyond the good threshold %v", sim, check.RandomSimilarityGood)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	noise := make([]float64, len(x))
	for i := range noise {
		noise[i] = rng.NormFloat64()
	}
	r, err := check.FaithfulnessCorrelation(context.Background(), p.Subject().Predict, x, noise, 0, check.Faithfulness{Seed: 3, Channels: 1})
	if err != nil || math.Abs(r) > check.FaithfulnessPoor {
		t.Errorf("a random map's faithfulness correlation = %v, %v; want within ±%v", r, err, check.FaithfulnessPoor)
	}
}

// TestRandomized: layer 0 is the output layer, the copy is randomised and
// the original predicts as before.
func TestRandomized(t *testing.T) {
	p, x, _ := plantedModel(t)
	ctx := context.Background()
	before, _ := p.Subject().Predict(ctx, x, 1)
	q, err := p.Randomized([]int{0}, 7)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := p.Subject().Predict(ctx, x, 1)
	random, _ := q.Subject().Predict(ctx, x, 1)
	for i := range before {
		if before[i] != after[i] {
			t.Fatalf("randomising a copy changed the original's output %d: %v → %v", i, before[i], after[i])
		}
	}
	if math.Abs(float64(random[0]-before[0])) < 1e-3 {
		t.Errorf("the randomised model predicts %v, the original %v: nothing was randomised", random, before)
	}
	pp, qp := p.Module.Params(), q.Module.Params()
	if pp[0].Value.Data()[0] != qp[0].Value.Data()[0] || pp[2].Value.Data()[0] == qp[2].Value.Data()[0] {
		t.Error("layer 0 must be the output layer: the first layer changed or the last did not")
	}
	if _, err := p.Randomized([]int{2}, 1); err == nil {
		t.Error("layer 2 of a 2-layer model was accepted")
	}
	if s := p.Subject(); s.RandomLayers != 2 || s.Randomized == nil {
		t.Errorf("the subject offers %d random layers, want 2", s.RandomLayers)
	}
}
