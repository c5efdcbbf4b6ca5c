package modelreport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"time"

	"github.com/glassbox-ml/glassbox/internal/atomicfile"
	"github.com/glassbox-ml/glassbox/predictor"
	"github.com/glassbox-ml/glassbox/train"
)

// Input is what a report is made from. Only Model and Data are required.
type Input struct {
	// Title heads the page; Subtitle says what data and models it covers.
	Title, Subtitle string
	// Name is the reported model's name ("lenet").
	Name string
	// Model is the reported model.
	Model *predictor.Predictor
	// Data holds its splits; the report reads only the test split (and,
	// for tables, the training rows an explanation samples from).
	Data *predictor.Data
	// History is the model's training record (nil: the curves section
	// says it is unknown).
	History *train.History
	// Linear, if not nil, is a linear model on the same images whose
	// weights are drawn as class templates beside the first-layer filters.
	Linear *predictor.Predictor
	// Comparison is the linear-vs-deep table (nil: left out).
	Comparison []Row
	// Seed drives the explanations and activation maximisation.
	Seed uint64
	// Examples is how many most-confused and least-certain test examples
	// are explained (0 picks 3 of each).
	Examples int
	// Points is how many test examples the projections show (0: 600).
	Points int
	// Steps is the gradient-ascent steps of activation maximisation (0: 150).
	Steps int
	// Extra sections are appended after the report's own (the demo's
	// gallery of every explanation method).
	Extra []Section
}

// Row is one model of the comparison table.
type Row struct {
	Model    string  `json:"model"`
	Inputs   string  `json:"inputs"`
	Accuracy float64 `json:"test_accuracy"`
	Params   int     `json:"params"`
	Seconds  float64 `json:"seconds"`
	Epochs   int     `json:"epochs"`
}

// Section is one part of the report: a heading, an introduction in
// words, and either its body or the reason it is left out.
type Section struct {
	ID, Title string
	// Intro says what the section shows and how to read it.
	Intro string
	// Omitted, when not empty, says why the section does not apply.
	Omitted string
	// Body is the section's figures and tables (HTML built by this
	// package from escaped text, SVG and PNG data URIs).
	Body template.HTML
}

// Report is a built report, ready to write.
type Report struct {
	Title, Subtitle string
	Sections        []Section
	// Seconds is how long building it took.
	Seconds float64
}

// Section returns the section with the given ID, or nil.
func (r *Report) Section(id string) *Section {
	for i := range r.Sections {
		if r.Sections[i].ID == id {
			return &r.Sections[i]
		}
	}
	return nil
}

// Build computes every section of the report for in.Model on the test
// split of in.Data. Sections that do not apply carry the reason; an error
// is returned only for a broken input (no model, no test data, a model
// that cannot run on the data) or a cancelled context.
func Build(ctx context.Context, in Input) (*Report, error) {
	t0 := time.Now()
	if in.Model == nil || in.Data == nil || in.Data.Test == nil || in.Data.Test.Len() == 0 {
		return nil, errors.New("modelreport: a report needs a model and data with a non-empty test split")
	}
	if in.Examples <= 0 {
		in.Examples = 3
	}
	if in.Points <= 0 {
		in.Points = 600
	}
	if in.Steps <= 0 {
		in.Steps = 150
	}
	if in.Title == "" {
		in.Title = "What " + in.Name + " learned"
	}
	b := &builder{in: in, ctx: ctx}
	if err := b.predictTest(); err != nil {
		return nil, err
	}
	r := &Report{Title: in.Title, Subtitle: in.Subtitle}
	for _, f := range []func() (Section, error){
		b.comparison, b.curves, b.confusion, b.examples, b.firstLayer, b.activations, b.maximisation, b.representations,
	} {
		s, err := f()
		if err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r.Sections = append(r.Sections, s)
	}
	r.Sections = append(r.Sections, in.Extra...)
	r.Seconds = time.Since(t0).Seconds()
	return r, nil
}

// HTML renders the report as one self-contained page.
func (r *Report) HTML() ([]byte, error) {
	var buf bytes.Buffer
	if err := page.Execute(&buf, r); err != nil {
		return nil, fmt.Errorf("modelreport: %w", err)
	}
	return buf.Bytes(), nil
}

// Write renders the report and writes it to path atomically.
func (r *Report) Write(path string) error {
	b, err := r.HTML()
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(path, b)
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;max-width:72em;margin:2em auto;padding:0 1em;color:#222;background:#fff}
h1{font-size:1.8em;margin-bottom:.2em}h2{margin-top:2.2em;border-bottom:1px solid #ddd;padding-bottom:.2em}h3{margin:1.4em 0 .4em;font-size:1.1em}
nav ol{columns:2;padding-left:1.2em}
table{border-collapse:collapse;margin:.8em 0}td,th{padding:.3em .8em;border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
figure{display:inline-block;margin:.4em 1.2em .8em 0;vertical-align:top}figcaption{font-size:.9em;color:#444;max-width:34em}
img{image-rendering:pixelated;vertical-align:middle}svg{vertical-align:middle;overflow:visible}
.omitted{color:#666;font-style:italic}.intro{max-width:52em}.row{display:flex;flex-wrap:wrap;align-items:center;gap:.5em 1.2em}
.key{font-size:.9em;color:#444}
.words{max-width:34em;line-height:2;margin:.2em 0}.words span{padding:.15em .3em;border-radius:3px}
</style></head><body>
<h1>{{.Title}}</h1>
{{if .Subtitle}}<p>{{.Subtitle}}</p>{{end}}
<p class="key">One colour key for every signed picture on this page: <span style="color:#b2182b">red is positive</span> (a weight or attribution for the class),
white zero, <span style="color:#2166ac">blue negative</span> (against it); each picture's colour bar gives its scale.</p>
<nav><ol>{{range .Sections}}<li><a href="#{{.ID}}">{{.Title}}</a></li>{{end}}</ol></nav>
{{range .Sections}}<section id="{{.ID}}"><h2>{{.Title}}</h2>
{{if .Omitted}}<p class="omitted">Left out: {{.Omitted}}</p>{{else}}<p class="intro">{{.Intro}}</p>
{{.Body}}{{end}}</section>
{{end}}
<p class="key">Built in {{printf "%.1f" .Seconds}} s by glassbox.</p>
</body></html>
`))
