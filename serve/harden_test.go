package serve

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// send makes a request with the given content type and extra headers,
// and returns the status, the answer and its headers.
func send(t *testing.T, ts *httptest.Server, method, path, contentType, body string, hdr ...string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// rejected reads glassbox_rejected_total for reason from /metrics.
func rejected(t *testing.T, ts *httptest.Server, reason string) int {
	t.Helper()
	_, m, _ := get(t, ts, "/metrics")
	var n int
	key := fmt.Sprintf(`glassbox_rejected_total{reason="%s"} `, reason)
	for _, line := range strings.Split(string(m), "\n") {
		if v, ok := strings.CutPrefix(line, key); ok {
			fmt.Sscan(v, &n)
			return n
		}
	}
	t.Fatalf("/metrics has no %s line:\n%s", key, m)
	return 0
}

const irisRow = `{"rows": [[6.7, 3.0, 5.2, 2.3]]}`

// A page on any site can POST text/plain to a local server without a
// preflight; the server must not do the work.
func TestCrossSiteTextPlainRefused(t *testing.T) {
	f := iris(t)
	g := newGate(f.m)
	ts := newServer(t, g, f.meta, Options{})
	t.Cleanup(g.release)
	g.armed.Store(true) // a request that reached the model would hang here
	for _, ct := range []string{"text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "", "application/json; charset=latin1", "application/jsonx"} {
		for _, path := range []string{"/v1/predict", "/v1/explain"} {
			code, b, h := send(t, ts, http.MethodPost, path, ct, irisRow, "Origin", "https://evil.example")
			if code != http.StatusForbidden {
				t.Errorf("cross-site %s %q: %d %s", path, ct, code, b)
			}
			code, b, h = send(t, ts, http.MethodPost, path, ct, irisRow)
			if code != http.StatusUnsupportedMediaType || !strings.Contains(b, "application/json") || h.Get("Accept-Post") != "application/json" {
				t.Errorf("%s with Content-Type %q: %d %s", path, ct, code, b)
			}
		}
	}
	if n := rejected(t, ts, "content_type"); n != 14 {
		t.Errorf("content_type rejections %d, want 14", n)
	}
	g.armed.Store(false)
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8"} {
		if code, b, _ := send(t, ts, http.MethodPost, "/v1/predict", ct, irisRow); code != http.StatusOK {
			t.Errorf("Content-Type %q: %d %s", ct, code, b)
		}
	}
}

