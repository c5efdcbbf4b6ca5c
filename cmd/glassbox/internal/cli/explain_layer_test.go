package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The layer, neuron and concept methods from the command line: --layer by
// the names inspect shows, --neuron, --concept rows for TCAV (random
// counter-examples from the model's training rows), and a "did you mean"
// for a misspelt layer.
func TestExplainLayerMethods(t *testing.T) {
	dir := t.TempDir()
	mdl := filepath.Join(dir, "iris.gbx")
	if code, _, stderr := run(t, "train", "--data", "iris", "--model", "mlp", "--hidden", "8", "--epochs", "30", "--batch", "16", "--lr", "0.02", "--out", mdl, "--quiet"); code != 0 {
		t.Fatalf("train: %s", stderr)
	}
	rows := filepath.Join(dir, "rows.csv")
	os.WriteFile(rows, []byte("6.7,3.0,5.2,2.3\n"), 0o644)
	// Long, wide petals: what virginica looks like.
	concept := filepath.Join(dir, "big-petals.csv")
	os.WriteFile(concept, []byte("6.9,3.1,5.9,2.3\n7.2,3.0,6.1,2.1\n6.5,3.2,5.6,2.4\n7.7,2.8,6.7,2.0\n6.3,3.3,6.0,2.5\n7.1,3.0,5.9,2.1\n6.4,2.8,5.6,2.2\n7.4,2.8,6.1,1.9\n"), 0o644)
	for _, c := range []struct {
		method string
		args   []string
	}{
		{"layerconductance", []string{"--layer", "relu2"}},
		{"layerig", nil},
		{"neuronig", []string{"--layer", "relu2", "--neuron", "2"}},
		{"neuronconductance", []string{"--layer", "linear1"}},
		{"tcav", []string{"--layer", "relu4", "--concept", concept, "--samples", "10"}},
	} {
		args := append([]string{"explain", "--model", mdl, "--input", rows, "--method", c.method, "--out", filepath.Join(dir, c.method), "--json"}, c.args...)
		code, stdout, stderr := run(t, args...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", c.method, code, stderr)
		}
		var r explainRecord
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatalf("%s printed %q", c.method, stdout)
		}
		if r.Layer == "" || len(r.Top) == 0 {
			t.Fatalf("%s: layer %q, top %+v", c.method, r.Layer, r.Top)
		}
		switch c.method {
		case "neuronig":
			if r.Unit == nil || *r.Unit != 2 || r.Quality["completeness_residual"] > 1e-3 {
				t.Fatalf("neuronig: unit %v, quality %v", r.Unit, r.Quality)
			}
		case "tcav":
			if r.Top[0].Name != "big-petals" || r.Quality["p_value"] <= 0 || r.Quality["cav_accuracy"] < 0.5 {
				t.Fatalf("tcav: top %+v, quality %v", r.Top, r.Quality)
			}
		}
	}
	if code, _, stderr := run(t, "explain", "--model", mdl, "--input", rows, "--method", "layerig", "--layer", "rleu2", "--out", dir); code != 1 || !strings.Contains(stderr, `did you mean "relu2"`) {
		t.Errorf("misspelt layer: %d %q", code, stderr)
	}
	if code, _, stderr := run(t, "explain", "--model", mdl, "--input", rows, "--method", "tcav", "--out", dir); code != 1 || !strings.Contains(stderr, "--concept") {
		t.Errorf("tcav without a concept: %d %q", code, stderr)
	}
}
