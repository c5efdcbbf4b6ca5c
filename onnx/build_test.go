package onnx

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Helpers that build *Model values by hand, so the importer's tests need
// neither the reader nor files.

func tInt(name string, v int64) *Attribute { return &Attribute{Name: name, Type: AttrInt, I: v} }
func tInts(name string, v ...int64) *Attribute {
	return &Attribute{Name: name, Type: AttrInts, Ints: v}
}
func tFloat(name string, v float32) *Attribute { return &Attribute{Name: name, Type: AttrFloat, F: v} }
func tFloats(name string, v ...float32) *Attribute {
	return &Attribute{Name: name, Type: AttrFloats, Floats: v}
}
func tStr(name, v string) *Attribute { return &Attribute{Name: name, Type: AttrString, S: []byte(v)} }
func tStrs(name string, v ...string) *Attribute {
	a := &Attribute{Name: name, Type: AttrStrings}
	for _, s := range v {
		a.Strings = append(a.Strings, []byte(s))
	}
	return a
}
func tTensor(name string, t *Tensor) *Attribute {
	return &Attribute{Name: name, Type: AttrTensor, T: t}
}

// builder assembles a model.
type builder struct{ m *Model }

func newModel(opset int64) *builder {
	return &builder{m: &Model{IRVersion: 8, Opsets: map[string]int64{"": opset}, ProducerName: "test", Graph: &Graph{Name: "test"}}}
}

// input declares a graph input; a negative dimension is the symbolic
// batch axis "N", and no dims at all leave the shape unknown.
func (b *builder) input(name string, dt DataType, dims ...int64) *builder {
	v := &ValueInfo{Name: name, ElemType: dt}
	for _, d := range dims {
		if d < 0 {
			v.Shape = append(v.Shape, Dim{Param: "N"})
		} else {
			v.Shape = append(v.Shape, Dim{Value: d})
		}
	}
	b.m.Graph.Inputs = append(b.m.Graph.Inputs, v)
	return b
}

func (b *builder) floatInit(name string, t *tensor.Tensor) *builder {
	b.m.Graph.Initializers = append(b.m.Graph.Initializers, floatTensor(name, t))
	return b
}

func (b *builder) intInit(name string, dims []int64, v ...int64) *builder {
	b.m.Graph.Initializers = append(b.m.Graph.Initializers, &Tensor{Name: name, DataType: Int64, Dims: dims, Ints: v})
	return b
}

func (b *builder) node(op string, ins, outs []string, at ...*Attribute) *builder {
	n := &Node{Name: op + "_" + strings.Join(outs, "_"), OpType: op, Inputs: ins, Outputs: outs, Attrs: map[string]*Attribute{}}
	for _, a := range at {
		n.Attrs[a.Name] = a
	}
	b.m.Graph.Nodes = append(b.m.Graph.Nodes, n)
	return b
}

func (b *builder) output(names ...string) *builder {
	for _, n := range names {
		b.m.Graph.Outputs = append(b.m.Graph.Outputs, &ValueInfo{Name: n, ElemType: Float})
	}
	return b
}

func floatTensor(name string, t *tensor.Tensor) *Tensor {
	return &Tensor{Name: name, DataType: Float, Dims: toInt64s(t.Shape()), Floats: slices.Clone(t.Data())}
}

func mustImport(t testing.TB, m *Model, opt ImportOptions) *Module {
	t.Helper()
	mod, err := Import(m, opt)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return mod
}

// runVars evaluates output out of mod on tp with the named float inputs.
func runVars(mod *Module, tp *autograd.Tape, vars map[string]*autograd.Var, out string) *autograd.Var {
	e := &env{tp: tp, ctx: &nn.Ctx{Tape: tp}, m: mod}
	vals, err := mod.run(e, vars, nil, []string{out})
	if err != nil {
		panic(&tensor.ShapeError{Op: "test", Msg: err.Error()})
	}
	return vals[out].asVar()
}

// tens is a float tensor from values.
func tens(shape []int, v ...float32) *tensor.Tensor { return tensor.MustFromSlice(v, shape...) }

// randT draws a tensor with entries in [-1, 1) whose magnitude is at least
// 0.05, away from the kinks of ReLU, Abs, max and the like, so finite
// differences are valid.
func randT(rng *rand.Rand, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	d := t.Data()
	for i := range d {
		v := rng.Float32()*1.9 - 0.95
		if v >= 0 {
			v += 0.05
		} else {
			v -= 0.05
		}
		d[i] = v
	}
	return t
}

// randDistinct draws values that differ pairwise by at least 0.02 (max
// pooling and reductions need a unique maximum under perturbation).
func randDistinct(rng *rand.Rand, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	d := t.Data()
	perm := rng.Perm(len(d))
	for i := range d {
		d[i] = float32(perm[i])*0.03 - float32(len(d))*0.015
	}
	return t
}

func close64(a []float32, b []float64, tol float64) (int, bool) {
	if len(a) != len(b) {
		return -1, false
	}
	for i := range a {
		if math.Abs(float64(a[i])-b[i]) > tol*(1+math.Abs(b[i])) || math.IsNaN(float64(a[i])) != math.IsNaN(b[i]) {
			return i, false
		}
	}
	return 0, true
}
