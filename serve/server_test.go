package serve

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/gif"
	"image/png"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/datasets"
	"github.com/glassbox-ml/glassbox/loss"
	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/optim"
	"github.com/glassbox-ml/glassbox/predictor"
	"github.com/glassbox-ml/glassbox/tensor"
)

// irisModel trains a softmax regression on iris (standardised features,
// full-batch Adam) and returns it with its Meta and the raw rows.
var irisModel = sync.OnceValues(func() (*irisFixture, error) {
	ds, err := datasets.Load(context.Background(), "iris", datasets.Options{Offline: true})
	if err != nil {
		return nil, err
	}
	tab := ds.Table
	mean, std := make([]float32, tab.Cols), make([]float32, tab.Cols)
	for j := range tab.Cols {
		var s, sq float64
		for i := range tab.Rows {
			v := float64(tab.X[i*tab.Cols+j])
			s += v
			sq += v * v
		}
		m := s / float64(tab.Rows)
		mean[j], std[j] = float32(m), float32(math.Sqrt(sq/float64(tab.Rows)-m*m))
	}
	xs := make([]float32, len(tab.X))
	for i, v := range tab.X {
		xs[i] = (v - mean[i%tab.Cols]) / std[i%tab.Cols]
	}
	x := autograd.Const(tensor.MustFromSlice(xs, tab.Rows, tab.Cols))
	lin := nn.NewLinear(tab.Cols, len(tab.Classes), tensor.NewRNG(1))
	opt, err := optim.NewAdam(lin.Params(), 0.1)
	if err != nil {
		return nil, err
	}
	labels := tab.Labels()
	for range 200 {
		c := nn.Train(nil)
		l := loss.CrossEntropy(c.Tape, lin.Forward(c, x), labels)
		opt.ZeroGrad()
		if err := c.Tape.Backward(l); err != nil {
			return nil, err
		}
		if err := opt.Step(); err != nil {
			return nil, err
		}
	}
	meta := model.Meta{Task: "classification", Classes: tab.Classes, InputShape: []int{tab.Cols}, Features: tab.Features, Mean: mean, Std: std}
	return &irisFixture{m: lin, meta: meta, train: tensor.MustFromSlice(tab.X, tab.Rows, tab.Cols)}, nil
})

type irisFixture struct {
	m     nn.Module
	meta  model.Meta
	train *tensor.Tensor
}

