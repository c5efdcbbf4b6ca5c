package onnx

import (
	"fmt"
	"math"
	"strings"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/nn"
)

// ExportOpset is the ai.onnx operator-set version Export writes: every
// runtime of the last years loads it (onnxruntime, PyTorch's checker,
// TensorRT).
const ExportOpset = 13

// ExportOptions tune Export. The zero value names the graph input
// "input" and its output "output".
type ExportOptions struct {
	// InputName and OutputName name the graph's input and output.
	InputName, OutputName string
	// GraphName names the graph (default "glassbox").
	GraphName string
}

// Export writes m, a glassbox model taking inputs of shape inputShape
// (one example, without the batch axis), as an ONNX model of opset
// ExportOpset whose batch axis is free ("batch"). Its output is the
// model's raw output (logits for a classifier), in inference mode:
// dropout is left out and batch normalisation uses its running
// statistics. Token ids of text models stay float32 at the input, as
// glassbox feeds them, and are cast to int64 for the embedding lookup. A
// layer Export does not know is an error naming it.
func Export(m nn.Module, inputShape []int, opt ExportOptions) (*Model, error) {
	if opt.InputName == "" {
		opt.InputName = "input"
	}
	if opt.OutputName == "" {
		opt.OutputName = "output"
	}
	if opt.GraphName == "" {
		opt.GraphName = "glassbox"
	}
	if len(inputShape) == 0 {
		return nil, fmt.Errorf("onnx: export needs the model's input shape")
	}
	e := &exporter{g: &Graph{Name: opt.GraphName}, names: map[string]int{}}
	in := &ValueInfo{Name: opt.InputName, ElemType: Float, Shape: []Dim{{Param: "batch"}}}
	for _, d := range inputShape {
		in.Shape = append(in.Shape, Dim{Value: int64(d)})
	}
	e.g.Inputs = []*ValueInfo{in}
	x := value{name: opt.InputName, rank: len(inputShape) + 1}
	y, err := e.module(m, x)
	if err != nil {
		return nil, err
	}
	// The last node writes the graph output under its name.
	if len(e.g.Nodes) == 0 {
		e.node("Identity", []string{y.name}, nil)
	}
	last := e.g.Nodes[len(e.g.Nodes)-1]
	last.Outputs[0] = opt.OutputName
	// onnx.checker requires the output's shape: the batch axis is free,
	// the rest is what the model computes for one example.
	out := &ValueInfo{Name: opt.OutputName, ElemType: Float}
	shape, err := nn.OutputShape(m, append([]int{1}, inputShape...))
	if err != nil {
		return nil, fmt.Errorf("onnx: export: the model's output shape: %w", err)
	}
	out.Shape = []Dim{{Param: "batch"}}
	for _, d := range shape[1:] {
		out.Shape = append(out.Shape, Dim{Value: int64(d)})
	}
	e.g.Outputs = []*ValueInfo{out}
	return &Model{IRVersion: 7, Opsets: map[string]int64{"": ExportOpset}, ProducerName: "glassbox",
		ProducerVersion: "1", Graph: e.g}, nil
}

// value is a tensor of the graph being written: its name and rank.
type value struct {
	name string
	rank int
}

type exporter struct {
	g     *Graph
	names map[string]int
}

// fresh returns a name not used before, from a readable stem.
func (e *exporter) fresh(stem string) string {
	stem = strings.NewReplacer("/", "_", " ", "_").Replace(stem)
	n := e.names[stem]
	e.names[stem] = n + 1
	if n == 0 {
		return stem
	}
	return fmt.Sprintf("%s_%d", stem, n)
}

// node appends an operator with one output and returns the output's name.
func (e *exporter) node(op string, inputs []string, attrs map[string]*Attribute) string {
	out := e.fresh(strings.ToLower(op))
	e.g.Nodes = append(e.g.Nodes, &Node{Name: out, OpType: op, Inputs: inputs, Outputs: []string{out}, Attrs: attrs})
	return out
}

