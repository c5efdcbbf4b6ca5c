package adapt

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

func setData(t *tensor.Tensor, v ...float32) {
	d := t.Data()
	if len(d) != len(v) {
		panic("setData: size mismatch")
	}
	copy(d, v)
}

func TestCAMKnownAnswerOneConv(t *testing.T) {
	// x: 1×4×4; conv 2 filters 2×2 (no padding) → A: 2×3×3; flatten →
	// linear(18 → 2). Everything is computed again here by hand.
	rng := tensor.NewRNG(1)
	conv := nn.NewConv2D(1, 2, 2, rng)
	lin := nn.NewLinear(18, 2, rng)
	m := nn.NewSequential(conv, nn.NewFlatten(), lin)
	kern := []float32{1, -1, 0.5, 2, -1, 0, 1, 1}
	bias := []float32{0.1, -0.2}
	setData(conv.Weight.Value, kern...)
	setData(conv.Bias.Value, bias...)
	lw := make([]float32, 18*2) // [in, out]
	for i := range 18 {
		lw[i*2] = float32(i%5) - 2
		lw[i*2+1] = float32((i*7)%4) - 1.5
	}
	setData(lin.Weight.Value, lw...)
	x := []float32{1, 2, 0, -1, 0.5, 1, 3, 0, -2, 1, 1, 2, 0, 0, 1, -1}

	const label = 1
	// A[c,i,j] = b_c + Σ_{di,dj} K[c,di,dj]·x[i+di, j+dj].
	var wantAct [18]float64
	for c := range 2 {
		for i := range 3 {
			for j := range 3 {
				s := float64(bias[c])
				for di := range 2 {
					for dj := range 2 {
						s += float64(kern[c*4+di*2+dj]) * float64(x[(i+di)*4+j+dj])
					}
				}
				wantAct[c*9+i*3+j] = s
			}
		}
	}
	act, grad, c, h, w, out, err := CAM(m, 0, []int{1, 4, 4})(context.Background(), x, label)
	if err != nil {
		t.Fatal(err)
	}
	if c != 2 || h != 3 || w != 3 || len(out) != 2 {
		t.Fatalf("layer %d×%d×%d, %d outputs", c, h, w, len(out))
	}
	for i := range 18 {
		if math.Abs(float64(act[i])-wantAct[i]) > 1e-5 {
			t.Fatalf("activation %d: %v, want %v", i, act[i], wantAct[i])
		}
		// ∂y_label/∂A = the linear layer's weight column.
		if grad[i] != lw[i*2+label] {
			t.Fatalf("gradient %d: %v, want %v", i, grad[i], lw[i*2+label])
		}
	}
	var y float64
	for i := range 18 {
		y += wantAct[i] * float64(lw[i*2+label])
	}
	y += float64(lin.Bias.Value.Data()[label])
	if math.Abs(float64(out[label])-y) > 1e-4 {
		t.Fatalf("output %v, want %v", out[label], y)
	}
	// Grad-CAM on it: α_c = mean of the weight column over channel c.
	e, err := explain.GradCAM(context.Background(), CAM(m, 0, []int{1, 4, 4}), x, label, 3, 3)
	if err != nil {
		t.Fatal(err)
	}
	var alpha [2]float64
	for c := range 2 {
		for p := range 9 {
			alpha[c] += float64(lw[(c*9+p)*2+label]) / 9
		}
	}
	peak := 0.0
	raw := make([]float64, 9)
	for p := range 9 {
		raw[p] = math.Max(0, alpha[0]*wantAct[p]+alpha[1]*wantAct[9+p])
		peak = math.Max(peak, raw[p])
	}
	for c := range 2 {
		if math.Abs(e.Weights[c]-alpha[c]) > 1e-9 {
			t.Fatalf("α = %v, want %v", e.Weights, alpha)
		}
	}
	if peak == 0 {
		t.Fatal("test network gives an empty map; change its weights")
	}
	for p := range 9 {
		// Same size: the map is the raw map over its peak.
		if math.Abs(float64(e.Raw[p])-raw[p]) > 1e-5 || math.Abs(float64(e.Map[p])-raw[p]/peak) > 1e-5 {
			t.Fatalf("pixel %d: raw %v map %v, want %v and %v", p, e.Raw[p], e.Map[p], raw[p], raw[p]/peak)
		}
	}
}

