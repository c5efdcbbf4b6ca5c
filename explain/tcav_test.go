package explain

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// The t-test's p-values against values computed by integrating Student's
// t density numerically (scipy.stats.ttest_ind gives the first: t = −1.897,
// 8 degrees of freedom).
func TestTTestTwoSided(t *testing.T) {
	if p := tTestTwoSided([]float64{1, 2, 3, 4, 5}, []float64{2, 4, 6, 8, 10}); math.Abs(p-0.0943498) > 1e-6 {
		t.Fatalf("p = %v, want 0.0943498", p)
	}
	// I_{ν/(ν+t²)}(ν/2, ½) is the two-sided tail of t.
	for _, c := range []struct{ t, nu, p float64 }{{2.5, 3, 0.0877066}, {0.3, 17, 0.7678145}} {
		if p := regIncBeta(c.nu/2, 0.5, c.nu/(c.nu+c.t*c.t)); math.Abs(p-c.p) > 1e-6 {
			t.Fatalf("t = %v, ν = %v: p = %v, want %v", c.t, c.nu, p, c.p)
		}
	}
	if p := tTestTwoSided([]float64{1, 1}, []float64{1, 1}); p != 1 {
		t.Fatalf("equal constant samples: p = %v", p)
	}
}

// plantedNet has 8 inputs, a hidden ReLU layer of 4 units and 2 outputs.
// Hidden unit 0 responds to a planted pattern (features 0..2 high), and
// output 1 grows with it: output 1 = 3·h0 + h1·h2 − h3, output 0 its
// negative.
type plantedNet struct{ W [4][8]float64 }

func newPlantedNet() *plantedNet {
	n := &plantedNet{}
	n.W[0] = [8]float64{1, 1, 1, 0, 0, 0, 0, 0}
	r := rand.New(rand.NewPCG(3, 4))
	for j := 1; j < 4; j++ {
		for i := range 8 {
			n.W[j][i] = r.NormFloat64() / 2
		}
	}
	return n
}

func (n *plantedNet) access() *LayerAccess {
	return &LayerAccess{Name: "relu1", Shape: []int{4},
		Activations: func(_ context.Context, x []float32, rows int) ([]float32, error) {
			a := make([]float32, rows*4)
			for r := range rows {
				for j := range 4 {
					var s float64
					for i, w := range n.W[j] {
						s += w * float64(x[r*8+i])
					}
					a[r*4+j] = float32(math.Max(s, 0))
				}
			}
			return a, nil
		},
		Onward: func(_ context.Context, a []float32, rows, label int) ([]float32, []float32, error) {
			out, grad := make([]float32, rows*2), make([]float32, rows*4)
			for r := range rows {
				h := a[r*4 : (r+1)*4]
				f := 3*h[0] + h[1]*h[2] - h[3]
				out[r*2], out[r*2+1] = -f, f
				g := []float32{3, h[2], h[1], -1}
				for j := range g {
					if label == 0 {
						g[j] = -g[j]
					}
				}
				copy(grad[r*4:], g)
			}
			return out, grad, nil
		},
	}
}

// noiseRows draws rows of 8 standard normal features, with the planted
// pattern (features 0..2 raised by 2) when planted.
func noiseRows(n int, seed uint64, planted bool) []float32 {
	r := rand.New(rand.NewPCG(seed, 9))
	x := make([]float32, n*8)
	for i := range x {
		x[i] = float32(r.NormFloat64())
		if planted && i%8 < 3 {
			x[i] += 2
		}
	}
	return x
}

// TCAV finds the planted concept (significant, score near 1 for output 1
// and near 0 for output 0, CAVs accurate), and does not find a "concept"
// drawn from the same distribution as the random examples.
func TestTCAVPlantedAndRandomConcept(t *testing.T) {
	ctx := context.Background()
	net := newPlantedNet()
	inputs := noiseRows(60, 1, false)
	random := noiseRows(200, 2, false)
	concept := noiseRows(30, 3, true)
	for label, want := range []float64{0, 1} {
		e, err := TCAV(ctx, net.access(), inputs, 60, concept, random, label, TCAVOptions{Runs: 10, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if !e.Significant || math.Abs(e.Score-want) > 0.1 || e.CAVAccuracy < 0.9 || len(e.RandomScores) != 10 {
			t.Fatalf("planted concept, output %d: score %.3f (want ≈ %v), random %.3f, p %.3g, accuracy %.2f", label, e.Score, want, e.RandomScore, e.PValue, e.CAVAccuracy)
		}
	}
	e, err := TCAV(ctx, net.access(), inputs, 60, noiseRows(30, 4, false), random, 1, TCAVOptions{Runs: 10, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if e.Significant || e.PValue < 0.05 || e.CAVAccuracy > 0.75 || len(e.Warnings) == 0 {
		t.Fatalf("random concept: score %.3f vs random %.3f, p %.3g, accuracy %.2f, warnings %q", e.Score, e.RandomScore, e.PValue, e.CAVAccuracy, e.Warnings)
	}
}

// Through Run: the registry method scores x with the Background rows of
// its label, draws random sets from the Background, and says what it
// needs when a concept is missing.
func TestTCAVThroughRun(t *testing.T) {
	ctx := context.Background()
	net := newPlantedNet()
	la := net.access()
	s := &Subject{Kind: Table, Shape: []int{8}, Mode: Classification, Outputs: 2,
		Predict: func(ctx context.Context, x []float32, n int) ([]float32, error) {
			a, _ := la.Activations(ctx, x, n)
			out, _, err := la.Onward(ctx, a, n, 0)
			return out, err
		},
		Background: noiseRows(200, 2, false), Layers: []string{"relu1", "linear2"},
		Layer: func(string) (*LayerAccess, error) { return la, nil }}
	x := noiseRows(1, 5, true)
	opt := Options{Seed: 1, Concept: noiseRows(30, 3, true), ConceptName: "stripes", Layer: "relu1"}
	res, err := Run(ctx, "tcav", s, x, opt)
	if err != nil {
		t.Fatal(err)
	}
	e := res.Details.(*TCAVExplanation)
	if res.Label != 1 || e.Inputs < 20 || !e.Significant || res.Top[0].Name != "stripes" || res.Quality["tcav_score"] < 0.9 {
		t.Fatalf("label %d, %d inputs, significant %v, top %+v, quality %v", res.Label, e.Inputs, e.Significant, res.Top, res.Quality)
	}
	a, err := Run(ctx, "tcav", s, x, opt)
	if err != nil || a.Quality["p_value"] != res.Quality["p_value"] {
		t.Fatalf("same seed, different p: %v vs %v (%v)", a.Quality["p_value"], res.Quality["p_value"], err)
	}
	opt.Concept = nil
	if _, err := Run(ctx, "tcav", s, x, opt); err == nil {
		t.Fatal("tcav without concept examples succeeded")
	}
}
