package explain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
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
		e, err := ExplainImage(context.Background(), model, pix, c, h, w, ImageOptions{LIMEOptions: LIMEOptions{Seed: 1, Labels: []int{1}}, Hide: hide, HideValue: 0})
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
	_, err := ExplainImage(ctx, model, big, 1, 32, 32, ImageOptions{LIMEOptions: LIMEOptions{Samples: 50}})
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
	if _, err := ExplainImage(ctx, nan, pix, 1, 28, 28, ImageOptions{LIMEOptions: LIMEOptions{Samples: 10}}); err == nil || !strings.Contains(err.Error(), "NaN") {
		t.Errorf("NaN output: %v", err)
	}
}

func TestImagePerturbationsAreExactAndBalanced(t *testing.T) {
	// Small segments (short runs: painted pixel by pixel) and large ones
	// (long runs: copied run by run) both give images whose kept pixels are
	// the original's bits and whose hidden ones are the hide value, each
	// segment hidden in exactly half of the perturbations.
	for _, tc := range []struct{ h, w, cellH, cellW int }{{16, 20, 4, 5}, {64, 64, 16, 32}} {
		const c = 3
		h, w := tc.h, tc.w
		pix := texturedImage(c, h, w, 5)
		seg, err := segment.Grid(h, w, tc.cellH, tc.cellW)
		if err != nil {
			t.Fatal(err)
		}
		if runs := newPainter(pix, pix, seg.Labels).runs != nil; runs != (h == 64) {
			t.Fatalf("%d×%d: painting by runs is %v", h, w, runs)
		}
		var seen [][]float32
		spy := func(_ context.Context, x []float32, n int) ([]float32, error) {
			for i := range n {
				seen = append(seen, append([]float32(nil), x[i*c*h*w:(i+1)*c*h*w]...))
			}
			return make([]float32, n), nil
		}
		const samples = 101
		_, err = ExplainImage(context.Background(), spy, pix, c, h, w, ImageOptions{LIMEOptions: LIMEOptions{Seed: 1, Samples: samples, BatchSize: 7}, Segmentation: seg, Hide: HideConstant, HideValue: -1, Mode: Regression})
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) != samples {
			t.Fatalf("model saw %d images, want %d", len(seen), samples)
		}
		hidden := make([]int, seg.N)
		for i, img := range seen {
			state := make([]int, seg.N) // 0 unknown, 1 kept, 2 hidden
			for ch := range c {
				for p, s := range seg.Labels {
					v := img[ch*h*w+p]
					var st int
					switch {
					case math.Float32bits(v) == math.Float32bits(pix[ch*h*w+p]):
						st = 1
					case v == -1:
						st = 2
					default:
						t.Fatalf("%d×%d image %d pixel %d: %v is neither the original %v nor the hide value", h, w, i, p, v, pix[ch*h*w+p])
					}
					if state[s] != 0 && state[s] != st {
						t.Fatalf("%d×%d image %d: segment %d is partly hidden", h, w, i, s)
					}
					state[s] = st
				}
			}
			for s, st := range state {
				if i == 0 && st != 1 {
					t.Fatalf("first image hides segment %d; it must be the original", s)
				}
				if i > 0 && st == 2 {
					hidden[s]++
				}
			}
		}
		for s, cnt := range hidden {
			if cnt != 50 {
				t.Errorf("%d×%d: segment %d hidden in %d of 100 perturbations, want exactly 50", h, w, s, cnt)
			}
		}
	}
}

func TestImageAndTextDeterministicAcrossGoroutines(t *testing.T) {
	const c, h, w = 1, 28, 28
	pix := texturedImage(c, h, w, 6)
	model := regionModel(c, h, w, 5, 15, 5, 15)
	img := func(seed uint64) string {
		e, err := ExplainImage(context.Background(), model, pix, c, h, w, ImageOptions{LIMEOptions: LIMEOptions{Seed: seed, Samples: 300}})
		if err != nil {
			t.Error(err)
			return ""
		}
		e.Timing = Timing{}
		b, _ := json.Marshal(e)
		return string(b)
	}
	tm := wordModel([]string{"good"}, []string{"bad"})
	txt := func(seed uint64) string {
		e, err := ExplainText(context.Background(), tm, "a good day and a bad night, good food", TextOptions{LIMEOptions: LIMEOptions{Seed: seed, Samples: 400}})
		if err != nil {
			t.Error(err)
			return ""
		}
		e.Timing = Timing{}
		b, _ := json.Marshal(e)
		return string(b)
	}
	for name, run := range map[string]func(uint64) string{"image": img, "text": txt} {
		want := []string{run(0), run(1)}
		if want[0] == want[1] {
			t.Errorf("%s: seeds 0 and 1 gave the same explanation", name)
		}
		got := make([]string, 8)
		var wg sync.WaitGroup
		for g := range got {
			wg.Go(func() { got[g] = run(uint64(g % 2)) })
		}
		wg.Wait()
		for g := range got {
			if got[g] != want[g%2] {
				t.Errorf("%s: goroutine %d (seed %d) differs from the sequential run", name, g, g%2)
			}
		}
	}
}

