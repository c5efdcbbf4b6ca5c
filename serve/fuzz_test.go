package serve

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glassbox-ml/glassbox/datasets"
	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/predictor"
)

// fuzzServers are the two servers FuzzHandlers drives: the iris table
// model with its training rows (every table method), and the small CNN on
// 28×28 grey images (every image method). Their limits keep one request
// short.
var fuzzServers = sync.OnceValues(func() ([2]http.Handler, error) {
	var hs [2]http.Handler
	f, err := irisModel()
	if err != nil {
		return hs, err
	}
	p, err := newPredictorFor(f)
	if err != nil {
		return hs, err
	}
	opts := Options{Timeout: 5 * time.Second, MaxSamples: 500, MaxBatch: 64, MaxBodyBytes: 1 << 20, MemoryBudget: 64 << 20, QueueWait: time.Millisecond}
	table, err := New(p, opts)
	if err != nil {
		return hs, err
	}
	cm, cmeta := convModel()
	ip, err := predictorNew(cm, cmeta)
	if err != nil {
		return hs, err
	}
	images, err := New(ip, opts)
	if err != nil {
		return hs, err
	}
	return [2]http.Handler{table.Handler(), images.Handler()}, nil
})

// FuzzHandlers sends arbitrary requests (method, path, Content-Type,
// Origin, body) to the table and the image server. Whatever it sends, the
// answer is never a 5xx other than 503 (a time limit), never a panic,
// always JSON from the API with an error in the request's words.
//
// Its seed corpus, testdata/fuzz/FuzzHandlers, is fuzzSeeds written out
// (go test ./serve/ -run TestFuzzCorpus -update-corpus rewrites it).
func FuzzHandlers(f *testing.F) {
	f.Fuzz(func(t *testing.T, image bool, method, path, contentType, origin string, body []byte) {
		hs, err := fuzzServers()
		if err != nil {
			t.Fatal(err)
		}
		h := hs[0]
		if image {
			h = hs[1]
		}
		// The request as it comes off the wire, parsed as the server
		// parses it (a header value may smuggle in more headers).
		var raw bytes.Buffer
		fmt.Fprintf(&raw, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n", method, path)
		if contentType != "" {
			fmt.Fprintf(&raw, "Content-Type: %s\r\n", contentType)
		}
		if origin != "" {
			fmt.Fprintf(&raw, "Origin: %s\r\n", origin)
		}
		fmt.Fprintf(&raw, "Content-Length: %d\r\n\r\n", len(body))
		raw.Write(body)
		req, err := http.ReadRequest(bufio.NewReader(&raw))
		if err != nil {
			return // not a request the server would hand to a handler
		}
		local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
		req = req.WithContext(context.WithValue(context.Background(), http.LocalAddrContextKey, local))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		code, answer := rec.Code, rec.Body.String()
		if code >= 500 && code != http.StatusServiceUnavailable {
			t.Fatalf("%s %s (%q, origin %q) %q: %d %s", method, path, contentType, origin, body, code, answer)
		}
		if method == http.MethodHead || code == http.StatusNoContent {
			return
		}
		isAPI := path != "/" && path != "/metrics"
		if code >= 400 || isAPI && path != "/healthz" && code == http.StatusOK {
			if !json.Valid([]byte(answer)) {
				t.Fatalf("%s %s %q: %d, not JSON: %s", method, path, body, code, answer)
			}
		}
		if code >= 400 {
			var e struct{ Error string }
			if json.Unmarshal([]byte(answer), &e) != nil || e.Error == "" {
				t.Fatalf("%s %s %q: %d without an error message: %s", method, path, body, code, answer)
			}
			if w := leak(e.Error, string(body)+path+contentType+origin); w != "" {
				t.Fatalf("%s %s %q: %d %q speaks of %q", method, path, body, code, e.Error, w)
			}
		}
	})
}

var updateCorpus = flag.Bool("update-corpus", false, "rewrite testdata/fuzz/FuzzHandlers from fuzzSeeds")

// TestFuzzCorpus checks that the committed seed corpus holds every seed.
func TestFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzHandlers")
	if *updateCorpus {
		os.MkdirAll(dir, 0o755)
	}
	for i, s := range fuzzSeeds() {
		name := filepath.Join(dir, fmt.Sprintf("seed-%02d", i))
		var b strings.Builder
		fmt.Fprintf(&b, "go test fuzz v1\nbool(%v)\nstring(%q)\nstring(%q)\nstring(%q)\nstring(%q)\n[]byte(%q)\n",
			s.image, s.method, s.path, s.contentType, s.origin, []byte(s.body))
		if *updateCorpus {
			if err := os.WriteFile(name, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got, err := os.ReadFile(name); err != nil || string(got) != b.String() {
			t.Errorf("%s is not seed %d (%v); rewrite the corpus with -update-corpus", name, i, err)
		}
	}
}

type fuzzSeed struct {
	image                                   bool
	method, path, contentType, origin, body string
}

// fuzzSeeds are valid and malformed requests for both models; the same
// set is committed in testdata/fuzz/FuzzHandlers.
func fuzzSeeds() []fuzzSeed {
	const js = "application/json"
	row := `[[6.7, 3.0, 5.2, 2.3]]`
	digit := digitPNGBase64()
	var s []fuzzSeed
	add := func(image bool, method, path, ct, origin, body string) {
		s = append(s, fuzzSeed{image, method, path, ct, origin, body})
	}
	for _, body := range []string{
		`{"rows": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}`,
		`{"csv": "sepal length,sepal width,petal length,petal width\n5.1,3.5,1.4,0.2\n"}`,
		`{"csv": "5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3"}`,
		`{"rows": [[1, 2`, `{"rows": "1,2,3,4"}`, `[]`, `null`, `{"rows": [[1e39, 0, 0, 0]]}`, `{"rows": [[1, 2, 3]]}`,
		`{"rows": []}`, `{"rows": [[]]}`, `{"csv": "a,b\n\"1,2"}`, `{"image": "@@@@"}`, `{"rows": ` + row + `, "csv": "1,2,3,4"}`,
	} {
		add(false, "POST", "/v1/predict", js, "", body)
	}
	for _, body := range []string{
		`{"method": "lime", "samples": 200, "seed": 3, "rows": ` + row + `}`,
		`{"method": "kernelshap", "picture": false, "rows": ` + row + `}`,
		`{"method": "ig", "samples": 20, "rows": ` + row + `}`,
		`{"method": "smoothgrad", "samples": 20, "label": 1, "rows": ` + row + `}`,
		`{"method": "saliency", "csv": "6.7,3.0,5.2,2.3"}`,
		`{"method": "lime", "samples": 1, "rows": ` + row + `}`,
		`{"method": "magic", "rows": ` + row + `}`,
		`{"method": "gradcam", "rows": ` + row + `}`,
		`{"label": 99, "rows": ` + row + `}`,
		`{"label": -2, "rows": ` + row + `}`,
		`{"samples": -1, "rows": ` + row + `}`,
		`{"samples": 100000000, "rows": ` + row + `}`,
		`{"hide": "paint", "rows": ` + row + `}`,
		`{"seed": -1, "rows": ` + row + `}`,
	} {
		add(false, "POST", "/v1/explain", js, "", body)
	}
	add(false, "GET", "/healthz", "", "", "")
	add(false, "GET", "/metrics", "", "", "")
	add(false, "GET", "/", "", "", "")
	add(false, "HEAD", "/", "", "", "")
	add(false, "GET", "/nowhere", "", "", "")
	add(false, "GET", "/v1/predict", "", "", "")
	add(false, "POST", "/v1/predict", "text/plain", "", `{"rows": `+row+`}`)
	add(false, "POST", "/v1/predict", "application/json; charset=latin1", "", `{"rows": `+row+`}`)
	add(false, "POST", "/v1/predict", js, "https://evil.example", `{"rows": `+row+`}`)
	add(false, "POST", "/v1/predict", js, "http://127.0.0.1:8080", `{"rows": `+row+`}`)
	add(false, "OPTIONS", "/v1/explain", "", "https://evil.example", "")
	zeros := "[[" + strings.Repeat("0,", 783) + "0]]"
	for _, body := range []string{
		`{"image": "` + digit + `"}`,
		`{"image": "data:image/png;base64,` + digit + `"}`,
		`{"image": "` + jpegBase64() + `"}`,
		`{"image": "` + b64(pngHeader(4096, 4096, 16, 6)) + `"}`,
		`{"image": "` + b64(pngHeader(8000, 8000, 8, 6)) + `"}`,
		`{"image": "` + b64(pngHeader(28, 28, 8, 0, 1)) + `"}`,
		`{"image": "` + digit[:len(digit)/2] + `"}`,
		`{"image": "` + gifBase64Plain() + `"}`,
		`{"rows": ` + zeros + `}`,
		`{"csv": "` + strings.Repeat("0,", 783) + `0"}`,
	} {
		add(true, "POST", "/v1/predict", js, "", body)
	}
	for _, body := range []string{
		`{"method": "lime", "samples": 100, "image": "` + digit + `"}`,
		`{"method": "kernelshap", "samples": 100, "picture": false, "image": "` + digit + `"}`,
		`{"method": "gradcam", "label": 3, "image": "` + digit + `"}`,
		`{"method": "occlusion", "image": "` + digit + `"}`,
		`{"method": "saliency", "rows": ` + zeros + `}`,
		`{"method": "lime", "samples": 50, "hide": "blur", "image": "` + digit + `"}`,
		`{"method": "lime", "samples": 50, "hide": "constant", "hide_value": 1e300, "image": "` + digit + `"}`,
	} {
		add(true, "POST", "/v1/explain", js, "", body)
	}
	return s
}

func newPredictorFor(f *irisFixture) (*predictor.Predictor, error) {
	p, err := predictor.New(f.m, f.meta)
	if err != nil {
		return nil, err
	}
	p.Background = f.train.Data()
	return p, nil
}

func predictorNew(m nn.Module, meta model.Meta) (*predictor.Predictor, error) {
	return predictor.New(m, meta)
}

func b64(raw []byte) string { return base64.StdEncoding.EncodeToString(raw) }

// digitImage is the first embedded MNIST test digit.
var digitImage = sync.OnceValue(func() image.Image {
	ds, err := datasets.Load(context.Background(), "mnist-small", datasets.Options{Offline: true})
	if err != nil {
		panic(err)
	}
	return datasets.PixelsToImage(ds.Test.Image(0), 1, 28, 28)
})

func digitPNGBase64() string {
	var buf bytes.Buffer
	png.Encode(&buf, digitImage())
	return b64(buf.Bytes())
}

func jpegBase64() string {
	var buf bytes.Buffer
	jpeg.Encode(&buf, digitImage(), nil)
	return b64(buf.Bytes())
}

func gifBase64Plain() string {
	var buf bytes.Buffer
	gif.Encode(&buf, image.NewGray(image.Rect(0, 0, 28, 28)), nil)
	return b64(buf.Bytes())
}
