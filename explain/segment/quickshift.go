package segment

import (
	"fmt"
	"math"
	"slices"
)

// QuickshiftOptions tunes [Quickshift]. The zero value picks every parameter
// from the image size; those defaults give 10–60 segments on a 28×28 digit.
type QuickshiftOptions struct {
	// KernelSize is the standard deviation, in pixels, of the Gaussian kernel
	// that estimates the density of pixels in (position, colour) space.
	// Larger gives fewer, bigger segments. 0 picks max(1, sqrt(H*W)/56):
	// 1 for 28×28, 4 for 224×224.
	KernelSize float64
	// MaxDist is the longest link, in the joint space of pixels and
	// Ratio-scaled CIELAB units, that joins a pixel to its parent; longer
	// links are cut, starting a new segment. 0 picks 2·KernelSize.
	MaxDist float64
	// Ratio weighs colour (CIELAB units, L in [0, 100]) against position
	// (pixels): higher follows colour more, lower gives more compact
	// segments. 0 picks 0.5.
	Ratio float64
	// MinSize merges every segment smaller than this many pixels into the
	// adjacent segment of closest mean colour. 0 picks max(2, round(KernelSize²)),
	// 1 disables merging.
	MinSize int
	// Cell is the side, in pixels, of the square cells that perfectly flat
	// regions are tiled into (the density there is constant, so quickshift
	// alone has nothing to climb). Even values are rounded up to odd. 0 picks
	// 2·ceil(3·KernelSize)+1, the diameter of the search window.
	Cell int
}

// resolve fills the defaults and validates the options.
func (o QuickshiftOptions) resolve(h, w int) (QuickshiftOptions, error) {
	switch {
	case o.KernelSize < 0 || math.IsNaN(o.KernelSize) || o.KernelSize > 100:
		return o, fmt.Errorf("segment: Quickshift: KernelSize = %v; want 0 (auto) or a value in (0, 100]", o.KernelSize)
	case o.MaxDist < 0 || math.IsNaN(o.MaxDist) || math.IsInf(o.MaxDist, 0):
		return o, fmt.Errorf("segment: Quickshift: MaxDist = %v; want 0 (auto) or a positive finite value", o.MaxDist)
	case o.Ratio < 0 || math.IsNaN(o.Ratio) || math.IsInf(o.Ratio, 0):
		return o, fmt.Errorf("segment: Quickshift: Ratio = %v; want 0 (auto) or a positive finite value", o.Ratio)
	case o.MinSize < 0:
		return o, fmt.Errorf("segment: Quickshift: MinSize = %d; want 0 (auto) or a positive pixel count", o.MinSize)
	case o.Cell < 0 || o.Cell > MaxSide:
		return o, fmt.Errorf("segment: Quickshift: Cell = %d; want 0 (auto) or a side in 1..%d", o.Cell, MaxSide)
	}
	if o.KernelSize == 0 {
		o.KernelSize = max(1, math.Sqrt(float64(h*w))/56)
	}
	if o.MaxDist == 0 {
		o.MaxDist = 3 * o.KernelSize
	}
	if o.Ratio == 0 {
		o.Ratio = 0.1 * o.KernelSize
	}
	if o.MinSize == 0 {
		o.MinSize = max(4, h*w/128)
	}
	if o.Cell == 0 {
		o.Cell = max(3, int(math.Round(math.Sqrt(float64(h*w))/9)))
	}
	if o.Cell%2 == 0 {
		o.Cell++
	}
	return o, nil
}

