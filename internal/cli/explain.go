package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/glassbox-ml/glassbox/data"
	"github.com/glassbox-ml/glassbox/datasets"
	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/explain/adapt"
	"github.com/glassbox-ml/glassbox/explain/segment"
	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/report"
	"github.com/glassbox-ml/glassbox/tensor"
)

func init() {
	register("explain", "explain one prediction: LIME, saliency, IG, SmoothGrad, Grad-CAM, occlusion or Kernel SHAP", runExplain)
}

// explainMethods are the methods explain knows.
var explainMethods = []string{"lime", "saliency", "ig", "smoothgrad", "gradcam", "occlusion", "kernelshap"}

// ExplainResult is the summary explain prints and stores next to the
// method's full result: what was explained, with which budget and seed,
// and how far the explanation can be trusted.
type ExplainResult struct {
	Method      string  `json:"method"`
	Seed        uint64  `json:"seed"`
	Samples     int     `json:"samples,omitempty"`
	Label       int     `json:"label"`
	LabelName   string  `json:"label_name,omitempty"`
	Probability float64 `json:"probability,omitempty"`
	Value       float64 `json:"value,omitempty"`
	// Features is the number of interpretable features: superpixels for
	// image LIME and Kernel SHAP, pixels for gradient maps, columns for
	// tables.
	Features int `json:"features"`
	// Quality holds the figures that say how far to trust the result:
	// r2 and local_error (surrogates), completeness_residual (IG),
	// deletion_auc and insertion_auc (image attributions), sum_error
	// (Kernel SHAP).
	Quality map[string]float64 `json:"quality"`
	// Top lists the most important features, largest |weight| first.
	Top      []explain.FeatureWeight `json:"top,omitempty"`
	Files    []string                `json:"files"`
	Warnings []string                `json:"warnings,omitempty"`
	Seconds  float64                 `json:"seconds"`
	// Details is the method's full result (weights, maps, timings).
	Details any `json:"-"`
}

type explainFlags struct {
	model, input, method, out, data string
	hide                            string
	hideValue                       float64
	seed                            uint64
	samples, label, row             int
}

func runExplain(ctx context.Context, env *Env, args []string) error {
	var f explainFlags
	fs := newFlags("explain", env)
	fs.StringVar(&f.model, "model", "", "a .gbx model file")
	fs.StringVar(&f.input, "input", "", "an image (.png/.jpg) for image models, a CSV file of feature rows for tables")
	fs.StringVar(&f.method, "method", "lime", "lime, saliency, ig, smoothgrad, gradcam, occlusion or kernelshap")
	fs.Uint64Var(&f.seed, "seed", 1, "seed: the same seed gives the same explanation")
	fs.IntVar(&f.samples, "samples", 0, "sample budget (0: the method's default: LIME 1000 images / 5000 rows, SmoothGrad 50, IG 50 steps)")
	fs.IntVar(&f.label, "label", -1, "output to explain (-1: the predicted class)")
	fs.IntVar(&f.row, "row", 0, "which CSV row to explain")
	fs.StringVar(&f.data, "data", "", "training data SPEC, needed by LIME and Kernel SHAP on tables (their sampling statistics and background)")
	fs.StringVar(&f.out, "out", "", "folder for explanation.json and the pictures")
	fs.StringVar(&f.hide, "hide", "auto", "how image LIME hides a superpixel: mean (its mean colour), constant (--hide-value), blur, or auto (constant for grey images, whose background is a constant, mean for colour)")
	fs.Float64Var(&f.hideValue, "hide-value", 0, "the colour of hidden superpixels with --hide constant (0: black)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if f.model == "" || f.input == "" || f.out == "" {
		return usagef("--model, --input and --out are required")
	}
	if !contains(explainMethods, f.method) {
		return usagef("unknown --method %q (use one of %v)", f.method, explainMethods)
	}
	m, meta, err := model.Load(f.model)
	if err != nil {
		return err
	}
	x, err := ReadInput(f.input, meta)
	if err != nil {
		return err
	}
	if f.row < 0 || f.row >= x.Dim(0) {
		return fmt.Errorf("--row %d: the input has %d rows", f.row, x.Dim(0))
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return err
	}
	res, err := Explain(ctx, m, meta, x.Row(f.row).Contiguous().Data(), f)
	if err != nil {
		return err
	}
	full, _ := json.MarshalIndent(map[string]any{"summary": res, "details": res.Details}, "", " ")
	jsonPath := filepath.Join(f.out, "explanation.json")
	if err := writeFileAtomic(jsonPath, full); err != nil {
		return err
	}
	res.Files = append(res.Files, jsonPath)
	return env.emit(res, func(w io.Writer) {
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
	})
}

