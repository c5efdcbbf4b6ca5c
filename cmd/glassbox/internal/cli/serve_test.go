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
