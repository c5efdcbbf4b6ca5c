package explain

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/glassbox-ml/glassbox/explain/segment"
)

// The methods every glassbox front end offers. Adding one is one
// Register call with a type that implements Method.
func init() {
	Register(limeMethod{})
	Register(gradientMethod{name: "saliency", title: "Saliency",
		summary: "the gradient of the explained output with respect to each input value"})
	Register(gradientMethod{name: "ig", title: "Integrated gradients",
		summary: "gradients averaged along the straight path from a baseline; they add up to the output's change",
		budget:  "integration steps", defaults: "adaptive: 50, doubling up to 1600 until the attributions add up within 1e-3"})
	Register(gradientMethod{name: "smoothgrad", title: "SmoothGrad",
		summary: "saliency averaged over noisy copies of the input (noise 15% of its range)",
		budget:  "noisy copies", defaults: "50"})
	Register(gradCAMMethod{})
	Register(occlusionMethod{})
	Register(kernelSHAPMethod{})
}

// limeMethod is LIME: a local linear surrogate fitted to perturbations
// (superpixels hidden for images, rows sampled from the training
// statistics for tables).
type limeMethod struct{}

func (limeMethod) Info() MethodInfo {
	return MethodInfo{Name: "lime", Title: "LIME",
		Summary: "a weighted linear model fitted to the model's answers on perturbed copies of the input (superpixels hidden, rows resampled, or words removed)",
		Inputs:  []InputKind{Image, Table, Text}, Needs: NeedsBackground,
		Budget: "perturbed samples", DefaultBudget: "adaptive: from 1000 (images) or 5000 (tables, text) until the top features are stable"}
}

func (limeMethod) Explain(ctx context.Context, s *Subject, x []float32, opt Options, res *Result) error {
	if s.Kind == Text {
		// A Subject sees token ids; text LIME removes words from the
		// document itself.
		return fmt.Errorf("lime on text explains a document, not token ids: use ExplainText (predictor.ExplainText, glassbox explain --text)")
	}
	lo := LIMEOptions{Seed: opt.Seed, Samples: opt.Samples, Labels: []int{res.Label}}
	if s.Kind == Image {
		c, h, w := s.Shape[0], s.Shape[1], s.Shape[2]
		hide := opt.Hide
		if hide == "" || hide == "auto" {
			hide = HideMean
			if c == 1 {
				// On grey digits a stroke segment's mean is still a
				// stroke, so "hidden" segments would stay visible.
				hide = HideConstant
			}
		}
		e, err := ExplainImage(ctx, s.Predict, x, c, h, w, ImageOptions{LIMEOptions: lo, Mode: s.Mode,
			ClassNames: s.ClassNames, Hide: hide, HideValue: opt.HideValue})
		if err != nil {
			return err
		}
		le := e.Label(res.Label)
		res.Details, res.Samples, res.Features = e, e.Samples, e.Segmentation.N
		res.Quality["r2"], res.Quality["local_error"] = le.Score, le.LocalError
		res.Top, res.Warnings = le.Weights, e.Quality.Warnings
		res.Attribution = e.PixelAttribution(res.Label)
		res.Segments = e.Segmentation
		res.SegmentWeights = make([]float64, e.Segmentation.N)
		for _, fw := range le.Weights {
			res.SegmentWeights[fw.Feature] = fw.Weight
		}
		return nil
	}
	d := s.Dim()
	tab, err := NewTabular(s.Background, d, TabularConfig{FeatureNames: s.FeatureNames, Mode: s.Mode, ClassNames: s.ClassNames})
	if err != nil {
		return err
	}
	e, err := tab.Explain(ctx, s.Predict, x, TabularOptions{LIMEOptions: lo})
	if err != nil {
		return err
	}
	le := e.Label(res.Label)
	res.Details, res.Samples, res.Features, res.Top = e, e.Samples, d, le.Weights
	res.Quality["r2"], res.Quality["local_error"] = le.Score, le.LocalError
	res.Warnings = e.Quality.Warnings
	return nil
}

