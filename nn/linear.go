package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Linear is a fully connected (dense) layer: y = x·W + b.
//
//	x: [batch, in] or [batch, …, in]; returns [batch, out] or [batch, …, out]
//
// W is stored as [in, out], so the forward pass is a plain matrix product
// with no transpose, and the bias add is fused into it (one tape record,
// one output allocation). Leading axes beyond the batch (a sequence axis,
// say) are folded into the rows of that product. Parameters are named
// "NAME/weight" and "NAME/bias".
type Linear struct {
	// Weight is [in, out].
	Weight *autograd.Var
	// Bias is [out], or nil when built with LinearNoBias.
	Bias *autograd.Var

	In, Out int
	// Init is the scheme the weights were drawn with (kept in the Spec).
	Init Init

	name string
}

var (
	_ Module = (*Linear)(nil)
	_ Named  = (*Linear)(nil)
	_ Shaper = (*Linear)(nil)
)

type linearArgs struct {
	In   int  `json:"in"`
	Out  int  `json:"out"`
	Bias bool `json:"bias"`
	Init Init `json:"init"`
}

// LinearOption sets an optional knob of NewLinear.
type LinearOption func(*linearArgs)

// LinearInit chooses the weight initialiser (default InitGlorotUniform;
// InitHeNormal suits deep ReLU stacks).
func LinearInit(i Init) LinearOption { return func(a *linearArgs) { a.Init = i } }

// LinearNoBias leaves out the bias (as before a BatchNorm).
func LinearNoBias() LinearOption { return func(a *linearArgs) { a.Bias = false } }

// NewLinear returns a dense layer from in to out features, with weights
// drawn from rng by Glorot-uniform (unless LinearInit says otherwise) and
// a zero bias. Sizes outside [1, MaxDim] or an unknown initialiser panic
// with a *tensor.ShapeError; Build returns them as errors.
//
//	fc := nn.NewLinear(784, 128, rng, nn.LinearInit(nn.InitHeNormal))
func NewLinear(in, out int, rng *rand.Rand, opts ...LinearOption) *Linear {
	a := linearArgs{In: in, Out: out, Bias: true, Init: InitGlorotUniform}
	for _, o := range opts {
		o(&a)
	}
	l, err := newLinear(a, rng)
	if err != nil {
		panic(&tensor.ShapeError{Op: "linear", Msg: err.Error()})
	}
	return l
}

// validate checks the sizes and the initialiser (empty means
// InitGlorotUniform).
func (a *linearArgs) validate() error {
	if !dimsOK(a.In, a.Out) {
		return fmt.Errorf("sizes in=%d out=%d must be between 1 and MaxDim = %d", a.In, a.Out, MaxDim)
	}
	if a.Init == "" {
		a.Init = InitGlorotUniform
	}
	return a.Init.Valid()
}

// elements counts the weight and the bias.
func (a linearArgs) elements() int64 {
	if a.Bias {
		return Elements(a.In+1, a.Out)
	}
	return Elements(a.In, a.Out)
}

func newLinear(a linearArgs, rng *rand.Rand) (*Linear, error) {
	if err := a.validate(); err != nil {
		return nil, err
	}
	w, err := a.Init.New(rng, a.In, a.Out, a.In, a.Out)
	if err != nil {
		return nil, err
	}
	l := &Linear{Weight: autograd.Param(w, "weight"), In: a.In, Out: a.Out, Init: a.Init}
	if a.Bias {
		l.Bias = autograd.Param(tensor.New(a.Out), "bias")
	}
	return l, nil
}

// Forward computes x·W + b: x [batch, …, in] → [batch, …, out].
func (l *Linear) Forward(c *Ctx, x *autograd.Var) *autograd.Var {
	return affineForward(c.Tape, layerOpName("linear", l.name), x, l.Weight, l.Bias)
}

// affineForward records y = x·w + b as one fused operation; w is [in, out],
// b is [out] or nil, x is [batch, …, in].
func affineForward(tp *autograd.Tape, op string, x, w, b *autograd.Var) *autograd.Var {
	in, out := w.Value.Dim(0), w.Value.Dim(1)
	sh := x.Shape()
	outShape, err := affineShape(op, sh, in, out)
	if err != nil {
		panic(err)
	}
	rows := tensor.Numel(sh[:len(sh)-1])
	x2 := x.Value.Reshape(rows, in)
	y := tensor.New(rows, out)
	if b != nil {
		bd := b.Value.Data()
		yd := y.Data()
		for r := 0; r < rows; r++ {
			copy(yd[r*out:(r+1)*out], bd)
		}
	}
	tensor.MatMulInto(y, x2, w.Value, b != nil)
	var lin *autograd.LinearOp
	if tp.Rule() != nil {
		lin = denseOp(x, w, b, y, outShape)
	}
	return tp.Affine(y.Reshape(outShape...), lin, func(g *tensor.Tensor) []*tensor.Tensor {
		g2 := g.Reshape(rows, out)
		grads := make([]*tensor.Tensor, 3)
		if x.RequiresGrad() {
			gx := tensor.New(rows, in)
			tensor.MatMulInto(gx, g2, w.Value.Transpose(), false)
			grads[0] = gx.Reshape(sh...)
		}
		if w.RequiresGrad() {
			gw := tensor.New(in, out)
			tensor.MatMulInto(gw, x2.Transpose(), g2, false)
			grads[1] = gw
		}
		if b != nil && b.RequiresGrad() {
			grads[2] = tensor.Sum(g2, false, 0)
		}
		return grads
	}, x, w, b)
}

