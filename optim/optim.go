package optim

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Optimizer updates a fixed set of parameters from their gradients.
type Optimizer interface {
	// Step applies one update to every parameter that has a gradient. It
	// returns an error, and changes nothing, when a gradient holds NaN or
	// ±Inf.
	Step() error
	// ZeroGrad drops the parameters' gradients (sets them to nil), ready
	// for the next Backward.
	ZeroGrad()
	// LR returns the current learning rate.
	LR() float64
	// SetLR changes the learning rate (schedules call it every step).
	SetLR(lr float64)
	// State returns a deep copy of everything the optimizer needs to
	// continue exactly where it is: learning rate, step counts, moments.
	State() State
	// LoadState restores a State taken from an optimizer of the same kind
	// over parameters with the same names and shapes.
	LoadState(s State) error
}

// State is an optimizer's resumable state. Tensors are keyed
// "slot/param-name" (e.g. "m/fc1/weight" for Adam's first moment);
// Counts holds each parameter's number of updates (Adam's bias correction
// depends on it). Save it next to the weights in a checkpoint.
type State struct {
	Kind    string
	LR      float64
	Steps   int64
	Tensors map[string]*tensor.Tensor
	Counts  map[string]int64
}

// Names returns the state's tensor keys, sorted.
func (s State) Names() []string {
	out := make([]string, 0, len(s.Tensors))
	for k := range s.Tensors {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// base is what every optimizer shares: parameters with stable keys,
// learning rate, per-parameter state slots and update counts.
type base struct {
	kind   string
	params []*autograd.Var
	keys   []string
	lr     float64
	steps  int64
	counts []int64
	slots  []slot
}

// slot is one kind of per-parameter state tensor (momentum buffer, moment).
type slot struct {
	name string
	ts   []*tensor.Tensor
}

func newBase(kind string, params []*autograd.Var, lr float64, slotNames ...string) (base, error) {
	if len(params) == 0 {
		return base{}, fmt.Errorf("%s: no parameters to optimize (pass model.Params())", kind)
	}
	if !(lr >= 0) || math.IsInf(lr, 0) {
		return base{}, fmt.Errorf("%s: learning rate %v must be a finite number ≥ 0", kind, lr)
	}
	b := base{kind: kind, params: params, lr: lr, keys: make([]string, len(params)), counts: make([]int64, len(params))}
	seenPtr := map[*autograd.Var]int{}
	seenKey := map[string]bool{}
	for i, p := range params {
		if p == nil || p.Value == nil {
			return base{}, fmt.Errorf("%s: parameter %d is nil", kind, i)
		}
		if j, dup := seenPtr[p]; dup {
			return base{}, fmt.Errorf("%s: parameter %q is listed twice (positions %d and %d); it would be updated twice per step", kind, p.Name, j, i)
		}
		seenPtr[p] = i
		if !p.Value.IsContiguous() {
			return base{}, fmt.Errorf("%s: parameter %q (shape %v) is a non-contiguous view; parameters must own contiguous storage", kind, p.Name, p.Value.Shape())
		}
		k := p.Name
		if k == "" || seenKey[k] {
			k = fmt.Sprintf("param%d", i)
		}
		seenKey[k] = true
		b.keys[i] = k
	}
	for _, n := range slotNames {
		s := slot{name: n, ts: make([]*tensor.Tensor, len(params))}
		for i, p := range params {
			s.ts[i] = tensor.New(p.Value.Shape()...)
		}
		b.slots = append(b.slots, s)
	}
	return b, nil
}

func (b *base) LR() float64      { return b.lr }
func (b *base) SetLR(lr float64) { b.lr = lr }

// ZeroGrad sets every parameter's gradient to nil.
func (b *base) ZeroGrad() {
	for _, p := range b.params {
		p.ZeroGrad()
	}
}

// checkFinite returns an error naming the first parameter whose gradient
// holds NaN or ±Inf.
func (b *base) checkFinite() error {
	for _, p := range b.params {
		if p.Grad == nil {
			continue
		}
		if !tensor.SameShape(p.Grad.Shape(), p.Value.Shape()) {
			return fmt.Errorf("%s: gradient of %q has shape %v, parameter has %v", b.kind, p.Name, p.Grad.Shape(), p.Value.Shape())
		}
		g := p.Grad.Data()
		// One vector pass tells whether anything is off; only then is
		// the offending element looked for.
		if !tensor.AllFinite(g) {
			for i, v := range g {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return fmt.Errorf("%s: gradient of %q is %v at element %d (shape %v); lower the learning rate, clip gradients (optim.ClipGradNorm) or check the inputs for NaN", b.kind, p.Name, v, i, p.Grad.Shape())
				}
			}
		}
	}
	return nil
}

// State returns deep copies of the slots.
func (b *base) State() State {
	s := State{Kind: b.kind, LR: b.lr, Steps: b.steps, Tensors: map[string]*tensor.Tensor{}, Counts: map[string]int64{}}
	for i, k := range b.keys {
		s.Counts[k] = b.counts[i]
		for _, sl := range b.slots {
			s.Tensors[sl.name+"/"+k] = sl.ts[i].Clone()
		}
	}
	return s
}

// LoadState validates s against this optimizer and copies it in.
func (b *base) LoadState(s State) error {
	if s.Kind != b.kind {
		return fmt.Errorf("%s: state was saved by a %q optimizer; resume with the same optimizer", b.kind, s.Kind)
	}
	want := len(b.keys) * len(b.slots)
	if len(s.Tensors) != want || len(s.Counts) != len(b.keys) {
		return fmt.Errorf("%s: state has %d tensors and %d counts, this optimizer needs %d and %d (a checkpoint of another model?)", b.kind, len(s.Tensors), len(s.Counts), want, len(b.keys))
	}
	for i, k := range b.keys {
		if _, ok := s.Counts[k]; !ok {
			return fmt.Errorf("%s: state lacks parameter %q (it has %s)", b.kind, k, strings.Join(s.Names(), ", "))
		}
		for _, sl := range b.slots {
			t, ok := s.Tensors[sl.name+"/"+k]
			if !ok {
				return fmt.Errorf("%s: state lacks tensor %q", b.kind, sl.name+"/"+k)
			}
			if !tensor.SameShape(t.Shape(), sl.ts[i].Shape()) {
				return fmt.Errorf("%s: state tensor %q has shape %v, parameter has %v", b.kind, sl.name+"/"+k, t.Shape(), sl.ts[i].Shape())
			}
		}
	}
	for i, k := range b.keys {
		b.counts[i] = s.Counts[k]
		for _, sl := range b.slots {
			sl.ts[i].CopyFrom(s.Tensors[sl.name+"/"+k])
		}
	}
	b.lr = s.LR
	b.steps = s.Steps
	return nil
}

// ClipGradNorm rescales the gradients of params so that their global L2
// norm (over all of them together) is at most maxNorm, and returns the
// norm before clipping. Parameters without a gradient are ignored. Like
// PyTorch it multiplies by maxNorm/(norm+1e-6) only when norm > maxNorm;
// a NaN or infinite norm is returned unchanged for Step to report.
func ClipGradNorm(params []*autograd.Var, maxNorm float64) float64 {
	var ss float64
	for _, p := range params {
		if p.Grad == nil {
			continue
		}
		for _, v := range p.Grad.Data() {
			ss += float64(v) * float64(v)
		}
	}
	norm := math.Sqrt(ss)
	if norm > maxNorm && !math.IsInf(norm, 0) {
		scale := float32(maxNorm / (norm + 1e-6))
		for _, p := range params {
			if p.Grad != nil {
				tensor.ScaleInPlace(p.Grad, scale)
			}
		}
	}
	return norm
}
