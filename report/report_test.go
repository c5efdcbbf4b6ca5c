package report

import (
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func rgbaAt(img image.Image, x, y int) color.RGBA {
	return color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
}

// block asserts every pixel of the s×s block of source pixel (x, y) is want.
func block(t *testing.T, img image.Image, x, y, s int, want color.RGBA, what string) {
	t.Helper()
	for oy := 0; oy < s; oy++ {
		for ox := 0; ox < s; ox++ {
			if got := rgbaAt(img, x*s+ox, y*s+oy); got != want {
				t.Fatalf("%s: pixel (%d, %d) = %v; want %v", what, x*s+ox, y*s+oy, got, want)
			}
		}
	}
}

func mustPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			t.Fatalf("no panic; want one containing %q", want)
		}
		if !strings.Contains(r.(string), want) {
			t.Fatalf("panic %q; want it to contain %q", r, want)
		}
	}()
	f()
}

func TestDiverging(t *testing.T) {
	if Diverging(0) != Neutral {
		t.Errorf("Diverging(0) = %v; want Neutral %v", Diverging(0), Neutral)
	}
	if Diverging(1) != rdBu[10] || Diverging(5) != rdBu[10] {
		t.Errorf("Diverging(1), (5) = %v, %v; want darkest red %v", Diverging(1), Diverging(5), rdBu[10])
	}
	if Diverging(-1) != rdBu[0] || Diverging(-3) != rdBu[0] {
		t.Errorf("Diverging(-1) = %v; want darkest blue %v", Diverging(-1), rdBu[0])
	}
	if Diverging(math.NaN()) != Missing {
		t.Errorf("Diverging(NaN) = %v; want Missing", Diverging(math.NaN()))
	}
	if Diverging(0.8) != rdBu[9] || Diverging(-0.8) != rdBu[1] {
		t.Errorf("Diverging(±0.8) = %v, %v; want the stops %v, %v", Diverging(0.8), Diverging(-0.8), rdBu[9], rdBu[1])
	}
	// Positive is red-dominated, negative blue-dominated, and both get
	// darker (lower luminance) as |t| grows.
	lum := func(c color.RGBA) float64 { return 0.299*float64(c.R) + 0.587*float64(c.G) + 0.114*float64(c.B) }
	prevP, prevN := lum(Neutral), lum(Neutral)
	for t10 := 1; t10 <= 10; t10++ {
		v := float64(t10) / 10
		p, n := Diverging(v), Diverging(-v)
		if p.R <= p.B || n.B <= n.R {
			t.Errorf("Diverging(±%.1f) = %v, %v; want red for positive and blue for negative", v, p, n)
		}
		if lum(p) > prevP || lum(n) > prevN {
			t.Errorf("Diverging(±%.1f) got lighter than at ±%.1f", v, v-0.1)
		}
		prevP, prevN = lum(p), lum(n)
	}
}

func TestHeatmap(t *testing.T) {
	vals := []float32{2, -2, 0, 1, float32(math.NaN()), -0.5}
	img := Heatmap(vals, 2, 3, HeatmapOptions{Scale: 4})
	if b := img.Bounds(); b.Dx() != 12 || b.Dy() != 8 {
		t.Fatalf("bounds %v; want 12×8 (3×2 values at scale 4)", b)
	}
	block(t, img, 0, 0, 4, Diverging(1), "largest positive")
	block(t, img, 1, 0, 4, Diverging(-1), "largest negative")
	block(t, img, 2, 0, 4, Neutral, "zero")
	block(t, img, 0, 1, 4, Diverging(0.5), "half positive")
	block(t, img, 1, 1, 4, Missing, "NaN")
	block(t, img, 2, 1, 4, Diverging(-0.25), "quarter negative")

	fixed := Heatmap(vals, 2, 3, HeatmapOptions{MaxAbs: 4})
	if got := rgbaAt(fixed, 0, 0); got != Diverging(0.5) {
		t.Errorf("MaxAbs 4: value 2 drawn %v; want Diverging(0.5) %v", got, Diverging(0.5))
	}
	zero := Heatmap(make([]float32, 4), 2, 2, HeatmapOptions{})
	block(t, zero, 1, 1, 1, Neutral, "all-zero map")
	mustPanic(t, "Heatmap: values has length 5; want 6", func() { Heatmap(vals[:5], 2, 3, HeatmapOptions{}) })
}

