package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/glassbox-ml/glassbox/data"
	"github.com/glassbox-ml/glassbox/datasets"
	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/optim"
	"github.com/glassbox-ml/glassbox/tensor"
	"github.com/glassbox-ml/glassbox/train"
	"github.com/glassbox-ml/glassbox/zoo"
)

func init() {
	register("demo", "train a LeNet and a linear baseline on embedded MNIST, explain a few digits, write a report", runDemo)
}

// demoResult is what demo prints with --json.
type demoResult struct {
	Data    string          `json:"data"`
	Models  []demoModel     `json:"models"`
	Explain []demoExplained `json:"explanations,omitempty"`
	Out     string          `json:"out"`
	Report  string          `json:"report,omitempty"`
	Seconds float64         `json:"seconds"`
}

type demoModel struct {
	Name     string            `json:"name"`
	Params   int               `json:"params"`
	Accuracy float64           `json:"test_accuracy"`
	Epochs   []train.EpochInfo `json:"epochs"`
	File     string            `json:"file"`
	Seconds  float64           `json:"seconds"`
}

// demoRecipe is how each demo model is trained: Adam, batch 64, cosine
// decay of the learning rate over the run.
type demoRecipe struct {
	name   string
	epochs int
	lr     float64
}

var demoRecipes = []demoRecipe{
	{"linear", 15, 5e-3},
	{"lenet", 6, 2e-3},
}

func runDemo(ctx context.Context, env *Env, args []string) error {
	fs := newFlags("demo", env)
	out := fs.String("out", "", "folder for the models, pictures and report (default: a new glassbox-demo-TIME folder)")
	seed := fs.Uint64("seed", 1, "seed for initialisation, shuffling and explanations")
	epochs := fs.Int("epochs", 0, "override the epochs of both models (0: the recipe's 15 for linear, 6 for LeNet)")
	if err := parse(fs, args); err != nil {
		return err
	}
	t0 := time.Now()
	dir := *out
	if dir == "" {
		dir = "glassbox-demo-" + time.Now().Format("20060102-150405")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	ds, err := datasets.Load(ctx, "mnist-small", datasets.Options{Offline: true})
	if err != nil {
		return err
	}
	tr, err := data.FromImages(ds.Train)
	if err != nil {
		return err
	}
	te, err := data.FromImages(ds.Test)
	if err != nil {
		return err
	}
	res := demoResult{Data: fmt.Sprintf("mnist-small (embedded): %d training, %d test digits", tr.Len(), te.Len()), Out: dir}
	logf := func(format string, a ...any) {
		if !env.JSON && !env.Quiet {
			fmt.Fprintf(env.Stderr, format, a...)
		}
	}
	logf("glassbox demo: %s\n", res.Data)
	meta := model.Meta{Task: "classification", Classes: ds.Train.Classes, InputShape: []int{1, 28, 28},
		Extra: map[string]string{"data": "mnist-small"}}
	var lenet nn.Module
	for _, r := range demoRecipes {
		if *epochs > 0 {
			r.epochs = *epochs
		}
		mt0 := time.Now()
		m, err := zoo.New(r.name, zoo.Config{InputShape: []int{1, 28, 28}, Outputs: 10}, tensor.NewRNG(*seed))
		if err != nil {
			return err
		}
		opt, err := optim.NewAdam(m.Params(), r.lr)
		if err != nil {
			return err
		}
		tl, _ := data.NewLoader(tr, data.Options{BatchSize: 64, Shuffle: true, Seed: *seed})
		vl, _ := data.NewLoader(te, data.Options{BatchSize: 500})
		steps := r.epochs * tl.Len()
		progress, quiet := env.progress()
		logf("training %s (%d parameters, %d epochs)\n", r.name, nn.NumParams(m), r.epochs)
		hist, err := train.Fit(ctx, m, tl, train.Config{
			Epochs: r.epochs, Optimizer: opt, Classes: 10, Val: vl, Seed: *seed, Progress: progress, Quiet: quiet,
			Schedule: optim.Cosine{Base: r.lr, Min: r.lr / 20, Steps: steps}.LR,
		})
		if err != nil {
			return fmt.Errorf("training %s: %w", r.name, err)
		}
		file := filepath.Join(dir, r.name+".gbx")
		meta.Extra["recipe"] = fmt.Sprintf("adam lr=%g cosine→%g, batch 64, %d epochs, seed %d", r.lr, r.lr/20, r.epochs, *seed)
		if err := model.Save(file, m, meta); err != nil {
			return err
		}
		res.Models = append(res.Models, demoModel{Name: r.name, Params: nn.NumParams(m), Accuracy: hist.Last().Val["accuracy"],
			Epochs: hist.Epochs, File: file, Seconds: time.Since(mt0).Seconds()})
		if r.name == "lenet" {
			lenet = m
		}
	}
	expl, report, err := demoExplain(ctx, env, dir, lenet, res, ds.Test, *seed)
	if err != nil {
		return err
	}
	res.Explain, res.Report = expl, report
	res.Seconds = time.Since(t0).Seconds()
	return env.emit(res, func(w io.Writer) {
		fmt.Fprintf(w, "\nMNIST test accuracy (%d digits):\n", te.Len())
		for _, m := range res.Models {
			fmt.Fprintf(w, "  %-7s %6.2f%%  (%d parameters, %.1fs)  saved %s\n", m.Name, 100*m.Accuracy, m.Params, m.Seconds, m.File)
		}
		for _, e := range res.Explain {
			fmt.Fprintf(w, "  digit %d (true %d, predicted %d, p=%.3f): LIME R²=%.2f, %d segments, IG completeness residual %.1e → %s\n",
				e.Index, e.Truth, e.Predicted, e.Probability, e.LimeR2, e.Segments, e.IGResidual, e.Picture)
		}
		if res.Report != "" {
			fmt.Fprintf(w, "report: %s\n", res.Report)
		}
		fmt.Fprintf(w, "done in %.1fs\n", res.Seconds)
	})
}