func TestImageAndTextAdaptiveBudget(t *testing.T) {
	// Image: a flat picture in 4 segments and a linear model weighing them
	// 3, 2, 1, 1: the top 2 are separated at once, the top 3 are an exact
	// tie that runs to the cap. The larger budget's images start with the
	// smaller budget's.
	const h, w = 16, 16
	pix := make([]float32, h*w)
	for i := range pix {
		pix[i] = 0.5
	}
	seg, err := segment.Grid(h, w, 8, 8)
	if err != nil {
		t.Fatal(err)
	}
	var seen [][]float32
	model := func(_ context.Context, x []float32, n int) ([]float32, error) {
		out := make([]float32, n)
		for i := range n {
			img := x[i*h*w : (i+1)*h*w]
			seen = append(seen, slices.Clone(img))
			for p, s := range seg.Labels {
				out[i] += []float32{3, 2, 1, 1}[s] * img[p] / 64
			}
		}
		return out, nil
	}
	image := func(opt ImageOptions) (*ImageExplanation, [][]float32) {
		t.Helper()
		seen = nil
		opt.Segmentation, opt.Hide, opt.Mode, opt.Ridge, opt.Seed = seg, HideConstant, Regression, 1e-9, 2
		e, err := ExplainImage(context.Background(), model, pix, 1, h, w, opt)
		if err != nil {
			t.Fatal(err)
		}
		return e, seen
	}
	if e, _ := image(ImageOptions{LIMEOptions: LIMEOptions{StableTop: 2}}); e.Samples != 1000 || e.MaxSamples != 16000 || !e.Quality.Stable {
		t.Errorf("image, top 2: %d samples (cap %d), stable %v; want 1000 of 16000, stable", e.Samples, e.MaxSamples, e.Quality.Stable)
	}
	e, big := image(ImageOptions{LIMEOptions: LIMEOptions{StableTop: 3, MaxSamples: 4000}})
	if e.Samples != 4000 || e.Quality.Stable || len(big) != 4000 {
		t.Errorf("image, tied top 3: %d samples (%d seen), stable %v; want the cap 4000, unstable", e.Samples, len(big), e.Quality.Stable)
	}
	if _, small := image(ImageOptions{LIMEOptions: LIMEOptions{StableTop: 3, Samples: 1000}}); !slices.EqualFunc(big[:1000], small, slices.Equal) {
		t.Error("image: the adaptive budget's first 1000 images differ from a fixed budget of 1000")
	}
	// Text: "c" weighs 3, "a" and "b" 1 each, "d" nothing.
	tm := func(_ context.Context, docs []string) ([]float32, error) {
		out := make([]float32, len(docs))
		for i, doc := range docs {
			for _, word := range strings.Fields(doc) {
				out[i] += map[string]float32{"a": 1, "b": 1, "c": 3}[word]
			}
		}
		return out, nil
	}
	for _, tc := range []struct{ top, samples int }{{1, 5000}, {2, 20000}} {
		e, err := ExplainText(context.Background(), tm, "c a b d", TextOptions{LIMEOptions: LIMEOptions{Seed: 1, Ridge: 1e-9, StableTop: tc.top, MaxSamples: 20000}, Mode: Regression})
		if err != nil {
			t.Fatal(err)
		}
		if e.Samples != tc.samples || e.Quality.Stable != (tc.top == 1) {
			t.Errorf("text, top %d: %d samples, stable %v; want %d, stable %v", tc.top, e.Samples, e.Quality.Stable, tc.samples, tc.top == 1)
		}
	}
}