func TestOriginCheck(t *testing.T) {
	f := iris(t)
	ts := newServer(t, f.m, f.meta, Options{})
	// The server's own page: same origin, as a browser sends it.
	if code, b, _ := send(t, ts, http.MethodPost, "/v1/predict", "application/json", irisRow, "Origin", ts.URL); code != http.StatusOK {
		t.Fatalf("same-origin POST: %d %s", code, b)
	}
	for _, origin := range []string{"https://evil.example", "http://localhost:1", "null", "http://127.0.0.1", "file://"} {
		code, b, h := send(t, ts, http.MethodPost, "/v1/predict", "application/json", irisRow, "Origin", origin)
		if code != http.StatusForbidden || !strings.Contains(b, "refused") || h.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("Origin %q: %d %s", origin, code, b)
		}
	}
	if code, _, _ := send(t, ts, http.MethodGet, "/metrics", "", "", "Origin", "https://evil.example"); code != http.StatusForbidden {
		t.Errorf("GET /metrics from a foreign page: %d", code)
	}
	if n := rejected(t, ts, "origin"); n != 6 {
		t.Errorf("origin rejections %d, want 6", n)
	}

	allowed := newServer(t, f.m, f.meta, Options{AllowOrigins: []string{"https://app.example", "HTTP://Other.Example:8080/"}})
	for _, origin := range []string{"https://app.example", "https://app.example:443", "http://other.example:8080"} {
		code, b, h := send(t, allowed, http.MethodPost, "/v1/predict", "application/json", irisRow, "Origin", origin)
		if code != http.StatusOK || h.Get("Access-Control-Allow-Origin") != origin {
			t.Errorf("allowed Origin %q: %d %s, Access-Control-Allow-Origin %q", origin, code, b, h.Get("Access-Control-Allow-Origin"))
		}
	}
	// The browser's preflight for a JSON POST from an allowed page.
	code, _, h := send(t, allowed, http.MethodOptions, "/v1/explain", "", "", "Origin", "https://app.example", "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type")
	if code != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "https://app.example" || h.Get("Access-Control-Allow-Methods") != "POST" || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "Content-Type") {
		t.Errorf("preflight: %d %v", code, h)
	}
	if code, _, _ := send(t, allowed, http.MethodOptions, "/v1/explain", "", "", "Origin", "https://evil.example", "Access-Control-Request-Method", "POST"); code != http.StatusForbidden {
		t.Errorf("preflight from a foreign origin: %d", code)
	}
	if code, _, _ := send(t, allowed, http.MethodPost, "/v1/predict", "application/json", irisRow, "Origin", "https://evil.example"); code != http.StatusForbidden {
		t.Errorf("foreign origin with others allowed: %d", code)
	}
	any := newServer(t, f.m, f.meta, Options{AllowOrigins: []string{"*"}})
	if code, _, _ := send(t, any, http.MethodPost, "/v1/predict", "application/json", irisRow, "Origin", "https://evil.example"); code != http.StatusOK {
		t.Errorf(`AllowOrigins "*": %d`, code)
	}
	if _, err := New(mustPredictor(t, f.m, f.meta), Options{AllowOrigins: []string{"example.com"}}); err == nil || !strings.Contains(err.Error(), "scheme://host") {
		t.Errorf("origin without a scheme: %v", err)
	}
}

// A DNS name rebound to 127.0.0.1 arrives with its own Host.
func TestHostCheckOnLoopback(t *testing.T) {
	f := iris(t)
	ts := newServer(t, f.m, f.meta, Options{AllowOrigins: []string{"http://mybox.lan:8080"}})
	port := ts.URL[strings.LastIndex(ts.URL, ":")+1:]
	for _, host := range []string{"attacker.example:" + port, "attacker.example", "localhost.attacker.example"} {
		code, b, _ := send(t, ts, http.MethodPost, "/v1/predict", "application/json", irisRow, "Host", host, "Origin", "http://"+host)
		if code != http.StatusForbidden || !strings.Contains(b, "host") {
			t.Errorf("Host %q: %d %s", host, code, b)
		}
		if code, _, _ := send(t, ts, http.MethodGet, "/", "", "", "Host", host); code != http.StatusForbidden {
			t.Errorf("GET / with Host %q: %d", host, code)
		}
	}
	for _, host := range []string{"localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port, "app.localhost:" + port, "mybox.lan:8080", "MYBOX.lan"} {
		if code, b, _ := send(t, ts, http.MethodGet, "/healthz", "", "", "Host", host); code != http.StatusOK {
			t.Errorf("Host %q: %d %s", host, code, b)
		}
	}
	if n := rejected(t, ts, "host"); n != 6 {
		t.Errorf("host rejections %d, want 6", n)
	}
}

// pngHeader is a PNG that declares a w×h image of the given bit depth and
// colour type (6: RGBA; interlace 1: Adam7) and holds almost no pixels:
// a few dozen bytes.
func pngHeader(w, h uint32, depth, colorType byte, interlace ...byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		b.WriteString(typ)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = depth, colorType
	if len(interlace) > 0 {
		ihdr[12] = interlace[0]
	}
	chunk("IHDR", ihdr)
	// A few bytes of compressed zeros: the decoder allocates the whole
	// image, then runs out of pixel data.
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(make([]byte, 64))
	zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return b.Bytes()
}

