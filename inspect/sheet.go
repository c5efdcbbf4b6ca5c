package inspect

import (
	"context"
	"fmt"
	"image"

	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/report"
)

// Maximized says which channels of a layer MaximizeChannels maximised and
// how much each responds to its synthetic inputs compared with a plain
// mid-grey one: the channel's mean over all positions for the first row of
// the picture, its value at the centre position for the second.
type Maximized struct {
	Layer       int       `json:"layer"`
	Name        string    `json:"name"`
	Channels    []int     `json:"channels"`
	Grey        []float64 `json:"grey_activation"`
	Final       []float64 `json:"activation"`
	GreyCentre  []float64 `json:"grey_centre_activation,omitempty"`
	FinalCentre []float64 `json:"centre_activation,omitempty"`
}

// MaximizeChannels synthesises the input that most excites each of the
// first n channels of layer (output units for a layer without spatial
// axes) and draws them side by side: for a convolution, one row maximising
// each channel's mean over the image (a texture of what it detects) and
// one row maximising it at the centre position only (the pattern within
// its receptive field). It returns nil for a layer with no output axes.
func MaximizeChannels(ctx context.Context, m nn.Module, shape []int, layer, n int, o MaximizeOptions) (*Maximized, image.Image, error) {
	if len(shape) != 3 {
		return nil, nil, fmt.Errorf("inspect: maximisation draws images; the model takes inputs of shape %v", shape)
	}
	layers, err := Layers(m)
	if err != nil {
		return nil, nil, err
	}
	if err := checkLayer(layers, layer, false); err != nil {
		return nil, nil, err
	}
	acts, err := Activations(ctx, m, make([]float32, shape[0]*shape[1]*shape[2]), shape)
	if err != nil {
		return nil, nil, err
	}
	out := acts[layer].Shape
	if len(out) == 0 {
		return nil, nil, nil
	}
	spatial := len(out) == 3
	n = min(n, out[0])
	grey := make([]float32, shape[0]*shape[1]*shape[2])
	for i := range grey {
		grey[i] = 0.5
	}
	mx := &Maximized{Layer: layer, Name: LayerName(layers[layer], layer)}
	scale := max(1, 84/max(shape[1], shape[2]))
	objectives := []bool{false}
	if spatial {
		objectives = append(objectives, true)
	}
	var rows []image.Image
	for _, centre := range objectives {
		var tiles []image.Image
		for ch := 0; ch < n; ch++ {
			x, err := Maximize(ctx, m, shape, layer, ch, withCentre(o, centre))
			if err != nil {
				return nil, nil, err
			}
			g, err := ChannelActivation(ctx, m, grey, shape, layer, ch, centre)
			if err != nil {
				return nil, nil, err
			}
			a, err := ChannelActivation(ctx, m, x, shape, layer, ch, centre)
			if err != nil {
				return nil, nil, err
			}
			if centre {
				mx.GreyCentre = append(mx.GreyCentre, g)
				mx.FinalCentre = append(mx.FinalCentre, a)
			} else {
				mx.Channels = append(mx.Channels, ch)
				mx.Grey = append(mx.Grey, g)
				mx.Final = append(mx.Final, a)
			}
			pic, err := InputPicture(x, shape, scale)
			if err != nil {
				// Not a grey or RGB image: show the first channel as a heat map.
				pic = report.Heatmap(x[:shape[1]*shape[2]], shape[1], shape[2], report.HeatmapOptions{Scale: scale})
			}
			label := fmt.Sprintf("ch %d", ch)
			if !spatial {
				label = fmt.Sprintf("unit %d", ch)
			}
			tiles = append(tiles, report.Titled(pic, label, 2))
		}
		caption := "whole image (channel mean)"
		switch {
		case centre:
			caption = "centre position only (receptive field)"
		case !spatial:
			caption = "output units"
		}
		rows = append(rows, report.Titled(report.Grid(tiles, 8, 4), caption, 2))
	}
	title := fmt.Sprintf("inputs that most excite %s (layer %d)", mx.Name, layer)
	return mx, report.Titled(report.Grid(rows, 1, 6), title, 2), nil
}

func withCentre(o MaximizeOptions, centre bool) MaximizeOptions {
	o.Centre = centre
	return o
}