func TestCAMGradientMatchesFiniteDifferences(t *testing.T) {
	m := smallCNN(3, tanh)
	x := randInput(4, 64)
	for _, layer := range []int{0, 1, 2} {
		act, grad, c, h, w, _, err := CAM(m, layer, []int{1, 8, 8})(context.Background(), x, 2)
		if err != nil {
			t.Fatal(err)
		}
		rest := &nn.Sequential{Layers: m.Layers[layer+1:]}
		fd := finiteDiff(t, Func(rest, []int{c, h, w}), act, 2, 1e-2)
		for i, v := range fd {
			if got := float64(grad[i]); math.Abs(got-v) > 2e-3+2e-2*math.Abs(v) {
				t.Fatalf("layer %d activation %d: gradient %v, finite difference %v", layer, i, got, v)
			}
		}
	}
}

// barsImage is 1×16×16 faint noise with a bright horizontal bar in the
// top-left quadrant and a bright vertical bar in the bottom-right one.
func barsImage(seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 3))
	img := make([]float32, 16*16)
	for i := range img {
		img[i] = float32(0.1 * r.Float64())
	}
	for x := 2; x < 7; x++ {
		img[4*16+x] = 1
	}
	for y := 9; y < 14; y++ {
		img[y*16+12] = 1
	}
	return img
}

// barsModel detects horizontal lines in conv channel 0 and vertical ones
// in channel 1, then (ReLU, global average pool) class 0 reads only the
// horizontal channel and class 1 only the vertical one.
func barsModel() *nn.Sequential {
	rng := tensor.NewRNG(1)
	conv := nn.NewConv2D(1, 2, 3, rng, nn.ConvPadding(1))
	setData(conv.Weight.Value,
		-1, -1, -1, 2, 2, 2, -1, -1, -1, // horizontal
		-1, 2, -1, -1, 2, -1, -1, 2, -1) // vertical
	setData(conv.Bias.Value, -1.5, -1.5) // silences noise and the other bar's ends
	lin := nn.NewLinear(2, 2, rng)
	setData(lin.Weight.Value, 10, 0, 0, 10)
	setData(lin.Bias.Value, 0, 0)
	return nn.NewSequential(conv, nn.NewReLU(), nn.NewGlobalAvgPool2D(), nn.NewFlatten(), lin)
}

// quadrantShare is the share of |map| in rows y0..y0+8, columns x0..x0+8.
func quadrantShare(m []float32, y0, x0 int) float64 {
	var in, total float64
	for y := range 16 {
		for x := range 16 {
			v := math.Abs(float64(m[y*16+x]))
			total += v
			if y >= y0 && y < y0+8 && x >= x0 && x < x0+8 {
				in += v
			}
		}
	}
	return in / total
}

func TestGradCAMAndOcclusionFindThePlantedSignal(t *testing.T) {
	ctx := context.Background()
	m := barsModel()
	img := barsImage(1)
	layer, err := LastConv(m)
	if err != nil || layer != 0 {
		t.Fatalf("LastConv = %d, %v", layer, err)
	}
	f := Func(m, []int{1, 16, 16})
	for _, c := range []struct{ label, y0, x0 int }{{0, 0, 0}, {1, 8, 8}} {
		for _, l := range []int{layer, layer + 1} { // the conv and its ReLU
			e, err := explain.GradCAM(ctx, CAM(m, l, []int{1, 16, 16}), img, c.label, 16, 16)
			if err != nil {
				t.Fatal(err)
			}
			s := quadrantShare(e.Map, c.y0, c.x0)
			t.Logf("label %d, layer %d: Grad-CAM share on the label's bar %.3f", c.label, l, s)
			if s < 0.95 {
				t.Fatalf("label %d, layer %d: Grad-CAM puts only %.2f of its mass on the bar the label reads", c.label, l, s)
			}
		}
		o, err := explain.Occlusion(ctx, f, img, 1, 16, 16, c.label, explain.OcclusionOptions{Window: 3, Stride: 1})
		if err != nil {
			t.Fatal(err)
		}
		s := quadrantShare(o.Map, c.y0, c.x0)
		t.Logf("label %d: occlusion share on the label's bar %.3f", c.label, s)
		if s < 0.9 {
			t.Fatalf("label %d: occlusion puts only %.2f of its mass on the bar the label reads", c.label, s)
		}
	}
	// Both maps score better than their reverses on deletion/insertion.
	e, _ := explain.GradCAM(ctx, CAM(m, 0, []int{1, 16, 16}), img, 0, 16, 16)
	ig, err := explain.IntegratedGradients(ctx, Grad(m, []int{1, 16, 16}, false), img, nil, 0, explain.IGOptions{})
	if err != nil {
		t.Fatal(err)
	}
	igMap, err := ig.PixelAttribution(1, 16, 16)
	if err != nil {
		t.Fatal(err)
	}
	for name, attr := range map[string][]float32{"grad-cam": e.Map, "integrated gradients": igMap} {
		good, err := explain.DeletionInsertion(ctx, f, img, 1, 16, 16, attr, 0, 16)
		if err != nil {
			t.Fatal(err)
		}
		rev := make([]float32, len(attr))
		for i, v := range attr {
			rev[i] = -v
		}
		bad, _ := explain.DeletionInsertion(ctx, f, img, 1, 16, 16, rev, 0, 16)
		if good.DeletionAUC >= bad.DeletionAUC || good.InsertionAUC <= bad.InsertionAUC {
			t.Fatalf("%s scores no better than its reverse: deletion %.3f vs %.3f, insertion %.3f vs %.3f",
				name, good.DeletionAUC, bad.DeletionAUC, good.InsertionAUC, bad.InsertionAUC)
		}
	}
}

