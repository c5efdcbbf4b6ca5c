package segment

import (
	"fmt"
	"math"
)

// SLICOptions tunes [SLIC]. The zero value picks every parameter from the
// image size.
type SLICOptions struct {
	// NSegments is the approximate number of segments wanted; the grid of
	// seeds is laid out for it and connectivity enforcement moves the final
	// count a little. 0 picks AutoTarget(H, W) (49 for 28×28, 100 for 224×224).
	NSegments int
	// Compactness weighs position against colour (CIELAB units, L in
	// [0, 100]): a pixel S away from a centre (S = sqrt(H*W/NSegments), the
	// seed spacing) costs as much as a colour difference of Compactness.
	// Higher gives squarer segments, lower follows colour more. 0 picks 10.
	Compactness float64
	// MaxIter bounds the k-means iterations (it stops early once no pixel
	// changes segment). 0 picks 10.
	MaxIter int
	// MinSizeFactor: connected pieces smaller than MinSizeFactor·H*W/NSegments
	// pixels are merged into the adjacent segment of closest mean colour.
	// 0 picks 0.25.
	MinSizeFactor float64
}

func (o SLICOptions) resolve(h, w int) (SLICOptions, error) {
	switch {
	case o.NSegments < 0 || o.NSegments > h*w:
		return o, fmt.Errorf("segment: SLIC: NSegments = %d; want 0 (auto) or 1..%d (the pixel count of the %d×%d image)",
			o.NSegments, h*w, h, w)
	case o.Compactness < 0 || math.IsNaN(o.Compactness) || math.IsInf(o.Compactness, 0):
		return o, fmt.Errorf("segment: SLIC: Compactness = %v; want 0 (auto) or a positive finite value", o.Compactness)
	case o.MaxIter < 0:
		return o, fmt.Errorf("segment: SLIC: MaxIter = %d; want 0 (auto) or a positive count", o.MaxIter)
	case o.MinSizeFactor < 0 || o.MinSizeFactor > 1 || math.IsNaN(o.MinSizeFactor):
		return o, fmt.Errorf("segment: SLIC: MinSizeFactor = %v; want 0 (auto) or a value in (0, 1]", o.MinSizeFactor)
	}
	if o.NSegments == 0 {
		o.NSegments = AutoTarget(h, w)
	}
	if o.Compactness == 0 {
		o.Compactness = 10
	}
	if o.MaxIter == 0 {
		o.MaxIter = 10
	}
	if o.MinSizeFactor == 0 {
		o.MinSizeFactor = 0.25
	}
	return o, nil
}

