package modelreport

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"image"
	"image/color"
	"image/png"
	"math"
	"strings"

	"github.com/glassbox-ml/glassbox/inspect"
	"github.com/glassbox-ml/glassbox/report"
)

// Charts are inline SVG: vector text at the page's font, axes with ticks,
// legends and colour bars, no script. Pictures made of pixels (digits,
// filters, overlays) are PNG data URIs.

const (
	ink      = "#222"
	gridInk  = "#e4e4e4"
	axisInk  = "#666"
	fontSize = 12
)

// svgDoc collects an SVG picture's elements.
type svgDoc struct {
	w, h int
	b    strings.Builder
}

func newSVG(w, h int) *svgDoc { return &svgDoc{w: w, h: h} }

func (s *svgDoc) add(format string, a ...any) { fmt.Fprintf(&s.b, format, a...) }

func (s *svgDoc) text(x, y float64, anchor, txt string, extra string) {
	s.add(`<text x="%.1f" y="%.1f" text-anchor="%s" %s>%s</text>`, x, y, anchor, extra, template.HTMLEscapeString(txt))
}

func (s *svgDoc) html(label string) template.HTML {
	return template.HTML(fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s" font-family="sans-serif" font-size="%d" fill="%s">%s</svg>`,
		s.w, s.h, s.w, s.h, template.HTMLEscapeString(label), fontSize, ink, s.b.String()))
}

// niceTicks and tick are report's axis ticks, shared with inspect's
// PNG plots.
func niceTicks(lo, hi float64, n int) []float64 { return report.Ticks(lo, hi, n) }

func tick(v float64) string { return report.TickLabel(v) }

// axes frames a plot area and draws ticks on both axes, returning the
// coordinate maps.
type axes struct {
	x0, y0, x1, y1     float64 // plot area in pixels (y0 top)
	xlo, xhi, ylo, yhi float64
}

func (a axes) px(v float64) float64 { return a.x0 + (v-a.xlo)/(a.xhi-a.xlo)*(a.x1-a.x0) }
func (a axes) py(v float64) float64 { return a.y1 - (v-a.ylo)/(a.yhi-a.ylo)*(a.y1-a.y0) }

// draw draws the frame, grid lines, ticks, their labels and the axis
// titles.
func (a axes) draw(s *svgDoc, xticks, yticks []float64, xlabel, ylabel string, xfmt func(float64) string) {
	if xfmt == nil {
		xfmt = tick
	}
	inside := func(v, lo, hi float64) bool { return v >= math.Min(lo, hi)-1e-9 && v <= math.Max(lo, hi)+1e-9 }
	for _, t := range yticks {
		if !inside(t, a.ylo, a.yhi) {
			continue
		}
		y := a.py(t)
		s.add(`<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s"/>`, a.x0, a.x1, y, y, gridInk)
		s.add(`<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s"/>`, a.x0-4, a.x0, y, y, axisInk)
		s.text(a.x0-6, y+4, "end", tick(t), "")
	}
	for _, t := range xticks {
		if !inside(t, a.xlo, a.xhi) {
			continue
		}
		x := a.px(t)
		s.add(`<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s"/>`, x, x, a.y1, a.y1+4, axisInk)
		s.text(x, a.y1+17, "middle", xfmt(t), "")
	}
	s.add(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="%s"/>`, a.x0, a.y0, a.x1-a.x0, a.y1-a.y0, axisInk)
	if xlabel != "" {
		s.text((a.x0+a.x1)/2, a.y1+33, "middle", xlabel, "")
	}
	if ylabel != "" {
		s.add(`<text transform="translate(%.1f %.1f) rotate(-90)" text-anchor="middle">%s</text>`, a.x0-42, (a.y0+a.y1)/2, template.HTMLEscapeString(ylabel))
	}
}

// series is one line of a line chart.
type series struct {
	Name   string
	X, Y   []float64
	Colour string
	Dashed bool
}

// lineChart draws series against a shared x axis, with a legend. The y
// axis pads the data by 8% but never passes floor or ceil (NaN: no bound),
// so a loss axis does not dip below 0 nor an accuracy axis pass 100%.
func lineChart(title, xlabel, ylabel string, ss []series, w, h int, floor, ceil float64) template.HTML {
	s := newSVG(w, h)
	xlo, xhi, ylo, yhi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, se := range ss {
		for i := range se.X {
			if math.IsNaN(se.Y[i]) || math.IsInf(se.Y[i], 0) {
				continue
			}
			xlo, xhi = math.Min(xlo, se.X[i]), math.Max(xhi, se.X[i])
			ylo, yhi = math.Min(ylo, se.Y[i]), math.Max(yhi, se.Y[i])
		}
	}
	if math.IsInf(xlo, 0) {
		xlo, xhi, ylo, yhi = 0, 1, 0, 1
	}
	if xhi == xlo {
		xhi = xlo + 1
	}
	pad := (yhi - ylo) * 0.08
	if pad == 0 {
		pad = math.Max(math.Abs(yhi)*0.1, 0.05)
	}
	lo, hi := ylo-pad, yhi+pad
	if !math.IsNaN(floor) && ylo >= floor {
		lo = math.Max(lo, floor)
	}
	if !math.IsNaN(ceil) && yhi <= ceil {
		hi = math.Min(hi, ceil)
	}
	yt := niceTicks(lo, hi, 5)
	xt := niceTicks(xlo, xhi, min(8, int(xhi-xlo)+1))
	a := axes{x0: 60, y0: 28, x1: float64(w) - 130, y1: float64(h) - 42, xlo: xlo, xhi: xhi, ylo: yt[0], yhi: yt[len(yt)-1]}
	s.text(float64(w-130+60)/2, 16, "middle", title, `font-weight="bold"`)
	a.draw(s, xt, yt, xlabel, ylabel, nil)
	for k, se := range ss {
		var pts []string
		for i := range se.X {
			if math.IsNaN(se.Y[i]) || math.IsInf(se.Y[i], 0) {
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", a.px(se.X[i]), a.py(se.Y[i])))
		}
		dash := ""
		if se.Dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		s.add(`<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`, se.Colour, dash, strings.Join(pts, " "))
		for _, p := range pts {
			var x, y float64
			fmt.Sscanf(p, "%f,%f", &x, &y)
			s.add(`<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"/>`, x, y, se.Colour)
		}
		ly := a.y0 + 10 + float64(k)*20
		s.add(`<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s" stroke-width="2"%s/>`, a.x1+12, a.x1+36, ly, ly, se.Colour, dash)
		s.text(a.x1+42, ly+4, "start", se.Name, "")
	}
	return s.html(title)
}

