package onnx

import (
	"fmt"
	"maps"
	"math"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
)

// The writer: the Model encoded as a ModelProto with protowire, in field
// number order, deterministically (opsets, metadata and attributes sorted
// by name). Numeric tensors are written as raw_data, little-endian, in
// their own element type; string tensors as string_data. Repeated scalar
// fields are packed where onnx.proto declares them packed, and unpacked
// elsewhere, so that every protobuf reader accepts them.

// Encode encodes m as an ONNX file. It fails, naming the part, on a model
// that the file format cannot hold: a tensor whose payload does not match
// its dims and type, an attribute without its value, an integer out of
// its type's range, or a model of more than 2 GiB (protobuf's limit).
func (m *Model) Encode() ([]byte, error) {
	e := &encoder{counting: true}
	e.model(m)
	if e.err != nil {
		return nil, fmt.Errorf("onnx: encoding: %w", e.err)
	}
	if int64(e.n) > MaxFileBytes {
		return nil, fmt.Errorf("onnx: encoding: the model takes %d bytes, over protobuf's limit of 2 GiB", e.n)
	}
	e.counting, e.b = false, make([]byte, 0, e.n)
	e.model(m)
	if e.err != nil {
		return nil, fmt.Errorf("onnx: encoding: %w", e.err)
	}
	if len(e.b) != cap(e.b) {
		return nil, fmt.Errorf("onnx: encoding: internal error: wrote %d bytes, counted %d", len(e.b), cap(e.b))
	}
	return e.b, nil
}

// encoder appends fields to b or, counting, only adds up their size in n;
// a message's length is counted before it is written. The first error
// sticks.
type encoder struct {
	b        []byte
	n        int
	counting bool
	err      error
}

func (e *encoder) fail(format string, args ...any) {
	if e.err == nil {
		e.err = fmt.Errorf(format, args...)
	}
}

// context prefixes an error raised while fn ran with what.
func (e *encoder) context(what func() string, fn func()) {
	if e.err != nil {
		return
	}
	fn()
	if e.err != nil {
		e.err = fmt.Errorf("%s: %w", what(), e.err)
	}
}

func (e *encoder) tag(num protowire.Number, typ protowire.Type) {
	if e.counting {
		e.n += protowire.SizeTag(num)
	} else {
		e.b = protowire.AppendTag(e.b, num, typ)
	}
}

func (e *encoder) rawVarint(v uint64) {
	if e.counting {
		e.n += protowire.SizeVarint(v)
	} else {
		e.b = protowire.AppendVarint(e.b, v)
	}
}

func (e *encoder) varint(num protowire.Number, v uint64) {
	e.tag(num, protowire.VarintType)
	e.rawVarint(v)
}

func (e *encoder) fixed32(num protowire.Number, v uint32) {
	e.tag(num, protowire.Fixed32Type)
	if e.counting {
		e.n += 4
	} else {
		e.b = protowire.AppendFixed32(e.b, v)
	}
}

func (e *encoder) bytes(num protowire.Number, v []byte) {
	e.tag(num, protowire.BytesType)
	e.rawVarint(uint64(len(v)))
	if e.counting {
		e.n += len(v)
	} else {
		e.b = append(e.b, v...)
	}
}

func (e *encoder) string(num protowire.Number, v string) {
	e.tag(num, protowire.BytesType)
	e.rawVarint(uint64(len(v)))
	if e.counting {
		e.n += len(v)
	} else {
		e.b = append(e.b, v...)
	}
}

// optString writes a string field unless it is empty.
func (e *encoder) optString(num protowire.Number, v string) {
	if v != "" {
		e.string(num, v)
	}
}

// message writes a length-delimited field whose content fn writes: when
// writing, fn runs twice, first counting its length.
func (e *encoder) message(num protowire.Number, fn func()) {
	if e.err != nil {
		return
	}
	if e.counting {
		start := e.n
		fn()
		size := e.n - start
		e.n += protowire.SizeTag(num) + protowire.SizeVarint(uint64(size))
		return
	}
	e.counting = true
	start := e.n
	fn()
	size := e.n - start
	e.n, e.counting = start, false
	e.tag(num, protowire.BytesType)
	e.rawVarint(uint64(size))
	fn()
}

// payload writes a length-delimited field of size bytes that fn appends.
func (e *encoder) payload(num protowire.Number, size int, fn func(b []byte) []byte) {
	e.tag(num, protowire.BytesType)
	e.rawVarint(uint64(size))
	if e.counting {
		e.n += size
		return
	}
	start := len(e.b)
	e.b = fn(e.b)
	if len(e.b)-start != size {
		e.fail("internal error: payload of %d bytes, want %d", len(e.b)-start, size)
	}
}

