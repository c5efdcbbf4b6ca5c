package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glassbox-ml/glassbox/serve"
)

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

func TestServeStartsAndStops(t *testing.T) {
	mdl := trainedIris(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		code := Run(ctx, []string{"serve", "--model", mdl, "--addr", "127.0.0.1:0", "--data", "iris", "--json"}, pw, &stderr)
		pw.Close()
		done <- code
	}()
	// The command prints its address once it listens (or fails and
	// closes the pipe, which ends the read).
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed %q before %v; stderr: %s", line, err, stderr.String())
	}
	go io.Copy(io.Discard, pr)
	var res serveResult
	if err := json.Unmarshal([]byte(line), &res); err != nil || !strings.HasPrefix(res.Addr, "127.0.0.1:") || res.URL != "http://"+res.Addr+"/" {
		t.Fatalf("serve --json printed %q (%v)", line, err)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get(res.URL + "healthz")
	if err != nil {
		t.Fatal(err)
	}
	var h serve.Health
	json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if h.Status != "ok" || h.Model != "iris.gbx" || h.Outputs != 3 || !slices.Contains(h.Methods, "lime") {
		t.Fatalf("health %+v", h)
	}
	// The page's "load a test row" reads the model's test split.
	resp, err = client.Get(res.URL + "v1/example?index=0")
	if err != nil {
		t.Fatal(err)
	}
	var example serve.Example
	json.NewDecoder(resp.Body).Decode(&example)
	resp.Body.Close()
	if h.Examples == 0 || example.Source != "test split" || example.Count != h.Examples || len(example.Input) != 4 || !slices.Contains([]string{"setosa", "versicolor", "virginica"}, example.Label) {
		t.Fatalf("%d examples; example 0: %+v", h.Examples, example)
	}
	// --data makes LIME available on the table.
	body := `{"rows": [[6.7, 3.0, 5.2, 2.3]], "method": "lime", "samples": 300, "picture": false}`
	resp, err = client.Post(res.URL+"v1/explain", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var ex serve.ExplainResponse
	json.NewDecoder(resp.Body).Decode(&ex)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || ex.Prediction.Label != "virginica" || ex.Explanation == nil || ex.Explanation.Quality["r2"] <= 0 {
		t.Fatalf("explain: status %d, %+v", resp.StatusCode, ex)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exit %d: %s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop when its context was cancelled")
	}
	if _, err := client.Get(res.URL + "healthz"); err == nil {
		t.Fatal("the server still answers after it stopped")
	}
	if log := stderr.String(); !strings.Contains(log, "path=/v1/explain status=200") {
		t.Errorf("request log %q", log)
	}
}

func TestServeErrors(t *testing.T) {
	if code, _, stderr := run(t, "serve"); code != 2 || !strings.Contains(stderr, "--model is required") {
		t.Errorf("no model: %d %q", code, stderr)
	}
	if code, _, stderr := run(t, "serve", "--model", "x.gbx", "--timeout", "-1s"); code != 2 || !strings.Contains(stderr, "--timeout") {
		t.Errorf("negative timeout: %d %q", code, stderr)
	}
	mdl := trainedIris(t, t.TempDir())
	if code, _, stderr := run(t, "serve", "--model", mdl, "--addr", "127.0.0.1:99999"); code != 1 || !strings.Contains(stderr, "--addr 127.0.0.1:99999") {
		t.Errorf("bad address: %d %q", code, stderr)
	}
}

// startServe runs the serve command with args (plus --json) until ctx is
// cancelled; it returns the address it listens on and its exit code.
func startServe(t *testing.T, ctx context.Context, args ...string) (serveResult, <-chan int, *lockedBuffer) {
	t.Helper()
	pr, pw := io.Pipe()
	stderr := &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		code := Run(ctx, append([]string{"serve", "--json"}, args...), pw, stderr)
		pw.Close()
		done <- code
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed %q before %v; stderr: %s", line, err, stderr.String())
	}
	go io.Copy(io.Discard, pr)
	var res serveResult
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		t.Fatalf("serve --json printed %q (%v)", line, err)
	}
	return res, done, stderr
}

