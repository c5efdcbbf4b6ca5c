package serve

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/internal/plantedtext"
	"github.com/glassbox-ml/glassbox/predictor"
)

// plantedText trains a small GRU on the planted-word sentences (package
// plantedtext: pos exactly when "zorp" is there) in well under a second
// and serves it.
func plantedText(t *testing.T) (*predictor.Trained, *httptest.Server) {
	t.Helper()
	spec, _, err := plantedtext.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tr, err := predictor.Train(context.Background(), predictor.Recipe{Data: spec, Model: "gru", Hidden: 16, Epochs: 30, Batch: 8, LR: 0.01, Seed: 1},
		predictor.TrainOptions{Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	if acc := tr.Test.Accuracy(); acc < 0.9 {
		t.Fatalf("the planted-word GRU tests at %.2f; the fixture needs ≥ 0.9", acc)
	}
	s, err := New(tr.Predictor, Options{Name: "planted-gru"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return tr, ts
}

// A text model's server offers only the methods that explain a document's
// words (those for token ids would fail on every request the page sends),
// and names the reason when asked for another.
func TestTextMethods(t *testing.T) {
	tr, ts := plantedText(t)
	if !slices.ContainsFunc(tr.Methods(), func(m explain.MethodInfo) bool { return m.Name == "layerig" }) {
		t.Fatal("the registry no longer lists layerig for a GRU; this test needs a method that explains token ids only")
	}
	_, raw, _ := get(t, ts, "/healthz")
	var h Health
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(h.Methods, []string{"lime"}) || len(h.MethodInfo) != 1 || h.MethodInfo[0].Name != "lime" {
		t.Errorf("a text model's server offers %v (%d described); want only lime", h.Methods, len(h.MethodInfo))
	}
	code, body, _ := post(t, ts, "/v1/explain", `{"text": "a zorp film", "method": "layerig"}`)
	if code != http.StatusBadRequest || !strings.Contains(string(body), "not the words of a document") {
		t.Errorf("layerig on text: %d %s; want 400 saying it explains token ids", code, body)
	}
}
