package explain

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/glassbox-ml/glassbox/explain/segment"
)

// Hide says how image LIME paints a hidden superpixel.
type Hide string

const (
	// HideMean (default) paints a hidden segment with its own mean colour.
	HideMean Hide = "mean"
	// HideConstant paints it with ImageOptions.HideValue in every channel.
	HideConstant Hide = "constant"
	// HideBlur replaces it with a Gaussian blur of the image.
	HideBlur Hide = "blur"
)

// Segmenter splits a channel-first C×H×W image into superpixels; the
// functions of package segment (Auto, Quickshift, SLIC with options bound)
// fit it.
type Segmenter func(pix []float32, c, h, w int) (*segment.Segmentation, error)

// ImageOptions tune an image explanation. The zero value gives the
// defaults.
type ImageOptions struct {
	// Seed makes the explanation reproducible.
	Seed uint64
	// Samples is the number of perturbed images, the original included
	// (default 1000).
	Samples int
	// NumFeatures is how many segments the surrogate keeps (default: all).
	NumFeatures int
	// Labels to explain; default the TopLabels most probable (TopLabels
	// default 1), or output 0 for regression.
	Labels     []int
	TopLabels  int
	Mode       Mode
	ClassNames []string
	// KernelWidth on the cosine distance between the kept-segment mask and
	// the full image (default 0.25, as lime).
	KernelWidth float64
	// AutoKernelWidth, Selection (default SelectAuto) and Ridge (default
	// 1) work as in TabularOptions.
	AutoKernelWidth bool
	Selection       Selection
	Ridge           float64
	// BatchSize is the number of images per model call (default 256).
	BatchSize int
	// Segmenter makes the superpixels (default segment.Auto, which finds
	// tens of segments even on 28×28 images). Segmentation, when set, is
	// used as is instead.
	Segmenter    Segmenter
	Segmentation *segment.Segmentation
	// Hide, HideValue (for HideConstant) and BlurSigma (for HideBlur,
	// default max(1, min(H, W)/8) pixels) set how hidden segments look.
	Hide      Hide
	HideValue float32
	BlurSigma float64
}

// ImageExplanation is a LIME explanation of one image; features are the
// segments of Segmentation.
type ImageExplanation struct {
	Explanation
	Hide         Hide                  `json:"hide"`
	Channels     int                   `json:"channels"`
	Segmentation *segment.Segmentation `json:"segmentation"`
}

// PixelAttribution spreads label's segment weights over the pixels: an H·W
// row-major map holding each pixel's segment weight (0 for segments the
// surrogate did not keep). It returns nil if label was not explained.
func (e *ImageExplanation) PixelAttribution(label int) []float32 {
	le := e.Label(label)
	if le == nil {
		return nil
	}
	segW := make([]float32, e.Segmentation.N)
	for _, fw := range le.Weights {
		segW[fw.Feature] = float32(fw.Weight)
	}
	out := make([]float32, len(e.Segmentation.Labels))
	for p, s := range e.Segmentation.Labels {
		out[p] = segW[s]
	}
	return out
}

// Mask marks the pixels of label's k segments with the largest weights
// (positive weights only when positiveOnly), as an H·W row-major mask.
func (e *ImageExplanation) Mask(label, k int, positiveOnly bool) []bool {
	le := e.Label(label)
	if le == nil {
		return nil
	}
	keep := make([]bool, e.Segmentation.N)
	taken := 0
	for _, fw := range le.Weights {
		if taken == k {
			break
		}
		if positiveOnly && fw.Weight <= 0 {
			continue
		}
		keep[fw.Feature] = true
		taken++
	}
	out := make([]bool, len(e.Segmentation.Labels))
	for p, s := range e.Segmentation.Labels {
		out[p] = keep[s]
	}
	return out
}

// checkImage validates a C×H×W image at the API edge.
func checkImage(what string, pix []float32, c, h, w int) error {
	if c < 1 || h < 1 || w < 1 {
		return fmt.Errorf("%s: image size %d×%d×%d (C×H×W); all must be positive", what, c, h, w)
	}
	if len(pix) != c*h*w {
		return fmt.Errorf("%s: image has %d values, want C×H×W = %d×%d×%d = %d (channel-first)", what, len(pix), c, h, w, c*h*w)
	}
	for i, v := range pix {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("%s: pixel value %d (channel %d, y %d, x %d) is %v; images must be finite", what, i, i/(h*w), i%(h*w)/w, i%w, v)
		}
	}
	return nil
}