func TestOverlay(t *testing.T) {
	// 2×4 grey image; attribution positive at (0,0), negative at (1,0),
	// half positive at (2,0), zero elsewhere.
	pix := []float32{0, 0.5, 1, 0.25, 0, 0, 1, 1}
	attr := []float32{4, -4, 2, 0, 0, 0, 0, 0}
	img := Overlay(pix, 1, 2, 4, attr, OverlayOptions{Alpha: 0.8})
	grey := func(v float64) color.RGBA {
		g := uint8(math.Round(255 * (0.15 + 0.7*v)))
		return color.RGBA{g, g, g, 255}
	}
	block(t, img, 0, 0, 1, mix(grey(0), Positive, 0.8), "strong positive")
	block(t, img, 1, 0, 1, mix(grey(0.5), Negative, 0.8), "strong negative")
	block(t, img, 2, 0, 1, mix(grey(1), Positive, 0.4), "half positive")
	block(t, img, 3, 0, 1, grey(0.25), "zero attribution leaves the image")
	block(t, img, 2, 1, 1, grey(1), "zero attribution leaves the image")
	if p, n := rgbaAt(img, 0, 0), rgbaAt(img, 1, 0); p.R <= p.B || n.B <= n.R {
		t.Errorf("positive %v should be red, negative %v blue", p, n)
	}

	// RGB image, segment boundaries at scale 4: labels split columns 0–1
	// from 2–3, and row 0 from row 1 in the right half.
	rgb := make([]float32, 3*8)
	labels := []int{0, 0, 1, 1, 0, 0, 2, 2}
	img = Overlay(rgb, 3, 2, 4, make([]float32, 8), OverlayOptions{Scale: 4, Labels: labels})
	if b := img.Bounds(); b.Dx() != 16 || b.Dy() != 8 {
		t.Fatalf("bounds %v; want 16×8", b)
	}
	for y := 0; y < 8; y++ {
		for x := 0; x < 16; x++ {
			vertical := x == 7 || x == 8               // between source columns 1 and 2
			horizontal := x >= 8 && (y == 3 || y == 4) // between the right-hand rows
			want := grey(0)
			if vertical || horizontal {
				want = Boundary
			}
			if got := rgbaAt(img, x, y); got != want {
				t.Fatalf("boundary picture: pixel (%d, %d) = %v; want %v", x, y, got, want)
			}
		}
	}
	red := color.RGBA{255, 0, 0, 255}
	img = Overlay(rgb, 3, 2, 4, make([]float32, 8), OverlayOptions{Labels: labels, BoundaryColor: red})
	if rgbaAt(img, 1, 0) != red || rgbaAt(img, 2, 0) != red || rgbaAt(img, 0, 0) != grey(0) {
		t.Errorf("scale 1 boundaries should mark both pixels of an edge in BoundaryColor")
	}
	mustPanic(t, "Overlay: attr has length 7; want 8", func() { Overlay(pix, 1, 2, 4, attr[:7], OverlayOptions{}) })
	mustPanic(t, "image has 2 channels", func() { Overlay(pix, 2, 2, 2, attr[:4], OverlayOptions{}) })
}

