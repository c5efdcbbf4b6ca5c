package cli

import (
	"context"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"

	"github.com/glassbox-ml/glassbox/data"
	"github.com/glassbox-ml/glassbox/inspect"
	"github.com/glassbox-ml/glassbox/internal/atomicfile"
	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/onnx"
	"github.com/glassbox-ml/glassbox/predictor"
	"github.com/glassbox-ml/glassbox/report"
	"github.com/glassbox-ml/glassbox/tensor"
)

func init() {
	register("inspect", "show what a model learned: summary, filters, activation maps, maximised channels, hidden representations", runInspect)
}

// inspectResult is what inspect prints with --json.
type inspectResult struct {
	Model           string           `json:"model"`
	Layers          int              `json:"layers"`
	Params          int              `json:"params"`
	Files           []string         `json:"files"`
	Summary         string           `json:"summary"`
	Representations []inspectRep     `json:"representations,omitempty"`
	Maximised       *inspectMaximise `json:"maximised,omitempty"`
	Warnings        []string         `json:"warnings,omitempty"`
}

// inspectRep is one projected representation and its separation scores.
type inspectRep struct {
	Layer     int                 `json:"layer"`
	Name      string              `json:"name"`
	Dim       int                 `json:"dim"`
	Points    int                 `json:"points"`
	Explained [2]float64          `json:"explained"`
	Scores    *inspect.Separation `json:"separation,omitempty"`
	File      string              `json:"file"`
}

// inspectMaximise is a maximisation sheet and the file it was drawn in.
type inspectMaximise struct {
	inspect.Maximized
	File string `json:"file"`
}

type inspectFlags struct {
	model, data, input, out string
	seed                    uint64
	samples, channels       int
	steps                   int
}

func runInspect(ctx context.Context, env *Env, args []string) error {
	var f inspectFlags
	fs := newFlags("inspect", env)
	fs.StringVar(&f.model, "model", "", "a .gbx model file")
	fs.StringVar(&f.data, "data", "", "data SPEC whose test split feeds the representation plots and the activation maps without --input (default: the model's own data, split as in training)")
	fs.StringVar(&f.input, "input", "", "an image (.png/.jpg) or CSV row file whose first example the activation maps show")
	fs.StringVar(&f.out, "out", "", "folder for summary.txt and the pictures")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of activation maximisation's starting noise")
	fs.IntVar(&f.samples, "samples", 1000, "test examples projected in the representation plots")
	fs.IntVar(&f.channels, "channels", 8, "channels of the last convolution (or classes of an image model without one) to maximise")
	fs.IntVar(&f.steps, "steps", 0, "gradient-ascent steps of activation maximisation (0: 200)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if f.model == "" || f.out == "" {
		return usagef("--model and --out are required")
	}
	if f.samples < 2 {
		return usagef("--samples %d: a projection needs at least 2 examples", f.samples)
	}
	if f.channels < 0 || f.steps < 0 {
		return usagef("--channels and --steps must be ≥ 0")
	}
	res, err := inspectModel(ctx, env, f)
	if err != nil {
		return err
	}
	return env.emit(res, func(w io.Writer) { printInspect(w, res) })
}

