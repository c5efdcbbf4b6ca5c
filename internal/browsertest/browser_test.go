//go:build browser

package browsertest

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// A page that logs an error, throws, and records the pointer events its
// canvas receives.
const probePage = `<!doctype html><html><body>
<canvas id="c" width="200" height="200" style="border:1px solid;touch-action:none"></canvas>
<ul><li>a</li><li>b</li><li>c</li></ul>
<script>
window.events = [];
const c = document.getElementById("c");
for (const t of ["pointerdown", "pointermove", "pointerup"]) {
  c.addEventListener(t, e => { if (t !== "pointermove" || e.buttons) window.events.push((e.pointerType === "touch" ? "touch " : "") + t + " " + Math.round(e.offsetX) + "," + Math.round(e.offsetY)); });
}
console.error("probe error");
setTimeout(() => { throw new Error("probe exception"); }, 0);
</script></body></html>`

func TestHarnessInBrowser(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	path := filepath.Join(t.TempDir(), "probe.html")
	if err := os.WriteFile(path, []byte(probePage), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := b.Open("file://" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.WaitVisible("#c", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if n, err := p.Count("li"); err != nil || n != 3 {
		t.Errorf("Count(li) = %d, %v; want 3", n, err)
	}
	if err := p.Stroke("#c", [][2]float64{{20, 30}, {60, 70}, {100, 110}}); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue("window.events.length >= 4", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	events, err := Eval[[]string](p, "window.events")
	if err != nil {
		t.Fatal(err)
	}
	// The canvas has a 1px border: offsets are one less than the points.
	want := []string{"pointerdown 19,29", "pointermove 59,69", "pointermove 99,109", "pointerup 99,109"}
	if !slices.Equal(events, want) {
		t.Errorf("pointer events %q, want %q", events, want)
	}
	// A finger: the same stroke as touch events.
	if _, err := Eval[int](p, "window.events = []; 0"); err != nil {
		t.Fatal(err)
	}
	if err := p.TouchStroke("#c", [][2]float64{{20, 30}, {60, 70}}); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitTrue("window.events.length >= 3", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	events, _ = Eval[[]string](p, "window.events")
	if want := []string{"touch pointerdown 19,29", "touch pointermove 59,69", "touch pointerup 59,69"}; !slices.Equal(events, want) {
		t.Errorf("touch events %q, want %q", events, want)
	}
	err = p.WaitTrue("window.never === 1", 200*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "window.never === 1") {
		t.Errorf("WaitTrue on a false condition: %v; want an error quoting it", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	var errs []string
	for time.Now().Before(deadline) {
		if errs = p.Errors(); len(errs) >= 2 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	joined := strings.Join(errs, "\n")
	if !strings.Contains(joined, "probe error") || !strings.Contains(joined, "probe exception") {
		t.Errorf("Errors() = %q; want the console error and the exception", errs)
	}
	shot := filepath.Join(t.TempDir(), "shot.png")
	if err := p.Screenshot(shot); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(shot); err != nil || !strings.HasPrefix(string(data), "\x89PNG") {
		t.Errorf("screenshot is not a PNG (%d bytes, %v)", len(data), err)
	}
}
