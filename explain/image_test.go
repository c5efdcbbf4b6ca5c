package explain

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/explain/segment"
)

// texturedImage is a c×h×w image of smooth blobs plus noise in [0.2, 1].
func texturedImage(c, h, w int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 3))
	pix := make([]float32, c*h*w)
	for ch := range c {
		fx, fy := 1+r.Float64()*3, 1+r.Float64()*3
		for y := range h {
			for x := range w {
				v := 0.6 + 0.25*math.Sin(fx*float64(x)/float64(w)*2*math.Pi)*math.Cos(fy*float64(y)/float64(h)*2*math.Pi)
				v += 0.1 * (r.Float64() - 0.5)
				pix[ch*h*w+y*w+x] = float32(min(max(v, 0.2), 1))
			}
		}
	}
	return pix
}

// regionModel is a two-class image classifier that looks only at the
// rectangle [y0,y1)×[x0,x1) of channel 0: class 1 when it is bright.
func regionModel(c, h, w, y0, y1, x0, x1 int) Func {
	return func(_ context.Context, x []float32, n int) ([]float32, error) {
		dim := c * h * w
		if len(x) != n*dim {
			return nil, fmt.Errorf("region model takes %d×%d×%d images, got %d values for %d", c, h, w, len(x), n)
		}
		out := make([]float32, 2*n)
		for i := range n {
			s := 0.0
			for y := y0; y < y1; y++ {
				for xx := x0; xx < x1; xx++ {
					s += float64(x[i*dim+y*w+xx])
				}
			}
			s /= float64((y1 - y0) * (x1 - x0))
			p := 1 / (1 + math.Exp(-10*(s-0.4)))
			out[2*i], out[2*i+1] = float32(1-p), float32(p)
		}
		return out, nil
	}
}

func TestImagePlantedRegion(t *testing.T) {
	const c, h, w = 1, 28, 28
	pix := texturedImage(c, h, w, 1)
	y0, y1, x0, x1 := 16, 26, 3, 13
	model := regionModel(c, h, w, y0, y1, x0, x1)
	for _, hide := range []Hide{HideConstant, HideBlur} {
		e, err := ExplainImage(context.Background(), model, pix, c, h, w, ImageOptions{Seed: 1, Labels: []int{1}, Hide: hide, HideValue: 0})
		if err != nil {
			t.Fatal(err)
		}
		if e.Segmentation.N < 10 {
			t.Fatalf("segment.Auto found only %d segments on 28×28", e.Segmentation.N)
		}
		sizes := e.Segmentation.Sizes()
		inside := make([]int, e.Segmentation.N)
		for p, s := range e.Segmentation.Labels {
			if y, x := p/w, p%w; y >= y0 && y < y1 && x >= x0 && x < x1 {
				inside[s]++
			}
		}
		touching := 0
		for _, v := range inside {
			if v > 0 {
				touching++
			}
		}
		top := e.Top(3)
		for _, fw := range top {
			frac := float64(inside[fw.Feature]) / float64(sizes[fw.Feature])
			// Painting with 0 darkens: every region segment lowers class 1,
			// most for segments mostly inside. A blur can brighten or
			// darken, by an amount set by the local texture, so there a top
			// segment must only overlap the region.
			bad := frac == 0
			if hide == HideConstant {
				bad = frac < 0.5 || fw.Weight <= 0
			}
			if bad {
				t.Errorf("%s: top segment %d (weight %.4f) has only %.0f%% of its pixels in the region", hide, fw.Feature, fw.Weight, 100*frac)
			}
		}
		// Segments that never touch the region carry (almost) no weight.
		maxOut, minTop := 0.0, math.Abs(top[2].Weight)
		for _, fw := range e.Labels[0].Weights {
			if inside[fw.Feature] == 0 {
				maxOut = math.Max(maxOut, math.Abs(fw.Weight))
			}
		}
		if maxOut > 0.2*minTop {
			t.Errorf("%s: a segment outside the region has |weight| %.4f vs top-3 %.4f", hide, maxOut, minTop)
		}
		if e.Labels[0].Score < 0.5 {
			t.Errorf("%s: surrogate R² %v on a nearly additive model", hide, e.Labels[0].Score)
		}
		attr := e.PixelAttribution(1)
		if len(attr) != h*w || attr[(y0+5)*w+x0+5] == 0 && attr[(y0+2)*w+x0+2] == 0 {
			t.Errorf("%s: pixel attribution missing in the region", hide)
		}
		t.Logf("%s: %d segments (%d touch the region), score %.3f, timing %+v", hide, e.Segmentation.N, touching, e.Labels[0].Score, e.Timing)
	}
}

func TestImageErrors(t *testing.T) {
	ctx := context.Background()
	pix := texturedImage(1, 28, 28, 2)
	model := regionModel(1, 28, 28, 0, 5, 0, 5)
	// The model takes 28×28; a 32×32 image is refused by the model and
	// the error says what size it was given.
	big := texturedImage(1, 32, 32, 2)
	_, err := ExplainImage(ctx, model, big, 1, 32, 32, ImageOptions{Samples: 50})
	if err == nil || !strings.Contains(err.Error(), "1×32×32") || !strings.Contains(err.Error(), "region model takes") {
		t.Errorf("wrong image size: %v", err)
	}
	if _, err := ExplainImage(ctx, model, pix[:100], 1, 28, 28, ImageOptions{}); err == nil || !strings.Contains(err.Error(), "784") {
		t.Errorf("short pixels: %v", err)
	}
	one := func([]float32, int, int, int) (*segment.Segmentation, error) {
		return &segment.Segmentation{H: 28, W: 28, N: 1, Labels: make([]int, 784)}, nil
	}
	if _, err := ExplainImage(ctx, model, pix, 1, 28, 28, ImageOptions{Segmenter: one}); err == nil || !strings.Contains(err.Error(), "at least 2") {
		t.Errorf("one segment: %v", err)
	}
	boom := errors.New("segmenter broke")
	bad := func([]float32, int, int, int) (*segment.Segmentation, error) { return nil, boom }
	if _, err := ExplainImage(ctx, model, pix, 1, 28, 28, ImageOptions{Segmenter: bad}); !errors.Is(err, boom) {
		t.Errorf("segmenter error not surfaced: %v", err)
	}
	if _, err := ExplainImage(ctx, model, pix, 1, 28, 28, ImageOptions{Hide: "paint"}); err == nil || !strings.Contains(err.Error(), "Hide") {
		t.Errorf("bad hide: %v", err)
	}
	nan := func(_ context.Context, x []float32, n int) ([]float32, error) {
		out := make([]float32, n)
		out[n-1] = float32(math.NaN())
		return out, nil
	}
	if _, err := ExplainImage(ctx, nan, pix, 1, 28, 28, ImageOptions{Samples: 10}); err == nil || !strings.Contains(err.Error(), "NaN") {
		t.Errorf("NaN output: %v", err)
	}
}
