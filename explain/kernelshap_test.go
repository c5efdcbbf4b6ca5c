package explain

import (
	"context"
	"math"
	"strings"
	"testing"
)

func TestKernelSHAPLinearExactAndSampled(t *testing.T) {
	for _, tc := range []struct {
		d       int
		samples int
		exact   bool
	}{{6, 0, true}, {20, 600, false}} {
		bg := gaussianData(40, tc.d, 5, nil)
		w := make([]float64, tc.d)
		for j := range w {
			w[j] = float64(j%5) - 1.7
		}
		ks, err := NewKernelSHAP(bg, tc.d, nil)
		if err != nil {
			t.Fatal(err)
		}
		x := gaussianData(1, tc.d, 9, nil)
		e, err := ks.Explain(context.Background(), linearModel(w, 0.3), x, KernelSHAPOptions{Seed: 1, Samples: tc.samples, Mode: Regression})
		if err != nil {
			t.Fatal(err)
		}
		if e.Exact != tc.exact {
			t.Errorf("d=%d: Exact=%v, want %v (%d coalitions)", tc.d, e.Exact, tc.exact, e.Coalitions)
		}
		l := e.Labels[0]
		sum := 0.0
		for j, v := range l.Values {
			sum += v
			mean := 0.0
			for b := range 40 {
				mean += float64(bg[b*tc.d+j])
			}
			mean /= 40
			want := w[j] * (float64(x[j]) - mean)
			if math.Abs(v-want) > 1e-4*(1+math.Abs(want)) {
				t.Errorf("d=%d feature %d: φ=%v, want w(x−E[x])=%v", tc.d, j, v, want)
			}
		}
		if gap := math.Abs(sum - (l.ModelOutput - l.BaseValue)); gap > 1e-9 {
			t.Errorf("d=%d: Σφ=%v, f(x)−E[f]=%v (gap %g)", tc.d, sum, l.ModelOutput-l.BaseValue, gap)
		}
	}
}

