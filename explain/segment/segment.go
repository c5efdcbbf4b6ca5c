package segment

import (
	"fmt"
	"math"
)

// MaxSide is the largest image height or width the segmenters accept.
const MaxSide = 1 << 15

// Segmentation labels each pixel of an H×W image with a segment id in [0, N).
//
// Labels is row-major: the label of pixel (y, x) is Labels[y*W+x]. Segments
// produced by this package are numbered in raster order of their first pixel
// and each is 4-connected.
type Segmentation struct {
	H      int   `json:"h"`
	W      int   `json:"w"`
	N      int   `json:"n"`      // number of segments
	Labels []int `json:"labels"` // H*W row-major segment ids in [0, N)
}

// Sizes returns the number of pixels in each segment, indexed by segment id.
func (s *Segmentation) Sizes() []int {
	sizes := make([]int, s.N)
	for _, l := range s.Labels {
		sizes[l]++
	}
	return sizes
}

// Mask returns an H*W row-major mask that is true on the pixels of segment
// id. It panics if id is not in [0, N).
func (s *Segmentation) Mask(id int) []bool {
	if id < 0 || id >= s.N {
		panic(fmt.Sprintf("segment: Mask(%d): segment id out of range [0, %d)", id, s.N))
	}
	m := make([]bool, len(s.Labels))
	for i, l := range s.Labels {
		m[i] = l == id
	}
	return m
}

// Boundaries returns an H*W row-major mask that is true on every pixel whose
// 4-neighbour (up, down, left or right) lies in a different segment, so each
// boundary is marked on both sides.
func (s *Segmentation) Boundaries() []bool {
	return boundaries(s.Labels, s.H, s.W)
}

func boundaries(labels []int, h, w int) []bool {
	b := make([]bool, h*w)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			if x+1 < w && labels[i] != labels[i+1] {
				b[i], b[i+1] = true, true
			}
			if y+1 < h && labels[i] != labels[i+w] {
				b[i], b[i+w] = true, true
			}
		}
	}
	return b
}

// Means returns the mean of each channel over each segment of the C×H×W image
// pix, as an N×C row-major slice: Means[id*c+ch]. Image LIME uses it to hide a
// segment by painting it with its own mean colour. It returns an error if pix
// does not have c*H*W values.
func (s *Segmentation) Means(pix []float32, c int) ([]float32, error) {
	if c < 1 {
		return nil, fmt.Errorf("segment: Means: %d channels; want at least 1", c)
	}
	hw := s.H * s.W
	if len(pix) != c*hw {
		return nil, fmt.Errorf("segment: Means: len(pix) = %d, want c*H*W = %d*%d*%d = %d (channel-first C×H×W)",
			len(pix), c, s.H, s.W, c*hw)
	}
	if len(s.Labels) != hw {
		return nil, fmt.Errorf("segment: Means: segmentation has %d labels for %d×%d pixels", len(s.Labels), s.H, s.W)
	}
	sums := make([]float64, s.N*c)
	counts := make([]int, s.N)
	for i, l := range s.Labels {
		if l < 0 || l >= s.N {
			return nil, fmt.Errorf("segment: Means: label %d at pixel %d is out of range [0, %d)", l, i, s.N)
		}
		counts[l]++
		for ch := 0; ch < c; ch++ {
			sums[l*c+ch] += float64(pix[ch*hw+i])
		}
	}
	means := make([]float32, s.N*c)
	for l := 0; l < s.N; l++ {
		if counts[l] == 0 {
			continue
		}
		for ch := 0; ch < c; ch++ {
			means[l*c+ch] = float32(sums[l*c+ch] / float64(counts[l]))
		}
	}
	return means, nil
}

// Validate checks the invariants every segmentation of this package holds:
// H and W positive, H*W labels, every id in [0, N) used, and every segment
// 4-connected. Use it on segmentations built by hand or loaded from elsewhere;
// [FromLabels] repairs one that fails.
func (s *Segmentation) Validate() error {
	if s.H < 1 || s.W < 1 {
		return fmt.Errorf("segment: segmentation is %d×%d; want positive height and width", s.H, s.W)
	}
	if len(s.Labels) != s.H*s.W {
		return fmt.Errorf("segment: segmentation has %d labels, want H*W = %d*%d = %d", len(s.Labels), s.H, s.W, s.H*s.W)
	}
	if s.N < 1 {
		return fmt.Errorf("segment: segmentation has N = %d segments; want at least 1", s.N)
	}
	for i, l := range s.Labels {
		if l < 0 || l >= s.N {
			return fmt.Errorf("segment: label %d at pixel (%d, %d) is out of range [0, %d)", l, i/s.W, i%s.W, s.N)
		}
	}
	comp, nc := components(s.Labels, s.H, s.W)
	if nc != s.N {
		seen := make([]int, s.N)
		for i := range seen {
			seen[i] = -1
		}
		for i, l := range s.Labels {
			switch {
			case seen[l] == -1:
				seen[l] = comp[i]
			case seen[l] != comp[i]:
				return fmt.Errorf("segment: segment %d is not connected (pixel (%d, %d) is cut off from the rest); relabel with FromLabels",
					l, i/s.W, i%s.W)
			}
		}
		for l, c := range seen {
			if c == -1 {
				return fmt.Errorf("segment: segment id %d has no pixels; ids must be consecutive 0..N-1 (relabel with FromLabels)", l)
			}
		}
	}
	return nil
}

