package explain

import (
	"context"
	"fmt"
	"math"
	"strconv"
)

// The layer and neuron variants of the gradient methods: attributions to a
// hidden layer's units, and attributions of one unit to the input.
func init() {
	Register(layerMethod{name: "layerig", title: "Layer integrated gradients",
		summary: "integrated gradients of the rest of the model over a hidden layer's units (--layer; on an embedding, per token): they add up to the output's change",
		budget:  "integration steps", defaults: "adaptive: 50, doubling up to 1600 until the attributions add up within 1e-3"})
	Register(layerMethod{name: "layerconductance", title: "Layer conductance",
		summary: "how much of the output's change from the baseline flows through each unit of a hidden layer (--layer)",
		budget:  "path points", defaults: "50"})
	Register(layerMethod{name: "neuronig", title: "Neuron integrated gradients",
		summary: "integrated gradients of one hidden unit's activation (--layer, --neuron) over the input",
		budget:  "integration steps", defaults: "50"})
	Register(layerMethod{name: "neuronconductance", title: "Neuron conductance",
		summary: "the output's change that flows through one hidden unit (--layer, --neuron), shared out over the input",
		budget:  "path points", defaults: "50"})
}

// layerMethod is one of the layer or neuron methods.
type layerMethod struct {
	name, title, summary, budget, defaults string
}

func (m layerMethod) neuron() bool { return m.name == "neuronig" || m.name == "neuronconductance" }

func (m layerMethod) Info() MethodInfo {
	inputs := []InputKind{Image, Table, Text}
	if m.neuron() {
		inputs = inputs[:2] // token ids cannot be differentiated
	}
	result := LayerUnits
	if m.neuron() {
		result = NeuronUnit
	}
	return MethodInfo{Name: m.name, Title: m.title, Summary: m.summary, Inputs: inputs,
		Needs: NeedsLayer, Budget: m.budget, DefaultBudget: m.defaults, Result: result}
}

func (m layerMethod) Explain(ctx context.Context, s *Subject, x []float32, opt Options, res *Result) error {
	la, err := openLayer(s, opt.Layer)
	if err != nil {
		return err
	}
	res.Layer = la.Name
	baseline := layerBaseline(s)
	switch m.name {
	case "layerig", "layerconductance":
		var e *LayerAttribution
		if m.name == "layerig" {
			e, err = layerIGAdaptive(ctx, la, x, baseline, res.Label, opt.Samples)
		} else {
			e, err = LayerConductance(ctx, la, x, baseline, res.Label, opt.Samples)
		}
		if err != nil {
			return err
		}
		res.Details, res.Samples, res.Warnings, res.Features = e, e.Steps, e.Warnings, len(e.Values)
		res.Quality["completeness_residual"] = e.Completeness.Relative
		return layerTop(s, x, la, e.Values, res)
	}
	unit, err := pickUnit(ctx, s, la, x, opt.Neuron)
	if err != nil {
		return err
	}
	res.Unit = &unit
	var e *NeuronAttribution
	if m.name == "neuronig" {
		e, err = NeuronIntegratedGradients(ctx, la, x, baseline, unit, IGOptions{Steps: opt.Samples})
	} else {
		e, err = NeuronConductance(ctx, la, x, baseline, unit, res.Label, IGOptions{Steps: opt.Samples})
	}
	if err != nil {
		return err
	}
	res.Details, res.Samples, res.Warnings, res.Features = e, e.Steps, e.Warnings, len(x)
	if e.Completeness != nil {
		res.Quality["completeness_residual"] = e.Completeness.Relative
	}
	if s.Kind == Image {
		res.Attribution, err = e.PixelAttribution(s.Shape[0], s.Shape[1], s.Shape[2])
		return err
	}
	res.Top = rankTop(e.Values, s.FeatureNames)
	return nil
}

// openLayer opens the layer called name, or the default layer for "".
func openLayer(s *Subject, name string) (*LayerAccess, error) {
	if name == "" {
		name = DefaultLayer(s)
	}
	if name == "" {
		return nil, fmt.Errorf("the model lists no hidden layers to read")
	}
	la, err := s.Layer(name)
	if err != nil {
		return nil, err
	}
	if la == nil || la.Activations == nil || la.Onward == nil {
		return nil, fmt.Errorf("layer %s cannot be read", name)
	}
	return la, nil
}