func TestKernelSHAPEfficiencyOnNonlinearModel(t *testing.T) {
	const d = 12
	bg := gaussianData(25, d, 2, nil)
	ks, err := NewKernelSHAP(bg, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	x := gaussianData(1, d, 3, nil)
	e, err := ks.Explain(context.Background(), mlpModel(d, 16, 4), x, KernelSHAPOptions{Seed: 7, Samples: 300, Labels: []int{0, 1}})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range e.Labels {
		sum := 0.0
		for _, v := range l.Values {
			sum += v
		}
		if gap := math.Abs(sum - (l.ModelOutput - l.BaseValue)); gap > 1e-9 {
			t.Errorf("label %d: Σφ=%v but f(x)−E[f]=%v", l.Label, sum, l.ModelOutput-l.BaseValue)
		}
	}
	// Two classes that sum to one: attributions are exact negatives.
	for j := range d {
		if a, b := e.Labels[0].Values[j], e.Labels[1].Values[j]; math.Abs(a+b) > 1e-5 {
			t.Errorf("feature %d: φ0=%v φ1=%v should cancel", j, a, b)
		}
	}
}

func TestKernelSHAPExactMatchesShapleyDefinition(t *testing.T) {
	// A model with an interaction, checked against the Shapley formula by
	// brute force over all coalitions with a one-row background.
	const d = 4
	f := func(_ context.Context, x []float32, n int) ([]float32, error) {
		out := make([]float32, n)
		for i := range n {
			r := x[i*d : (i+1)*d]
			out[i] = r[0]*r[1] + 2*r[2] - r[3]*r[3]*r[0]
		}
		return out, nil
	}
	bg := []float32{0.5, -1, 0.25, 2}
	x := []float32{1.5, 2, -1, 0.5}
	ks, _ := NewKernelSHAP(bg, d, nil)
	e, err := ks.Explain(context.Background(), f, x, KernelSHAPOptions{Mode: Regression})
	if err != nil {
		t.Fatal(err)
	}
	val := func(mask int) float64 {
		r := make([]float32, d)
		for j := range d {
			r[j] = bg[j]
			if mask>>j&1 == 1 {
				r[j] = x[j]
			}
		}
		o, _ := f(context.Background(), r, 1)
		return float64(o[0])
	}
	fact := func(n int) float64 { return math.Gamma(float64(n + 1)) }
	for j := range d {
		want := 0.0
		for s := range 1 << d {
			if s>>j&1 == 1 {
				continue
			}
			size := 0
			for k := range d {
				size += s >> k & 1
			}
			want += fact(size) * fact(d-size-1) / fact(d) * (val(s|1<<j) - val(s))
		}
		if got := e.Labels[0].Values[j]; math.Abs(got-want) > 1e-5 {
			t.Errorf("feature %d: φ=%v, Shapley value %v", j, got, want)
		}
	}
}

func TestKernelSHAPDeterministicAndErrors(t *testing.T) {
	const d = 15
	bg := gaussianData(10, d, 2, nil)
	ks, _ := NewKernelSHAP(bg, d, nil)
	x := gaussianData(1, d, 3, nil)
	m := mlpModel(d, 8, 1)
	a, _ := ks.Explain(context.Background(), m, x, KernelSHAPOptions{Seed: 4, Samples: 200})
	b, _ := ks.Explain(context.Background(), m, x, KernelSHAPOptions{Seed: 4, Samples: 200})
	for j := range d {
		if a.Labels[0].Values[j] != b.Labels[0].Values[j] {
			t.Fatalf("same seed, different φ_%d: %v vs %v", j, a.Labels[0].Values[j], b.Labels[0].Values[j])
		}
	}
	if _, err := NewKernelSHAP(nil, 3, nil); err == nil || !strings.Contains(err.Error(), "empty background") {
		t.Errorf("empty background: %v", err)
	}
	if _, err := NewKernelSHAP(make([]float32, 7), 3, nil); err == nil || !strings.Contains(err.Error(), "multiple of 3") {
		t.Errorf("ragged background: %v", err)
	}
	if _, err := ks.Explain(context.Background(), m, x[:4], KernelSHAPOptions{}); err == nil || !strings.Contains(err.Error(), "4 features") {
		t.Errorf("short instance: %v", err)
	}
}

func TestKernelSHAPSkipsFeaturesEqualToBackground(t *testing.T) {
	const d = 5
	bg := gaussianData(6, d, 1, nil)
	x := gaussianData(1, d, 2, nil)
	for b := range 6 { // feature 2 equals the instance in every background row
		bg[b*d+2] = x[2]
	}
	w := []float64{1, -2, 5, 0.5, 3}
	ks, _ := NewKernelSHAP(bg, d, nil)
	e, err := ks.Explain(context.Background(), linearModel(w, 0), x, KernelSHAPOptions{Mode: Regression})
	if err != nil {
		t.Fatal(err)
	}
	if e.Varying != 4 || e.Labels[0].Values[2] != 0 {
		t.Errorf("varying %d, φ2 = %v; want 4 varying features and φ2 exactly 0", e.Varying, e.Labels[0].Values[2])
	}
	// Every feature fixed: no coalitions, all zeros, f(x) = E[f].
	same := make([]float32, 2*d)
	copy(same, x)
	copy(same[d:], x)
	ks2, _ := NewKernelSHAP(same, d, nil)
	e2, err := ks2.Explain(context.Background(), linearModel(w, 0), x, KernelSHAPOptions{Mode: Regression})
	if err != nil {
		t.Fatal(err)
	}
	for j, v := range e2.Labels[0].Values {
		if v != 0 {
			t.Errorf("φ%d = %v with a background equal to x", j, v)
		}
	}
	if e2.Coalitions != 0 || !e2.Exact {
		t.Errorf("coalitions %d exact %v", e2.Coalitions, e2.Exact)
	}
}
