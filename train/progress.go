package train

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress shows training progress: a redrawn bar on a terminal, one JSON
// line per epoch elsewhere, nothing when quiet.
type progress struct {
	w     io.Writer
	tty   bool
	quiet bool
	last  time.Time
}

func newProgress(w io.Writer, quiet bool) *progress {
	if w == nil {
		w = os.Stderr
	}
	return &progress{w: w, tty: isTerminal(w), quiet: quiet}
}

func (p *progress) step(epoch, epochs, step, steps int, loss, rate float64) {
	if p.quiet || !p.tty {
		return
	}
	if step != steps && time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	const width = 30
	done := width * step / max(steps, 1)
	fmt.Fprintf(p.w, "\repoch %d/%d [%s%s] %d/%d loss %.4f %.0f samples/s ",
		epoch+1, epochs, strings.Repeat("=", done), strings.Repeat(" ", width-done), step, steps, loss, rate)
}

func (p *progress) epoch(e EpochInfo) {
	if p.quiet {
		return
	}
	if !p.tty {
		b, _ := json.Marshal(e)
		fmt.Fprintf(p.w, "%s\n", b)
		return
	}
	fmt.Fprintf(p.w, "\repoch %d: %s", e.Epoch, fmtFigures(e.Train))
	if e.Val != nil {
		fmt.Fprintf(p.w, " | val %s", fmtFigures(e.Val))
	}
	fmt.Fprintf(p.w, " (%.1fs, %.0f samples/s)\n", e.Seconds, e.SamplesPerSec)
}

func (p *progress) done() {
	if !p.quiet && p.tty {
		fmt.Fprintln(p.w)
	}
}

func fmtFigures(m map[string]float64) string {
	var parts []string
	for _, k := range []string{"loss", "accuracy", "mse", "mae", "r2"} {
		if v, ok := m[k]; ok {
			parts = append(parts, fmt.Sprintf("%s %.4f", k, v))
		}
	}
	return strings.Join(parts, " ")
}