// FromLabels builds a valid Segmentation from any H*W row-major labelling:
// every 4-connected region of equal labels becomes one segment, numbered
// consecutively in raster order. It returns an error if the sizes disagree.
func FromLabels(h, w int, labels []int) (*Segmentation, error) {
	if h < 1 || w < 1 || h > MaxSide || w > MaxSide {
		return nil, fmt.Errorf("segment: FromLabels: size %d×%d; want 1..%d on each side", h, w, MaxSide)
	}
	if len(labels) != h*w {
		return nil, fmt.Errorf("segment: FromLabels: %d labels, want h*w = %d*%d = %d", len(labels), h, w, h*w)
	}
	comp, n := components(labels, h, w)
	return &Segmentation{H: h, W: w, N: n, Labels: comp}, nil
}

// Grid cuts an h×w image into cellH×cellW rectangles (the last row and column
// of cells are smaller when the sides do not divide evenly). It ignores the
// content and is the fallback when no segmenter suits the image.
func Grid(h, w, cellH, cellW int) (*Segmentation, error) {
	if h < 1 || w < 1 || h > MaxSide || w > MaxSide {
		return nil, fmt.Errorf("segment: Grid: image size %d×%d; want 1..%d on each side", h, w, MaxSide)
	}
	if cellH < 1 || cellW < 1 {
		return nil, fmt.Errorf("segment: Grid: cell size %d×%d; want at least 1×1", cellH, cellW)
	}
	cellH, cellW = min(cellH, h), min(cellW, w)
	cols := (w + cellW - 1) / cellW
	rows := (h + cellH - 1) / cellH
	labels := make([]int, h*w)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			labels[y*w+x] = (y/cellH)*cols + x/cellW
		}
	}
	return &Segmentation{H: h, W: w, N: rows * cols, Labels: labels}, nil
}

// AutoTarget is the segment count [Auto] aims for on an h×w image:
// H*W/16 clamped to [10, 100], and never more than H*W/4 (so a segment has
// at least about four pixels). That is 49 for 28×28, 64 for 32×32 and 100
// for 224×224.
func AutoTarget(h, w int) int {
	t := int(math.Round(float64(h*w) / 16))
	t = min(max(t, 10), 100)
	return max(1, min(t, h*w/4))
}

// Auto segments an image with [SLIC], choosing the number of segments from
// the image size with [AutoTarget] and the other SLIC parameters by their
// defaults. If connectivity enforcement moves the count outside
// [2/3·target, 6/5·target] it retries (at most three times) with the request
// rescaled by target/got, and keeps the result closest to the target. On a
// 28×28 digit that gives 33–58 segments; on 224×224 photographs about 66–120.
func Auto(pix []float32, c, h, w int) (*Segmentation, error) {
	if err := checkImage("Auto", pix, c, h, w); err != nil {
		return nil, err
	}
	target := AutoTarget(h, w)
	lo, hi := max(1, target*2/3), target*6/5
	req := target
	var best *Segmentation
	for try := 0; try < 4; try++ {
		s, err := SLIC(pix, c, h, w, SLICOptions{NSegments: req})
		if err != nil {
			return nil, err
		}
		if best == nil || absInt(s.N-target) < absInt(best.N-target) {
			best = s
		}
		if s.N >= lo && s.N <= hi {
			break
		}
		next := int(math.Round(float64(req) * float64(target) / float64(max(1, s.N))))
		next = max(1, min(next, h*w))
		if next == req {
			break
		}
		req = next
	}
	return best, nil
}

func absInt(a int) int {
	if a < 0 {
		return -a
	}
	return a
}

// checkImage validates a C×H×W image at the package's API edge.
func checkImage(fn string, pix []float32, c, h, w int) error {
	if c != 1 && c != 3 {
		return fmt.Errorf("segment: %s: image has %d channels; want 1 (grey) or 3 (RGB)", fn, c)
	}
	if h < 2 || w < 2 || h > MaxSide || w > MaxSide {
		return fmt.Errorf("segment: %s: image is %d×%d; want height and width in 2..%d", fn, h, w, MaxSide)
	}
	if len(pix) != c*h*w {
		return fmt.Errorf("segment: %s: len(pix) = %d, want c*h*w = %d*%d*%d = %d (channel-first C×H×W)",
			fn, len(pix), c, h, w, c*h*w)
	}
	for i, v := range pix {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			hw := h * w
			return fmt.Errorf("segment: %s: pixel (channel %d, y %d, x %d) is %v; want finite values",
				fn, i/hw, i%hw/w, i%w, v)
		}
	}
	return nil
}