// Explain runs one explanation method on one input x (one example, in
// the model's input layout, already preprocessed as the model expects)
// and writes its pictures into f.out.
func Explain(ctx context.Context, m nn.Module, meta model.Meta, x []float32, f explainFlags) (*ExplainResult, error) {
	t0 := time.Now()
	shape := meta.InputShape
	classify := meta.Task != "regression"
	probs := adapt.Func(m, shape, adapt.Probs())
	if !classify {
		probs = adapt.Func(m, shape)
	}
	out, err := probs(ctx, x, 1)
	if err != nil {
		return nil, err
	}
	res := &ExplainResult{Method: f.method, Seed: f.seed, Quality: map[string]float64{}}
	res.Label = f.label
	if res.Label < 0 {
		res.Label = 0
		if classify {
			res.Label = argmax(out)
		}
	}
	if res.Label >= len(out) {
		return nil, fmt.Errorf("--label %d: the model has %d outputs", res.Label, len(out))
	}
	if classify {
		res.Probability = float64(out[res.Label])
		if res.Label < len(meta.Classes) {
			res.LabelName = meta.Classes[res.Label]
		}
	} else {
		res.Value = float64(out[0])*float64(meta.TargetStd) + float64(meta.TargetMean)
	}
	if len(shape) == 3 {
		err = explainImage(ctx, m, meta, x, probs, f, res)
	} else {
		err = explainTable(ctx, m, meta, x, f, res)
	}
	if err != nil {
		return nil, err
	}
	res.Seconds = time.Since(t0).Seconds()
	return res, nil
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// explainImage runs an image method and writes overlay pictures.
func explainImage(ctx context.Context, m nn.Module, meta model.Meta, pix []float32, probs explain.Func, f explainFlags, res *ExplainResult) error {
	c, h, w := meta.InputShape[0], meta.InputShape[1], meta.InputShape[2]
	logits := adapt.Grad(m, meta.InputShape, false)
	var attr []float32 // H·W per-pixel attribution
	var labels []int   // superpixels, for LIME and Kernel SHAP pictures
	var segWeights []float64
	switch f.method {
	case "lime":
		hide := explain.Hide(f.hide)
		if f.hide == "auto" {
			hide = explain.HideMean
			if c == 1 {
				// On grey digits a stroke segment's mean is still a
				// stroke, so "hidden" segments stay visible.
				hide = explain.HideConstant
			}
		}
		e, err := explain.ExplainImage(ctx, probs, pix, c, h, w, explain.ImageOptions{Seed: f.seed, Samples: f.samples, Labels: []int{res.Label}, ClassNames: meta.Classes,
			Hide: hide, HideValue: float32(f.hideValue)})
		if err != nil {
			return err
		}
		le := e.Label(res.Label)
		res.Details, res.Samples, res.Features = e, e.Samples, e.Segmentation.N
		res.Quality["r2"], res.Quality["local_error"] = le.Score, le.LocalError
		res.Top = le.Weights
		res.Warnings = e.Quality.Warnings
		attr = e.PixelAttribution(res.Label)
		labels = e.Segmentation.Labels
		segWeights = make([]float64, e.Segmentation.N)
		for _, fw := range le.Weights {
			segWeights[fw.Feature] = fw.Weight
		}
	case "kernelshap":
		seg, err := segment.Auto(pix, c, h, w)
		if err != nil {
			return err
		}
		e, err := superpixelSHAP(ctx, probs, pix, c, h, w, seg, res.Label, f)
		if err != nil {
			return err
		}
		sl := e.Labels[0]
		res.Details, res.Samples, res.Features = e, e.Coalitions, seg.N
		res.Quality["sum_error"] = shapSumError(sl)
		res.Top = e.Ranked(res.Label)
		labels, segWeights = seg.Labels, sl.Values
		attr = make([]float32, h*w)
		for p, s := range seg.Labels {
			attr[p] = float32(sl.Values[s])
		}
	case "saliency", "ig", "smoothgrad":
		a, err := gradientMethod(ctx, logits, pix, res.Label, f, res)
		if err != nil {
			return err
		}
		if attr, err = a.PixelAttribution(c, h, w); err != nil {
			return err
		}
		res.Features = len(pix)
	case "gradcam":
		seq, ok := m.(*nn.Sequential)
		if !ok {
			return fmt.Errorf("gradcam needs a Sequential model with a Conv2D layer")
		}
		layer, err := adapt.LastConv(m)
		if err != nil {
			return err
		}
		e, err := explain.GradCAM(ctx, adapt.CAM(seq, layer, meta.InputShape), pix, res.Label, h, w)
		if err != nil {
			return err
		}
		res.Details, res.Features, attr = e, e.Channels, e.Map
		res.Warnings = e.Warnings
		res.Quality["conv_layer"] = float64(layer)
	case "occlusion":
		e, err := explain.Occlusion(ctx, probs, pix, c, h, w, res.Label, explain.OcclusionOptions{})
		if err != nil {
			return err
		}
		res.Details, res.Samples, res.Features, attr = e, e.Patches, e.Patches, e.Map
		res.Warnings = e.Warnings
	}
	// Every image attribution is scored the same way: deletion (lower is
	// better) and insertion (higher is better) curves of the probability.
	curves, err := explain.DeletionInsertion(ctx, probs, pix, c, h, w, attr, res.Label, 20)
	if err != nil {
		return err
	}
	res.Quality["deletion_auc"], res.Quality["insertion_auc"] = curves.DeletionAUC, curves.InsertionAUC
	scale := max(1, 224/max(h, w))
	var pics []image.Image
	pics = append(pics, report.Titled(report.Upscale(datasets.PixelsToImage(pix, c, h, w), scale), "input", 1))
	pics = append(pics, report.Titled(report.Overlay(pix, c, h, w, attr, report.OverlayOptions{Scale: scale}), f.method, 1))
	if labels != nil {
		pics = append(pics, report.Titled(report.MaskOverlay(pix, c, h, w, labels, segWeights, report.MaskOptions{TopK: 5, Scale: scale}), "top segments", 1))
	}
	path := filepath.Join(f.out, f.method+".png")
	if err := report.WritePNG(path, report.Grid(pics, len(pics), 4)); err != nil {
		return err
	}
	res.Files = append(res.Files, path)
	return nil
}

// gradientMethod runs saliency, integrated gradients or SmoothGrad.
func gradientMethod(ctx context.Context, g explain.GradFunc, x []float32, label int, f explainFlags, res *ExplainResult) (*explain.Attribution, error) {
	switch f.method {
	case "saliency":
		e, err := explain.Saliency(ctx, g, x, label, explain.SaliencyOptions{})
		if err != nil {
			return nil, err
		}
		res.Details, res.Warnings = e, e.Warnings
		return &e.Attribution, nil
	case "ig":
		e, err := explain.IntegratedGradients(ctx, g, x, nil, label, explain.IGOptions{Steps: f.samples})
		if err != nil {
			return nil, err
		}
		res.Details, res.Samples, res.Warnings = e, e.Steps, e.Warnings
		res.Quality["completeness_residual"] = e.Completeness.Relative
		return &e.Attribution, nil
	default:
		e, err := explain.SmoothGrad(ctx, g, x, label, explain.SmoothGradOptions{Samples: f.samples, NoiseStd: explain.DefaultNoiseStd, Seed: f.seed})
		if err != nil {
			return nil, err
		}
		res.Details, res.Samples, res.Warnings = e, e.Samples, e.Warnings
		return &e.Attribution, nil
	}
}

// superpixelSHAP runs Kernel SHAP with superpixels as the players: a
// coalition shows its segments and paints the others with their mean
// colour, the background hides them all.
func superpixelSHAP(ctx context.Context, probs explain.Func, pix []float32, c, h, w int, seg *segment.Segmentation, label int, f explainFlags) (*explain.SHAPExplanation, error) {
	means, err := seg.Means(pix, c)
	if err != nil {
		return nil, err
	}
	hw := h * w
	zf := func(ctx context.Context, z []float32, n int) ([]float32, error) {
		imgs := make([]float32, n*c*hw)
		for i := 0; i < n; i++ {
			img := imgs[i*c*hw : (i+1)*c*hw]
			zi := z[i*seg.N : (i+1)*seg.N]
			for ch := 0; ch < c; ch++ {
				for p, s := range seg.Labels {
					if zi[s] > 0.5 {
						img[ch*hw+p] = pix[ch*hw+p]
					} else {
						img[ch*hw+p] = means[s*c+ch]
					}
				}
			}
		}
		return probs(ctx, imgs, n)
	}
	names := make([]string, seg.N)
	for i := range names {
		names[i] = fmt.Sprintf("segment %d", i)
	}
	ks, err := explain.NewKernelSHAP(make([]float32, seg.N), seg.N, names)
	if err != nil {
		return nil, err
	}
	ones := make([]float32, seg.N)
	for i := range ones {
		ones[i] = 1
	}
	return ks.Explain(ctx, zf, ones, explain.KernelSHAPOptions{Seed: f.seed, Samples: f.samples, Labels: []int{label}})
}

// shapSumError is |Σ values − (f(x) − E f(background))|, zero up to
// rounding by construction.
func shapSumError(l explain.SHAPLabel) float64 {
	var s float64
	for _, v := range l.Values {
		s += v
	}
	d := s - (l.ModelOutput - l.BaseValue)
	if d < 0 {
		d = -d
	}
	return d
}

// explainTable explains one row of a tabular model. LIME and Kernel SHAP
// work in the data's own units (so bins read "age > 52") with the model
// wrapped to apply its standardisation; gradient methods explain the
// standardised features the network sees.
func explainTable(ctx context.Context, m nn.Module, meta model.Meta, x []float32, f explainFlags, res *ExplainResult) error {
	d := len(x)
	names := meta.Features
	mode := explain.Classification
	if meta.Task == "regression" {
		mode = explain.Regression
	}
	var opts []adapt.Option
	if mode == explain.Classification {
		opts = append(opts, adapt.Probs())
	}
	std := adapt.Func(m, meta.InputShape, opts...)
	raw := func(ctx context.Context, z []float32, n int) ([]float32, error) {
		s := append([]float32(nil), z...)
		standardize(s, meta)
		return std(ctx, s, n)
	}
	rawX := append([]float32(nil), x...)
	unstandardizeRows(rawX, meta)
	switch f.method {
	case "lime", "kernelshap":
		if f.data == "" {
			return fmt.Errorf("%s on a table needs --data SPEC: the training data it samples from", f.method)
		}
		p, err := ResolveData(ctx, f.data, 1)
		if err != nil {
			return err
		}
		trainX, _ := data.Materialize(p.Train)
		if trainX.Dim(1) != d {
			return fmt.Errorf("--data %s has %d features, the model takes %d", f.data, trainX.Dim(1), d)
		}
		if f.method == "lime" {
			tab, err := explain.NewTabular(trainX.Data(), d, explain.TabularConfig{FeatureNames: names, Mode: mode, ClassNames: meta.Classes})
			if err != nil {
				return err
			}
			e, err := tab.Explain(ctx, raw, rawX, explain.TabularOptions{Seed: f.seed, Samples: f.samples, Labels: []int{res.Label}})
			if err != nil {
				return err
			}
			le := e.Label(res.Label)
			res.Details, res.Samples, res.Features, res.Top = e, e.Samples, d, le.Weights
			res.Quality["r2"], res.Quality["local_error"] = le.Score, le.LocalError
			res.Warnings = e.Quality.Warnings
		} else {
			bg := backgroundRows(trainX, 50, f.seed)
			ks, err := explain.NewKernelSHAP(bg, d, names)
			if err != nil {
				return err
			}
			e, err := ks.Explain(ctx, raw, rawX, explain.KernelSHAPOptions{Seed: f.seed, Samples: f.samples, Labels: []int{res.Label}, Mode: mode})
			if err != nil {
				return err
			}
			res.Details, res.Samples, res.Features, res.Top = e, e.Coalitions, d, e.Ranked(res.Label)
			res.Quality["sum_error"] = shapSumError(e.Labels[0])
		}
	case "saliency", "ig", "smoothgrad":
		a, err := gradientMethod(ctx, adapt.Grad(m, meta.InputShape, false), x, res.Label, f, res)
		if err != nil {
			return err
		}
		res.Features = d
		for i, v := range a.Values {
			name := fmt.Sprintf("x%d", i)
			if i < len(names) {
				name = names[i]
			}
			res.Top = append(res.Top, explain.FeatureWeight{Feature: i, Name: name, Weight: float64(v)})
		}
		sort.SliceStable(res.Top, func(i, j int) bool { return abs(res.Top[i].Weight) > abs(res.Top[j].Weight) })
	default:
		return fmt.Errorf("%s explains images; for a table use lime, kernelshap, saliency, ig or smoothgrad", f.method)
	}
	n := min(len(res.Top), 15)
	bn, bw := make([]string, n), make([]float64, n)
	for i := 0; i < n; i++ {
		bn[i], bw[i] = res.Top[i].Name, res.Top[i].Weight
	}
	path := filepath.Join(f.out, f.method+".png")
	title := fmt.Sprintf("%s: output %d %s", f.method, res.Label, res.LabelName)
	if err := report.WritePNG(path, report.BarChart(bn, bw, report.BarOptions{Title: title})); err != nil {
		return err
	}
	res.Files = append(res.Files, path)
	return nil
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

func standardize(x []float32, meta model.Meta) {
	if meta.Mean == nil {
		return
	}
	d := len(meta.Mean)
	for i := range x {
		x[i] = (x[i] - meta.Mean[i%d]) / meta.Std[i%d]
	}
}

func unstandardizeRows(x []float32, meta model.Meta) {
	if meta.Mean == nil {
		return
	}
	d := len(meta.Mean)
	for i := range x {
		x[i] = x[i]*meta.Std[i%d] + meta.Mean[i%d]
	}
}

// backgroundRows picks n rows of t (all when fewer), seeded.
func backgroundRows(t *tensor.Tensor, n int, seed uint64) []float32 {
	rows := t.Dim(0)
	if rows <= n {
		return t.Data()
	}
	perm := tensor.NewRNG(seed).Perm(rows)[:n]
	sort.Ints(perm)
	return tensor.IndexSelect(t, 0, perm).Data()
}

func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
