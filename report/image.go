package report

import (
	"cmp"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"slices"
)

// HeatmapOptions tunes [Heatmap].
type HeatmapOptions struct {
	// MaxAbs is the |value| that gets the darkest colour; values are divided
	// by it and clamped to [-1, 1]. 0 uses the largest |value| in the map,
	// so the strongest attribution is always fully saturated.
	MaxAbs float64
	// Scale draws each value as a Scale×Scale block; 0 or 1 is one pixel.
	Scale int
}

// OverlayOptions tunes [Overlay].
type OverlayOptions struct {
	// Alpha is the opacity of the colour over the strongest attribution;
	// weaker ones blend in proportionally and zero leaves the image as it is.
	// 0 picks 0.75.
	Alpha float64
	// MaxAbs normalises the attributions as in [HeatmapOptions]; 0 uses the
	// largest |attr|.
	MaxAbs float64
	// Scale draws each pixel as a Scale×Scale block; 0 or 1 is one pixel.
	Scale int
	// Labels, if not nil, are H*W segment labels; boundaries between
	// segments are drawn in BoundaryColor (nil: [Boundary]).
	Labels        []int
	BoundaryColor color.Color
}

// MaskOptions tunes [MaskOverlay]. The zero value shows the five segments of
// largest |weight|, both signs, and dims the rest.
type MaskOptions struct {
	// TopK is how many segments to show, by decreasing |weight| (ties: lower
	// id first). 0 picks 5; a negative value shows every segment that passes
	// the other filters.
	TopK int
	// PositiveOnly shows only segments with positive weight (lime's
	// positive_only); NegativeOnly only negative ones. Both set shows none.
	PositiveOnly, NegativeOnly bool
	// MinWeight skips segments whose |weight| is below it (lime's min_weight).
	MinWeight float64
	// HideRest paints the segments not shown flat grey instead of dimming
	// them (lime's hide_rest).
	HideRest bool
	// Alpha is how strongly shown segments are tinted green or magenta-red;
	// 0 picks 0.6.
	Alpha float64
	// Scale draws each pixel as a Scale×Scale block; 0 or 1 is one pixel.
	Scale int
	// BoundaryColor outlines the shown segments; nil picks [Boundary].
	BoundaryColor color.Color
}

func scaleOf(s int) int { return max(s, 1) }

// normaliser returns the divisor that maps values to [-1, 1].
func normaliser(values []float32, maxAbs float64) float64 {
	if maxAbs > 0 && !math.IsInf(maxAbs, 0) {
		return maxAbs
	}
	m := 0.0
	for _, v := range values {
		if a := math.Abs(float64(v)); a > m && !math.IsInf(a, 0) {
			m = a
		}
	}
	if m == 0 {
		return 1 // all zero: everything is neutral
	}
	return m
}

// Heatmap renders an h×w row-major attribution map with the [Diverging]
// RdBu map, symmetric around zero: value/MaxAbs = +1 is dark red, -1 dark
// blue, 0 [Neutral] near-white, NaN [Missing] grey. It panics if
// len(values) != h*w.
func Heatmap(values []float32, h, w int, o HeatmapOptions) image.Image {
	checkLen("Heatmap: values", len(values), h, w, 1)
	norm := normaliser(values, o.MaxAbs)
	return render(h, w, scaleOf(o.Scale), func(i int) color.RGBA {
		return Diverging(float64(values[i]) / norm)
	}, nil, nil, color.RGBA{})
}

// Overlay blends an attribution map (H*W, row-major) over a C×H×W image in
// [0, 1] (C = 1 or 3). The image is drawn in grey, lifted to the range
// [0.15, 0.85] so both colours read on dark and light images; each pixel is
// then tinted [Positive] red or [Negative] blue with opacity
// Alpha·|attr|/MaxAbs, so zero leaves the grey image unchanged. With Labels
// it also draws segment boundaries. It panics if the lengths disagree.
func Overlay(pix []float32, c, h, w int, attr []float32, o OverlayOptions) image.Image {
	checkImage("Overlay", pix, c, h, w)
	checkLen("Overlay: attr", len(attr), h, w, 1)
	if o.Labels != nil {
		checkLen("Overlay: Labels", len(o.Labels), h, w, 1)
	}
	alpha := o.Alpha
	if alpha <= 0 {
		alpha = 0.75
	}
	alpha = math.Min(alpha, 1)
	norm := normaliser(attr, o.MaxAbs)
	bcol := boundaryColour(o.BoundaryColor)
	hw := h * w
	return render(h, w, scaleOf(o.Scale), func(i int) color.RGBA {
		g := uint8(math.Round(255 * (0.15 + 0.7*luma(pix, c, hw, i))))
		base := color.RGBA{g, g, g, 0xff}
		t := float64(attr[i]) / norm
		if math.IsNaN(t) || t == 0 {
			return base
		}
		tint := Positive
		if t < 0 {
			tint = Negative
		}
		return mix(base, tint, alpha*math.Min(1, math.Abs(t)))
	}, o.Labels, func(a, b int) bool { return o.Labels[a] != o.Labels[b] }, bcol)
}

