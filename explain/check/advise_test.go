package check_test

import (
	"context"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/explain/check"
)

// TestAdviseRanksTheBrokenExplainerLast: on the planted-signal network the
// advisor prefers a method that passes, and the edge explainer, which
// ignores the model, scores below every real method.
func TestAdviseRanksTheBrokenExplainerLast(t *testing.T) {
	p, x, _ := plantedModel(t)
	adv, err := check.Advise(context.Background(), p.Subject(), [][]float32{x}, explain.Options{Seed: 1, Samples: 200})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", adv.Table())
	if adv.Best == "edges" || adv.Scores[0].Level != explain.Good {
		t.Errorf("the advisor picked %s (%s)", adv.Best, adv.Scores[0].Level)
	}
	edges := -1
	for i, r := range adv.Scores {
		if r.Method == "edges" {
			edges = i
			if r.Families["randomisation"] != 0 {
				t.Errorf("edges: randomisation points %v, want 0", r.Families["randomisation"])
			}
		}
	}
	if edges < 0 {
		t.Fatal("the edge explainer was not scored")
	}
	for _, r := range adv.Scores[edges+1:] {
		if r.Error == "" && r.Score > adv.Scores[edges].Score {
			t.Errorf("%s (%.2f) ranks below edges (%.2f)", r.Method, r.Score, adv.Scores[edges].Score)
		}
	}
	// The meta-evaluation: the planted network's faithfulness verdicts
	// differ from its randomised copy's, so faithfulness weighs; the
	// randomisation family is itself that comparison.
	if w := adv.Weights; w["randomisation"] != 1 || w["faithfulness"] <= 0 || w["faithfulness"] > 1 {
		t.Errorf("family weights %v", w)
	}
	if !strings.Contains(adv.Table(), adv.Best) {
		t.Error("the table does not name the winner")
	}
	if _, err := check.Advise(context.Background(), p.Subject(), nil, explain.Options{}); err == nil {
		t.Error("no inputs was accepted")
	}
}
