package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/internal/atomicfile"
	"github.com/glassbox-ml/glassbox/predictor"
	"github.com/glassbox-ml/glassbox/report"
)

func init() {
	register("explain", "explain one prediction with any method of the registry ("+strings.Join(explain.MethodNames(), ", ")+")", runExplain)
}

// methodHelp lists the registered methods for --method's help text.
func methodHelp() string {
	var b strings.Builder
	b.WriteString("explanation method:")
	for _, mi := range explain.Methods() {
		kinds := make([]string, len(mi.Inputs))
		for i, k := range mi.Inputs {
			kinds[i] = string(k)
		}
		fmt.Fprintf(&b, "\n    %-11s %s (%s)", mi.Name, mi.Summary, strings.Join(kinds, ", "))
		if mi.Budget != "" {
			fmt.Fprintf(&b, "; --samples counts %s, default %s", mi.Budget, mi.DefaultBudget)
		}
	}
	return b.String()
}

func runExplain(ctx context.Context, env *Env, args []string) error {
	var opt explain.Options
	fs := newFlags("explain", env)
	modelPath := fs.String("model", "", "a .gbx model file")
	input := fs.String("input", "", "an image (.png/.jpg) for image models, a CSV file of feature rows (in the data's own units) for tables")
	method := fs.String("method", "lime", methodHelp())
	fs.Uint64Var(&opt.Seed, "seed", 1, "seed: the same seed gives the same explanation")
	fs.IntVar(&opt.Samples, "samples", 0, "sample budget (0: the method's default; see --method)")
	label := fs.Int("label", -1, "output to explain (-1: the predicted class)")
	row := fs.Int("row", 0, "which CSV row to explain")
	id := fs.String("id", "", "the row's id in a batch run (glassbox-beam: FILE:ROW for CSV rows, the id field of JSON Lines, the image's path): explain with the seed derived from --seed and the id (explain.RowSeed), giving that run's record for the row")
	dataSpec := fs.String("data", "", "data SPEC whose training split LIME and Kernel SHAP sample from on tables (default: the model's own training data)")
	out := fs.String("out", "", "folder for explanation.json and the picture")
	hide := fs.String("hide", "auto", "how image LIME hides a superpixel: mean (its mean colour), constant (--hide-value), blur, or auto (constant for grey images, whose background is a constant, mean for colour)")
	hideValue := fs.Float64("hide-value", 0, "the colour of hidden superpixels with --hide constant (0: black)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *modelPath == "" || *input == "" || *out == "" {
		return usagef("--model, --input and --out are required")
	}
	m, err := explain.Lookup(*method)
	if err != nil {
		return usagef("--method: %v", err)
	}
	if *id != "" {
		opt.Seed = explain.RowSeed(opt.Seed, *id)
	}
	switch {
	case *label < -1:
		return usagef("--label %d: want an output index, or -1 for the predicted class", *label)
	case *label >= 0:
		opt.Label = explain.Class(*label)
	}
	if opt.Samples < 0 || opt.Samples > explain.MaxSamples {
		return usagef("--samples %d: want 0 (the method's default) to %d", opt.Samples, explain.MaxSamples)
	}
	switch *hide {
	case "auto", "mean", "constant", "blur":
		opt.Hide, opt.HideValue = explain.Hide(*hide), float32(*hideValue)
	default:
		return usagef("--hide %q: want auto, mean, constant or blur", *hide)
	}
	p, err := predictor.Load(*modelPath)
	if err != nil {
		return err
	}
	x, err := p.ReadFile(*input)
	if err != nil {
		return err
	}
	if *row < 0 || *row >= x.Dim(0) {
		return fmt.Errorf("--row %d: the input has %d rows", *row, x.Dim(0))
	}
	if m.Info().Needs&explain.NeedsBackground != 0 {
		if err := p.LoadBackground(ctx, *dataSpec); err != nil {
			return fmt.Errorf("%s needs the model's training rows: %w", *method, err)
		}
	}
	xi := x.Row(*row).Contiguous().Data()
	res, err := p.Explain(ctx, *method, xi, opt)
	if err != nil {
		return err
	}
	files, err := writeExplanation(*out, res, p, xi)
	if err != nil {
		return err
	}
	rec := explainRecord{Result: res, Files: files}
	return env.emit(rec, func(w io.Writer) { printExplanation(w, rec) })
}

// explainRecord is what explain prints: the explanation's record and the
// files written.
type explainRecord struct {
	*explain.Result
	Files []string `json:"files,omitempty"`
}

// writeExplanation writes dir/METHOD.png and dir/explanation.json (the
// record and the method's full result) and returns their paths.
func writeExplanation(dir string, res *explain.Result, p *predictor.Predictor, x []float32) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	if pic := p.Picture(res, x); pic != nil {
		path := filepath.Join(dir, res.Method+".png")
		if err := report.WritePNG(path, pic); err != nil {
			return nil, err
		}
		files = append(files, path)
	}
	jsonPath := filepath.Join(dir, "explanation.json")
	files = append(files, jsonPath)
	full, err := json.MarshalIndent(map[string]any{"summary": explainRecord{res, files}, "details": res.Details}, "", " ")
	if err != nil {
		return nil, err
	}
	return files, atomicfile.WriteBytes(jsonPath, full)
}

func printExplanation(w io.Writer, rec explainRecord) {
	res := rec.Result
	fmt.Fprintf(w, "%s explanation of output %d", res.Method, res.Label)
	if res.LabelName != "" {
		fmt.Fprintf(w, " (%s, p=%.3f)", res.LabelName, res.Probability)
	}
	fmt.Fprintf(w, ", seed %d, %d features, %d model calls\n", res.Seed, res.Features, res.ModelCalls)
	if res.Layer != "" {
		fmt.Fprintf(w, "  layer %s\n", res.Layer)
	}
	keys := make([]string, 0, len(res.Quality))
	for k := range res.Quality {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %-22s %.4g\n", k, res.Quality[k])
	}
	for i, t := range res.Top {
		if i == 10 {
			break
		}
		fmt.Fprintf(w, "  %+9.4f  %s\n", t.Weight, t.Name)
	}
	for _, wn := range res.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", wn)
	}
	for _, file := range rec.Files {
		fmt.Fprintf(w, "wrote %s\n", file)
	}
}