// hex writes a colour as #rrggbb.
func hex(c color.RGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

// sequential maps t in [0, 1] from white to dark blue (the blue half of
// RdBu), for counts and shares where no sign is involved.
func sequential(t float64) color.RGBA { return report.Diverging(-math.Max(0, math.Min(1, t))) }

// colourBar draws a vertical colour key for the diverging map from -m to
// +m (or, with signed false, the sequential map from 0 to m).
func colourBar(m float64, label string, signed bool, h int) template.HTML {
	s := newSVG(95, h)
	const x, w = 8, 16
	top, bot := 10.0, float64(h)-10
	steps := 64
	for i := 0; i < steps; i++ {
		t := 1 - float64(i)/float64(steps-1) // top = high
		var c color.RGBA
		if signed {
			c = report.Diverging(2*t - 1)
		} else {
			c = sequential(t)
		}
		y := top + (bot-top)*float64(i)/float64(steps)
		s.add(`<rect x="%d" y="%.2f" width="%d" height="%.2f" fill="%s"/>`, x, y, w, (bot-top)/float64(steps)+0.5, hex(c))
	}
	s.add(`<rect x="%d" y="%.1f" width="%d" height="%.1f" fill="none" stroke="%s"/>`, x, top, w, bot-top, axisInk)
	lo := 0.0
	if signed {
		lo = -m
	}
	if !(m > 0) {
		m = 1
	}
	for _, t := range niceTicks(lo, m, 4) {
		if t < lo-1e-12 || t > m+1e-12 {
			continue
		}
		y := bot - (t-lo)/(m-lo)*(bot-top)
		s.add(`<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="%s"/>`, x+w, x+w+4, y, y, axisInk)
		s.text(float64(x+w+6), y+4, "start", tick(t), "")
	}
	s.add(`<text transform="translate(%d %.1f) rotate(-90)" text-anchor="middle" font-size="11">%s</text>`, 90, (top+bot)/2, template.HTMLEscapeString(label))
	return s.html("colour key: " + label)
}

// matrixChart draws a confusion matrix: rows true class, columns
// predicted, each cell's count printed and its colour the share of its
// row (so a class's errors read the same whatever its size).
func matrixChart(m [][]int, names []string) template.HTML {
	k := len(m)
	cell := 36
	if k > 12 {
		cell = max(14, 432/k)
	}
	longest := 0
	for c := range k {
		longest = max(longest, len([]rune(name(names, c))))
	}
	rotate := longest*7 > cell-4
	left, top := 90, 60
	if rotate {
		top = 40 + 7*min(longest, 12)
	}
	w, h := left+k*cell+20, top+k*cell+20
	s := newSVG(w, h)
	s.text(float64(left+k*cell/2), 16, "middle", "predicted class", "")
	s.w += 7 * min(longest, 12) // room for rotated labels on the right
	s.add(`<text transform="translate(20 %d) rotate(-90)" text-anchor="middle">true class</text>`, top+k*cell/2)
	for i, row := range m {
		total := 0
		for _, v := range row {
			total += v
		}
		for j, v := range row {
			share := 0.0
			if total > 0 {
				share = float64(v) / float64(total)
			}
			x, y := left+j*cell, top+i*cell
			s.add(`<rect x="%d" y="%d" width="%d" height="%d" fill="%s" stroke="#fff"><title>true %s, predicted %s: %d of %d</title></rect>`,
				x, y, cell, cell, hex(sequential(share)), template.HTMLEscapeString(name(names, i)), template.HTMLEscapeString(name(names, j)), v, total)
			if v > 0 && cell >= 24 {
				fill := ink
				if share > 0.55 {
					fill = "#fff"
				}
				s.text(float64(x+cell/2), float64(y+cell/2+4), "middle", fmt.Sprint(v), fmt.Sprintf(`fill="%s" font-size="11"`, fill))
			}
		}
		s.text(float64(left-6), float64(top+i*cell+cell/2+4), "end", short(name(names, i), 10), "")
	}
	for j := range k {
		x := float64(left + j*cell + cell/2)
		if rotate {
			s.add(`<text transform="translate(%.1f %d) rotate(-45)" text-anchor="start">%s</text>`, x-2, top-6, template.HTMLEscapeString(short(name(names, j), 12)))
		} else {
			s.text(x, float64(top-8), "middle", name(names, j), "")
		}
	}
	return s.html("confusion matrix")
}

// name is class c's name, or its number.
func name(names []string, c int) string {
	if c < len(names) && names[c] != "" {
		return names[c]
	}
	return fmt.Sprint(c)
}

func short(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// scatterChart draws a 2-D projection: one dot per input coloured by class,
// equal scales on both axes, ticks, and a legend.
func scatterChart(p *inspect.Projection, names []string, side int, title string) template.HTML {
	w, h := side+150, side+92
	s := newSVG(w, h)
	s.text(55, 14, "start", title, `font-weight="bold"`)
	xlo, xhi, ylo, yhi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, pt := range p.Points {
		xlo, xhi = math.Min(xlo, pt[0]), math.Max(xhi, pt[0])
		ylo, yhi = math.Min(ylo, pt[1]), math.Max(yhi, pt[1])
	}
	span := math.Max(xhi-xlo, yhi-ylo) * 1.05
	if !(span > 0) || math.IsInf(span, 0) {
		span = 1
	}
	cx, cy := (xlo+xhi)/2, (ylo+yhi)/2
	a := axes{x0: 55, y0: 32, x1: float64(55 + side), y1: float64(32 + side), xlo: cx - span/2, xhi: cx + span/2, ylo: cy - span/2, yhi: cy + span/2}
	a.draw(s, niceTicks(a.xlo, a.xhi, 4), niceTicks(a.ylo, a.yhi, 4), fmt.Sprintf("PC1 (%.0f%% of variance)", 100*p.Explained[0]), fmt.Sprintf("PC2 (%.0f%%)", 100*p.Explained[1]), nil)
	for i, pt := range p.Points {
		col := ink
		if p.Labels != nil {
			col = hex(inspect.ClassColor(p.Labels[i]))
		}
		s.add(`<circle cx="%.1f" cy="%.1f" r="2.2" fill="%s" fill-opacity="0.75"/>`, a.px(pt[0]), a.py(pt[1]), col)
	}
	seen := map[int]bool{}
	for _, l := range p.Labels {
		seen[l] = true
	}
	k := 0
	for c := 0; c < 1000 && k < len(seen); c++ {
		if !seen[c] {
			continue
		}
		y := a.y0 + 8 + float64(k)*17
		s.add(`<circle cx="%.1f" cy="%.1f" r="5" fill="%s"/>`, a.x1+18, y, hex(inspect.ClassColor(c)))
		s.text(a.x1+28, y+4, "start", short(name(names, c), 14), "")
		k++
	}
	return s.html("projection of " + p.Name)
}

// barsChart draws a vector of values (a dense layer's units, class
// probabilities) as vertical bars on a zero line: a strip, not a picture,
// since the units of a dense layer have no spatial layout.
func barsChart(title string, values []float32, labels []string, w, h int, colour func(v float64) string) template.HTML {
	s := newSVG(w, h)
	lo, hi := 0.0, 0.0
	for _, v := range values {
		lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
	}
	if hi == lo {
		hi = lo + 1
	}
	yt := niceTicks(lo, hi, 3)
	bottom := float64(h) - 24
	if labels != nil {
		bottom -= 6
	}
	a := axes{x0: 50, y0: 22, x1: float64(w) - 10, y1: bottom, xlo: 0, xhi: float64(max(len(values), 1)), ylo: math.Min(yt[0], lo), yhi: math.Max(yt[len(yt)-1], hi)}
	s.text(a.x0, 14, "start", title, `font-weight="bold"`)
	a.draw(s, nil, yt, "", "", nil)
	bw := (a.x1 - a.x0) / float64(max(len(values), 1))
	zero := a.py(0)
	for i, v := range values {
		y := a.py(float64(v))
		top, ht := math.Min(y, zero), math.Abs(y-zero)
		s.add(`<rect x="%.2f" y="%.2f" width="%.2f" height="%.2f" fill="%s"><title>%s: %.4g</title></rect>`,
			a.px(float64(i))+bw*0.1, top, math.Max(bw*0.8, 0.6), math.Max(ht, 0.5), colour(float64(v)), template.HTMLEscapeString(unitName(labels, i)), v)
		if labels != nil {
			s.text(a.px(float64(i))+bw/2, a.y1+14, "middle", short(labels[i], 12), `font-size="11"`)
		}
	}
	if labels == nil {
		s.text((a.x0+a.x1)/2, a.y1+16, "middle", fmt.Sprintf("units 0 … %d (no spatial order)", len(values)-1), `font-size="11"`)
	}
	s.add(`<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s"/>`, a.x0, a.x1, zero, zero, axisInk)
	return s.html(title)
}

func unitName(labels []string, i int) string {
	if labels != nil && i < len(labels) {
		return labels[i]
	}
	return fmt.Sprintf("unit %d", i)
}

// signedColour colours a bar by sign: red positive, blue negative.
func signedColour(v float64) string {
	if v < 0 {
		return hex(report.Negative)
	}
	return hex(report.Positive)
}

// weightBars draws named signed weights as horizontal bars from a centred
// zero line, largest |weight| first (a table or text explanation).
func weightBars(names []string, weights []float64, w int) template.HTML {
	n := len(names)
	rowH := 20
	h := 30 + n*rowH + 30
	s := newSVG(w, h)
	m := 0.0
	for _, v := range weights {
		m = math.Max(m, math.Abs(v))
	}
	if m == 0 {
		m = 1
	}
	a := axes{x0: 170, y0: 10, x1: float64(w) - 20, y1: float64(10 + n*rowH), xlo: -m, xhi: m, ylo: 0, yhi: 1}
	a.draw(s, niceTicks(-m, m, 4), nil, "weight (red: for the class, blue: against)", "", nil)
	for i, v := range weights {
		y := a.y0 + float64(i*rowH) + 3
		x0, x1 := a.px(0), a.px(v)
		s.add(`<rect x="%.1f" y="%.1f" width="%.1f" height="%d" fill="%s"/>`, math.Min(x0, x1), y, math.Abs(x1-x0), rowH-6, signedColour(v))
		s.text(a.x0-6, y+float64(rowH)/2+1, "end", short(names[i], 24), "")
	}
	s.add(`<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s"/>`, a.px(0), a.px(0), a.y0, a.y1, axisInk)
	return s.html("feature weights")
}

// pngURI encodes img as a PNG data URI for an <img> tag.
func pngURI(img image.Image) template.URL {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return ""
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()))
}

