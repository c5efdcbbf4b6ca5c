package explain

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// OcclusionOptions tune Occlusion. The zero value slides a window of
// about a seventh of the image's shorter side by half its width.
type OcclusionOptions struct {
	// Window is the side of the square patch hidden at a time, in pixels
	// (default max(1, min(H, W)/7): 4 on 28×28 digits).
	Window int
	// Stride is the step between patches (default max(1, Window/2)); it
	// may not exceed Window, or some pixels would never be hidden.
	Stride int
	// Baseline is the value painted over the patch, in every channel
	// (default 0: black for images scaled to [0, 1]).
	Baseline float32
	// BatchSize is the number of occluded images per model call (default
	// 256).
	BatchSize int
}

// OcclusionExplanation is an occlusion map: how much the label's output
// drops when each part of the image is hidden.
type OcclusionExplanation struct {
	Method string `json:"method"`
	Label  int    `json:"label"`
	// Map is H×W, row-major: for each pixel, the mean over the patches
	// that cover it of f(x) − f(x with the patch hidden). Positive where
	// hiding the pixel lowers the label's output.
	Map      []float32 `json:"map"`
	Channels int       `json:"channels"`
	H        int       `json:"h"`
	W        int       `json:"w"`
	Window   int       `json:"window"`
	Stride   int       `json:"stride"`
	Baseline float32   `json:"baseline"`
	// Patches is the number of occluded images evaluated.
	Patches int `json:"patches"`
	// Output is the model's output Label at x; Outputs all k of them.
	Output   float64   `json:"output"`
	Outputs  []float32 `json:"outputs"`
	Warnings []string  `json:"warnings,omitempty"`
	Timing   Timing    `json:"timing"`
}

// gradWindowStarts lists the patch offsets along an axis of size n: 0,
// stride, 2·stride, … and, if that leaves the far edge uncovered, n−win.
func gradWindowStarts(n, win, stride int) []int {
	var s []int
	for p := 0; p+win <= n; p += stride {
		s = append(s, p)
	}
	if last := s[len(s)-1]; last+win < n {
		s = append(s, n-win)
	}
	return s
}

// Occlusion explains model output label at the channel-first C×H×W image
// pix by hiding one square patch at a time (all channels, painted with
// opt.Baseline) and recording how much the output drops (Zeiler & Fergus
// 2014). It needs no gradients, so it explains any model. Occluded images
// are painted in parallel batch by batch into one reused buffer; the
// unoccluded image is evaluated in the first batch. Map can be scored with
// DeletionInsertion.
func Occlusion(ctx context.Context, model Func, pix []float32, c, h, w, label int, opt OcclusionOptions) (*OcclusionExplanation, error) {
	start := time.Now()
	const what = "occlusion"
	if err := checkImageModel(what, model, pix, c, h, w, label); err != nil {
		return nil, err
	}
	win := opt.Window
	if win == 0 {
		win = max(1, min(h, w)/7)
	}
	if win < 1 || win > min(h, w) {
		return nil, fmt.Errorf("%s: Window is %d; it must be between 1 and the image's shorter side %d (image %d×%d)", what, win, min(h, w), h, w)
	}
	stride := opt.Stride
	if stride == 0 {
		stride = max(1, win/2)
	}
	if stride < 1 || stride > win {
		return nil, fmt.Errorf("%s: Stride is %d with Window %d; use 1..Window so every pixel is hidden at least once", what, stride, win)
	}
	batch := opt.BatchSize
	if batch == 0 {
		batch = 256
	}
	if batch < 1 {
		return nil, fmt.Errorf("%s: BatchSize is %d; use a positive number or 0 for the default", what, batch)
	}
	ys, xs := gradWindowStarts(h, win, stride), gradWindowStarts(w, win, stride)
	patches := len(ys) * len(xs)
	e := &OcclusionExplanation{Method: what, Label: label, Channels: c, H: h, W: w, Window: win, Stride: stride, Baseline: opt.Baseline, Patches: patches}

	// Row 0 is the image itself, row 1+p hides patch p.
	total := patches + 1
	hw, dim := h*w, c*h*w
	batch = min(batch, total)
	buf := make([]float32, batch*dim)
	o := outputs{what: what, timing: &e.Timing}
	for lo := 0; lo < total; lo += batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi := min(lo+batch, total)
		parallelChunks(hi-lo, 8, func(_, a, b int) {
			for i := a; i < b; i++ {
				row := buf[i*dim : (i+1)*dim]
				copy(row, pix)
				if lo+i == 0 {
					continue
				}
				p := lo + i - 1
				y0, x0 := ys[p/len(xs)], xs[p%len(xs)]
				for ch := range c {
					for y := y0; y < y0+win; y++ {
						off := ch*hw + y*w + x0
						for x := range win {
							row[off+x] = opt.Baseline
						}
					}
				}
			}
		})
		if err := o.add(hi-lo, lo, func() ([]float32, error) { return model(ctx, buf[:(hi-lo)*dim], hi-lo) }); err != nil {
			return nil, err
		}
		if label >= o.k {
			return nil, fmt.Errorf("%s: label %d out of range: the model returns %d outputs (labels 0..%d)", what, label, o.k, o.k-1)
		}
	}
	k := o.k
	f0 := float64(o.y[label])
	sum := make([]float64, hw)
	cnt := make([]int32, hw)
	for p := range patches {
		drop := f0 - float64(o.y[(p+1)*k+label])
		y0, x0 := ys[p/len(xs)], xs[p%len(xs)]
		for y := y0; y < y0+win; y++ {
			for x := x0; x < x0+win; x++ {
				sum[y*w+x] += drop
				cnt[y*w+x]++
			}
		}
	}
	e.Map = make([]float32, hw)
	for i := range hw {
		e.Map[i] = float32(sum[i] / float64(cnt[i]))
	}
	e.Outputs = slices.Clone(o.y[:k])
	e.Output = f0
	e.Warnings = gradZeroWarning(e.Map)
	if e.Warnings != nil {
		e.Warnings[0] = fmt.Sprintf("hiding any %d×%d patch leaves the output unchanged: the model ignores local evidence here, or the patches are too small, or Baseline (%g) looks like the image; try a larger Window or another Baseline", win, win, opt.Baseline)
	}
	e.Timing.Total = time.Since(start)
	return e, nil
}
