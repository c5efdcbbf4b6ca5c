package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/glassbox-ml/glassbox/predictor"
)

func init() {
	register("predict", "predict with a saved model on an image or CSV rows", runPredict)
}

func runPredict(ctx context.Context, env *Env, args []string) error {
	fs := newFlags("predict", env)
	modelPath := fs.String("model", "", "a .gbx model file")
	input := fs.String("input", "", "an image (.png/.jpg) or a CSV file of feature rows in the data's own units; - reads CSV from stdin")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *modelPath == "" || *input == "" {
		return usagef("--model and --input are required")
	}
	p, err := predictor.Load(*modelPath)
	if err != nil {
		return err
	}
	x, err := p.ReadFile(*input)
	if err != nil {
		return err
	}
	preds, err := p.Predict(ctx, x)
	if err != nil {
		return err
	}
	var v any = preds
	if len(preds) == 1 {
		v = preds[0]
	} else {
		v = map[string]any{"predictions": preds}
	}
	return env.emit(v, func(w io.Writer) {
		for i, p := range preds {
			switch {
			case p.Value != nil:
				fmt.Fprintf(w, "%d: %g\n", i, *p.Value)
			default:
				fmt.Fprintf(w, "%d: class %d (%s), probability %.4f\n", i, *p.Class, p.Label, p.Probabilities[*p.Class])
			}
		}
	})
}