// MaskOverlay draws lime's picture of an image explanation: the C×H×W image
// in [0, 1] with the selected segments (see [MaskOptions]; by default the
// five of largest |weight|) tinted [Support] green where the weight is
// positive and [Oppose] magenta-red where it is negative, outlined in
// BoundaryColor, and every other segment dimmed toward grey (or, with
// HideRest, painted grey). labels is the H*W segment labelling and
// weights[id] the weight of segment id. It panics if the lengths disagree or
// a label has no weight.
func MaskOverlay(pix []float32, c, h, w int, labels []int, weights []float64, o MaskOptions) image.Image {
	checkImage("MaskOverlay", pix, c, h, w)
	checkLen("MaskOverlay: labels", len(labels), h, w, 1)
	for i, l := range labels {
		if l < 0 || l >= len(weights) {
			panic(fmt.Sprintf("report: MaskOverlay: label %d at pixel %d has no weight (len(weights) = %d)", l, i, len(weights)))
		}
	}
	shown := SelectSegments(weights, o)
	sel := make([]bool, len(weights))
	for _, id := range shown {
		sel[id] = true
	}
	alpha := o.Alpha
	if alpha <= 0 {
		alpha = 0.6
	}
	alpha = math.Min(alpha, 1)
	bcol := boundaryColour(o.BoundaryColor)
	grey := color.RGBA{0x80, 0x80, 0x80, 0xff}
	hw := h * w
	return render(h, w, scaleOf(o.Scale), func(i int) color.RGBA {
		base := pixel(pix, c, hw, i)
		l := labels[i]
		switch {
		case !sel[l] && o.HideRest:
			return grey
		case !sel[l]:
			return mix(base, grey, 0.7)
		case weights[l] > 0:
			return mix(base, Support, alpha)
		default:
			return mix(base, Oppose, alpha)
		}
	}, labels, func(a, b int) bool {
		return labels[a] != labels[b] && (sel[labels[a]] || sel[labels[b]])
	}, bcol)
}

// SelectSegments returns the ids [MaskOverlay] shows for weights and o, in
// decreasing |weight| (ties: lower id first). Zero weights are never shown.
func SelectSegments(weights []float64, o MaskOptions) []int {
	k := o.TopK
	if k == 0 {
		k = 5
	}
	var ids []int
	for id, wt := range weights {
		switch {
		case wt == 0 || math.IsNaN(wt) || math.Abs(wt) < o.MinWeight:
		case o.PositiveOnly && wt < 0, o.NegativeOnly && wt > 0:
		default:
			ids = append(ids, id)
		}
	}
	slices.SortStableFunc(ids, func(a, b int) int {
		return cmp.Compare(math.Abs(weights[b]), math.Abs(weights[a]))
	})
	if k > 0 && len(ids) > k {
		ids = ids[:k]
	}
	return ids
}

// render paints an h×w picture at scale s: colour(i) fills the s×s block of
// pixel i, and where labels is not nil and edge(a, b) holds for 4-adjacent
// pixels a, b, a line of colour bcol is drawn along their shared side: the
// outermost row or column of both blocks (at s = 1, both pixels).
func render(h, w, s int, colour func(i int) color.RGBA, labels []int, edge func(a, b int) bool, bcol color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w*s, h*s))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			col := colour(i)
			var left, right, up, down bool
			if labels != nil {
				left = x > 0 && edge(i-1, i)
				right = x+1 < w && edge(i, i+1)
				up = y > 0 && edge(i-w, i)
				down = y+1 < h && edge(i, i+w)
			}
			for oy := 0; oy < s; oy++ {
				row := img.Pix[(y*s+oy)*img.Stride:]
				for ox := 0; ox < s; ox++ {
					c := col
					if (left && ox == 0) || (right && ox == s-1) || (up && oy == 0) || (down && oy == s-1) {
						c = bcol
					}
					p := row[(x*s+ox)*4:]
					p[0], p[1], p[2], p[3] = c.R, c.G, c.B, c.A
				}
			}
		}
	}
	return img
}

