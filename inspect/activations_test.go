package inspect

import (
	"context"
	"image/color"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/report"
	"github.com/glassbox-ml/glassbox/tensor"
	"github.com/glassbox-ml/glassbox/zoo"
)

func TestActivationsMatchSummaryAndPredict(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		shape []int
	}{{"lenet", []int{1, 28, 28}}, {"deep", []int{10}}} {
		m, err := zoo.New(c.name, zoo.Config{InputShape: c.shape, Outputs: 10}, tensor.NewRNG(3))
		if err != nil {
			t.Fatal(err)
		}
		x := tensor.RandU(tensor.NewRNG(4), 0, 1, c.shape...).Data()
		acts, err := Activations(ctx, m, x, c.shape)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := model.Summarize(m, c.shape)
		if err != nil {
			t.Fatal(err)
		}
		if len(acts) != len(rows) {
			t.Fatalf("%s: %d activations, summary lists %d layers", c.name, len(acts), len(rows))
		}
		for i, a := range acts {
			r := rows[i]
			if a.Index != i || a.Name != r.Name || a.Type != r.Type || !slices.Equal(a.Shape, r.OutputShape[1:]) || len(a.Values) != tensor.Numel(a.Shape) {
				t.Errorf("%s layer %d: %+v (shape %v, %d values), summary %+v", c.name, i, a.Name, a.Shape, len(a.Values), r)
			}
		}
		// The last layer's output is the model's prediction.
		want, err := nn.Predict(m, tensor.MustFromSlice(x, append([]int{1}, c.shape...)...))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(acts[len(acts)-1].Values, want.Data()) {
			t.Errorf("%s: last activation %v differs from the prediction %v", c.name, acts[len(acts)-1].Values, want.Data())
		}
		img, err := ActivationMaps(x, c.shape, acts, MapOptions{})
		if err != nil {
			t.Fatal(err)
		}
		all, err := ActivationMaps(x, c.shape, acts, MapOptions{All: true})
		if err != nil {
			t.Fatal(err)
		}
		if img.Bounds().Dy() < 200 || all.Bounds().Dy() <= img.Bounds().Dy() {
			t.Errorf("%s: maps of %v, all layers %v: drawing every layer should be taller", c.name, img.Bounds(), all.Bounds())
		}
	}
}

func TestActivationsErrors(t *testing.T) {
	ctx := context.Background()
	rng := tensor.NewRNG(1)
	m := nn.NewSequential(nn.NewConv2D(1, 2, 3, rng), nn.NewFlatten())
	for _, c := range []struct {
		m     nn.Module
		x     []float32
		shape []int
		want  string
	}{
		{m, make([]float32, 10), []int{1, 4, 4}, "got 10 input values for 1 example(s) of shape [1 4 4]; want 16"},
		{m, make([]float32, 32), []int{2, 4, 4}, "input has 2 channels, layer expects 1"},
		{m, nil, nil, "input shape is empty"},
		{nn.NewReLU(), make([]float32, 4), []int{4}, "not a Sequential"},
		{nn.NewSequential(), make([]float32, 4), []int{4}, "no layers"},
	} {
		_, err := Activations(ctx, c.m, c.x, c.shape)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Activations(%v) error %v, want %q", c.shape, err, c.want)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Activations(cancelled, m, make([]float32, 16), []int{1, 4, 4}); err == nil {
		t.Error("no error on a cancelled context")
	}
}

func TestValuesPanelColours(t *testing.T) {
	// Two channels of 2×2; the layer's largest |value| is 4, so 4 is the
	// darkest red and −4 the darkest blue in either channel.
	v := []float32{4, 0, -2, 1, -4, 2, 0, 0}
	img := valuesPanel(v, []int{2, 2, 2}, 32)
	s := mapSide / 2
	pad := 2
	for ch := 0; ch < 2; ch++ {
		for i := 0; i < 4; i++ {
			x := pad + ch*(2*s+pad) + (i%2)*s + s/2
			y := pad + (i/2)*s + s/2
			if got, want := rgbaAt(img, x, y), report.Diverging(float64(v[ch*4+i])/4); got != want {
				t.Errorf("channel %d value %v: colour %v, want %v", ch, v[ch*4+i], got, want)
			}
		}
	}
	// Five units: a strip of five 12-pixel bars around a zero line in the
	// middle (one value is negative); the largest unit reaches the top in
	// the darkest red, −1 goes half-way down in blue, 0 draws nothing.
	img = valuesPanel([]float32{1, -1, 0.5, 0, 2}, []int{5}, 32)
	if b := img.Bounds(); b.Dx() != 5*12 || b.Dy() != barsHeight+1 {
		t.Fatalf("unit strip %v, want %d×%d", b, 5*12, barsHeight+1)
	}
	zero := barsHeight / 2
	if got := rgbaAt(img, 4*12+5, 0); got != report.Diverging(1) {
		t.Errorf("unit 4 (the largest) at the top: %v, want %v", got, report.Diverging(1))
	}
	if got := rgbaAt(img, 1*12+5, zero+zero/2-1); got != report.Diverging(-0.5) {
		t.Errorf("unit 1 (−1) a quarter of the strip below zero: %v, want %v", got, report.Diverging(-0.5))
	}
	if got := rgbaAt(img, 1*12+5, zero+zero/2+3); got != (color.RGBA{255, 255, 255, 255}) {
		t.Errorf("unit 1 (−1) reaches past half the lower half: %v", got)
	}
	if got := rgbaAt(img, 3*12+5, zero-3); got != (color.RGBA{255, 255, 255, 255}) {
		t.Errorf("unit 3 (0) draws a bar: %v", got)
	}
	if math.Abs(maxAbs(v)-4) > 0 {
		t.Errorf("maxAbs %v", maxAbs(v))
	}
}
