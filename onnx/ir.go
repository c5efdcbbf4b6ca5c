package onnx

import (
	"fmt"
	"math"
)

// The in-memory form of an ONNX model: the parts of onnx.proto that
// glassbox reads and writes (ModelProto, GraphProto, NodeProto,
// AttributeProto, TensorProto, ValueInfoProto), with tensor payloads
// decoded into typed slices.

// Model is an ONNX ModelProto.
type Model struct {
	IRVersion int64
	// Opsets maps an operator-set domain ("" is the default ai.onnx
	// domain) to its version.
	Opsets          map[string]int64
	ProducerName    string
	ProducerVersion string
	Domain          string
	ModelVersion    int64
	DocString       string
	Graph           *Graph
	// Metadata holds metadata_props.
	Metadata map[string]string
}

// Opset is the version of the default (ai.onnx) operator set.
func (m *Model) Opset() int64 { return m.Opsets[""] }

// Graph is an ONNX GraphProto: nodes in topological order, the weights
// (initialisers) and the graph's inputs and outputs.
type Graph struct {
	Name         string
	Nodes        []*Node
	Initializers []*Tensor
	// Inputs lists the graph inputs (which may include initialisers, as
	// older exporters write them); Outputs the graph outputs; ValueInfo
	// the shapes of intermediate values, when the file records them.
	Inputs    []*ValueInfo
	Outputs   []*ValueInfo
	ValueInfo []*ValueInfo
	DocString string
}

// Node is an ONNX NodeProto: one operator application. An empty input
// name means an omitted optional input.
type Node struct {
	Name    string
	OpType  string
	Domain  string
	Inputs  []string
	Outputs []string
	Attrs   map[string]*Attribute
}

// AttrType is AttributeProto.AttributeType.
type AttrType int32

// The attribute types.
const (
	AttrUndefined AttrType = 0
	AttrFloat     AttrType = 1
	AttrInt       AttrType = 2
	AttrString    AttrType = 3
	AttrTensor    AttrType = 4
	AttrGraph     AttrType = 5
	AttrFloats    AttrType = 6
	AttrInts      AttrType = 7
	AttrStrings   AttrType = 8
	AttrTensors   AttrType = 9
	AttrGraphs    AttrType = 10
	// AttrTypeProto and AttrTypeProtos hold types (TypeProto), such as
	// the type attribute of Optional, in TP and TPs: ValueInfos without
	// names.
	AttrTypeProto  AttrType = 13
	AttrTypeProtos AttrType = 14
)

// Attribute is an ONNX AttributeProto; the field that Type names holds
// the value.
type Attribute struct {
	Name    string
	Type    AttrType
	F       float32
	I       int64
	S       []byte
	T       *Tensor
	G       *Graph
	Floats  []float32
	Ints    []int64
	Strings [][]byte
	Tensors []*Tensor
	Graphs  []*Graph
	TP      *ValueInfo
	TPs     []*ValueInfo
}

var attrTypeNames = map[int32]string{
	0: "UNDEFINED", 1: "FLOAT", 2: "INT", 3: "STRING", 4: "TENSOR", 5: "GRAPH",
	6: "FLOATS", 7: "INTS", 8: "STRINGS", 9: "TENSORS", 10: "GRAPHS",
	11: "SPARSE_TENSOR", 12: "SPARSE_TENSORS", 13: "TYPE_PROTO", 14: "TYPE_PROTOS",
}

// String is the type's name in onnx.proto, such as "INTS".
func (t AttrType) String() string {
	if s, ok := attrTypeNames[int32(t)]; ok {
		return s
	}
	return fmt.Sprintf("AttrType(%d)", int32(t))
}

// DataType is TensorProto.DataType.
type DataType int32

