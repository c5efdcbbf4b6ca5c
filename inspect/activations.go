package inspect

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"slices"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/report"
	"github.com/glassbox-ml/glassbox/tensor"
)

// LayerActivation is one layer's output for one input.
type LayerActivation struct {
	// Index is the layer's position in the Sequential.
	Index int `json:"index"`
	// Name is the layer's name ("conv2d0") and Type its Spec type ("conv2d").
	Name string `json:"name"`
	Type string `json:"type"`
	// Shape is the output's shape without the batch axis ([6 28 28] for a
	// convolution, [120] for a Linear layer).
	Shape []int `json:"shape"`
	// Values is the output, row-major, len = product of Shape.
	Values []float32 `json:"values"`
}

// Activations runs one input x of shape inputShape (without the batch
// axis) through the Sequential m in inference mode and keeps every layer's
// output, in order. Shape mismatches inside the model, a non-Sequential
// model and a wrong number of values are errors.
func Activations(ctx context.Context, m nn.Module, x []float32, inputShape []int) ([]LayerActivation, error) {
	layers, err := Layers(m)
	if err != nil {
		return nil, err
	}
	if _, err := checkShape(inputShape, len(x), 1); err != nil {
		return nil, err
	}
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	in := tensor.MustFromSlice(slices.Clone(x), append([]int{1}, inputShape...)...)
	acts := make([]LayerActivation, 0, len(layers))
	err = tensor.Catch(func() {
		forward(nn.Eval(), layers, autograd.Const(in), len(layers)-1, func(i int, y *autograd.Var) {
			acts = append(acts, LayerActivation{
				Index:  i,
				Name:   LayerName(layers[i], i),
				Type:   layers[i].Spec().Type,
				Shape:  slices.Clone(y.Shape()[1:]),
				Values: slices.Clone(y.Value.Contiguous().Data()),
			})
		})
	})
	if err != nil {
		return nil, fmt.Errorf("inspect: running input of shape %v through the model: %w", inputShape, err)
	}
	return acts, nil
}

// MapOptions tunes [ActivationMaps].
type MapOptions struct {
	// MaxChannels caps how many channels of each layer are drawn (the first
	// ones); 0 picks 32.
	MaxChannels int
	// All draws every layer instead of only convolutions, pooling and
	// Linear layers (activations and normalisations repeat the map of the
	// layer before them).
	All bool
}

// shownType reports whether ActivationMaps draws a layer of this type by
// default: the layers that compute new features or change resolution.
func shownType(t string) bool {
	switch t {
	case "conv2d", "maxpool2d", "avgpool2d", "globalavgpool2d", "linear", "perceptron":
		return true
	}
	return false
}

const (
	mapSide = 56 // a channel map is enlarged to at least this many pixels
)

// ActivationMaps draws the input x (shape inputShape, without the batch
// axis) and the layers of acts (from [Activations]) as one picture, top to
// bottom. A layer whose output is [C, H, W] is a grid of C heat maps, one
// per channel; a vector output [K] is a strip of K bars from a zero line
// (a dense layer's units have no spatial layout to draw). Heat maps use
// report's RdBu map, symmetric around zero and normalised by the layer's
// largest |value|, so channels of one layer compare with each other: red is
// a positive response, blue a negative one, white none. The input is drawn
// as an image when it has one or three channels and its values lie in
// [0, 1], else as heat maps too. Each panel is titled with the layer's name,
// type and output shape. By default only convolution, pooling and Linear
// layers are drawn (see [MapOptions]).
func ActivationMaps(x []float32, inputShape []int, acts []LayerActivation, o MapOptions) (image.Image, error) {
	if _, err := checkShape(inputShape, len(x), 1); err != nil {
		return nil, err
	}
	maxCh := o.MaxChannels
	if maxCh <= 0 {
		maxCh = 32
	}
	panels := []image.Image{report.Titled(inputPanel(x, inputShape, maxCh), fmt.Sprintf("input %v", inputShape), 2)}
	for _, a := range acts {
		if tensor.Numel(a.Shape) != len(a.Values) {
			return nil, fmt.Errorf("inspect: layer %d (%s) has %d values for shape %v", a.Index, a.Name, len(a.Values), a.Shape)
		}
		if !o.All && !shownType(a.Type) {
			continue
		}
		title := fmt.Sprintf("%d %s (%s) %v", a.Index, a.Name, a.Type, a.Shape)
		panels = append(panels, report.Titled(valuesPanel(a.Values, a.Shape, maxCh), title, 2))
	}
	return report.Grid(panels, 1, 6), nil
}

