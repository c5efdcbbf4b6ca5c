package explain

import (
	"context"
	"fmt"
	"math"
	"math/bits"
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
// defaults: those of LIMEOptions for images.
type ImageOptions struct {
	LIMEOptions
	// Mode of the model's outputs (default Classification) and the names of
	// its classes (optional).
	Mode       Mode
	ClassNames []string
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

// checkImageModel validates the model, C×H×W image and label of an image
// method at the API edge.
func checkImageModel(what string, model Func, pix []float32, c, h, w, label int) error {
	if model == nil {
		return fmt.Errorf("%s: model is nil", what)
	}
	if label < 0 {
		return fmt.Errorf("%s: label %d is negative; labels count outputs from 0", what, label)
	}
	return checkImage(what, pix, c, h, w)
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
// Each segment is shown in exactly half of the perturbed images of a
// sampling block (balanced columns, shuffled independently per segment from
// its own random stream), which makes the design close to orthogonal and the
// weights low-variance. Perturbed images are painted batch by batch into
// one reused buffer, in parallel by image, each pixel written once by
// copying the runs of a segment from the image or from its hidden version.
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
	dim := c * h * w
	bud, cfg, batch, err := opt.resolve(what, limeDefaults{samples: 1000, numFeatures: N, width: 0.25, batch: max(1, min(256, imageBatchValues/dim))})
	if err != nil {
		return nil, err
	}
	if opt.BlurSigma < 0 {
		return nil, fmt.Errorf("%s: BlurSigma is %v; use a positive value or 0 for the default", what, opt.BlurSigma)
	}
	fudge, err := fudgeImage(pix, c, h, w, seg, hide, opt.HideValue, opt.BlurSigma)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	names := make([]string, N)
	for j := range names {
		names[j] = fmt.Sprintf("segment %d", j)
	}
	e := &ImageExplanation{Explanation: Explanation{Method: "lime-image", Mode: mode, Seed: opt.Seed,
		NumFeatures: N, FeatureNames: names, Selection: cfg.selection, Ridge: cfg.ridge},
		Hide: hide, Channels: c, Segmentation: seg}
	if bud.adaptive {
		e.MaxSamples = bud.max
	}
	p := newMaskProblem(N, func(kept int) float64 { return 1 - math.Sqrt(float64(kept)/float64(N)) })
	pt := newPainter(pix, fudge, seg.Labels)
	// Batch i+1 is painted while the model works on batch i, into two
	// alternating buffers.
	per := min(batch, bud.start)
	bufs := [2][]float32{getF32(per * dim), getF32(per * dim)}
	defer func() { putF32(bufs[0]); putF32(bufs[1]) }()
	o := outputs{what: what, timing: &e.Timing}
	blocks := 0
	extend := func(lo, hi int) error {
		balancedBlock(p, opt.Seed, blocks, lo, hi)
		blocks++
		return p.addRows(ctx, &o, cfg.width, lo, hi, batch, func(i, a, b int) {
			buf := bufs[i%2]
			parallelChunks(b-a, max(1, min(8, (b-a)/8)), func(_, c, f int) {
				mask := make([]uint32, N)
				for r := c; r < f; r++ {
					pt.paint(buf[r*dim:(r+1)*dim], p, a+r, mask)
				}
			})
		}, func(i, a, b int) error {
			err := o.add(b-a, a, func() ([]float32, error) { return model(ctx, bufs[i%2][:(b-a)*dim], b-a) })
			if err != nil {
				return fmt.Errorf("%w (the model was given %d×%d×%d images, channel-first, %d values each; check that it takes this size)", err, c, h, w, dim)
			}
			return nil
		})
	}
	if err := extend(0, bud.start); err != nil {
		return nil, err
	}
	labs, err := pickLabels(what, mode, o.y[:o.k], opt.Labels, opt.TopLabels)
	if err != nil {
		return nil, err
	}
	if err := finishLIME(&e.Explanation, p, bud, labs, cfg, names, opt.ClassNames, extend, start); err != nil {
		return nil, err
	}
	return e, nil
}

// imageBatchValues is the default size of a batch of perturbed images, in
// pixel values (16 MiB): big enough for the model to work in bulk, small
// enough for the painted batch to stay in cache until the model reads it.
const imageBatchValues = 4 << 20

// segRun is a stretch of consecutive pixels (row-major) of one segment.
type segRun struct{ start, end, seg int32 }

// painter paints perturbed images. Where a segmentation's runs are long
// (large images) it copies whole runs from the image or from its hidden
// version; where they are short (small images, where a call per run costs
// more than the pixels) it selects each pixel's bits branch-free:
// out = fudge ^ ((fudge ^ pix) & mask), mask all ones where the pixel's
// segment is kept. Either way each pixel is written once and kept pixels
// are bit-identical to the image.
type painter struct {
	pix, fudge []float32
	hw         int
	runs       []segRun
	// Per-pixel mode.
	segOf              []int32
	fudgeBits, xorBits []uint32
}

func newPainter(pix, fudge []float32, labels []int) *painter {
	pt := &painter{pix: pix, fudge: fudge, hw: len(labels)}
	for a := 0; a < len(labels); {
		b := a + 1
		for b < len(labels) && labels[b] == labels[a] {
			b++
		}
		pt.runs = append(pt.runs, segRun{int32(a), int32(b), int32(labels[a])})
		a = b
	}
	if len(labels) < 8*len(pt.runs) {
		pt.runs = nil
		pt.segOf = make([]int32, len(labels))
		for p, l := range labels {
			pt.segOf[p] = int32(l)
		}
		pt.fudgeBits = make([]uint32, len(pix))
		pt.xorBits = make([]uint32, len(pix))
		for i, v := range pix {
			pt.fudgeBits[i] = math.Float32bits(fudge[i])
			pt.xorBits[i] = math.Float32bits(fudge[i]) ^ math.Float32bits(v)
		}
	}
	return pt
}

// paint writes the perturbed image of design row row into dst; mask is
// scratch of p.d values.
func (pt *painter) paint(dst []float32, p *problem, row int, mask []uint32) {
	hw := pt.hw
	if pt.runs == nil {
		for s := range mask {
			mask[s] = -uint32(p.bit(row, s))
		}
		for ch := 0; ch*hw < len(dst); ch++ {
			d := dst[ch*hw : (ch+1)*hw]
			fb, xb := pt.fudgeBits[ch*hw:(ch+1)*hw], pt.xorBits[ch*hw:(ch+1)*hw]
			d, fb, xb = d[:len(pt.segOf)], fb[:len(pt.segOf)], xb[:len(pt.segOf)]
			for q, s := range pt.segOf {
				d[q] = math.Float32frombits(fb[q] ^ (xb[q] & mask[s]))
			}
		}
		return
	}
	for s := range mask {
		mask[s] = uint32(p.bit(row, s))
	}
	for ch := 0; ch*hw < len(dst); ch++ {
		d := dst[ch*hw : (ch+1)*hw]
		planes := [2][]float32{pt.fudge[ch*hw : (ch+1)*hw], pt.pix[ch*hw : (ch+1)*hw]}
		for _, r := range pt.runs {
			from := planes[mask[r.seg]&1] // branch-free: half the segments are hidden
			if r.end-r.start >= 16 {
				copy(d[r.start:r.end], from[r.start:r.end])
				continue
			}
			dr, fr := d[r.start:r.end], from[r.start:r.end]
			for k := range dr {
				dr[k] = fr[k]
			}
		}
	}
}

// balancedBlock draws rows lo..hi−1 of an image design as sampling block
// b: row 0 (in the first block) keeps everything; otherwise each column
// keeps exactly half of the block's rows (the odd one out alternating by
// column), shuffled from the column's own stream. Columns are drawn as
// bitsets over the block's rows and transposed into the rows' masks.
func balancedBlock(p *problem, seed uint64, b, lo, hi int) {
	p.growRows(hi)
	first := lo
	if lo == 0 {
		first = 1
		p.setInstanceRow()
	}
	m := hi - first
	words := (m + 63) / 64
	cols := make([]uint64, p.d*words)
	parallelChunks(p.d, 1, func(_, j, _ int) {
		r := subStream(seed, streamColumn, blockIndex(j, b))
		col := make([]uint8, m)
		ones := m / 2
		if m%2 == 1 && j%2 == 1 {
			ones++
		}
		for i := range ones {
			col[i] = 1
		}
		shuffle(r, col)
		out := cols[j*words : (j+1)*words]
		for i, v := range col {
			out[i>>6] |= uint64(v) << (i & 63)
		}
	})
	parallelChunks(words, 16, func(_, a, c int) {
		var blk [64]uint64
		for g := a; g < c; g++ {
			for w := range p.dw {
				for t := range blk {
					blk[t] = 0
					if j := 64*w + t; j < p.d {
						blk[t] = cols[j*words+g]
					}
				}
				transpose64(&blk)
				for t := range min(64, m-64*g) {
					p.masks[(first+64*g+t)*p.dw+w] = blk[t]
				}
			}
		}
		for i := first + 64*a; i < min(hi, first+64*c); i++ {
			ones := 0
			for _, x := range p.masks[i*p.dw : (i+1)*p.dw] {
				ones += bits.OnesCount64(x)
			}
			p.ones[i] = int32(ones)
		}
	})
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
