package onnx

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// The reader: onnx.proto decoded by hand with protowire. Field numbers are
// those of onnx.proto (ONNX 1.12 and later; they never change). Unknown
// fields are skipped, so files from newer ONNX versions read; fields that
// glassbox cannot represent faithfully (sparse tensors, segmented
// tensors, complex and float8 data) are errors, never silently dropped.
//
// Allocation discipline: every repeated field grows as its elements are
// read from bytes that are present; a tensor's payload is allocated only
// after its dims, its element count and the bytes holding the elements
// agree, and after the count has been charged to the limits.

// Decode decodes an ONNX model (a serialised ModelProto). A tensor whose
// data is in an external file is read from opt.Dir; with opt.Dir empty it
// is an error (ReadFile sets the directory).
func Decode(b []byte, opt ReadOptions) (*Model, error) {
	d := newDecoder(opt)
	defer d.close()
	if int64(len(b)) > d.lim.MaxFileBytes {
		return nil, fmt.Errorf("onnx: %v", limitError("the model's size", len(b), "MaxFileBytes", d.lim.MaxFileBytes))
	}
	m, err := d.model(b)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	return m, nil
}

// DecodeTensor decodes a serialised TensorProto, such as the input_0.pb
// and output_0.pb files of the ONNX test suite.
func DecodeTensor(b []byte, opt ReadOptions) (*Tensor, error) {
	d := newDecoder(opt)
	defer d.close()
	if int64(len(b)) > d.lim.MaxFileBytes {
		return nil, fmt.Errorf("onnx: %v", limitError("the tensor's size", len(b), "MaxFileBytes", d.lim.MaxFileBytes))
	}
	t, err := d.tensor(b)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	return t, nil
}

// decoder holds the limits and what has been charged against them.
type decoder struct {
	lim Limits
	dir string
	ext *externalFiles

	nodes, attrs, valueInfos, tensors int
	elems                             int64
}

func newDecoder(opt ReadOptions) *decoder {
	return &decoder{lim: opt.Limits.withDefaults(), dir: opt.Dir}
}

func (d *decoder) close() {
	if d.ext != nil {
		d.ext.close()
	}
}

// field is one field of a message: its number, wire type and value (v
// for varint and fixed types, b for bytes).
type field struct {
	num protowire.Number
	typ protowire.Type
	v   uint64
	b   []byte
}

// wireNames names the wire types in errors.
var wireNames = map[protowire.Type]string{
	protowire.VarintType:     "varint",
	protowire.Fixed32Type:    "fixed32",
	protowire.Fixed64Type:    "fixed64",
	protowire.BytesType:      "length-delimited",
	protowire.StartGroupType: "group",
	protowire.EndGroupType:   "end-group",
}

func wireName(t protowire.Type) string {
	if s, ok := wireNames[t]; ok {
		return s
	}
	return fmt.Sprintf("wire type %d", t)
}

// fields iterates over the fields of a message, calling fn for each; it
// stops at the first error, of the framing or of fn.
func fields(b []byte, fn func(f field) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("bad field tag: %w", wireError(n))
		}
		b = b[n:]
		f := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.v, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b)
			f.v = uint64(v)
		case protowire.Fixed64Type:
			f.v, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			f.b, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("field %d (%s): %w", num, wireName(typ), wireError(n))
		}
		b = b[n:]
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

// wireError describes a protowire parse error; a truncated file is the
// common case, so it says so.
func wireError(n int) error {
	err := protowire.ParseError(n)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w (the file is truncated or corrupt)", err)
	}
	return err
}

// want checks f's wire type.
func (f field) want(name string, typ protowire.Type) error {
	if f.typ != typ {
		return fmt.Errorf("field %s (%d) has wire type %s, want %s", name, f.num, wireName(f.typ), wireName(typ))
	}
	return nil
}

// str returns f as a string, checking its wire type and length.
func (d *decoder) str(f field, name string) (string, error) {
	b, err := d.bytes(f, name)
	return string(b), err
}

// bytes returns f's bytes (not copied), checking its wire type and length.
func (d *decoder) bytes(f field, name string) ([]byte, error) {
	if err := f.want(name, protowire.BytesType); err != nil {
		return nil, err
	}
	if len(f.b) > d.lim.MaxStringBytes {
		return nil, limitError("the length of "+name, len(f.b), "MaxStringBytes", d.lim.MaxStringBytes)
	}
	return f.b, nil
}

