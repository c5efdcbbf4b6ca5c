package explain

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"
)

// CAMFunc runs a convolutional model on one input x and returns the
// activations act of a chosen convolutional layer, c×h×w row-major
// (channel-first, the batch axis dropped), the gradient of the model's
// output label with respect to those activations (same layout), and the
// model's k outputs. Package explain/adapt builds one from an
// nn.Sequential.
type CAMFunc func(ctx context.Context, x []float32, label int) (act, grad []float32, c, h, w int, out []float32, err error)

// GradCAMExplanation is a Grad-CAM heat map: where in the image the chosen
// layer saw evidence for the label.
type GradCAMExplanation struct {
	Method string `json:"method"`
	Label  int    `json:"label"`
	// Map is the heat map at the requested size H×W, row-major, scaled so
	// its maximum is 1 (all zeros when there is no positive evidence).
	Map []float32 `json:"map"`
	H   int       `json:"h"`
	W   int       `json:"w"`
	// Raw is ReLU(Σ_c α_c A_c) at the layer's resolution RawH×RawW,
	// before upsampling and scaling.
	Raw  []float32 `json:"raw"`
	RawH int       `json:"raw_h"`
	RawW int       `json:"raw_w"`
	// Channels is the layer's channel count; Weights are the α_c, each the
	// spatial mean of the gradient of the label's output over channel c.
	Channels int       `json:"channels"`
	Weights  []float64 `json:"weights"`
	// Output is the model's output Label at x; Outputs all k of them.
	Output   float64   `json:"output"`
	Outputs  []float32 `json:"outputs"`
	Warnings []string  `json:"warnings,omitempty"`
	Timing   Timing    `json:"timing"`
}

// GradCAM explains model output label at x with Grad-CAM (Selvaraju et al.
// 2017): each channel c of the layer f exposes gets the weight α_c, the
// mean over space of ∂y_label/∂A_c; the map ReLU(Σ_c α_c A_c) is
// upsampled bilinearly (half-pixel centres, as PyTorch's
// align_corners=False) to outH×outW, usually the input's H×W, and divided
// by its maximum. Map can be scored with DeletionInsertion.
//
// The layer's resolution bounds the map's: a LeNet's last convolution
// sees 28×28 digits as 10×10 (or 5×5 after pooling).
func GradCAM(ctx context.Context, f CAMFunc, x []float32, label, outH, outW int) (*GradCAMExplanation, error) {
	start := time.Now()
	const what = "grad-cam"
	if f == nil {
		return nil, fmt.Errorf("%s: CAM function is nil", what)
	}
	if err := gradCheckInput(what, x, label); err != nil {
		return nil, err
	}
	if outH < 1 || outW < 1 {
		return nil, fmt.Errorf("%s: output size %d×%d; both must be positive (usually the input image's H×W)", what, outH, outW)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e := &GradCAMExplanation{Method: what, Label: label, H: outH, W: outW}
	t0 := time.Now()
	act, grad, c, h, w, out, err := f(ctx, x, label)
	e.Timing.Model = time.Since(t0)
	e.Timing.ModelCalls, e.Timing.ModelRows = 1, 1
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if c < 1 || h < 1 || w < 1 {
		return nil, fmt.Errorf("%s: the layer's activation size is %d×%d×%d (C×H×W); all must be positive", what, c, h, w)
	}
	if len(act) != c*h*w || len(grad) != c*h*w {
		return nil, fmt.Errorf("%s: the CAM function returned %d activations and %d gradients for a %d×%d×%d layer; want %d of each", what, len(act), len(grad), c, h, w, c*h*w)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: the CAM function returned no model outputs", what)
	}
	if label >= len(out) {
		return nil, fmt.Errorf("%s: label %d out of range: the model returns %d outputs (labels 0..%d)", what, label, len(out), len(out)-1)
	}
	for _, s := range []struct {
		name string
		v    []float32
	}{{"activation", act}, {"gradient", grad}, {"model output", out}} {
		if err := gradCheckFinite(what, s.name, s.v); err != nil {
			return nil, err
		}
	}
	hw := h * w
	e.Channels, e.RawH, e.RawW = c, h, w
	e.Weights = make([]float64, c)
	raw := make([]float64, hw)
	for ch := range c {
		var s float64
		for _, g := range grad[ch*hw : (ch+1)*hw] {
			s += float64(g)
		}
		a := s / float64(hw)
		e.Weights[ch] = a
		for p, v := range act[ch*hw : (ch+1)*hw] {
			raw[p] += a * float64(v)
		}
	}
	e.Raw = make([]float32, hw)
	peak := 0.0
	for p, v := range raw {
		v = math.Max(v, 0)
		e.Raw[p] = float32(v)
		peak = math.Max(peak, v)
	}
	e.Map = gradBilinear(e.Raw, h, w, outH, outW)
	if peak > 0 {
		// Divide by the upsampled maximum, which bilinear interpolation
		// keeps ≤ peak, so the map's maximum is exactly 1.
		m := float64(slices.Max(e.Map))
		for i := range e.Map {
			e.Map[i] = float32(float64(e.Map[i]) / m)
		}
	} else {
		e.Warnings = append(e.Warnings, "the Grad-CAM map is zero everywhere: no channel of this layer carries positive evidence for the label (Σ α_c A_c ≤ 0 at every position); try an earlier layer, the layer after its activation, or another label")
	}
	e.Outputs = slices.Clone(out)
	e.Output = float64(out[label])
	e.Timing.Total = time.Since(start)
	return e, nil
}

// gradBilinear resizes an h×w map to oh×ow by bilinear interpolation with
// half-pixel centres: output pixel (i, j) samples the input at
// ((i+½)·h/oh − ½, (j+½)·w/ow − ½), clamped to the edges.
func gradBilinear(src []float32, h, w, oh, ow int) []float32 {
	type tap struct {
		i0, i1 int
		f      float64
	}
	taps := func(in, out int) []tap {
		t := make([]tap, out)
		scale := float64(in) / float64(out)
		for o := range t {
			s := math.Max((float64(o)+0.5)*scale-0.5, 0)
			i0 := min(int(s), in-1)
			i1 := min(i0+1, in-1)
			t[o] = tap{i0, i1, s - float64(i0)}
		}
		return t
	}
	ty, tx := taps(h, oh), taps(w, ow)
	dst := make([]float32, oh*ow)
	for i, y := range ty {
		for j, x := range tx {
			a := float64(src[y.i0*w+x.i0])*(1-x.f) + float64(src[y.i0*w+x.i1])*x.f
			b := float64(src[y.i1*w+x.i0])*(1-x.f) + float64(src[y.i1*w+x.i1])*x.f
			dst[i*ow+j] = float32(a*(1-y.f) + b*y.f)
		}
	}
	return dst
}
