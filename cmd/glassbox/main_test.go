package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// TestMain runs main itself when asked to, so the tests below can start
// this test binary as the glassbox command and send it signals.
func TestMain(m *testing.M) {
	if os.Getenv("GLASSBOX_RUN_MAIN") == "1" {
		os.Args = append([]string{"glassbox"}, strings.Fields(os.Getenv("GLASSBOX_ARGS"))...)
		main()
		return
	}
	os.Exit(m.Run())
}

// SIGTERM (what systemd, Docker and Kubernetes send) stops the server
// gracefully: exit 0 and "stopped", like Ctrl-C; it used to kill it.
func TestSIGTERMStopsServeGracefully(t *testing.T) {
	dir := t.TempDir()
	mdl := filepath.Join(dir, "m.gbx")
	if err := model.Save(mdl, nn.NewLinear(4, 3, tensor.NewRNG(1)), model.Meta{InputShape: []int{4}}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GLASSBOX_RUN_MAIN=1", "GLASSBOX_ARGS=serve --model "+mdl+" --addr 127.0.0.1:0 --json --quiet")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed %q: %v; stderr %s", line, err, stderr.String())
	}
	var res struct{ URL string }
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(res.URL + "healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve after SIGTERM: %v; stderr %s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
}
