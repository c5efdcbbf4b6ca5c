package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/glassbox-ml/glassbox/data"
	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/optim"
	"github.com/glassbox-ml/glassbox/tensor"
	"github.com/glassbox-ml/glassbox/train"
	"github.com/glassbox-ml/glassbox/zoo"
)

func init() {
	register("train", "train a model on a data set and save it as a .gbx file", runTrain)
}

// trainFlags are the knobs of a training run.
type trainFlags struct {
	data, model, optimizer, out, checkpoint, resume string
	epochs, batch, patience, hidden                 int
	lr, clip                                        float64
	seed                                            uint64
}

func runTrain(ctx context.Context, env *Env, args []string) error {
	var f trainFlags
	fs := newFlags("train", env)
	fs.StringVar(&f.data, "data", "", "data SPEC: mnist-small, mnist, fashion-mnist, iris, wine, breast-cancer, diabetes, digits, csv:PATH?target=COL, images:DIR")
	fs.StringVar(&f.model, "model", "", "model SPEC: a zoo name ("+strings.Join(zoo.Names(), ", ")+") or a JSON architecture file")
	fs.IntVar(&f.epochs, "epochs", 10, "passes over the training data")
	fs.IntVar(&f.batch, "batch", 64, "examples per step")
	fs.Float64Var(&f.lr, "lr", 1e-3, "learning rate")
	fs.StringVar(&f.optimizer, "optimizer", "adam", "adam, adamw, sgd, momentum, nesterov or rmsprop")
	fs.Uint64Var(&f.seed, "seed", 1, "seed for initialisation, shuffling, splits and dropout")
	fs.StringVar(&f.out, "out", "", "where to save the trained model (.gbx)")
	fs.StringVar(&f.checkpoint, "checkpoint", "", "write a checkpoint here after every epoch")
	fs.StringVar(&f.resume, "resume", "", "resume from this checkpoint")
	fs.IntVar(&f.patience, "patience", 0, "stop when validation loss has not improved for this many epochs (0: never)")
	fs.IntVar(&f.hidden, "hidden", 0, "hidden width for mlp, deep and recurrent models (0: the model's default)")
	fs.Float64Var(&f.clip, "clip", 0, "clip the global gradient norm to this value (0: off)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if f.data == "" || f.model == "" || f.out == "" {
		return usagef("--data, --model and --out are required")
	}
	res, err := trainModel(ctx, env, f)
	if err != nil {
		return err
	}
	return env.emit(res, func(w io.Writer) {
		fmt.Fprintf(w, "trained %s on %s in %.1fs: %s\nsaved %s\n", f.model, f.data, res.Seconds, figures(res.Test), f.out)
	})
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
}

func trainModel(ctx context.Context, env *Env, f trainFlags) (*trainResult, error) {
	t0 := time.Now()
	p, err := ResolveData(ctx, f.data, f.seed)
	if err != nil {
		return nil, err
	}
	if err := p.Standardize(p.Meta); err != nil {
		return nil, err
	}
	outputs := len(p.Classes)
	if p.Task == train.Regression {
		outputs = 1
	}
	m, err := buildModel(f.model, zoo.Config{InputShape: p.InputShape, Outputs: outputs, Hidden: f.hidden}, f.seed)
	if err != nil {
		return nil, err
	}
	opt, err := optim.New(f.optimizer, m.Params(), f.lr)
	if err != nil {
		return nil, err
	}
	tl, err := data.NewLoader(p.Train, data.Options{BatchSize: f.batch, Shuffle: true, Seed: f.seed})
	if err != nil {
		return nil, err
	}
	vl, err := data.NewLoader(p.Test, data.Options{BatchSize: 256})
	if err != nil {
		return nil, err
	}
	progress, quiet := env.progress()
	cfg := train.Config{
		Epochs: f.epochs, Optimizer: opt, Task: p.Task, Classes: len(p.Classes), Val: vl, Seed: f.seed,
		Progress: progress, Quiet: quiet, Checkpoint: f.checkpoint, Resume: f.resume, ClipNorm: f.clip,
	}
	if f.patience > 0 {
		cfg.EarlyStopping = &train.EarlyStopping{Patience: f.patience, RestoreBest: true}
	}
	hist, err := train.Fit(ctx, m, tl, cfg)
	if err != nil {
		return nil, err
	}
	met, err := train.Evaluate(ctx, m, vl, p.Task, len(p.Classes), nil)
	if err != nil {
		return nil, err
	}
	meta := p.Meta
	unstandardize(met, meta)
	meta.Extra = map[string]string{"data": f.data, "recipe": fmt.Sprintf("%s lr=%g batch=%d epochs=%d seed=%d", f.optimizer, f.lr, f.batch, len(hist.Epochs), f.seed)}
	if err := model.Save(f.out, m, meta); err != nil {
		return nil, err
	}
	return &trainResult{Model: f.model, Data: f.data, Params: nn.NumParams(m), Epochs: hist.Epochs, Stopped: hist.Stopped,
		Test: evalFigures(met), Seconds: time.Since(t0).Seconds(), Out: f.out}, nil
}

// buildModel makes a model from a zoo name or a JSON architecture file.
func buildModel(spec string, cfg zoo.Config, seed uint64) (nn.Module, error) {
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
		return m, buildErr
	}
	return zoo.New(spec, cfg, tensor.NewRNG(seed))
}

// unstandardize puts regression errors back into the target's units.
func unstandardize(m *train.Metrics, meta model.Meta) {
	if meta.TargetStd != 0 {
		m.Scale(float64(meta.TargetStd))
	}
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
