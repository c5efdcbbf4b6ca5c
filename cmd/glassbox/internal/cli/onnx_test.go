package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/datasets"
	"github.com/glassbox-ml/glassbox/predictor"
	"github.com/glassbox-ml/glassbox/report"
	"github.com/glassbox-ml/glassbox/serve"
)

// copyFixture puts the PyTorch-exported CNN (predictor/testdata, made by
// make_cnn_onnx.py) and its sidecar into dir.
func copyFixture(t *testing.T, dir string) string {
	t.Helper()
	for _, name := range []string{"tiny_cnn.onnx", "tiny_cnn.json"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "predictor", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "tiny_cnn.onnx")
}

// An ONNX CNN exported by PyTorch, through the command line: predict,
// explain with LIME, integrated gradients (adding up within 1e-3) and
// Grad-CAM on its last convolution, and inspect's graph summary.
func TestONNXModelThroughTheCLI(t *testing.T) {
	dir := t.TempDir()
	mdl := copyFixture(t, dir)
	// The fixture's probe input as a PNG (8-bit, as a user would send).
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "predictor", "testdata", "tiny_cnn_probe.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var pix []float32
	for _, f := range strings.Fields(strings.Split(string(b), "\n")[0]) {
		v, _ := strconv.ParseFloat(f, 32)
		pix = append(pix, float32(v))
	}
	img := filepath.Join(dir, "probe.png")
	if err := report.WritePNG(img, datasets.PixelsToImage(pix, 1, 28, 28)); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, "predict", "--model", mdl, "--input", img, "--json")
	var pr struct {
		Probabilities []float32
		Class         *int
		Label         string
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &pr) != nil || len(pr.Probabilities) != 10 || pr.Label == "" {
		t.Fatalf("predict: exit %d, %q, %q", code, stdout, stderr)
	}
	for _, method := range []string{"lime", "ig", "gradcam"} {
		code, stdout, stderr := run(t, "explain", "--model", mdl, "--input", img, "--method", method, "--samples", map[string]string{"lime": "300", "ig": "0", "gradcam": "0"}[method],
			"--out", filepath.Join(dir, method), "--json")
		var rec explainRecord
		if code != 0 || json.Unmarshal([]byte(stdout), &rec) != nil || rec.Result == nil {
			t.Fatalf("explain %s: exit %d, %q, %q", method, code, stdout, stderr)
		}
		if rec.Label != *pr.Class || len(rec.Files) != 2 {
			t.Errorf("%s explained output %d (predicted %d), files %v", method, rec.Label, *pr.Class, rec.Files)
		}
		switch method {
		case "ig":
			if r := rec.Quality["completeness_residual"]; r > 1e-3 {
				t.Errorf("integrated gradients add up only within %v", r)
			}
		case "gradcam":
			if !strings.Contains(rec.Layer, "Conv") {
				t.Errorf("Grad-CAM read layer %q, want the last Conv's output", rec.Layer)
			}
		case "lime":
			if rec.Quality["r2"] <= 0 {
				t.Errorf("LIME R² %v", rec.Quality["r2"])
			}
		}
	}
	code, stdout, stderr = run(t, "inspect", "--model", mdl, "--out", filepath.Join(dir, "look"))
	if code != 0 || !strings.Contains(stdout, "Conv×2") || !strings.Contains(stdout, "4266 parameters") {
		t.Fatalf("inspect: exit %d, %q, %q", code, stdout, stderr)
	}
}

// The server serves an imported ONNX model like a glassbox one: its
// methods include Grad-CAM, and an image request is explained.
func TestServeONNXModel(t *testing.T) {
	dir := t.TempDir()
	p, err := predictor.Load(copyFixture(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	s, err := serve.New(p, serve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	var h serve.Health
	if err := json.Unmarshal(rec.Body.Bytes(), &h); err != nil || !slices.Contains(h.Methods, "gradcam") || h.Outputs != 10 {
		t.Fatalf("health %s (%v)", rec.Body, err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, datasets.PixelsToImage(make([]float32, 784), 1, 28, 28)); err != nil {
		t.Fatal(err)
	}
	body := `{"image": "` + base64.StdEncoding.EncodeToString(buf.Bytes()) + `", "method": "gradcam", "picture": false}`
	var ex serve.ExplainResponse
	serveJSON(t, p, "/v1/explain", body, &ex)
	if ex.Explanation.Method != "gradcam" || ex.Explanation.Layer == "" {
		t.Fatalf("explanation %+v", ex.Explanation)
	}
}