// denseOp describes y = x·w + b for an explanation rule
// (autograd.Rule.Linear), in x's and the output's own shapes.
func denseOp(x, w, b *autograd.Var, y *tensor.Tensor, outShape []int) *autograd.LinearOp {
	sh := x.Shape()
	in, out := w.Value.Dim(0), w.Value.Dim(1)
	rows := tensor.Numel(sh[:len(sh)-1])
	x2 := x.Value.Reshape(rows, in)
	var bv *tensor.Tensor
	if b != nil {
		bv = b.Value
	}
	return &autograd.LinearOp{Kind: "dense", X: x.Value, Z: y.Reshape(outShape...), W: w.Value, B: bv,
		Forward: func(w, b *tensor.Tensor) *tensor.Tensor {
			z := tensor.MatMul(x2, w)
			if b != nil {
				z = tensor.Add(z, b)
			}
			return z.Reshape(outShape...)
		},
		Backward: func(w, g *tensor.Tensor) *tensor.Tensor {
			return tensor.MatMul(g.Reshape(rows, out), w.Transpose()).Reshape(sh...)
		},
	}
}

// affineShape is the output shape of affineForward for an input of shape
// sh, or its shape error.
func affineShape(op string, sh []int, in, out int) ([]int, error) {
	if len(sh) < 2 {
		return nil, shapeErr(op, "input must be [batch, %d] (or [batch, …, %d]), got %v; add a batch axis", in, in, sh)
	}
	if sh[len(sh)-1] != in {
		return nil, shapeErr(op, "input has %d features (shape %v), layer expects %d", sh[len(sh)-1], sh, in)
	}
	return append(append([]int(nil), sh[:len(sh)-1]...), out), nil
}

// OutputShape is [batch, …, out] for an input [batch, …, in].
func (l *Linear) OutputShape(in []int) ([]int, error) {
	return affineShape(layerOpName("linear", l.name), in, l.In, l.Out)
}

// allocates counts the output and the packed weights of the product.
func (l *Linear) allocates(_, out []int) int64 {
	return satAdd(Elements(out...), gemmOperand(l.In, l.Out))
}

// Params returns the weight and, if present, the bias.
func (l *Linear) Params() []*autograd.Var {
	if l.Bias == nil {
		return []*autograd.Var{l.Weight}
	}
	return []*autograd.Var{l.Weight, l.Bias}
}

// Spec describes the layer for saving; Build rebuilds it.
func (l *Linear) Spec() Spec {
	return MakeSpec("linear", l.name, linearArgs{In: l.In, Out: l.Out, Bias: l.Bias != nil, Init: l.Init})
}

// LayerName returns the layer's name ("" until named).
func (l *Linear) LayerName() string { return l.name }

// SetName names the layer and its parameters ("NAME/weight", "NAME/bias").
func (l *Linear) SetName(name string) {
	l.name = name
	l.Weight.Name = layerParamName(name, "weight")
	if l.Bias != nil {
		l.Bias.Name = layerParamName(name, "bias")
	}
}

// layerOpName is the ShapeError Op of a layer: its type and, when named,
// its name (`linear "fc1"`).
func layerOpName(typ, name string) string {
	if name == "" {
		return typ
	}
	return fmt.Sprintf("%s %q", typ, name)
}

// layerParamName prefixes a parameter with its layer's name.
func layerParamName(layer, p string) string {
	if layer == "" {
		return p
	}
	return layer + "/" + p
}

// linearSpecArgs decodes and validates the args of a "linear" Spec.
func linearSpecArgs(s Spec) (linearArgs, error) {
	a := linearArgs{Bias: true}
	if err := s.UnmarshalArgs(&a); err != nil {
		return a, err
	}
	if err := a.validate(); err != nil {
		return a, fmt.Errorf("nn: linear %q: %v", s.Name, err)
	}
	return a, nil
}

func init() {
	RegisterSized("linear", func(s Spec, rng *rand.Rand) (Module, error) {
		a, err := linearSpecArgs(s)
		if err != nil {
			return nil, err
		}
		l, err := newLinear(a, rng)
		if err != nil {
			return nil, fmt.Errorf("nn: linear %q: %v", s.Name, err)
		}
		l.SetName(s.Name)
		return l, nil
	}, func(s Spec) (int64, error) {
		a, err := linearSpecArgs(s)
		return a.elements(), err
	})
}
