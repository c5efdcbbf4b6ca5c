package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/glassbox-ml/glassbox/data"
	"github.com/glassbox-ml/glassbox/internal/atomicfile"
	"github.com/glassbox-ml/glassbox/internal/infer"
	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/report"
	"github.com/glassbox-ml/glassbox/tensor"
)

func init() {
	register("explain", "explain one prediction: LIME, saliency, IG, SmoothGrad, Grad-CAM, occlusion or Kernel SHAP", runExplain)
}

func runExplain(ctx context.Context, env *Env, args []string) error {
	opt := infer.Options{}
	fs := newFlags("explain", env)
	modelPath := fs.String("model", "", "a .gbx model file")
	input := fs.String("input", "", "an image (.png/.jpg) for image models, a CSV file of feature rows for tables")
	fs.StringVar(&opt.Method, "method", "lime", "lime, saliency, ig, smoothgrad, gradcam, occlusion or kernelshap")
	fs.Uint64Var(&opt.Seed, "seed", 1, "seed: the same seed gives the same explanation")
	fs.IntVar(&opt.Samples, "samples", 0, "sample budget (0: the method's default: LIME 1000 images / 5000 rows, SmoothGrad 50, IG 50 steps)")
	fs.IntVar(&opt.Label, "label", -1, "output to explain (-1: the predicted class)")
	row := fs.Int("row", 0, "which CSV row to explain")
	dataSpec := fs.String("data", "", "training data SPEC, needed by LIME and Kernel SHAP on tables (their sampling statistics and background)")
	out := fs.String("out", "", "folder for explanation.json and the picture")
	fs.StringVar(&opt.Hide, "hide", "auto", "how image LIME hides a superpixel: mean (its mean colour), constant (--hide-value), blur, or auto (constant for grey images, whose background is a constant, mean for colour)")
	fs.Float64Var(&opt.HideValue, "hide-value", 0, "the colour of hidden superpixels with --hide constant (0: black)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *modelPath == "" || *input == "" || *out == "" {
		return usagef("--model, --input and --out are required")
	}
	if !contains(infer.Methods, opt.Method) {
		return usagef("unknown --method %q (use one of %v)", opt.Method, infer.Methods)
	}
	m, meta, err := model.Load(*modelPath)
	if err != nil {
		return err
	}
	x, err := infer.ReadInput(*input, meta)
	if err != nil {
		return err
	}
	if *row < 0 || *row >= x.Dim(0) {
		return fmt.Errorf("--row %d: the input has %d rows", *row, x.Dim(0))
	}
	if *dataSpec != "" {
		if opt.Train, err = trainingRows(ctx, *dataSpec); err != nil {
			return err
		}
	}
	res, err := infer.Explain(ctx, m, meta, x.Row(*row).Contiguous().Data(), opt)
	if err != nil {
		return err
	}
	if err := writeExplanation(*out, res); err != nil {
		return err
	}
	return env.emit(res, func(w io.Writer) { printExplanation(w, res) })
}

// trainingRows returns the training split of a data SPEC in the data's
// own units (split with seed 1, as train does by default).
func trainingRows(ctx context.Context, spec string) (*tensor.Tensor, error) {
	p, err := ResolveData(ctx, spec, 1)
	if err != nil {
		return nil, err
	}
	x, _ := data.Materialize(p.Train)
	return x.Reshape(x.Dim(0), -1), nil
}

// writeExplanation writes dir/METHOD.png and dir/explanation.json (the
// summary and the method's full result) and lists them in res.Files.
func writeExplanation(dir string, res *infer.Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if res.Picture != nil {
		path := filepath.Join(dir, res.Method+".png")
		if err := report.WritePNG(path, res.Picture); err != nil {
			return err
		}
		res.Files = append(res.Files, path)
	}
	jsonPath := filepath.Join(dir, "explanation.json")
	res.Files = append(res.Files, jsonPath)
	full, err := json.MarshalIndent(map[string]any{"summary": res, "details": res.Details}, "", " ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(jsonPath, full)
}

func printExplanation(w io.Writer, res *infer.Result) {
	fmt.Fprintf(w, "%s explanation of output %d", res.Method, res.Label)
	if res.LabelName != "" {
		fmt.Fprintf(w, " (%s, p=%.3f)", res.LabelName, res.Probability)
	}
	fmt.Fprintf(w, ", seed %d, %d features\n", res.Seed, res.Features)
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
	for _, file := range res.Files {
		fmt.Fprintf(w, "wrote %s\n", file)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
