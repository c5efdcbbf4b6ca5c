package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"html/template"
	"os"
	"path/filepath"

	"github.com/glassbox-ml/glassbox/datasets"
	"github.com/glassbox-ml/glassbox/internal/atomicfile"
	"github.com/glassbox-ml/glassbox/internal/infer"
	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/nn"
)

// demoExplained is one explained test digit.
type demoExplained struct {
	Index        int     `json:"index"`
	Truth        int     `json:"truth"`
	Predicted    int     `json:"predicted"`
	Probability  float64 `json:"probability"`
	Segments     int     `json:"segments"`
	LimeR2       float64 `json:"lime_r2"`
	LimeDeletion float64 `json:"lime_deletion_auc"`
	CAMDeletion  float64 `json:"gradcam_deletion_auc"`
	IGResidual   float64 `json:"ig_completeness_residual"`
	Picture      string  `json:"picture"`
}

// demoDigits are the test digits the demo explains: the first of a few
// classes, so the pictures show different shapes.
var demoDigits = []int{0, 1, 2, 3}

// demoExplain explains a few test digits with LIME, Grad-CAM and
// integrated gradients, writes one picture per digit and an HTML report.
func demoExplain(ctx context.Context, env *Env, dir string, m nn.Module, res demoResult, test *datasets.Images, seed uint64) ([]demoExplained, string, error) {
	meta := model.Meta{Task: "classification", Classes: test.Classes, InputShape: []int{test.C, test.H, test.W}}
	var out []demoExplained
	for _, i := range demoDigits {
		if i >= test.N {
			break
		}
		pix := test.Image(i)
		sub := filepath.Join(dir, fmt.Sprintf("digit-%d", i))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return nil, "", err
		}
		e := demoExplained{Index: i, Truth: test.Labels[i]}
		for _, method := range []string{"lime", "gradcam", "ig"} {
			r, err := infer.Explain(ctx, m, meta, pix, infer.Options{Method: method, Seed: seed, Label: -1, Hide: "auto"})
			if err != nil {
				return nil, "", fmt.Errorf("explaining test digit %d with %s: %w", i, method, err)
			}
			if err := writeExplanation(sub, r); err != nil {
				return nil, "", err
			}
			e.Predicted, e.Probability = r.Label, r.Probability
			switch method {
			case "lime":
				e.Segments, e.LimeR2, e.LimeDeletion = r.Features, r.Quality["r2"], r.Quality["deletion_auc"]
				e.Picture = r.Files[0]
			case "gradcam":
				e.CAMDeletion = r.Quality["deletion_auc"]
			case "ig":
				e.IGResidual = r.Quality["completeness_residual"]
			}
		}
		out = append(out, e)
	}
	report, err := writeDemoReport(dir, res, out)
	return out, report, err
}

var demoReport = template.Must(template.New("report").Funcs(template.FuncMap{"pct": func(v float64) float64 { return 100 * v }}).Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>glassbox demo</title>
<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}
table{border-collapse:collapse}td,th{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left}
img{image-rendering:pixelated;max-width:100%}figure{margin:1.5em 0}</style></head><body>
<h1>glassbox demo</h1>
<p>{{.Data}}</p>
<h2>Linear model vs LeNet</h2>
<table><tr><th>model</th><th>parameters</th><th>test accuracy</th><th>training time</th></tr>
{{range .Models}}<tr><td>{{.Name}}</td><td>{{.Params}}</td><td>{{printf "%.2f%%" (pct .Accuracy)}}</td><td>{{printf "%.1fs" .Seconds}}</td></tr>{{end}}
</table>
<h2>Why LeNet decides what it decides</h2>
<p>For each digit: the input; LIME's superpixel weights (red raises the predicted class, blue lowers it) with its
top segments outlined; Grad-CAM on the last convolution; integrated gradients. The quality figures say how far to
trust each: LIME's surrogate R² (how well its linear model fits the network near this image) and the deletion
area (the predicted probability as the most important pixels are removed first: lower is better); integrated
gradients' completeness residual (their sum vs. the change in output it must equal).</p>
{{range .Explained}}<figure>{{range index $.Pictures .Index}}<img src="data:image/png;base64,{{.}}"><br>{{end}}
<figcaption>test digit {{.Index}}: true {{.Truth}}, predicted {{.Predicted}} (p = {{printf "%.3f" .Probability}});
LIME {{.Segments}} segments, R² {{printf "%.2f" .LimeR2}}, deletion area {{printf "%.3f" .LimeDeletion}};
Grad-CAM deletion area {{printf "%.3f" .CAMDeletion}}; IG completeness residual {{printf "%.1e" .IGResidual}}</figcaption></figure>
{{end}}</body></html>
`))

// writeDemoReport writes a self-contained HTML page (pictures inlined).
func writeDemoReport(dir string, res demoResult, ex []demoExplained) (string, error) {
	pics := map[int][]string{}
	for _, e := range ex {
		for _, m := range []string{"lime", "gradcam", "ig"} {
			b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("digit-%d", e.Index), m+".png"))
			if err != nil {
				return "", err
			}
			pics[e.Index] = append(pics[e.Index], base64.StdEncoding.EncodeToString(b))
		}
	}
	var buf bytes.Buffer
	err := demoReport.Execute(&buf, map[string]any{"Data": res.Data, "Models": res.Models, "Explained": ex, "Pictures": pics})
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "report.html")
	return path, atomicfile.WriteBytes(path, buf.Bytes())
}
