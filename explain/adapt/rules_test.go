package adapt

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// ruleSubject is m as the gradient family sees it: scores (no softmax)
// as outputs, its gradients and its rule gradients.
func ruleSubject(m nn.Module, kind explain.InputKind, shape ...int) *explain.Subject {
	return &explain.Subject{Kind: kind, Shape: shape, Mode: explain.Regression, Outputs: 3,
		Predict: Func(m, shape), Gradient: Grad(m, shape, false), RuleGradient: RuleGrad(m, shape)}
}

func values(t *testing.T, res *explain.Result) []float32 {
	t.Helper()
	switch d := res.Details.(type) {
	case *explain.Attribution:
		return d.Values
	case *explain.LRPExplanation:
		return d.Values
	}
	t.Fatalf("%s: details are %T", res.Method, res.Details)
	return nil
}

func run(t *testing.T, method string, s *explain.Subject, x []float32, opt explain.Options) *explain.Result {
	t.Helper()
	res, err := explain.Run(context.Background(), method, s, x, opt)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	return res
}

// linearModel is f(x) = x·W + b with known W [5×3] and b.
func linearModel() (*nn.Linear, []float32) {
	lin := nn.NewLinear(5, 3, tensor.NewRNG(1))
	w := lin.Weight.Value.Data()
	for i := range w {
		w[i] = float32(i%7) - 3
	}
	copy(lin.Bias.Value.Data(), []float32{0.5, -1, 2})
	return lin, w
}

func TestInputXGradientAndDeepLIFTOnLinearModelAreAnalytic(t *testing.T) {
	lin, w := linearModel()
	s := ruleSubject(lin, explain.Table, 5)
	s.Baseline = []float32{1, 0, -1, 0.5, 2}
	x := []float32{0.3, -1.2, 2, 0.7, -0.4}
	const label = 1
	ixg := values(t, run(t, "inputxgradient", s, x, explain.Options{Label: explain.Class(label)}))
	dl := run(t, "deeplift", s, x, explain.Options{Label: explain.Class(label)})
	for i := range x {
		wi := float64(w[i*3+label])
		if got, want := float64(ixg[i]), wi*float64(x[i]); math.Abs(got-want) > 1e-5 {
			t.Errorf("input×gradient[%d] = %v, want w·x = %v", i, got, want)
		}
		if got, want := float64(values(t, dl)[i]), wi*float64(x[i]-s.Baseline[i]); math.Abs(got-want) > 1e-5 {
			t.Errorf("deeplift[%d] = %v, want w·(x − baseline) = %v", i, got, want)
		}
	}
	if r := dl.Quality["completeness_residual"]; r > 1e-5 {
		t.Errorf("deeplift completeness residual %v on a linear model", r)
	}
}

// twoLayer is relu(x·W1)·w2 without biases, W1 = [[1, −1], [2, 1]].
func twoLayer(w2 []float32) *nn.Sequential {
	rng := tensor.NewRNG(1)
	l1, l2 := nn.NewLinear(2, 2, rng, nn.LinearNoBias()), nn.NewLinear(2, 1, rng, nn.LinearNoBias())
	copy(l1.Weight.Value.Data(), []float32{1, -1, 2, 1})
	copy(l2.Weight.Value.Data(), w2)
	return nn.NewSequential(l1, nn.NewReLU(), l2)
}

func TestGuidedBackpropAndDeconvolutionByHand(t *testing.T) {
	// x = (1, 2): both hidden units active (z = 5, 1); w2 = (1, −2). The
	// gradient is W1·(1, −2) = (3, 0); guided backprop drops the negative
	// signal of unit 1: W1·(1, 0) = (1, 2).
	m := twoLayer([]float32{1, -2})
	s := ruleSubject(m, explain.Table, 2)
	opt := explain.Options{Label: explain.Class(0)}
	x := []float32{1, 2}
	closeTo(t, "gradient", values(t, run(t, "inputxgradient", s, x, opt)), []float32{3 * 1, 0 * 2}, 0, 1e-6)
	closeTo(t, "guided", values(t, run(t, "guidedbackprop", s, x, opt)), []float32{1, 2}, 0, 1e-6)
	// x = (1, 0.5): unit 1 is off (z = −0.5); w2 = (1, 2). Guided backprop
	// keeps the ReLU's mask: W1·(1, 0) = (1, 2); deconvolution passes
	// the positive signal through the off unit: W1·(1, 2) = (−1, 4).
	m = twoLayer([]float32{1, 2})
	s = ruleSubject(m, explain.Table, 2)
	x = []float32{1, 0.5}
	closeTo(t, "guided", values(t, run(t, "guidedbackprop", s, x, opt)), []float32{1, 2}, 0, 1e-6)
	closeTo(t, "deconvolution", values(t, run(t, "deconvolution", s, x, opt)), []float32{-1, 4}, 0, 1e-6)
}