// weight adds an initialiser and returns its name.
func (e *exporter) weight(stem string, dims []int64, data []float32) string {
	name := e.fresh(stem)
	e.g.Initializers = append(e.g.Initializers, &Tensor{Name: name, DataType: Float, Dims: dims, Floats: data})
	return name
}

// ints adds an int64 initialiser (a shape, axes) and returns its name.
func (e *exporter) ints(stem string, v ...int64) string {
	name := e.fresh(stem)
	e.g.Initializers = append(e.g.Initializers, &Tensor{Name: name, DataType: Int64, Dims: []int64{int64(len(v))}, Ints: v})
	return name
}

func intAttr(name string, v int64) *Attribute { return &Attribute{Name: name, Type: AttrInt, I: v} }
func floatAttr(name string, v float32) *Attribute {
	return &Attribute{Name: name, Type: AttrFloat, F: v}
}
func intsAttr(name string, v ...int64) *Attribute {
	return &Attribute{Name: name, Type: AttrInts, Ints: v}
}
func attrs(a ...*Attribute) map[string]*Attribute {
	m := map[string]*Attribute{}
	for _, x := range a {
		m[x.Name] = x
	}
	return m
}

func dims(v ...int) []int64 {
	out := make([]int64, len(v))
	for i, d := range v {
		out[i] = int64(d)
	}
	return out
}

