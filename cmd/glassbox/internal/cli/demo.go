package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/glassbox-ml/glassbox/modelreport"
	"github.com/glassbox-ml/glassbox/predictor"
	"github.com/glassbox-ml/glassbox/train"
)

func init() {
	register("demo", "train linear (pixels, HOG), MLP and LeNet models on embedded MNIST, explain digits with every method, write a report", runDemo)
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
	Inputs   string            `json:"inputs"`
	Params   int               `json:"params"`
	Accuracy float64           `json:"test_accuracy"`
	Epochs   []train.EpochInfo `json:"epochs"`
	File     string            `json:"file,omitempty"`
	Seconds  float64           `json:"seconds"`
}

// demoPlan is how the demo's four models are trained: Adam, batch 64,
// cosine decay of the learning rate over the run, on the embedded MNIST
// subset with a tenth of its training digits held out for validation.
var demoPlan = modelreport.Plan{
	Linear: predictor.Recipe{Data: "mnist-small", Model: "linear", Epochs: 15, LR: 5e-3, Batch: 64, Schedule: "cosine"},
	HOG:    predictor.Recipe{Data: "mnist-small", Model: "linear", Epochs: 15, LR: 5e-3, Batch: 64, Schedule: "cosine"},
	MLP:    predictor.Recipe{Data: "mnist-small", Model: "mlp", Epochs: 8, LR: 1e-3, Batch: 64, Schedule: "cosine"},
	CNN:    predictor.Recipe{Data: "mnist-small", Model: "lenet", Epochs: 6, LR: 2e-3, Batch: 64, Schedule: "cosine"},
}

func runDemo(ctx context.Context, env *Env, args []string) error {
	fs := newFlags("demo", env)
	out := fs.String("out", "", "folder for the models, pictures and report (default: a new glassbox-demo-TIME folder)")
	seed := fs.Uint64("seed", 1, "base seed for the split, initialisation, shuffling and explanations")
	epochs := fs.Int("epochs", 0, "override the epochs of every model (0: the recipes' 15 for the linear models, 8 for the MLP, 6 for LeNet)")
	dataSpec := fs.String("data", "mnist-small", "MNIST-like data SPEC of grey digits (mnist-small: embedded; mnist: the full set, downloaded once)")
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
	progress, quiet := env.progress()
	plan := demoPlan
	for _, r := range []*predictor.Recipe{&plan.Linear, &plan.HOG, &plan.MLP, &plan.CNN} {
		r.Seed, r.Data = *seed, *dataSpec
		if *epochs > 0 {
			r.Epochs = *epochs
		}
	}
	plan.Options = predictor.TrainOptions{Progress: progress, Quiet: quiet}
	logf("training linear (pixels and HOG features), MLP and LeNet on %s\n", *dataSpec)
	cmp, err := modelreport.Compare(ctx, plan)
	if err != nil {
		return err
	}
	lenet := cmp.CNN
	res.Data = fmt.Sprintf("%s: %d training, %d validation, %d test digits", *dataSpec, lenet.Data.Train.Len(), lenet.Data.Val.Len(), lenet.Data.Test.Len())
	for _, t := range []*predictor.Trained{cmp.Linear, cmp.MLP, cmp.CNN} {
		file := filepath.Join(dir, t.Recipe.Model+".gbx")
		if err := t.Save(file); err != nil {
			return err
		}
	}
	for _, row := range cmp.Rows {
		m := demoModel{Name: row.Model, Inputs: row.Inputs, Params: row.Params, Accuracy: row.Accuracy, Seconds: row.Seconds}
		for _, t := range []*predictor.Trained{cmp.Linear, cmp.MLP, cmp.CNN} {
			if t.Recipe.Model == row.Model && row.Inputs == "pixels" {
				m.Epochs, m.File = t.History.Epochs, filepath.Join(dir, t.Recipe.Model+".gbx")
			}
		}
		res.Models = append(res.Models, m)
	}
	expl, err := demoExplain(ctx, dir, lenet, *seed, logf)
	if err != nil {
		return err
	}
	logf("building the report\n")
	gallery, err := demoGallery(expl, lenet.Methods())
	if err != nil {
		return err
	}
	rep, err := modelreport.Build(ctx, modelreport.Input{Title: "glassbox demo: what a network learns from digits", Subtitle: res.Data,
		Name: "lenet", Model: lenet.Predictor, Data: lenet.Data, History: lenet.History, Linear: cmp.Linear.Predictor,
		Comparison: cmp.Rows, Seed: *seed, Examples: 3, Points: 500, Steps: 100, Extra: []modelreport.Section{gallery}})
	if err != nil {
		return err
	}
	report := filepath.Join(dir, "report.html")
	if err := rep.Write(report); err != nil {
		return err
	}
	res.Explain, res.Report = expl, report
	res.Seconds = time.Since(t0).Seconds()
	return env.emit(res, func(w io.Writer) {
		fmt.Fprintf(w, "\nMNIST test accuracy (%d digits):\n", lenet.Data.Test.Len())
		for _, m := range res.Models {
			fmt.Fprintf(w, "  %-7s on %-19s %6.2f%%  (%d parameters, %.1fs)  %s\n", m.Name, m.Inputs, 100*m.Accuracy, m.Params, m.Seconds, m.File)
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