func (e *encoder) model(m *Model) {
	if m.IRVersion != 0 {
		e.varint(1, uint64(m.IRVersion))
	}
	e.optString(2, m.ProducerName)
	e.optString(3, m.ProducerVersion)
	e.optString(4, m.Domain)
	if m.ModelVersion != 0 {
		e.varint(5, uint64(m.ModelVersion))
	}
	e.optString(6, m.DocString)
	if m.Graph == nil {
		e.fail("the model has no graph")
		return
	}
	e.context(func() string { return graphName(m.Graph) }, func() {
		e.message(7, func() { e.graph(m.Graph) })
	})
	for _, domain := range slices.Sorted(maps.Keys(m.Opsets)) {
		e.message(8, func() {
			e.optString(1, domain)
			e.varint(2, uint64(m.Opsets[domain]))
		})
	}
	for _, k := range slices.Sorted(maps.Keys(m.Metadata)) {
		e.message(14, func() {
			e.string(1, k)
			e.string(2, m.Metadata[k])
		})
	}
}

func graphName(g *Graph) string {
	if g.Name == "" {
		return "graph"
	}
	return fmt.Sprintf("graph %q", g.Name)
}

func (e *encoder) graph(g *Graph) {
	for i, n := range g.Nodes {
		if n == nil {
			e.fail("node %d is nil", i)
			return
		}
		e.context(func() string { return fmt.Sprintf("node %d %q (%s)", i, n.Name, n.OpType) }, func() {
			e.message(1, func() { e.node(n) })
		})
	}
	e.optString(2, g.Name)
	for i, t := range g.Initializers {
		e.context(func() string { return fmt.Sprintf("initializer %d", i) }, func() {
			e.message(5, func() { e.tensor(t) })
		})
	}
	e.optString(10, g.DocString)
	e.valueInfos(11, "input", g.Inputs)
	e.valueInfos(12, "output", g.Outputs)
	e.valueInfos(13, "value_info", g.ValueInfo)
}

func (e *encoder) valueInfos(num protowire.Number, what string, vs []*ValueInfo) {
	for i, v := range vs {
		if v == nil {
			e.fail("%s %d is nil", what, i)
			return
		}
		e.context(func() string { return fmt.Sprintf("%s %q", what, v.Name) }, func() {
			e.message(num, func() { e.valueInfo(v) })
		})
	}
}

func (e *encoder) node(n *Node) {
	for _, s := range n.Inputs {
		e.string(1, s)
	}
	for _, s := range n.Outputs {
		e.string(2, s)
	}
	e.optString(3, n.Name)
	e.optString(4, n.OpType)
	for _, name := range slices.Sorted(maps.Keys(n.Attrs)) {
		a := n.Attrs[name]
		e.context(func() string { return fmt.Sprintf("attribute %q", name) }, func() {
			e.message(5, func() { e.attribute(name, a) })
		})
	}
	e.optString(7, n.Domain)
}

func (e *encoder) attribute(name string, a *Attribute) {
	switch {
	case a == nil:
		e.fail("the attribute is nil")
		return
	case name == "":
		e.fail("the attribute has no name")
		return
	case a.Name != "" && a.Name != name:
		e.fail("the attribute is named %q in the node's map and %q in itself", name, a.Name)
		return
	}
	e.string(1, name)
	switch a.Type {
	case AttrFloat:
		e.fixed32(2, math.Float32bits(a.F))
	case AttrInt:
		e.varint(3, uint64(a.I))
	case AttrString:
		e.bytes(4, a.S)
	case AttrTensor:
		if a.T == nil {
			e.fail("the TENSOR attribute has no tensor")
			return
		}
		e.message(5, func() { e.tensor(a.T) })
	case AttrGraph:
		if a.G == nil {
			e.fail("the GRAPH attribute has no graph")
			return
		}
		e.context(func() string { return graphName(a.G) }, func() {
			e.message(6, func() { e.graph(a.G) })
		})
	case AttrFloats:
		for _, v := range a.Floats {
			e.fixed32(7, math.Float32bits(v))
		}
	case AttrInts:
		for _, v := range a.Ints {
			e.varint(8, uint64(v))
		}
	case AttrStrings:
		for _, v := range a.Strings {
			e.bytes(9, v)
		}
	case AttrTensors:
		for i, t := range a.Tensors {
			e.context(func() string { return fmt.Sprintf("tensor %d", i) }, func() {
				e.message(10, func() { e.tensor(t) })
			})
		}
	case AttrGraphs:
		for i, g := range a.Graphs {
			if g == nil {
				e.fail("graph %d is nil", i)
				return
			}
			e.context(func() string { return fmt.Sprintf("graph %d", i) }, func() {
				e.message(11, func() { e.graph(g) })
			})
		}
	case AttrTypeProto:
		if a.TP == nil {
			e.fail("the TYPE_PROTO attribute has no type")
			return
		}
		e.message(14, func() { e.typeProto(a.TP) })
	case AttrTypeProtos:
		for i, v := range a.TPs {
			if v == nil {
				e.fail("type %d is nil", i)
				return
			}
			e.message(15, func() { e.typeProto(v) })
		}
	default:
		e.fail("the attribute has type %v, which glassbox does not write", a.Type)
		return
	}
	e.varint(20, uint64(a.Type))
}