// stepChart is a line chart whose x axis is named steps (layers).
func stepChart(title string, steps []string, ss []series, w, h int) template.HTML {
	s := newSVG(w, h+30)
	a := axes{x0: 60, y0: 28, x1: float64(w) - 150, y1: float64(h) - 42, xlo: -0.5, xhi: float64(len(steps)) - 0.5}
	lo, hi := 0.0, 1.0
	for _, se := range ss {
		for _, v := range se.Y {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	yt := niceTicks(lo, hi, 5)
	a.ylo, a.yhi = yt[0], yt[len(yt)-1]
	s.text((a.x0+a.x1)/2, 16, "middle", title, `font-weight="bold"`)
	a.draw(s, nil, yt, "", "", nil)
	for i, st := range steps {
		x := a.px(float64(i))
		s.add(`<text transform="translate(%.1f %.1f) rotate(35)" font-size="11">%s</text>`, x-4, a.y1+12, template.HTMLEscapeString(short(st, 12)))
	}
	for k, se := range ss {
		var pts []string
		for i := range se.X {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", a.px(se.X[i]), a.py(se.Y[i])))
			s.add(`<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`, a.px(se.X[i]), a.py(se.Y[i]), se.Colour)
		}
		dash := ""
		if se.Dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		s.add(`<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`, se.Colour, dash, strings.Join(pts, " "))
		ly := a.y0 + 10 + float64(k)*20
		s.add(`<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s" stroke-width="2"%s/>`, a.x1+12, a.x1+36, ly, ly, se.Colour, dash)
		s.text(a.x1+42, ly+4, "start", se.Name, "")
	}
	return s.html(title)
}
