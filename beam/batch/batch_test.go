package batch

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/metrics"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/predictor"
	"github.com/glassbox-ml/glassbox/tensor"
)

func TestMain(m *testing.M) { ptest.MainWithDefault(m, "prism") }

// irisModel trains a small iris classifier (standardised inputs, so the
// records go through the preprocessing) and saves it.
func irisModel(t *testing.T, dir string) string {
	t.Helper()
	tr, err := predictor.Train(context.Background(), predictor.Recipe{Data: "iris", Model: "linear", Epochs: 30, LR: 0.05, Batch: 16, Seed: 3},
		predictor.TrainOptions{Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "iris.gbx")
	if err := tr.Save(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// imageModel saves a small convolutional classifier of 3×8×8 images.
func imageModel(t *testing.T, dir string) string {
	t.Helper()
	rng := tensor.NewRNG(5)
	m := nn.NewSequential(nn.NewConv2D(3, 4, 3, rng, nn.ConvPadding(1)), nn.NewReLU(), nn.NewFlatten(), nn.NewLinear(4*8*8, 2, rng))
	path := filepath.Join(dir, "shapes.gbx")
	if err := model.Save(path, m, model.Meta{Task: "classification", Classes: []string{"dark", "light"}, InputShape: []int{3, 8, 8}}); err != nil {
		t.Fatal(err)
	}
	return path
}

func writePNG(t *testing.T, path string, seed int) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for y := range 8 {
		for x := range 8 {
			v := uint8((x*37 + y*11 + seed*53) % 256)
			img.Set(x, y, color.RGBA{v, uint8(255 - int(v)), uint8(seed * 40), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPipelineOnPrism runs the batch explanation on the prism runner over
// a small table (CSV and JSON Lines, with bad rows) and a folder of
// images (with a file that is not an image), and checks every record
// against the explanation computed on one machine for that row, the dead
// letters, the summaries against a direct computation, and the metrics.
func TestPipelineOnPrism(t *testing.T) {
	dir := t.TempDir()
	tab := filepath.Join(dir, "table")
	os.MkdirAll(tab, 0o755)
	os.WriteFile(filepath.Join(tab, "rows.csv"), []byte("sepal_length,sepal_width,petal_length,petal_width\n"+
		"5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n5.9,3.0,4.2,1.5\n4.9,3.1,1.5,0.1\n6.3,2.9,5.6,1.8\n5.5,2.4,3.8,1.1\n"), 0o644)
	os.WriteFile(filepath.Join(tab, "more.jsonl"), []byte(`{"id": "a", "values": [6.1, 2.8, 4.7, 1.2]}
{"id": "b", "values": [7.7, 3.8, 6.7, 2.2]}
{"values": [5.0, 3.4, 1.5, 0.2]}
{"id": "short", "values": [5.0, 3.4]}
not json
`), 0o644)
	imgs := filepath.Join(dir, "images")
	writePNG(t, filepath.Join(imgs, "a", "one.png"), 1)
	writePNG(t, filepath.Join(imgs, "a", "two.png"), 2)
	writePNG(t, filepath.Join(imgs, "b", "three.png"), 3)
	os.WriteFile(filepath.Join(imgs, "b", "broken.png"), []byte("not a png"), 0o644)

	runs := map[string]Options{
		"table": {Inputs: []string{filepath.Join(tab, "*.csv"), filepath.Join(tab, "more.jsonl")}, Model: irisModel(t, dir),
			Method: "kernelshap", Samples: 64, Seed: 11, Label: -1, PickBudget: 2, PickCandidates: 5},
		"images": {Inputs: []string{imgs}, Model: imageModel(t, dir), Method: "lime", Samples: 40, Seed: 11, Label: -1, PickBudget: 2},
	}
	wantRecords := map[string][]string{
		"table":  {"a", "b", "more.jsonl:2", "rows.csv:0", "rows.csv:1", "rows.csv:2", "rows.csv:3", "rows.csv:4", "rows.csv:5"},
		"images": {"a/one.png", "a/two.png", "b/three.png"},
	}
	wantDead := map[string][]string{"table": {"more.jsonl:4", "short"}, "images": {"b/broken.png"}}

	p, s := beam.NewPipelineWithRoot()
	for name, opt := range runs {
		out, err := Build(s.Scope(name), opt)
		if err != nil {
			t.Fatal(err)
		}
		Write(s.Scope(name), filepath.Join(dir, "out", name), out)
	}
	res, err := ptest.RunWithMetrics(p)
	if err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	for name, opt := range runs {
		if err := opt.check(); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "out", name)
		pr, err := LoadPredictor(ctx, opt.Model, opt.Data, opt.Method)
		if err != nil {
			t.Fatal(err)
		}
		recs := readLines[Record](t, filepath.Join(out, "records.jsonl"))
		raw := readLines[map[string]any](t, filepath.Join(out, "records.jsonl"))
		var ids []string
		var contribs []Contribution
		for i, rec := range recs {
			ids = append(ids, rec.ID)
			// The single-machine explanation of this row: its input read
			// as glassbox explain reads it, its seed from the base seed
			// and its id.
			row := inputRow(t, rec, tab)
			x, err := Input(pr, row)
			if err != nil {
				t.Fatal(err)
			}
			// What glassbox explain --id ID --seed BASE --samples N runs.
			res, err := pr.Explain(ctx, opt.Method, x, explain.Options{Seed: explain.RowSeed(opt.Seed, rec.ID), Samples: opt.Samples, Hide: "auto"})
			if err != nil {
				t.Fatal(err)
			}
			in, _ := tensor.FromSlice(x, append([]int{1}, pr.InputShape...)...)
			preds, err := pr.Predict(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			want := &Record{ID: rec.ID, Source: rec.Source, Prediction: preds[0], Explanation: res, Poor: opt.Thresholds.Poor(res)}
			if rec.Explanation.Seed != explain.RowSeed(opt.Seed, rec.ID) {
				t.Errorf("record %s: seed %d, want RowSeed(%d, %q)", rec.ID, rec.Explanation.Seed, opt.Seed, rec.ID)
			}
			wantJSON, _ := json.Marshal(want)
			var wantMap map[string]any
			json.Unmarshal(wantJSON, &wantMap)
			got := raw[i]
			delete(got["explanation"].(map[string]any), "seconds")
			delete(wantMap["explanation"].(map[string]any), "seconds")
			if !reflect.DeepEqual(got, wantMap) {
				t.Errorf("%s: record %s differs from the single-machine explanation:\n got %v\nwant %v", name, rec.ID, got, wantMap)
			}
			contribs = append(contribs, contribution(pr, want))
		}
		slices.Sort(ids)
		if !slices.Equal(ids, wantRecords[name]) {
			t.Errorf("%s: records for %v, want %v", name, ids, wantRecords[name])
		}
		var dead []string
		for _, d := range readLines[DeadLetter](t, filepath.Join(out, "dead_letters.jsonl")) {
			dead = append(dead, d.ID)
			if d.Error == "" {
				t.Errorf("%s: dead letter %s says nothing", name, d.ID)
			}
		}
		slices.Sort(dead)
		if !slices.Equal(dead, wantDead[name]) {
			t.Errorf("%s: dead letters for %v, want %v", name, dead, wantDead[name])
		}
		sums := readLines[Summary](t, filepath.Join(out, "summary.json"))
		if len(sums) != 1 {
			t.Fatalf("%s: %d summaries", name, len(sums))
		}
		checkSummary(t, name, sums[0], contribs, opt)
	}

	// Progress metrics: every row counted once, as done or failed.
	counters := map[string]int64{}
	for _, c := range res.Metrics().Query(func(r metrics.SingleResult) bool { return r.Namespace() == "glassbox" }).Counters() {
		counters[c.Key.Name] += c.Result()
	}
	if counters["rows_done"] != 12 || counters["rows_failed"] != 3 {
		t.Errorf("metrics %v: want 12 rows done and 3 failed", counters)
	}
}

// inputRow reads a record's row from the test's files the way
// glassbox explain would be given it.
func inputRow(t *testing.T, rec Record, tab string) Row {
	t.Helper()
	row := Row{ID: rec.ID, Source: rec.Source}
	if strings.HasSuffix(rec.ID, ".png") {
		raw, err := os.ReadFile(rec.Source)
		if err != nil {
			t.Fatal(err)
		}
		row.Image = raw
		return row
	}
	if name, r, ok := strings.Cut(rec.ID, ":"); ok && name == "rows.csv" {
		pr := &predictor.Predictor{InputShape: []int{4}}
		raw, _ := os.ReadFile(filepath.Join(tab, name))
		x, err := pr.ParseCSV(raw)
		if err != nil {
			t.Fatal(err)
		}
		var i int
		json.Unmarshal([]byte(r), &i)
		row.Values = x.Row(i).Contiguous().Data()
		return row
	}
	values := map[string][]float32{"a": {6.1, 2.8, 4.7, 1.2}, "b": {7.7, 3.8, 6.7, 2.2}, "more.jsonl:2": {5.0, 3.4, 1.5, 0.2}}[rec.ID]
	if values == nil {
		t.Fatalf("unexpected record %s", rec.ID)
	}
	row.Values = values
	return row
}

// checkSummary computes the summaries directly from the contributions
// and compares.
func checkSummary(t *testing.T, name string, got Summary, contribs []Contribution, opt Options) {
	t.Helper()
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-12*(1+math.Abs(b)) }
	mean := func(cs []Contribution) map[string]float64 {
		m := map[string]float64{}
		for _, c := range cs {
			for i, k := range c.Keys {
				m[k] += math.Abs(c.Weights[i]) / float64(len(cs))
			}
		}
		return m
	}
	same := func(what string, imp Importance, cs []Contribution) {
		want := mean(cs)
		if imp.Rows != len(cs) || len(imp.Features) != len(want) {
			t.Errorf("%s %s: %d rows, %d features; want %d, %d", name, what, imp.Rows, len(imp.Features), len(cs), len(want))
			return
		}
		for i, f := range imp.Features {
			if !near(f.MeanAbsWeight, want[f.Feature]) {
				t.Errorf("%s %s: %s mean |weight| %v, want %v", name, what, f.Feature, f.MeanAbsWeight, want[f.Feature])
			}
			if i > 0 && f.MeanAbsWeight > imp.Features[i-1].MeanAbsWeight {
				t.Errorf("%s %s: features not sorted by importance", name, what)
			}
		}
	}
	same("importance", got.Importance, contribs)
	byClass := map[string][]Contribution{}
	poor := 0
	for _, c := range contribs {
		byClass[c.Class] = append(byClass[c.Class], c)
		if c.Poor {
			poor++
		}
	}
	if len(got.Classes) != len(byClass) {
		t.Errorf("%s: classes %v, want %d", name, got.Classes, len(byClass))
	}
	for class, cs := range byClass {
		same("class "+class, got.Classes[class], cs)
	}
	if got.Quality.Rows != len(contribs) || got.Quality.Poor != poor || !near(got.Quality.Share, float64(poor)/float64(len(contribs))) {
		t.Errorf("%s: quality %+v, want %d poor of %d", name, got.Quality, poor, len(contribs))
	}
	// SP-LIME over the PickCandidates rows whose ids rank lowest, ids in
	// order, features numbered in the order of their names.
	cands := slices.Clone(contribs)
	slices.SortFunc(cands, func(x, y Contribution) int {
		return cmp.Compare(explain.RowSeed(0, x.ID), explain.RowSeed(0, y.ID))
	})
	cands = cands[:min(len(cands), opt.PickCandidates)]
	slices.SortFunc(cands, func(x, y Contribution) int { return strings.Compare(x.ID, y.ID) })
	var keys []string
	for _, c := range cands {
		keys = append(keys, c.Keys...)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	ws := make([][]explain.FeatureWeight, len(cands))
	for i, c := range cands {
		for j, k := range c.Keys {
			ws[i] = append(ws[i], explain.FeatureWeight{Feature: slices.Index(keys, k), Weight: c.Weights[j]})
		}
	}
	pick, err := explain.SubmodularPick(ws, len(keys), opt.PickBudget)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, i := range pick.Indices {
		want = append(want, cands[i].ID)
	}
	if got.Pick.Candidates != len(cands) || !slices.Equal(got.Pick.IDs, want) || len(want) != opt.PickBudget {
		t.Errorf("%s: SP-LIME picked %+v, want %v of %d candidates", name, got.Pick, want, len(cands))
	}
	for i, k := range keys {
		if !near(got.Pick.Importance[k], pick.Importance[i]) {
			t.Errorf("%s: SP-LIME importance of %s %v, want %v", name, k, got.Pick.Importance[k], pick.Importance[i])
		}
	}
}

func readLines[T any](t *testing.T, path string) []T {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []T
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if line == "" {
			continue
		}
		var v T
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("%s: %q: %v", path, line, err)
		}
		out = append(out, v)
	}
	return out
}
