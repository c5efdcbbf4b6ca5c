package explain

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestStabilityTabularMLPDefaultBudget(t *testing.T) {
	const n, d = 1000, 10
	train := gaussianData(n, d, 3, nil)
	model := mlpModel(d, 32, 5)
	x := train[7*d : 8*d]
	for _, disc := range []Discretizer{DiscretizeQuartile, DiscretizeNone} {
		ex, err := NewTabular(train, d, TabularConfig{Discretizer: disc})
		if err != nil {
			t.Fatal(err)
		}
		explain := func(ctx context.Context, seed uint64) ([]FeatureWeight, error) {
			e, err := ex.Explain(ctx, model, x, TabularOptions{LIMEOptions: LIMEOptions{Seed: seed, Labels: []int{1}}})
			if err != nil {
				return nil, err
			}
			return e.Labels[0].Weights, nil
		}
		s, err := Stability(context.Background(), explain, []uint64{1, 2, 3, 4, 5}, 5)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: top-5 Jaccard across 5 seeds = %.3f", disc, s)
		if s < 0.9 {
			t.Errorf("%s: stability %.3f < 0.9 at the default budget", disc, s)
		}
	}
}

func TestStabilityKnownAnswersAndErrors(t *testing.T) {
	fixed := map[uint64][]FeatureWeight{
		1: {{Feature: 0, Weight: 3}, {Feature: 1, Weight: -2}, {Feature: 2, Weight: 1}},
		2: {{Feature: 0, Weight: 3}, {Feature: 2, Weight: -2}, {Feature: 1, Weight: 0.5}},
		3: {{Feature: 3, Weight: 9}, {Feature: 0, Weight: 1}},
	}
	fn := func(_ context.Context, s uint64) ([]FeatureWeight, error) { return fixed[s], nil }
	// top-2 sets: {0,1}, {0,2}, {0,3}: every pair shares 1 of 3.
	got, err := Stability(context.Background(), fn, []uint64{1, 2, 3}, 2)
	if err != nil || math.Abs(got-1.0/3) > 1e-12 {
		t.Errorf("Stability = %v, %v; want 1/3", got, err)
	}
	got, _ = Stability(context.Background(), fn, []uint64{1, 1}, 2)
	if got != 1 {
		t.Errorf("identical explanations: %v, want 1", got)
	}
	if _, err := Stability(context.Background(), fn, []uint64{1}, 2); err == nil || !strings.Contains(err.Error(), "2") {
		t.Errorf("one seed: %v", err)
	}
	if _, err := Stability(context.Background(), fn, []uint64{1, 2}, 0); err == nil {
		t.Error("k=0 must be an error")
	}
}

func TestDeletionInsertionRanksAttributions(t *testing.T) {
	const c, h, w = 1, 28, 28
	// A bright square on a dark textured background; the model says class
	// 1 when the square's area is bright (which a blur undoes).
	pix := texturedImage(c, h, w, 4)
	y0, y1, x0, x1 := 4, 14, 10, 20
	for p := range pix {
		if y, x := p/w, p%w; y >= y0 && y < y1 && x >= x0 && x < x1 {
			pix[p] = 1
		} else {
			pix[p] *= 0.3
		}
	}
	model := func(_ context.Context, x []float32, n int) ([]float32, error) {
		out := make([]float32, 2*n)
		for i := range n {
			s := 0.0
			for y := y0; y < y1; y++ {
				for xx := x0; xx < x1; xx++ {
					s += float64(x[i*h*w+y*w+xx])
				}
			}
			p := 1 / (1 + math.Exp(-12*(s/float64((y1-y0)*(x1-x0))-0.75)))
			out[2*i], out[2*i+1] = float32(1-p), float32(p)
		}
		return out, nil
	}
	good := make([]float32, h*w)
	bad := make([]float32, h*w)
	for p := range good {
		if y, x := p/w, p%w; y >= y0 && y < y1 && x >= x0 && x < x1 {
			good[p] = 1
		} else {
			bad[p] = 1
		}
	}
	ctx := context.Background()
	cg, err := DeletionInsertion(ctx, model, pix, c, h, w, good, 1, 20)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := DeletionInsertion(ctx, model, pix, c, h, w, bad, 1, 20)
	if err != nil {
		t.Fatal(err)
	}
	if len(cg.Deletion) != 21 || cg.Fractions[20] != 1 {
		t.Fatalf("curve has %d points ending at %v", len(cg.Deletion), cg.Fractions[len(cg.Fractions)-1])
	}
	// Both curves start at the model's output on the full (deletion) or
	// blurred (insertion) image and end at the opposite one.
	if cg.Deletion[0] != cb.Deletion[0] || cg.Deletion[20] != cb.Deletion[20] || cg.Insertion[20] != cg.Deletion[0] {
		t.Errorf("curve ends disagree: %v %v", cg.Deletion, cg.Insertion)
	}
	if !(cg.DeletionAUC < cb.DeletionAUC-0.2) || !(cg.InsertionAUC > cb.InsertionAUC+0.2) {
		t.Errorf("faithful attribution: deletion %.3f insertion %.3f; unfaithful: deletion %.3f insertion %.3f",
			cg.DeletionAUC, cg.InsertionAUC, cb.DeletionAUC, cb.InsertionAUC)
	}
	// LIME's own attribution beats the unfaithful one too.
	e, err := ExplainImage(ctx, model, pix, c, h, w, ImageOptions{LIMEOptions: LIMEOptions{Seed: 3, Labels: []int{1}}, Hide: HideConstant})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := DeletionInsertion(ctx, model, pix, c, h, w, e.PixelAttribution(1), 1, 20)
	if err != nil {
		t.Fatal(err)
	}
	if !(cl.DeletionAUC < cb.DeletionAUC) || !(cl.InsertionAUC > cb.InsertionAUC) {
		t.Errorf("LIME attribution: deletion %.3f insertion %.3f, not better than the unfaithful %.3f %.3f", cl.DeletionAUC, cl.InsertionAUC, cb.DeletionAUC, cb.InsertionAUC)
	}
	t.Logf("AUC deletion/insertion: region %.3f/%.3f, LIME %.3f/%.3f, complement %.3f/%.3f", cg.DeletionAUC, cg.InsertionAUC, cl.DeletionAUC, cl.InsertionAUC, cb.DeletionAUC, cb.InsertionAUC)
	if _, err := DeletionInsertion(ctx, model, pix, c, h, w, good[:10], 1, 20); err == nil || !strings.Contains(err.Error(), "784") {
		t.Errorf("short attribution: %v", err)
	}
	if _, err := DeletionInsertion(ctx, model, pix, c, h, w, good, 5, 20); err == nil || !strings.Contains(err.Error(), "label 5") {
		t.Errorf("label out of range: %v", err)
	}
	if _, err := DeletionInsertion(ctx, model, pix, c, h, w, good, 1, 0); err == nil {
		t.Error("steps=0 must be an error")
	}
}