func TestMaskOverlay(t *testing.T) {
	// 1×6 RGB image of mid grey; segments 0 0 1 1 2 2.
	h, w := 1, 6
	pix := make([]float32, 3*h*w)
	for i := range pix {
		pix[i] = 0.5
	}
	labels := []int{0, 0, 1, 1, 2, 2}
	weights := []float64{0.5, -0.3, 0.01}
	base := color.RGBA{128, 128, 128, 255}
	img := MaskOverlay(pix, 3, h, w, labels, weights, MaskOptions{TopK: 2, Scale: 3})
	// Inner pixels (away from boundaries) of each block.
	if got := rgbaAt(img, 1, 1); got != mix(base, Support, 0.6) {
		t.Errorf("positive segment pixel %v; want Support tint %v", got, mix(base, Support, 0.6))
	}
	if got := rgbaAt(img, 7, 1); got != mix(base, Oppose, 0.6) {
		t.Errorf("negative segment pixel %v; want Oppose tint %v", got, mix(base, Oppose, 0.6))
	}
	if got := rgbaAt(img, 13, 1); got != mix(base, color.RGBA{0x80, 0x80, 0x80, 255}, 0.7) {
		t.Errorf("unselected segment pixel %v; want dimmed", got)
	}
	// Boundaries: between 0|1 (x = 5, 6) and 1|2 (x = 11, 12) since segment
	// 1 is shown; none inside segments.
	for x := 0; x < 18; x++ {
		isB := rgbaAt(img, x, 1) == Boundary
		if want := x == 5 || x == 6 || x == 11 || x == 12; isB != want {
			t.Errorf("x = %d: boundary %v; want %v", x, isB, want)
		}
	}
	// PositiveOnly + MinWeight + HideRest: only segment 0 shown, the rest
	// flat grey, and no boundary between the two hidden segments.
	img = MaskOverlay(pix, 3, h, w, labels, weights, MaskOptions{PositiveOnly: true, MinWeight: 0.1, HideRest: true})
	if rgbaAt(img, 0, 0) != mix(base, Support, 0.6) || rgbaAt(img, 2, 0) != Boundary ||
		rgbaAt(img, 3, 0) != (color.RGBA{0x80, 0x80, 0x80, 255}) || rgbaAt(img, 4, 0) != (color.RGBA{0x80, 0x80, 0x80, 255}) {
		t.Errorf("PositiveOnly/HideRest picture wrong: %v %v %v %v", rgbaAt(img, 0, 0), rgbaAt(img, 2, 0), rgbaAt(img, 3, 0), rgbaAt(img, 4, 0))
	}
	mustPanic(t, "label 2 at pixel 4 has no weight", func() { MaskOverlay(pix, 3, h, w, labels, weights[:2], MaskOptions{}) })
}

func TestSelectSegments(t *testing.T) {
	w := []float64{0.1, -0.9, 0, 0.5, -0.5, math.NaN(), 0.02}
	cases := []struct {
		o    MaskOptions
		want []int
	}{
		{MaskOptions{}, []int{1, 3, 4, 0, 6}},
		{MaskOptions{TopK: 2}, []int{1, 3}},
		{MaskOptions{TopK: -1}, []int{1, 3, 4, 0, 6}},
		{MaskOptions{PositiveOnly: true}, []int{3, 0, 6}},
		{MaskOptions{NegativeOnly: true}, []int{1, 4}},
		{MaskOptions{MinWeight: 0.2}, []int{1, 3, 4}},
	}
	for _, c := range cases {
		if got := SelectSegments(w, c.o); !slices.Equal(got, c.want) {
			t.Errorf("SelectSegments(%+v) = %v; want %v", c.o, got, c.want)
		}
	}
}

