package inspect

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"

	"github.com/glassbox-ml/glassbox/report"
)

// Palette colours the classes of [ScatterPlot], in class order (cycled
// beyond ten classes): Tableau 10, whose hues stay apart for most readers
// with colour-vision deficiencies.
var Palette = []color.RGBA{
	{0x4e, 0x79, 0xa7, 0xff}, // blue
	{0xf2, 0x8e, 0x2b, 0xff}, // orange
	{0xe1, 0x57, 0x59, 0xff}, // red
	{0x76, 0xb7, 0xb2, 0xff}, // teal
	{0x59, 0xa1, 0x4f, 0xff}, // green
	{0xed, 0xc9, 0x48, 0xff}, // yellow
	{0xb0, 0x7a, 0xa1, 0xff}, // purple
	{0xff, 0x9d, 0xa7, 0xff}, // pink
	{0x9c, 0x75, 0x5f, 0xff}, // brown
	{0x79, 0x70, 0x6e, 0xff}, // grey
}

// ClassColor returns the colour of class c in [ScatterPlot].
func ClassColor(c int) color.RGBA { return Palette[((c%len(Palette))+len(Palette))%len(Palette)] }

const (
	plotSide   = 420 // the plot area is plotSide × plotSide pixels
	plotMargin = 12
	dotRadius  = 2
)

var (
	frameColour = color.RGBA{0x55, 0x55, 0x55, 0xff}
	inkColour   = color.RGBA{0x22, 0x22, 0x22, 0xff}
	axisColour  = color.RGBA{0xcc, 0xcc, 0xcc, 0xff}
)