// Quickshift segments a C×H×W image (C = 1 or 3) by quickshift mode seeking
// (Vedaldi & Soatto 2008, as in skimage.segmentation.quickshift): it
// estimates the density of every pixel in the joint space of position and
// Ratio-scaled CIELAB colour with a Gaussian of KernelSize, links each pixel
// to the nearest pixel of higher density within 3·KernelSize, cuts links
// longer than MaxDist, and takes each tree as a segment.
//
// Differences from skimage, made so that small and flat images segment
// usefully and deterministically: parameters default from the image size;
// exact density ties (flat regions) are broken by a tiny bump centred in each
// Cell×Cell tile instead of random noise, so a flat background becomes
// compact tiles rather than one segment; trees are split into 4-connected
// pieces and pieces smaller than MinSize are merged into their most similar
// neighbour.
//
// It returns an error for a bad image (channels not 1 or 3, a side below 2,
// len(pix) != c*h*w, non-finite values) or bad options.
func Quickshift(pix []float32, c, h, w int, o QuickshiftOptions) (*Segmentation, error) {
	if err := checkImage("Quickshift", pix, c, h, w); err != nil {
		return nil, err
	}
	o, err := o.resolve(h, w)
	if err != nil {
		return nil, err
	}
	feat, k := features(pix, c, h, w)
	for i := range feat {
		feat[i] *= o.Ratio
	}
	hw := h * w
	sigma := o.KernelSize
	r := int(math.Ceil(3 * sigma))
	inv := 1 / (2 * sigma * sigma)
	cut2 := 9 * sigma * sigma // kernel support: joint distance up to 3σ
	colour2 := func(i, j int) float64 {
		d := 0.0
		for m := 0; m < k; m++ {
			t := feat[i*k+m] - feat[j*k+m]
			d += t * t
		}
		return d
	}

	// Window offsets sorted by spatial distance (ties in raster order).
	type offset struct{ dy, dx, d2 int }
	var offs []offset
	for dy := -r; dy <= r; dy++ {
		for dx := -r; dx <= r; dx++ {
			offs = append(offs, offset{dy, dx, dy*dy + dx*dx})
		}
	}
	slices.SortStableFunc(offs, func(a, b offset) int { return a.d2 - b.d2 })

	// Density estimate: every pair within 3σ in the joint space adds
	// exp(-d²/2σ²) to both pixels, so each pair is visited once.
	var fwd []offset // the half of the disk after the centre in raster order
	for _, of := range offs {
		if float64(of.d2) <= cut2 && (of.dy > 0 || (of.dy == 0 && of.dx > 0)) {
			fwd = append(fwd, of)
		}
	}
	dens := make([]float64, hw)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			dens[i]++ // the pixel itself
			for _, of := range fwd {
				yy, xx := y+of.dy, x+of.dx
				if yy >= h || xx < 0 || xx >= w {
					continue
				}
				j := yy*w + xx
				d2 := float64(of.d2) + colour2(i, j)
				if d2 > cut2 {
					continue
				}
				g := gauss(d2 * inv)
				dens[i] += g
				dens[j] += g
			}
		}
	}
	maxDens := slices.Max(dens)

	// Break exact ties with a bump of height eps peaking at the centre of each
	// Cell×Cell tile (tiles centred on the image), far below any real density
	// difference (the smallest kernel term is exp(-4.5) ≈ 0.011).
	p := o.Cell
	half := p / 2
	offY := (p*((h+p-1)/p) - h) / 2
	offX := (p*((w+p-1)/p) - w) / 2
	eps := 1e-9 * maxDens
	norm := 1 / float64(2*half*half+1)
	for y := 0; y < h; y++ {
		cy := (y+offY)%p - half
		for x := 0; x < w; x++ {
			cx := (x+offX)%p - half
			dens[y*w+x] += eps * (1 - float64(cy*cy+cx*cx)*norm)
		}
	}

	// Link each pixel to its nearest neighbour of higher density within the
	// window (ties: the denser one, then the first in offset order). Offsets
	// come by increasing spatial distance, so the search stops once that
	// alone exceeds the best joint distance found.
	parent := make([]int, hw)
	maxD2 := o.MaxDist * o.MaxDist
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			best, bestD2 := i, math.Inf(1)
			di := dens[i]
			for _, of := range offs {
				if float64(of.d2) > bestD2 {
					break
				}
				yy, xx := y+of.dy, x+of.dx
				if yy < 0 || yy >= h || xx < 0 || xx >= w {
					continue
				}
				j := yy*w + xx
				if dens[j] <= di {
					continue
				}
				d2 := float64(of.d2) + colour2(i, j)
				if d2 < bestD2 || (d2 == bestD2 && dens[j] > dens[best]) {
					best, bestD2 = j, d2
				}
			}
			if bestD2 > maxD2 {
				best = i
			}
			parent[i] = best
		}
	}

	// Each tree (a root and everything that climbs to it) is one segment.
	labels := make([]int, hw)
	for i := range labels {
		labels[i] = -1
	}
	path := make([]int, 0, 64)
	for i := range labels {
		j := i
		path = path[:0]
		for labels[j] == -1 && parent[j] != j {
			path = append(path, j)
			j = parent[j]
		}
		root := labels[j]
		if root == -1 {
			root = j
			labels[j] = j
		}
		for _, q := range path {
			labels[q] = root
		}
	}
	return connectAndMerge(labels, h, w, feat, k, o.MinSize), nil
}

// gaussTab holds exp(-t) on a uniform grid over [0, 4.5], the range of
// kernel exponents inside the 3σ support; gauss interpolates it linearly
// (relative error below 2e-7), which is several times faster than math.Exp.
var gaussTab = func() []float64 {
	tab := make([]float64, gaussN+2)
	for i := range tab {
		tab[i] = math.Exp(-float64(i) * gaussMax / gaussN)
	}
	return tab
}()

const (
	gaussN   = 4096
	gaussMax = 4.5
)

func gauss(t float64) float64 {
	u := t * (gaussN / gaussMax)
	i := int(u)
	if i >= gaussN {
		return gaussTab[gaussN]
	}
	f := u - float64(i)
	return gaussTab[i] + f*(gaussTab[i+1]-gaussTab[i])
}