func TestBarChart(t *testing.T) {
	names := []string{"small", "big", "negative", "tiny"}
	weights := []float64{0.5, 2, -1, 0.05}
	img, lay := BarChartLayout(names, weights, BarOptions{Title: "weights"})
	if !slices.Equal(lay.Order, []int{1, 2, 0, 3}) {
		t.Fatalf("order %v; want by |weight|: [1 2 0 3]", lay.Order)
	}
	// Lengths proportional to |weight|: 2 : 1 : 0.5 : 0.05.
	unit := float64(lay.Bars[0].Dx()) / 2
	for k, i := range lay.Order {
		want := math.Abs(weights[i]) * unit
		if got := float64(lay.Bars[k].Dx()); math.Abs(got-want) > 1 {
			t.Errorf("bar %q is %v px; want %.1f (proportional)", names[i], got, want)
		}
	}
	// Positive bars start at the axis and go right, negative end at it.
	for k, i := range lay.Order {
		r := lay.Bars[k]
		mid := rgbaAt(img, (r.Min.X+r.Max.X)/2, (r.Min.Y+r.Max.Y)/2)
		if weights[i] > 0 && (r.Min.X != lay.AxisX || mid != Positive) {
			t.Errorf("positive bar %q at %v colour %v; want from the axis x=%d rightwards in Positive", names[i], r, mid, lay.AxisX)
		}
		if weights[i] < 0 && (r.Max.X != lay.AxisX || mid != Negative) {
			t.Errorf("negative bar %q at %v colour %v; want ending at the axis x=%d in Negative", names[i], r, mid, lay.AxisX)
		}
	}
	// The axis splits the plot in proportion negMax : posMax = 1 : 2.
	left, right := lay.AxisX-lay.Bars[1].Min.X, lay.Bars[0].Max.X-lay.AxisX
	if math.Abs(float64(right)-2*float64(left)) > 2 {
		t.Errorf("axis leaves %d px for negatives and %d for positives; want 1:2", left, right)
	}
	// Labels are drawn left of the bars in dark text: some text pixels in
	// each row's label column.
	for k := range lay.Order {
		r := lay.Bars[k]
		found := false
		for y := r.Min.Y; y < r.Max.Y && !found; y++ {
			for x := 0; x < lay.Bars[1].Min.X-4; x++ {
				if rgbaAt(img, x, y) == textColour {
					found = true
					break
				}
			}
		}
		if !found {
			t.Errorf("no label text beside bar %d", k)
		}
	}
	_, lay = BarChartLayout(names, weights, BarOptions{MaxBars: 2})
	if len(lay.Bars) != 2 {
		t.Errorf("MaxBars 2 drew %d bars", len(lay.Bars))
	}
	mustPanic(t, "3 names for 4 weights", func() { BarChart(names[:3], weights, BarOptions{}) })
	if shorten("abcdefgh", 5) != "abc.." || shorten("abc", 5) != "abc" {
		t.Errorf("shorten: %q %q", shorten("abcdefgh", 5), shorten("abc", 5))
	}
}

func TestFont(t *testing.T) {
	// "T" at scale 2 in Go Regular: ink along its top bar, a stem in the
	// middle, nothing at the far left below the bar.
	w, h := TextWidth("T", 2), TextHeight(2)
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	DrawText(img, 0, 0, "T", textColour, 2)
	inked := func(x, y int) bool { return rgbaAt(img, x, y).A > 0 && rgbaAt(img, x, y).R < 0x80 }
	top := -1
	for y := 0; y < h && top < 0; y++ {
		for x := 0; x < w; x++ {
			if inked(x, y) {
				top = y
				break
			}
		}
	}
	if top < 0 {
		t.Fatal("DrawText drew nothing")
	}
	bar := 0
	for x := 0; x < w; x++ {
		if inked(x, top) || inked(x, top+1) {
			bar++
		}
	}
	if bar < w/2 {
		t.Errorf("T's top bar inks %d of %d columns; want most", bar, w)
	}
	if !inked(w/2, top+h/3) && !inked(w/2-1, top+h/3) {
		t.Error("T has no stem in the middle")
	}
	if inked(0, top+h/2) {
		t.Error("T inks its left edge below the bar")
	}
	if TextWidth("", 3) != 0 || TextWidth("abc", 2) <= TextWidth("ab", 2) || TextWidth("abc", 3) <= TextWidth("abc", 1) {
		t.Errorf("TextWidth not growing with text and scale: %d %d %d", TextWidth("abc", 2), TextWidth("ab", 2), TextWidth("abc", 3))
	}
	if TextHeight(3) <= TextHeight(1) || TextHeight(1) < 12 {
		t.Errorf("TextHeight(1)=%d, (3)=%d; want ≥ 12 and growing", TextHeight(1), TextHeight(3))
	}
}

