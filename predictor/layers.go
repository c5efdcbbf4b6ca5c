package predictor

import (
	"context"
	"fmt"
	"strings"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/explain/adapt"
	"github.com/glassbox-ml/glassbox/inspect"
	"github.com/glassbox-ml/glassbox/nn"
)

// addLayers gives s access to the hidden layers of a Sequential network,
// by the names inspect shows (layerig, layerconductance, neuronig,
// neuronconductance, tcav), with the preprocessing inside the functions as
// for Predict and Gradient; and, for text, the words of an input.
func (p *Predictor) addLayers(s *explain.Subject) {
	if p.Kind == explain.Text && p.Prep.Vocab != nil {
		v := p.Prep.Vocab
		s.Words = func(x []float32) []string {
			w := make([]string, len(x))
			for i, id := range x {
				w[i] = v.Token(int(id))
			}
			return w
		}
	}
	seq, ok := p.Module.(*nn.Sequential)
	if !ok {
		return // an imported ONNX graph: no layer access yet
	}
	names := make([]string, len(seq.Layers))
	for i, l := range seq.Layers {
		names[i] = inspect.LayerName(l, i)
	}
	s.Layers = names
	s.Layer = func(name string) (*explain.LayerAccess, error) {
		i := indexOf(names, name)
		if i < 0 {
			// The name may come from a client: quote only its start.
			shown := name
			if len(shown) > 64 {
				shown = shown[:64] + "…"
			}
			msg := fmt.Sprintf("unknown layer %q (layers: %s)", shown, strings.Join(names, ", "))
			if near := explain.Closest(name, names); near != "" {
				msg += fmt.Sprintf("; did you mean %q?", near)
			}
			return nil, fmt.Errorf("%s", msg)
		}
		la, err := adapt.Layer(seq, i, name, p.InputShape, p.Kind != explain.Text)
		if err != nil {
			return nil, err
		}
		return p.layerInUnits(la), nil
	}
}

// layerInUnits wraps la's functions so that inputs are in the data's own
// units and regression outputs in the target's, as Subject's Gradient.
func (p *Predictor) layerInUnits(la *explain.LayerAccess) *explain.LayerAccess {
	acts, onward, neuron := la.Activations, la.Onward, la.Neuron
	la.Activations = func(ctx context.Context, x []float32, n int) ([]float32, error) {
		return acts(ctx, p.modelInput(x), n)
	}
	la.Onward = func(ctx context.Context, a []float32, n, label int) ([]float32, []float32, error) {
		out, grad, err := onward(ctx, a, n, label)
		if err == nil && p.Task == Regression && p.Prep.TargetStd != 0 {
			p.TargetFromModel(out)
			for i := range grad {
				grad[i] *= p.Prep.TargetStd
			}
		}
		return out, grad, err
	}
	if neuron != nil {
		la.Neuron = func(ctx context.Context, x []float32, n, unit int) ([]float32, []float32, error) {
			act, grad, err := neuron(ctx, p.modelInput(x), n, unit)
			if err == nil {
				p.gradToRaw(grad)
			}
			return act, grad, err
		}
	}
	return la
}

func indexOf(names []string, name string) int {
	for i, n := range names {
		if n == name {
			return i
		}
	}
	return -1
}
