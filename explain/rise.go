package explain

import (
	"context"
	"fmt"
	"math"
)

func init() { Register(riseMethod{}) }

// RISEOptions tune RISE. The zero value draws 1000 masks (500 for images
// of at most 64×64 pixels) on a 7×7 grid keeping each cell with
// probability 0.5 (Petsiuk et al. 2018's grid and probability, DIANNA's
// number of masks).
type RISEOptions struct {
	// Masks is the number of random masks (default 1000; 500 for images
	// of at most 64×64 pixels).
	Masks int
	// Grid is the side of the coarse random grid (default 7, at most the
	// image's shorter side).
	Grid int
	// Keep is the probability that a grid cell is shown (default 0.5).
	Keep float64
	// Seed chooses the masks.
	Seed uint64
}

// RISEExplanation is a RISE saliency map.
type RISEExplanation struct {
	Method string `json:"method"`
	Label  int    `json:"label"`
	// Map is H×W, row-major: for each pixel, the mean over the masks of
	// (f(x ⊙ mask) − the mean masked output) × mask(pixel), divided by
	// Keep. It is RISE's importance less a constant (the mean output
	// times the mean mask), so zero means "no evidence either way" and
	// the ranking is RISE's.
	Map  []float32 `json:"map"`
	H    int       `json:"h"`
	W    int       `json:"w"`
	Grid int       `json:"grid"`
	Keep float64   `json:"keep"`
	// Masks is the number of masked images evaluated (the sample
	// budget); Seed chose them.
	Masks int    `json:"masks"`
	Seed  uint64 `json:"seed"`
	// MeanOutput is the label's mean output over the masked images.
	MeanOutput float64 `json:"mean_output"`
}

// riseMask writes mask i (H×W, values in [0, 1]) into m: a Grid×Grid grid
// of cells kept with probability keep, bilinearly upsampled to
// (Grid+1)·cell pixels and cropped at a random shift of less than one
// cell, so the mask's edges fall anywhere, not only on the grid (the
// paper's construction).
func riseMask(m []float32, h, w, grid int, keep float64, seed uint64, i int) {
	r := subStream(seed, streamOther, uint64(i))
	cells := make([]float32, grid*grid)
	for k := range cells {
		if r.Float64() < keep {
			cells[k] = 1
		}
	}
	ch, cw := (h+grid-1)/grid, (w+grid-1)/grid
	dy, dx := r.IntN(ch), r.IntN(cw)
	uh, uw := (grid+1)*ch, (grid+1)*cw
	// Upsampled coordinate u maps to grid coordinate (u+0.5)·grid/U − 0.5
	// (pixel centres aligned, as image resizing does), clamped.
	coord := func(u, size int) (int, int, float32) {
		g := (float64(u)+0.5)*float64(grid)/float64(size) - 0.5
		g = math.Max(0, math.Min(float64(grid-1), g))
		lo := int(g)
		hi := min(lo+1, grid-1)
		return lo, hi, float32(g - float64(lo))
	}
	for y := range h {
		y0, y1, fy := coord(y+dy, uh)
		for x := range w {
			x0, x1, fx := coord(x+dx, uw)
			top := cells[y0*grid+x0]*(1-fx) + cells[y0*grid+x1]*fx
			bot := cells[y1*grid+x0]*(1-fx) + cells[y1*grid+x1]*fx
			m[y*w+x] = top*(1-fy) + bot*fy
		}
	}
}

// RISE explains model output label at the channel-first C×H×W image pix
// by Randomized Input Sampling (Petsiuk et al. 2018): the image is
// multiplied by opt.Masks smooth random masks and each pixel's importance
// is the output-weighted mean of the masks covering it. It needs only the
// model's outputs. Masks are drawn from per-mask random streams, so the
// map depends on the seed only.
func RISE(ctx context.Context, model Func, pix []float32, c, h, w, label int, opt RISEOptions) (*RISEExplanation, error) {
	const what = "rise"
	if err := checkImageModel(what, model, pix, c, h, w, label); err != nil {
		return nil, err
	}
	n, grid, keep := opt.Masks, opt.Grid, opt.Keep
	if n == 0 {
		n = 1000
		if max(h, w) <= 64 {
			// Small images (digits, icons) have few distinct masks on a
			// 7×7 grid; half the masks give the same map within noise.
			n = 500
		}
	}
	if grid == 0 {
		grid = min(7, h, w)
	}
	if keep == 0 {
		keep = 0.5
	}
	switch {
	case n < 2 || n > MaxSamples:
		return nil, fmt.Errorf("%s: %d masks; use 2 to %d", what, n, MaxSamples)
	case grid < 2 || grid > min(h, w):
		return nil, fmt.Errorf("%s: grid %d; use 2 to the image's shorter side %d", what, grid, min(h, w))
	case !(keep > 0 && keep < 1):
		return nil, fmt.Errorf("%s: keep probability %v; use a number strictly between 0 and 1", what, keep)
	}
	hw := h * w
	e := &RISEExplanation{Method: what, Label: label, H: h, W: w, Grid: grid, Keep: keep, Masks: n, Seed: opt.Seed}
	// Masks are drawn again when their batch's outputs arrive rather than
	// kept: the map needs Σ f·mask and Σ mask, not the masks themselves.
	batch := perturbBatchRows(c * hw)
	masks := make([]float32, batch*hw)
	weighted, cover := make([]float64, hw), make([]float64, hw)
	var sumY float64
	err := evalRows(ctx, model, what, n, c*hw, label, func(i int, row []float32) {
		m := masks[(i%batch)*hw : (i%batch+1)*hw]
		riseMask(m, h, w, grid, keep, opt.Seed, i)
		for ch := range c {
			for p, v := range m {
				row[ch*hw+p] = pix[ch*hw+p] * v
			}
		}
	}, func(i int, out []float32) {
		y := float64(out[label])
		m := masks[(i%batch)*hw : (i%batch+1)*hw]
		sumY += y
		for p, v := range m {
			weighted[p] += y * float64(v)
			cover[p] += float64(v)
		}
	})
	if err != nil {
		return nil, err
	}
	N := float64(n)
	e.MeanOutput = sumY / N
	e.Map = make([]float32, hw)
	for p := range e.Map {
		e.Map[p] = float32((weighted[p] - e.MeanOutput*cover[p]) / (N * keep))
	}
	return e, nil
}

// riseMethod registers RISE.
type riseMethod struct{}

func (riseMethod) Info() MethodInfo {
	return MethodInfo{Name: "rise", Title: "RISE",
		Summary: "the image multiplied by random smooth masks; each pixel's importance is the output-weighted mean of the masks that show it",
		Inputs:  []InputKind{Image},
		Budget:  "random masks", DefaultBudget: "1000, 500 up to 64×64 pixels (7×7 grid, half the cells kept)"}
}

func (riseMethod) Explain(ctx context.Context, s *Subject, x []float32, opt Options, res *Result) error {
	e, err := RISE(ctx, s.Predict, x, s.Shape[0], s.Shape[1], s.Shape[2], res.Label, RISEOptions{Masks: opt.Samples, Seed: opt.Seed})
	if err != nil {
		return err
	}
	res.Details, res.Samples, res.Features, res.Attribution = e, e.Masks, len(e.Map), e.Map
	return nil
}