// slowExplain starts an explain request whose body arrives in two parts:
// the handler is in flight, reading it, until finish is called. It
// returns once the server counts the request in flight.
func slowExplain(t *testing.T, url string) (finish func(), result <-chan *http.Response) {
	t.Helper()
	pr, pw := io.Pipe()
	req, err := http.NewRequest(http.MethodPost, url+"v1/explain", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	out := make(chan *http.Response, 1)
	go func() {
		resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
		if err != nil {
			out <- nil
			return
		}
		out <- resp
	}()
	if _, err := io.WriteString(pw, `{"method": "lime", "samples": 500, "picture": false, "rows": [[6.7, 3.0, `); err != nil {
		t.Fatal(err)
	}
	poll := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := poll.Get(url + "metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(b), "glassbox_http_requests_in_flight 2\n") {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the explain request never reached the server")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return func() { io.WriteString(pw, "5.2, 2.3]]}"); pw.Close() }, out
}

// refused waits until nothing listens at url any more.
func refused(t *testing.T, url string) {
	t.Helper()
	poll := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := poll.Get(url + "healthz")
		if err != nil {
			return
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatal("the server still accepts requests after it was stopped")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// SIGTERM and Ctrl-C cancel the command's context: the server stops
// accepting, lets the request in flight finish and exits 0.
func TestServeGracefulShutdown(t *testing.T) {
	mdl := trainedIris(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, done, stderr := startServe(t, ctx, "--model", mdl, "--addr", "127.0.0.1:0", "--data", "iris", "--grace", "20s")
	finish, result := slowExplain(t, res.URL)
	stopped := time.Now()
	cancel()
	refused(t, res.URL)
	finish()
	resp := wait(t, result, "the explain in flight")
	if resp == nil {
		t.Fatal("the explain in flight failed during the shutdown")
	}
	var ex serve.ExplainResponse
	err := json.NewDecoder(resp.Body).Decode(&ex)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || err != nil || ex.Explanation == nil || ex.Prediction.Label != "virginica" {
		t.Fatalf("explain in flight: %d %+v (%v)", resp.StatusCode, ex, err)
	}
	if code := wait(t, done, "serve to stop"); code != 0 {
		t.Fatalf("serve exit %d: %s", code, stderr.String())
	}
	if d := time.Since(stopped); d > 20*time.Second {
		t.Errorf("serve took %v to stop, more than its grace period", d)
	}
	if strings.Contains(stderr.String(), "cut off") {
		t.Errorf("stderr %q", stderr.String())
	}
}

// A request still running when the grace period ends is cut off, and the
// command exits 0 soon after.
func TestServeGraceCutsOff(t *testing.T) {
	mdl := trainedIris(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, done, stderr := startServe(t, ctx, "--model", mdl, "--addr", "127.0.0.1:0", "--data", "iris", "--grace", "300ms")
	finish, result := slowExplain(t, res.URL)
	stopped := time.Now()
	cancel()
	if code := wait(t, done, "serve to stop"); code != 0 {
		t.Fatalf("serve exit %d: %s", code, stderr.String())
	}
	if d := time.Since(stopped); d > 10*time.Second {
		t.Errorf("serve took %v to stop with a 300ms grace period", d)
	}
	// The client notices once it sends the rest of its body (Go's client
	// waits for the body it is writing before it reports the closed
	// connection).
	finish()
	if resp := wait(t, result, "the cut-off request"); resp != nil {
		resp.Body.Close()
		t.Errorf("the request past the grace period got an answer: %d", resp.StatusCode)
	}
	if !strings.Contains(stderr.String(), "cut off") {
		t.Errorf("stderr %q does not say requests were cut off", stderr.String())
	}
}

func TestServeFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--max-predict", "-1"}, "--max-predict"},
		{[]string{"--memory-mib", "0"}, "--memory-mib"},
		{[]string{"--grace", "-1s"}, "--grace"},
	} {
		if code, _, stderr := run(t, append([]string{"serve", "--model", "x.gbx"}, c.args...)...); code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: %d %q", c.args, code, stderr)
		}
	}
	mdl := trainedIris(t, t.TempDir())
	if code, _, stderr := run(t, "serve", "--model", mdl, "--data", "iris", "--addr", "127.0.0.1:0", "--allow-origin", "example.com"); code != 2 || !strings.Contains(stderr, "--allow-origin") {
		t.Errorf("bad --allow-origin: %d %q", code, stderr)
	}
	// Allowed origins, repeated and comma separated, reach the server.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, done, _ := startServe(t, ctx, "--model", mdl, "--addr", "127.0.0.1:0", "--data", "iris",
		"--allow-origin", "https://a.example", "--allow-origin", "https://b.example, http://c.example:8080")
	client := &http.Client{Timeout: 30 * time.Second}
	for origin, want := range map[string]int{"https://a.example": 200, "https://b.example": 200, "http://c.example:8080": 200, "https://evil.example": 403} {
		req, _ := http.NewRequest(http.MethodPost, res.URL+"v1/predict", strings.NewReader(`{"rows": [[6.7, 3.0, 5.2, 2.3]]}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", origin)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Origin %s: %d, want %d", origin, resp.StatusCode, want)
		}
	}
	cancel()
	<-done
}

// wait receives from ch, failing the test after a generous bound.
func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(60 * time.Second):
		t.Fatalf("gave up waiting for %s", what)
		panic("unreachable")
	}
}