func TestLRPRulesOnOneDenseLayerByHand(t *testing.T) {
	// One bias-free layer, z = Σ x_i w_i: ε gives x_i·w_i·z/(z+ε), z⁺
	// shares z among the positive terms, γ among x_i(w_i + γw_i⁺).
	l := nn.NewLinear(3, 1, tensor.NewRNG(1), nn.LinearNoBias())
	copy(l.Weight.Value.Data(), []float32{2, -1, 0.5})
	s := ruleSubject(l, explain.Table, 3)
	x := []float32{1, 1, 2} // z = 2 − 1 + 1 = 2
	opt := func(rule string) explain.Options { return explain.Options{Label: explain.Class(0), Rule: rule} }
	closeTo(t, "epsilon", values(t, run(t, "lrp", s, x, opt("epsilon"))), []float32{2, -1, 1}, 1e-5, 1e-6)
	// z⁺ = 2 + 1 = 3: R = (2, 0, 1)·2/3.
	closeTo(t, "zplus", values(t, run(t, "lrp", s, x, opt("zplus"))), []float32{4.0 / 3, 0, 2.0 / 3}, 1e-5, 1e-6)
	// γ = 0.5: terms (3, −1, 1.5), z' = 3.5: R = terms·2/3.5.
	closeTo(t, "gamma", values(t, run(t, "lrp", s, x, opt("gamma=0.5"))), []float32{6 / 3.5, -2 / 3.5, 3 / 3.5}, 1e-5, 1e-6)
	if _, err := explain.Run(context.Background(), "lrp", s, x, opt("epsilonn")); err == nil || !strings.Contains(err.Error(), `did you mean "epsilon"`) {
		t.Errorf("a misspelt rule: err = %v", err)
	}
}

// mlp is a 6→8→8→3 ReLU network with (random) biases, or without.
func mlp(seed uint64, bias bool) *nn.Sequential {
	rng := tensor.NewRNG(seed)
	var o []nn.LinearOption
	if !bias {
		o = append(o, nn.LinearNoBias())
	}
	m := nn.NewSequential(nn.NewLinear(6, 8, rng, o...), nn.NewReLU(), nn.NewLinear(8, 8, rng, o...), nn.NewReLU(), nn.NewLinear(8, 3, rng, o...))
	randomise(m, rng, 0.7)
	return m
}

// poolCNN is conv → ReLU → max pool → conv → ReLU → flatten → dense on
// 1×8×8 images, with biases or without.
func poolCNN(seed uint64, bias bool) *nn.Sequential {
	rng := tensor.NewRNG(seed)
	var co []nn.ConvOption
	var lo []nn.LinearOption
	if !bias {
		co, lo = append(co, nn.ConvNoBias()), append(lo, nn.LinearNoBias())
	}
	m := nn.NewSequential(
		nn.NewConv2D(1, 4, 3, rng, append(co, nn.ConvPadding(1))...), nn.NewReLU(), nn.NewMaxPool2D(2, 2, 0),
		nn.NewConv2D(4, 5, 3, rng, co...), nn.NewReLU(),
		nn.NewFlatten(), nn.NewLinear(5*2*2, 3, rng, lo...))
	randomise(m, rng, 0.5)
	return m
}