func TestUpscaleGridTitled(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 2, 1))
	a, b := color.RGBA{10, 20, 30, 255}, color.RGBA{200, 100, 0, 255}
	src.SetRGBA(0, 0, a)
	src.SetRGBA(1, 0, b)
	up := Upscale(src, 3)
	if up.Bounds().Dx() != 6 || up.Bounds().Dy() != 3 {
		t.Fatalf("Upscale bounds %v", up.Bounds())
	}
	block(t, up, 0, 0, 3, a, "upscaled left")
	block(t, up, 1, 0, 3, b, "upscaled right")

	big := image.NewRGBA(image.Rect(0, 0, 4, 4))
	for i := range big.Pix {
		big.Pix[i] = 0 // transparent black
	}
	for y := 0; y < 4; y++ {
		for x := 0; x < 4; x++ {
			big.SetRGBA(x, y, a)
		}
	}
	g := Grid([]image.Image{big, src, big}, 2, 2)
	// 2 columns of 4-wide cells, 2 rows of 4-high cells, 2 px padding.
	if g.Bounds().Dx() != 2*4+3*2 || g.Bounds().Dy() != 2*4+3*2 {
		t.Fatalf("Grid bounds %v; want 14×14", g.Bounds())
	}
	if rgbaAt(g, 0, 0) != (color.RGBA{255, 255, 255, 255}) || rgbaAt(g, 2, 2) != a || rgbaAt(g, 5, 5) != a {
		t.Error("first tile misplaced")
	}
	// src (2×1) is centred in the second 4×4 cell at (8, 2): x 9..10, y 3.
	if rgbaAt(g, 9, 3) != a || rgbaAt(g, 10, 3) != b || rgbaAt(g, 9, 2) != (color.RGBA{255, 255, 255, 255}) {
		t.Error("second tile not centred in its cell")
	}
	if rgbaAt(g, 2, 8) != a {
		t.Error("third tile not on the second row")
	}
	if e := Grid(nil, 3, 1); !e.Bounds().Empty() {
		t.Errorf("Grid(nil) bounds %v; want empty", e.Bounds())
	}
	ti := Titled(big, "Hi", 1)
	if ti.Bounds().Dy() != 4+TextHeight(1)+4 || ti.Bounds().Dx() != TextWidth("Hi", 1)+4 {
		t.Errorf("Titled bounds %v", ti.Bounds())
	}
}

func TestWritePNG(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "heat.png")
	img := Heatmap([]float32{1, -1, 0, 0.3, -0.7, 0.1}, 2, 3, HeatmapOptions{Scale: 2})
	for round := 0; round < 2; round++ { // the second write replaces the first
		if err := WritePNG(path, img); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if got.Bounds() != img.Bounds() {
		t.Fatalf("decoded bounds %v; want %v", got.Bounds(), img.Bounds())
	}
	for y := 0; y < 4; y++ {
		for x := 0; x < 6; x++ {
			if rgbaAt(got, x, y) != rgbaAt(img, x, y) {
				t.Fatalf("pixel (%d, %d) = %v after the round trip; want %v", x, y, rgbaAt(got, x, y), rgbaAt(img, x, y))
			}
		}
	}

	// An image PNG cannot encode (0×0): error, no file, no temp file left.
	bad := filepath.Join(dir, "empty.png")
	if err := WritePNG(bad, image.NewRGBA(image.Rect(0, 0, 0, 0))); err == nil ||
		!strings.Contains(err.Error(), "empty.png") {
		t.Errorf("WritePNG of a 0×0 image: err %v; want an error naming the file", err)
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Errorf("failed write left %s (stat err %v)", bad, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "heat.png" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v; want only heat.png (no temp files)", names)
	}
	if err := WritePNG(filepath.Join(dir, "no", "such", "dir.png"), img); err == nil {
		t.Error("WritePNG into a missing directory: no error")
	}
}