func TestCAMAndLastConvErrors(t *testing.T) {
	ctx := context.Background()
	m := smallCNN(1, relu)
	x := randInput(1, 64)
	rng := tensor.NewRNG(2)
	mlp := nn.NewSequential(nn.NewLinear(4, 3, rng), nn.NewReLU(), nn.NewLinear(3, 2, rng))
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	camErr := func(f explain.CAMFunc, ctx context.Context, x []float32, label int) error {
		_, _, _, _, _, _, err := f(ctx, x, label)
		return err
	}
	_, lastErr := LastConv(nn.NewLinear(4, 2, rng))
	_, noConvErr := LastConv(mlp)
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"not sequential", lastErr, "needs an *nn.Sequential to split at a layer, got *nn.Linear"},
		{"no conv", noConvErr, "no Conv2D layer (layers: linear, relu, linear)"},
		{"nil", camErr(CAM(nil, 0, []int{1, 8, 8}), ctx, x, 0), "model is nil"},
		{"layer range", camErr(CAM(m, 7, []int{1, 8, 8}), ctx, x, 0), "layer 7 out of range: the model has 7 layers (0..6)"},
		{"negative layer", camErr(CAM(m, -1, []int{1, 8, 8}), ctx, x, 0), "layer -1 out of range"},
		{"flat layer", camErr(CAM(m, 5, []int{1, 8, 8}), ctx, x, 0), "layer 5 (flatten5) outputs shape [1 6]; Grad-CAM needs a convolutional feature map"},
		{"label", camErr(CAM(m, 2, []int{1, 8, 8}), ctx, x, 3), "label 3 out of range: the model returns 3 outputs"},
		{"length", camErr(CAM(m, 2, []int{1, 8, 8}), ctx, x[:63], 0), "got 63 values"},
		{"channels", camErr(CAM(m, 2, []int{2, 4, 8}), ctx, x, 0), "input has 2 channels, layer expects 1"},
		{"cancelled", camErr(CAM(m, 2, []int{1, 8, 8}), cancelled, x, 0), "canceled"},
	}
	for _, c := range cases {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Fatalf("%s: error %v, want %q", c.name, c.err, c.want)
		}
	}
	// Through explain.GradCAM the message is kept.
	if _, err := explain.GradCAM(ctx, CAM(m, 5, []int{1, 8, 8}), x, 0, 8, 8); err == nil || !strings.Contains(err.Error(), "feature map") {
		t.Fatalf("GradCAM on a flat layer: %v", err)
	}
	// A nested block holding a convolution counts as one.
	nested := nn.NewSequential(nn.NewSequential(nn.NewConv2D(1, 2, 3, rng), nn.NewReLU()), nn.NewGlobalAvgPool2D(), nn.NewFlatten())
	if i, err := LastConv(nested); err != nil || i != 0 {
		t.Fatalf("nested: %d, %v", i, err)
	}
	if i, err := LastConv(m); err != nil || i != 2 {
		t.Fatalf("LastConv(small CNN) = %d, %v; want 2", i, err)
	}
}