// module writes one layer (or a whole Sequential) applied to x.
func (e *exporter) module(m nn.Module, x value) (value, error) {
	name := m.Spec().Name
	switch l := m.(type) {
	case *nn.Sequential:
		for _, sub := range l.Layers {
			var err error
			if x, err = e.module(sub, x); err != nil {
				return x, err
			}
		}
		return x, nil
	case *nn.Flatten:
		return value{e.node("Flatten", []string{x.name}, attrs(intAttr("axis", 1))), 2}, nil
	case *nn.Dropout:
		return x, nil // inference: the identity
	case *nn.ReLU:
		return value{e.node("Relu", []string{x.name}, nil), x.rank}, nil
	case *nn.Sigmoid:
		return value{e.node("Sigmoid", []string{x.name}, nil), x.rank}, nil
	case *nn.Tanh:
		return value{e.node("Tanh", []string{x.name}, nil), x.rank}, nil
	case *nn.LeakyReLU:
		return value{e.node("LeakyRelu", []string{x.name}, attrs(floatAttr("alpha", l.Slope))), x.rank}, nil
	case *nn.Softmax:
		return value{e.node("Softmax", []string{x.name}, attrs(intAttr("axis", -1))), x.rank}, nil
	case *nn.GELU:
		// Gelu is an operator only from opset 20: x·½(1 + erf(x/√2)).
		s := e.node("Div", []string{x.name, e.weight("sqrt2", nil, []float32{float32(math.Sqrt2)})}, nil)
		erf := e.node("Erf", []string{s}, nil)
		one := e.node("Add", []string{erf, e.weight("one", nil, []float32{1})}, nil)
		half := e.node("Mul", []string{x.name, e.weight("half", nil, []float32{0.5})}, nil)
		return value{e.node("Mul", []string{half, one}, nil), x.rank}, nil
	case *nn.Linear:
		return e.affine(name, x, l.Weight.Value.Data(), l.In, l.Out, l.Bias), nil
	case *nn.Perceptron:
		y := e.affine(name, x, l.Weight.Value.Data(), l.In, l.Out, l.Bias)
		// step(y): 1 where y > 0.
		gt := e.node("Greater", []string{y.name, e.weight("zero", nil, []float32{0})}, nil)
		return value{e.node("Cast", []string{gt}, attrs(intAttr("to", int64(Float)))), y.rank}, nil
	case *nn.Conv2D:
		p := l.Conv
		inputs := []string{x.name, e.weight(name+"/weight", dims(l.Weight.Value.Shape()...), l.Weight.Value.Data())}
		if l.Bias != nil {
			inputs = append(inputs, e.weight(name+"/bias", dims(l.Out), l.Bias.Value.Data()))
		}
		groups := max(p.Groups, 1)
		return value{e.node("Conv", inputs, attrs(intsAttr("kernel_shape", int64(l.KH), int64(l.KW)),
			intsAttr("strides", int64(max(p.StrideH, 1)), int64(max(p.StrideW, 1))),
			intsAttr("pads", int64(p.PadH), int64(p.PadW), int64(p.PadH), int64(p.PadW)),
			intAttr("group", int64(groups)))), 4}, nil
	case *nn.MaxPool2D:
		return value{e.node("MaxPool", []string{x.name}, poolAttrs(l.Pool.KH, l.Pool.KW, l.Pool.StrideH, l.Pool.StrideW, l.Pool.PadH, l.Pool.PadW)), 4}, nil
	case *nn.AvgPool2D:
		a := poolAttrs(l.Pool.KH, l.Pool.KW, l.Pool.StrideH, l.Pool.StrideW, l.Pool.PadH, l.Pool.PadW)
		a["count_include_pad"] = intAttr("count_include_pad", 0) // glassbox does not count padding
		return value{e.node("AveragePool", []string{x.name}, a), 4}, nil
	case *nn.GlobalAvgPool2D:
		pooled := e.node("GlobalAveragePool", []string{x.name}, nil)
		return value{e.node("Flatten", []string{pooled}, attrs(intAttr("axis", 1))), 2}, nil
	case *nn.BatchNorm:
		f := l.Features
		return value{e.node("BatchNormalization", []string{x.name,
			e.weight(name+"/weight", dims(f), l.Weight.Value.Data()), e.weight(name+"/bias", dims(f), l.Bias.Value.Data()),
			e.weight(name+"/running_mean", dims(f), l.RunningMean.Value.Data()), e.weight(name+"/running_var", dims(f), l.RunningVar.Value.Data())},
			attrs(floatAttr("epsilon", float32(l.Eps)))), x.rank}, nil
	case *nn.Embedding:
		ids := e.node("Cast", []string{x.name}, attrs(intAttr("to", int64(Int64))))
		w := e.weight(name+"/weight", dims(l.Vocab, l.Dim), l.Weight.Value.Data())
		return value{e.node("Gather", []string{w, ids}, attrs(intAttr("axis", 0))), x.rank + 1}, nil
	case *nn.LSTM:
		return e.recurrent("LSTM", name, x, l.Layers, l.Hidden, l.ReturnSequences)
	case *nn.GRU:
		return e.recurrent("GRU", name, x, l.Layers, l.Hidden, l.ReturnSequences)
	case *nn.RNN:
		return e.recurrent("RNN", name, x, l.Layers, l.Hidden, l.ReturnSequences)
	}
	return x, fmt.Errorf("onnx: export: layer %q of type %s (%T) has no ONNX form in this version", name, m.Spec().Type, m)
}

func poolAttrs(kh, kw, sh, sw, ph, pw int) map[string]*Attribute {
	if sh == 0 {
		sh = kh
	}
	if sw == 0 {
		sw = kw
	}
	return attrs(intsAttr("kernel_shape", int64(kh), int64(kw)), intsAttr("strides", int64(sh), int64(sw)),
		intsAttr("pads", int64(ph), int64(pw), int64(ph), int64(pw)))
}

// affine writes x·W + b for W [in, out]: Gemm on a batch of rows, MatMul
// and Add on a batch of sequences.
func (e *exporter) affine(name string, x value, w []float32, in, out int, bias *autograd.Var) value {
	wn := e.weight(name+"/weight", dims(in, out), w)
	var bn string
	if bias != nil {
		bn = e.weight(name+"/bias", dims(out), bias.Value.Data())
	}
	if x.rank == 2 {
		inputs := []string{x.name, wn}
		if bn != "" {
			inputs = append(inputs, bn)
		}
		return value{e.node("Gemm", inputs, nil), 2}
	}
	y := e.node("MatMul", []string{x.name, wn}, nil)
	if bn != "" {
		y = e.node("Add", []string{y, bn}, nil)
	}
	return value{y, x.rank}
}

