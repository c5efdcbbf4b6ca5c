package predictor

import (
	"context"
	"fmt"
	"image"

	"github.com/glassbox-ml/glassbox/datasets"
	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/explain/adapt"
	// The checks judge every explanation (explain.Run applies them).
	_ "github.com/glassbox-ml/glassbox/explain/check"
	"github.com/glassbox-ml/glassbox/inspect"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/report"
)

// Subject is the model as the explanation methods see it: functions over
// inputs in the data's own units, with the preprocessing applied inside
// them (and the chain rule through it for gradients), the training rows
// of p.Background, the feature and class names.
func (p *Predictor) Subject() *explain.Subject {
	shape := p.InputShape
	var opts []adapt.Option
	if p.Task == Classification {
		opts = append(opts, adapt.Probs())
	}
	f := adapt.Func(p.Module, shape, opts...)
	s := &explain.Subject{Kind: p.Kind, Shape: shape, Mode: p.Task.Mode(), Outputs: p.Outputs,
		Background: p.Background, FeatureNames: p.Features, ClassNames: p.Classes}
	p.randomizable(s)
	s.Predict = func(ctx context.Context, x []float32, n int) ([]float32, error) {
		out, err := f(ctx, p.modelInput(x), n)
		if err != nil {
			return nil, err
		}
		p.TargetFromModel(out)
		return out, nil
	}
	p.addLayers(s)
	if p.Kind == explain.Text {
		if v := p.Prep.Vocab; v != nil {
			s.Vocabulary = make([]string, v.Size())
			for id := range s.Vocabulary {
				s.Vocabulary[id] = v.Token(id)
			}
		}
		return s
	}
	g := adapt.Grad(p.Module, shape, false)
	s.Gradient = func(ctx context.Context, x []float32, n, label int) ([]float32, []float32, error) {
		out, grad, err := g(ctx, p.modelInput(x), n, label)
		if err != nil {
			return nil, nil, err
		}
		p.gradToRaw(grad)
		if p.Task == Regression && p.Prep.TargetStd != 0 {
			p.TargetFromModel(out)
			for i := range grad {
				grad[i] *= p.Prep.TargetStd
			}
		}
		return out, grad, nil
	}
	rg := adapt.RuleGrad(p.Module, shape)
	s.RuleGradient = func(ctx context.Context, x []float32, n, label int, rule explain.BackwardRule, ref []float32) ([]float32, []float32, error) {
		if ref != nil {
			ref = p.modelInput(ref)
		}
		out, grad, err := rg(ctx, p.modelInput(x), n, label, rule, ref)
		if err != nil {
			return nil, nil, err
		}
		if rule.Kind != explain.RuleLRP {
			p.gradToRaw(grad) // LRP's relevance is in the output's units already
		}
		if p.Task == Regression && p.Prep.TargetStd != 0 {
			p.TargetFromModel(out)
			for i := range grad {
				grad[i] *= p.Prep.TargetStd
			}
		}
		return out, grad, nil
	}
	if p.Kind == explain.Table && p.Prep.Mean != nil {
		// Integrated gradients start from the training mean, the input
		// the standardised network sees as all zeros.
		s.Baseline = p.Prep.Mean
	}
	var cam explain.CAMFunc
	if seq, ok := p.Module.(*nn.Sequential); ok && p.Kind == explain.Image {
		if layer, err := adapt.LastConv(seq); err == nil {
			cam = adapt.CAM(seq, layer, shape)
			s.CAMLayer = inspect.LayerName(seq.Layers[layer], layer)
		}
	}
	if src, ok := p.Module.(camSource); ok && p.Kind == explain.Image {
		if layer, err := src.LastConv(); err == nil {
			cam, s.CAMLayer = src.CAM(layer), layer
		}
	}
	if cam != nil {
		s.CAM = func(ctx context.Context, x []float32, label int) ([]float32, []float32, int, int, int, []float32, error) {
			return cam(ctx, p.modelInput(x), label)
		}
	}
	return s
}

// modelInput returns inputs x as the network sees them: x itself when
// there is no input preprocessing (the explainers' perturbation batches
// are not copied on that path), else a preprocessed copy (x belongs to
// the caller).
func (p *Predictor) modelInput(x []float32) []float32 {
	if p.Prep.Mean == nil && p.Prep.PixelMean == nil {
		return x
	}
	in := append([]float32(nil), x...)
	p.ToModel(in)
	return in
}

// gradToRaw turns gradients with respect to the network's input into
// gradients with respect to the data's own units, in place (the chain
// rule through ToModel: divide by each feature's or channel's scale).
func (p *Predictor) gradToRaw(g []float32) {
	pr := &p.Prep
	if pr.Std != nil {
		d := len(pr.Std)
		for i := range g {
			g[i] /= pr.Std[i%d]
		}
	}
	if pr.PixelStd != nil {
		hw := p.InputShape[1] * p.InputShape[2]
		c := len(pr.PixelStd)
		for i := range g {
			g[i] /= pr.PixelStd[(i/hw)%c]
		}
	}
}

// Methods lists the registered explanation methods that apply to this
// model as it is (with or without Background) and explain an input alone:
// methods that need examples besides it (TCAV's concept) are left out.
func (p *Predictor) Methods() []explain.MethodInfo {
	var out []explain.MethodInfo
	for _, mi := range explain.Applicable(p.Subject()) {
		if mi.Needs&explain.NeedsExamples == 0 {
			out = append(out, mi)
		}
	}
	return out
}

// Explain explains one input x (in the data's own units) with the
// registered method called method. The zero Options explain the predicted
// class with the method's default budget.
func (p *Predictor) Explain(ctx context.Context, method string, x []float32, opt explain.Options) (*explain.Result, error) {
	return explain.Run(ctx, method, p.Subject(), x, opt)
}

// Picture draws an explanation of input x: for images the input, the
// attribution overlay and, for superpixel methods, the top segments; for
// tables a bar chart of the largest weights.
func (p *Predictor) Picture(res *explain.Result, x []float32) image.Image {
	if p.Kind == explain.Image && res.Attribution != nil {
		c, h, w := p.InputShape[0], p.InputShape[1], p.InputShape[2]
		scale := max(1, 224/max(h, w))
		pics := []image.Image{
			report.Titled(report.Upscale(datasets.PixelsToImage(x, c, h, w), scale), "input", 1),
			report.Titled(report.Overlay(x, c, h, w, res.Attribution, report.OverlayOptions{Scale: scale}), res.Method, 1),
		}
		if res.Segments != nil {
			pics = append(pics, report.Titled(report.MaskOverlay(x, c, h, w, res.Segments.Labels, res.SegmentWeights,
				report.MaskOptions{TopK: 5, Scale: scale}), "top segments", 1))
		}
		return report.Grid(pics, len(pics), 4)
	}
	if len(res.Top) == 0 {
		return nil
	}
	n := min(len(res.Top), 15)
	names, weights := make([]string, n), make([]float64, n)
	for i := range n {
		names[i], weights[i] = res.Top[i].Name, res.Top[i].Weight
	}
	title := fmt.Sprintf("%s: output %d %s", res.Method, res.Label, res.LabelName)
	return report.BarChart(names, weights, report.BarOptions{Title: title})
}