// ExplainImage explains model's prediction for the channel-first C×H×W
// image pix; model receives images of the same size, flattened.
//
// Each segment is shown in exactly half of the perturbed images (balanced
// columns, shuffled independently per segment from its own random stream),
// which makes the design close to orthogonal and the weights low-variance.
// Perturbed images are painted in parallel batch by batch, reusing one
// buffer, and passed to the model in batches of BatchSize.
func ExplainImage(ctx context.Context, model Func, pix []float32, c, h, w int, opt ImageOptions) (*ImageExplanation, error) {
	start := time.Now()
	const what = "lime image"
	if model == nil {
		return nil, fmt.Errorf("%s: model is nil", what)
	}
	if err := checkImage(what, pix, c, h, w); err != nil {
		return nil, err
	}
	mode := opt.Mode
	if mode == "" {
		mode = Classification
	}
	if mode != Classification && mode != Regression {
		return nil, fmt.Errorf("%s: unknown mode %q; use classification or regression", what, mode)
	}
	hide := opt.Hide
	if hide == "" {
		hide = HideMean
	}
	if hide != HideMean && hide != HideConstant && hide != HideBlur {
		return nil, fmt.Errorf("%s: unknown Hide %q; use mean, constant or blur", what, hide)
	}
	seg := opt.Segmentation
	if seg == nil {
		segmenter := opt.Segmenter
		if segmenter == nil {
			segmenter = segment.Auto
		}
		var err error
		if seg, err = segmenter(pix, c, h, w); err != nil {
			return nil, fmt.Errorf("%s: segmenting the %d×%d×%d image: %w", what, c, h, w, err)
		}
		if seg == nil {
			return nil, fmt.Errorf("%s: the segmenter returned no segmentation", what)
		}
	}
	if seg.H != h || seg.W != w || len(seg.Labels) != h*w {
		return nil, fmt.Errorf("%s: segmentation is %d×%d with %d labels, the image is %d×%d", what, seg.H, seg.W, len(seg.Labels), h, w)
	}
	for p, l := range seg.Labels {
		if l < 0 || l >= seg.N {
			return nil, fmt.Errorf("%s: segmentation label %d at pixel %d is outside 0..%d", what, l, p, seg.N-1)
		}
	}
	N := seg.N
	if N < 2 {
		return nil, fmt.Errorf("%s: the segmentation of the %d×%d image has %d segment; LIME needs at least 2: use a finer Segmenter (segment.SLIC with more segments, or segment.Grid)", what, h, w, N)
	}
	numFeatures := opt.NumFeatures
	if numFeatures == 0 {
		numFeatures = N
	}
	n, cfg, batch, err := commonOptions(what, opt.Samples, 1000, numFeatures, opt.KernelWidth, 0.25, opt.Selection, opt.Ridge, opt.BatchSize, 256)
	if err != nil {
		return nil, err
	}
	cfg.autoWidth = opt.AutoKernelWidth
	if opt.BlurSigma < 0 {
		return nil, fmt.Errorf("%s: BlurSigma is %v; use a positive value or 0 for the default", what, opt.BlurSigma)
	}
	fudge, err := fudgeImage(pix, c, h, w, seg, hide, opt.HideValue, opt.BlurSigma)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	z, dist := balancedDesign(opt.Seed, n, N)
	names := make([]string, N)
	for j := range names {
		names[j] = fmt.Sprintf("segment %d", j)
	}
	e := &ImageExplanation{Explanation: Explanation{Method: "lime-image", Mode: mode, Seed: opt.Seed, Samples: n,
		NumFeatures: N, FeatureNames: names, Selection: cfg.selection, Ridge: cfg.ridge},
		Hide: hide, Channels: c, Segmentation: seg}

	hw, dim := h*w, c*h*w
	// Painting is a branch-free bit select per pixel: out = fudge ^ ((fudge ^
	// pix) & mask), mask all ones where the pixel's segment is kept, so the
	// kept pixels are bit-identical to the image.
	segOf := make([]int32, hw)
	for p, l := range seg.Labels {
		segOf[p] = int32(l)
	}
	srcBits := make([]uint32, c*hw)
	xorBits := make([]uint32, c*hw)
	for i, v := range pix {
		srcBits[i] = math.Float32bits(fudge[i])
		xorBits[i] = math.Float32bits(fudge[i]) ^ math.Float32bits(v)
	}
	buf := make([]float32, min(batch, n)*dim)
	o := outputs{what: what, timing: &e.Timing}
	for lo := 0; lo < n; lo += batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi := min(lo+batch, n)
		parallelChunks(hi-lo, 4, func(_, a, b int) {
			mask := make([]uint32, N)
			for i := a; i < b; i++ {
				for s, v := range z[(lo+i)*N : (lo+i+1)*N] {
					mask[s] = -uint32(v) // 0 or all ones
				}
				out := buf[i*dim : (i+1)*dim]
				for ch := range c {
					fb := srcBits[ch*hw : (ch+1)*hw]
					xb := xorBits[ch*hw : (ch+1)*hw]
					dst := out[ch*hw : (ch+1)*hw]
					dst = dst[:len(segOf)]
					fb, xb = fb[:len(segOf)], xb[:len(segOf)]
					for p, s := range segOf {
						dst[p] = math.Float32frombits(fb[p] ^ (xb[p] & mask[s]))
					}
				}
			}
		})
		if err := o.add(hi-lo, lo, func() ([]float32, error) { return model(ctx, buf[:(hi-lo)*dim], hi-lo) }); err != nil {
			return nil, fmt.Errorf("%w (the model was given %d×%d×%d images, channel-first, %d values each; check that it takes this size)", err, c, h, w, dim)
		}
	}
	labs, err := pickLabels(what, mode, o.y[:o.k], opt.Labels, opt.TopLabels)
	if err != nil {
		return nil, err
	}
	p := &problem{z: z, n: n, d: N, dist: dist, y: o.y, k: o.k, binary: true}
	les, width, grid, ess := fit(p, labs, cfg, names)
	for i := range les {
		if l := les[i].Label; l < len(opt.ClassNames) {
			les[i].Name = opt.ClassNames[l]
		}
	}
	e.Labels, e.KernelWidth, e.KernelWidths = les, width, grid
	e.Quality = quality(les, ess, n)
	e.Timing.Total = time.Since(start)
	return e, nil
}