// DefaultLayer is the layer a layer method reads when Options.Layer is
// empty: the embedding (the first layer) of a text model, whose per-token
// attributions are the text explanation; the Grad-CAM layer of an image
// model with a convolution; otherwise the last hidden layer (the one
// before the output layer).
func DefaultLayer(s *Subject) string {
	switch n := len(s.Layers); {
	case n == 0:
		return ""
	case s.Kind == Text:
		return s.Layers[0]
	case s.CAMLayer != "":
		return s.CAMLayer
	case n == 1:
		return s.Layers[0]
	default:
		return s.Layers[n-2]
	}
}

// layerBaseline is the reference input of the layer methods, as for
// integrated gradients: the Subject's Baseline, the Background's mean for
// a table, else zeros (a black image; padding for token ids).
func layerBaseline(s *Subject) []float32 {
	switch {
	case s.Baseline != nil:
		return s.Baseline
	case s.Kind == Table && len(s.Background) > 0:
		return columnMeans(s.Background, s.Dim())
	}
	return nil
}

// layerIGAdaptive runs layer integrated gradients with steps (0: from 50,
// doubling until the attributions add up within IGTolerance, as ig).
func layerIGAdaptive(ctx context.Context, la *LayerAccess, x, baseline []float32, label, steps int) (*LayerAttribution, error) {
	adaptive := steps == 0
	if adaptive {
		steps = 50
	}
	for {
		e, err := LayerIntegratedGradients(ctx, la, x, baseline, label, IGOptions{Steps: steps})
		if err != nil || !adaptive || e.Completeness.Relative <= IGTolerance || steps*2 > IGMaxSteps {
			return e, err
		}
		steps *= 2
	}
}

// pickUnit returns the requested unit, or the one most activated by x.
func pickUnit(ctx context.Context, s *Subject, la *LayerAccess, x []float32, want *int) (int, error) {
	if want != nil {
		if *want < 0 || *want >= la.Units() {
			return 0, fmt.Errorf("neuron %d out of range: layer %s has %d units (shape %v, flat index 0..%d)", *want, la.Name, la.Units(), la.Shape, la.Units()-1)
		}
		return *want, nil
	}
	a, err := la.activations(ctx, "neuron", x, 1)
	if err != nil {
		return 0, err
	}
	return argmax(a), nil
}

// layerTop fills res.Top (and res.Attribution for an image layer with a
// spatial layout) from per-unit attributions: a convolution's units are
// summed per channel (and per position, upsampled to the image, for the
// map), an embedding's per token, a dense layer's listed as they are.
func layerTop(s *Subject, x []float32, la *LayerAccess, v []float32, res *Result) error {
	sh := la.Shape
	switch {
	case len(sh) == 3:
		c, h, w := sh[0], sh[1], sh[2]
		hw := h * w
		per := make([]float32, c)
		names := make([]string, c)
		pix := make([]float32, hw)
		for ch := range c {
			for p, a := range v[ch*hw : (ch+1)*hw] {
				per[ch] += a
				pix[p] += a
			}
			names[ch] = la.Name + " channel " + strconv.Itoa(ch)
		}
		res.Top = rankTop(per, names)
		if s.Kind == Image {
			res.Attribution = gradBilinear(pix, h, w, s.Shape[1], s.Shape[2])
		}
	case len(sh) == 2 && s.Kind == Text:
		t, e := sh[0], sh[1]
		per := make([]float32, t)
		for i := range t {
			for _, a := range v[i*e : (i+1)*e] {
				per[i] += a
			}
		}
		var words []string
		if s.Words != nil {
			words = s.Words(x)
		}
		names := make([]string, t)
		for i := range names {
			names[i] = "token " + strconv.Itoa(i)
			if i < len(words) {
				names[i] = words[i] + " (" + strconv.Itoa(i) + ")"
			}
		}
		res.Top = dropZero(rankTop(per, names))
	default:
		names := make([]string, len(v))
		for i := range names {
			names[i] = la.Name + "[" + strconv.Itoa(i) + "]"
		}
		res.Top = rankTop(v, names)
	}
	return nil
}

// dropZero removes features whose weight is exactly zero (padding tokens
// equal to the baseline get nothing) from a ranking.
func dropZero(top []FeatureWeight) []FeatureWeight {
	out := top[:0]
	for _, f := range top {
		if f.Weight != 0 && !math.IsNaN(f.Weight) {
			out = append(out, f)
		}
	}
	return out
}
