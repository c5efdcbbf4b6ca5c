package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/glassbox-ml/glassbox/predictor"
	"github.com/glassbox-ml/glassbox/train"
)

func init() {
	register("eval", "evaluate a saved model on its test split", runEval)
}

func runEval(ctx context.Context, env *Env, args []string) error {
	fs := newFlags("eval", env)
	modelPath := fs.String("model", "", "a .gbx model file")
	spec := fs.String("data", "", "data SPEC (default: the data the model was trained on; split with its recipe's seed and fractions)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *modelPath == "" {
		return usagef("--model is required")
	}
	p, err := predictor.Load(*modelPath)
	if err != nil {
		return err
	}
	d, err := p.OwnData(ctx, *spec)
	if err != nil {
		return err
	}
	met, err := p.Evaluate(ctx, d.Test)
	if err != nil {
		return err
	}
	out := evalFigures(met)
	out["loss"] = met.Loss()
	return env.emit(out, func(w io.Writer) {
		fmt.Fprintf(w, "%s on %s (test split): %s\n", *modelPath, d.Spec, figures(out))
		if met.Task == train.Classification {
			fmt.Fprintf(w, "confusion matrix (rows: truth, columns: prediction):\n%s", met.ConfusionString(p.Classes))
		}
	})
}