func TestDecodeBudget(t *testing.T) {
	m, meta := convModel()
	p := mustPredictor(t, m, meta)
	s, err := New(p, Options{MemoryBudget: 64 << 20, QueueWait: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	body := func(raw []byte) string {
		b, _ := json.Marshal(PredictRequest{Image: base64.StdEncoding.EncodeToString(raw)})
		return string(b)
	}
	// 4096×4096 16-bit RGBA: within the pixel limit, 128 MiB decoded.
	for _, path := range []string{"/v1/predict", "/v1/explain"} {
		code, b, _ := send(t, ts, http.MethodPost, path, "application/json", body(pngHeader(4096, 4096, 16, 6)))
		if code != http.StatusRequestEntityTooLarge || !strings.Contains(b, "decoding a 4096×4096 PNG") || !strings.Contains(b, "budget of 64 MiB") {
			t.Errorf("%s of a 4096×4096 16-bit PNG: %d %s", path, code, b)
		}
	}
	// Over the pixel limit: refused from the header alone.
	code, b, _ := send(t, ts, http.MethodPost, "/v1/predict", "application/json", body(pngHeader(8000, 8000, 8, 6)))
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(b, "8000×8000") {
		t.Errorf("8000×8000 PNG: %d %s", code, b)
	}
	// One that fits alone, while other requests hold the budget: 429.
	fits := body(pngHeader(1024, 1024, 8, 6)) // 4 MiB + 4 MiB of planes
	l := &lease{s: s}
	if err := l.take(context.Background(), 60<<20, "the test"); err != nil {
		t.Fatal(err)
	}
	code, b, h := send(t, ts, http.MethodPost, "/v1/predict", "application/json", fits)
	if code != http.StatusTooManyRequests || h.Get("Retry-After") == "" || !strings.Contains(b, "memory budget") {
		t.Errorf("decode with the budget in use: %d %s", code, b)
	}
	l.done()
	// Free again: the header is decoded, the missing pixels are a 400.
	if code, b, _ := send(t, ts, http.MethodPost, "/v1/predict", "application/json", fits); code != http.StatusBadRequest || strings.Contains(b, "png:") {
		t.Errorf("decode with the budget free: %d %s", code, b)
	}
	if n := rejected(t, ts, "too_large"); n != 3 {
		t.Errorf("too_large rejections %d, want 3", n)
	}
	if n := rejected(t, ts, "busy"); n != 1 {
		t.Errorf("busy rejections %d, want 1", n)
	}
	if got := s.mem.inUse(); got != 0 {
		t.Errorf("%d bytes of the budget still reserved after every request ended", got)
	}
}

func decodeConfig(raw []byte) (image.Config, string, error) {
	return image.DecodeConfig(bytes.NewReader(raw))
}

// decodeCost must cover what decoding allocates.
func TestDecodeCost(t *testing.T) {
	for _, c := range []struct {
		name        string
		raw         []byte
		channels    int
		atLeast     int64
		interlaced  bool
		progressive bool
	}{
		{"16-bit RGBA", pngHeader(4000, 4000, 16, 6), 3, 4000 * 4000 * (8 + 12), false, false},
		{"8-bit grey", pngHeader(1000, 1000, 8, 0), 1, 1000 * 1000 * (1 + 4), false, false},
	} {
		cfg, format, err := decodeConfig(c.raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := decodeCost(c.raw, cfg, format, c.channels); got < c.atLeast {
			t.Errorf("%s: cost %d, want at least %d", c.name, got, c.atLeast)
		}
	}
	interlaced := pngHeader(1000, 1000, 8, 0, 1)
	cfg, _, err := decodeConfig(interlaced)
	if err != nil {
		t.Fatal(err)
	}
	if got := decodeCost(interlaced, cfg, "png", 1); got < 1000*1000*3/2+1000*1000*4 {
		t.Errorf("interlaced: %d", got)
	}
}

func TestPredictConcurrencyBound(t *testing.T) {
	f := iris(t)
	g := newGate(f.m)
	ts := newServer(t, g, f.meta, Options{MaxConcurrentPredict: 1, QueueWait: 20 * time.Millisecond})
	t.Cleanup(g.release)
	g.armed.Store(true)
	done := make(chan int)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/v1/predict", strings.NewReader(irisRow))
		req.Header.Set("Content-Type", "application/json")
		resp, err := ts.Client().Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	wait(t, g.entered, "the first prediction to reach the model")
	code, b, h := send(t, ts, http.MethodPost, "/v1/predict", "application/json", irisRow)
	if code != http.StatusTooManyRequests || h.Get("Retry-After") == "" || !strings.Contains(b, "prediction slots") {
		t.Fatalf("second prediction: %d, Retry-After %q, %s", code, h.Get("Retry-After"), b)
	}
	_, m, _ := get(t, ts, "/metrics")
	if !strings.Contains(string(m), "glassbox_predictions_in_flight 1\n") || !strings.Contains(string(m), `glassbox_rejected_total{reason="busy"} 1`) {
		t.Fatalf("metrics while one prediction runs:\n%s", m)
	}
	g.release()
	if code := wait(t, done, "the first prediction"); code != http.StatusOK {
		t.Fatalf("first prediction: %d", code)
	}
	if code, b, _ := send(t, ts, http.MethodPost, "/v1/predict", "application/json", irisRow); code != http.StatusOK {
		t.Fatalf("prediction after the first: %d %s", code, b)
	}
	// A request that waits gets the slot when it frees within QueueWait.
	g2 := newGate(f.m)
	ts2 := newServer(t, g2, f.meta, Options{MaxConcurrentPredict: 1, QueueWait: 10 * time.Second})
	t.Cleanup(g2.release)
	g2.armed.Store(true)
	codes := make(chan int, 2)
	for range 2 {
		go func() {
			req, _ := http.NewRequest(http.MethodPost, ts2.URL+"/v1/predict", strings.NewReader(irisRow))
			req.Header.Set("Content-Type", "application/json")
			resp, err := ts2.Client().Do(req)
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	wait(t, g2.entered, "a prediction to reach the model")
	time.Sleep(20 * time.Millisecond)
	g2.release()
	for range 2 {
		if code := wait(t, codes, "the queued predictions"); code != http.StatusOK {
			t.Fatalf("queued prediction: %d", code)
		}
	}
}

// hugeWeightModel is a linear iris model whose first feature has weight
// 3e38: finite at the mean, ±Inf once the standardised feature passes
// about 1.1.
func hugeWeightModel(t *testing.T) (nn.Module, *irisFixture) {
	f := iris(t)
	lin := nn.NewLinear(4, 3, tensor.NewRNG(1))
	w := lin.Weight.Value.Data()
	for o := range 3 {
		w[o] = 3e38 // Weight is [in, out]: input 0
	}
	return lin, f
}

func TestNonFiniteOutputIs422(t *testing.T) {
	m, f := hugeWeightModel(t)
	var logs lockedBuffer
	p := mustPredictor(t, m, f.meta)
	p.Background = f.train.Data()
	s, err := New(p, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	far := `[[9.9, 3.0, 5.2, 2.3]]`
	mean := fmt.Sprintf("[[%v, 3.0, 5.2, 2.3]]", f.meta.Mean[0])
	for _, c := range []struct{ name, path, body string }{
		{"predict", "/v1/predict", `{"rows": ` + far + `}`},
		{"predict batch", "/v1/predict", `{"rows": [[5.1, 3.5, 1.4, 0.2], [9.9, 3.0, 5.2, 2.3]]}`},
		{"explain the input", "/v1/explain", `{"method": "saliency", "rows": ` + far + `}`},
		// Finite at the input, not at the perturbations LIME tries.
		{"explain perturbations", "/v1/explain", `{"method": "lime", "samples": 200, "rows": ` + mean + `}`},
		{"kernelshap perturbations", "/v1/explain", `{"method": "kernelshap", "rows": ` + mean + `}`},
	} {
		code, b, _ := send(t, ts, http.MethodPost, c.path, "application/json", c.body)
		if code != http.StatusUnprocessableEntity || !strings.Contains(b, "not a finite number") {
			t.Errorf("%s: %d %s", c.name, code, b)
		}
	}
	if code, b, _ := send(t, ts, http.MethodPost, "/v1/predict", "application/json", `{"rows": `+mean+`}`); code != http.StatusOK {
		t.Errorf("finite output: %d %s", code, b)
	}
	if n := rejected(t, ts, "non_finite"); n != 5 {
		t.Errorf("non_finite rejections %d, want 5", n)
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("a bad input was logged as a fault:\n%s", logs.String())
	}
}

// lockedBuffer is a bytes.Buffer safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A body of many tiny rows or CSV values is refused before it becomes a
// slice per row.
func TestBatchBoundsWhileParsing(t *testing.T) {
	f := iris(t)
	ts := newServer(t, f.m, f.meta, Options{MaxBatch: 100})
	rows := "[" + strings.Repeat("[1,2,3,4],", 100000) + "[1,2,3,4]]"
	code, b, _ := send(t, ts, http.MethodPost, "/v1/predict", "application/json", `{"rows": `+rows+`}`)
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(b, "more than 100 rows") {
		t.Errorf("100001 rows: %d %s", code, b)
	}
	csv := strings.Repeat("1,2,3,4\n", 200)
	code, b, _ = send(t, ts, http.MethodPost, "/v1/predict", "application/json", fmt.Sprintf(`{"csv": %q}`, csv))
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(b, "at most 100 rows") {
		t.Errorf("200 CSV rows: %d %s", code, b)
	}
	for _, c := range []struct{ body, want string }{
		{`{"rows": [[1,2,3,4,5,6,7,8,9,10]]}`, "row 0 has 10 values, the model takes 4"},
		{`{"rows": [[1,2,3,"4"]]}`, "row 0, value 3: got a string, want a number"},
		{`{"rows": [[1,2,3,1e39]]}`, "row 0, value 3: 1e39 is too large"},
		{`{"rows": [1,2,3,4]}`, "row 0: got a number, want an array of 4 numbers"},
		{`{"rows": {"a": 1}}`, `field "rows": got an object`},
		{`{"rows": []}`, "no rows"},
		{`{"rows": [[]]}`, "row 0 has 0 values"},
	} {
		code, b, _ := send(t, ts, http.MethodPost, "/v1/predict", "application/json", c.body)
		var e struct{ Error string }
		json.Unmarshal([]byte(b), &e)
		if code != http.StatusBadRequest || !strings.Contains(e.Error, c.want) {
			t.Errorf("%s: %d %s, want 400 and %q", c.body, code, b, c.want)
		}
	}
	if code, b, _ := send(t, ts, http.MethodPost, "/v1/predict", "application/json", `{"rows": [[ 5.1 , 3.5e0,1.4,-0.2E+1 ] ,[6.7,3,5.2,2.3]], "csv": ""}`); code != http.StatusOK {
		t.Errorf("rows with spaces and exponents: %d %s", code, b)
	}
	if code, b, _ := send(t, ts, http.MethodPost, "/v1/predict", "application/json", `{"rows": null, "csv": "1,2,3,4"}`); code != http.StatusOK {
		t.Errorf("rows null beside csv: %d %s", code, b)
	}
}

// An explanation's memory is estimated from its samples and refused over
// the budget, with the number of samples that fits.
func TestExplainMemoryBudget(t *testing.T) {
	f := iris(t)
	ts := newServer(t, f.m, f.meta, Options{MemoryBudget: 8 << 20}, f.train)
	code, b, _ := send(t, ts, http.MethodPost, "/v1/explain", "application/json", `{"method": "lime", "samples": 50000, "picture": false, "rows": [[6.7, 3.0, 5.2, 2.3]]}`)
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(b, "budget of 8.0 MiB") || !strings.Contains(b, "ask for at most") {
		t.Fatalf("lime with 50000 samples in 8 MiB: %d %s", code, b)
	}
	var e struct{ Error string }
	json.Unmarshal([]byte(b), &e)
	var most int
	fmt.Sscanf(e.Error[strings.Index(e.Error, "at most ")+len("at most "):], "%d", &most)
	if most < 1000 || most >= 50000 {
		t.Fatalf("suggested %d samples from %q", most, e.Error)
	}
	body := fmt.Sprintf(`{"method": "lime", "samples": %d, "picture": false, "rows": [[6.7, 3.0, 5.2, 2.3]]}`, most)
	if code, b, _ := send(t, ts, http.MethodPost, "/v1/explain", "application/json", body); code != http.StatusOK {
		t.Fatalf("lime with the suggested %d samples: %d %s", most, code, b)
	}
}

// HTTP errors speak of the request's JSON fields, not of the library's
// flags, Go fields or packages.
func TestErrorsInClientWords(t *testing.T) {
	f := iris(t)
	table := newServer(t, f.m, f.meta, Options{}, f.train)
	bare := newServer(t, f.m, f.meta, Options{})
	cm, cmeta := convModel()
	images := newServer(t, cm, cmeta, Options{})
	jpegHead := base64.StdEncoding.EncodeToString([]byte("\xff\xd8\xff\xdb\x00\x43\x00garbage"))
	pngBad := base64.StdEncoding.EncodeToString(append(pngHeader(28, 28, 8, 0)[:20], 0, 0))
	for _, c := range []struct {
		ts   *httptest.Server
		path string
		body string
	}{
		{table, "/v1/predict", `{"colour": 1}`},
		{table, "/v1/predict", `[1, 2]`},
		{table, "/v1/predict", `{"csv": "a,b\n\"1,2"}`},
		{table, "/v1/predict", `{"csv": "x,y,z,w\na,b,c,d"}`},
		{table, "/v1/explain", `{"method": "lime", "samples": 1, "rows": [[6.7, 3.0, 5.2, 2.3]]}`},
		{table, "/v1/explain", `{"method": "limee", "rows": [[6.7, 3.0, 5.2, 2.3]]}`},
		{bare, "/v1/explain", `{"method": "kernelshap", "rows": [[6.7, 3.0, 5.2, 2.3]]}`},
		{table, "/v1/explain", `{"label": "x", "rows": [[6.7, 3.0, 5.2, 2.3]]}`},
		{images, "/v1/predict", `{"image": "` + jpegHead + `"}`},
		{images, "/v1/predict", `{"image": "` + pngBad + `"}`},
		{images, "/v1/predict", `{"image": "a$b"}`},
	} {
		code, b, _ := send(t, c.ts, http.MethodPost, c.path, "application/json", c.body)
		if code != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", c.body, code, b)
		}
		if w := leak(b, c.body); w != "" {
			t.Errorf("%s: %s speaks of %q", c.body, b, w)
		}
	}
}

// leakWords are library words an HTTP client does not know: CLI flags,
// Go package prefixes, Go field names and types.
var leakWords = []string{"--", "csv: ", "png: ", "jpeg: ", "json: ", "zlib: ", "flate: ", "strconv", "base64 data", "explain: ",
	"Samples", "Steps", "Options", "float32", "float64", "[]", "Go struct", "*int", "uint64", "serve.", "predictor.", "runtime error", "goroutine"}

// leak returns the first leak word in answer that the request did not
// itself contain.
func leak(answer, request string) string {
	for _, w := range leakWords {
		if strings.Contains(request, w) {
			continue
		}
		for i := 0; ; {
			j := strings.Index(answer[i:], w)
			if j < 0 {
				break
			}
			i += j
			// A package prefix ("csv: ") counts as a word of its own, not
			// as the end of a path such as /v1/explain: .
			if !strings.HasSuffix(w, ": ") || i == 0 || !strings.ContainsRune("/-_.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", rune(answer[i-1])) {
				return w
			}
			i += len(w)
		}
	}
	return ""
}

// The wire types the server decodes must take exactly the JSON fields of
// the public request types.
func TestWireTypesMatchRequests(t *testing.T) {
	fields := func(v any) []string {
		var out []string
		var walk func(reflect.Type)
		walk = func(t reflect.Type) {
			for i := range t.NumField() {
				sf := t.Field(i)
				if sf.Anonymous {
					walk(sf.Type)
					continue
				}
				out = append(out, sf.Tag.Get("json"))
			}
		}
		walk(reflect.TypeOf(v))
		return out
	}
	if a, b := fields(PredictRequest{}), fields(predictWire{}); !reflect.DeepEqual(a, b) {
		t.Errorf("PredictRequest %v, predictWire %v", a, b)
	}
	if a, b := fields(ExplainRequest{}), fields(explainWire{}); !reflect.DeepEqual(a, b) {
		t.Errorf("ExplainRequest %v, explainWire %v", a, b)
	}
}

// A client that sends its body slowly holds neither a slot nor more
// memory than it sent.
func TestSlowBodyHoldsNoSlot(t *testing.T) {
	f := iris(t)
	p := mustPredictor(t, f.m, f.meta)
	s, err := New(p, Options{MaxConcurrentPredict: 1, MaxConcurrentExplain: 1, QueueWait: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	var pws []*io.PipeWriter
	for _, path := range []string{"/v1/predict", "/v1/explain"} {
		pr, pw := io.Pipe()
		pws = append(pws, pw)
		req, _ := http.NewRequest(http.MethodPost, ts.URL+path, pr)
		req.Header.Set("Content-Type", "application/json")
		go func() {
			if resp, err := ts.Client().Do(req); err == nil {
				resp.Body.Close()
			}
		}()
		io.WriteString(pw, `{"method": "saliency", "rows": [[6.7, `)
	}
	t.Cleanup(func() {
		for _, pw := range pws {
			pw.CloseWithError(io.ErrUnexpectedEOF)
		}
	})
	for deadline := time.Now().Add(30 * time.Second); s.met.inFlight.Load() < 2; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the slow requests never arrived")
		}
	}
	if code, b, _ := send(t, ts, http.MethodPost, "/v1/predict", "application/json", irisRow); code != http.StatusOK {
		t.Errorf("predict beside a slow upload: %d %s", code, b)
	}
	if code, b, _ := send(t, ts, http.MethodPost, "/v1/explain", "application/json", `{"method": "saliency", "rows": [[6.7, 3.0, 5.2, 2.3]]}`); code != http.StatusOK {
		t.Errorf("explain beside a slow upload: %d %s", code, b)
	}
	if held := s.mem.inUse(); held > bodyFactor*bodyStep*2 {
		t.Errorf("two slow uploads of a few bytes hold %d bytes of the budget", held)
	}
	// A body that alone needs more than the budget is refused as it comes.
	small, err := New(p, Options{MemoryBudget: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	ts2 := httptest.NewServer(small.Handler())
	t.Cleanup(ts2.Close)
	big := `{"csv": "` + strings.Repeat("5.1,3.5,1.4,0.2\\n", 20000) + `"}`
	if code, b, _ := send(t, ts2, http.MethodPost, "/v1/predict", "application/json", big); code != http.StatusRequestEntityTooLarge || !strings.Contains(b, "the request body needs about") {
		t.Errorf("a 340 KB body with a 1 MiB budget: %d %s", code, b)
	}
}