func TestDeepLIFTAndLRPEpsilonAreComplete(t *testing.T) {
	for _, tc := range []struct {
		name  string
		m     func(bias bool) *nn.Sequential
		kind  explain.InputKind
		shape []int
	}{
		{"mlp", func(b bool) *nn.Sequential { return mlp(3, b) }, explain.Table, []int{6}},
		{"cnn", func(b bool) *nn.Sequential { return poolCNN(4, b) }, explain.Image, []int{1, 8, 8}},
	} {
		d := tensor.Numel(tc.shape)
		x := randInput(5, d)
		for label := range 3 {
			opt := explain.Options{Label: explain.Class(label)}
			// DeepLIFT: Σ = f(x) − f(baseline), biases and all.
			s := ruleSubject(tc.m(true), tc.kind, tc.shape...)
			s.Baseline = randInput(6, d)
			if r := run(t, "deeplift", s, x, opt).Quality["completeness_residual"]; r > 1e-4 {
				t.Errorf("%s label %d: deeplift completeness residual %v", tc.name, label, r)
			}
			// DeepLIFT SHAP: Σ = f(x) − mean f(reference), over 40
			// references (two rule-gradient calls).
			s.Background = make([]float32, 0, 40*d)
			for r := range 40 {
				s.Background = append(s.Background, randInput(uint64(10+r), d)...)
			}
			if r := run(t, "deepliftshap", s, x, opt).Quality["completeness_residual"]; r > 1e-4 {
				t.Errorf("%s label %d: deepliftshap completeness residual %v", tc.name, label, r)
			}
			// LRP-ε: Σ R = f(x) on a bias-free network.
			s = ruleSubject(tc.m(false), tc.kind, tc.shape...)
			if r := run(t, "lrp", s, x, explain.Options{Label: explain.Class(label), Rule: "epsilon"}).Quality["completeness_residual"]; r > 1e-3 {
				t.Errorf("%s label %d: lrp-ε completeness residual %v", tc.name, label, r)
			}
		}
	}
}

func TestGradientSHAPExpectationIsIGFromTheMeanOnALinearModel(t *testing.T) {
	lin, w := linearModel()
	s := ruleSubject(lin, explain.Table, 5)
	for r := range 40 {
		s.Background = append(s.Background, randInput(uint64(100+r), 5)...)
	}
	x := []float32{0.3, -1.2, 2, 0.7, -0.4}
	opt := explain.Options{Label: explain.Class(2), Samples: 4000, Seed: 7}
	got := values(t, run(t, "gradientshap", s, x, opt))
	mean := make([]float64, 5)
	for i, v := range s.Background {
		mean[i%5] += float64(v) / 40
	}
	var errSq, norm float64
	for i := range x {
		want := float64(w[i*3+2]) * (float64(x[i]) - mean[i]) // IG from the background's mean
		errSq += (float64(got[i]) - want) * (float64(got[i]) - want)
		norm += want * want
	}
	if rel := math.Sqrt(errSq / norm); rel > 0.05 {
		t.Errorf("gradientshap %v is %.3f (relative) from IG from the mean", got, rel)
	}
}

func TestSampledMethodsAreDeterministicPerSeed(t *testing.T) {
	s := ruleSubject(mlp(3, true), explain.Table, 6)
	for r := range 80 {
		s.Background = append(s.Background, randInput(uint64(200+r), 6)...)
	}
	x := randInput(9, 6)
	for _, method := range []string{"gradientshap", "deepliftshap"} {
		opt := explain.Options{Label: explain.Class(0), Seed: 1, Samples: 30}
		a, b := values(t, run(t, method, s, x, opt)), values(t, run(t, method, s, x, opt))
		closeTo(t, method+" same seed", a, b, 0, 0)
		opt.Seed = 2
		c := values(t, run(t, method, s, x, opt))
		same := true
		for i := range a {
			same = same && a[i] == c[i]
		}
		if same {
			t.Errorf("%s: seeds 1 and 2 gave the same attributions", method)
		}
	}
}

