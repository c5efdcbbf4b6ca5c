package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/predictor"
	"github.com/glassbox-ml/glassbox/tensor"
)

func init() {
	register("predict", "predict with a saved model on an image, CSV rows or text", runPredict)
}

func runPredict(ctx context.Context, env *Env, args []string) error {
	fs := newFlags("predict", env)
	modelPath := fs.String("model", "", "a .gbx model file")
	input := fs.String("input", "", "an image (.png/.jpg), a CSV file of feature rows in the data's own units, or for a text model a file of documents, one a line; - reads stdin")
	text := fs.String("text", "", "a document for a text model (instead of --input)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *modelPath == "" || (*input == "") == (*text == "") {
		return usagef("--model and one of --input or --text are required")
	}
	p, err := predictor.Load(*modelPath)
	if err != nil {
		return err
	}
	x, err := readInput(p, *input, *text)
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

// readInput reads the inputs of predict and explain: --input FILE, or
// --text DOC for a text model.
func readInput(p *predictor.Predictor, input, text string) (*tensor.Tensor, error) {
	if text == "" {
		return p.ReadFile(input)
	}
	if p.Kind != explain.Text {
		return nil, usagef("--text: the model takes %s inputs; give them with --input FILE", p.Kind)
	}
	return p.EncodeText([]string{text})
}
