package modelreport

import (
	"context"
	"fmt"
	"time"

	"github.com/glassbox-ml/glassbox/data"
	"github.com/glassbox-ml/glassbox/features"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/optim"
	"github.com/glassbox-ml/glassbox/predictor"
	"github.com/glassbox-ml/glassbox/train"
	"github.com/glassbox-ml/glassbox/zoo"
)

// Plan is how [Compare] trains the four models: each recipe names its
// model (Linear "linear", MLP "mlp", CNN a convolutional zoo model such as
// "lenet"); HOG's recipe gives the epochs, learning rate, batch and
// schedule of the linear model on HOG features (its Model is ignored).
// All four must use the same Data and Seed, so they share one split.
type Plan struct {
	Linear, HOG, MLP, CNN predictor.Recipe
	// Options carries the progress display to every training run.
	Options predictor.TrainOptions
}

// Compared is the outcome of [Compare]: the table and the trained models.
type Compared struct {
	Rows             []Row
	Linear, MLP, CNN *predictor.Trained
}

// Compare trains the four models of the linear-vs-deep question on the
// same split and scores each once on the test split: a linear model on
// the pixels, the same linear model on HOG features of the pixels
// ([features.HOG], 7×7 cells, 9 bins, 2×2 blocks), an MLP and a CNN.
func Compare(ctx context.Context, plan Plan) (*Compared, error) {
	rs := []predictor.Recipe{plan.Linear, plan.HOG, plan.MLP, plan.CNN}
	for _, r := range rs[1:] {
		if r.Data != plan.Linear.Data || r.Seed != plan.Linear.Seed {
			return nil, fmt.Errorf("modelreport: compare: every recipe needs the same data and seed (got %q/%d and %q/%d)", plan.Linear.Data, plan.Linear.Seed, r.Data, r.Seed)
		}
	}
	out := &Compared{}
	run := func(r predictor.Recipe, inputs string) (*predictor.Trained, error) {
		t0 := time.Now()
		t, err := predictor.Train(ctx, r, plan.Options)
		if err != nil {
			return nil, fmt.Errorf("training %s: %w", r.Model, err)
		}
		out.Rows = append(out.Rows, Row{Model: r.Model, Inputs: inputs, Accuracy: t.Test.Accuracy(), Params: nn.NumParams(t.Module),
			Seconds: time.Since(t0).Seconds(), Epochs: len(t.History.Epochs)})
		return t, nil
	}
	var err error
	if out.Linear, err = run(plan.Linear, "pixels"); err != nil {
		return nil, err
	}
	row, err := trainHOG(ctx, out.Linear.Data, plan.HOG, plan.Options)
	if err != nil {
		return nil, err
	}
	out.Rows = append(out.Rows, row)
	if out.MLP, err = run(plan.MLP, "pixels"); err != nil {
		return nil, err
	}
	if out.CNN, err = run(plan.CNN, "pixels"); err != nil {
		return nil, err
	}
	return out, nil
}

// hogSet computes the HOG descriptor of every grey image of ds.
func hogSet(ctx context.Context, ds data.Dataset) (*data.Tensors, int, error) {
	shape := ds.XShape()
	if len(shape) != 3 || shape[0] != 1 {
		return nil, 0, fmt.Errorf("modelreport: HOG features need grey images [1 H W], the data has %v", shape)
	}
	h, w := shape[1], shape[2]
	size, err := features.HOGSize(h, w, features.HOGOptions{})
	if err != nil {
		return nil, 0, err
	}
	n := ds.Len()
	xs := make([]float32, 0, n*size)
	ys := make([]float32, n)
	x := make([]float32, h*w)
	for i := range n {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, 0, err
			}
		}
		ds.Read(i, x, ys[i:i+1])
		f, err := features.HOG(x, h, w, features.HOGOptions{})
		if err != nil {
			return nil, 0, err
		}
		xs = append(xs, f...)
	}
	t, err := data.FromSlices(xs, []int{size}, ys)
	return t, size, err
}

// trainHOG trains a linear model on HOG features of d's images and scores
// it on the test split.
func trainHOG(ctx context.Context, d *predictor.Data, r predictor.Recipe, opt predictor.TrainOptions) (Row, error) {
	t0 := time.Now()
	tr, size, err := hogSet(ctx, d.Train)
	if err != nil {
		return Row{}, err
	}
	te, _, err := hogSet(ctx, d.Test)
	if err != nil {
		return Row{}, err
	}
	seeds := predictor.SeedsOf(r.Seed)
	m, err := predictor.BuildModel("linear", zoo.Config{InputShape: []int{size}, Outputs: len(d.Classes)}, seeds.Init)
	if err != nil {
		return Row{}, err
	}
	if r.LR == 0 {
		r.LR = predictor.DefaultLR
	}
	if r.Batch == 0 {
		r.Batch = predictor.DefaultBatch
	}
	if r.Epochs == 0 {
		r.Epochs = predictor.DefaultEpochs
	}
	o, err := optim.New("adam", m.Params(), r.LR)
	if err != nil {
		return Row{}, err
	}
	tl, err := data.NewLoader(tr, data.Options{BatchSize: r.Batch, Shuffle: true, Seed: seeds.Shuffle})
	if err != nil {
		return Row{}, err
	}
	cfg := train.Config{Epochs: r.Epochs, Optimizer: o, Task: train.Classification, Classes: len(d.Classes), Seed: seeds.Dropout,
		Progress: opt.Progress, Quiet: opt.Quiet}
	if r.Schedule == "cosine" {
		cfg.Schedule = optim.Cosine{Base: r.LR, Min: r.LR / 20, Steps: r.Epochs * tl.Len()}.LR
	}
	hist, err := train.Fit(ctx, m, tl, cfg)
	if err != nil {
		return Row{}, fmt.Errorf("training linear on HOG: %w", err)
	}
	el, err := data.NewLoader(te, data.Options{BatchSize: 256})
	if err != nil {
		return Row{}, err
	}
	met, err := train.Evaluate(ctx, m, el, train.Classification, len(d.Classes), train.CrossEntropyLoss)
	if err != nil {
		return Row{}, err
	}
	return Row{Model: "linear", Inputs: fmt.Sprintf("HOG features (%d)", size), Accuracy: met.Accuracy(), Params: nn.NumParams(m),
		Seconds: time.Since(t0).Seconds(), Epochs: len(hist.Epochs)}, nil
}
