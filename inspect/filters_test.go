package inspect

import (
	"math"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/report"
	"github.com/glassbox-ml/glassbox/tensor"
)

// grey is the level Filters gives weight w in a layer whose largest |w| is m.
func grey(w, m float64) uint8 { return uint8(math.Round(255 * (0.5 + 0.5*w/m))) }

func setWeights(t *testing.T, conv *nn.Conv2D, w []float32) {
	t.Helper()
	if len(w) != conv.Weight.Value.Len() {
		t.Fatalf("test bug: %d weights for shape %v", len(w), conv.Weight.Value.Shape())
	}
	copy(conv.Weight.Value.Data(), w)
}

func TestFiltersGreyKernels(t *testing.T) {
	conv := nn.NewConv2D(1, 2, 3, tensor.NewRNG(1))
	// A vertical edge detector and a centre-surround blob, largest |w| = 2.
	w := []float32{
		-1, 0, 1,
		-2, 0, 2,
		-1, 0, 1,

		-0.5, -0.5, -0.5,
		-0.5, 2, -0.5,
		-0.5, -0.5, -0.5,
	}
	setWeights(t, conv, w)
	imgs := Filters(conv)
	if len(imgs) != 2 {
		t.Fatalf("%d images for 2 output channels", len(imgs))
	}
	s := FilterScale(conv)
	if s != 32 {
		t.Errorf("scale %d for a 3×3 kernel, want 32 (96 pixels)", s)
	}
	for o, img := range imgs {
		if b := img.Bounds(); b.Dx() != 3*s || b.Dy() != 3*s {
			t.Fatalf("filter %d is %v, want %d×%d", o, b, 3*s, 3*s)
		}
		for y := 0; y < 3; y++ {
			for x := 0; x < 3; x++ {
				want := report.Diverging(float64(w[o*9+y*3+x]) / 2)
				// Every pixel of the weight's block has its colour.
				for _, p := range [][2]int{{0, 0}, {s - 1, s - 1}, {s / 2, 1}} {
					got := rgbaAt(img, x*s+p[0], y*s+p[1])
					if got != want {
						t.Fatalf("filter %d weight (%d,%d)=%v: pixel %v, want %v", o, y, x, w[o*9+y*3+x], got, want)
					}
				}
			}
		}
	}
	// Zero is RdBu's neutral, the largest weight its darkest red, the most
	// negative its darkest blue.
	if g := rgbaAt(imgs[1], s+1, s+1); g != report.Diverging(1) {
		t.Errorf("largest weight drawn %v, want dark red %v", g, report.Diverging(1))
	}
	if g := rgbaAt(imgs[0], 0, s); g != report.Diverging(-1) {
		t.Errorf("most negative weight drawn %v, want dark blue %v", g, report.Diverging(-1))
	}
	if g := rgbaAt(imgs[0], s, 0); g != report.Neutral {
		t.Errorf("zero weight drawn %v, want neutral %v", g, report.Neutral)
	}
}

func TestFiltersRGBAndChannelTiles(t *testing.T) {
	rgb := nn.NewConv2D(3, 1, 2, tensor.NewRNG(1))
	// Channel r, g, b kernels of a 2×2 filter; largest |w| = 4.
	w := []float32{4, 0, 0, -4, 2, 0, 0, 0, -2, 0, 0, 1}
	setWeights(t, rgb, w)
	img := Filters(rgb)[0]
	s := FilterScale(rgb)
	if b := img.Bounds(); b.Dx() != 2*s || b.Dy() != 2*s {
		t.Fatalf("RGB filter is %v, want one %d×%d tile", b, 2*s, 2*s)
	}
	for i := 0; i < 4; i++ {
		got := rgbaAt(img, (i%2)*s+1, (i/2)*s+1)
		want := [3]uint8{grey(float64(w[i]), 4), grey(float64(w[4+i]), 4), grey(float64(w[8+i]), 4)}
		if got.R != want[0] || got.G != want[1] || got.B != want[2] {
			t.Errorf("pixel %d: %v, want RGB %v", i, got, want)
		}
	}

	// Two input channels: one tile per channel, separated by a white gap.
	two := nn.NewConv2D(2, 1, 2, tensor.NewRNG(1))
	w = []float32{1, -1, 0.5, 0, -0.5, 0.25, 1, -1}
	setWeights(t, two, w)
	img = Filters(two)[0]
	s = FilterScale(two)
	if b := img.Bounds(); b.Dx() != 2*2*s+1 || b.Dy() != 2*s {
		t.Fatalf("2-channel filter is %v, want %d×%d", b, 4*s+1, 2*s)
	}
	if g := rgbaAt(img, 2*s, 0); g.R != 255 || g.G != 255 || g.B != 255 {
		t.Errorf("gap between tiles is %v, want white", g)
	}
	for ch := 0; ch < 2; ch++ {
		for i := 0; i < 4; i++ {
			x := ch*(2*s+1) + (i%2)*s + s/2
			y := (i/2)*s + s/2
			if got, want := rgbaAt(img, x, y), report.Diverging(float64(w[ch*4+i])); got != want {
				t.Errorf("channel %d weight %d: %v, want %v", ch, i, got, want)
			}
		}
	}
}

func TestLayerFiltersAndErrors(t *testing.T) {
	rng := tensor.NewRNG(2)
	m := nn.NewSequential(
		nn.NewConv2D(1, 4, 3, rng), nn.NewReLU(), nn.NewMaxPool2D(2, 0, 0),
		nn.NewConv2D(4, 6, 3, rng), nn.NewFlatten(), nn.NewLinear(6, 2, rng))
	convs, err := ConvLayers(m)
	if err != nil || len(convs) != 2 || convs[0] != 0 || convs[1] != 3 {
		t.Fatalf("ConvLayers = %v, %v; want [0 3]", convs, err)
	}
	img, err := LayerFilters(m, 3)
	if err != nil {
		t.Fatal(err)
	}
	// Six filters over four channels: six lines of four tiles under a title.
	s := FilterScale(m.Layers[3].(*nn.Conv2D))
	if b := img.Bounds(); b.Dx() < 4*3*s+3 || b.Dy() < 6*3*s+report.TextHeight(2) {
		t.Errorf("filter grid %v too small for 6 filters of 4 tiles at scale %d", b, s)
	}
	for _, c := range []struct {
		m     nn.Module
		layer int
		want  string
	}{
		{m, 1, "layer 1 (relu1) is a relu, not a Conv2D"},
		{m, 1, "its Conv2D layers are [0 3]"},
		{m, 6, "layer 6 is out of range: the model has 6 layers (use 0..5)"},
		{m, -1, "out of range"},
		{nn.NewLinear(3, 2, rng), 0, `is a "linear" module, not a Sequential`},
		{nn.NewSequential(nn.NewFlatten()), 0, "the model has no Conv2D layer"},
	} {
		_, err := LayerFilters(c.m, c.layer)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("LayerFilters(layer %d) error %v, want %q", c.layer, err, c.want)
		}
	}
}
