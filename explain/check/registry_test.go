package check_test

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/predictor"
)

// convModel is a small trained-looking convolutional classifier of 1×8×8
// images (Conv2D(1, 3, 3) → ReLU → MaxPool → Flatten → Linear(27, 3)),
// so that Grad-CAM and the layer methods apply, and an input.
func convModel(t testing.TB) (*predictor.Predictor, []float32) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 8))
	m := nn.NewSequential(nn.NewConv2D(1, 3, 3, rng), nn.NewReLU(), nn.NewMaxPool2D(2, 2, 0), nn.NewFlatten(), nn.NewLinear(27, 3, rng))
	p, err := predictor.New(m, model.Meta{Task: "classification", InputShape: []int{1, side, side}, Classes: []string{"a", "b", "c"}})
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, side*side)
	for i := range x {
		x[i] = float32(rng.Float64())
	}
	return p, x
}

// attributionCheckNames are the checks that need an attribution of the
// output over the input's features.
var attributionCheckNames = []string{"faithfulness_correlation", "deletion", "insertion", "model_randomisation", "random_logit", "max_sensitivity"}

// TestEveryMethodIsJudgedOrSaysWhyNot: every registered method that
// applies, run with the default checks on a table classifier, an image
// network and a convolutional network, gives a verdict — or, when no
// check fits its kind of result, an explicit "not checked" with the
// reason — and never a figure that is not a number. Results that are not
// attributions of the output over the input (a rule, a what-if, a
// concept score, a layer's units, a neuron's map) carry none of the
// checks that measure one, and say so.
func TestEveryMethodIsJudgedOrSaysWhyNot(t *testing.T) {
	table, tx, _ := plantedTable(t)
	image, ix, _ := plantedModel(t)
	conv, cx := convModel(t)
	type subject struct {
		name string
		s    *explain.Subject
		x    []float32
	}
	subjects := []subject{{"table", table.Subject(), tx}, {"image", image.Subject(), ix}, {"conv", conv.Subject(), cx}}
	seen := map[string]bool{}
	for _, sub := range subjects {
		for _, mi := range explain.Applicable(sub.s) {
			seen[mi.Name] = true
			opt := explain.Options{Seed: 1, Samples: 40}
			if mi.Name == "anchors" {
				opt.Samples = 200 // at least two of its batches
			}
			if mi.Needs&explain.NeedsExamples != 0 {
				// The concept: bright inputs (the background's rows
				// shifted up) against the background's random rows.
				opt.Concept = slices.Clone(sub.x)
				for i := range opt.Concept {
					opt.Concept[i] += 1
				}
				opt.Concept = append(opt.Concept, opt.Concept...)
				opt.Random = make([]float32, 8*len(sub.x))
				for i := range opt.Random {
					opt.Random[i] = float32(i%7) / 7
				}
			}
			res, err := explain.Run(context.Background(), mi.Name, sub.s, sub.x, opt)
			if err != nil {
				t.Errorf("%s on the %s model: %v", mi.Name, sub.name, err)
				continue
			}
			if res.Verdict == nil || res.Verdict.Words == "" {
				t.Errorf("%s on the %s model: no verdict (checks %v)", mi.Name, sub.name, res.Checks)
				continue
			}
			for _, c := range res.Checks {
				if math.IsNaN(c.Value) || math.IsInf(c.Value, 0) || c.Verdict == "" || c.Words == "" {
					t.Errorf("%s on the %s model: check %+v", mi.Name, sub.name, c)
				}
			}
			if res.Verdict.Level == explain.NotChecked && len(res.NotChecked) == 0 {
				t.Errorf("%s on the %s model: not checked, and no reason recorded", mi.Name, sub.name)
			}
			layerOnly := mi.Result == explain.LayerUnits && res.Attribution == nil
			if mi.Result != explain.InputAttribution && !(mi.Result == explain.LayerUnits && !layerOnly) {
				if len(res.NotChecked) == 0 {
					t.Errorf("%s (%q result) on the %s model: no record of the checks left out", mi.Name, mi.Result, sub.name)
				}
				for _, c := range res.Checks {
					if slices.Contains(attributionCheckNames, c.Name) {
						t.Errorf("%s (%q result) on the %s model: judged by %s, which measures an attribution of the output over the input", mi.Name, mi.Result, sub.name, c.Name)
					}
				}
			}
			if mi.Result == explain.InputAttribution && sub.name != "table" {
				if _, ok := checksOf(res)["faithfulness_correlation"]; !ok {
					t.Errorf("%s on the %s model: no faithfulness correlation: %v", mi.Name, sub.name, res.Checks)
				}
			}
			t.Logf("%-18s %-5s %-11s %s | not checked: %v", mi.Name, sub.name, res.Verdict.Level, res.Verdict.Words, res.NotChecked)
		}
	}
	for _, name := range explain.MethodNames() {
		if !seen[name] && name != "edges" {
			t.Errorf("method %s applied to none of the test models", name)
		}
	}
}

// TestChecksAllOnEveryAttributionMethod: --checks all (randomisation,
// random logit, robustness) runs on every attribution method of the
// registry that applies to the image networks, with finite figures.
func TestChecksAllOnEveryAttributionMethod(t *testing.T) {
	image, ix, _ := plantedModel(t)
	conv, cx := convModel(t)
	for _, sub := range []struct {
		s *explain.Subject
		x []float32
	}{{image.Subject(), ix}, {conv.Subject(), cx}} {
		for _, mi := range explain.Applicable(sub.s) {
			if mi.Result != explain.InputAttribution {
				continue
			}
			res, err := explain.Run(context.Background(), mi.Name, sub.s, sub.x, explain.Options{Seed: 1, Samples: 20, Checks: explain.ChecksAll})
			if err != nil {
				t.Errorf("%s --checks all: %v", mi.Name, err)
				continue
			}
			cs := checksOf(res)
			for _, want := range []string{"model_randomisation", "random_logit", "max_sensitivity", "faithfulness_correlation"} {
				c, ok := cs[want]
				if !ok || math.IsNaN(c.Value) || c.ModelCalls == 0 && want != "faithfulness_correlation" {
					t.Errorf("%s --checks all: %s missing or empty (%+v); warnings %v", mi.Name, want, c, res.Warnings)
				}
			}
			if res.Verdict == nil || res.Verdict.Level == explain.NotChecked {
				t.Errorf("%s --checks all: verdict %+v", mi.Name, res.Verdict)
			}
		}
	}
}
