package cli

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// trainedIris trains a small iris model for the explanation tests.
func trainedIris(t *testing.T, dir string) string {
	t.Helper()
	out := filepath.Join(dir, "iris.gbx")
	if code, _, stderr := run(t, "train", "--data", "iris", "--model", "linear", "--epochs", "40", "--batch", "16", "--lr", "0.05", "--out", out, "--quiet"); code != 0 {
		t.Fatalf("train: %s", stderr)
	}
	return out
}

func TestExplainTableMethods(t *testing.T) {
	dir := t.TempDir()
	mdl := trainedIris(t, dir)
	rows := filepath.Join(dir, "rows.csv")
	os.WriteFile(rows, []byte("6.7,3.0,5.2,2.3\n"), 0o644)
	for _, method := range []string{"lime", "kernelshap", "saliency", "ig", "smoothgrad"} {
		out := filepath.Join(dir, method)
		code, stdout, stderr := run(t, "explain", "--model", mdl, "--input", rows, "--method", method, "--data", "iris", "--out", out, "--json", "--samples", "500")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", method, code, stderr)
		}
		var r explainRecord
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatalf("%s printed %q", method, stdout)
		}
		if r.LabelName != "virginica" || r.Features != 4 || len(r.Top) == 0 || len(r.Files) != 2 {
			t.Fatalf("%s result %+v", method, r)
		}
		// Petal measurements decide iris species; a sound explanation
		// puts one of them first.
		if top := r.Top[0].Name; !strings.Contains(top, "petal") && !strings.Contains(top, "x2") && !strings.Contains(top, "x3") {
			t.Errorf("%s: top feature %q is not a petal measurement", method, top)
		}
		if method == "lime" && (r.Quality["r2"] <= 0 || r.Quality["r2"] > 1) {
			t.Errorf("lime R² %v", r.Quality["r2"])
		}
		if method == "kernelshap" && r.Quality["sum_error"] > 1e-6 {
			t.Errorf("kernel SHAP values do not add up: %v", r.Quality["sum_error"])
		}
		if _, err := os.Stat(filepath.Join(out, method+".png")); err != nil {
			t.Error(err)
		}
	}
	// Image-only methods on a table, and LIME on a model that records no
	// training data, are clear errors.
	if code, _, stderr := run(t, "explain", "--model", mdl, "--input", rows, "--method", "gradcam", "--out", dir); code != 1 || !strings.Contains(stderr, "explains image inputs") {
		t.Errorf("gradcam on a table: %d %q", code, stderr)
	}
	bare := filepath.Join(dir, "bare.gbx")
	if err := model.Save(bare, nn.NewLinear(4, 3, tensor.NewRNG(1)), model.Meta{InputShape: []int{4}}); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run(t, "explain", "--model", bare, "--input", rows, "--method", "lime", "--out", dir); code != 1 || !strings.Contains(stderr, "--data") {
		t.Errorf("lime without --data: %d %q", code, stderr)
	}
	if code, _, stderr := run(t, "explain", "--model", mdl, "--input", rows, "--method", "kernelshpa", "--out", dir); code != 2 || !strings.Contains(stderr, `did you mean "kernelshap"`) {
		t.Errorf("bad method: %d %q", code, stderr)
	}
	if code, _, stderr := run(t, "explain", "--model", mdl, "--input", rows, "--label", "-5", "--out", dir); code != 2 || !strings.Contains(stderr, "--label -5") {
		t.Errorf("bad label: %d %q", code, stderr)
	}
}

func TestExplainImageSameSeedSameResult(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := run(t, "demo", "--out", dir, "--epochs", "1", "--quiet")
	if code != 0 {
		t.Fatalf("demo: %s", stderr)
	}
	for _, d := range []string{"digit-0", "digit-3"} {
		if _, err := os.Stat(filepath.Join(dir, d, "lime", "lime.png")); err != nil {
			t.Fatal(err)
		}
	}
	// The report shows every method of the registry that explains images
	// (LeNet has convolutions, so Grad-CAM too), the test's own
	// registration included.
	page, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, mi := range explain.Methods() {
		// (Methods that need examples besides the input — TCAV's concept —
		// are for the explain command, not the demo.)
		if slices.Contains(mi.Inputs, explain.Image) && mi.Needs&explain.NeedsExamples == 0 && !strings.Contains(string(page), mi.Title+":") {
			t.Errorf("the report has no %s explanation", mi.Title)
		}
	}
	// An image input through the CLI: the first picture the demo drew is
	// not a digit, so write a digit from the embedded test set instead.
	f, _ := os.Open(filepath.Join(dir, "digit-0", "lime", "lime.png"))
	if _, err := png.Decode(f); err != nil {
		t.Fatalf("demo picture is not a PNG: %v", err)
	}
	f.Close()
	digit := filepath.Join(dir, "seven.png")
	writeTestDigit(t, digit)
	var first string
	for i := 0; i < 2; i++ {
		out := filepath.Join(dir, "lime", string(rune('a'+i)))
		code, stdout, stderr := run(t, "explain", "--model", filepath.Join(dir, "lenet.gbx"), "--input", digit, "--method", "lime", "--seed", "7", "--samples", "300", "--out", out, "--json")
		if code != 0 {
			t.Fatalf("explain: %s", stderr)
		}
		var r explainRecord
		json.Unmarshal([]byte(stdout), &r)
		if r.Features < 10 || r.Features > 60 {
			t.Fatalf("%d superpixels on a 28×28 digit, want 10–60", r.Features)
		}
		// Everything but the timings must be identical.
		r.Seconds, r.Files = 0, nil
		b, _ := json.Marshal(r)
		details := string(b)
		if i == 0 {
			first = details
		} else if details != first {
			t.Fatal("the same seed gave a different explanation")
		}
	}
}

// TestExplainRowID: --id explains with the seed a batch run derives for
// that row (explain.RowSeed of --seed and the id), so the record is the
// batch run's.
func TestExplainRowID(t *testing.T) {
	dir := t.TempDir()
	mdl := trainedIris(t, dir)
	rows := filepath.Join(dir, "rows.csv")
	os.WriteFile(rows, []byte("5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n"), 0o644)
	explainSeed := func(args ...string) uint64 {
		t.Helper()
		args = append([]string{"explain", "--model", mdl, "--input", rows, "--row", "1", "--data", "iris", "--out", dir, "--json", "--samples", "200"}, args...)
		code, stdout, stderr := run(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		var r explainRecord
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatalf("printed %q", stdout)
		}
		return r.Seed
	}
	if got, want := explainSeed("--seed", "7", "--id", "rows.csv:1"), explain.RowSeed(7, "rows.csv:1"); got != want {
		t.Errorf("--id rows.csv:1 --seed 7 explained with seed %d, want RowSeed %d", got, want)
	}
	if got := explainSeed("--seed", "7"); got != 7 {
		t.Errorf("without --id the seed is %d, want 7", got)
	}
}
