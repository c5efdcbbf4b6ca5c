package serve_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/predictor"
	"github.com/glassbox-ml/glassbox/serve"
	"github.com/glassbox-ml/glassbox/tensor"
)

// A loan model that approves when income outweighs debt, served over HTTP.
// Rows are sent in the data's own units; the server standardises them with
// the model's Meta, and answers with the predictor's public types.
func ExampleNew() {
	lin := nn.NewLinear(2, 2, tensor.NewRNG(1), nn.LinearNoBias())
	// Weight is [in, out]: the "yes" logit is income − debt/2 (standardised).
	copy(lin.Weight.Value.Data(), []float32{0, 1, 0, -0.5})
	meta := model.Meta{Task: "classification", Classes: []string{"no", "yes"}, InputShape: []int{2},
		Features: []string{"income", "debt"}, Mean: []float32{50, 20}, Std: []float32{10, 10}}
	p, err := predictor.New(lin, meta)
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := serve.New(p, serve.Options{Name: "loans"})
	if err != nil {
		fmt.Println(err)
		return
	}
	h := s.Handler() // mount it: http.ListenAndServe(addr, h)

	req := httptest.NewRequest(http.MethodPost, "/v1/predict", strings.NewReader(`{"rows": [[60, 20], [40, 30]]}`))
	req.Header.Set("Content-Type", "application/json") // any other type is refused (415)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Print(rec.Code, " ", rec.Body.String())

	req = httptest.NewRequest(http.MethodPost, "/v1/explain", strings.NewReader(`{"rows": [[60, 20]], "method": "saliency", "picture": false}`))
	req.Header.Set("Content-Type", "application/json")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	// Saliency: |∂ logit / ∂ input| per unit of each input, the weights
	// divided by the features' scales (10) here.
	var ex serve.ExplainResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &ex); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rec.Code, ex.Explanation.Method, "of", ex.Explanation.LabelName)
	for _, f := range ex.Explanation.Top {
		fmt.Printf("  %-6s %+.2f\n", f.Name, f.Weight)
	}

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/predict", nil))
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output:
	// 200 {"predictions":[{"probabilities":[0.26894143,0.7310586],"class":1,"label":"yes"},{"probabilities":[0.8175745,0.18242553],"class":0,"label":"no"}]}
	// 200 saliency of yes
	//   income +0.10
	//   debt   +0.05
	// 405 {"error":"GET /v1/predict: use POST"}
}
