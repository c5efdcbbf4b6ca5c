package report

import (
	"image/color"
	"math"
)

// rdBu is ColorBrewer's 11-class RdBu map, from most negative (dark blue)
// through neutral (near-white) to most positive (dark red).
var rdBu = [11]color.RGBA{
	{0x05, 0x30, 0x61, 0xff},
	{0x21, 0x66, 0xac, 0xff},
	{0x43, 0x93, 0xc3, 0xff},
	{0x92, 0xc5, 0xde, 0xff},
	{0xd1, 0xe5, 0xf0, 0xff},
	{0xf7, 0xf7, 0xf7, 0xff},
	{0xfd, 0xdb, 0xc7, 0xff},
	{0xf4, 0xa5, 0x82, 0xff},
	{0xd6, 0x60, 0x4d, 0xff},
	{0xb2, 0x18, 0x2b, 0xff},
	{0x67, 0x00, 0x1f, 0xff},
}

// Colours shared by the pictures of this package.
var (
	// Neutral is the colour of a zero attribution in [Heatmap] (RdBu's centre).
	Neutral = rdBu[5]
	// Positive and Negative are the bar colours of [BarChart] and the
	// saturated ends used in legends (RdBu red and blue).
	Positive = rdBu[9]
	Negative = rdBu[1]
	// Support and Oppose tint the segments [MaskOverlay] selects: from
	// ColorBrewer's colour-blind-safe PiYG map, a green and a magenta-red
	// light enough to read over dark images too.
	Support = color.RGBA{0x7f, 0xbc, 0x41, 0xff}
	Oppose  = color.RGBA{0xde, 0x4a, 0x9a, 0xff}
	// Boundary is the default colour of segment boundaries (yellow, as in
	// lime's mark_boundaries).
	Boundary = color.RGBA{0xff, 0xd7, 0x00, 0xff}
	// Missing is the colour [Heatmap] gives NaN values.
	Missing = color.RGBA{0x80, 0x80, 0x80, 0xff}
)

// Diverging maps t in [-1, 1] to the RdBu colour map: -1 dark blue, 0
// near-white ([Neutral]), +1 dark red, interpolating linearly between the
// eleven ColorBrewer stops. t outside [-1, 1] is clamped; NaN gives [Missing].
func Diverging(t float64) color.RGBA {
	if math.IsNaN(t) {
		return Missing
	}
	t = math.Max(-1, math.Min(1, t))
	u := (t + 1) * 5 // 0..10
	i := int(u)
	if i >= 10 {
		return rdBu[10]
	}
	return mix(rdBu[i], rdBu[i+1], u-float64(i))
}

// mix returns (1-f)·a + f·b, per channel, rounded; alpha is opaque.
func mix(a, b color.RGBA, f float64) color.RGBA {
	l := func(x, y uint8) uint8 {
		return uint8(math.Round(float64(x) + f*(float64(y)-float64(x))))
	}
	return color.RGBA{l(a.R, b.R), l(a.G, b.G), l(a.B, b.B), 0xff}
}

func toRGBA(c color.Color) color.RGBA {
	r, g, b, a := c.RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
}
