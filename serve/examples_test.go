package serve

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestHealthDescribesTheFields(t *testing.T) {
	f := iris(t)
	ts := newServer(t, f.m, f.meta, Options{}, f.train)
	_, b, _ := get(t, ts, "/healthz")
	var h Health
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	if h.Kind != "table" || len(h.FeatureStats) != 4 {
		t.Fatalf("kind %q, %d feature stats; want table and one per iris column", h.Kind, len(h.FeatureStats))
	}
	// Iris's petal length runs from 1.0 to 6.9 cm, mean 3.758.
	pl := h.FeatureStats[2]
	if pl.Name != "petal length (cm)" || math.Abs(pl.Min-1) > 1e-6 || math.Abs(pl.Max-6.9) > 1e-6 || math.Abs(pl.Mean-3.758) > 1e-3 {
		t.Errorf("petal length stats %+v, want 1 to 6.9, mean 3.758", pl)
	}
	// Without examples a table offers its training rows.
	if h.Examples != 150 {
		t.Errorf("examples %d, want iris's 150 training rows", h.Examples)
	}
	m, meta := convModel()
	img := newServer(t, m, meta, Options{})
	_, b, _ = get(t, img, "/healthz")
	h = Health{}
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	if h.Kind != "image" || h.FeatureStats != nil || h.Examples != 0 {
		t.Errorf("image model: kind %q, stats %v, examples %d; want image, none, 0", h.Kind, h.FeatureStats, h.Examples)
	}
}

func TestExampleEndpoint(t *testing.T) {
	f := iris(t)
	rows := []float32{5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3}
	ts := newServer(t, f.m, f.meta, Options{Examples: rows, ExampleTargets: []float32{0, 2}}, f.train)
	code, b, _ := get(t, ts, "/v1/example?index=1")
	var ex Example
	if err := json.Unmarshal(b, &ex); err != nil || code != http.StatusOK {
		t.Fatalf("example: %d %s", code, b)
	}
	if ex.Index != 1 || ex.Count != 2 || ex.Source != "test split" || !slices.Equal(ex.Input, rows[4:]) ||
		ex.Target == nil || *ex.Target != 2 || ex.Label != "virginica" {
		t.Errorf("example %+v, want the second row, virginica", ex)
	}
	for _, q := range []string{"", "?index=2", "?index=-1", "?index=x"} {
		code, b, _ := get(t, ts, "/v1/example"+q)
		if code != http.StatusBadRequest || !strings.Contains(string(b), "from 0 to 1") {
			t.Errorf("example%s: %d %s; want 400 naming the range", q, code, b)
		}
	}
	if code, _, _ := post(t, ts, "/v1/example?index=0", map[string]int{}); code != http.StatusMethodNotAllowed {
		t.Errorf("POST /v1/example: %d, want 405", code)
	}
	// A table without examples offers its training rows, without targets.
	bg := newServer(t, f.m, f.meta, Options{}, f.train)
	_, b, _ = get(t, bg, "/v1/example?index=149")
	ex = Example{}
	if err := json.Unmarshal(b, &ex); err != nil {
		t.Fatal(err)
	}
	if ex.Source != "training rows" || ex.Count != 150 || ex.Target != nil || !slices.Equal(ex.Input, f.train.Data()[149*4:]) {
		t.Errorf("background example %+v", ex)
	}
	// An image model without examples has none to offer.
	m, meta := convModel()
	img := newServer(t, m, meta, Options{})
	if code, b, _ := get(t, img, "/v1/example?index=0"); code != http.StatusNotFound || !strings.Contains(string(b), "--data") {
		t.Errorf("no examples: %d %s; want 404 saying how to give some", code, b)
	}
}

func TestExamplesAreChecked(t *testing.T) {
	f := iris(t)
	p := mustPredictor(t, f.m, f.meta)
	for _, c := range []struct {
		opts Options
		want string
	}{
		{Options{Examples: make([]float32, 6)}, "6 values, not a whole number of inputs of 4"},
		{Options{Examples: make([]float32, 8), ExampleTargets: []float32{1}}, "1 targets for 2 examples"},
	} {
		if _, err := New(p, c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%d examples, %d targets): %v, want %q", len(c.opts.Examples), len(c.opts.ExampleTargets), err, c.want)
		}
	}
}

// The explain answer carries an image explanation's numbers: the input as
// the model saw it, the per-pixel map, and for LIME the segments, whose
// numbers are the ones its top list names.
func TestExplainImageMap(t *testing.T) {
	m, meta := convModel()
	ts := newServer(t, m, meta, Options{})
	img, pix := digitPNG(t)
	no := false
	res, _, _ := explainJSON(t, ts, ExplainRequest{PredictRequest: PredictRequest{Image: img}, Method: "lime", Seed: seed(2), Samples: 300, Picture: &no})
	mp := res.Map
	if mp == nil || mp.Channels != 1 || mp.Height != 28 || mp.Width != 28 || len(mp.Input) != 784 || len(mp.Attribution) != 784 {
		t.Fatalf("map %+v", mp)
	}
	for i, v := range pix {
		if math.Abs(float64(mp.Input[i]-v)) > 1.0/255 {
			t.Fatalf("input pixel %d is %v, the digit has %v", i, mp.Input[i], v)
		}
	}
	if len(mp.Segments) != 784 || len(mp.SegmentWeights) != res.Explanation.Features {
		t.Fatalf("%d segment labels, %d weights for %d features", len(mp.Segments), len(mp.SegmentWeights), res.Explanation.Features)
	}
	for _, f := range res.Explanation.Top {
		if f.Name != fmt.Sprintf("segment %d", f.Feature) || mp.SegmentWeights[f.Feature] != f.Weight {
			t.Errorf("top %q weight %v; the map's segment %d has %v", f.Name, f.Weight, f.Feature, mp.SegmentWeights[f.Feature])
		}
	}
	// A pixel's attribution is its segment's weight.
	for i, l := range mp.Segments {
		if math.Abs(float64(mp.Attribution[i])-mp.SegmentWeights[l]) > 1e-6 {
			t.Fatalf("pixel %d of segment %d: attribution %v, segment weight %v", i, l, mp.Attribution[i], mp.SegmentWeights[l])
		}
	}
	// A gradient map has no segments; a table explanation no map.
	ig, _, _ := explainJSON(t, ts, ExplainRequest{PredictRequest: PredictRequest{Image: img}, Method: "ig", Picture: &no})
	if ig.Map == nil || ig.Map.Segments != nil || len(ig.Map.Attribution) != 784 {
		t.Errorf("ig map %+v", ig.Map)
	}
	f := iris(t)
	tab := newServer(t, f.m, f.meta, Options{}, f.train)
	lime, _, _ := explainJSON(t, tab, ExplainRequest{PredictRequest: PredictRequest{Rows: [][]float64{{5.1, 3.5, 1.4, 0.2}}}, Method: "lime", Samples: 200})
	if lime.Map != nil {
		t.Errorf("a table explanation carries a pixel map")
	}
}
