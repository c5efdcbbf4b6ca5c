package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/predictor"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = Run(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

func TestTrainEvalPredictTable(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "iris.gbx")
	code, stdout, stderr := run(t, "train", "--data", "iris", "--model", "linear", "--epochs", "60", "--batch", "16", "--lr", "0.05", "--out", out, "--json")
	if code != 0 {
		t.Fatalf("train exit %d: %s", code, stderr)
	}
	var tr trainResult
	if err := json.Unmarshal([]byte(stdout), &tr); err != nil {
		t.Fatalf("train --json printed %q: %v", stdout, err)
	}
	if tr.Test["accuracy"] < 0.9 || tr.Test["n"] != 30 {
		t.Fatalf("iris test figures %v, want accuracy ≥ 0.9 on 30 rows", tr.Test)
	}
	code, stdout, stderr = run(t, "eval", "--model", out, "--data", "iris", "--json")
	if code != 0 {
		t.Fatalf("eval exit %d: %s", code, stderr)
	}
	var ev map[string]float64
	json.Unmarshal([]byte(stdout), &ev)
	if ev["accuracy"] != tr.Test["accuracy"] || ev["n"] != 30 {
		t.Fatalf("eval %v disagrees with train's test figures %v", ev, tr.Test)
	}
	// A setosa flower (raw, unstandardised features: predict standardises).
	rows := filepath.Join(dir, "rows.csv")
	os.WriteFile(rows, []byte("5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n"), 0o644)
	code, stdout, stderr = run(t, "predict", "--model", out, "--input", rows, "--json")
	if code != 0 {
		t.Fatalf("predict exit %d: %s", code, stderr)
	}
	var pr struct{ Predictions []predictor.Prediction }
	if err := json.Unmarshal([]byte(stdout), &pr); err != nil || len(pr.Predictions) != 2 {
		t.Fatalf("predict printed %q", stdout)
	}
	if pr.Predictions[0].Label != "setosa" || pr.Predictions[1].Label != "virginica" {
		t.Fatalf("predicted %q and %q", pr.Predictions[0].Label, pr.Predictions[1].Label)
	}
	var sum float32
	for _, p := range pr.Predictions[0].Probabilities {
		sum += p
	}
	if sum < 0.999 || sum > 1.001 {
		t.Fatalf("probabilities sum to %v", sum)
	}
	// Wrong feature count is a clear error, exit 1.
	os.WriteFile(rows, []byte("1,2,3\n"), 0o644)
	code, _, stderr = run(t, "predict", "--model", out, "--input", rows)
	if code != 1 || !strings.Contains(stderr, "3 features, the model takes 4") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func TestRegressionEval(t *testing.T) {
	out := filepath.Join(t.TempDir(), "d.gbx")
	code, _, stderr := run(t, "train", "--data", "diabetes", "--model", "linear", "--epochs", "60", "--batch", "32", "--lr", "0.01", "--out", out, "--quiet")
	if code != 0 {
		t.Fatalf("train exit %d: %s", code, stderr)
	}
	code, stdout, stderr := run(t, "eval", "--model", out, "--data", "diabetes", "--json")
	if code != 0 {
		t.Fatalf("eval exit %d: %s", code, stderr)
	}
	var ev map[string]float64
	json.Unmarshal([]byte(stdout), &ev)
	if ev["r2"] < 0.3 || ev["mse"] <= 0 {
		t.Fatalf("diabetes linear regression figures %v", ev)
	}
}

func TestUsageAndErrors(t *testing.T) {
	if code, _, stderr := run(t, "frobnicate"); code != 2 || !strings.Contains(stderr, "unknown command") {
		t.Fatalf("unknown command: %d %q", code, stderr)
	}
	if code, _, stderr := run(t, "train", "--data", "iris"); code != 2 || !strings.Contains(stderr, "required") {
		t.Fatalf("missing flags: %d %q", code, stderr)
	}
	if code, _, stderr := run(t, "train", "--bogus"); code != 2 || !strings.Contains(stderr, "bogus") {
		t.Fatalf("bad flag: %d %q", code, stderr)
	}
	if code, _, stderr := run(t, "eval", "--model", "/nonexistent.gbx", "--data", "iris"); code != 1 || !strings.Contains(stderr, "no such file") {
		t.Fatalf("missing model: %d %q", code, stderr)
	}
	dir := t.TempDir()
	if code, _, stderr := run(t, "train", "--data", "nosuchset", "--model", "mlp", "--out", filepath.Join(dir, "x.gbx")); code != 2 || !strings.Contains(stderr, `--data "nosuchset": want one of`) {
		t.Fatalf("unknown data: %d %q", code, stderr)
	}
	if code, _, stderr := run(t, "train", "--data", "iris", "--model", "lenet", "--out", filepath.Join(dir, "x.gbx")); code != 1 || !strings.Contains(stderr, "image input") {
		t.Fatalf("lenet on a table: %d %q", code, stderr)
	}
}

func TestDemoShort(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := run(t, "demo", "--out", dir, "--epochs", "1", "--json")
	if code != 0 {
		t.Fatalf("demo exit %d: %s", code, stderr)
	}
	var res demoResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("demo --json printed %q: %v", stdout, err)
	}
	if len(res.Models) != 4 || res.Models[3].Name != "lenet" || res.Models[3].Accuracy < 0.9 || res.Models[1].Inputs != "HOG features (324)" {
		t.Fatalf("demo models %+v", res.Models)
	}
	if _, err := os.Stat(filepath.Join(dir, "lenet.gbx")); err != nil {
		t.Fatal(err)
	}
}

// The same seed must give the same model file, byte for byte.
func TestTrainIsReproducible(t *testing.T) {
	dir := t.TempDir()
	var files [2][]byte
	for i := range files {
		out := filepath.Join(dir, fmt.Sprintf("m%d.gbx", i))
		if code, _, stderr := run(t, "train", "--data", "wine", "--model", "mlp", "--epochs", "3", "--seed", "5", "--out", out, "--quiet"); code != 0 {
			t.Fatalf("train: %s", stderr)
		}
		files[i], _ = os.ReadFile(out)
	}
	if !bytes.Equal(files[0], files[1]) || len(files[0]) == 0 {
		t.Fatal("two runs with the same seed wrote different model files")
	}
}
