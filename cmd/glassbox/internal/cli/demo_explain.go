package cli

import (
	"context"
	"encoding/base64"
	"fmt"
	"github.com/glassbox-ml/glassbox/modelreport"
	"html/template"
	"os"
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
	// Verdict is the checks' verdict in words (package explain/check).
	Verdict *explain.Verdict `json:"verdict,omitempty"`
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
				ModelCalls: r.ModelCalls, Seconds: r.Seconds, Quality: r.Quality, Picture: files[0], Verdict: r.Verdict})
		}
		out = append(out, e)
	}
	return out, nil
}

// demoGallery is the report section showing every method's picture of the
// explained digits, with each method's trust figures.
func demoGallery(ex []demoExplained, methods []explain.MethodInfo) (modelreport.Section, error) {
	s := modelreport.Section{ID: "methods", Title: "Every explanation method on the same digits",
		Intro: "Each digit explained by every method of the registry that applies to LeNet, for the predicted class. In each picture red raises " +
			"the class and blue lowers it; LIME's segment picture tints the segments that support the class green and those that oppose it " +
			"magenta. Under each: the deletion area (probability as the most important pixels are removed first: lower is better), insertion " +
			"area (higher is better), and each method's own check (LIME's surrogate R²; the completeness residual of integrated gradients, " +
			"DeepLIFT and LRP, whose relevance also leaks into the biases; Kernel SHAP's additivity error; GradientSHAP's relative standard " +
			"error). The verdict judges these figures and the cheap checks (faithfulness correlation, sparseness) against thresholds " +
			"calibrated on models whose answer is known; glassbox explain --checks all adds the randomisation and robustness tests, and " +
			"--method auto ranks the methods by all of them."}
	var b strings.Builder
	b.WriteString(`<table><tr><th>method</th><th>what it does</th></tr>`)
	for _, m := range methods {
		fmt.Fprintf(&b, `<tr><td>%s</td><td>%s</td></tr>`, template.HTMLEscapeString(m.Title), template.HTMLEscapeString(m.Summary))
	}
	b.WriteString(`</table>`)
	for _, e := range ex {
		fmt.Fprintf(&b, `<h3>test digit %d: true %d, predicted %d (p = %.3f)</h3>`, e.Index, e.Truth, e.Predicted, e.Probability)
		for _, m := range e.Methods {
			pic, err := os.ReadFile(m.Picture)
			if err != nil {
				return s, err
			}
			verdict := ""
			if v := m.Verdict; v != nil {
				verdict = fmt.Sprintf(`<br><strong>%s</strong>: %s`, template.HTMLEscapeString(v.Level), template.HTMLEscapeString(v.Words))
			}
			fmt.Fprintf(&b, `<figure><img src="data:image/png;base64,%s" alt="%s"><figcaption>%s: %d features, %d model calls, %.2fs. %s%s</figcaption></figure>`,
				base64.StdEncoding.EncodeToString(pic), template.HTMLEscapeString(m.Method), template.HTMLEscapeString(m.Title), m.Features,
				m.ModelCalls, m.Seconds, template.HTMLEscapeString(m.figures()), verdict)
		}
	}
	s.Body = template.HTML(b.String())
	return s, nil
}
