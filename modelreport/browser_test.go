//go:build browser

package modelreport

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/glassbox-ml/glassbox/internal/browsertest"
	"github.com/glassbox-ml/glassbox/predictor"
)

// TestReportInBrowser opens a LeNet report in headless Chromium and checks
// that every section's heading is there and that every picture and chart
// rendered with a non-zero size (an <img> decoded, an <svg> laid out).
func TestReportInBrowser(t *testing.T) {
	tr := trainTiny(t, predictor.Recipe{Data: "mnist-small", Model: "lenet", Epochs: 1, LR: 2e-3})
	rep, err := Build(context.Background(), Input{Name: "lenet", Model: tr.Predictor, Data: tr.Data, History: tr.History,
		Comparison: []Row{{Model: "lenet", Inputs: "pixels", Accuracy: tr.Test.Accuracy()}}, Seed: 1, Examples: 1, Points: 60, Steps: 3})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "report.html")
	if err := rep.Write(path); err != nil {
		t.Fatal(err)
	}
	br, err := browsertest.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	p, err := br.Open("file://" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.WaitTrue(`document.readyState === "complete"`, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	headings, err := browsertest.Eval[[]string](p, `Array.from(document.querySelectorAll("section > h2")).map(h => h.textContent)`)
	if err != nil {
		t.Fatal(err)
	}
	bad, err := browsertest.Eval[[]string](p, `Array.from(document.querySelectorAll("img, svg")).filter(e => {
		const r = e.getBoundingClientRect();
		return r.width <= 0 || r.height <= 0 || (e.tagName === "IMG" && !(e.complete && e.naturalWidth > 0));
	}).map(e => e.tagName + " " + (e.getAttribute("alt") || e.getAttribute("aria-label") || ""))`)
	if err != nil {
		t.Fatal(err)
	}
	counts, err := browsertest.Eval[map[string]int](p, `({img: document.querySelectorAll("img").length, svg: document.querySelectorAll("svg").length})`)
	if err != nil {
		t.Fatal(err)
	}
	if errs := p.Errors(); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
	if len(headings) != len(rep.Sections) {
		t.Fatalf("the browser shows %d section headings %q; the report has %d sections", len(headings), headings, len(rep.Sections))
	}
	for i, s := range rep.Sections {
		if headings[i] != s.Title {
			t.Errorf("heading %d reads %q, want %q", i, headings[i], s.Title)
		}
	}
	if len(bad) > 0 {
		t.Errorf("pictures rendered empty or undecoded: %q", bad)
	}
	if counts["img"] < 10 || counts["svg"] < 10 {
		t.Errorf("only %d images and %d charts rendered", counts["img"], counts["svg"])
	}
}