func (e *encoder) tensor(t *Tensor) {
	if t == nil {
		e.fail("the tensor is nil")
		return
	}
	if e.err != nil {
		return
	}
	if err := e.checkTensor(t); err != nil {
		if t.Name != "" {
			err = fmt.Errorf("tensor %q: %w", t.Name, err)
		}
		e.fail("%w", err)
		return
	}
	for _, d := range t.Dims {
		e.varint(1, uint64(d))
	}
	e.varint(2, uint64(t.DataType))
	if t.DataType == String {
		for _, s := range t.Strings {
			e.bytes(fieldStringData, s)
		}
	}
	e.optString(8, t.Name)
	switch {
	case t.DataType == String:
	case isFloat(t.DataType):
		e.payload(9, len(t.Floats)*elemSize(t.DataType), func(b []byte) []byte {
			return appendRawFloats(b, t.DataType, t.Floats)
		})
	default:
		if !e.counting {
			lo, hi := intRange(t.DataType)
			for i, v := range t.Ints {
				if v < lo || v > hi {
					e.fail("tensor %q: element %d is %d, out of the range of %v", t.Name, i, v, t.DataType)
					return
				}
			}
		}
		e.payload(9, len(t.Ints)*elemSize(t.DataType), func(b []byte) []byte {
			return appendRawInts(b, t.DataType, t.Ints)
		})
	}
}

// checkTensor checks that t's payload matches its type and dims.
func (e *encoder) checkTensor(t *Tensor) error {
	if err := checkDataType(t.DataType); err != nil {
		return err
	}
	n := t.Len()
	if n < 0 {
		return fmt.Errorf("dims %v are negative or overflow", fmtDims(t.Dims))
	}
	var have int
	var holds string
	switch {
	case t.DataType == String:
		have, holds = len(t.Strings), "Strings"
	case isFloat(t.DataType):
		have, holds = len(t.Floats), "Floats"
	default:
		have, holds = len(t.Ints), "Ints"
	}
	if have != n {
		return fmt.Errorf("%s holds %d elements, but dims %v need %d", holds, have, fmtDims(t.Dims), n)
	}
	others := len(t.Floats) + len(t.Ints) + len(t.Strings) - have
	if others != 0 {
		return fmt.Errorf("a %v tensor holds its elements in %s, but others are set too", t.DataType, holds)
	}
	return nil
}

func (e *encoder) valueInfo(v *ValueInfo) {
	e.optString(1, v.Name)
	if v.Kind != KindTensor || v.ElemType != Undefined || v.Shape != nil {
		e.message(2, func() { e.typeProto(v) })
	}
}

// typeProto writes the content of v's TypeProto.
func (e *encoder) typeProto(v *ValueInfo) {
	switch {
	case v.Kind != KindTensor:
		if v.typeProto == nil {
			e.fail("a value of kind %v can be written only as read from a file", v.Kind)
			return
		}
		if e.counting {
			e.n += len(v.typeProto)
		} else {
			e.b = append(e.b, v.typeProto...)
		}
	case v.ElemType != Undefined || v.Shape != nil:
		e.message(1, func() {
			if v.ElemType != Undefined {
				e.varint(1, uint64(v.ElemType))
			}
			if v.Shape != nil {
				e.message(2, func() { e.shape(v.Shape) })
			}
		})
	}
}

func (e *encoder) shape(dims []Dim) {
	for i, d := range dims {
		if d.Value != 0 && d.Param != "" {
			e.fail("dim %d has both a value (%d) and a name (%q)", i, d.Value, d.Param)
			return
		}
		e.message(1, func() {
			if d.Value != 0 {
				e.varint(1, uint64(d.Value))
			}
			e.optString(2, d.Param)
		})
	}
}

// EncodeTensor encodes t as a serialised TensorProto, the form of the
// input_0.pb files of the ONNX test suite that DecodeTensor reads.
func EncodeTensor(t *Tensor) ([]byte, error) {
	e := &encoder{counting: true}
	e.tensor(t)
	if e.err == nil && int64(e.n) > MaxFileBytes {
		e.fail("the tensor takes %d bytes, over protobuf's limit of 2 GiB", e.n)
	}
	if e.err != nil {
		return nil, fmt.Errorf("onnx: encoding: %w", e.err)
	}
	e.counting, e.b = false, make([]byte, 0, e.n)
	e.tensor(t)
	if e.err != nil {
		return nil, fmt.Errorf("onnx: encoding: %w", e.err)
	}
	return e.b, nil
}
