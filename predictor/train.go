package predictor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/glassbox-ml/glassbox/data"
	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/optim"
	"github.com/glassbox-ml/glassbox/tensor"
	"github.com/glassbox-ml/glassbox/train"
	"github.com/glassbox-ml/glassbox/zoo"
)

// Defaults of a training recipe's zero fields (ModelDefaults tunes the
// learning rate and augmentation per model).
const (
	DefaultOptimizer = "adam"
	DefaultLR        = 1e-3
	DefaultBatch     = 64
	DefaultEpochs    = 10
	// DefaultSchedule is cosine decay: with Adam it is what takes LeNet
	// past 99% on MNIST in ten epochs, where a constant rate stalls near
	// 98.7% (the last epochs at a small rate settle the weights).
	DefaultSchedule = "cosine"
)

// ModelDefault is the training schedule a zoo model gets for a recipe's
// zero fields, where it differs from the package defaults.
type ModelDefault struct {
	// LR is the learning rate.
	LR float64
	// Shift is the random-shift augmentation of image inputs, in pixels
	// (0: none).
	Shift int
	// Clip is the gradient-norm clip (0: none).
	Clip float64
}

// modelDefaults are the per-model schedules. The convolutional models take
// a larger rate (their gradients are smaller per weight) and a ±2-pixel
// random shift, which keeps them from memorising pixel positions: LeNet
// reaches 99.3% on MNIST with it (examples/mnist). The recurrent text
// classifiers take examples/sentiment's rate and clip the gradient norm
// at 5 (a recurrence can explode); they keep the 10 epochs: on the 4,000
// training reviews of imdb-5000 a GRU tests at 74% after 10 and 71%
// after the example's 4 (its 4 are for 25,000 reviews).
var modelDefaults = map[string]ModelDefault{
	"lenet": {LR: 2e-3, Shift: 2},
	"cnn":   {LR: 2e-3, Shift: 2},
	"rnn":   {LR: 2e-3, Clip: 5},
	"lstm":  {LR: 2e-3, Clip: 5},
	"gru":   {LR: 2e-3, Clip: 5},
}

// packageDefault is the schedule of a model without its own.
var packageDefault = ModelDefault{LR: DefaultLR}

// textClassifiers are the zoo models that classify token sequences.
var textClassifiers = []string{"gru", "lstm", "rnn"}

func isTextModel(name string) bool {
	name = strings.ToLower(name)
	return slices.Contains(textClassifiers, strings.TrimSuffix(name, "-lm"))
}

// textModel checks that the model can classify documents: a recurrent
// classifier or an architecture file.
func textModel(name string) error {
	switch {
	case strings.HasSuffix(name, ".json") || slices.Contains(textClassifiers, strings.ToLower(name)):
		return nil
	case isTextModel(name):
		return fmt.Errorf("model %s is a character language model (it predicts the next character); to classify documents use %s", name, strings.TrimSuffix(strings.ToLower(name), "-lm"))
	}
	return fmt.Errorf("model %s does not read token sequences; for text use %s (or an architecture file starting with an Embedding)", name, strings.Join(textClassifiers, ", "))
}

// ModelDefaults returns the schedule the zoo model name gets for a
// recipe's zero LR and Shift (the package defaults for a model without
// its own, and for architecture files).
func ModelDefaults(name string) ModelDefault {
	if d, ok := modelDefaults[strings.ToLower(name)]; ok {
		return d
	}
	return packageDefault
}

// ModelDefaultsText describes the per-model defaults of field ("lr",
// "shift" or "clip") for help texts, e.g. "0.002 for cnn,
// lenet; 0.001 otherwise".
func ModelDefaultsText(field string) string {
	pick := func(d ModelDefault) string {
		switch field {
		case "shift":
			return fmt.Sprint(d.Shift)
		case "clip":
			return fmt.Sprint(d.Clip)
		}
		return fmt.Sprint(d.LR)
	}
	fallback := pick(packageDefault)
	byValue := map[string][]string{}
	for name, d := range modelDefaults {
		if v := pick(d); v != fallback {
			byValue[v] = append(byValue[v], name)
		}
	}
	var parts []string
	for _, v := range slices.Sorted(maps.Keys(byValue)) {
		names := byValue[v]
		slices.Sort(names)
		parts = append(parts, v+" for "+strings.Join(names, ", "))
	}
	return strings.Join(append(parts, fallback+" otherwise"), "; ")
}

// MaxHidden bounds a recipe's Hidden width: wider layers are more than a
// CPU trains and would ask for gigabytes before the first step.
const MaxHidden = 1 << 16