// ScatterPlot draws a [Projection]: each input a dot at its two principal
// coordinates, coloured by class ([ClassColor]; dark grey when unlabelled),
// on equal scales along both axes so distances read true, with faint lines
// through the origin (the mean), ticks on both axes, a title naming the
// layer, its dimension, the variance the two components keep and the
// separation scores (linear probe included), and a legend of class names
// (classNames[c] for class c; "class c" where missing). Dots are drawn in
// input order.
func ScatterPlot(p *Projection, classNames []string) image.Image {
	const fs = 2 // font scale
	lh := report.TextHeight(fs) + 6
	title := fmt.Sprintf("%s (%s, %d dims)", p.Name, p.Type, p.Dim)
	if p.Layer == InputLayer {
		title = fmt.Sprintf("input (%d dims)", p.Dim)
	}
	sub := fmt.Sprintf("PC1 %.1f%%  PC2 %.1f%% of variance", 100*p.Explained[0], 100*p.Explained[1])
	var score string
	if s := p.Separation; s != nil {
		score = fmt.Sprintf("silhouette %.2f  centroid acc %.0f%%  linear probe %.0f%%", s.Silhouette, 100*s.CentroidAccuracy, 100*s.Probe)
	}
	// Legend entries.
	k := 0
	for _, l := range p.Labels {
		k = max(k, l+1)
	}
	present := make([]bool, k)
	for _, l := range p.Labels {
		present[l] = true
	}
	var legend []int
	for c, ok := range present {
		if ok {
			legend = append(legend, c)
		}
	}
	name := func(c int) string {
		if c < len(classNames) && classNames[c] != "" {
			return classNames[c]
		}
		return fmt.Sprintf("class %d", c)
	}
	legendW := 0
	for _, c := range legend {
		legendW = max(legendW, report.TextWidth(name(c), fs))
	}
	if legendW > 0 {
		legendW += report.TextHeight(fs) + 3*plotMargin
	}
	top := plotMargin + 2*lh
	if score != "" {
		top += lh
	}
	// Map points into the plot area with equal scales; ticks on both axes.
	minX, maxX, minY, maxY := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, pt := range p.Points {
		minX, maxX = math.Min(minX, pt[0]), math.Max(maxX, pt[0])
		minY, maxY = math.Min(minY, pt[1]), math.Max(maxY, pt[1])
	}
	span := math.Max(maxX-minX, maxY-minY)
	if !(span > 0) || math.IsInf(span, 0) {
		span = 1
	}
	inner := float64(plotSide - 2*(dotRadius+4))
	scale := inner / span
	cx, cy := (minX+maxX)/2, (minY+maxY)/2
	if math.IsInf(cx, 0) || math.IsNaN(cx) {
		cx, cy = 0, 0
	}
	half := float64(plotSide) / 2 / scale // data units from the centre to an edge
	xticks := inRange(report.Ticks(cx-half, cx+half, 5), cx-half, cx+half)
	yticks := inRange(report.Ticks(cy-half, cy+half, 5), cy-half, cy+half)
	tickW := 0
	for _, t := range yticks {
		tickW = max(tickW, report.TextWidth(report.TickLabel(t), 1))
	}
	const tickLen = 4
	x0, y0 := plotMargin+tickW+tickLen+4, top
	th := report.TextHeight(1)
	width := max(x0+plotSide+plotMargin+legendW,
		2*plotMargin+report.TextWidth(title, fs), 2*plotMargin+report.TextWidth(sub, fs), 2*plotMargin+report.TextWidth(score, fs))
	height := max(top+plotSide+tickLen+th+lh+plotMargin, top+len(legend)*lh+plotMargin)
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	y := plotMargin
	for _, line := range []string{title, sub, score} {
		if line != "" {
			report.DrawText(img, plotMargin, y, line, inkColour, fs)
			y += lh
		}
	}
	px := func(v float64) int { return x0 + plotSide/2 + int(math.Round((v-cx)*scale)) }
	py := func(v float64) int { return y0 + plotSide/2 - int(math.Round((v-cy)*scale)) }
	plot := image.Rect(x0, y0, x0+plotSide, y0+plotSide)
	if ox := px(0); ox > plot.Min.X && ox < plot.Max.X {
		draw.Draw(img, image.Rect(ox, plot.Min.Y, ox+1, plot.Max.Y), image.NewUniform(axisColour), image.Point{}, draw.Src)
	}
	if oy := py(0); oy > plot.Min.Y && oy < plot.Max.Y {
		draw.Draw(img, image.Rect(plot.Min.X, oy, plot.Max.X, oy+1), image.NewUniform(axisColour), image.Point{}, draw.Src)
	}
	for i, pt := range p.Points {
		col := inkColour
		if p.Labels != nil {
			col = ClassColor(p.Labels[i])
		}
		drawDot(img, px(pt[0]), py(pt[1]), col)
	}
	frame(img, plot, frameColour)
	ink := image.NewUniform(inkColour)
	for _, t := range xticks {
		x := px(t)
		draw.Draw(img, image.Rect(x, plot.Max.Y, x+1, plot.Max.Y+tickLen), ink, image.Point{}, draw.Src)
		l := report.TickLabel(t)
		report.DrawText(img, x-report.TextWidth(l, 1)/2, plot.Max.Y+tickLen, l, inkColour, 1)
	}
	for _, t := range yticks {
		y := py(t)
		draw.Draw(img, image.Rect(plot.Min.X-tickLen, y, plot.Min.X, y+1), ink, image.Point{}, draw.Src)
		l := report.TickLabel(t)
		report.DrawText(img, plot.Min.X-tickLen-2-report.TextWidth(l, 1), y-th/2, l, inkColour, 1)
	}
	axisY := plot.Max.Y + tickLen + th + 2
	report.DrawText(img, x0+plotSide-report.TextWidth("PC1", fs), axisY, "PC1", inkColour, fs)
	report.DrawText(img, x0, axisY, "PC2 up", inkColour, fs)
	// Legend.
	lx := x0 + plotSide + 2*plotMargin
	sw := report.TextHeight(fs)
	for i, c := range legend {
		ly := top + i*lh
		draw.Draw(img, image.Rect(lx, ly, lx+sw, ly+sw), image.NewUniform(ClassColor(c)), image.Point{}, draw.Src)
		report.DrawText(img, lx+sw+plotMargin/2, ly, name(c), inkColour, fs)
	}
	return img
}

// drawDot draws a filled disc of radius dotRadius centred on (x, y).
func drawDot(img *image.RGBA, x, y int, c color.RGBA) {
	for dy := -dotRadius; dy <= dotRadius; dy++ {
		for dx := -dotRadius; dx <= dotRadius; dx++ {
			if dx*dx+dy*dy > dotRadius*dotRadius+1 {
				continue
			}
			if (image.Point{x + dx, y + dy}).In(img.Bounds()) {
				img.SetRGBA(x+dx, y+dy, c)
			}
		}
	}
}

// frame outlines r with a one-pixel line.
func frame(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	u := image.NewUniform(c)
	draw.Draw(img, image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+1), u, image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(r.Min.X, r.Max.Y-1, r.Max.X, r.Max.Y), u, image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(r.Min.X, r.Min.Y, r.Min.X+1, r.Max.Y), u, image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(r.Max.X-1, r.Min.Y, r.Max.X, r.Max.Y), u, image.Point{}, draw.Src)
}

// inRange keeps the ticks within [lo, hi].
func inRange(ticks []float64, lo, hi float64) []float64 {
	var out []float64
	for _, t := range ticks {
		if t >= lo && t <= hi {
			out = append(out, t)
		}
	}
	return out
}
