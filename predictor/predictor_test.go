package predictor

import (
	"context"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/data"
	"github.com/glassbox-ml/glassbox/datasets"
	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
	"github.com/glassbox-ml/glassbox/zoo"
)

// regressionPair returns two predictors of the same function of three raw
// features, y = 100 + 10·(2·x0 − x1 + 0.5·x2 + 1): one whose network
// outputs standardised targets (TargetMean 100, TargetStd 10), one whose
// network outputs the target itself.
func regressionPair(t *testing.T) (scaled, plain *Predictor) {
	t.Helper()
	w := []float32{2, -1, 0.5}
	a := nn.NewLinear(3, 1, tensor.NewRNG(1))
	copy(a.Weight.Value.Data(), w)
	a.Bias.Value.Data()[0] = 1
	b := nn.NewLinear(3, 1, tensor.NewRNG(1))
	for i, v := range w {
		b.Weight.Value.Data()[i] = 10 * v
	}
	b.Bias.Value.Data()[0] = 10*1 + 100
	var err error
	scaled, err = New(a, model.Meta{Task: "regression", InputShape: []int{3}, TargetMean: 100, TargetStd: 10})
	if err != nil {
		t.Fatal(err)
	}
	plain, err = New(b, model.Meta{Task: "regression", InputShape: []int{3}})
	if err != nil {
		t.Fatal(err)
	}
	return scaled, plain
}