// TrainOptions are the parts of a training run that do not change the
// model: where progress goes and the checkpoint files.
type TrainOptions struct {
	// Progress receives the progress display (default os.Stderr): a bar
	// on a terminal, plain lines elsewhere, JSON lines with JSON (see
	// train.Config); Quiet silences it.
	Progress io.Writer
	JSON     bool
	Quiet    bool
	// Checkpoint is written after every epoch; Resume continues from one.
	Checkpoint, Resume string
	// OnEpoch is called after every epoch (an error stops training).
	OnEpoch func(train.EpochInfo) error
}

// Trained is the outcome of Train: the predictor, its training history,
// the data it was trained on and its figures on the test split.
type Trained struct {
	*Predictor
	History *train.History
	Data    *Data
	// Test is the evaluation on the test split (regression errors in the
	// target's units); the test split is read by nothing else.
	Test *train.Metrics
}

// normalize fills a recipe's zero fields with the defaults and checks the
// rest.
func normalize(r Recipe) (Recipe, error) {
	if r.Data == "" || r.Model == "" {
		return r, fmt.Errorf("a recipe needs its data and model SPECs")
	}
	if r.Optimizer == "" {
		r.Optimizer = DefaultOptimizer
	}
	md := ModelDefaults(r.Model)
	if r.LR == 0 {
		r.LR = md.LR
	}
	if r.Shift == 0 {
		r.Shift = md.Shift
	}
	if r.Batch == 0 {
		r.Batch = DefaultBatch
	}
	if r.Epochs == 0 {
		r.Epochs = DefaultEpochs
	}
	if r.Clip == 0 {
		r.Clip = md.Clip
	}
	if r.Schedule == "" {
		r.Schedule = DefaultSchedule
	}
	if r.TestFraction == 0 {
		r.TestFraction = DefaultTestFraction
	}
	if r.ValFraction == 0 {
		r.ValFraction = DefaultValFraction
	}
	switch {
	case !(r.LR > 0) || math.IsInf(r.LR, 0):
		return r, fmt.Errorf("learning rate %v: want a positive number such as 0.001", r.LR)
	case r.Batch < 1:
		return r, fmt.Errorf("batch %d: want 1 or more examples per step", r.Batch)
	case r.Epochs < 1:
		return r, fmt.Errorf("epochs %d: want 1 or more", r.Epochs)
	case r.Hidden < 0 || r.Hidden > MaxHidden:
		return r, fmt.Errorf("hidden width %d: want 0 (the model's default) to %d", r.Hidden, MaxHidden)
	case r.Patience < 0:
		return r, fmt.Errorf("patience %d: want 0 (no early stopping) or more epochs", r.Patience)
	case math.IsNaN(r.Clip) || math.IsInf(r.Clip, 0):
		return r, fmt.Errorf("clip %v: want a positive gradient norm (0: the model's default, negative: off)", r.Clip)
	case r.Shift > 8:
		return r, fmt.Errorf("shift %d: want at most 8 pixels (0: the model's default, -1: none)", r.Shift)
	case r.Schedule != "constant" && r.Schedule != "cosine":
		return r, fmt.Errorf("schedule %q: want constant or cosine", r.Schedule)
	case r.Patience > 0 && r.ValFraction < 0:
		return r, fmt.Errorf("early stopping (patience %d) needs a validation split; set a validation fraction", r.Patience)
	}
	return r, nil
}