// onnxGateOrder maps each ONNX gate block to the glassbox block it comes
// from: ONNX orders LSTM gates i, o, f, c (glassbox, as cuDNN: i, f, g, o)
// and GRU gates z, r, h (glassbox, as PyTorch: r, z, n).
var onnxGateOrder = map[string][]int{"LSTM": {0, 3, 1, 2}, "GRU": {1, 0, 2}, "RNN": {0}}

// gates returns the ONNX [G·H, in] matrix of a glassbox [in, G·H] one: each
// gate block transposed, the blocks in ONNX's order.
func gates(op string, w []float32, in, h int) []float32 {
	order := onnxGateOrder[op]
	g := len(order)
	out := make([]float32, 0, g*h*in)
	for _, src := range order {
		for r := range h {
			for c := range in {
				out = append(out, w[c*g*h+src*h+r])
			}
		}
	}
	return out
}

// gateBias reorders a glassbox [G·H] bias into ONNX's gate order (nil
// gives zeros).
func gateBias(op string, b []float32, h int) []float32 {
	order := onnxGateOrder[op]
	out := make([]float32, 0, len(order)*h)
	for _, src := range order {
		if b == nil {
			out = append(out, make([]float32, h)...)
			continue
		}
		out = append(out, b[src*h:(src+1)*h]...)
	}
	return out
}

// recurrent writes a stack of LSTM, GRU or RNN layers on batch-first
// sequences x [batch, seq, in]: ONNX's recurrent operators take
// [seq, batch, in] and return Y [seq, 1, batch, H] and Y_h [1, batch, H].
func (e *exporter) recurrent(op, name string, x value, layers []nn.RecurrentWeights, h int, sequences bool) (value, error) {
	if x.rank != 3 {
		return x, fmt.Errorf("onnx: export: %s %q takes [batch, seq, features], got a rank-%d input", strings.ToLower(op), name, x.rank)
	}
	seq := e.node("Transpose", []string{x.name}, attrs(intsAttr("perm", 1, 0, 2)))
	var yh string
	for i, l := range layers {
		in := l.WIH.Value.Dim(0)
		stem := fmt.Sprintf("%s/l%d", name, i)
		var rb []float32
		if l.BiasHH != nil {
			rb = l.BiasHH.Value.Data()
		}
		w := e.weight(stem+"/W", dims(1, len(onnxGateOrder[op])*h, in), gates(op, l.WIH.Value.Data(), in, h))
		r := e.weight(stem+"/R", dims(1, len(onnxGateOrder[op])*h, h), gates(op, l.WHH.Value.Data(), h, h))
		b := e.weight(stem+"/B", dims(1, 2*len(onnxGateOrder[op])*h),
			append(gateBias(op, l.Bias.Value.Data(), h), gateBias(op, rb, h)...))
		a := attrs(intAttr("hidden_size", int64(h)))
		if op == "GRU" {
			// PyTorch's (and glassbox's) GRU applies r to h·W_hn + b_hn.
			a["linear_before_reset"] = intAttr("linear_before_reset", 1)
		}
		y, last := e.fresh(stem+"/Y"), e.fresh(stem+"/Y_h")
		e.g.Nodes = append(e.g.Nodes, &Node{Name: e.fresh(stem + "/" + strings.ToLower(op)), OpType: op,
			Inputs: []string{seq, w, r, b}, Outputs: []string{y, last}, Attrs: a})
		seq = e.node("Squeeze", []string{y, e.ints("axis1", 1)}, nil) // [seq, batch, H]
		yh = last
	}
	if sequences {
		return value{e.node("Transpose", []string{seq}, attrs(intsAttr("perm", 1, 0, 2))), 3}, nil
	}
	return value{e.node("Squeeze", []string{yh, e.ints("axis0", 0)}, nil), 2}, nil
}
