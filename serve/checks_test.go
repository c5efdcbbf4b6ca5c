package serve

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestExplainChecks: an explanation carries its checks and verdict;
// "checks": "all" adds the randomisation test, an unknown level is a 400.
func TestExplainChecks(t *testing.T) {
	f := iris(t)
	ts := newServer(t, f.m, f.meta, Options{})
	req := ExplainRequest{PredictRequest: PredictRequest{Rows: [][]float64{{6.7, 3.0, 5.2, 2.3}}}, Method: "saliency", Checks: "all"}
	code, b, _ := post(t, ts, "/v1/explain", req)
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, b)
	}
	var out struct {
		Explanation struct {
			Checks []struct {
				Name, Verdict string
			}
			Verdict struct{ Level, Words string }
		}
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, c := range out.Explanation.Checks {
		names[c.Name] = c.Verdict != ""
	}
	if !names["model_randomisation"] || !names["faithfulness_correlation"] || out.Explanation.Verdict.Words == "" {
		t.Errorf("checks %v, verdict %+v", names, out.Explanation.Verdict)
	}
	req.Checks = "most"
	if code, b, _ := post(t, ts, "/v1/explain", req); code != http.StatusBadRequest || !strings.Contains(string(b), "checks") {
		t.Errorf("checks most: %d %s", code, b)
	}
}
