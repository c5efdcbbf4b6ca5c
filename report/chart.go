package report

import (
	"cmp"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"slices"
	"strconv"
)

// BarOptions tunes [BarChart].
type BarOptions struct {
	// Title is written above the bars when not empty.
	Title string
	// MaxBars keeps the bars of largest |weight|. 0 picks 20; negative keeps all.
	MaxBars int
	// Width is the picture width in pixels; 0 picks 640. It grows if the
	// labels leave less than 120 pixels for the bars.
	Width int
	// FontScale is the text size (see [PixelSize]); 0 picks 2 (17 px).
	FontScale int
	// MaxLabel cuts names longer than this many characters, ending them with
	// ".."; 0 picks 28.
	MaxLabel int
}

// BarLayout says where [BarChart] put things, for callers that add marks and
// for tests.
type BarLayout struct {
	// Order lists the indices of the drawn weights, top bar first.
	Order []int
	// Bars holds the rectangle of each drawn bar, in Order.
	Bars []image.Rectangle
	// AxisX is the x coordinate of the zero line.
	AxisX int
}

// BarChart draws a horizontal bar chart of named weights (one per name), the
// picture of a tabular or text LIME explanation: bars sorted by decreasing
// |weight| (ties keep input order), [Positive] red to the right of the zero
// line and [Negative] blue to its left, all on one scale so lengths are
// proportional to the weights, each with its name on the left and its value
// on the right, in Go Regular (see [DrawText]). It panics if len(names) !=
// len(weights).
func BarChart(names []string, weights []float64, o BarOptions) image.Image {
	img, _ := BarChartLayout(names, weights, o)
	return img
}

// BarChartLayout is [BarChart] that also returns where the bars went.
func BarChartLayout(names []string, weights []float64, o BarOptions) (*image.RGBA, BarLayout) {
	if len(names) != len(weights) {
		panic(fmt.Sprintf("report: BarChart: %d names for %d weights; want one name per weight", len(names), len(weights)))
	}
	fs := o.FontScale
	if fs < 1 {
		fs = 2
	}
	maxBars := o.MaxBars
	if maxBars == 0 {
		maxBars = 20
	}
	maxLabel := o.MaxLabel
	if maxLabel < 1 {
		maxLabel = 28
	}
	width := o.Width
	if width < 1 {
		width = 640
	}

	order := make([]int, 0, len(weights))
	for i, w := range weights {
		if !math.IsNaN(w) {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(math.Abs(weights[b]), math.Abs(weights[a]))
	})
	if maxBars > 0 && len(order) > maxBars {
		order = order[:maxBars]
	}

	labels := make([]string, len(order))
	values := make([]string, len(order))
	labelW, valueW := 0, 0
	negMax, posMax := 0.0, 0.0
	for k, i := range order {
		labels[k] = shorten(names[i], maxLabel)
		values[k] = formatWeight(weights[i])
		labelW = max(labelW, TextWidth(labels[k], fs))
		valueW = max(valueW, TextWidth(values[k], fs))
		if weights[i] < 0 {
			negMax = math.Max(negMax, -weights[i])
		} else {
			posMax = math.Max(posMax, weights[i])
		}
	}
	pad := 4 * fs
	lineH := TextHeight(fs)
	barH := lineH + 2*fs
	rowH := barH + pad
	top := pad
	if o.Title != "" {
		top += lineH + 2*pad
	}
	x0 := pad + labelW + pad
	width = max(width, x0+120+pad+valueW+pad, TextWidth(o.Title, fs)+2*pad)
	x1 := width - pad - valueW - pad
	height := top + len(order)*rowH + pad

	img := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	if o.Title != "" {
		DrawText(img, (width-TextWidth(o.Title, fs))/2, pad, o.Title, textColour, fs)
	}
	total := negMax + posMax
	if total == 0 || math.IsInf(total, 0) {
		total = 1
	}
	plotW := float64(x1 - x0)
	axis := x0 + int(math.Round(plotW*negMax/total))
	lay := BarLayout{Order: order, AxisX: axis}
	for k, i := range order {
		y := top + k*rowH
		n := int(math.Round(plotW * math.Min(math.Abs(weights[i]), total) / total))
		r := image.Rect(axis, y, axis+n, y+barH)
		col := Positive
		if weights[i] < 0 {
			r = image.Rect(axis-n, y, axis, y+barH)
			col = Negative
		}
		draw.Draw(img, r, image.NewUniform(col), image.Point{}, draw.Src)
		lay.Bars = append(lay.Bars, r)
		ty := y + (barH-lineH)/2
		DrawText(img, x0-pad-TextWidth(labels[k], fs), ty, labels[k], textColour, fs)
		DrawText(img, x1+pad, ty, values[k], textColour, fs)
	}
	if len(order) > 0 {
		draw.Draw(img, image.Rect(axis, top-fs, axis+max(1, fs/2), top+len(order)*rowH-pad+fs),
			image.NewUniform(axisColour), image.Point{}, draw.Src)
	}
	return img, lay
}

var axisColour = color.RGBA{0x55, 0x55, 0x55, 0xff}

// shorten cuts s to at most n characters, marking a cut with "..".
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n <= 2 {
		return string(r[:n])
	}
	return string(r[:n-2]) + ".."
}

// formatWeight writes a weight with three significant digits and its sign.
func formatWeight(w float64) string {
	s := strconv.FormatFloat(w, 'g', 3, 64)
	if w > 0 {
		s = "+" + s
	}
	return s
}
