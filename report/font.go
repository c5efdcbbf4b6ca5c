package report

import (
	"image"
	"image/color"
	"image/draw"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Text in pictures is drawn in Go Regular (the Go fonts, by Bigelow &
// Holmes, BSD licence, shipped inside golang.org/x/image), antialiased,
// so titles and labels read like text rather than the 5-pixel bitmap
// glyphs an earlier version drew. The size follows a small integer
// scale so callers keep their simple "scale" knob: scale s draws at
// PixelSize(s) pixels per em.

// PixelSize is the font size in pixels (per em) that scale s draws at:
// 12 px at scale 1, 17 at 2, 22 at 3. A scale below 1 counts as 1.
func PixelSize(scale int) float64 { return float64(7 + 5*max(scale, 1)) }

var (
	fontOnce  sync.Once
	goRegular *opentype.Font
	faceMu    sync.Mutex
	faces     = map[int]font.Face{}
)

// face returns the Go Regular face at scale (cached: a face holds a glyph
// cache and is not safe for concurrent use, so callers hold faceMu).
func face(scale int) font.Face {
	fontOnce.Do(func() {
		f, err := opentype.Parse(goregular.TTF)
		if err != nil {
			panic("report: the embedded Go Regular font does not parse: " + err.Error())
		}
		goRegular = f
	})
	scale = max(scale, 1)
	if f, ok := faces[scale]; ok {
		return f
	}
	f, err := opentype.NewFace(goRegular, &opentype.FaceOptions{Size: PixelSize(scale), DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		panic("report: Go Regular face: " + err.Error())
	}
	faces[scale] = f
	return f
}

// TextWidth returns the width in pixels of s drawn by [DrawText] at the
// given scale (its advance, rounded up). A scale below 1 counts as 1.
func TextWidth(s string, scale int) int {
	if s == "" {
		return 0
	}
	faceMu.Lock()
	defer faceMu.Unlock()
	return font.MeasureString(face(scale), s).Ceil()
}

// TextHeight returns the height in pixels of a line drawn by [DrawText]:
// the font's ascent plus descent at that scale. A scale below 1 counts as 1.
func TextHeight(scale int) int {
	faceMu.Lock()
	defer faceMu.Unlock()
	m := face(scale).Metrics()
	return (m.Ascent + m.Descent).Ceil()
}

// DrawText draws s on dst with the top-left corner of its line box at
// (x, y) in Go Regular at the given scale, antialiased, in colour c.
// Characters the font lacks draw as its missing-glyph box. Pixels falling
// outside dst are clipped.
func DrawText(dst draw.Image, x, y int, s string, c color.Color, scale int) {
	faceMu.Lock()
	defer faceMu.Unlock()
	f := face(scale)
	d := font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: f,
		Dot: fixed.Point26_6{X: fixed.I(x), Y: fixed.I(y) + f.Metrics().Ascent}}
	d.DrawString(s)
}
