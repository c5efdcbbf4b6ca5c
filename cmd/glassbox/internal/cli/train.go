package cli

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/glassbox-ml/glassbox/datasets"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/predictor"
	"github.com/glassbox-ml/glassbox/train"
	"github.com/glassbox-ml/glassbox/zoo"
)

func init() {
	register("train", "train a model on a data set and save it as a .gbx file", runTrain)
}

func runTrain(ctx context.Context, env *Env, args []string) error {
	var r predictor.Recipe
	var out, checkpoint, resume string
	fs := newFlags("train", env)
	fs.StringVar(&r.Data, "data", "", "data SPEC: "+predictor.DataSpecs)
	fs.StringVar(&r.Model, "model", "", "model SPEC: a zoo name ("+strings.Join(zoo.Names(), ", ")+") or a JSON architecture file")
	fs.IntVar(&r.Epochs, "epochs", predictor.DefaultEpochs, "passes over the training data")
	fs.IntVar(&r.Batch, "batch", predictor.DefaultBatch, "examples per step")
	fs.Float64Var(&r.LR, "lr", 0, "learning rate (0: the model's default: "+predictor.ModelDefaultsText("lr")+")")
	fs.IntVar(&r.Shift, "shift", 0, "random shift of training images in pixels (0: the model's default: "+predictor.ModelDefaultsText("shift")+"; -1: none)")
	fs.StringVar(&r.Optimizer, "optimizer", predictor.DefaultOptimizer, "adam, adamw, sgd, momentum, nesterov or rmsprop")
	fs.StringVar(&r.Schedule, "schedule", predictor.DefaultSchedule, "learning-rate schedule: cosine (decays to lr/20 over the run) or constant")
	fs.Uint64Var(&r.Seed, "seed", 1, "base seed: the split, validation, initialisation, shuffling and dropout streams derive from it")
	fs.Float64Var(&r.ValFraction, "val", predictor.DefaultValFraction, "share of the training split held out for validation (early stopping reads it, never the test split)")
	fs.StringVar(&out, "out", "", "where to save the trained model (.gbx)")
	fs.StringVar(&checkpoint, "checkpoint", "", "write a checkpoint here after every epoch")
	fs.StringVar(&resume, "resume", "", "resume from this checkpoint")
	fs.IntVar(&r.Patience, "patience", 0, "stop when the validation loss has not improved for this many epochs (0: never)")
	fs.IntVar(&r.Hidden, "hidden", 0, fmt.Sprintf("hidden width for mlp, deep and recurrent models (0: the model's default; at most %d)", predictor.MaxHidden))
	fs.Float64Var(&r.Clip, "clip", 0, "clip the global gradient norm to this value (0: the model's default: "+predictor.ModelDefaultsText("clip")+"; -1: off)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if r.Data == "" || r.Model == "" || out == "" {
		return usagef("--data, --model and --out are required")
	}
	switch {
	case r.Epochs < 1:
		return usagef("--epochs %d: want 1 or more", r.Epochs)
	case r.Batch < 1:
		return usagef("--batch %d: want 1 or more", r.Batch)
	case r.Hidden < 0 || r.Hidden > predictor.MaxHidden:
		return usagef("--hidden %d: want 0 (the model's default) to %d", r.Hidden, predictor.MaxHidden)
	case r.Patience < 0:
		return usagef("--patience %d: want 0 (never stop early) or more", r.Patience)
	case r.ValFraction >= 1:
		return usagef("--val %v: want a share below 1 (negative: no validation split)", r.ValFraction)
	case r.LR < 0 || math.IsNaN(r.LR) || math.IsInf(r.LR, 0):
		return usagef("--lr %v: want a positive learning rate such as 0.001 (0: the model's default)", r.LR)
	case r.Shift > 8:
		return usagef("--shift %d: want at most 8 pixels (0: the model's default, -1: none)", r.Shift)
	case r.Schedule != "constant" && r.Schedule != "cosine":
		return usagef("--schedule %q: want constant or cosine", r.Schedule)
	}
	if err := oneOf("--optimizer", r.Optimizer, optimizers); err != nil {
		return err
	}
	if !strings.HasSuffix(r.Model, ".json") {
		if err := oneOf("--model", r.Model, zoo.Names()); err != nil {
			return err
		}
	}
	if err := checkDataName(r.Data); err != nil {
		return err
	}
	if r.ValFraction == 0 {
		r.ValFraction = -1 // --val 0 asks for no validation split
	}
	for _, path := range []string{out, checkpoint} {
		if err := checkWritable(path); err != nil {
			return err
		}
	}
	t0 := time.Now()
	opt := env.trainProgress()
	opt.Checkpoint, opt.Resume = checkpoint, resume
	t, err := predictor.Train(ctx, r, opt)
	if err != nil && ctx.Err() != nil {
		// Ctrl-C or SIGTERM: say what is kept and how to go on.
		if checkpoint != "" {
			if _, serr := os.Stat(checkpoint); serr == nil {
				return fmt.Errorf("stopped (%v); %s holds the last finished epoch: continue with the same flags and --resume %s", ctx.Err(), checkpoint, checkpoint)
			}
		}
		return fmt.Errorf("stopped (%v) before an epoch finished with a checkpoint; nothing was saved (--checkpoint FILE keeps each epoch for --resume)", ctx.Err())
	}
	if err != nil {
		return err
	}
	if err := t.Save(out); err != nil {
		return err
	}
	res := trainResult{Model: r.Model, Data: r.Data, Params: nn.NumParams(t.Module), Epochs: t.History.Epochs, Stopped: t.History.Stopped,
		Test: evalFigures(t.Test), Seconds: time.Since(t0).Seconds(), Out: out, Recipe: t.Recipe}
	return env.emit(res, func(w io.Writer) {
		fmt.Fprintf(w, "trained %s on %s in %.1fs: test %s\nsaved %s\n", r.Model, r.Data, res.Seconds, figures(res.Test), out)
	})
}

