package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/data"
	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/predictor"
	"github.com/glassbox-ml/glassbox/serve"
	"github.com/glassbox-ml/glassbox/tensor"
)

// uniformMethod is a method added by one registration, to show that every
// front end picks a new method up from the registry: it gives every
// feature the same weight.
type uniformMethod struct{}

func (uniformMethod) Info() explain.MethodInfo {
	return explain.MethodInfo{Name: "uniform", Title: "Uniform (test)", Summary: "every feature the same weight",
		Inputs: []explain.InputKind{explain.Table, explain.Image}}
}

func (uniformMethod) Explain(ctx context.Context, s *explain.Subject, x []float32, opt explain.Options, res *explain.Result) error {
	res.Features = len(x)
	if s.Kind == explain.Image {
		res.Attribution = make([]float32, s.Shape[1]*s.Shape[2])
		for i := range res.Attribution {
			res.Attribution[i] = 1
		}
		return nil
	}
	for i := range x {
		res.Top = append(res.Top, explain.FeatureWeight{Feature: i, Name: fmt.Sprintf("x%d", i), Weight: 1})
	}
	return nil
}

func init() { explain.Register(uniformMethod{}) }

// serveJSON posts body to a server for p and decodes the answer into v.
func serveJSON(t *testing.T, p *predictor.Predictor, path, body string, v any) {
	t.Helper()
	s, err := serve.New(p, serve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("%s: status %d: %s", path, rec.Code, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
		t.Fatal(err)
	}
}

// A regression model saved with target scaling and one saved without,
// computing the same function, predict and explain the same value through
// the library, the CLI and the server.
func TestRegressionValueSameOnEveryFrontEnd(t *testing.T) {
	dir := t.TempDir()
	w := []float32{2, -1, 0.5}
	scaled := nn.NewLinear(3, 1, tensor.NewRNG(1))
	copy(scaled.Weight.Value.Data(), w)
	scaled.Bias.Value.Data()[0] = 1
	plain := nn.NewLinear(3, 1, tensor.NewRNG(1))
	for i, v := range w {
		plain.Weight.Value.Data()[i] = 10 * v
	}
	plain.Bias.Value.Data()[0] = 110
	files := map[string]model.Meta{
		"scaled.gbx": {Task: "regression", InputShape: []int{3}, TargetMean: 100, TargetStd: 10},
		"plain.gbx":  {Task: "regression", InputShape: []int{3}},
	}
	if err := model.Save(filepath.Join(dir, "scaled.gbx"), scaled, files["scaled.gbx"]); err != nil {
		t.Fatal(err)
	}
	if err := model.Save(filepath.Join(dir, "plain.gbx"), plain, files["plain.gbx"]); err != nil {
		t.Fatal(err)
	}
	rows := filepath.Join(dir, "row.csv")
	os.WriteFile(rows, []byte("1,2,3\n"), 0o644)
	const want = 125.0 // 100 + 10·(2 − 2 + 1.5 + 1)
	near := func(what string, v float64) {
		t.Helper()
		if math.Abs(v-want) > 1e-3 {
			t.Errorf("%s: %v, want %v", what, v, want)
		}
	}
	for name := range files {
		path := filepath.Join(dir, name)
		p, err := predictor.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		preds, err := p.Predict(context.Background(), tensor.MustFromSlice([]float32{1, 2, 3}, 1, 3))
		if err != nil {
			t.Fatal(err)
		}
		near(name+" library predict", float64(*preds[0].Value))
		res, err := p.Explain(context.Background(), "ig", []float32{1, 2, 3}, explain.Options{})
		if err != nil {
			t.Fatal(err)
		}
		near(name+" library explain", res.Value)

		code, stdout, stderr := run(t, "predict", "--model", path, "--input", rows, "--json")
		var pr predictor.Prediction
		if code != 0 || json.Unmarshal([]byte(stdout), &pr) != nil || pr.Value == nil {
			t.Fatalf("%s predict: %d %q %q", name, code, stdout, stderr)
		}
		near(name+" CLI predict", float64(*pr.Value))
		for _, method := range []string{"ig", "saliency", "smoothgrad"} {
			code, stdout, stderr = run(t, "explain", "--model", path, "--input", rows, "--method", method, "--out", filepath.Join(dir, name+method), "--json")
			var rec explainRecord
			if code != 0 || json.Unmarshal([]byte(stdout), &rec) != nil || rec.Result == nil {
				t.Fatalf("%s explain %s: %d %q %q", name, method, code, stdout, stderr)
			}
			near(name+" CLI explain "+method, rec.Value)
		}

		var sp serve.PredictResponse
		serveJSON(t, p, "/v1/predict", `{"rows": [[1, 2, 3]]}`, &sp)
		near(name+" server predict", float64(*sp.Predictions[0].Value))
		var se serve.ExplainResponse
		serveJSON(t, p, "/v1/explain", `{"rows": [[1, 2, 3]], "method": "ig", "picture": false}`, &se)
		near(name+" server explain", se.Explanation.Value)
		near(name+" server explain's prediction", float64(*se.Prediction.Value))
	}
}

// A table model trained with --seed 5 explains with the statistics of its
// own training split: the one the same seed gives, not seed 1's (which
// holds some of its test rows).
func TestExplainSamplesFromTheModelsOwnSplit(t *testing.T) {
	dir := t.TempDir()
	mdl := filepath.Join(dir, "iris5.gbx")
	if code, _, stderr := run(t, "train", "--data", "iris", "--model", "linear", "--epochs", "30", "--batch", "16", "--lr", "0.05", "--seed", "5", "--out", mdl, "--quiet"); code != 0 {
		t.Fatalf("train: %s", stderr)
	}
	p, err := predictor.Load(mdl)
	if err != nil {
		t.Fatal(err)
	}
	if p.Recipe == nil || p.Recipe.Seed != 5 || p.Recipe.Data != "iris" {
		t.Fatalf("recipe %+v", p.Recipe)
	}
	ctx := context.Background()
	own, err := predictor.LoadData(ctx, predictor.Recipe{Data: "iris", Seed: 5, TestFraction: p.Recipe.TestFraction, ValFraction: p.Recipe.ValFraction})
	if err != nil {
		t.Fatal(err)
	}
	other, err := predictor.LoadData(ctx, predictor.Recipe{Data: "iris", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.LoadBackground(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Background, predictor.Rows(own.Train)) {
		t.Fatal("the background is not the training split of seed 5")
	}
	if slices.Equal(p.Background, predictor.Rows(other.Train)) {
		t.Fatal("seed 1 and seed 5 give the same split; the test proves nothing")
	}
	// The CLI, without --data, explains exactly as the library does with
	// that background, and differently from seed 1's background.
	rows := filepath.Join(dir, "row.csv")
	os.WriteFile(rows, []byte("5.9,3.0,4.2,1.5\n"), 0o644)
	code, stdout, stderr := run(t, "explain", "--model", mdl, "--input", rows, "--method", "lime", "--samples", "2000", "--out", filepath.Join(dir, "why"), "--json")
	var rec explainRecord
	if code != 0 || json.Unmarshal([]byte(stdout), &rec) != nil || rec.Result == nil {
		t.Fatalf("explain: %d %q %q", code, stdout, stderr)
	}
	x := []float32{5.9, 3.0, 4.2, 1.5}
	lib, err := p.Explain(ctx, "lime", x, explain.Options{Seed: 1, Samples: 2000})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rec.Top, lib.Top) {
		t.Fatalf("CLI top %v, library with the own split %v", rec.Top, lib.Top)
	}
	p.Background = predictor.Rows(other.Train)
	wrong, err := p.Explain(ctx, "lime", x, explain.Options{Seed: 1, Samples: 2000})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(wrong.Top, lib.Top) {
		t.Fatal("seed 1's split gives the same explanation; the test proves nothing")
	}
}

// Early stopping reads the validation split, never the test split. The
// data are built so that the two disagree: test rows carry the opposite
// label of the rule the other rows follow, so the test loss rises from the
// first epoch while the validation loss falls. Stopping on the test loss
// would end training after patience+1 epochs.
func TestPatienceNeverReadsTheTestSplit(t *testing.T) {
	const n, seed = 400, 3
	dir := t.TempDir()
	// Which rows become test rows depends only on n, the fraction and the
	// seed's split stream.
	probe, err := data.FromSlices(make([]float32, n), []int{1}, make([]float32, n))
	if err != nil {
		t.Fatal(err)
	}
	_, test, err := data.Split(probe, predictor.DefaultTestFraction, predictor.SeedsOf(seed).Split)
	if err != nil {
		t.Fatal(err)
	}
	isTest := map[int]bool{}
	for _, i := range test.Indices {
		isTest[i] = true
	}
	rng := tensor.NewRNG(9)
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.Write([]string{"a", "b", "label"})
	for i := range n {
		a, b := rng.NormFloat64(), rng.NormFloat64()
		label := a+0.5*b > 0
		if isTest[i] {
			label = !label
		}
		cw.Write([]string{fmt.Sprint(a), fmt.Sprint(b), map[bool]string{true: "yes", false: "no"}[label]})
	}
	cw.Flush()
	path := filepath.Join(dir, "flip.csv")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "flip.gbx")
	code, stdout, stderr := run(t, "train", "--data", "csv:"+path+"?target=label", "--model", "linear", "--epochs", "25", "--lr", "0.01",
		"--batch", "16", "--patience", "2", "--seed", fmt.Sprint(seed), "--out", out, "--json")
	if code != 0 {
		t.Fatalf("train: %d %s", code, stderr)
	}
	var tr trainResult
	if err := json.Unmarshal([]byte(stdout), &tr); err != nil {
		t.Fatal(err)
	}
	if len(tr.Epochs) <= 5 {
		t.Fatalf("training stopped after %d epochs (%s): it watched a loss that rises, the test loss", len(tr.Epochs), tr.Stopped)
	}
	last := tr.Epochs[len(tr.Epochs)-1]
	if last.Val["accuracy"] < 0.9 || tr.Test["accuracy"] > 0.1 {
		t.Fatalf("validation accuracy %.3f (want ≥ 0.9: it follows the rule), test %.3f (want ≤ 0.1: flipped)", last.Val["accuracy"], tr.Test["accuracy"])
	}
}

// Every front end lists the methods of the registry, the test's
// registration included: the CLI's help, the server's /healthz and its
// page; and runs them.
func TestEveryFrontEndReadsTheRegistry(t *testing.T) {
	code, help, _ := run(t, "explain", "-h")
	if code != 0 {
		t.Fatalf("explain -h exit %d", code)
	}
	for _, name := range explain.MethodNames() {
		if !strings.Contains(help, "    "+name+" ") {
			t.Errorf("explain -h does not list %s:\n%s", name, help)
		}
	}
	if !slices.Contains(explain.MethodNames(), "uniform") {
		t.Fatal("the test's method is not registered")
	}
	dir := t.TempDir()
	mdl := trainedIris(t, dir)
	p, err := predictor.Load(mdl)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.LoadBackground(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, mi := range explain.Applicable(p.Subject()) {
		if mi.Needs&explain.NeedsExamples == 0 { // TCAV's concept cannot be sent
			want = append(want, mi.Name)
		}
	}
	s, err := serve.New(p, serve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	var h serve.Health
	json.Unmarshal(rec.Body.Bytes(), &h)
	if !slices.Equal(h.Methods, want) || !slices.Contains(h.Methods, "uniform") {
		t.Fatalf("server methods %v, registry's applicable %v", h.Methods, want)
	}
	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	page, _ := io.ReadAll(rec.Body)
	for _, name := range want {
		if !bytes.Contains(page, []byte(`"`+name+`"`)) {
			t.Errorf("the page does not offer %s", name)
		}
	}
	var se serve.ExplainResponse
	serveJSON(t, p, "/v1/explain", `{"rows": [[6.7, 3.0, 5.2, 2.3]], "method": "uniform", "picture": false}`, &se)
	if se.Explanation.Method != "uniform" || len(se.Explanation.Top) != 4 {
		t.Fatalf("server ran %+v", se.Explanation)
	}
	rows := filepath.Join(dir, "row.csv")
	os.WriteFile(rows, []byte("6.7,3.0,5.2,2.3\n"), 0o644)
	code, stdout, stderr := run(t, "explain", "--model", mdl, "--input", rows, "--method", "uniform", "--out", filepath.Join(dir, "u"), "--json")
	if code != 0 || !strings.Contains(stdout, `"method":"uniform"`) {
		t.Fatalf("CLI explain --method uniform: %d %q %q", code, stdout, stderr)
	}
}
