package explain

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// gradMaskModel is f(x) = Σ m_i x_i over a C×H×W image (k=1), plus a
// second output −f.
func gradMaskModel(m []float64) Func {
	d := len(m)
	return func(_ context.Context, x []float32, n int) ([]float32, error) {
		out := make([]float32, 2*n)
		for i := range n {
			var s float64
			for j, v := range x[i*d : (i+1)*d] {
				s += m[j] * float64(v)
			}
			out[2*i], out[2*i+1] = float32(s), float32(-s)
		}
		return out, nil
	}
}

// gradRegionModel reads only rows y0..y1, columns x0..x1 of channel 0 of
// an h×w image: two-class probabilities of sigmoid(4·(mean of the region
// − 0.5)).
func gradRegionModel(h, w, y0, y1, x0, x1 int) Func {
	d := h * w
	return func(_ context.Context, x []float32, n int) ([]float32, error) {
		out := make([]float32, 2*n)
		for i := range n {
			img := x[i*d : (i+1)*d]
			var s float64
			for y := y0; y < y1; y++ {
				for xx := x0; xx < x1; xx++ {
					s += float64(img[y*w+xx])
				}
			}
			s /= float64((y1 - y0) * (x1 - x0))
			p := 1 / (1 + math.Exp(-4*(s-0.5)))
			out[2*i], out[2*i+1] = float32(1-p), float32(p)
		}
		return out, nil
	}
}

func TestGradWindowStarts(t *testing.T) {
	for _, c := range []struct {
		n, win, stride int
		want           []int
	}{
		{4, 2, 2, []int{0, 2}},
		{5, 2, 2, []int{0, 2, 3}},
		{7, 3, 3, []int{0, 3, 4}},
		{3, 3, 1, []int{0}},
		{5, 2, 1, []int{0, 1, 2, 3}},
		{28, 4, 2, []int{0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24}},
	} {
		if got := gradWindowStarts(c.n, c.win, c.stride); !reflect.DeepEqual(got, c.want) {
			t.Fatalf("starts(%d, %d, %d) = %v, want %v", c.n, c.win, c.stride, got, c.want)
		}
	}
}

func TestOcclusionLinearKnownAnswers(t *testing.T) {
	ctx := context.Background()
	const c, h, w = 2, 4, 5
	r := rand.New(rand.NewPCG(1, 2))
	m := make([]float64, c*h*w)
	x := make([]float32, c*h*w)
	for i := range m {
		m[i] = r.NormFloat64()
		x[i] = float32(r.Float64())
	}
	model := gradMaskModel(m)
	const base = 0.25
	// Window 1: each pixel's drop is Σ_channels m·(x − baseline).
	e, err := Occlusion(ctx, model, x, c, h, w, 0, OcclusionOptions{Window: 1, Stride: 1, Baseline: base})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float64, h*w)
	for p := range h * w {
		for ch := range c {
			want[p] += m[ch*h*w+p] * (float64(x[ch*h*w+p]) - base)
		}
	}
	gradClose(t, "window 1", e.Map, want, 1e-4, 1e-5)
	if e.Patches != h*w || e.Timing.ModelRows != h*w+1 {
		t.Fatalf("patches %d rows %d", e.Patches, e.Timing.ModelRows)
	}
	// Window 2, stride 1: brute force over every 2×2 patch.
	e2, err := Occlusion(ctx, model, x, c, h, w, 1, OcclusionOptions{Window: 2, Stride: 1, Baseline: base})
	if err != nil {
		t.Fatal(err)
	}
	sum := make([]float64, h*w)
	cnt := make([]float64, h*w)
	for y0 := 0; y0+2 <= h; y0++ {
		for x0 := 0; x0+2 <= w; x0++ {
			var drop float64
			for y := y0; y < y0+2; y++ {
				for xx := x0; xx < x0+2; xx++ {
					drop -= want[y*w+xx] // label 1 is −f
				}
			}
			for y := y0; y < y0+2; y++ {
				for xx := x0; xx < x0+2; xx++ {
					sum[y*w+xx] += drop
					cnt[y*w+xx]++
				}
			}
		}
	}
	for i := range sum {
		sum[i] /= cnt[i]
	}
	gradClose(t, "window 2 stride 1", e2.Map, sum, 1e-4, 1e-5)
	if e2.Patches != 3*4 || e2.Output != -float64(e.Output) || e2.Window != 2 || e2.Stride != 1 || e2.Baseline != base {
		t.Fatalf("fields: %+v", e2)
	}
	// JSON keeps everything needed to redraw and reproduce the map.
	js, err := json.Marshal(e2)
	if err != nil {
		t.Fatal(err)
	}
	var back OcclusionExplanation
	if err := json.Unmarshal(js, &back); err != nil || !reflect.DeepEqual(&back, e2) {
		t.Fatalf("occlusion JSON round trip: %v\n%s", err, js)
	}
	for _, key := range []string{`"method":"occlusion"`, `"window":2`, `"stride":1`, `"baseline":0.25`, `"patches":12`, `"map"`} {
		if !strings.Contains(string(js), key) {
			t.Fatalf("occlusion JSON lacks %s: %s", key, js)
		}
	}
	// Batching is invisible.
	e3, err := Occlusion(ctx, model, x, c, h, w, 1, OcclusionOptions{Window: 2, Stride: 1, Baseline: base, BatchSize: 5})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(e3.Map, e2.Map) || e3.Timing.ModelCalls != 3 {
		t.Fatalf("batch size 5: calls %d, maps differ: %v", e3.Timing.ModelCalls, !reflect.DeepEqual(e3.Map, e2.Map))
	}
	// Defaults on 28×28: window 4, stride 2.
	big := make([]float32, 28*28)
	d, err := Occlusion(ctx, gradMaskModel(make([]float64, 28*28)), big, 1, 28, 28, 0, OcclusionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Window != 4 || d.Stride != 2 || d.Patches != 13*13 || len(d.Warnings) == 0 {
		t.Fatalf("defaults: window %d stride %d patches %d warnings %v", d.Window, d.Stride, d.Patches, d.Warnings)
	}
}