func TestRegressionWithAndWithoutTargetScaling(t *testing.T) {
	ctx := context.Background()
	scaled, plain := regressionPair(t)
	x := []float32{1, 2, 3}
	want := 100 + 10*(2*1-2+0.5*3+1) // 125
	bg := []float32{0, 0, 0, 1, 1, 1, 2, 0, 1, -1, 3, 2}
	for _, p := range []*Predictor{scaled, plain} {
		preds, err := p.Predict(ctx, tensor.MustFromSlice(x, 1, 3))
		if err != nil {
			t.Fatal(err)
		}
		if got := float64(*preds[0].Value); math.Abs(got-float64(want)) > 1e-4 {
			t.Fatalf("predicted %v, want %v", got, want)
		}
		p.Background = bg
		for _, m := range []string{"saliency", "ig", "smoothgrad", "lime", "kernelshap"} {
			res, err := p.Explain(ctx, m, x, explain.Options{Seed: 3, Samples: 500})
			if err != nil {
				t.Fatalf("%s: %v", m, err)
			}
			if math.Abs(res.Value-float64(want)) > 1e-4 {
				t.Errorf("%s explains value %v, want %v", m, res.Value, want)
			}
			if res.ModelCalls == 0 {
				t.Errorf("%s records no model calls", m)
			}
		}
	}
	// Attributions are in the target's units either way: saliency is the
	// slope per unit of each feature, 10·(2, −1, 0.5).
	for _, p := range []*Predictor{scaled, plain} {
		res, err := p.Explain(ctx, "saliency", x, explain.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, f := range res.Top {
			got[f.Name] = f.Weight
		}
		if math.Abs(got["x0"]-20) > 1e-3 || math.Abs(got["x1"]-10) > 1e-3 || math.Abs(got["x2"]-5) > 1e-3 {
			t.Errorf("saliency %v, want |slopes| 20, 10, 5", got)
		}
		// Kernel SHAP on a linear model is exact: w·(x − mean(background)).
		shap, err := p.Explain(ctx, "kernelshap", x, explain.Options{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if shap.Quality["sum_error"] > 1e-3 {
			t.Errorf("kernel shap sum error %v", shap.Quality["sum_error"])
		}
	}
}

func TestPreprocessingRoundTripsAndChainRule(t *testing.T) {
	ctx := context.Background()
	// An image model whose input is normalised per channel.
	rng := tensor.NewRNG(2)
	m := nn.NewSequential(nn.NewConv2D(3, 2, 3, rng, nn.ConvPadding(1)), nn.NewReLU(), nn.NewFlatten(), nn.NewLinear(2*4*4, 2, rng))
	meta := model.Meta{InputShape: []int{3, 4, 4}, PixelMean: []float32{0.5, 0.4, 0.3}, PixelStd: []float32{0.2, 0.25, 0.5}}
	p, err := New(m, meta)
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind != explain.Image || p.Outputs != 2 {
		t.Fatalf("kind %s outputs %d", p.Kind, p.Outputs)
	}
	x := make([]float32, 48)
	for i := range x {
		x[i] = float32(i%7) / 7
	}
	z := slices.Clone(x)
	p.ToModel(z)
	if want := (x[20] - 0.4) / 0.25; math.Abs(float64(z[20]-want)) > 1e-6 {
		t.Fatalf("pixel 20 (channel 1) normalised to %v, want %v", z[20], want)
	}
	back := slices.Clone(z)
	p.FromModel(back)
	for i := range x {
		if math.Abs(float64(back[i]-x[i])) > 1e-6 {
			t.Fatalf("FromModel(ToModel(x))[%d] = %v, want %v", i, back[i], x[i])
		}
	}
	// Predict normalises: the network run by hand on z gives the same.
	want, err := nn.Predict(m, tensor.MustFromSlice(z, 1, 3, 4, 4))
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Forward(ctx, tensor.MustFromSlice(x, 1, 3, 4, 4))
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range want.Data() {
		if math.Abs(float64(got.Data()[i]-v)) > 1e-6 {
			t.Fatalf("output %d: %v, want %v", i, got.Data()[i], v)
		}
	}
	// The gradient with respect to raw pixels is the chain rule through
	// the normalisation: check it against central differences.
	s := p.Subject()
	_, g, err := s.Gradient(ctx, x, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 17, 33, 47} {
		const h = 1e-2
		xp, xm := slices.Clone(x), slices.Clone(x)
		xp[i] += h
		xm[i] -= h
		op, _, _ := s.Gradient(ctx, xp, 1, 1)
		om, _, _ := s.Gradient(ctx, xm, 1, 1)
		fd := float64(op[1]-om[1]) / (2 * h)
		if math.Abs(fd-float64(g[i])) > 2e-3*math.Max(1, math.Abs(fd)) {
			t.Errorf("∂out/∂x[%d] = %v, finite differences %v", i, g[i], fd)
		}
	}
}

func TestNewRejectsBadDescriptions(t *testing.T) {
	lin := nn.NewLinear(4, 3, tensor.NewRNG(1))
	for _, c := range []struct {
		name string
		meta model.Meta
		want string
	}{
		{"no shape", model.Meta{}, "input shape"},
		{"negative dimension", model.Meta{InputShape: []int{-4}}, "≤ 0"},
		{"huge", model.Meta{InputShape: []int{1 << 13, 1 << 13}}, "MaxInputValues"},
		{"mean without std", model.Meta{InputShape: []int{4}, Mean: make([]float32, 4)}, "both or neither"},
		{"std of NaN", model.Meta{InputShape: []int{4}, Mean: make([]float32, 4), Std: []float32{1, float32(math.NaN()), 1, 1}}, "positive"},
		{"pixel norm on a table", model.Meta{InputShape: []int{4}, PixelMean: []float32{0}, PixelStd: []float32{1}}, "channels"},
		{"classes of another count", model.Meta{InputShape: []int{4}, Classes: []string{"a", "b"}}, "names 2 classes"},
		{"regression with 3 outputs", model.Meta{Task: "regression", InputShape: []int{4}}, "1 output"},
		{"unknown task", model.Meta{Task: "ranking", InputShape: []int{4}}, "ranking"},
	} {
		if _, err := New(lin, c.meta); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", c.name, err, c.want)
		}
	}
	if _, err := New(nil, model.Meta{InputShape: []int{4}}); err == nil {
		t.Error("a nil model was accepted")
	}
}

func TestSeedsAreIndependentStreams(t *testing.T) {
	a, b := SeedsOf(1), SeedsOf(2)
	all := []uint64{a.Split, a.Val, a.Init, a.Shuffle, a.Dropout, b.Split, b.Val, b.Init, b.Shuffle, b.Dropout}
	seen := map[uint64]bool{}
	for _, s := range all {
		if seen[s] {
			t.Fatalf("two streams share seed %d: %+v %+v", s, a, b)
		}
		seen[s] = true
	}
	if SeedsOf(1) != a {
		t.Fatal("SeedsOf is not a function of its seed")
	}
}

func TestLoadDataSplitsThreeWays(t *testing.T) {
	ctx := context.Background()
	d, err := LoadData(ctx, Recipe{Data: "iris", Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	// 150 rows: 30 test, then 12 of the 120 for validation.
	if d.Test.Len() != 30 || d.Val.Len() != 12 || d.Train.Len() != 108 {
		t.Fatalf("split %d/%d/%d, want 108/12/30", d.Train.Len(), d.Val.Len(), d.Test.Len())
	}
	if d.Kind != explain.Table || d.Task != Classification || len(d.Features) != 4 {
		t.Fatalf("iris described as %+v", d)
	}
	// The three parts are disjoint and cover the table.
	seen := map[int]bool{}
	for _, part := range []data.Dataset{d.Train, d.Val, d.Test} {
		for _, i := range absoluteIndices(t, part) {
			if seen[i] {
				t.Fatalf("row %d is in two splits", i)
			}
			seen[i] = true
		}
	}
	if len(seen) != 150 {
		t.Fatalf("the splits cover %d of 150 rows", len(seen))
	}
	// No validation split when asked for none.
	d2, err := LoadData(ctx, Recipe{Data: "iris", Seed: 5, ValFraction: -1})
	if err != nil || d2.Val != nil || d2.Train.Len() != 120 {
		t.Fatalf("ValFraction -1: %v, %v", err, d2)
	}
	for _, bad := range []Recipe{{Data: "iris", TestFraction: 1}, {Data: "irsi"}, {Data: "csv:/nonexistent.csv?target=y"}, {Data: "csv:x.csv?colour=red"}} {
		if _, err := LoadData(ctx, bad); err == nil {
			t.Errorf("LoadData(%+v) succeeded", bad)
		}
	}
	if _, err := LoadData(ctx, Recipe{Data: "irsi"}); err == nil || !strings.Contains(err.Error(), `did you mean "iris"`) {
		t.Errorf("typo: %v", err)
	}
}

// absoluteIndices maps a (possibly nested) Subset's rows to the rows of
// the table underneath.
func absoluteIndices(t *testing.T, ds data.Dataset) []int {
	sub, ok := ds.(*data.Subset)
	if !ok {
		out := make([]int, ds.Len())
		for i := range out {
			out[i] = i
		}
		return out
	}
	base := absoluteIndices(t, sub.Base)
	out := make([]int, len(sub.Indices))
	for i, j := range sub.Indices {
		out[i] = base[j]
	}
	return out
}

// Train → Save → Load keeps everything a front end needs, and the model's
// own data comes back split as in training.
func TestTrainSaveLoadRoundTrip(t *testing.T) {
	ctx := context.Background()
	tr, err := Train(ctx, Recipe{Data: "wine", Model: "mlp", Hidden: 16, Epochs: 20, Batch: 16, LR: 0.01, Seed: 5}, TrainOptions{Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	if acc := tr.Test.Accuracy(); acc < 0.85 {
		t.Fatalf("wine test accuracy %.3f, want ≥ 0.85", acc)
	}
	if tr.Recipe.EpochsRun != 20 || tr.Recipe.Optimizer != DefaultOptimizer || tr.Recipe.ValFraction != DefaultValFraction {
		t.Fatalf("recorded recipe %+v", tr.Recipe)
	}
	path := filepath.Join(t.TempDir(), "wine.gbx")
	if err := tr.Save(path); err != nil {
		t.Fatal(err)
	}
	p, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if *p.Recipe != *tr.Recipe || !slices.Equal(p.Prep.Mean, tr.Prep.Mean) || !slices.Equal(p.Features, tr.Features) {
		t.Fatalf("loaded %+v, saved %+v", p.Recipe, tr.Recipe)
	}
	d, err := p.OwnData(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	met, err := p.Evaluate(ctx, d.Test)
	if err != nil {
		t.Fatal(err)
	}
	if met.Accuracy() != tr.Test.Accuracy() || met.N() != tr.Test.N() {
		t.Fatalf("evaluation after loading %.4f on %d rows, at training %.4f on %d", met.Accuracy(), met.N(), tr.Test.Accuracy(), tr.Test.N())
	}
	if err := p.LoadBackground(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Background, Rows(tr.Data.Train)) {
		t.Fatal("the background is not the model's own training split")
	}
	names := []string{}
	for _, mi := range p.Methods() {
		names = append(names, mi.Name)
	}
	if !slices.Equal(names, []string{"lime", "saliency", "ig", "smoothgrad", "kernelshap", "deconvolution", "deeplift", "deepliftshap", "gradientshap", "guidedbackprop", "inputxgradient", "layerig", "layerconductance", "neuronig", "neuronconductance", "lrp", "ablation", "permutation", "anchors", "shapleysampling", "counterfactual"}) {
		t.Fatalf("methods for a table with a background: %v", names)
	}
}

func TestBadRecipesFailBeforeWork(t *testing.T) {
	for _, r := range []Recipe{
		{Data: "iris", Model: "mlp", Batch: -1},
		{Data: "iris", Model: "mlp", Hidden: -5},
		{Data: "iris", Model: "mlp", Hidden: 100_000_000},
		{Data: "iris", Model: "mlp", LR: math.NaN()},
		{Data: "iris", Model: "mlp", Schedule: "sawtooth"},
		{Data: "iris", Model: "mlp", Patience: 3, ValFraction: -1},
		{Data: "iris"},
	} {
		if _, err := Train(context.Background(), r, TrainOptions{Quiet: true}); err == nil {
			t.Errorf("Train(%+v) succeeded", r)
		}
	}
}

func TestTextEncoding(t *testing.T) {
	v, err := datasets.BuildVocab([]string{"a good film", "a bad film"}, datasets.VocabOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := &Predictor{Task: Classification, InputShape: []int{4}, Prep: Preprocessing{Vocab: v, SeqLen: 4}}
	x, err := p.EncodeText([]string{"good film", "bad"})
	if err != nil {
		t.Fatal(err)
	}
	// As in training: padding in front, so a recurrent model ends on words.
	if !slices.Equal(x.Shape(), []int{2, 4}) || x.Data()[2] != float32(v.ID("good")) || x.Data()[3] != float32(v.ID("film")) ||
		x.Data()[0] != 0 || x.Data()[4] != 0 || x.Data()[7] != float32(v.ID("bad")) {
		t.Fatalf("encoded %v", x.Data())
	}
}

// opaque is a user's layer that is not an nn.Shaper: the identity.
type opaque struct{}

func (opaque) Forward(c *nn.Ctx, x *autograd.Var) *autograd.Var { return x }
func (opaque) Params() []*autograd.Var                          { return nil }
func (opaque) Spec() nn.Spec                                    { return nn.Spec{Type: "predictor-test-opaque"} }

// TestNewRefusesHugeActivations: a small model whose first forward pass
// would allocate gigabytes of activations is refused before it runs,
// quickly and with little memory, by a message naming the limit.
func TestNewRefusesHugeActivations(t *testing.T) {
	rng := tensor.NewRNG(1)
	image := []int{1, 4096, 4096} // MaxInputValues
	cases := []struct {
		name  string
		m     nn.Module
		shape []int
		want  string
	}{
		{"1×1 conv to 4096 channels", nn.NewSequential(nn.NewConv2D(1, 4096, 1, rng), nn.NewGlobalAvgPool2D(), nn.NewLinear(4096, 2, rng)),
			image, "MaxActivationValues"},
		{"conv, pool, flatten", nn.NewSequential(nn.NewConv2D(1, 64, 3, rng, nn.ConvPadding(1)), nn.NewReLU(), nn.NewMaxPool2D(2, 0, 0),
			nn.NewConv2D(64, 1, 1, rng), nn.NewFlatten(), nn.NewSoftmax()), image, "MaxActivationValues"},
		{"linear chain over a long axis", nn.NewSequential(nn.NewLinear(1, 4096, rng), nn.NewReLU(), nn.NewLinear(4096, 1, rng), nn.NewFlatten()),
			[]int{1 << 24, 1}, "MaxActivationValues"},
		{"embedding of a huge sequence", nn.NewSequential(nn.NewEmbedding(10, 64, rng), nn.NewLSTM(64, 8, rng), nn.NewLinear(8, 2, rng)),
			[]int{1 << 24}, "MaxActivationValues"},
		{"lstm over a huge sequence", nn.NewSequential(nn.NewLSTM(4, 64, rng), nn.NewLinear(64, 2, rng)), []int{1 << 22, 4}, "MaxActivationValues"},
		{"stacked rnn steps", nn.NewSequential(nn.NewRNN(1, 1, rng, nn.RecurrentLayers(64)), nn.NewLinear(1, 2, rng)), []int{1 << 24, 1}, "MaxActivationValues"},
		// A huge layer followed by one that refuses its output: the shape
		// error comes without running the huge one.
		{"huge conv, then a misfit", nn.NewSequential(nn.NewConv2D(1, 4096, 1, rng), nn.NewFlatten(), nn.NewLinear(3, 2, rng)),
			image, "input has 68719476736 features"},
		// A layer that cannot be sized after a huge one: refused on what
		// comes before it.
		{"huge conv, then a layer of one's own", nn.NewSequential(nn.NewConv2D(1, 4096, 1, rng), opaque{}, nn.NewGlobalAvgPool2D()),
			image, "MaxActivationValues"},
	}
	for _, c := range cases {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		_, err := New(c.m, model.Meta{InputShape: c.shape})
		elapsed := time.Since(start)
		runtime.ReadMemStats(&after)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", c.name, err, c.want)
		}
		if used := after.TotalAlloc - before.TotalAlloc; used > 64<<20 {
			t.Errorf("%s: refusing it allocated %d MB", c.name, used>>20)
		}
		if elapsed > 2*time.Second {
			t.Errorf("%s: refusing it took %v", c.name, elapsed)
		}
	}
}

// TestLoadRefusesHugeActivations: the same through a model file, whose
// architecture is small and whose weights are a few kilobytes.
func TestLoadRefusesHugeActivations(t *testing.T) {
	rng := tensor.NewRNG(2)
	path := filepath.Join(t.TempDir(), "wide.gbx")
	m := nn.NewSequential(nn.NewConv2D(1, 4096, 1, rng), nn.NewGlobalAvgPool2D(), nn.NewLinear(4096, 2, rng))
	if err := model.Save(path, m, model.Meta{Task: "classification", InputShape: []int{1, 4096, 4096}}); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := Load(path)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "predictor.MaxActivationValues") {
		t.Fatalf("Load: %v, want the activation limit", err)
	}
	if used := after.TotalAlloc - before.TotalAlloc; used > 64<<20 {
		t.Fatalf("refusing it allocated %d MB", used>>20)
	}
}

// TestNewAcceptsUsualModels: the zoo's models on their usual inputs, and a
// model with a layer that cannot be sized, stay well within the limit.
func TestNewAcceptsUsualModels(t *testing.T) {
	rng := tensor.NewRNG(3)
	for _, c := range []struct {
		name   string
		config zoo.Config
	}{
		{"lenet", zoo.Config{InputShape: []int{1, 28, 28}, Outputs: 10}},
		{"cnn", zoo.Config{InputShape: []int{3, 64, 64}, Outputs: 10}},
		{"mlp", zoo.Config{InputShape: []int{3, 32, 32}, Outputs: 10}},
		{"deep", zoo.Config{InputShape: []int{20}, Outputs: 3}},
		{"lstm", zoo.Config{InputShape: []int{512}, Outputs: 2, Vocab: 5000}},
		{"gru-lm", zoo.Config{InputShape: []int{256}, Outputs: 1, Vocab: 100}},
	} {
		m, err := zoo.New(c.name, c.config, rng)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if _, err := New(m, model.Meta{InputShape: c.config.InputShape}); err != nil {
			t.Errorf("%s on %v: %v", c.name, c.config.InputShape, err)
		}
		_, total, err := nn.ActivationElements(m, append([]int{1}, c.config.InputShape...))
		if err != nil || total > MaxActivationValues/8 {
			t.Errorf("%s on %v: %d values of activations (%v), want well under the limit", c.name, c.config.InputShape, total, err)
		}
	}
	p, err := New(nn.NewSequential(nn.NewLinear(3, 2, rng), opaque{}), model.Meta{InputShape: []int{3}})
	if err != nil || p.Outputs != 2 {
		t.Fatalf("a model with a layer of one's own: %v", err)
	}
}

// Data a model file names is never downloaded: a crafted or old file
// must not make glassbox reach the network. The same SPEC given by the
// caller may be.
func TestRecipeDataIsNeverDownloaded(t *testing.T) {
	t.Setenv("GLASSBOX_DATA", t.TempDir())
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	m := nn.NewLinear(784, 10, tensor.NewRNG(1))
	p, err := New(nn.NewSequential(nn.NewFlatten(), m), model.Meta{InputShape: []int{1, 28, 28}, Recipe: &Recipe{Data: "mnist", Seed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.OwnData(context.Background(), "")
	if err == nil || !strings.Contains(err.Error(), "give --data mnist") {
		t.Fatalf("recipe data mnist, not cached: %v", err)
	}
}

// A classifier whose network ends in a softmax is not softmaxed twice:
// its outputs are the probabilities Predict reports.
func TestPredictSoftmaxOnce(t *testing.T) {
	lin := nn.NewLinear(2, 3, tensor.NewRNG(1))
	p, err := New(nn.NewSequential(lin, nn.NewSoftmax()), model.Meta{InputShape: []int{2}})
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.MustFromSlice([]float32{3, -2}, 1, 2)
	out, err := nn.Predict(p.Module, x)
	if err != nil {
		t.Fatal(err)
	}
	preds, err := p.Predict(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range out.Data() {
		if math.Abs(float64(preds[0].Probabilities[i]-v)) > 1e-6 {
			t.Fatalf("probabilities %v, the network's softmax %v", preds[0].Probabilities, out.Data())
		}
	}
}
