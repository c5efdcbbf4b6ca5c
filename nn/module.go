package nn

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Module is a layer or a model: something with parameters that maps an
// input Var to an output Var.
type Module interface {
	// Forward computes the output for x on c's tape.
	Forward(c *Ctx, x *autograd.Var) *autograd.Var
	// Params returns the module's trainable parameters, named by path
	// ("conv1/weight"), in a stable order.
	Params() []*autograd.Var
	// Spec describes the module's architecture (not its weights).
	Spec() Spec
}

// Buffered is implemented by modules with state that is saved but not
// trained, such as BatchNorm's running mean and variance.
type Buffered interface {
	Buffers() []*autograd.Var
}

// Ctx carries what a forward pass needs besides the input: the tape to
// record on, whether the model is training (Dropout drops, BatchNorm uses
// batch statistics) and the random source for stochastic layers.
type Ctx struct {
	Tape     *autograd.Tape
	Training bool
	RNG      *rand.Rand
}

// Train returns a context for a training step on a fresh recording tape.
func Train(rng *rand.Rand) *Ctx { return &Ctx{Tape: autograd.NewTape(), Training: true, RNG: rng} }

// Eval returns a context for inference: no recording, no dropout, running
// statistics in BatchNorm.
func Eval() *Ctx { return &Ctx{Tape: autograd.NoGrad()} }

// EvalGrad returns an inference-mode context that still records, for
// gradients with respect to the input (saliency, integrated gradients).
func EvalGrad() *Ctx { return &Ctx{Tape: autograd.NewTape()} }

// Spec is the architecture of a module: its type, its arguments and, for
// containers, its children. It round-trips through JSON.
type Spec struct {
	Type     string          `json:"type"`
	Name     string          `json:"name,omitempty"`
	Args     json.RawMessage `json:"args,omitempty"`
	Children []Spec          `json:"children,omitempty"`
}

// MakeSpec builds a Spec with args marshalled to JSON.
func MakeSpec(typ, name string, args any, children ...Spec) Spec {
	s := Spec{Type: typ, Name: name, Children: children}
	if args != nil {
		b, err := json.Marshal(args)
		if err != nil {
			panic(fmt.Sprintf("nn: spec args of %s do not marshal: %v", typ, err))
		}
		s.Args = b
	}
	return s
}

// UnmarshalArgs decodes a Spec's args into v, with an error naming the type.
func (s Spec) UnmarshalArgs(v any) error {
	if len(s.Args) == 0 {
		return nil
	}
	if err := json.Unmarshal(s.Args, v); err != nil {
		return fmt.Errorf("nn: bad args for %s %q: %v", s.Type, s.Name, err)
	}
	return nil
}

// Apply runs m on x in c and converts a shape panic into an error. It is
// the entry point for user-supplied inputs.
func Apply(m Module, c *Ctx, x *tensor.Tensor) (out *autograd.Var, err error) {
	err = tensor.Catch(func() { out = m.Forward(c, autograd.Const(x)) })
	return out, err
}

// Predict runs m in inference mode on x and returns the output tensor.
func Predict(m Module, x *tensor.Tensor) (*tensor.Tensor, error) {
	out, err := Apply(m, Eval(), x)
	if err != nil {
		return nil, err
	}
	return out.Value, nil
}

// NumParams counts the scalar parameters of m.
func NumParams(m Module) int {
	n := 0
	for _, p := range m.Params() {
		n += p.Value.Len()
	}
	return n
}

// ZeroGrad clears the gradients of all of m's parameters.
func ZeroGrad(m Module) {
	for _, p := range m.Params() {
		p.ZeroGrad()
	}
}

// prefix renames params under a path prefix ("block1/" + "weight").
func prefix(name string, ps []*autograd.Var) []*autograd.Var {
	if name == "" {
		return ps
	}
	for _, p := range ps {
		p.Name = name + "/" + p.Name
	}
	return ps
}
