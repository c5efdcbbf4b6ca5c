package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/glassbox-ml/glassbox/modelreport"
	"github.com/glassbox-ml/glassbox/predictor"
)

func init() {
	register("report", "write one HTML report on a model: confusion, explained mistakes, weights, activations, layer-by-layer separation", runReport)
}

// reportResult is what report prints with --json.
type reportResult struct {
	Model    string          `json:"model"`
	Data     string          `json:"data"`
	Out      string          `json:"out"`
	Sections []reportSection `json:"sections"`
	Seconds  float64         `json:"seconds"`
}

type reportSection struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Omitted string `json:"omitted,omitempty"`
}

func runReport(ctx context.Context, env *Env, args []string) error {
	fs := newFlags("report", env)
	modelPath := fs.String("model", "", "a .gbx model file (or .onnx with its sidecar)")
	dataSpec := fs.String("data", "", "data SPEC whose test split the report reads (default: the model's own data, split as in training)")
	out := fs.String("out", "report.html", "the HTML file to write")
	seed := fs.Uint64("seed", 1, "seed of the explanations and activation maximisation")
	examples := fs.Int("examples", 3, "most-confused and least-certain test examples to explain (each)")
	points := fs.Int("points", 600, "test examples in each layer's projection")
	steps := fs.Int("steps", 150, "gradient-ascent steps of activation maximisation")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *modelPath == "" {
		return usagef("--model is required (example: glassbox report --model lenet.gbx --data mnist-small --out report.html)")
	}
	if *examples < 1 || *points < 4 || *steps < 1 {
		return usagef("--examples, --points and --steps want at least 1, 4 and 1")
	}
	p, err := predictor.Load(*modelPath)
	if err != nil {
		return err
	}
	d, err := p.OwnData(ctx, *dataSpec)
	if err != nil {
		return err
	}
	name := strings.TrimSuffix(filepath.Base(*modelPath), filepath.Ext(*modelPath))
	if !env.JSON && !env.Quiet {
		fmt.Fprintf(env.Stderr, "reporting on %s with the %d test examples of %s\n", name, d.Test.Len(), d.Spec)
	}
	rep, err := modelreport.Build(ctx, modelreport.Input{Name: name, Model: p, Data: d, Seed: *seed, Examples: *examples, Points: *points, Steps: *steps,
		Subtitle: fmt.Sprintf("%s on %s: %d test examples", filepath.Base(*modelPath), d.Spec, d.Test.Len())})
	if err != nil {
		return err
	}
	if err := rep.Write(*out); err != nil {
		return err
	}
	res := reportResult{Model: *modelPath, Data: d.Spec, Out: *out, Seconds: rep.Seconds}
	for _, s := range rep.Sections {
		res.Sections = append(res.Sections, reportSection{ID: s.ID, Title: s.Title, Omitted: s.Omitted})
	}
	return env.emit(res, func(w io.Writer) {
		for _, s := range res.Sections {
			if s.Omitted != "" {
				fmt.Fprintf(w, "  %-60s left out: %s\n", s.Title, s.Omitted)
			} else {
				fmt.Fprintf(w, "  %s\n", s.Title)
			}
		}
		fmt.Fprintf(w, "wrote %s in %.1fs\n", res.Out, res.Seconds)
	})
}
