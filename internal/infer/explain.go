package infer

import (
	"context"
	"fmt"
	"image"
	"sort"
	"time"

	"github.com/glassbox-ml/glassbox/datasets"
	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/explain/adapt"
	"github.com/glassbox-ml/glassbox/explain/segment"
	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/report"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Methods are the explanation methods Explain knows.
var Methods = []string{"lime", "saliency", "ig", "smoothgrad", "gradcam", "occlusion", "kernelshap"}

// Options choose and tune one explanation.
type Options struct {
	// Method is one of Methods.
	Method string
	// Seed: the same seed gives the same explanation.
	Seed uint64
	// Samples is the budget (0: the method's default).
	Samples int
	// Label is the output to explain (-1: the predicted class).
	Label int
	// Hide is how image LIME hides superpixels: mean, constant, blur or
	// auto (constant for grey images, mean for colour); HideValue is the
	// constant.
	Hide      string
	HideValue float64
	// Train holds training rows in the data's own units, [rows, features]:
	// LIME samples from their statistics and Kernel SHAP draws its
	// background from them (tables only).
	Train *tensor.Tensor
}

// Result is an explanation's summary: what was explained, with which
// budget and seed, and how far the explanation can be trusted.
type Result struct {
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
	Files    []string                `json:"files,omitempty"`
	Warnings []string                `json:"warnings,omitempty"`
	Seconds  float64                 `json:"seconds"`
	// Details is the method's full result (weights, maps, timings).
	Details any `json:"-"`
	// Picture shows the explanation: input, attribution overlay and top
	// segments for images; a bar chart of weights for tables.
	Picture image.Image `json:"-"`
}

// Explain runs one explanation method on one input x (one example, in
// the model's input layout, already preprocessed as the model expects).
// The result carries the quality figures and a picture (an overlay for
// images, a bar chart for tables).
func Explain(ctx context.Context, m nn.Module, meta model.Meta, x []float32, opt Options) (*Result, error) {
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
	res := &Result{Method: opt.Method, Seed: opt.Seed, Quality: map[string]float64{}}
	res.Label = opt.Label
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
		err = explainImage(ctx, m, meta, x, probs, opt, res)
	} else {
		err = explainTable(ctx, m, meta, x, opt, res)
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
func explainImage(ctx context.Context, m nn.Module, meta model.Meta, pix []float32, probs explain.Func, opt Options, res *Result) error {
	c, h, w := meta.InputShape[0], meta.InputShape[1], meta.InputShape[2]
	logits := adapt.Grad(m, meta.InputShape, false)
	var attr []float32 // H·W per-pixel attribution
	var labels []int   // superpixels, for LIME and Kernel SHAP pictures
	var segWeights []float64
	switch opt.Method {
	case "lime":
		hide := explain.Hide(opt.Hide)
		if opt.Hide == "auto" {
			hide = explain.HideMean
			if c == 1 {
				// On grey digits a stroke segment's mean is still a
				// stroke, so "hidden" segments stay visible.
				hide = explain.HideConstant
			}
		}
		e, err := explain.ExplainImage(ctx, probs, pix, c, h, w, explain.ImageOptions{
			LIMEOptions: explain.LIMEOptions{Seed: opt.Seed, Samples: opt.Samples, Labels: []int{res.Label}},
			ClassNames:  meta.Classes, Hide: hide, HideValue: float32(opt.HideValue)})
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
		e, err := superpixelSHAP(ctx, probs, pix, c, h, w, seg, res.Label, opt)
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
		a, err := gradientMethod(ctx, logits, pix, res.Label, opt, res)
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
	pics = append(pics, report.Titled(report.Overlay(pix, c, h, w, attr, report.OverlayOptions{Scale: scale}), opt.Method, 1))
	if labels != nil {
		pics = append(pics, report.Titled(report.MaskOverlay(pix, c, h, w, labels, segWeights, report.MaskOptions{TopK: 5, Scale: scale}), "top segments", 1))
	}
	res.Picture = report.Grid(pics, len(pics), 4)
	return nil
}

// gradientMethod runs saliency, integrated gradients or SmoothGrad.
func gradientMethod(ctx context.Context, g explain.GradFunc, x []float32, label int, opt Options, res *Result) (*explain.Attribution, error) {
	switch opt.Method {
	case "saliency":
		e, err := explain.Saliency(ctx, g, x, label, explain.SaliencyOptions{})
		if err != nil {
			return nil, err
		}
		res.Details, res.Warnings = e, e.Warnings
		return &e.Attribution, nil
	case "ig":
		e, err := explain.IntegratedGradients(ctx, g, x, nil, label, explain.IGOptions{Steps: opt.Samples})
		if err != nil {
			return nil, err
		}
		res.Details, res.Samples, res.Warnings = e, e.Steps, e.Warnings
		res.Quality["completeness_residual"] = e.Completeness.Relative
		return &e.Attribution, nil
	default:
		e, err := explain.SmoothGrad(ctx, g, x, label, explain.SmoothGradOptions{Samples: opt.Samples, NoiseStd: explain.DefaultNoiseStd, Seed: opt.Seed})
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
func superpixelSHAP(ctx context.Context, probs explain.Func, pix []float32, c, h, w int, seg *segment.Segmentation, label int, opt Options) (*explain.SHAPExplanation, error) {
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
	return ks.Explain(ctx, zf, ones, explain.KernelSHAPOptions{Seed: opt.Seed, Samples: opt.Samples, Labels: []int{label}})
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
func explainTable(ctx context.Context, m nn.Module, meta model.Meta, x []float32, opt Options, res *Result) error {
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
	switch opt.Method {
	case "lime", "kernelshap":
		if opt.Train == nil {
			return fmt.Errorf("%s on a table needs training data (--data SPEC): the rows it samples from", opt.Method)
		}
		trainX := opt.Train
		if trainX.Rank() != 2 || trainX.Dim(1) != d {
			return fmt.Errorf("the training data has shape %v, the model takes %d features", trainX.Shape(), d)
		}
		if opt.Method == "lime" {
			tab, err := explain.NewTabular(trainX.Data(), d, explain.TabularConfig{FeatureNames: names, Mode: mode, ClassNames: meta.Classes})
			if err != nil {
				return err
			}
			e, err := tab.Explain(ctx, raw, rawX, explain.TabularOptions{LIMEOptions: explain.LIMEOptions{Seed: opt.Seed, Samples: opt.Samples, Labels: []int{res.Label}}})
			if err != nil {
				return err
			}
			le := e.Label(res.Label)
			res.Details, res.Samples, res.Features, res.Top = e, e.Samples, d, le.Weights
			res.Quality["r2"], res.Quality["local_error"] = le.Score, le.LocalError
			res.Warnings = e.Quality.Warnings
		} else {
			bg := backgroundRows(trainX, 50, opt.Seed)
			ks, err := explain.NewKernelSHAP(bg, d, names)
			if err != nil {
				return err
			}
			e, err := ks.Explain(ctx, raw, rawX, explain.KernelSHAPOptions{Seed: opt.Seed, Samples: opt.Samples, Labels: []int{res.Label}, Mode: mode})
			if err != nil {
				return err
			}
			res.Details, res.Samples, res.Features, res.Top = e, e.Coalitions, d, e.Ranked(res.Label)
			res.Quality["sum_error"] = shapSumError(e.Labels[0])
		}
	case "saliency", "ig", "smoothgrad":
		a, err := gradientMethod(ctx, adapt.Grad(m, meta.InputShape, false), x, res.Label, opt, res)
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
		return fmt.Errorf("%s explains images; for a table use lime, kernelshap, saliency, ig or smoothgrad", opt.Method)
	}
	n := min(len(res.Top), 15)
	bn, bw := make([]string, n), make([]float64, n)
	for i := 0; i < n; i++ {
		bn[i], bw[i] = res.Top[i].Name, res.Top[i].Weight
	}
	title := fmt.Sprintf("%s: output %d %s", opt.Method, res.Label, res.LabelName)
	res.Picture = report.BarChart(bn, bw, report.BarOptions{Title: title})
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
