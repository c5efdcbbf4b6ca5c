package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/internal/atomicfile"
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
// registry that applies to the model, writes one picture per digit and
// method, and the HTML report.
func demoExplain(ctx context.Context, dir string, t *predictor.Trained, res demoResult, seed uint64, logf func(string, ...any)) ([]demoExplained, string, error) {
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
				return nil, "", fmt.Errorf("explaining test digit %d with %s: %w", i, mi.Name, err)
			}
			files, err := writeExplanation(filepath.Join(dir, fmt.Sprintf("digit-%d", i), mi.Name), r, t.Predictor, x)
			if err != nil {
				return nil, "", err
			}
			e.Predicted, e.Probability = r.Label, r.Probability
			e.Methods = append(e.Methods, demoMethod{Method: mi.Name, Title: mi.Title, Features: r.Features,
				ModelCalls: r.ModelCalls, Seconds: r.Seconds, Quality: r.Quality, Picture: files[0], Verdict: r.Verdict})
		}
		out = append(out, e)
	}
	report, err := writeDemoReport(dir, res, out, methods)
	return out, report, err
}

var demoReport = template.Must(template.New("report").Funcs(template.FuncMap{"pct": func(v float64) float64 { return 100 * v }}).Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>glassbox demo</title>
<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}
table{border-collapse:collapse}td,th{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
img{image-rendering:pixelated;max-width:100%}figure{margin:1.5em 0}</style></head><body>
<h1>glassbox demo</h1>
<p>{{.Data}}</p>
<h2>Linear model vs LeNet</h2>
<table><tr><th>model</th><th>parameters</th><th>test accuracy</th><th>training time</th></tr>
{{range .Models}}<tr><td>{{.Name}}</td><td>{{.Params}}</td><td>{{printf "%.2f%%" (pct .Accuracy)}}</td><td>{{printf "%.1fs" .Seconds}}</td></tr>{{end}}
</table>
<h2>Why LeNet decides what it decides</h2>
<p>Each digit is explained by every method that applies to the model. Red raises the predicted class, blue lowers it.
The figures under each picture say how far to trust it: the deletion area (the predicted probability as the most
important pixels are removed first: lower is better) and insertion area (higher is better) for every method;
LIME's surrogate R² (how well its linear model fits the network near this image); the completeness residual of
integrated gradients, DeepLIFT and LRP (their sum vs. the change in output it must equal; LRP's relevance also
leaks into the biases); Kernel SHAP's additivity error; GradientSHAP's relative standard error.
The verdict under each picture judges these figures and the cheap checks (faithfulness correlation, sparseness) against
thresholds calibrated on models whose answer is known; <code>glassbox explain --checks all</code> adds the
randomisation and robustness tests, and <code>--method auto</code> ranks the methods by all of them.</p>
<table><tr><th>method</th><th>what it does</th></tr>
{{range .Methods}}<tr><td>{{.Title}}</td><td>{{.Summary}}</td></tr>{{end}}</table>
{{range .Explained}}<h3>test digit {{.Index}}: true {{.Truth}}, predicted {{.Predicted}} (p = {{printf "%.3f" .Probability}})</h3>
{{$pics := index $.Pictures .Index}}{{range $i, $m := .Methods}}<figure><img src="data:image/png;base64,{{index $pics $i}}">
<figcaption>{{$m.Title}}: {{$m.Features}} features, {{$m.ModelCalls}} model calls, {{printf "%.2fs" $m.Seconds}}. {{$m.Figures}}{{with $m.Verdict}}<br><strong>{{.Level}}</strong>: {{.Words}}{{end}}</figcaption></figure>
{{end}}{{end}}</body></html>
`))

// reportMethod is a demoMethod with its figures line, for the template.
type reportMethod struct {
	demoMethod
	Figures string
}

// writeDemoReport writes a self-contained HTML page (pictures inlined).
func writeDemoReport(dir string, res demoResult, ex []demoExplained, methods []explain.MethodInfo) (string, error) {
	pics := map[int][]string{}
	type reportDigit struct {
		demoExplained
		Methods []reportMethod
	}
	var digits []reportDigit
	for _, e := range ex {
		d := reportDigit{demoExplained: e}
		for _, m := range e.Methods {
			b, err := os.ReadFile(m.Picture)
			if err != nil {
				return "", err
			}
			pics[e.Index] = append(pics[e.Index], base64.StdEncoding.EncodeToString(b))
			d.Methods = append(d.Methods, reportMethod{m, m.figures()})
		}
		digits = append(digits, d)
	}
	var buf bytes.Buffer
	err := demoReport.Execute(&buf, map[string]any{"Data": res.Data, "Models": res.Models, "Explained": digits, "Pictures": pics, "Methods": methods})
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "report.html")
	return path, atomicfile.WriteBytes(path, buf.Bytes())
}
