package predictor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/onnx"
	"github.com/glassbox-ml/glassbox/tensor"
)

// paramLayers groups m's parameters by layer (the path of a parameter's
// name up to its last "/" or ".", so "conv1/weight" and "conv1/bias", or
// ONNX's "fc1.weight" and "fc1.bias", are one layer), from the input up.
func paramLayers(m nn.Module) [][]int {
	var groups [][]int
	index := map[string]int{}
	for i, p := range m.Params() {
		key := p.Name
		if cut := strings.LastIndexAny(key, "/."); cut >= 0 {
			key = key[:cut]
		}
		g, ok := index[key]
		if !ok {
			g = len(groups)
			index[key] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	return groups
}

// cloneModule returns a module that computes what m computes, with its
// own parameter Vars (sharing m's tensors until they are replaced).
func cloneModule(m nn.Module) (nn.Module, error) {
	var c nn.Module
	if om, ok := m.(*onnx.Module); ok {
		mod, err := onnx.Import(om.Model(), onnx.ImportOptions{MaxActivationValues: MaxActivationValues})
		if err != nil {
			return nil, err
		}
		c = mod
	} else {
		b, err := nn.Build(m.Spec(), rand.New(rand.NewPCG(0, 0)))
		if err != nil {
			return nil, fmt.Errorf("the model cannot be rebuilt from its architecture to randomise it: %w", err)
		}
		c = b
	}
	if err := shareValues(m.Params(), c.Params(), "parameters"); err != nil {
		return nil, err
	}
	mb, ok1 := m.(nn.Buffered)
	cb, ok2 := c.(nn.Buffered)
	if ok1 && ok2 {
		if err := shareValues(mb.Buffers(), cb.Buffers(), "buffers"); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func shareValues(from, to []*autograd.Var, what string) error {
	if len(from) != len(to) {
		return fmt.Errorf("the rebuilt model has %d %s, the model %d", len(to), what, len(from))
	}
	for i, v := range from {
		if !tensor.SameShape(v.Value.Shape(), to[i].Value.Shape()) {
			return fmt.Errorf("the rebuilt model's %s %s has shape %v, the model's %v", what, to[i].Name, to[i].Value.Shape(), v.Value.Shape())
		}
		to[i].Value = v.Value
	}
	return nil
}

// Randomized returns p with the parameters of the chosen layers (counted
// from the top: 0 is the output layer) replaced by seeded normal values
// of each tensor's own root-mean-square size (a zero tensor, such as a
// fresh bias, takes its layer's largest), for the model-parameter
// randomisation test. p itself is not changed: the copy has its own
// parameters, and shares the rest.
func (p *Predictor) Randomized(layers []int, seed uint64) (*Predictor, error) {
	c, err := cloneModule(p.Module)
	if err != nil {
		return nil, err
	}
	groups := paramLayers(c)
	params := c.Params()
	rng := rand.New(rand.NewPCG(seed, 0x72616e64))
	for _, l := range layers {
		if l < 0 || l >= len(groups) {
			return nil, fmt.Errorf("randomise layer %d: the model has %d layers with parameters (0 to %d from the top)", l, len(groups), len(groups)-1)
		}
		g := groups[len(groups)-1-l]
		largest := 0.0
		for _, i := range g {
			largest = math.Max(largest, rms(params[i].Value.Data()))
		}
		for _, i := range g {
			v := params[i].Value
			scale := rms(v.Data())
			if scale == 0 {
				scale = largest
			}
			t := tensor.New(v.Shape()...)
			d := t.Data()
			for j := range d {
				d[j] = float32(rng.NormFloat64() * scale)
			}
			params[i].Value = t
		}
	}
	q := *p
	q.Module = c
	return &q, nil
}

func rms(v []float32) float64 {
	if len(v) == 0 {
		return 0
	}
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s / float64(len(v)))
}

// randomizable sets s.Randomized and s.RandomLayers for p's model.
func (p *Predictor) randomizable(s *explain.Subject) {
	n := len(paramLayers(p.Module))
	if n == 0 {
		return
	}
	s.RandomLayers = n
	s.Randomized = func(layers []int, seed uint64) (*explain.Subject, error) {
		q, err := p.Randomized(layers, seed)
		if err != nil {
			return nil, err
		}
		return q.Subject(), nil
	}
}