func TestRuleMethodErrors(t *testing.T) {
	lin, _ := linearModel()
	s := ruleSubject(lin, explain.Table, 5)
	x := randInput(1, 5)
	ctx := context.Background()
	noGrad := *s
	noGrad.Gradient, noGrad.RuleGradient = nil, nil
	for _, m := range []string{"inputxgradient", "guidedbackprop", "deeplift", "lrp", "gradientshap"} {
		if _, err := explain.Run(ctx, m, &noGrad, x, explain.Options{}); err == nil || !strings.Contains(err.Error(), "needs") {
			t.Errorf("%s on a model without gradients: err = %v", m, err)
		}
	}
	if _, err := explain.Run(ctx, "guidedgradcam", s, x, explain.Options{}); err == nil || !strings.Contains(err.Error(), "image") {
		t.Errorf("guidedgradcam on a table: err = %v", err)
	}
	if _, err := explain.Run(ctx, "deepliftshap", s, x, explain.Options{}); err == nil || !strings.Contains(err.Error(), "training rows") {
		t.Errorf("deepliftshap without background: err = %v", err)
	}
	// A softmax inside the network is outside the Rescale and LRP rules:
	// an error naming it, not a wrong map. Guided backprop passes it.
	rng := tensor.NewRNG(2)
	inner := nn.NewSequential(nn.NewLinear(5, 4, rng), nn.NewSoftmax(), nn.NewLinear(4, 3, rng))
	s = ruleSubject(inner, explain.Table, 5)
	for _, m := range []string{"deeplift", "lrp"} {
		if _, err := explain.Run(ctx, m, s, x, explain.Options{}); err == nil || !strings.Contains(err.Error(), "softmax") {
			t.Errorf("%s through a softmax: err = %v", m, err)
		}
	}
	run(t, "guidedbackprop", s, x, explain.Options{})
	// LRP passes relevance through ReLU-type and tanh units only; DeepLIFT's
	// Rescale rule covers a sigmoid, and adds up through it.
	sig := nn.NewSequential(nn.NewLinear(5, 4, rng), nn.NewSigmoid(), nn.NewLinear(4, 3, rng))
	randomise(sig, rng, 1)
	s = ruleSubject(sig, explain.Table, 5)
	if _, err := explain.Run(ctx, "lrp", s, x, explain.Options{}); err == nil || !strings.Contains(err.Error(), "sigmoid") {
		t.Errorf("lrp through a sigmoid: err = %v", err)
	}
	if r := run(t, "deeplift", s, x, explain.Options{}).Quality["completeness_residual"]; r > 1e-4 {
		t.Errorf("deeplift through a sigmoid: completeness residual %v", r)
	}
	// A final softmax is left out: the scores are explained.
	withSoftmax := nn.NewSequential(mlp(3, true), nn.NewSoftmax())
	s, plain := ruleSubject(withSoftmax, explain.Table, 6), ruleSubject(mlp(3, true), explain.Table, 6)
	x = randInput(2, 6)
	opt := explain.Options{Label: explain.Class(1)}
	closeTo(t, "lrp with a final softmax", values(t, run(t, "lrp", s, x, opt)), values(t, run(t, "lrp", plain, x, opt)), 0, 0)
}

func TestGuidedGradCAMIsGuidedBackpropTimesGradCAM(t *testing.T) {
	m := poolCNN(8, true)
	layer, err := LastConv(m)
	if err != nil {
		t.Fatal(err)
	}
	s := ruleSubject(m, explain.Image, 1, 8, 8)
	s.CAM, s.CAMLayer = CAM(m, layer, []int{1, 8, 8}), "conv2"
	x := randInput(3, 64)
	opt := explain.Options{Label: explain.Class(2)}
	ggc := run(t, "guidedgradcam", s, x, opt)
	guided := values(t, run(t, "guidedbackprop", s, x, opt))
	cam := run(t, "gradcam", s, x, opt).Attribution
	want := make([]float32, 64)
	for p := range want {
		want[p] = guided[p] * cam[p]
	}
	closeTo(t, "guided grad-cam", ggc.Attribution, want, 1e-5, 1e-7)
	if ggc.Layer != "conv2" || ggc.Quality["deletion_auc"] == 0 && ggc.Quality["insertion_auc"] == 0 {
		t.Errorf("guided grad-cam names layer %q, quality %v", ggc.Layer, ggc.Quality)
	}
	// The model calls are counted: the prediction, Grad-CAM's, the
	// guided gradient's and the deletion/insertion curves' batch.
	if ggc.ModelCalls != 4 {
		t.Errorf("guided grad-cam: %d model calls, want 4", ggc.ModelCalls)
	}
}
