package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/glassbox-ml/glassbox/data"
	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/tensor"
	"github.com/glassbox-ml/glassbox/train"
)

func init() {
	register("eval", "evaluate a saved model on a data set's test split", runEval)
}

func runEval(ctx context.Context, env *Env, args []string) error {
	fs := newFlags("eval", env)
	modelPath := fs.String("model", "", "a .gbx model file")
	spec := fs.String("data", "", "data SPEC (its test split is used; tables are split with --seed as in train)")
	seed := fs.Uint64("seed", 1, "seed of the train/test split for tables (use the one you trained with)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *modelPath == "" || *spec == "" {
		return usagef("--model and --data are required")
	}
	m, meta, err := model.Load(*modelPath)
	if err != nil {
		return err
	}
	p, err := ResolveData(ctx, *spec, *seed)
	if err != nil {
		return err
	}
	if len(meta.InputShape) > 0 && !tensor.SameShape(meta.InputShape, p.InputShape) {
		return fmt.Errorf("the model takes inputs of shape %v, %s has %v", meta.InputShape, *spec, p.InputShape)
	}
	// Use the model's own standardisation, not one refitted on this data.
	if err := p.Standardize(meta); err != nil {
		return err
	}
	task := train.Classification
	lossFn := train.CrossEntropyLoss
	if meta.Task == "regression" {
		task, lossFn = train.Regression, train.MSELoss
	}
	l, err := data.NewLoader(p.Test, data.Options{BatchSize: 256})
	if err != nil {
		return err
	}
	met, err := train.Evaluate(ctx, m, l, task, len(meta.Classes), lossFn)
	if err != nil {
		return err
	}
	loss := met.Loss()
	unstandardize(met, meta)
	out := evalFigures(met)
	out["loss"] = loss
	return env.emit(out, func(w io.Writer) {
		fmt.Fprintf(w, "%s on %s (test split): %s\n", *modelPath, *spec, figures(out))
		if task == train.Classification {
			fmt.Fprintf(w, "confusion matrix (rows: truth, columns: prediction):\n%s", met.ConfusionString(meta.Classes))
		}
	})
}
