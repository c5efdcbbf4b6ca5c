package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/glassbox-ml/glassbox/autograd"
)

// Named is implemented by layers that carry a name and prefix their
// parameters with it ("conv1/weight"). Sequential uses it to give every
// child a unique name.
type Named interface {
	LayerName() string
	// SetName renames the layer and its parameters.
	SetName(name string)
}

// Sequential applies its layers in order: the output of one is the input
// of the next.
type Sequential struct {
	Layers []Module
}

var (
	_ Module = (*Sequential)(nil)
	_ Shaper = (*Sequential)(nil)
)

// NewSequential chains layers. Layers without a unique name are named
// after their type and position ("linear2"), so parameter names are
// unique. Names must be unique across nested Sequentials too, since their
// parameters share one namespace: a layer inside a nested Sequential
// whose name is already taken is renamed with a suffix ("linear0_2").
// Renaming is idempotent, so a model rebuilt from its Spec keeps its names.
func NewSequential(layers ...Module) *Sequential {
	seen := map[string]bool{}
	unique := func(name string) string {
		if !seen[name] {
			return name
		}
		for k := 2; ; k++ {
			if c := fmt.Sprintf("%s_%d", name, k); !seen[c] {
				return c
			}
		}
	}
	for i, l := range layers {
		if inner, ok := l.(*Sequential); ok {
			for _, m := range inner.named() {
				n := m.(Named)
				name := n.LayerName()
				if name == "" {
					name = fmt.Sprintf("%s%d", m.Spec().Type, i)
				}
				if name != n.LayerName() || seen[name] {
					n.SetName(unique(name))
				}
				seen[n.LayerName()] = true
			}
			continue
		}
		n, ok := l.(Named)
		if !ok {
			continue
		}
		name := n.LayerName()
		if name == "" || seen[name] {
			name = unique(fmt.Sprintf("%s%d", l.Spec().Type, i))
			n.SetName(name)
		}
		seen[name] = true
	}
	return &Sequential{Layers: layers}
}

// named returns the Named layers of s and of the Sequentials nested in
// it, in order.
func (s *Sequential) named() []Module {
	var out []Module
	for _, l := range s.Layers {
		if inner, ok := l.(*Sequential); ok {
			out = append(out, inner.named()...)
		} else if _, ok := l.(Named); ok {
			out = append(out, l)
		}
	}
	return out
}

// Forward runs x through every layer. A Conv2D directly followed by a
// ReLU runs as one fused operation (autograd's Conv2DReLU): the same
// values and gradients without a separate pass over the activations.
// Code that needs the convolution's own output (Grad-CAM before the
// rectifier, activation views) calls the layers one by one.
func (s *Sequential) Forward(c *Ctx, x *autograd.Var) *autograd.Var {
	for i := 0; i < len(s.Layers); i++ {
		if conv, ok := s.Layers[i].(*Conv2D); ok && i+1 < len(s.Layers) {
			if _, relu := s.Layers[i+1].(*ReLU); relu {
				x = conv.forwardReLU(c, x)
				i++
				continue
			}
		}
		x = s.Layers[i].Forward(c, x)
	}
	return x
}

// Params returns all layers' parameters in order.
func (s *Sequential) Params() []*autograd.Var {
	var ps []*autograd.Var
	for _, l := range s.Layers {
		ps = append(ps, l.Params()...)
	}
	return ps
}

// Buffers returns the non-trained state of all layers (BatchNorm statistics).
func (s *Sequential) Buffers() []*autograd.Var {
	var bs []*autograd.Var
	for _, l := range s.Layers {
		if b, ok := l.(Buffered); ok {
			bs = append(bs, b.Buffers()...)
		}
	}
	return bs
}

// Spec lists the children's specs.
func (s *Sequential) Spec() Spec {
	ch := make([]Spec, len(s.Layers))
	for i, l := range s.Layers {
		ch[i] = l.Spec()
	}
	return MakeSpec("sequential", "", nil, ch...)
}

func init() {
	// The children are counted and checked by Build before this runs, so
	// they are built without checking them again.
	RegisterSized("sequential", func(s Spec, rng *rand.Rand) (Module, error) {
		layers := make([]Module, len(s.Children))
		for i, c := range s.Children {
			m, err := buildSpec(c, rng)
			if err != nil {
				return nil, fmt.Errorf("sequential layer %d: %w", i, err)
			}
			layers[i] = m
		}
		return NewSequential(layers...), nil
	}, noElements)
}