// optimizers are the names optim.New knows.
var optimizers = []string{"adam", "adamw", "sgd", "momentum", "nesterov", "rmsprop"}

// oneOf is a usage error, with a "did you mean" for a typo, when value is
// not among known.
func oneOf(flag, value string, known []string) error {
	if slices.Contains(known, value) {
		return nil
	}
	return usagef("%s", didYouMean(flag, value, known))
}

// checkDataName refuses, before any work, a data SPEC that names no known
// data set (SPECs with a KIND: prefix are checked when read).
func checkDataName(spec string) error {
	if strings.Contains(spec, ":") {
		return nil
	}
	name, _, _ := strings.Cut(spec, "?")
	var known []string
	for _, info := range datasets.Catalog() {
		known = append(known, info.Name)
	}
	if slices.Contains(known, strings.ToLower(strings.TrimSpace(name))) {
		return nil
	}
	return usagef("%s, or csv:PATH?target=COL, csv:PATH?text=COL&target=COL, images:DIR", didYouMean("--data", name, known))
}

// trainResult is what train prints.
type trainResult struct {
	Model   string             `json:"model"`
	Data    string             `json:"data"`
	Params  int                `json:"params"`
	Epochs  []train.EpochInfo  `json:"epochs"`
	Stopped string             `json:"stopped,omitempty"`
	Test    map[string]float64 `json:"test"`
	Seconds float64            `json:"seconds"`
	Out     string             `json:"out"`
	Recipe  *predictor.Recipe  `json:"recipe"`
}

// checkWritable fails early, before any work, when path ("" is fine)
// cannot be written: a folder, or a file in a folder that does not exist.
func checkWritable(path string) error {
	if path == "" {
		return nil
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("%s is a folder; give a file name such as %s", path, filepath.Join(path, "model.gbx"))
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("cannot write %s: folder %s does not exist (create it first)", path, dir)
	}
	if !st.IsDir() {
		return fmt.Errorf("cannot write %s: %s is not a folder", path, dir)
	}
	f, err := os.CreateTemp(dir, ".glassbox-write-check-*")
	if err != nil {
		return fmt.Errorf("cannot write into %s: %v", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// evalFigures returns the headline figures of an evaluation.
func evalFigures(m *train.Metrics) map[string]float64 {
	out := m.Summary()
	delete(out, "loss")
	if m.N() > 0 && m.Task == train.Classification {
		out["accuracy"] = m.Accuracy()
	}
	out["n"] = float64(m.N())
	return out
}

func figures(m map[string]float64) string {
	var parts []string
	for _, k := range []string{"accuracy", "loss", "mse", "mae", "r2", "n"} {
		if v, ok := m[k]; ok {
			if k == "n" {
				parts = append(parts, fmt.Sprintf("n=%d", int(v)))
			} else {
				parts = append(parts, fmt.Sprintf("%s=%.4f", k, v))
			}
		}
	}
	return strings.Join(parts, " ")
}
