package train

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress shows training progress: on a terminal a redrawn bar with the
// running loss and accuracy and the time left; elsewhere one plain line
// per epoch, or one JSON object per epoch when asked; nothing when quiet.
type progress struct {
	w        io.Writer
	tty      bool
	json     bool
	quiet    bool
	last     time.Time
	start    time.Time
	doneStep int // steps finished in this run, for the time left
}

func newProgress(w io.Writer, quiet, asJSON bool) *progress {
	if w == nil {
		w = os.Stderr
	}
	return &progress{w: w, tty: !asJSON && isTerminal(w), json: asJSON, quiet: quiet, start: time.Now()}
}

// step redraws the bar after step of steps in epoch (0-based) of epochs;
// loss and acc are the epoch's running figures (acc < 0: none).
func (p *progress) step(epoch, epochs, step, steps int, loss, acc, rate float64, firstEpoch int) {
	if p.quiet || !p.tty {
		return
	}
	p.doneStep = (epoch-firstEpoch)*steps + step
	if step != steps && time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	const width = 24
	done := width * step / max(steps, 1)
	var b strings.Builder
	fmt.Fprintf(&b, "\repoch %d/%d [%s%s] %d/%d loss %.4f", epoch+1, epochs,
		strings.Repeat("=", done), strings.Repeat(" ", width-done), step, steps, loss)
	if acc >= 0 {
		fmt.Fprintf(&b, " acc %.4f", acc)
	}
	left := (epochs-firstEpoch)*steps - p.doneStep
	if p.doneStep > 0 {
		eta := time.Duration(float64(time.Since(p.start)) / float64(p.doneStep) * float64(left))
		fmt.Fprintf(&b, " ETA %s", fmtDuration(eta))
	}
	fmt.Fprintf(&b, " %.0f/s\033[K", rate)
	fmt.Fprint(p.w, b.String())
}

func (p *progress) epoch(e EpochInfo, epochs int) {
	if p.quiet {
		return
	}
	if p.json {
		b, _ := json.Marshal(e)
		fmt.Fprintf(p.w, "%s\n", b)
		return
	}
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintf(p.w, "epoch %d/%d: train %s", e.Epoch, epochs, fmtFigures(e.Train))
	if e.Val != nil {
		fmt.Fprintf(p.w, " | val %s", fmtFigures(e.Val))
	}
	fmt.Fprintf(p.w, " | lr %.3g (%.1fs, %.0f samples/s)\n", e.LR, e.Seconds, e.SamplesPerSec)
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

// fmtDuration prints d as 1h02m, 3m07s or 12s.
func fmtDuration(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	switch {
	case s >= 3600:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	case s >= 60:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%ds", s)
}