// int64v returns f as an int64 varint.
func int64v(f field, name string) (int64, error) {
	if err := f.want(name, protowire.VarintType); err != nil {
		return 0, err
	}
	return int64(f.v), nil
}

// int32v returns f as an int32 varint (an enum, or int32 field): proto
// writes negative int32s as 64-bit sign-extended varints.
func int32v(f field, name string) (int32, error) {
	if err := f.want(name, protowire.VarintType); err != nil {
		return 0, err
	}
	if int64(f.v) < math.MinInt32 || int64(f.v) > math.MaxInt32 {
		return 0, fmt.Errorf("field %s (%d) is %d, out of the int32 range", name, f.num, int64(f.v))
	}
	return int32(f.v), nil
}

// varints calls fn for each varint of a repeated varint field, packed or
// not. It checks the framing of a packed run before the first call.
func varints(f field, name string, fn func(v uint64) error) error {
	switch f.typ {
	case protowire.VarintType:
		return fn(f.v)
	case protowire.BytesType:
		if _, err := countVarints(f.b, name); err != nil {
			return err
		}
		for b := f.b; len(b) > 0; {
			v, n := protowire.ConsumeVarint(b)
			b = b[n:]
			if err := fn(v); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("field %s (%d) has wire type %s, want varint", name, f.num, wireName(f.typ))
}

// countVarints counts the varints of a packed run, checking its framing.
func countVarints(b []byte, name string) (int, error) {
	c := 0
	for len(b) > 0 {
		_, n := protowire.ConsumeVarint(b)
		if n < 0 {
			return 0, fmt.Errorf("packed %s: %w", name, wireError(n))
		}
		b = b[n:]
		c++
	}
	return c, nil
}

// fixeds calls fn for each element of a repeated fixed32 (size 4) or
// fixed64 (size 8) field, packed or not.
func fixeds(f field, name string, size int, fn func(v uint64) error) error {
	typ := protowire.Fixed32Type
	if size == 8 {
		typ = protowire.Fixed64Type
	}
	switch f.typ {
	case typ:
		return fn(f.v)
	case protowire.BytesType:
		if len(f.b)%size != 0 {
			return fmt.Errorf("packed %s holds %d bytes, not a multiple of %d (the file is truncated or corrupt)", name, len(f.b), size)
		}
		for b := f.b; len(b) > 0; b = b[size:] {
			var v uint64
			if size == 4 {
				v = uint64(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
			} else {
				v, _ = protowire.ConsumeFixed64(b)
			}
			if err := fn(v); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("field %s (%d) has wire type %s, want %s", name, f.num, wireName(f.typ), wireName(typ))
}

// countRepeated counts the elements a repeated scalar field occurrence
// holds (1 unpacked, or the size of a packed run), checking its framing.
func countRepeated(f field, name string, size int) (int, error) {
	if f.typ != protowire.BytesType {
		return 1, nil // the wire type is checked when the elements are read
	}
	if size == 0 {
		return countVarints(f.b, name)
	}
	if len(f.b)%size != 0 {
		return 0, fmt.Errorf("packed %s holds %d bytes, not a multiple of %d (the file is truncated or corrupt)", name, len(f.b), size)
	}
	return len(f.b) / size, nil
}

// once reports a singular message field that occurs twice: protobuf would
// merge the two, which glassbox does not do for a file that is almost
// certainly corrupt.
func once(seen *bool, name string) error {
	if *seen {
		return fmt.Errorf("field %s occurs twice", name)
	}
	*seen = true
	return nil
}

// peekString returns the last value of string field num in message b,
// for naming the message in an error; "" when absent or unreadable.
func peekString(b []byte, num protowire.Number) string {
	s := ""
	_ = fields(b, func(f field) error {
		if f.num == num && f.typ == protowire.BytesType && len(f.b) <= 256 {
			s = string(f.b)
		}
		return nil
	})
	return s
}

// ModelProto.
func (d *decoder) model(b []byte) (*Model, error) {
	m := &Model{Opsets: map[string]int64{}}
	var seenGraph bool
	err := fields(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			m.IRVersion, err = int64v(f, "ir_version")
		case 2:
			m.ProducerName, err = d.str(f, "producer_name")
		case 3:
			m.ProducerVersion, err = d.str(f, "producer_version")
		case 4:
			m.Domain, err = d.str(f, "domain")
		case 5:
			m.ModelVersion, err = int64v(f, "model_version")
		case 6:
			m.DocString, err = d.str(f, "doc_string")
		case 7:
			if err = f.want("graph", protowire.BytesType); err == nil {
				if err = once(&seenGraph, "graph"); err == nil {
					m.Graph, err = d.graph(f.b, 1)
				}
			}
		case 8:
			err = d.opset(f, m.Opsets)
		case 14:
			if m.Metadata == nil {
				m.Metadata = map[string]string{}
			}
			err = d.entry(f, "metadata_props", m.Metadata)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if m.Graph == nil {
		return nil, errors.New("the model has no graph (is this a TensorProto file? DecodeTensor reads those)")
	}
	return m, nil
}

// opset decodes an OperatorSetIdProto into opsets.
func (d *decoder) opset(f field, opsets map[string]int64) error {
	if err := f.want("opset_import", protowire.BytesType); err != nil {
		return err
	}
	var domain string
	var version int64
	err := fields(f.b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			domain, err = d.str(f, "domain")
		case 2:
			version, err = int64v(f, "version")
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("opset_import: %w", err)
	}
	if v, ok := opsets[domain]; ok && v != version {
		return fmt.Errorf("opset_import lists domain %q twice, with versions %d and %d", domain, v, version)
	}
	if len(opsets) >= d.lim.MaxMapEntries {
		return limitError("the number of opset_import entries", len(opsets)+1, "MaxMapEntries", d.lim.MaxMapEntries)
	}
	opsets[domain] = version
	return nil
}

// entry decodes a StringStringEntryProto into m; a key may occur once.
func (d *decoder) entry(f field, name string, m map[string]string) error {
	if err := f.want(name, protowire.BytesType); err != nil {
		return err
	}
	var k, v string
	err := fields(f.b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			k, err = d.str(f, "key")
		case 2:
			v, err = d.str(f, "value")
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if _, ok := m[k]; ok {
		return fmt.Errorf("%s lists key %q twice", name, k)
	}
	if len(m) >= d.lim.MaxMapEntries {
		return limitError("the number of "+name+" entries", len(m)+1, "MaxMapEntries", d.lim.MaxMapEntries)
	}
	m[k] = v
	return nil
}

// GraphProto, at nesting depth (the main graph is 1).
func (d *decoder) graph(b []byte, depth int) (*Graph, error) {
	if depth > d.lim.MaxGraphDepth {
		return nil, limitError("the nesting depth of subgraphs", depth, "MaxGraphDepth", d.lim.MaxGraphDepth)
	}
	g := &Graph{}
	err := fields(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			if err = f.want("node", protowire.BytesType); err != nil {
				return err
			}
			if d.nodes >= d.lim.MaxNodes {
				return limitError("the number of nodes", d.nodes+1, "MaxNodes", d.lim.MaxNodes)
			}
			d.nodes++
			var n *Node
			if n, err = d.node(f.b, depth); err != nil {
				return fmt.Errorf("node %d%s: %w", len(g.Nodes), describe(f.b, 3, 4), err)
			}
			g.Nodes = append(g.Nodes, n)
		case 2:
			g.Name, err = d.str(f, "name")
		case 5:
			if err = f.want("initializer", protowire.BytesType); err != nil {
				return err
			}
			var t *Tensor
			if t, err = d.tensor(f.b); err != nil {
				return fmt.Errorf("initializer %d: %w", len(g.Initializers), err)
			}
			g.Initializers = append(g.Initializers, t)
		case 10:
			g.DocString, err = d.str(f, "doc_string")
		case 11, 12, 13:
			name := [...]string{"input", "output", "value_info"}[f.num-11]
			if err = f.want(name, protowire.BytesType); err != nil {
				return err
			}
			var v *ValueInfo
			if v, err = d.valueInfo(f.b, depth); err != nil {
				return fmt.Errorf("%s%s: %w", name, describe(f.b, 1, 0), err)
			}
			switch f.num {
			case 11:
				g.Inputs = append(g.Inputs, v)
			case 12:
				g.Outputs = append(g.Outputs, v)
			default:
				g.ValueInfo = append(g.ValueInfo, v)
			}
		case 15:
			return fmt.Errorf("sparse initializer%s: sparse tensors are not supported; store the initializer dense", describe(f.b, 8, 0))
		}
		return err
	})
	if err != nil {
		if name := peekString(b, 2); name != "" {
			return nil, fmt.Errorf("graph %q: %w", name, err)
		}
		return nil, fmt.Errorf("graph: %w", err)
	}
	return g, nil
}

// describe names a message for an error from its name field (and for a
// node its op_type field), as ` "name" (OpType)`; empty when it has none.
// It reads leniently, the message may be the corrupt part.
func describe(b []byte, nameField, opField protowire.Number) string {
	s := ""
	if b == nil {
		return s
	}
	if name := peekString(b, nameField); name != "" {
		s = fmt.Sprintf(" %q", name)
	}
	if opField != 0 {
		if op := peekString(b, opField); op != "" {
			s += " (" + op + ")"
		}
	}
	return s
}

// NodeProto.
func (d *decoder) node(b []byte, depth int) (*Node, error) {
	n := &Node{Attrs: map[string]*Attribute{}}
	return n, fields(b, func(f field) error {
		var err error
		var s string
		switch f.num {
		case 1:
			if s, err = d.str(f, "input"); err == nil {
				n.Inputs = append(n.Inputs, s)
			}
		case 2:
			if s, err = d.str(f, "output"); err == nil {
				n.Outputs = append(n.Outputs, s)
			}
		case 3:
			n.Name, err = d.str(f, "name")
		case 4:
			n.OpType, err = d.str(f, "op_type")
		case 7:
			n.Domain, err = d.str(f, "domain")
		case 5:
			if err = f.want("attribute", protowire.BytesType); err != nil {
				return err
			}
			if d.attrs >= d.lim.MaxAttributes {
				return limitError("the number of attributes", d.attrs+1, "MaxAttributes", d.lim.MaxAttributes)
			}
			d.attrs++
			var a *Attribute
			if a, err = d.attribute(f.b, depth); err != nil {
				return fmt.Errorf("attribute%s: %w", describe(f.b, 1, 0), err)
			}
			if _, dup := n.Attrs[a.Name]; dup {
				return fmt.Errorf("attribute %q occurs twice", a.Name)
			}
			n.Attrs[a.Name] = a
		}
		return err
	})
}

// The AttributeProto fields that hold a value, by the type they hold.
var attrFields = map[protowire.Number]AttrType{
	2: AttrFloat, 3: AttrInt, 4: AttrString, 5: AttrTensor, 6: AttrGraph,
	7: AttrFloats, 8: AttrInts, 9: AttrStrings, 10: AttrTensors, 11: AttrGraphs,
	14: AttrTypeProto, 15: AttrTypeProtos,
}

// AttributeProto. The type field says which field holds the value; the
// oldest files omit it, and then the one value field present says.
func (d *decoder) attribute(b []byte, depth int) (*Attribute, error) {
	a := &Attribute{}
	var hasType bool
	var present [AttrTypeProtos + 1]bool
	nPresent := 0
	err := fields(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			a.Name, err = d.str(f, "name")
		case 20:
			var t int32
			if t, err = int32v(f, "type"); err == nil {
				a.Type, hasType = AttrType(t), true
			}
		case 21:
			if s, _ := d.str(f, "ref_attr_name"); s != "" {
				err = fmt.Errorf("refers to the function attribute %q; functions are not supported", s)
			}
		default:
			if t, ok := attrFields[f.num]; ok && !present[t] {
				present[t] = true
				nPresent++
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if a.Name == "" {
		return nil, errors.New("the attribute has no name")
	}
	if !hasType || a.Type == AttrUndefined {
		if nPresent != 1 {
			return nil, fmt.Errorf("the attribute has no type and %d value fields; it must have one", nPresent)
		}
		for t, ok := range present {
			if ok {
				a.Type = AttrType(t)
			}
		}
	}
	switch {
	case a.Type == 11 || a.Type == 12:
		return nil, fmt.Errorf("the attribute has type %v: sparse tensors are not supported", a.Type)
	case a.Type < AttrFloat || a.Type > AttrTypeProtos:
		return nil, fmt.Errorf("the attribute has unknown type %d", int32(a.Type))
	}
	var seen bool
	count := 0
	grow := func() error {
		if count >= d.lim.MaxAttributeElements {
			return limitError("the length of the attribute", count+1, "MaxAttributeElements", d.lim.MaxAttributeElements)
		}
		count++
		return nil
	}
	err = fields(b, func(f field) error {
		if attrFields[f.num] != a.Type {
			return nil // a field the type does not name: ignored, as protobuf readers do
		}
		switch f.num {
		case 2:
			if err := f.want("f", protowire.Fixed32Type); err != nil {
				return err
			}
			a.F = math.Float32frombits(uint32(f.v))
		case 3:
			v, err := int64v(f, "i")
			a.I = v
			return err
		case 4:
			s, err := d.bytes(f, "s")
			a.S = append([]byte{}, s...)
			return err
		case 5:
			if err := f.want("t", protowire.BytesType); err != nil {
				return err
			}
			if err := once(&seen, "t"); err != nil {
				return err
			}
			t, err := d.tensor(f.b)
			a.T = t
			return err
		case 6:
			if err := f.want("g", protowire.BytesType); err != nil {
				return err
			}
			if err := once(&seen, "g"); err != nil {
				return err
			}
			g, err := d.graph(f.b, depth+1)
			a.G = g
			return err
		case 7:
			c, err := countRepeated(f, "floats", 4)
			if err != nil {
				return err
			}
			if count+c > d.lim.MaxAttributeElements {
				return limitError("the length of the attribute", count+c, "MaxAttributeElements", d.lim.MaxAttributeElements)
			}
			count += c
			a.Floats = growCap(a.Floats, c)
			return fixeds(f, "floats", 4, func(v uint64) error {
				a.Floats = append(a.Floats, math.Float32frombits(uint32(v)))
				return nil
			})
		case 8:
			c, err := countRepeated(f, "ints", 0)
			if err != nil {
				return err
			}
			if count+c > d.lim.MaxAttributeElements {
				return limitError("the length of the attribute", count+c, "MaxAttributeElements", d.lim.MaxAttributeElements)
			}
			count += c
			a.Ints = growCap(a.Ints, c)
			return varints(f, "ints", func(v uint64) error {
				a.Ints = append(a.Ints, int64(v))
				return nil
			})
		case 9:
			if err := grow(); err != nil {
				return err
			}
			s, err := d.bytes(f, "strings")
			a.Strings = append(a.Strings, append([]byte{}, s...))
			return err
		case 10:
			if err := grow(); err != nil {
				return err
			}
			if err := f.want("tensors", protowire.BytesType); err != nil {
				return err
			}
			t, err := d.tensor(f.b)
			if err != nil {
				return fmt.Errorf("tensors[%d]: %w", len(a.Tensors), err)
			}
			a.Tensors = append(a.Tensors, t)
		case 11:
			if err := grow(); err != nil {
				return err
			}
			if err := f.want("graphs", protowire.BytesType); err != nil {
				return err
			}
			g, err := d.graph(f.b, depth+1)
			if err != nil {
				return fmt.Errorf("graphs[%d]: %w", len(a.Graphs), err)
			}
			a.Graphs = append(a.Graphs, g)
		case 14, 15:
			name := "tp"
			if f.num == 15 {
				name = "type_protos"
			}
			if err := f.want(name, protowire.BytesType); err != nil {
				return err
			}
			if f.num == 14 {
				if err := once(&seen, name); err != nil {
					return err
				}
			} else if err := grow(); err != nil {
				return err
			}
			if d.valueInfos >= d.lim.MaxValueInfos {
				return limitError("the number of value infos (graph inputs, outputs, value_info and types)", d.valueInfos+1, "MaxValueInfos", d.lim.MaxValueInfos)
			}
			d.valueInfos++
			v := &ValueInfo{}
			if err := d.typeProto(f.b, v, depth); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if f.num == 14 {
				a.TP = v
			} else {
				a.TPs = append(a.TPs, v)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if a.Type == AttrString && a.S == nil {
		a.S = []byte{} // an absent s is the empty string, as Encode writes it
	}
	if a.Type == AttrTensor && a.T == nil {
		return nil, errors.New("the TENSOR attribute has no tensor")
	}
	if a.Type == AttrGraph && a.G == nil {
		return nil, errors.New("the GRAPH attribute has no graph")
	}
	if a.Type == AttrTypeProto && a.TP == nil {
		return nil, errors.New("the TYPE_PROTO attribute has no type")
	}
	return a, nil
}

// growCap makes room for c more elements in s, which already holds bytes
// present in the file, so c is bounded by them.
func growCap[T any](s []T, c int) []T {
	if cap(s)-len(s) >= c {
		return s
	}
	t := make([]T, len(s), len(s)+c)
	copy(t, s)
	return t
}

// ValueInfoProto.
func (d *decoder) valueInfo(b []byte, depth int) (*ValueInfo, error) {
	if d.valueInfos >= d.lim.MaxValueInfos {
		return nil, limitError("the number of value infos (graph inputs, outputs and value_info)", d.valueInfos+1, "MaxValueInfos", d.lim.MaxValueInfos)
	}
	d.valueInfos++
	v := &ValueInfo{}
	var seen bool
	err := fields(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			v.Name, err = d.str(f, "name")
		case 2:
			if err = f.want("type", protowire.BytesType); err == nil {
				if err = once(&seen, "type"); err == nil {
					err = d.typeProto(f.b, v, depth)
				}
			}
		}
		return err
	})
	return v, err
}

// TypeProto's oneof value fields, by the kind they hold.
var typeFields = map[protowire.Number]TypeKind{
	1: KindTensor, 4: KindSequence, 5: KindMap, 9: KindOptional, 8: KindSparseTensor,
}

// typeProto decodes a TypeProto into v: a tensor type's element type and
// shape, or for any other kind the kind and the TypeProto itself, checked
// and kept for Encode.
func (d *decoder) typeProto(b []byte, v *ValueInfo, depth int) error {
	var value *field
	err := fields(b, func(f field) error {
		if _, ok := typeFields[f.num]; ok {
			if value != nil {
				return fmt.Errorf("the type sets both %v and %v", typeFields[value.num], typeFields[f.num])
			}
			if err := f.want(typeFields[f.num].String(), protowire.BytesType); err != nil {
				return err
			}
			value = &f
		}
		return nil
	})
	if err != nil || value == nil {
		return err
	}
	v.Kind = typeFields[value.num]
	if v.Kind != KindTensor {
		if err := d.checkType(b, depth); err != nil {
			return err
		}
		v.typeProto = append([]byte{}, b...)
		return nil
	}
	var seenShape bool
	return fields(value.b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			var t int32
			t, err = int32v(f, "elem_type")
			v.ElemType = DataType(t)
		case 2:
			if err = f.want("shape", protowire.BytesType); err == nil {
				if err = once(&seenShape, "shape"); err == nil {
					v.Shape, err = d.shape(f.b)
				}
			}
		}
		return err
	})
}

// shape decodes a TensorShapeProto; a shape with no dims (a scalar's) is
// empty, not nil.
func (d *decoder) shape(b []byte) ([]Dim, error) {
	dims := []Dim{}
	err := fields(b, func(f field) error {
		if f.num != 1 {
			return nil
		}
		if err := f.want("dim", protowire.BytesType); err != nil {
			return err
		}
		if len(dims) >= d.lim.MaxDims {
			return limitError("the rank of the shape", len(dims)+1, "MaxDims", d.lim.MaxDims)
		}
		var dim Dim
		err := fields(f.b, func(f field) error {
			var err error
			switch f.num {
			case 1:
				dim.Value, err = int64v(f, "dim_value")
				dim.Param = ""
			case 2:
				dim.Param, err = d.str(f, "dim_param")
				dim.Value = 0
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("dim %d: %w", len(dims), err)
		}
		dims = append(dims, dim)
		return nil
	})
	return dims, err
}

// checkType checks the structure of a TypeProto that glassbox keeps
// without interpreting (a sequence, map, optional or sparse tensor type):
// its framing, its nesting depth and the ranks of its shapes.
func (d *decoder) checkType(b []byte, depth int) error {
	if depth > d.lim.MaxGraphDepth {
		return limitError("the nesting depth of types", depth, "MaxGraphDepth", d.lim.MaxGraphDepth)
	}
	return fields(b, func(f field) error {
		kind, ok := typeFields[f.num]
		if !ok {
			return nil
		}
		if err := f.want(kind.String(), protowire.BytesType); err != nil {
			return err
		}
		return fields(f.b, func(g field) error {
			switch {
			case (kind == KindSequence || kind == KindOptional) && g.num == 1,
				kind == KindMap && g.num == 2:
				if err := g.want("elem_type", protowire.BytesType); err != nil {
					return err
				}
				return d.checkType(g.b, depth+1)
			case (kind == KindTensor || kind == KindSparseTensor) && g.num == 2:
				if err := g.want("shape", protowire.BytesType); err != nil {
					return err
				}
				_, err := d.shape(g.b)
				return err
			case g.num == 1: // a tensor's elem_type, a map's key_type
				_, err := int32v(g, "elem_type")
				return err
			}
			return nil
		})
	})
}

// tensorProto holds what the first pass over a TensorProto finds.
type tensorProto struct {
	dataType   DataType
	raw        []byte
	hasRaw     bool
	counts     [fieldUint64Data + 1]int // elements in each typed data field
	location   int32
	external   map[string]string
	hasSegment bool
}

// TensorProto. A first pass reads the dims, type and name, and counts the
// elements of each data field; the payload is allocated only when the
// dims, the element count and the bytes present agree.
func (d *decoder) tensor(b []byte) (*Tensor, error) {
	t, err := d.tensorBody(b)
	if err != nil {
		if name := peekString(b, 8); name != "" {
			return nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		return nil, fmt.Errorf("tensor: %w", err)
	}
	return t, nil
}

func (d *decoder) tensorBody(b []byte) (*Tensor, error) {
	if d.tensors >= d.lim.MaxTensors {
		return nil, limitError("the number of tensors", d.tensors+1, "MaxTensors", d.lim.MaxTensors)
	}
	d.tensors++
	t := &Tensor{}
	var p tensorProto
	err := fields(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			var c int
			if c, err = countRepeated(f, "dims", 0); err != nil {
				return err
			}
			if len(t.Dims)+c > d.lim.MaxDims {
				return limitError("the rank of the tensor", len(t.Dims)+c, "MaxDims", d.lim.MaxDims)
			}
			t.Dims = growCap(t.Dims, c)
			err = varints(f, "dims", func(v uint64) error {
				t.Dims = append(t.Dims, int64(v))
				return nil
			})
		case 2:
			var v int32
			v, err = int32v(f, "data_type")
			p.dataType = DataType(v)
		case 3:
			p.hasSegment = true
		case fieldFloatData, fieldDoubleData:
			size := 4
			if f.num == fieldDoubleData {
				size = 8
			}
			var c int
			c, err = countRepeated(f, typedFieldNames[int(f.num)], size)
			p.counts[int(f.num)] += c
		case fieldInt32Data, fieldInt64Data, fieldUint64Data:
			var c int
			c, err = countRepeated(f, typedFieldNames[int(f.num)], 0)
			p.counts[int(f.num)] += c
		case fieldStringData:
			if _, err = d.bytes(f, "string_data"); err == nil {
				p.counts[fieldStringData]++
			}
		case 8:
			t.Name, err = d.str(f, "name")
		case 9:
			if err = f.want("raw_data", protowire.BytesType); err == nil {
				p.raw, p.hasRaw = f.b, true
			}
		case 13:
			if p.external == nil {
				p.external = map[string]string{}
			}
			err = d.entry(f, "external_data", p.external)
		case 14:
			p.location, err = int32v(f, "data_location")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if p.hasSegment {
		return nil, errors.New("segmented tensors (the segment field) are not supported")
	}
	if err := checkDataType(p.dataType); err != nil {
		return nil, err
	}
	t.DataType = p.dataType
	n, err := d.elements(t.Dims)
	if err != nil {
		return nil, err
	}
	if d.elems+n > d.lim.MaxTotalElements {
		return nil, limitError("the number of tensor elements in the model", d.elems+n, "MaxTotalElements", d.lim.MaxTotalElements)
	}
	d.elems += n

	want := typedField(t.DataType)
	for num, c := range p.counts {
		if c > 0 && num != want {
			return nil, fmt.Errorf("a %v tensor cannot hold %s", t.DataType, typedFieldNames[num])
		}
	}
	size := int64(elemSize(t.DataType))
	switch p.location {
	case 0: // DEFAULT
	case 1: // EXTERNAL
		if p.hasRaw || p.counts[want] > 0 {
			return nil, errors.New("data_location is EXTERNAL but the tensor also holds data in the file")
		}
		if t.DataType == String {
			return nil, errors.New("a STRING tensor cannot keep its data externally")
		}
		if err := d.external(t, p.external, n, size); err != nil {
			return nil, err
		}
		return t, nil
	default:
		return nil, fmt.Errorf("unknown data_location %d", p.location)
	}

	useRaw := p.hasRaw && (len(p.raw) > 0 || p.counts[want] == 0)
	if useRaw && p.counts[want] > 0 {
		return nil, fmt.Errorf("the tensor holds both raw_data and %s", typedFieldNames[want])
	}
	if useRaw {
		if t.DataType == String {
			return nil, errors.New("a STRING tensor cannot use raw_data; its elements belong in string_data")
		}
		if int64(len(p.raw)) != n*size {
			return nil, fmt.Errorf("raw_data holds %d bytes, but dims %v of %v need %d", len(p.raw), fmtDims(t.Dims), t.DataType, n*size)
		}
		allocPayload(t, n)
		if isFloat(t.DataType) {
			decodeRawFloats(t.DataType, p.raw, t.Floats)
		} else {
			decodeRawInts(t.DataType, p.raw, t.Ints)
		}
		return t, nil
	}
	if c := int64(p.counts[want]); c != n {
		return nil, fmt.Errorf("%s holds %d elements, but dims %v need %d", typedFieldNames[want], c, fmtDims(t.Dims), n)
	}
	allocPayload(t, n)
	i := 0
	err = fields(b, func(f field) error {
		if int(f.num) != want {
			return nil
		}
		name := typedFieldNames[want]
		switch want {
		case fieldStringData:
			t.Strings[i] = append([]byte{}, f.b...)
			i++
			return nil
		case fieldFloatData:
			return fixeds(f, name, 4, func(v uint64) error {
				t.Floats[i] = math.Float32frombits(uint32(v))
				i++
				return nil
			})
		case fieldDoubleData:
			return fixeds(f, name, 8, func(v uint64) error {
				t.Floats[i] = float32(math.Float64frombits(v))
				i++
				return nil
			})
		case fieldInt32Data:
			return varints(f, name, func(v uint64) error {
				if isFloat(t.DataType) {
					t.Floats[i] = int32DataFloat(t.DataType, v)
				} else {
					t.Ints[i] = int32DataInt(t.DataType, v)
				}
				i++
				return nil
			})
		case fieldInt64Data:
			return varints(f, name, func(v uint64) error {
				t.Ints[i] = int64(v)
				i++
				return nil
			})
		case fieldUint64Data:
			return varints(f, name, func(v uint64) error {
				t.Ints[i] = uint64DataInt(t.DataType, v)
				i++
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// allocPayload allocates the n elements of t's payload, n having been
// checked against the limits and the bytes present.
func allocPayload(t *Tensor, n int64) {
	switch {
	case t.DataType == String:
		t.Strings = make([][]byte, n)
	case isFloat(t.DataType):
		t.Floats = make([]float32, n)
	default:
		t.Ints = make([]int64, n)
	}
}

// elements is the number of elements dims declare, checked against
// MaxTensorElements without overflow.
func (d *decoder) elements(dims []int64) (int64, error) {
	max := d.lim.MaxTensorElements
	for _, v := range dims {
		if v < 0 {
			return 0, fmt.Errorf("dims %v has a negative dim", fmtDims(dims))
		}
	}
	for _, v := range dims {
		if v == 0 {
			return 0, nil
		}
	}
	n := int64(1)
	for _, v := range dims {
		if v > max/n {
			p := 1.0
			for _, v := range dims {
				p *= float64(v)
			}
			return 0, limitError(fmt.Sprintf("the number of elements of dims %v", fmtDims(dims)), fmt.Sprintf("%.4g", p), "MaxTensorElements", max)
		}
		n *= v
	}
	return n, nil
}

// fmtDims prints dims for an error, shortened when long.
func fmtDims(dims []int64) string {
	if len(dims) <= 8 {
		return fmt.Sprint(dims)
	}
	return strings.TrimSuffix(fmt.Sprint(dims[:8]), "]") + " ...]"
}
