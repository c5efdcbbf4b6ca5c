package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// glassbox report on a table model writes the page and says which image
// sections are left out and why.
func TestReportTableModel(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "iris.gbx")
	if code, _, stderr := run(t, "train", "--data", "iris", "--model", "mlp", "--epochs", "3", "--out", model, "--quiet"); code != 0 {
		t.Fatalf("train: %s", stderr)
	}
	out := filepath.Join(dir, "r.html")
	code, stdout, stderr := run(t, "report", "--model", model, "--out", out, "--json")
	if code != 0 {
		t.Fatalf("report exit %d: %s", code, stderr)
	}
	var res reportResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	omitted := map[string]string{}
	for _, s := range res.Sections {
		omitted[s.ID] = s.Omitted
	}
	if !strings.Contains(omitted["first-layer"], "not images") || omitted["confusion"] != "" || omitted["curves"] != "" {
		t.Errorf("sections %+v", res.Sections)
	}
	page, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(page), "Confusion matrix") {
		t.Fatalf("page not written: %v", err)
	}
	if code, _, _ := run(t, "report", "--out", out); code != 2 {
		t.Errorf("report without --model: exit %d, want 2", code)
	}
}
