package features

import (
	"fmt"
	"math"
)

// HOGOptions shape a [HOG] descriptor. The zero value picks 7×7-pixel
// cells, 9 orientation bins and blocks of 2×2 cells, which on a 28×28
// digit gives 4×4 cells, 3×3 blocks and 324 features.
type HOGOptions struct {
	// Cell is the side of a square cell in pixels; 0 picks 7.
	Cell int
	// Bins is the number of orientation bins over [0°, 180°) (unsigned
	// gradients: a dark-to-light edge and a light-to-dark one with the same
	// direction vote alike); 0 picks 9.
	Bins int
	// Block is the side of a normalisation block in cells; 0 picks 2.
	// Blocks overlap, moving one cell at a time.
	Block int
}

func (o HOGOptions) withDefaults() HOGOptions {
	if o.Cell == 0 {
		o.Cell = 7
	}
	if o.Bins == 0 {
		o.Bins = 9
	}
	if o.Block == 0 {
		o.Block = 2
	}
	return o
}

// HOGSize returns the length of the descriptor [HOG] computes for an h×w
// image, or an error when the options do not fit the image.
func HOGSize(h, w int, o HOGOptions) (int, error) {
	o = o.withDefaults()
	if o.Cell < 1 || o.Bins < 1 || o.Block < 1 {
		return 0, fmt.Errorf("features: HOG cell %d, bins %d and block %d must be positive", o.Cell, o.Bins, o.Block)
	}
	cy, cx := h/o.Cell, w/o.Cell
	if cy < o.Block || cx < o.Block {
		return 0, fmt.Errorf("features: a %d×%d image has %d×%d cells of %d pixels, fewer than one block of %d×%d cells; use smaller cells or blocks", h, w, cy, cx, o.Cell, o.Block, o.Block)
	}
	return (cy - o.Block + 1) * (cx - o.Block + 1) * o.Block * o.Block * o.Bins, nil
}

// CellHistograms returns the orientation histogram of every cell of the
// h×w grey image pix, [cellRows][cellCols][Bins] flattened: the gradient
// at each pixel is the centred difference (borders repeat the edge pixel, so the frame
// of the image is no edge), its
// direction folded into [0°, 180°), and its magnitude is shared between
// the two nearest bin centres in proportion to closeness (bin b is
// centred at (b+½)·180°/Bins). Pixels past the last whole cell are
// ignored.
func CellHistograms(pix []float32, h, w int, o HOGOptions) ([]float64, error) {
	o = o.withDefaults()
	if len(pix) != h*w {
		return nil, fmt.Errorf("features: %d pixels for a %d×%d image", len(pix), h, w)
	}
	if _, err := HOGSize(h, w, HOGOptions{Cell: o.Cell, Bins: o.Bins, Block: 1}); err != nil {
		return nil, err
	}
	cy, cx := h/o.Cell, w/o.Cell
	hist := make([]float64, cy*cx*o.Bins)
	at := func(y, x int) float64 {
		y, x = min(max(y, 0), h-1), min(max(x, 0), w-1)
		return float64(pix[y*w+x])
	}
	binW := math.Pi / float64(o.Bins)
	for y := 0; y < cy*o.Cell; y++ {
		for x := 0; x < cx*o.Cell; x++ {
			gx := at(y, x+1) - at(y, x-1)
			gy := at(y+1, x) - at(y-1, x)
			mag := math.Hypot(gx, gy)
			if mag == 0 {
				continue
			}
			ang := math.Atan2(gy, gx)
			if ang < 0 {
				ang += math.Pi
			}
			if ang >= math.Pi {
				ang -= math.Pi
			}
			// Position among bin centres; the two neighbours share the vote.
			pos := ang/binW - 0.5
			lo := int(math.Floor(pos))
			f := pos - float64(lo)
			b0 := (lo + o.Bins) % o.Bins
			b1 := (lo + 1) % o.Bins
			cell := ((y/o.Cell)*cx + x/o.Cell) * o.Bins
			hist[cell+b0] += mag * (1 - f)
			hist[cell+b1] += mag * f
		}
	}
	return hist, nil
}

// HOG returns the histogram-of-oriented-gradients descriptor of the h×w
// grey image pix: the [CellHistograms] grouped into overlapping blocks of
// Block×Block cells, each block's vector scaled to unit L2 norm (a block
// without any gradient stays zero), clipped at 0.2 and renormalised
// (Dalal & Triggs' L2-Hys), so local contrast does not matter, only the
// directions of edges and their relative strength.
func HOG(pix []float32, h, w int, o HOGOptions) ([]float32, error) {
	o = o.withDefaults()
	size, err := HOGSize(h, w, o)
	if err != nil {
		return nil, err
	}
	hist, err := CellHistograms(pix, h, w, o)
	if err != nil {
		return nil, err
	}
	cx := w / o.Cell
	by, bx := h/o.Cell-o.Block+1, cx-o.Block+1
	out := make([]float32, 0, size)
	block := make([]float64, o.Block*o.Block*o.Bins)
	for y := 0; y < by; y++ {
		for x := 0; x < bx; x++ {
			block = block[:0]
			for dy := 0; dy < o.Block; dy++ {
				for dx := 0; dx < o.Block; dx++ {
					c := ((y+dy)*cx + x + dx) * o.Bins
					block = append(block, hist[c:c+o.Bins]...)
				}
			}
			l2Hys(block)
			for _, v := range block {
				out = append(out, float32(v))
			}
		}
	}
	return out, nil
}

// l2Hys scales v to unit norm, clips at 0.2 and scales to unit norm again.
func l2Hys(v []float64) {
	norm := func() {
		s := 0.0
		for _, x := range v {
			s += x * x
		}
		if s == 0 {
			return
		}
		s = math.Sqrt(s)
		for i := range v {
			v[i] /= s
		}
	}
	norm()
	for i, x := range v {
		v[i] = math.Min(x, 0.2)
	}
	norm()
}