// balancedDesign draws n×N keep-masks: row 0 keeps everything; in rows
// 1..n−1 each column keeps exactly half (the odd one out alternating by
// column), shuffled from the column's own stream. dist is the cosine
// distance of each mask to the all-ones mask.
func balancedDesign(seed uint64, n, N int) ([]float32, []float64) {
	z := make([]float32, n*N)
	m := n - 1
	parallelChunks(N, 1, func(_, j, _ int) {
		r := subStream(seed, streamColumn, uint64(j))
		col := make([]float32, m)
		ones := m / 2
		if m%2 == 1 && j%2 == 1 {
			ones++
		}
		for i := range ones {
			col[i] = 1
		}
		shuffle(r, col)
		z[j] = 1
		for i, v := range col {
			z[(i+1)*N+j] = v
		}
	})
	dist := make([]float64, n)
	parallelChunks(n, 512, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			kept := 0.0
			for _, v := range z[i*N : (i+1)*N] {
				kept += float64(v)
			}
			dist[i] = 1 - math.Sqrt(kept/float64(N))
		}
	})
	return z, dist
}

// fudgeImage is what hidden segments show.
func fudgeImage(pix []float32, c, h, w int, seg *segment.Segmentation, hide Hide, value float32, sigma float64) ([]float32, error) {
	hw := h * w
	out := make([]float32, c*hw)
	switch hide {
	case HideConstant:
		for i := range out {
			out[i] = value
		}
	case HideMean:
		means, err := seg.Means(pix, c)
		if err != nil {
			return nil, err
		}
		for ch := range c {
			for p, s := range seg.Labels {
				out[ch*hw+p] = means[s*c+ch]
			}
		}
	case HideBlur:
		if sigma == 0 {
			sigma = math.Max(1, float64(min(h, w))/8)
		}
		for ch := range c {
			gaussianBlur(pix[ch*hw:(ch+1)*hw], out[ch*hw:(ch+1)*hw], h, w, sigma)
		}
	}
	return out, nil
}

// gaussianBlur blurs one h×w plane separably with edge clamping.
func gaussianBlur(src, dst []float32, h, w int, sigma float64) {
	rad := int(math.Ceil(3 * sigma))
	k := make([]float64, 2*rad+1)
	s := 0.0
	for i := range k {
		x := float64(i - rad)
		k[i] = math.Exp(-x * x / (2 * sigma * sigma))
		s += k[i]
	}
	for i := range k {
		k[i] /= s
	}
	tmp := make([]float64, h*w)
	for y := range h {
		for x := range w {
			a := 0.0
			for i, kv := range k {
				xx := min(max(x+i-rad, 0), w-1)
				a += kv * float64(src[y*w+xx])
			}
			tmp[y*w+x] = a
		}
	}
	for y := range h {
		for x := range w {
			a := 0.0
			for i, kv := range k {
				yy := min(max(y+i-rad, 0), h-1)
				a += kv * tmp[yy*w+x]
			}
			dst[y*w+x] = float32(a)
		}
	}
}
