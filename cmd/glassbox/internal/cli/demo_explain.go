package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/predictor"
	"github.com/glassbox-ml/glassbox/tensor"
)

// demoExplained is one explained test digit.
type demoExplained struct {
	Index       int          `json:"index"`
	Truth       int          `json:"truth"`
	Predicted   int          `json:"predicted"`
	Probability float64      `json:"probability"`
	Methods     []demoMethod `json:"methods"`
}

// demoMethod is one method's explanation of a digit.
type demoMethod struct {
	Method     string             `json:"method"`
	Title      string             `json:"title"`
	Features   int                `json:"features"`
	ModelCalls int                `json:"model_calls"`
	Seconds    float64            `json:"seconds"`
	Quality    map[string]float64 `json:"quality"`
	Picture    string             `json:"picture"`
}

// figures is the method's quality figures as one short line.
func (m demoMethod) figures() string {
	keys := make([]string, 0, len(m.Quality))
	for k := range m.Quality {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %.3g", k, m.Quality[k])
	}
	return strings.Join(parts, ", ")
}

// demoDigits are the test digits the demo explains: the first of a few
// classes, so the pictures show different shapes.
var demoDigits = []int{0, 1, 2, 3}

// demoExplain explains a few test digits with every method of the
// registry that applies to the model and writes one picture per digit and
// method.
func demoExplain(ctx context.Context, dir string, t *predictor.Trained, seed uint64, logf func(string, ...any)) ([]demoExplained, error) {
	test := t.Data.Test
	methods := t.Methods()
	var out []demoExplained
	x := make([]float32, tensor.Numel(test.XShape()))
	y := make([]float32, tensor.Numel(test.YShape()))
	for _, i := range demoDigits {
		if i >= test.Len() {
			break
		}
		test.Read(i, x, y)
		e := demoExplained{Index: i, Truth: int(y[0])}
		logf("explaining test digit %d with %d methods\n", i, len(methods))
		for _, mi := range methods {
			r, err := t.Explain(ctx, mi.Name, x, explain.Options{Seed: seed})
			if err != nil {
				return nil, fmt.Errorf("explaining test digit %d with %s: %w", i, mi.Name, err)
			}
			files, err := writeExplanation(filepath.Join(dir, fmt.Sprintf("digit-%d", i), mi.Name), r, t.Predictor, x)
			if err != nil {
				return nil, err
			}
			e.Predicted, e.Probability = r.Label, r.Probability
			e.Methods = append(e.Methods, demoMethod{Method: mi.Name, Title: mi.Title, Features: r.Features,
				ModelCalls: r.ModelCalls, Seconds: r.Seconds, Quality: r.Quality, Picture: files[0]})
		}
		out = append(out, e)
	}
	return out, nil
}
