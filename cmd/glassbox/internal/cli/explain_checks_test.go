package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExplainAutoAndChecks: --method auto prints the advisor's table and
// explains with the winner; --checks all adds the randomisation checks,
// and the text output states the verdict in words.
func TestExplainAutoAndChecks(t *testing.T) {
	dir := t.TempDir()
	mdl := trainedIris(t, dir)
	rows := filepath.Join(dir, "rows.csv")
	os.WriteFile(rows, []byte("6.7,3.0,5.2,2.3\n5.1,3.5,1.4,0.2\n"), 0o644)
	code, stdout, stderr := run(t, "explain", "--model", mdl, "--input", rows, "--method", "auto", "--data", "iris", "--out", filepath.Join(dir, "auto"), "--json", "--samples", "300")
	if code != 0 {
		t.Fatalf("auto: exit %d: %s", code, stderr)
	}
	var r explainRecord
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("auto printed %q", stdout)
	}
	if r.Advice == nil || len(r.Advice.Scores) < 4 || r.Method != r.Advice.Best {
		t.Fatalf("auto: advice %+v, method %s", r.Advice, r.Method)
	}
	names := map[string]bool{}
	for _, c := range r.Checks {
		names[c.Name] = true
	}
	for _, want := range []string{"faithfulness_correlation", "model_randomisation", "random_logit", "max_sensitivity"} {
		if !names[want] {
			t.Errorf("auto: the winner's record has no %s check: %v", want, names)
		}
	}
	code, stdout, stderr = run(t, "explain", "--model", mdl, "--input", rows, "--method", "ig", "--data", "iris", "--out", filepath.Join(dir, "ig"))
	if code != 0 {
		t.Fatalf("ig: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "verdict (") || !strings.Contains(stdout, "check faithfulness_correlation") || strings.Contains(stdout, "model_randomisation") {
		t.Errorf("ig with the default checks printed:\n%s", stdout)
	}
	// Petal length and width decide the species of this virginica row.
	mask := filepath.Join(dir, "mask.csv")
	os.WriteFile(mask, []byte("0,0,1,1\n"), 0o644)
	code, stdout, stderr = run(t, "explain", "--model", mdl, "--input", rows, "--method", "ig", "--data", "iris", "--mask", mask, "--out", filepath.Join(dir, "mask"))
	if code != 0 || !strings.Contains(stdout, "check pointing_game") || !strings.Contains(stdout, "check relevance_mass") {
		t.Errorf("--mask: exit %d, %s%s", code, stdout, stderr)
	}
	// A counterfactual is no attribution: its text names the checks left
	// out and why, and judges whether it flips the decision.
	code, stdout, stderr = run(t, "explain", "--model", mdl, "--input", rows, "--method", "counterfactual", "--data", "iris", "--out", filepath.Join(dir, "whatif"))
	if code != 0 || !strings.Contains(stdout, "not checked: faithfulness correlation") || !strings.Contains(stdout, "check flipped") {
		t.Errorf("counterfactual: exit %d, %s%s", code, stdout, stderr)
	}
	if code, _, stderr = run(t, "explain", "--model", mdl, "--input", rows, "--checks", "most", "--out", dir); code == 0 || !strings.Contains(stderr, "checks") {
		t.Errorf("--checks most: exit %d, %s", code, stderr)
	}
}
