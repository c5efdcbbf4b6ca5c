package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/predictor"
	"github.com/glassbox-ml/glassbox/train"
)

func init() {
	register("demo", "train a LeNet and a linear baseline on embedded MNIST, explain a few digits with every method, write a report", runDemo)
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

// demoRecipes are how the demo's models are trained: Adam, batch 64,
// cosine decay of the learning rate over the run, on the embedded MNIST
// subset with a tenth of its training digits held out for validation.
var demoRecipes = []predictor.Recipe{
	{Data: "mnist-small", Model: "linear", Epochs: 15, LR: 5e-3, Batch: 64, Schedule: "cosine"},
	{Data: "mnist-small", Model: "lenet", Epochs: 6, LR: 2e-3, Batch: 64, Schedule: "cosine"},
}

func runDemo(ctx context.Context, env *Env, args []string) error {
	fs := newFlags("demo", env)
	out := fs.String("out", "", "folder for the models, pictures and report (default: a new glassbox-demo-TIME folder)")
	seed := fs.Uint64("seed", 1, "base seed for the split, initialisation, shuffling and explanations")
	epochs := fs.Int("epochs", 0, "override the epochs of both models (0: the recipe's 15 for linear, 6 for LeNet)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *epochs < 0 {
		return usagef("--epochs %d: want 0 (the recipes' epochs) or more", *epochs)
	}
	t0 := time.Now()
	dir := *out
	if dir == "" {
		dir = "glassbox-demo-" + time.Now().Format("20060102-150405")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	logf := func(format string, a ...any) {
		if !env.JSON && !env.Quiet {
			fmt.Fprintf(env.Stderr, format, a...)
		}
	}
	res := demoResult{Out: dir}
	var lenet *predictor.Trained
	progress, quiet := env.progress()
	for _, r := range demoRecipes {
		r.Seed = *seed
		if *epochs > 0 {
			r.Epochs = *epochs
		}
		mt0 := time.Now()
		logf("training %s (%d epochs)\n", r.Model, r.Epochs)
		t, err := predictor.Train(ctx, r, predictor.TrainOptions{Progress: progress, Quiet: quiet})
		if err != nil {
			return fmt.Errorf("training %s: %w", r.Model, err)
		}
		if res.Data == "" {
			res.Data = fmt.Sprintf("mnist-small (embedded): %d training, %d validation, %d test digits", t.Data.Train.Len(), t.Data.Val.Len(), t.Data.Test.Len())
			logf("glassbox demo: %s\n", res.Data)
		}
		file := filepath.Join(dir, r.Model+".gbx")
		if err := t.Save(file); err != nil {
			return err
		}
		res.Models = append(res.Models, demoModel{Name: r.Model, Params: nn.NumParams(t.Module), Accuracy: t.Test.Accuracy(),
			Epochs: t.History.Epochs, File: file, Seconds: time.Since(mt0).Seconds()})
		if r.Model == "lenet" {
			lenet = t
		}
	}
	expl, report, err := demoExplain(ctx, dir, lenet, res, *seed, logf)
	if err != nil {
		return err
	}
	res.Explain, res.Report = expl, report
	res.Seconds = time.Since(t0).Seconds()
	return env.emit(res, func(w io.Writer) {
		fmt.Fprintf(w, "\nMNIST test accuracy (%d digits):\n", lenet.Data.Test.Len())
		for _, m := range res.Models {
			fmt.Fprintf(w, "  %-7s %6.2f%%  (%d parameters, %.1fs)  saved %s\n", m.Name, 100*m.Accuracy, m.Params, m.Seconds, m.File)
		}
		for _, e := range res.Explain {
			fmt.Fprintf(w, "  digit %d (true %d, predicted %d, p=%.3f):", e.Index, e.Truth, e.Predicted, e.Probability)
			for _, m := range e.Methods {
				fmt.Fprintf(w, " %s %s", m.Method, m.figures())
				if m.Verdict != nil {
					fmt.Fprintf(w, " (%s)", m.Verdict.Level)
				}
				fmt.Fprint(w, ";")
			}
			fmt.Fprintln(w)
		}
		if res.Report != "" {
			fmt.Fprintf(w, "report: %s\n", res.Report)
		}
		fmt.Fprintf(w, "done in %.1fs\n", res.Seconds)
	})
}