func TestOcclusionPlantedRegion(t *testing.T) {
	ctx := context.Background()
	const h, w = 24, 24
	const y0, y1, x0, x1 = 4, 10, 14, 20
	r := rand.New(rand.NewPCG(3, 4))
	img := make([]float32, h*w)
	for i := range img {
		img[i] = float32(0.2 + 0.2*r.Float64())
	}
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			img[y*w+x] = float32(0.7 + 0.3*r.Float64())
		}
	}
	model := gradRegionModel(h, w, y0, y1, x0, x1)
	e, err := Occlusion(ctx, model, img, 1, h, w, 1, OcclusionOptions{Window: 3, Stride: 1})
	if err != nil {
		t.Fatal(err)
	}
	var in, total float64
	for y := range h {
		for x := range w {
			v := math.Abs(float64(e.Map[y*w+x]))
			total += v
			if y >= y0 && y < y1 && x >= x0 && x < x1 {
				in += v
			}
		}
	}
	// Patches straddling the border give some mass to a 2-pixel ring
	// (64 pixels around the 36 of the region), less per pixel.
	ringMean, inMean := (total-in)/64, in/36
	if in/total < 0.65 || inMean < 3*ringMean {
		t.Fatalf("occlusion mass not concentrated: %.2f in the region the model reads, %.3g per pixel there vs %.3g in the ring around it", in/total, inMean, ringMean)
	}
	for y := range h {
		for x := range w {
			if (y < y0-2 || y >= y1+2 || x < x0-2 || x >= x1+2) && e.Map[y*w+x] != 0 {
				t.Fatalf("pixel (%d,%d) is far from the region yet gets %v", y, x, e.Map[y*w+x])
			}
		}
	}
	// The map scores as faithful: deleting its top pixels first hurts the
	// label sooner than deleting them last.
	good, err := DeletionInsertion(ctx, model, img, 1, h, w, e.Map, 1, 20)
	if err != nil {
		t.Fatal(err)
	}
	rev := make([]float32, len(e.Map))
	for i, v := range e.Map {
		rev[i] = -v
	}
	bad, _ := DeletionInsertion(ctx, model, img, 1, h, w, rev, 1, 20)
	if good.DeletionAUC >= bad.DeletionAUC || good.InsertionAUC <= bad.InsertionAUC {
		t.Fatalf("occlusion map scores no better than its reverse: deletion %.3f vs %.3f, insertion %.3f vs %.3f",
			good.DeletionAUC, bad.DeletionAUC, good.InsertionAUC, bad.InsertionAUC)
	}
}

func TestOcclusionErrors(t *testing.T) {
	ctx := context.Background()
	img := make([]float32, 2*6*6)
	model := gradMaskModel(make([]float64, 2*6*6))
	boom := errors.New("model down")
	failing := Func(func(context.Context, []float32, int) ([]float32, error) { return nil, boom })
	ragged := Func(func(_ context.Context, _ []float32, n int) ([]float32, error) { return make([]float32, n+1), nil })
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	cases := []struct {
		ctx   context.Context
		model Func
		pix   []float32
		c     int
		label int
		opt   OcclusionOptions
		want  string
	}{
		{ctx, nil, img, 2, 0, OcclusionOptions{}, "model is nil"},
		{ctx, model, img[:10], 2, 0, OcclusionOptions{}, "image has 10 values, want C×H×W = 2×6×6 = 72"},
		{ctx, model, img, 0, 0, OcclusionOptions{}, "all must be positive"},
		{ctx, model, append(make([]float32, 71), float32(math.NaN())), 2, 0, OcclusionOptions{}, "NaN"},
		{ctx, model, img, 2, -1, OcclusionOptions{}, "label -1 is negative"},
		{ctx, model, img, 2, 2, OcclusionOptions{}, "label 2 out of range: the model returns 2 outputs"},
		{ctx, model, img, 2, 0, OcclusionOptions{Window: 7}, "Window is 7"},
		{ctx, model, img, 2, 0, OcclusionOptions{Window: -1}, "Window is -1"},
		{ctx, model, img, 2, 0, OcclusionOptions{Window: 2, Stride: 3}, "Stride is 3 with Window 2"},
		{ctx, model, img, 2, 0, OcclusionOptions{BatchSize: -4}, "BatchSize is -4"},
		{ctx, failing, img, 2, 0, OcclusionOptions{}, "model down"},
		{ctx, ragged, img, 2, 0, OcclusionOptions{}, "returned"},
		{cancelled, model, img, 2, 0, OcclusionOptions{}, "canceled"},
	}
	for _, c := range cases {
		_, err := Occlusion(c.ctx, c.model, c.pix, c.c, 6, 6, c.label, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("case %q: error %v", c.want, err)
		}
	}
	if _, err := Occlusion(ctx, failing, img, 2, 6, 6, 0, OcclusionOptions{}); !errors.Is(err, boom) {
		t.Fatalf("model error not wrapped: %v", err)
	}
}