func inspectModel(ctx context.Context, env *Env, f inspectFlags) (*inspectResult, error) {
	p, err := predictor.Load(f.model)
	if err != nil {
		return nil, err
	}
	m, shape := p.Module, p.InputShape
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return nil, err
	}
	res := &inspectResult{Model: f.model, Params: nn.NumParams(m)}
	logf := func(format string, a ...any) {
		if !env.JSON && !env.Quiet {
			fmt.Fprintf(env.Stderr, format, a...)
		}
	}
	var summary string
	if g, ok := m.(*onnx.Module); ok {
		// An imported graph: its operators, shapes and parameters.
		summary = onnx.Summary(g.Model())
	} else if summary, err = model.Summary(m, shape); err != nil {
		return nil, err
	}
	res.Summary = summary
	path := filepath.Join(f.out, "summary.txt")
	if err := atomicfile.WriteBytes(path, []byte(summary)); err != nil {
		return nil, err
	}
	res.Files = append(res.Files, path)
	layers, err := inspect.Layers(m)
	if err != nil {
		res.Warnings = append(res.Warnings, fmt.Sprintf("only the summary is written: %v", err))
		return res, nil
	}
	res.Layers = len(layers)
	writePNG := func(name string, img image.Image) (string, error) {
		p := filepath.Join(f.out, name)
		if err := report.WritePNG(p, img); err != nil {
			return "", err
		}
		res.Files = append(res.Files, p)
		return p, nil
	}

	// Filters of every convolution.
	convs, _ := inspect.ConvLayers(m)
	for _, i := range convs {
		img, err := inspect.LayerFilters(m, i)
		if err != nil {
			return nil, err
		}
		if _, err := writePNG("filters-"+fileName(layers, i)+".png", img); err != nil {
			return nil, err
		}
	}

	// Test data, preprocessed as the model was trained: the model's own
	// data and split unless --data names other data.
	var test data.Dataset
	if f.data != "" || p.Recipe != nil {
		d, err := p.OwnData(ctx, f.data)
		if err != nil {
			return nil, err
		}
		logf("loaded %s\n", d.Spec)
		test = p.Prepared(d.Test)
	}

	// Activation maps of one input.
	var x []float32
	switch {
	case f.input != "":
		t, err := p.ReadFile(f.input)
		if err != nil {
			return nil, err
		}
		x = t.Row(0).Contiguous().Data()
		p.ToModel(x)
	case test != nil && test.Len() > 0:
		x = make([]float32, tensor.Numel(shape))
		test.Read(0, x, make([]float32, tensor.Numel(test.YShape())))
	default:
		res.Warnings = append(res.Warnings, "no --input or --data: activations.png is not drawn")
	}
	if x != nil {
		acts, err := inspect.Activations(ctx, m, x, shape)
		if err != nil {
			return nil, err
		}
		img, err := inspect.ActivationMaps(x, shape, acts, inspect.MapOptions{})
		if err != nil {
			return nil, err
		}
		if _, err := writePNG("activations.png", img); err != nil {
			return nil, err
		}
	}

	// Hidden representation: the input against the last hidden layer.
	if test != nil {
		classes := 0
		if p.Task == predictor.Classification && len(test.YShape()) == 0 {
			classes = len(p.Classes)
		}
		targets := []int{inspect.InputLayer}
		if h, err := inspect.LastHidden(m); err == nil {
			targets = append(targets, h)
		} else {
			res.Warnings = append(res.Warnings, err.Error())
		}
		for _, layer := range targets {
			name := "input"
			if layer != inspect.InputLayer {
				name = fileName(layers, layer)
			}
			logf("projecting %d test examples at %s\n", min(f.samples, test.Len()), name)
			proj, err := inspect.ProjectDataset(ctx, m, layer, test, f.samples, classes)
			if err != nil {
				return nil, err
			}
			file, err := writePNG("representation-"+name+".png", inspect.ScatterPlot(proj, p.Classes))
			if err != nil {
				return nil, err
			}
			res.Representations = append(res.Representations, inspectRep{Layer: layer, Name: proj.Name, Dim: proj.Dim,
				Points: len(proj.Points), Explained: proj.Explained, Scores: proj.Separation, File: file})
		}
	}

	// Activation maximisation of the last convolution's channels (or of the
	// classes of an image model without convolutions).
	if len(shape) == 3 && f.channels > 0 {
		layer := len(layers) - 1
		if len(convs) > 0 {
			layer = convs[len(convs)-1]
		}
		logf("maximising up to %d channels of layer %d (%s)\n", f.channels, layer, inspect.LayerName(layers[layer], layer))
		mx, img, err := inspect.MaximizeChannels(ctx, m, shape, layer, f.channels, inspect.MaximizeOptions{Seed: f.seed, Steps: f.steps})
		if err != nil {
			return nil, err
		}
		if mx != nil {
			file, err := writePNG("maximise-"+fileName(layers, mx.Layer)+".png", img)
			if err != nil {
				return nil, err
			}
			res.Maximised = &inspectMaximise{Maximized: *mx, File: file}
		}
	}
	return res, nil
}

// fileName is a layer's name made safe for a file name.
func fileName(layers []nn.Module, i int) string {
	b := []byte(inspect.LayerName(layers[i], i))
	for k, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[k] = '_'
		}
	}
	return string(b)
}

func printInspect(w io.Writer, res *inspectResult) {
	fmt.Fprintf(w, "%s: %d layers, %d parameters\n", res.Model, res.Layers, res.Params)
	fmt.Fprint(w, res.Summary)
	for _, r := range res.Representations {
		fmt.Fprintf(w, "  %-12s %5d dims, PC1+PC2 keep %5.1f%% of the variance", r.Name, r.Dim, 100*(r.Explained[0]+r.Explained[1]))
		if r.Scores != nil {
			fmt.Fprintf(w, ", silhouette %+.3f, nearest-centroid accuracy %.1f%%", r.Scores.Silhouette, 100*r.Scores.CentroidAccuracy)
		}
		fmt.Fprintln(w)
	}
	if len(res.Representations) == 2 && res.Representations[0].Scores != nil && res.Representations[1].Scores != nil {
		in, h := res.Representations[0], res.Representations[1]
		verdict := "better"
		if h.Scores.Silhouette <= in.Scores.Silhouette {
			verdict = "no better"
		}
		fmt.Fprintf(w, "  classes separate %s at layer %d (%s) than at the input (silhouette %+.3f vs %+.3f)\n",
			verdict, h.Layer, h.Name, h.Scores.Silhouette, in.Scores.Silhouette)
	}
	if mx := res.Maximised; mx != nil {
		fmt.Fprintf(w, "  maximised %d channels of layer %d (%s): activation", len(mx.Channels), mx.Layer, mx.Name)
		for i := range mx.Channels {
			fmt.Fprintf(w, " %.2f→%.2f", mx.Grey[i], mx.Final[i])
		}
		fmt.Fprintln(w, " (channel mean, grey input → synthetic)")
	}
	for _, wn := range res.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", wn)
	}
	for _, file := range res.Files {
		fmt.Fprintf(w, "wrote %s\n", file)
	}
}