// Train trains a model as recipe r says: it loads and splits r.Data (train,
// validation, test), fits the preprocessing on the training split, builds
// r.Model, fits it (validation after every epoch, early stopping on the
// validation loss), and evaluates it once on the test split. The recipe,
// with its defaults filled in, is recorded in the predictor and so in the
// saved file.
func Train(ctx context.Context, r Recipe, opt TrainOptions) (*Trained, error) {
	r, err := normalize(r)
	if err != nil {
		return nil, err
	}
	d, err := LoadData(ctx, r)
	if err != nil {
		return nil, err
	}
	prep, err := FitPreprocessing(d)
	if err != nil {
		return nil, err
	}
	outputs := len(d.Classes)
	if d.Task == Regression {
		outputs = 1
	}
	seeds := SeedsOf(r.Seed)
	cfg := zoo.Config{InputShape: d.InputShape, Outputs: outputs, Hidden: r.Hidden}
	if d.Kind == explain.Text {
		if err := textModel(r.Model); err != nil {
			return nil, err
		}
		cfg.Vocab = d.Vocab.Size()
	} else if isTextModel(r.Model) {
		return nil, fmt.Errorf("model %s reads token sequences; %s holds %s inputs (text data: imdb-5000, imdb, csv:PATH?text=COL&target=COL)", r.Model, r.Data, d.Kind)
	}
	m, err := BuildModel(r.Model, cfg, seeds.Init)
	if err != nil {
		return nil, err
	}
	p := &Predictor{Module: m, Task: d.Task, InputShape: d.InputShape, Classes: d.Classes, Features: d.Features, Prep: prep, Recipe: &r}
	if err := p.validate(); err != nil {
		return nil, err
	}
	o, err := optim.New(r.Optimizer, m.Params(), r.LR)
	if err != nil {
		return nil, err
	}
	lo := data.Options{BatchSize: r.Batch, Shuffle: true, Seed: seeds.Shuffle}
	if r.Shift > 0 && d.Kind == explain.Image {
		lo.Transforms = []data.Transform{data.RandomShift(r.Shift)}
	}
	tl, err := data.NewLoader(p.Prepared(d.Train), lo)
	if err != nil {
		return nil, err
	}
	tc := train.Config{Epochs: r.Epochs, Optimizer: o, Task: p.trainTask(), Classes: len(d.Classes), Seed: seeds.Dropout,
		Progress: opt.Progress, JSONProgress: opt.JSON, Quiet: opt.Quiet, Checkpoint: opt.Checkpoint, Resume: opt.Resume, ClipNorm: max(r.Clip, 0), OnEpoch: opt.OnEpoch}
	if d.Val != nil {
		if tc.Val, err = data.NewLoader(p.Prepared(d.Val), data.Options{BatchSize: 256}); err != nil {
			return nil, err
		}
	}
	if r.Schedule == "cosine" {
		tc.Schedule = optim.Cosine{Base: r.LR, Min: r.LR / 20, Steps: r.Epochs * tl.Len()}.LR
	}
	if r.Patience > 0 {
		tc.EarlyStopping = &train.EarlyStopping{Patience: r.Patience, RestoreBest: true}
	}
	hist, err := train.Fit(ctx, m, tl, tc)
	if err != nil {
		return nil, err
	}
	r.EpochsRun = len(hist.Epochs)
	p.Curves = curvesOf(hist)
	test, err := p.Evaluate(ctx, d.Test)
	if err != nil {
		return nil, err
	}
	return &Trained{Predictor: p, History: hist, Data: d, Test: test}, nil
}

func (p *Predictor) trainTask() train.Task {
	if p.Task == Regression {
		return train.Regression
	}
	return train.Classification
}

// Evaluate runs the model over ds (in the data's own units) and returns
// its figures: loss and accuracy with the confusion matrix for a
// classifier; MSE, MAE and R² in the target's units for regression (the
// loss stays in the network's units).
func (p *Predictor) Evaluate(ctx context.Context, ds data.Dataset) (*train.Metrics, error) {
	if !tensor.SameShape(ds.XShape(), p.InputShape) {
		return nil, fmt.Errorf("the model takes inputs of shape %v, the data has %v", p.InputShape, ds.XShape())
	}
	l, err := data.NewLoader(p.Prepared(ds), data.Options{BatchSize: 256})
	if err != nil {
		return nil, err
	}
	lossFn := train.CrossEntropyLoss
	if p.Task == Regression {
		lossFn = train.MSELoss
	}
	met, err := train.Evaluate(ctx, p.Module, l, p.trainTask(), len(p.Classes), lossFn)
	if err != nil {
		return nil, err
	}
	met.Scale(p.targetScale())
	return met, nil
}

// BuildModel makes a model from a zoo name (sized by cfg) or a JSON
// architecture file (a path ending in .json), initialised from seed.
func BuildModel(spec string, cfg zoo.Config, seed uint64) (nn.Module, error) {
	if strings.HasSuffix(spec, ".json") {
		b, err := os.ReadFile(spec)
		if err != nil {
			return nil, err
		}
		var s nn.Spec
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, fmt.Errorf("%s: not an architecture JSON: %v", spec, err)
		}
		var m nn.Module
		var buildErr error
		if err := tensor.Catch(func() { m, buildErr = nn.Build(s, tensor.NewRNG(seed)) }); err != nil {
			return nil, fmt.Errorf("%s: %w", spec, err)
		}
		if buildErr != nil {
			return nil, fmt.Errorf("%s: %w", spec, buildErr)
		}
		return m, nil
	}
	return zoo.New(spec, cfg, tensor.NewRNG(seed))
}

// curvesOf keeps a run's per-epoch figures for the model file.
func curvesOf(h *train.History) []model.EpochFigures {
	out := make([]model.EpochFigures, len(h.Epochs))
	for i, e := range h.Epochs {
		out[i] = model.EpochFigures{Epoch: e.Epoch, Train: e.Train, Val: e.Val}
	}
	return out
}