func TestAdaptiveBudgetStabilizesCloseWeights(t *testing.T) {
	// Features 4 and 5 have effects 1 and 0.99 on a model whose other
	// part, a·cos(3·x6·x7), is noise to a linear surrogate: at a fixed
	// 5000 samples seeds disagree on which of them is 5th, while the
	// adaptive default adds samples until they are told apart.
	const n, d = 1000, 8
	train := gaussianData(n, d, 1, nil)
	w := []float64{3, 2.5, 2, 1.5, 1, 0.99, 0.3, 0.2}
	for j := range w { // effects per training standard deviation
		var m, ss float64
		for i := range n {
			m += float64(train[i*d+j])
		}
		m /= n
		for i := range n {
			ss += (float64(train[i*d+j]) - m) * (float64(train[i*d+j]) - m)
		}
		w[j] /= math.Sqrt(ss / n)
	}
	model := func(_ context.Context, x []float32, rows int) ([]float32, error) {
		out := make([]float32, rows)
		for i := range rows {
			r := x[i*d : (i+1)*d]
			s := 2 * math.Cos(3*float64(r[6])*float64(r[7]))
			for j, wj := range w {
				s += wj * float64(r[j])
			}
			out[i] = float32(s)
		}
		return out, nil
	}
	ex, err := NewTabular(train, d, TabularConfig{Discretizer: DiscretizeNone, Mode: Regression})
	if err != nil {
		t.Fatal(err)
	}
	seeds := make([]uint64, 20)
	for i := range seeds {
		seeds[i] = uint64(i + 1)
	}
	jaccard := map[int]float64{}
	var used []int
	for _, samples := range []int{5000, 0} {
		j, err := Stability(context.Background(), func(ctx context.Context, seed uint64) ([]FeatureWeight, error) {
			e, err := ex.Explain(ctx, model, train[:d], TabularOptions{LIMEOptions: LIMEOptions{Seed: seed, Samples: samples}})
			if err != nil {
				return nil, err
			}
			if samples == 0 {
				used = append(used, e.Samples)
				if e.Samples > 80000 || e.Samples%5000 != 0 || e.MaxSamples != 80000 {
					t.Errorf("seed %d: %d samples (cap %d); the adaptive budget doubles 5000 up to 80000", seed, e.Samples, e.MaxSamples)
				}
				if !e.Quality.Stable && !strings.Contains(strings.Join(e.Quality.Warnings, " "), "cap of 80000") {
					t.Errorf("seed %d: stopped unstable at %d samples without a warning: %q", seed, e.Samples, e.Quality.Warnings)
				}
			}
			return e.Labels[0].Weights, nil
		}, seeds, 5)
		if err != nil {
			t.Fatal(err)
		}
		jaccard[samples] = j
	}
	slices.Sort(used)
	t.Logf("top-5 Jaccard over %d seeds: %.3f at 5000 samples, %.3f at the adaptive default (samples used %v)", len(seeds), jaccard[5000], jaccard[0], used)
	if jaccard[5000] >= 0.9 {
		t.Errorf("fixed 5000 samples: Jaccard %.3f; the close weights should make it unstable (< 0.9)", jaccard[5000])
	}
	if jaccard[0] < 0.9 {
		t.Errorf("adaptive budget: Jaccard %.3f < 0.9", jaccard[0])
	}
	if used[len(used)/2] <= 5000 {
		t.Errorf("the adaptive budget used a median of %d samples; close weights need more than 5000", used[len(used)/2])
	}
}