// The element types.
const (
	Undefined  DataType = 0
	Float      DataType = 1
	Uint8      DataType = 2
	Int8       DataType = 3
	Uint16     DataType = 4
	Int16      DataType = 5
	Int32      DataType = 6
	Int64      DataType = 7
	String     DataType = 8
	Bool       DataType = 9
	Float16    DataType = 10
	Double     DataType = 11
	Uint32     DataType = 12
	Uint64     DataType = 13
	Complex64  DataType = 14
	Complex128 DataType = 15
	BFloat16   DataType = 16
)

// Tensor is an ONNX TensorProto with its payload decoded: floating types
// (float, double, float16, bfloat16) into Floats, integer and boolean
// types into Ints, strings into Strings. Raw keeps nothing: raw_data and
// external data are decoded as they are read.
type Tensor struct {
	Name     string
	DataType DataType
	Dims     []int64
	Floats   []float32
	Ints     []int64
	Strings  [][]byte
}

// Dim is one dimension of a ValueInfo's shape: a fixed size (Value > 0),
// or a named symbolic one (Param, such as "batch"), or unknown (both
// zero).
type Dim struct {
	Value int64
	Param string
}

// ValueInfo is an ONNX ValueInfoProto of a tensor: its name, element type
// and (possibly partial) shape. Shape is nil when unknown.
type ValueInfo struct {
	Name     string
	ElemType DataType
	Shape    []Dim
	// Kind is the kind of value: a tensor (the zero value, also when the
	// file gives no type), or a sequence, map, optional or sparse tensor,
	// whose ElemType and Shape are zero.
	Kind TypeKind

	// typeProto keeps the TypeProto of a value that is not a tensor, as
	// read, so that Encode writes it back unchanged.
	typeProto []byte
}

// TypeKind is the kind of value a ValueInfo describes: which member of
// TypeProto's oneof the file sets.
type TypeKind int32

// The kinds of value.
const (
	KindTensor       TypeKind = 0
	KindSequence     TypeKind = 1
	KindMap          TypeKind = 2
	KindOptional     TypeKind = 3
	KindSparseTensor TypeKind = 4
)

// String is the kind's name in TypeProto, such as "sequence_type".
func (k TypeKind) String() string {
	switch k {
	case KindTensor:
		return "tensor_type"
	case KindSequence:
		return "sequence_type"
	case KindMap:
		return "map_type"
	case KindOptional:
		return "optional_type"
	case KindSparseTensor:
		return "sparse_tensor_type"
	}
	return fmt.Sprintf("TypeKind(%d)", int32(k))
}

var dataTypeNames = [...]string{
	Undefined: "UNDEFINED", Float: "FLOAT", Uint8: "UINT8", Int8: "INT8",
	Uint16: "UINT16", Int16: "INT16", Int32: "INT32", Int64: "INT64",
	String: "STRING", Bool: "BOOL", Float16: "FLOAT16", Double: "DOUBLE",
	Uint32: "UINT32", Uint64: "UINT64", Complex64: "COMPLEX64",
	Complex128: "COMPLEX128", BFloat16: "BFLOAT16",
}

// String is the type's name in onnx.proto, such as "FLOAT16".
func (t DataType) String() string {
	if t >= 0 && int(t) < len(dataTypeNames) {
		return dataTypeNames[t]
	}
	return fmt.Sprintf("DataType(%d)", int32(t))
}

// Len is the number of elements the tensor's dims declare: their product,
// 1 for a scalar (no dims). It is -1 when a dim is negative or the
// product overflows an int.
func (t *Tensor) Len() int {
	for _, d := range t.Dims {
		if d < 0 {
			return -1
		}
	}
	for _, d := range t.Dims {
		if d == 0 {
			return 0
		}
	}
	n := 1
	for _, d := range t.Dims {
		if uint64(d) > math.MaxInt/uint64(n) {
			return -1
		}
		n *= int(d)
	}
	return n
}

// Shape is the tensor's dims as ints (empty for a scalar).
func (t *Tensor) Shape() []int {
	s := make([]int, len(t.Dims))
	for i, d := range t.Dims {
		s[i] = int(d)
	}
	return s
}
