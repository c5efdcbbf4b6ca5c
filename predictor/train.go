package predictor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/glassbox-ml/glassbox/data"
	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/optim"
	"github.com/glassbox-ml/glassbox/tensor"
	"github.com/glassbox-ml/glassbox/train"
	"github.com/glassbox-ml/glassbox/zoo"
)

// Defaults of a training recipe's zero fields.
const (
	DefaultOptimizer = "adam"
	DefaultLR        = 1e-3
	DefaultBatch     = 64
	DefaultEpochs    = 10
	DefaultSchedule  = "constant"
)

// MaxHidden bounds a recipe's Hidden width: wider layers are more than a
// CPU trains and would ask for gigabytes before the first step.
const MaxHidden = 1 << 16

// TrainOptions are the parts of a training run that do not change the
// model: where progress goes and the checkpoint files.
type TrainOptions struct {
	// Progress receives the progress display (default os.Stderr); Quiet
	// silences it.
	Progress io.Writer
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
	if r.LR == 0 {
		r.LR = DefaultLR
	}
	if r.Batch == 0 {
		r.Batch = DefaultBatch
	}
	if r.Epochs == 0 {
		r.Epochs = DefaultEpochs
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
	case r.Clip < 0 || math.IsNaN(r.Clip):
		return r, fmt.Errorf("clip %v: want 0 (off) or a positive gradient norm", r.Clip)
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
	m, err := BuildModel(r.Model, zoo.Config{InputShape: d.InputShape, Outputs: outputs, Hidden: r.Hidden}, seeds.Init)
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
	tl, err := data.NewLoader(p.Prepared(d.Train), data.Options{BatchSize: r.Batch, Shuffle: true, Seed: seeds.Shuffle})
	if err != nil {
		return nil, err
	}
	cfg := train.Config{Epochs: r.Epochs, Optimizer: o, Task: p.trainTask(), Classes: len(d.Classes), Seed: seeds.Dropout,
		Progress: opt.Progress, Quiet: opt.Quiet, Checkpoint: opt.Checkpoint, Resume: opt.Resume, ClipNorm: r.Clip, OnEpoch: opt.OnEpoch}
	if d.Val != nil {
		if cfg.Val, err = data.NewLoader(p.Prepared(d.Val), data.Options{BatchSize: 256}); err != nil {
			return nil, err
		}
	}
	if r.Schedule == "cosine" {
		cfg.Schedule = optim.Cosine{Base: r.LR, Min: r.LR / 20, Steps: r.Epochs * tl.Len()}.LR
	}
	if r.Patience > 0 {
		cfg.EarlyStopping = &train.EarlyStopping{Patience: r.Patience, RestoreBest: true}
	}
	hist, err := train.Fit(ctx, m, tl, cfg)
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