func boundaryColour(c color.Color) color.RGBA {
	if c == nil {
		return Boundary
	}
	return toRGBA(c)
}

// pixel returns pixel i of a C×H×W image in [0, 1] as an opaque colour.
func pixel(pix []float32, c, hw, i int) color.RGBA {
	if c == 1 {
		g := to8(pix[i])
		return color.RGBA{g, g, g, 0xff}
	}
	return color.RGBA{to8(pix[i]), to8(pix[hw+i]), to8(pix[2*hw+i]), 0xff}
}

// luma returns the grey level in [0, 1] of pixel i (Rec. 601 weights).
func luma(pix []float32, c, hw, i int) float64 {
	if c == 1 {
		return clamp01(float64(pix[i]))
	}
	return clamp01(0.299*float64(pix[i]) + 0.587*float64(pix[hw+i]) + 0.114*float64(pix[2*hw+i]))
}

func clamp01(v float64) float64 {
	if !(v > 0) { // also NaN
		return 0
	}
	return math.Min(v, 1)
}

func to8(v float32) uint8 { return uint8(math.Round(255 * clamp01(float64(v)))) }

func checkLen(what string, n, h, w, c int) {
	if h < 1 || w < 1 || n != c*h*w {
		panic(fmt.Sprintf("report: %s has length %d; want %d for %d×%d×%d", what, n, c*h*w, c, h, w))
	}
}

func checkImage(fn string, pix []float32, c, h, w int) {
	if c != 1 && c != 3 {
		panic(fmt.Sprintf("report: %s: image has %d channels; want 1 or 3", fn, c))
	}
	checkLen(fn+": pix", len(pix), h, w, c)
}

// Upscale enlarges img by an integer factor with nearest-neighbour
// sampling, so each pixel becomes a factor×factor block (28×28 digits
// become viewable without blur). A factor below 1 counts as 1 (a copy).
func Upscale(img image.Image, factor int) image.Image {
	f := max(factor, 1)
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx()*f, b.Dy()*f))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			c := color.RGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y))
			draw.Draw(out, image.Rect(x*f, y*f, (x+1)*f, (y+1)*f), image.NewUniform(c), image.Point{}, draw.Src)
		}
	}
	return out
}

// Grid tiles images left to right, top to bottom, cols per row (cols < 1:
// all in one row), on a white background with pad pixels around and
// between them. Each cell is as large as the largest image, and each image
// is centred in its cell. No images gives an empty (0×0) image.
func Grid(images []image.Image, cols int, pad int) image.Image {
	if len(images) == 0 {
		return image.NewRGBA(image.Rect(0, 0, 0, 0))
	}
	if cols < 1 || cols > len(images) {
		cols = len(images)
	}
	pad = max(pad, 0)
	cw, ch := 0, 0
	for _, im := range images {
		cw = max(cw, im.Bounds().Dx())
		ch = max(ch, im.Bounds().Dy())
	}
	rows := (len(images) + cols - 1) / cols
	out := image.NewRGBA(image.Rect(0, 0, cols*cw+(cols+1)*pad, rows*ch+(rows+1)*pad))
	draw.Draw(out, out.Bounds(), image.White, image.Point{}, draw.Src)
	for k, im := range images {
		r, c := k/cols, k%cols
		b := im.Bounds()
		x := pad + c*(cw+pad) + (cw-b.Dx())/2
		y := pad + r*(ch+pad) + (ch-b.Dy())/2
		draw.Draw(out, image.Rect(x, y, x+b.Dx(), y+b.Dy()), im, b.Min, draw.Over)
	}
	return out
}

// Titled returns img with title written above it in Go Regular at
// fontScale (0 picks 2), centred, dark grey on white. Long titles widen the
// picture rather than being cut.
func Titled(img image.Image, title string, fontScale int) image.Image {
	if fontScale < 1 {
		fontScale = 2
	}
	b := img.Bounds()
	tw, th := TextWidth(title, fontScale), TextHeight(fontScale)
	gap := 2 * fontScale
	w := max(b.Dx(), tw+2*gap)
	out := image.NewRGBA(image.Rect(0, 0, w, b.Dy()+th+2*gap))
	draw.Draw(out, out.Bounds(), image.White, image.Point{}, draw.Src)
	DrawText(out, (w-tw)/2, gap, title, textColour, fontScale)
	x := (w - b.Dx()) / 2
	draw.Draw(out, image.Rect(x, th+2*gap, x+b.Dx(), th+2*gap+b.Dy()), img, b.Min, draw.Over)
	return out
}

var textColour = color.RGBA{0x22, 0x22, 0x22, 0xff}