// kernelSHAPMethod is Kernel SHAP: Shapley values estimated by a weighted
// regression over coalitions (superpixels for images, columns for tables).
type kernelSHAPMethod struct{}

func (kernelSHAPMethod) Info() MethodInfo {
	return MethodInfo{Name: "kernelshap", Title: "Kernel SHAP",
		Summary: "Shapley values of the features (columns, or superpixels) estimated by a weighted regression over coalitions; they add up to the output minus the background's",
		Inputs:  []InputKind{Image, Table}, Needs: NeedsBackground,
		Budget: "coalitions", DefaultBudget: "2·M + 2048 (exact when that covers every coalition)"}
}

// kernelSHAPBackground is how many training rows Kernel SHAP averages
// over for a table: its cost grows linearly with them.
const kernelSHAPBackground = 50

func (kernelSHAPMethod) Explain(ctx context.Context, s *Subject, x []float32, opt Options, res *Result) error {
	ko := KernelSHAPOptions{Seed: opt.Seed, Samples: opt.Samples, Labels: []int{res.Label}, Mode: s.Mode}
	if s.Kind == Image {
		c, h, w := s.Shape[0], s.Shape[1], s.Shape[2]
		seg, err := segment.Auto(x, c, h, w)
		if err != nil {
			return err
		}
		e, err := SuperpixelSHAP(ctx, s.Predict, x, c, h, w, seg, ko)
		if err != nil {
			return err
		}
		sl := e.Labels[0]
		res.Details, res.Samples, res.Features = e, e.Coalitions, seg.N
		res.Quality["sum_error"] = sl.SumError()
		res.Top = e.Ranked(res.Label)
		res.Segments, res.SegmentWeights = seg, sl.Values
		res.Attribution = make([]float32, h*w)
		for p, sp := range seg.Labels {
			res.Attribution[p] = float32(sl.Values[sp])
		}
		return nil
	}
	d := s.Dim()
	ks, err := NewKernelSHAP(BackgroundRows(s.Background, d, kernelSHAPBackground, opt.Seed), d, s.FeatureNames)
	if err != nil {
		return err
	}
	e, err := ks.Explain(ctx, s.Predict, x, ko)
	if err != nil {
		return err
	}
	res.Details, res.Samples, res.Features, res.Top = e, e.Coalitions, d, e.Ranked(res.Label)
	res.Quality["sum_error"] = e.Labels[0].SumError()
	return nil
}

// IGTolerance is the completeness residual (relative) the default
// integrated-gradients budget doubles its steps to reach, and IGMaxSteps
// where it stops trying.
const (
	IGTolerance = 1e-3
	IGMaxSteps  = 1600
)

// gradientMethod is saliency, integrated gradients or SmoothGrad.
type gradientMethod struct {
	name, title, summary, budget, defaults string
}

func (g gradientMethod) Info() MethodInfo {
	return MethodInfo{Name: g.name, Title: g.title, Summary: g.summary, Inputs: []InputKind{Image, Table},
		Needs: NeedsGradient, Budget: g.budget, DefaultBudget: g.defaults}
}

