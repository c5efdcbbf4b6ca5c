package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Anchors and counterfactuals are not weights per feature: the text
// output says the rule, or the change and the new decision, in one line,
// then the conditions or the changed features.
func TestExplainPrintsRulesAndCounterfactuals(t *testing.T) {
	dir := t.TempDir()
	mdl := trainedIris(t, dir)
	rows := filepath.Join(dir, "rows.csv")
	os.WriteFile(rows, []byte("6.7,3.0,5.2,2.3\n"), 0o644)
	for method, want := range map[string][]string{
		"anchors":        {"IF ", " THEN virginica (precision ", "coverage", "precision"},
		"counterfactual": {"IF ", " → ", "THEN ", "changed_features", "flipped                1"},
	} {
		code, stdout, stderr := run(t, "explain", "--model", mdl, "--input", rows, "--method", method, "--out", filepath.Join(dir, method))
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", method, code, stderr)
		}
		for _, w := range want {
			if !strings.Contains(stdout, w) {
				t.Errorf("%s printed no %q:\n%s", method, w, stdout)
			}
		}
		if method == "counterfactual" && strings.Contains(stdout, "THEN virginica") {
			t.Errorf("the counterfactual keeps the decision:\n%s", stdout)
		}
	}
}
