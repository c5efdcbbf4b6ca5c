package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/glassbox-ml/glassbox/internal/infer"
	"github.com/glassbox-ml/glassbox/model"
)

func init() {
	register("predict", "predict with a saved model on an image or CSV rows", runPredict)
}

func runPredict(ctx context.Context, env *Env, args []string) error {
	fs := newFlags("predict", env)
	modelPath := fs.String("model", "", "a .gbx model file")
	input := fs.String("input", "", "an image (.png/.jpg) or a CSV file of feature rows; - reads CSV from stdin")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *modelPath == "" || *input == "" {
		return usagef("--model and --input are required")
	}
	m, meta, err := model.Load(*modelPath)
	if err != nil {
		return err
	}
	x, err := infer.ReadInput(*input, meta)
	if err != nil {
		return err
	}
	preds, err := infer.PredictRows(m, meta, x)
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