func (g gradientMethod) Explain(ctx context.Context, s *Subject, x []float32, opt Options, res *Result) error {
	grad, toZ, fromZ := standardized(s)
	z := toZ(x)
	var a *Attribution
	switch g.name {
	case "saliency":
		e, err := Saliency(ctx, grad, z, res.Label, SaliencyOptions{})
		if err != nil {
			return err
		}
		res.Details, res.Warnings, a = e, e.Warnings, &e.Attribution
	case "ig":
		baseline := s.Baseline
		if baseline == nil && s.Kind == Table && len(s.Background) > 0 {
			baseline = columnMeans(s.Background, s.Dim())
		}
		if baseline != nil {
			baseline = toZ(baseline)
		}
		// The default budget is adaptive: ReLU kinks along the path make
		// any fixed quadrature miss completeness, so the steps double
		// from 50 until the attributions add up within IGTolerance (or
		// IGMaxSteps is reached; the residual says how it went).
		steps := opt.Samples
		if steps == 0 {
			steps = 50
		}
		var e *IGExplanation
		for {
			var err error
			if e, err = IntegratedGradients(ctx, grad, z, baseline, res.Label, IGOptions{Steps: steps}); err != nil {
				return err
			}
			if opt.Samples != 0 || e.Completeness.Relative <= IGTolerance || steps*2 > IGMaxSteps {
				break
			}
			steps *= 2
		}
		res.Details, res.Samples, res.Warnings, a = e, e.Steps, e.Warnings, &e.Attribution
		res.Quality["completeness_residual"] = e.Completeness.Relative
	default:
		e, err := SmoothGrad(ctx, grad, z, res.Label, SmoothGradOptions{Samples: opt.Samples, NoiseStd: DefaultNoiseStd, Seed: opt.Seed})
		if err != nil {
			return err
		}
		res.Details, res.Samples, res.Warnings, a = e, e.Samples, e.Warnings, &e.Attribution
	}
	// Attributions are per unit of the standardised feature; per unit of
	// the data's own feature they are divided by its scale (integrated
	// gradients, which are in the output's units, do not change).
	if g.name != "ig" {
		fromZ(a.Values)
	}
	res.Features = len(x)
	if s.Kind == Image {
		attr, err := a.PixelAttribution(s.Shape[0], s.Shape[1], s.Shape[2])
		if err != nil {
			return err
		}
		res.Attribution = attr
		return nil
	}
	res.Top = rankTop(a.Values, s.FeatureNames)
	return nil
}

// standardized returns s.Gradient as a function of the standardised
// input z = (x − mean)/std of a table (statistics of the Background), and
// the maps between the two: gradient methods then perturb and compare
// features on one scale whatever their units (SmoothGrad's noise is a
// fraction of the input's range). fromZ turns gradients with respect to z
// into gradients with respect to x, in place. Images and tables without
// a background are used as they are.
func standardized(s *Subject) (grad GradFunc, toZ func([]float32) []float32, fromZ func([]float32)) {
	d := s.Dim()
	if s.Kind != Table || len(s.Background) < 2*d {
		return s.Gradient, func(x []float32) []float32 { return append([]float32(nil), x...) }, func([]float32) {}
	}
	mean := columnMeans(s.Background, d)
	std := make([]float32, d)
	rows := len(s.Background) / d
	for j := range d {
		var ss float64
		for r := range rows {
			v := float64(s.Background[r*d+j] - mean[j])
			ss += v * v
		}
		std[j] = float32(math.Sqrt(ss / float64(rows)))
		if std[j] <= 1e-12 {
			std[j] = 1
		}
	}
	toZ = func(x []float32) []float32 {
		z := make([]float32, len(x))
		for i, v := range x {
			z[i] = (v - mean[i%d]) / std[i%d]
		}
		return z
	}
	fromZ = func(g []float32) {
		for i := range g {
			g[i] /= std[i%d]
		}
	}
	grad = func(ctx context.Context, z []float32, n, label int) ([]float32, []float32, error) {
		x := make([]float32, len(z))
		for i, v := range z {
			x[i] = v*std[i%d] + mean[i%d]
		}
		out, g, err := s.Gradient(ctx, x, n, label)
		if err != nil {
			return nil, nil, err
		}
		for i := range g {
			g[i] *= std[i%d] // ∂f/∂z = ∂f/∂x · std
		}
		return out, g, nil
	}
	return grad, toZ, fromZ
}

// columnMeans is the mean of each column of rows [n × d].
func columnMeans(rows []float32, d int) []float32 {
	n := len(rows) / d
	sum := make([]float64, d)
	for i, v := range rows[:n*d] {
		sum[i%d] += float64(v)
	}
	out := make([]float32, d)
	for j := range out {
		out[j] = float32(sum[j] / float64(max(n, 1)))
	}
	return out
}

