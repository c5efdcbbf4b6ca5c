package inspect

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"

	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/report"
)

const (
	// filterSide is the size in pixels a kernel tile is enlarged to (at
	// least): a 5×5 kernel is drawn at 9 pixels per weight, a 3×3 at 16.
	filterSide = 96
	// filterMaxWidth bounds the width of one filter drawn as a row of
	// per-input-channel tiles; wide layers get smaller tiles.
	filterMaxWidth = 512
	// tileGap separates per-channel tiles of one filter.
	tileGap = 1
)

// FilterScale returns the number of pixels per weight [Filters] uses for
// conv's kernels.
func FilterScale(conv *nn.Conv2D) int {
	s := max(1, filterSide/max(conv.KH, conv.KW))
	if t := tilesPerFilter(conv); t > 1 {
		s = min(s, max(1, (filterMaxWidth-(t-1)*tileGap)/(t*conv.KW)))
	}
	return s
}

// tilesPerFilter is 1 for grey (one input channel per group) and RGB (three)
// kernels, else the number of input channels each filter sees.
func tilesPerFilter(conv *nn.Conv2D) int {
	in := conv.In / max(conv.Conv.Groups, 1)
	if in == 1 || in == 3 {
		return 1
	}
	return in
}

// Filters renders the kernels of a convolution, one image per output
// channel. Weights are normalised symmetrically around zero by the largest
// |weight| of the whole layer, so filters compare with each other. A filter
// over one input channel is a tile in the diverging RdBu map
// ([report.Diverging] of w/max|w|: the strongest positive weight dark red,
// zero near-white, the strongest negative dark blue), so the sign reads at
// a glance where grey levels looked like noise; over three channels (an RGB
// input) one colour tile whose red, green and blue levels are
// 0.5 + 0.5·w/max|w| for the three channels' weights; over any other number
// one RdBu tile per input channel, left to right, separated by a white line. Each weight is a FilterScale × FilterScale
// block. conv must not be nil.
func Filters(conv *nn.Conv2D) []image.Image {
	w := conv.Weight.Value.Contiguous().Data() // [out, in/groups, kh, kw]
	out, kh, kw := conv.Out, conv.KH, conv.KW
	in := len(w) / (out * kh * kw)
	m := 0.0
	for _, v := range w {
		m = math.Max(m, math.Abs(float64(v)))
	}
	if m == 0 || math.IsInf(m, 0) || math.IsNaN(m) {
		m = 1
	}
	level := func(v float32) uint8 {
		return uint8(math.Round(255 * math.Max(0, math.Min(1, 0.5+0.5*float64(v)/m))))
	}
	s := FilterScale(conv)
	tiles := tilesPerFilter(conv)
	imgs := make([]image.Image, out)
	for o := 0; o < out; o++ {
		k := w[o*in*kh*kw : (o+1)*in*kh*kw]
		width := tiles*kw*s + (tiles-1)*tileGap
		img := image.NewRGBA(image.Rect(0, 0, width, kh*s))
		draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
		for t := 0; t < tiles; t++ {
			x0 := t * (kw*s + tileGap)
			for y := 0; y < kh; y++ {
				for x := 0; x < kw; x++ {
					var c color.RGBA
					switch {
					case in == 3:
						c = color.RGBA{level(k[y*kw+x]), level(k[kh*kw+y*kw+x]), level(k[2*kh*kw+y*kw+x]), 0xff}
					default:
						c = report.Diverging(float64(k[t*kh*kw+y*kw+x]) / m)
					}
					draw.Draw(img, image.Rect(x0+x*s, y*s, x0+(x+1)*s, (y+1)*s), image.NewUniform(c), image.Point{}, draw.Src)
				}
			}
		}
		imgs[o] = img
	}
	return imgs
}

// FilterGrid tiles [Filters] of conv into one picture: single-tile filters
// (grey or RGB) in a near-square grid in output-channel order, left to
// right and top to bottom; multi-channel filters one per line, so row o,
// tile i shows how output channel o weighs input channel i.
func FilterGrid(conv *nn.Conv2D) image.Image {
	imgs := Filters(conv)
	cols := 1
	if tilesPerFilter(conv) == 1 {
		cols = int(math.Ceil(math.Sqrt(float64(len(imgs)))))
	}
	return report.Grid(imgs, cols, 4)
}

// LayerFilters draws the filters of layer index layer of m (a Sequential) as
// [FilterGrid] under a title naming the layer and its kernel size. It is an
// error if the layer is out of range or not a Conv2D.
func LayerFilters(m nn.Module, layer int) (image.Image, error) {
	layers, err := Layers(m)
	if err != nil {
		return nil, err
	}
	if err := checkLayer(layers, layer, false); err != nil {
		return nil, err
	}
	conv, ok := layers[layer].(*nn.Conv2D)
	if !ok {
		var convs []int
		for i, l := range layers {
			if _, ok := l.(*nn.Conv2D); ok {
				convs = append(convs, i)
			}
		}
		hint := "the model has no Conv2D layer"
		if len(convs) > 0 {
			hint = fmt.Sprintf("its Conv2D layers are %v", convs)
		}
		return nil, fmt.Errorf("inspect: layer %d (%s) is a %s, not a Conv2D; filters exist only for convolutions: %s", layer, LayerName(layers[layer], layer), layers[layer].Spec().Type, hint)
	}
	in := conv.In / max(conv.Conv.Groups, 1)
	title := fmt.Sprintf("%s: %d filters %dx%d over %d channel", LayerName(conv, layer), conv.Out, conv.KH, conv.KW, in)
	if in != 1 {
		title += "s"
	}
	return report.Titled(FilterGrid(conv), title, 2), nil
}
