package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/internal/plantedtext"
	"github.com/glassbox-ml/glassbox/predictor"
	"github.com/glassbox-ml/glassbox/serve"
)

// plantedCSV writes the planted-word sentences (package plantedtext) and
// returns the file's path.
func plantedCSV(t *testing.T, dir string) string {
	t.Helper()
	_, path, err := plantedtext.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// A text classifier trained through the CLI on sentences with a planted
// word predicts from text and explains through the CLI and the server,
// and the planted word carries the largest weight.
func TestTextTrainPredictExplain(t *testing.T) {
	dir := t.TempDir()
	csv := plantedCSV(t, dir)
	mdl := filepath.Join(dir, "text.gbx")
	code, stdout, stderr := run(t, "train", "--data", "csv:"+csv+"?text=review&target=label", "--model", "gru", "--hidden", "16",
		"--epochs", "30", "--batch", "8", "--lr", "0.01", "--out", mdl, "--json")
	if code != 0 {
		t.Fatalf("train exit %d: %s", code, stderr)
	}
	var tr trainResult
	if err := json.Unmarshal([]byte(stdout), &tr); err != nil || tr.Test["accuracy"] < 0.9 {
		t.Fatalf("train --json printed %q (%v); want test accuracy ≥ 0.9", stdout, err)
	}
	// --json: progress is JSON lines too, one per epoch.
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != 30 {
		t.Fatalf("train --json wrote %d progress lines, want 30: %q", len(lines), stderr)
	}
	for _, l := range lines {
		var e struct{ Epoch int }
		if err := json.Unmarshal([]byte(l), &e); err != nil || e.Epoch == 0 {
			t.Fatalf("progress line %q is not an epoch's JSON (%v)", l, err)
		}
	}

	p, err := predictor.Load(mdl)
	if err != nil {
		t.Fatal(err)
	}
	if p.Prep.Vocab == nil || p.Prep.SeqLen != 5 || p.Prep.Vocab.ID("zorp") < 2 || p.Classes[1] != "pos" {
		t.Fatalf("the saved model lost its text encoding: seq len %d, classes %v", p.Prep.SeqLen, p.Classes)
	}
	if code, _, stderr := run(t, "eval", "--model", mdl); code != 0 {
		t.Fatalf("eval exit %d: %s", code, stderr)
	}
	// The report reads the model's own data back and explains its test
	// documents as words.
	page := filepath.Join(dir, "report.html")
	code, stdout, stderr = run(t, "report", "--model", mdl, "--out", page, "--examples", "1", "--json")
	var rep reportResult
	if code != 0 || json.Unmarshal([]byte(stdout), &rep) != nil {
		t.Fatalf("report exit %d: %q %s", code, stdout, stderr)
	}
	omitted := map[string]string{}
	for _, s := range rep.Sections {
		omitted[s.ID] = s.Omitted
	}
	if omitted["examples"] != "" || omitted["confusion"] != "" || !strings.Contains(omitted["first-layer"], "text model") {
		t.Errorf("report sections of a text model: %+v", rep.Sections)
	}
	if html, err := os.ReadFile(page); err != nil || !strings.Contains(string(html), `<p class="words">`) {
		t.Errorf("the report explains no document as words (%v)", err)
	}

	code, stdout, stderr = run(t, "predict", "--model", mdl, "--text", "the old zorp was long", "--json")
	var pred predictor.Prediction
	if code != 0 || json.Unmarshal([]byte(stdout), &pred) != nil || pred.Label != "pos" {
		t.Fatalf("predict --text: exit %d, %q %s; want pos", code, stdout, stderr)
	}
	lines2 := filepath.Join(dir, "docs.txt")
	os.WriteFile(lines2, []byte("a film was very short\n\nthe zorp story is new\n"), 0o644)
	code, stdout, stderr = run(t, "predict", "--model", mdl, "--input", lines2)
	if code != 0 || !strings.Contains(stdout, "0: class 0 (neg)") || !strings.Contains(stdout, "1: class 1 (pos)") {
		t.Fatalf("predict --input lines: exit %d, %q %s", code, stdout, stderr)
	}

	doc := "the movie zorp was quite long"
	code, stdout, stderr = run(t, "explain", "--model", mdl, "--text", doc, "--samples", "400", "--json")
	var rec struct {
		LabelName string `json:"label_name"`
		Words     []struct {
			Text   string
			Weight float64
		}
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &rec) != nil {
		t.Fatalf("explain --text: exit %d, %q %s", code, stdout, stderr)
	}
	checkWords(t, "CLI", doc, rec.LabelName, rec.Words)
	code, stdout, _ = run(t, "explain", "--model", mdl, "--text", doc, "--samples", "400")
	if code != 0 || !strings.Contains(stdout, "words (weight for pos):") || !strings.Contains(stdout, "zorp(+") {
		t.Fatalf("explain --text prints %q", stdout)
	}

	s, err := serve.New(p, serve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	post := func(path, body string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		s.Handler().ServeHTTP(rec, req)
		return rec
	}
	hz := httptest.NewRecorder()
	s.Handler().ServeHTTP(hz, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	var health serve.Health
	if json.Unmarshal(hz.Body.Bytes(), &health) != nil || health.Kind != "text" || !strings.Contains(strings.Join(health.Methods, ","), "lime") {
		t.Fatalf("/healthz of a text model: %s", hz.Body)
	}
	if r := post("/v1/predict", `{"text": "a zorp film"}`); r.Code != http.StatusOK || !strings.Contains(r.Body.String(), `"label":"pos"`) {
		t.Fatalf("/v1/predict text: %d %s", r.Code, r.Body)
	}
	r := post("/v1/explain", `{"text": "`+doc+`", "samples": 400}`)
	var ex serve.ExplainResponse
	if r.Code != http.StatusOK || json.Unmarshal(r.Body.Bytes(), &ex) != nil {
		t.Fatalf("/v1/explain text: %d %s", r.Code, r.Body)
	}
	var words []struct {
		Text   string
		Weight float64
	}
	for _, w := range ex.Words {
		words = append(words, struct {
			Text   string
			Weight float64
		}{w.Text, w.Weight})
	}
	checkWords(t, "server", doc, ex.Explanation.LabelName, words)
	if r := post("/v1/explain", `{"rows": [[1,2,3,4,5]]}`); r.Code != http.StatusBadRequest || !strings.Contains(r.Body.String(), `takes \"text\"`) {
		t.Fatalf("/v1/explain of token rows on a text model: %d %s, want 400 asking for text", r.Code, r.Body)
	}
}

// checkWords: the words come in input order, one per word of doc, and the
// planted word has the largest weight, for the class it plants.
func checkWords(t *testing.T, where, doc, label string, words []struct {
	Text   string
	Weight float64
}) {
	t.Helper()
	want := strings.Fields(doc)
	if len(words) != len(want) || label != "pos" {
		t.Fatalf("%s: words %v explaining %q, want the %d words of %q explaining pos", where, words, label, len(want), doc)
	}
	best := 0
	for i, w := range words {
		if w.Text != want[i] {
			t.Fatalf("%s: word %d is %q, want %q (input order)", where, i, w.Text, want[i])
		}
		if w.Weight > words[best].Weight {
			best = i
		}
	}
	if words[best].Text != "zorp" || words[best].Weight <= 0 {
		t.Fatalf("%s: the largest weight is on %q, want the planted word zorp: %v", where, words[best].Text, words)
	}
}

// Text data and models that do not fit are refused with the fix.
func TestTextMisfits(t *testing.T) {
	dir := t.TempDir()
	csv := plantedCSV(t, dir)
	out := filepath.Join(dir, "m.gbx")
	for _, c := range []struct {
		model, want string
	}{
		{"gru-lm", "character language model"},
		{"mlp", "does not read token sequences"},
	} {
		code, _, stderr := run(t, "train", "--data", "csv:"+csv+"?text=review&target=label", "--model", c.model, "--epochs", "1", "--out", out)
		if code != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("train --model %s on text: exit %d, %q; want %q", c.model, code, stderr, c.want)
		}
	}
	code, _, stderr := run(t, "train", "--data", "iris", "--model", "gru", "--epochs", "1", "--out", out)
	if code != 1 || !strings.Contains(stderr, "reads token sequences") {
		t.Errorf("train --model gru on a table: exit %d, %q", code, stderr)
	}
}