// gradCAMMethod is Grad-CAM on the model's last convolution.
type gradCAMMethod struct{}

func (gradCAMMethod) Info() MethodInfo {
	return MethodInfo{Name: "gradcam", Title: "Grad-CAM",
		Summary: "the last convolution's channels weighted by their mean gradient: where in the image the evidence for the class lies",
		Inputs:  []InputKind{Image}, Needs: NeedsCAM}
}

func (gradCAMMethod) Explain(ctx context.Context, s *Subject, x []float32, opt Options, res *Result) error {
	e, err := GradCAM(ctx, s.CAM, x, res.Label, s.Shape[1], s.Shape[2])
	if err != nil {
		return err
	}
	res.Details, res.Features, res.Attribution, res.Warnings = e, e.Channels, e.Map, e.Warnings
	res.Layer = s.CAMLayer
	return nil
}

// occlusionMethod slides a patch over the image.
type occlusionMethod struct{}

func (occlusionMethod) Info() MethodInfo {
	return MethodInfo{Name: "occlusion", Title: "Occlusion",
		Summary: "how much the output drops when each patch of the image is painted black",
		Inputs:  []InputKind{Image}}
}

func (occlusionMethod) Explain(ctx context.Context, s *Subject, x []float32, opt Options, res *Result) error {
	e, err := Occlusion(ctx, s.Predict, x, s.Shape[0], s.Shape[1], s.Shape[2], res.Label, OcclusionOptions{})
	if err != nil {
		return err
	}
	res.Details, res.Samples, res.Features, res.Attribution = e, e.Patches, e.Patches, e.Map
	res.Warnings = e.Warnings
	return nil
}

// SuperpixelSHAP runs Kernel SHAP with the superpixels of seg as the
// players: a coalition shows its segments and paints the others with
// their mean colour; the background hides them all. opt.Labels names the
// outputs explained.
func SuperpixelSHAP(ctx context.Context, model Func, pix []float32, c, h, w int, seg *segment.Segmentation, opt KernelSHAPOptions) (*SHAPExplanation, error) {
	if err := checkImage("kernel shap", pix, c, h, w); err != nil {
		return nil, err
	}
	if seg == nil || seg.H != h || seg.W != w || len(seg.Labels) != h*w {
		return nil, fmt.Errorf("kernel shap: the segmentation does not match the %d×%d image", h, w)
	}
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
		return model(ctx, imgs, n)
	}
	names := make([]string, seg.N)
	for i := range names {
		names[i] = fmt.Sprintf("segment %d", i)
	}
	ks, err := NewKernelSHAP(make([]float32, seg.N), seg.N, names)
	if err != nil {
		return nil, err
	}
	ones := make([]float32, seg.N)
	for i := range ones {
		ones[i] = 1
	}
	return ks.Explain(ctx, zf, ones, opt)
}

// SumError is |Σ values − (f(x) − E f(background))|: how far the Shapley
// values miss the additivity they promise (zero up to rounding when the
// regression is solved with the efficiency constraint).
func (l SHAPLabel) SumError() float64 {
	var s float64
	for _, v := range l.Values {
		s += v
	}
	return math.Abs(s - (l.ModelOutput - l.BaseValue))
}

// BackgroundRows picks n of the rows [len(rows)/d × d] (all of them when
// there are no more), seeded, keeping their order: the background Kernel
// SHAP averages over.
func BackgroundRows(rows []float32, d, n int, seed uint64) []float32 {
	total := len(rows) / max(d, 1)
	if total <= n {
		return rows[:total*d]
	}
	perm := rand.New(rand.NewPCG(seed, streamOther)).Perm(total)[:n]
	sort.Ints(perm)
	out := make([]float32, 0, n*d)
	for _, r := range perm {
		out = append(out, rows[r*d:(r+1)*d]...)
	}
	return out
}