// SLIC segments a C×H×W image (C = 1 or 3) with simple linear iterative
// clustering (Achanta et al. 2012): seeds on a regular grid of spacing
// S = sqrt(H*W/NSegments), each moved to the lowest-gradient pixel of its 3×3
// neighbourhood, then k-means in (CIELAB colour, position) space where each
// centre only competes for pixels within ±S of it (a 2S×2S window), with distance
// sqrt(dcolour² + (dspace/S)²·Compactness²). Afterwards connectivity is
// enforced: every segment is split into 4-connected pieces and pieces below
// MinSizeFactor·S² pixels are merged into the adjacent segment of closest
// mean colour (skimage merges into an arbitrary neighbour instead).
//
// It returns an error for a bad image (channels not 1 or 3, a side below 2,
// len(pix) != c*h*w, non-finite values) or bad options.
func SLIC(pix []float32, c, h, w int, o SLICOptions) (*Segmentation, error) {
	if err := checkImage("SLIC", pix, c, h, w); err != nil {
		return nil, err
	}
	o, err := o.resolve(h, w)
	if err != nil {
		return nil, err
	}
	feat, k := features(pix, c, h, w)
	hw := h * w
	step := math.Sqrt(float64(hw) / float64(o.NSegments))

	// Seed grid: ny×nx cells of size sy×sx with ny*nx close to NSegments.
	ny := max(1, min(h, int(math.Round(float64(h)/step))))
	nx := max(1, min(w, int(math.Round(float64(w)/step))))
	sy, sx := float64(h)/float64(ny), float64(w)/float64(nx)
	nc := ny * nx
	dim := k + 2 // colour features, then y, x
	cent := make([]float64, nc*dim)
	grad := func(y, x int) float64 {
		g := 0.0
		for m := 0; m < k; m++ {
			dx := feat[(y*w+min(x+1, w-1))*k+m] - feat[(y*w+max(x-1, 0))*k+m]
			dy := feat[(min(y+1, h-1)*w+x)*k+m] - feat[(max(y-1, 0)*w+x)*k+m]
			g += dx*dx + dy*dy
		}
		return g
	}
	for gy := 0; gy < ny; gy++ {
		for gx := 0; gx < nx; gx++ {
			y := min(h-1, int((float64(gy)+0.5)*sy))
			x := min(w-1, int((float64(gx)+0.5)*sx))
			by, bx, bg := y, x, grad(y, x)
			for yy := max(0, y-1); yy <= min(h-1, y+1); yy++ {
				for xx := max(0, x-1); xx <= min(w-1, x+1); xx++ {
					if g := grad(yy, xx); g < bg {
						by, bx, bg = yy, xx, g
					}
				}
			}
			cc := cent[(gy*nx+gx)*dim:]
			copy(cc, feat[(by*w+bx)*k:(by*w+bx)*k+k])
			cc[k], cc[k+1] = float64(by), float64(bx)
		}
	}

	labels := make([]int, hw)
	for i := range labels {
		labels[i] = -1
	}
	dist := make([]float64, hw)
	sums := make([]float64, nc*dim)
	counts := make([]int, nc)
	spaceW := o.Compactness * o.Compactness / (step * step)
	reach := max(sy, sx) // each centre competes within ±S, as in the paper
	for iter := 0; iter < o.MaxIter; iter++ {
		for i := range dist {
			dist[i] = math.Inf(1)
		}
		changed := false
		for ci := 0; ci < nc; ci++ {
			cc := cent[ci*dim : ci*dim+dim]
			cy, cx := cc[k], cc[k+1]
			y0, y1 := max(0, int(math.Ceil(cy-reach))), min(h-1, int(math.Floor(cy+reach)))
			x0, x1 := max(0, int(math.Ceil(cx-reach))), min(w-1, int(math.Floor(cx+reach)))
			for y := y0; y <= y1; y++ {
				dy := float64(y) - cy
				for x := x0; x <= x1; x++ {
					i := y*w + x
					dx := float64(x) - cx
					d := (dy*dy + dx*dx) * spaceW
					f := feat[i*k : i*k+k]
					for m, v := range f {
						t := v - cc[m]
						d += t * t
					}
					if d < dist[i] {
						dist[i] = d
						if labels[i] != ci {
							labels[i] = ci
							changed = true
						}
					}
				}
			}
		}
		if !changed && iter > 0 {
			break
		}
		// Move each centre to the mean of its pixels.
		clear(sums)
		clear(counts)
		for i, l := range labels {
			if l < 0 {
				continue
			}
			counts[l]++
			s := sums[l*dim : l*dim+dim]
			for m := 0; m < k; m++ {
				s[m] += feat[i*k+m]
			}
			s[k] += float64(i / w)
			s[k+1] += float64(i % w)
		}
		for ci := 0; ci < nc; ci++ {
			if counts[ci] == 0 {
				continue // keep an empty centre where it was
			}
			inv := 1 / float64(counts[ci])
			for m := 0; m < dim; m++ {
				cent[ci*dim+m] = sums[ci*dim+m] * inv
			}
		}
	}
	// A pixel no centre reached (possible only after centres drift far) joins
	// the nearest centre by position.
	for i, l := range labels {
		if l >= 0 {
			continue
		}
		y, x := float64(i/w), float64(i%w)
		best, bestD := 0, math.Inf(1)
		for ci := 0; ci < nc; ci++ {
			dy, dx := y-cent[ci*dim+k], x-cent[ci*dim+k+1]
			if d := dy*dy + dx*dx; d < bestD {
				best, bestD = ci, d
			}
		}
		labels[i] = best
	}
	minSize := max(1, int(o.MinSizeFactor*float64(hw)/float64(o.NSegments)))
	return connectAndMerge(labels, h, w, feat, k, minSize), nil
}