func iris(t *testing.T) *irisFixture {
	t.Helper()
	f, err := irisModel()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// convModel is a tiny CNN for 28×28 grey digits with random weights.
func convModel() (nn.Module, model.Meta) {
	rng := tensor.NewRNG(7)
	m := nn.NewSequential(nn.NewConv2D(1, 4, 3, rng, nn.ConvPadding(1)), nn.NewReLU(), nn.NewMaxPool2D(2, 2, 0),
		nn.NewFlatten(), nn.NewLinear(4*14*14, 10, rng))
	classes := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	return m, model.Meta{Task: "classification", Classes: classes, InputShape: []int{1, 28, 28}}
}

// digitPNG is the first embedded MNIST test digit as a base64 PNG, and
// its pixels.
func digitPNG(t *testing.T) (string, []float32) {
	t.Helper()
	ds, err := datasets.Load(context.Background(), "mnist-small", datasets.Options{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	pix := ds.Test.Image(0)
	var buf bytes.Buffer
	if err := png.Encode(&buf, datasets.PixelsToImage(pix, 1, 28, 28)); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), pix
}

// newServer serves m described by meta; background, when given, is the
// table's training rows.
func newServer(t *testing.T, m nn.Module, meta model.Meta, opts Options, background ...*tensor.Tensor) *httptest.Server {
	t.Helper()
	p := mustPredictor(t, m, meta)
	if len(background) > 0 {
		p.Background = background[0].Data()
	}
	s, err := New(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

func mustPredictor(t *testing.T, m nn.Module, meta model.Meta) *predictor.Predictor {
	t.Helper()
	p, err := predictor.New(m, meta)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// post sends body (a string is sent as is, anything else as JSON) and
// returns the status and the raw answer.
func post(t *testing.T, ts *httptest.Server, path string, body any) (int, []byte, http.Header) {
	t.Helper()
	var raw []byte
	if s, ok := body.(string); ok {
		raw = []byte(s)
	} else {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := ts.Client().Post(ts.URL+path, "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b, resp.Header
}

func get(t *testing.T, ts *httptest.Server, path string) (int, []byte, http.Header) {
	t.Helper()
	resp, err := ts.Client().Get(ts.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b, resp.Header
}

func sum(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x)
	}
	return s
}

func TestPredictRows(t *testing.T) {
	f := iris(t)
	ts := newServer(t, f.m, f.meta, Options{})
	// A setosa and a virginica flower, in centimetres.
	for _, body := range []any{
		PredictRequest{Rows: [][]float64{{5.1, 3.5, 1.4, 0.2}, {6.7, 3.0, 5.2, 2.3}}},
		PredictRequest{CSV: "sepal length,sepal width,petal length,petal width\n5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n"},
	} {
		code, b, h := post(t, ts, "/v1/predict", body)
		if code != http.StatusOK || h.Get("Content-Type") != "application/json" {
			t.Fatalf("status %d, %s: %s", code, h.Get("Content-Type"), b)
		}
		var pr PredictResponse
		if err := json.Unmarshal(b, &pr); err != nil || len(pr.Predictions) != 2 {
			t.Fatalf("answer %s: %v", b, err)
		}
		if pr.Predictions[0].Label != "setosa" || pr.Predictions[1].Label != "virginica" {
			t.Fatalf("predicted %q and %q", pr.Predictions[0].Label, pr.Predictions[1].Label)
		}
		for _, p := range pr.Predictions {
			if s := sum(p.Probabilities); math.Abs(s-1) > 1e-5 || len(p.Probabilities) != 3 {
				t.Fatalf("probabilities %v sum to %v", p.Probabilities, s)
			}
		}
	}
}

func TestPredictImage(t *testing.T) {
	m, meta := convModel()
	ts := newServer(t, m, meta, Options{})
	img, pix := digitPNG(t)
	// The server must give exactly what the model gives on these pixels.
	want, err := mustPredictor(t, m, meta).Predict(context.Background(), tensor.MustFromSlice(pix, 1, 1, 28, 28))
	if err != nil {
		t.Fatal(err)
	}
	for _, enc := range []string{img, "data:image/png;base64," + img} {
		code, b, _ := post(t, ts, "/v1/predict", PredictRequest{Image: enc})
		if code != http.StatusOK {
			t.Fatalf("status %d: %s", code, b)
		}
		var pr PredictResponse
		if err := json.Unmarshal(b, &pr); err != nil || len(pr.Predictions) != 1 {
			t.Fatalf("answer %s: %v", b, err)
		}
		p := pr.Predictions[0]
		if s := sum(p.Probabilities); math.Abs(s-1) > 1e-5 || len(p.Probabilities) != 10 {
			t.Fatalf("probabilities %v sum to %v", p.Probabilities, s)
		}
		if *p.Class != *want[0].Class || p.Probabilities[*p.Class] != want[0].Probabilities[*p.Class] {
			t.Fatalf("server predicted %d (p=%v), the model %d (p=%v)", *p.Class, p.Probabilities[*p.Class], *want[0].Class, want[0].Probabilities[*want[0].Class])
		}
	}
}

// explainJSON posts an explain request and returns the answer with its
// timing zeroed, and the decoded picture.
func explainJSON(t *testing.T, ts *httptest.Server, req ExplainRequest) (ExplainResponse, string, image.Image) {
	t.Helper()
	code, b, _ := post(t, ts, "/v1/explain", req)
	if code != http.StatusOK {
		t.Fatalf("explain %s: status %d: %s", req.Method, code, b)
	}
	var er ExplainResponse
	if err := json.Unmarshal(b, &er); err != nil {
		t.Fatalf("answer %s: %v", b, err)
	}
	var pic image.Image
	if er.Picture != "" {
		raw, err := base64.StdEncoding.DecodeString(er.Picture)
		if err != nil {
			t.Fatal(err)
		}
		if pic, err = png.Decode(bytes.NewReader(raw)); err != nil {
			t.Fatalf("picture is not a PNG: %v", err)
		}
	}
	er.Explanation.Seconds = 0
	same, _ := json.Marshal(er)
	return er, string(same), pic
}

func seed(s uint64) *uint64 { return &s }

func TestExplainTable(t *testing.T) {
	f := iris(t)
	ts := newServer(t, f.m, f.meta, Options{}, f.train)
	virginica := PredictRequest{Rows: [][]float64{{6.7, 3.0, 5.2, 2.3}}}
	first, firstJSON, pic := explainJSON(t, ts, ExplainRequest{PredictRequest: virginica, Method: "lime", Seed: seed(3), Samples: 500})
	e := first.Explanation
	if first.Prediction.Label != "virginica" || e.LabelName != "virginica" || e.Method != "lime" || e.Seed != 3 || e.Samples != 500 || e.Features != 4 {
		t.Fatalf("explanation %+v of prediction %+v", e, first.Prediction)
	}
	if r2 := e.Quality["r2"]; r2 <= 0 || r2 > 1 {
		t.Fatalf("LIME R² %v", r2)
	}
	if _, ok := e.Quality["local_error"]; !ok || len(e.Top) != 4 {
		t.Fatalf("quality %v, top %v", e.Quality, e.Top)
	}
	if pic == nil || pic.Bounds().Dx() < 50 {
		t.Fatal("no picture")
	}
	_, again, _ := explainJSON(t, ts, ExplainRequest{PredictRequest: virginica, Method: "lime", Seed: seed(3), Samples: 500})
	if again != firstJSON {
		t.Fatal("the same seed gave a different answer")
	}
	other, _, _ := explainJSON(t, ts, ExplainRequest{PredictRequest: virginica, Method: "lime", Seed: seed(4), Samples: 500})
	if other.Explanation.Top[0].Weight == e.Top[0].Weight && other.Explanation.Top[1].Weight == e.Top[1].Weight {
		t.Fatal("another seed gave the same weights: the seed is not used")
	}
	// Kernel SHAP values add up to the change in output; without a picture.
	no := false
	shap, _, pic := explainJSON(t, ts, ExplainRequest{PredictRequest: virginica, Method: "kernelshap", Picture: &no})
	if pic != nil || shap.Picture != "" {
		t.Fatal(`"picture": false still sent a picture`)
	}
	if s, ok := shap.Explanation.Quality["sum_error"]; !ok || s > 1e-6 {
		t.Fatalf("Kernel SHAP sum_error %v (present %v)", s, ok)
	}
}

func TestExplainImage(t *testing.T) {
	m, meta := convModel()
	ts := newServer(t, m, meta, Options{})
	img, _ := digitPNG(t)
	req := ExplainRequest{PredictRequest: PredictRequest{Image: img}, Method: "lime", Seed: seed(5), Samples: 200}
	first, firstJSON, pic := explainJSON(t, ts, req)
	e := first.Explanation
	for _, k := range []string{"r2", "local_error", "deletion_auc", "insertion_auc"} {
		if _, ok := e.Quality[k]; !ok {
			t.Fatalf("quality %v lacks %s", e.Quality, k)
		}
	}
	if e.Label != *first.Prediction.Class || e.Features < 5 || pic == nil {
		t.Fatalf("explanation %+v of prediction %+v", e, first.Prediction)
	}
	_, again, _ := explainJSON(t, ts, req)
	if again != firstJSON {
		t.Fatal("the same seed gave a different image explanation")
	}
	// Explaining another output than the predicted one.
	lbl := (e.Label + 1) % 10
	cam, _, _ := explainJSON(t, ts, ExplainRequest{PredictRequest: PredictRequest{Image: img}, Method: "gradcam", Label: &lbl})
	if cam.Explanation.Label != lbl || cam.Explanation.Quality["deletion_auc"] < 0 {
		t.Fatalf("gradcam %+v", cam.Explanation)
	}
}

func gifBase64(t *testing.T) string {
	t.Helper()
	var buf bytes.Buffer
	if err := gif.Encode(&buf, image.NewGray(image.Rect(0, 0, 28, 28)), nil); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

func TestErrors(t *testing.T) {
	f := iris(t)
	table := newServer(t, f.m, f.meta, Options{MaxBodyBytes: 4096, MaxBatch: 3})
	cm, cmeta := convModel()
	images := newServer(t, cm, cmeta, Options{})
	row := [][]float64{{5.1, 3.5, 1.4, 0.2}}
	two := -2
	nine := 9
	cases := []struct {
		name   string
		ts     *httptest.Server
		path   string
		body   any
		status int
		want   string
	}{
		{"malformed JSON", table, "/v1/predict", `{"rows": [[1, 2`, 400, "malformed JSON"},
		{"syntax error", table, "/v1/predict", `{"rows": [[1, 2,]]}`, 400, "malformed JSON at byte"},
		{"empty body", table, "/v1/predict", ``, 400, "empty request body"},
		{"wrong type", table, "/v1/predict", `{"rows": "1,2,3,4"}`, 400, `field "rows"`},
		{"unknown field", table, "/v1/predict", `{"rows": [[1,2,3,4]], "colour": 1}`, 400, `unknown field "colour"`},
		{"trailing data", table, "/v1/predict", `{"rows": [[1,2,3,4]]} {}`, 400, "trailing data"},
		{"wrong feature count", table, "/v1/predict", PredictRequest{Rows: [][]float64{{1, 2, 3}}}, 400, "row 0 has 3 values, the model takes 4"},
		{"wrong CSV width", table, "/v1/predict", PredictRequest{CSV: "1,2,3\n"}, 400, "3 features, the model takes 4"},
		{"no input", table, "/v1/predict", PredictRequest{}, 400, "exactly one of"},
		{"two inputs", table, "/v1/predict", PredictRequest{Rows: row, CSV: "1,2,3,4\n"}, 400, "exactly one of"},
		{"too many rows", table, "/v1/predict", PredictRequest{Rows: [][]float64{row[0], row[0], row[0], row[0]}}, 413, "at most 3"},
		{"body too large", table, "/v1/predict", `{"csv": "` + strings.Repeat("1,2,3,4\\n", 1000) + `"}`, 413, "limit of 4096 bytes"},
		{"image to a table model", table, "/v1/predict", PredictRequest{Image: gifBase64(t)}, 400, "not images"},
		{"GIF image", images, "/v1/predict", PredictRequest{Image: gifBase64(t)}, 400, "gif is not accepted, send a PNG or JPEG"},
		{"garbage image", images, "/v1/predict", PredictRequest{Image: base64.StdEncoding.EncodeToString([]byte("not a picture at all"))}, 400, "not a PNG or JPEG file"},
		{"not base64", images, "/v1/predict", PredictRequest{Image: "@@@@"}, 400, "not valid base64"},
		{"unknown method", table, "/v1/explain", ExplainRequest{PredictRequest: PredictRequest{Rows: row}, Method: "magic"}, 400, `unknown explanation method "magic"`},
		{"gradcam on a table", table, "/v1/explain", ExplainRequest{PredictRequest: PredictRequest{Rows: row}, Method: "gradcam"}, 400, "explains image inputs"},
		{"lime without training rows", table, "/v1/explain", ExplainRequest{PredictRequest: PredictRequest{Rows: row}}, 400, "samples from the model's training rows, and this server has none"},
		{"label out of range", table, "/v1/explain", ExplainRequest{PredictRequest: PredictRequest{Rows: row}, Method: "saliency", Label: &nine}, 400, "the model has 3 outputs"},
		{"negative label", table, "/v1/explain", ExplainRequest{PredictRequest: PredictRequest{Rows: row}, Method: "saliency", Label: &two}, 400, "label -2"},
		{"too many samples", table, "/v1/explain", ExplainRequest{PredictRequest: PredictRequest{Rows: row}, Method: "ig", Samples: 1 << 30}, 400, "samples 1073741824"},
		{"two rows to explain", table, "/v1/explain", ExplainRequest{PredictRequest: PredictRequest{Rows: [][]float64{row[0], row[0]}}, Method: "saliency"}, 400, "one row or image, got 2"},
		{"layer method on a model without layers", table, "/v1/explain", ExplainRequest{PredictRequest: PredictRequest{Rows: row}, Method: "layerig"}, 400, "reads the model's hidden layers"},
		{"tcav without a way to send a concept", images, "/v1/explain", ExplainRequest{PredictRequest: PredictRequest{Rows: [][]float64{make([]float64, 784)}}, Method: "tcav"}, 400, "needs examples besides the input"},
		{"unknown layer", images, "/v1/explain", ExplainRequest{PredictRequest: PredictRequest{Rows: [][]float64{make([]float64, 784)}}, Method: "layerig", Layer: "conv9"}, 400, `unknown layer "conv9"`},
		{"negative neuron", images, "/v1/explain", ExplainRequest{PredictRequest: PredictRequest{Rows: [][]float64{make([]float64, 784)}}, Method: "neuronig", Neuron: &two}, 400, "neuron -2"},
		{"bad hide", images, "/v1/explain", ExplainRequest{PredictRequest: PredictRequest{Rows: [][]float64{make([]float64, 784)}}, Hide: "paint"}, 400, `hide "paint"`},
	}
	for _, c := range cases {
		code, b, h := post(t, c.ts, c.path, c.body)
		var e struct{ Error string }
		if err := json.Unmarshal(b, &e); err != nil || h.Get("Content-Type") != "application/json" {
			t.Errorf("%s: answer %q is not a JSON error (%v)", c.name, b, err)
			continue
		}
		if code != c.status || !strings.Contains(e.Error, c.want) {
			t.Errorf("%s: status %d, error %q; want %d and %q", c.name, code, e.Error, c.status, c.want)
		}
	}
	for _, path := range []string{"/v1/predict", "/v1/explain"} {
		code, b, h := get(t, table, path)
		if code != http.StatusMethodNotAllowed || h.Get("Allow") != "POST" || !strings.Contains(string(b), `"error"`) {
			t.Errorf("GET %s: %d, Allow %q, %s", path, code, h.Get("Allow"), b)
		}
	}
	if code, b, _ := post(t, table, "/healthz", "{}"); code != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz: %d %s", code, b)
	}
	if code, b, _ := get(t, table, "/nowhere"); code != http.StatusNotFound || !strings.Contains(string(b), "/v1/predict") {
		t.Errorf("GET /nowhere: %d %s", code, b)
	}
}

// gateModel wraps a model; once armed, every forward pass waits for the
// gate to open, so a test can hold requests in flight.
type gateModel struct {
	nn.Module
	armed   atomic.Bool
	entered chan struct{}
	open    chan struct{}
	once    sync.Once
}

// release opens the gate (once).
func (g *gateModel) release() { g.once.Do(func() { close(g.open) }) }

func (g *gateModel) Forward(c *nn.Ctx, x *autograd.Var) *autograd.Var {
	if g.armed.Load() {
		select {
		case g.entered <- struct{}{}:
		default:
		}
		<-g.open
	}
	return g.Module.Forward(c, x)
}

// newGate wraps m. Tests open the gate in a cleanup registered after
// their test server's, so that it runs first: a test server's Close waits
// for the requests it holds.
func newGate(m nn.Module) *gateModel {
	return &gateModel{Module: m, entered: make(chan struct{}, 1), open: make(chan struct{})}
}

// wait receives from ch, failing the test after a generous bound instead
// of hanging when the server misbehaves.
func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("gave up waiting for %s", what)
		panic("unreachable")
	}
}

func TestTooManyExplains(t *testing.T) {
	f := iris(t)
	g := newGate(f.m)
	ts := newServer(t, g, f.meta, Options{MaxConcurrentExplain: 1})
	t.Cleanup(g.release)
	ts.Client().Timeout = 30 * time.Second
	g.armed.Store(true)
	req := ExplainRequest{PredictRequest: PredictRequest{Rows: [][]float64{{6.7, 3.0, 5.2, 2.3}}}, Method: "saliency"}
	done := make(chan int)
	go func() {
		raw, _ := json.Marshal(req)
		resp, err := ts.Client().Post(ts.URL+"/v1/explain", "application/json", bytes.NewReader(raw))
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	wait(t, g.entered, "the first explanation to reach the model") // it holds the only slot
	code, b, h := post(t, ts, "/v1/explain", req)
	if code != http.StatusTooManyRequests || h.Get("Retry-After") == "" || !strings.Contains(string(b), "busy") {
		t.Fatalf("second explanation: %d, Retry-After %q, %s", code, h.Get("Retry-After"), b)
	}
	_, m, _ := get(t, ts, "/metrics")
	if !strings.Contains(string(m), "glassbox_explanations_in_flight 1\n") || !strings.Contains(string(m), "glassbox_http_requests_in_flight 2\n") {
		t.Fatalf("metrics while one explanation runs:\n%s", m)
	}
	g.release()
	if code := wait(t, done, "the first explanation"); code != http.StatusOK {
		t.Fatalf("first explanation: status %d", code)
	}
	// The slot is free again.
	if code, b, _ := post(t, ts, "/v1/explain", req); code != http.StatusOK {
		t.Fatalf("explanation after the first finished: %d %s", code, b)
	}
}

func TestTimeoutAndClientGone(t *testing.T) {
	f := iris(t)
	// A deadline that has passed when the work starts: 503, work not done.
	ts := newServer(t, f.m, f.meta, Options{Timeout: time.Nanosecond})
	code, b, h := post(t, ts, "/v1/explain", ExplainRequest{PredictRequest: PredictRequest{Rows: [][]float64{{6.7, 3.0, 5.2, 2.3}}}, Method: "saliency"})
	if code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || !strings.Contains(string(b), "limit of 1ns") {
		t.Fatalf("past the deadline: %d %s", code, b)
	}
	// A client that goes away: the server notices, stops and records 499.
	g := newGate(f.m)
	s, err := New(mustPredictor(t, g, f.meta), Options{})
	if err != nil {
		t.Fatal(err)
	}
	gone, finished := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/explain" {
			go func() { <-r.Context().Done(); close(gone) }()
			defer close(finished)
		}
		s.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	defer g.release()
	srv.Client().Timeout = 30 * time.Second
	g.armed.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	raw, _ := json.Marshal(ExplainRequest{PredictRequest: PredictRequest{Rows: [][]float64{{6.7, 3.0, 5.2, 2.3}}}, Method: "smoothgrad", Samples: 50})
	hreq, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/explain", bytes.NewReader(raw))
	hreq.Header.Set("Content-Type", "application/json")
	errc := make(chan error)
	go func() {
		resp, err := srv.Client().Do(hreq)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	wait(t, g.entered, "the explanation to reach the model")
	cancel()
	if err := wait(t, errc, "the cancelled request"); err == nil {
		t.Fatal("the cancelled request got an answer")
	}
	wait(t, gone, "the server to see the client go")
	g.release()
	wait(t, finished, "the handler to return")
	g.armed.Store(false)
	resp, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(m), `glassbox_http_requests_total{endpoint="/v1/explain",status="499"} 1`) || strings.Contains(string(m), `method="smoothgrad"`) {
		t.Fatalf("metrics after a client went away:\n%s", m)
	}
}

func TestExplainTakesLRPRule(t *testing.T) {
	f := iris(t)
	ts := newServer(t, f.m, f.meta, Options{Name: "iris-linear"}, f.train)
	// LRP's rule comes with the request; a misspelt one is the client's error.
	row := PredictRequest{Rows: [][]float64{{5.1, 3.5, 1.4, 0.2}}}
	if code, b, _ := post(t, ts, "/v1/explain", ExplainRequest{PredictRequest: row, Method: "lrp", Rule: "epsilon=0.01"}); code != http.StatusOK {
		t.Fatalf("lrp with rule epsilon=0.01: %d %s", code, b)
	}
	if code, b, _ := post(t, ts, "/v1/explain", ExplainRequest{PredictRequest: row, Method: "lrp", Rule: "zplsu"}); code != http.StatusBadRequest || !strings.Contains(string(b), "zplus") {
		t.Fatalf("lrp with rule zplsu: %d %s", code, b)
	}
}

func TestHealthMetricsAndPage(t *testing.T) {
	f := iris(t)
	ts := newServer(t, f.m, f.meta, Options{Name: "iris-linear"}, f.train)
	code, b, _ := get(t, ts, "/healthz")
	var h Health
	if err := json.Unmarshal(b, &h); err != nil || code != http.StatusOK {
		t.Fatalf("healthz %d %s", code, b)
	}
	if h.Status != "ok" || h.Model != "iris-linear" || h.Task != "classification" || len(h.InputShape) != 1 || h.InputShape[0] != 4 || h.Outputs != 3 {
		t.Fatalf("health %+v", h)
	}
	if strings.Join(h.Methods, ",") != "lime,saliency,ig,smoothgrad,kernelshap,deconvolution,deeplift,deepliftshap,gradientshap,guidedbackprop,inputxgradient,lrp,ablation,permutation,anchors,shapleysampling,counterfactual" {
		t.Fatalf("methods for a table with training rows: %v", h.Methods)
	}
	post(t, ts, "/v1/predict", PredictRequest{Rows: [][]float64{{5.1, 3.5, 1.4, 0.2}}})
	post(t, ts, "/v1/predict", PredictRequest{Rows: [][]float64{{5.1, 3.5, 1.4, 0.2}}})
	post(t, ts, "/v1/predict", PredictRequest{Rows: [][]float64{{5.1}}})
	post(t, ts, "/v1/explain", ExplainRequest{PredictRequest: PredictRequest{Rows: [][]float64{{5.1, 3.5, 1.4, 0.2}}}, Method: "ig"})
	code, b, hdr := get(t, ts, "/metrics")
	m := string(b)
	if code != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("metrics %d %s", code, hdr.Get("Content-Type"))
	}
	for _, want := range []string{
		`glassbox_model_info{model="iris-linear",task="classification"} 1`,
		"# TYPE glassbox_http_requests_total counter",
		`glassbox_http_requests_total{endpoint="/healthz",status="200"} 1`,
		`glassbox_http_requests_total{endpoint="/v1/predict",status="200"} 2`,
		`glassbox_http_requests_total{endpoint="/v1/predict",status="400"} 1`,
		`glassbox_http_requests_total{endpoint="/v1/explain",status="200"} 1`,
		"# TYPE glassbox_explain_seconds summary",
		`glassbox_explain_seconds_count{method="ig"} 1`,
		`glassbox_explain_seconds_sum{method="ig"} `,
		"glassbox_http_requests_in_flight 1\n",
		"glassbox_explanations_in_flight 0\n",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q:\n%s", want, m)
		}
	}
	// Every line is a comment or "name{labels} value".
	for _, line := range strings.Split(strings.TrimSpace(m), "\n") {
		if !strings.HasPrefix(line, "# ") && len(strings.Fields(line)) != 2 {
			t.Errorf("malformed metrics line %q", line)
		}
	}
	code, b, hdr = get(t, ts, "/")
	page := string(b)
	if code != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") {
		t.Fatalf("page %d %s", code, hdr.Get("Content-Type"))
	}
	for _, want := range []string{"<title>glassbox · iris-linear</title>", `"input_shape":[4]`, `"/v1/explain"`, `"/v1/predict"`, "petal length"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "http://") || strings.Contains(page, "https://") || strings.Contains(page, "src=\"//") {
		t.Error("the page loads something from outside")
	}
}

func TestNewRejectsBadSetups(t *testing.T) {
	f := iris(t)
	if _, err := New(nil, Options{}); err == nil || !strings.Contains(err.Error(), "nil") {
		t.Errorf("nil predictor: %v", err)
	}
	if _, err := New(mustPredictor(t, f.m, f.meta), Options{MaxBatch: -1}); err == nil || !strings.Contains(err.Error(), "negative") {
		t.Errorf("negative limit: %v", err)
	}
	// What a model file says is checked when it becomes a predictor,
	// before any server sees it.
	for _, c := range []struct {
		name string
		meta model.Meta
		want string
	}{
		{"no input shape", model.Meta{}, "input shape"},
		{"wrong input shape", model.Meta{InputShape: []int{5}}, "does not run on its input shape [5]"},
		{"bad task", model.Meta{Task: "ranking", InputShape: []int{4}}, "ranking"},
		{"mean of another width", model.Meta{InputShape: []int{4}, Mean: []float32{1, 2}, Std: []float32{1, 1}}, "standardises 2 features"},
		{"zero std", model.Meta{InputShape: []int{4}, Mean: make([]float32, 4), Std: make([]float32, 4)}, "positive"},
		{"huge input", model.Meta{InputShape: []int{1, 100000, 100000}}, "MaxInputValues"},
	} {
		if _, err := predictor.New(f.m, c.meta); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}