// InputPicture draws one image input x of shape [C, H, W] (C = 1 grey or 3
// RGB, values in [0, 1], others clamped) with each pixel a scale×scale
// block, as the network sees it. Other shapes are an error.
func InputPicture(x []float32, shape []int, scale int) (image.Image, error) {
	if _, err := checkShape(shape, len(x), 1); err != nil {
		return nil, err
	}
	if len(shape) != 3 || (shape[0] != 1 && shape[0] != 3) {
		return nil, fmt.Errorf("inspect: input of shape %v is not a grey [1 H W] or colour [3 H W] image", shape)
	}
	return report.Upscale(pictureOf(x, shape[0], shape[1], shape[2]), scale), nil
}

// inputPanel draws the input as a picture when it looks like one.
func inputPanel(x []float32, shape []int, maxCh int) image.Image {
	if len(shape) == 3 && (shape[0] == 1 || shape[0] == 3) && inUnitRange(x) {
		return report.Upscale(pictureOf(x, shape[0], shape[1], shape[2]), max(1, mapSide*2/max(shape[1], shape[2])))
	}
	return valuesPanel(x, shape, maxCh)
}

func inUnitRange(x []float32) bool {
	for _, v := range x {
		if !(v >= 0 && v <= 1) {
			return false
		}
	}
	return true
}

// pictureOf draws a C×H×W image in [0, 1] (C = 1 or 3) one pixel per value.
func pictureOf(x []float32, c, h, w int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	hw := h * w
	for i := 0; i < hw; i++ {
		var col color.RGBA
		if c == 1 {
			g := to8(x[i])
			col = color.RGBA{g, g, g, 0xff}
		} else {
			col = color.RGBA{to8(x[i]), to8(x[hw+i]), to8(x[2*hw+i]), 0xff}
		}
		img.SetRGBA(i%w, i/w, col)
	}
	return img
}

func to8(v float32) uint8 {
	return uint8(math.Round(255 * math.Max(0, math.Min(1, float64(v)))))
}

// valuesPanel draws an activation of any shape: channel maps for rank ≥ 3
// (trailing two axes spatial, leading ones flattened into channels), a
// strip of bars otherwise.
func valuesPanel(v []float32, shape []int, maxCh int) image.Image {
	norm := maxAbs(v)
	if len(shape) >= 3 {
		h, w := shape[len(shape)-2], shape[len(shape)-1]
		c := len(v) / (h * w)
		s := max(1, mapSide/max(h, w))
		n := min(c, maxCh)
		maps := make([]image.Image, n)
		for ch := 0; ch < n; ch++ {
			maps[ch] = report.Heatmap(v[ch*h*w:(ch+1)*h*w], h, w, report.HeatmapOptions{MaxAbs: norm, Scale: s})
		}
		cols := min(n, max(1, 8*mapSide/max(1, s*w)))
		return report.Grid(maps, cols, 2)
	}
	return unitBars(v, norm)
}

// Sizes of unitBars' strip.
const (
	barsHeight = 96 // pixels from the most negative to the most positive bar
	barsWidth  = 480
)

// unitBars draws a vector of units as a strip of vertical bars from a zero
// line (grey), one per unit in index order, each as long as its value over
// norm and coloured like the heat maps: units of a dense layer have no
// spatial layout, so a square block of them would suggest one that is not
// there. Bars are max(2, min(12, 480/K)) pixels wide; the zero line sits in
// the middle when any value is negative, else at the bottom.
func unitBars(v []float32, norm float64) *image.RGBA {
	k := len(v)
	bw := max(2, min(12, barsWidth/max(k, 1)))
	neg := false
	for _, x := range v {
		neg = neg || x < 0
	}
	half := barsHeight
	if neg {
		half = barsHeight / 2
	}
	img := image.NewRGBA(image.Rect(0, 0, max(k*bw, 1), barsHeight+1))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	zero := half // the zero line's row
	if norm == 0 || math.IsNaN(norm) {
		norm = 1
	}
	for i, x := range v {
		t := float64(x) / norm
		n := int(math.Round(math.Min(1, math.Abs(t)) * float64(half)))
		r := image.Rect(i*bw, zero-n, (i+1)*bw-1, zero)
		if t < 0 {
			r = image.Rect(i*bw, zero+1, (i+1)*bw-1, zero+1+n)
		}
		if bw <= 2 {
			r.Max.X = r.Min.X + bw
		}
		draw.Draw(img, r, image.NewUniform(report.Diverging(t)), image.Point{}, draw.Src)
	}
	draw.Draw(img, image.Rect(0, zero, k*bw, zero+1), image.NewUniform(color.RGBA{0x88, 0x88, 0x88, 0xff}), image.Point{}, draw.Src)
	return img
}

func maxAbs(v []float32) float64 {
	m := 0.0
	for _, x := range v {
		if a := math.Abs(float64(x)); a > m && !math.IsInf(a, 0) {
			m = a
		}
	}
	return m
}
