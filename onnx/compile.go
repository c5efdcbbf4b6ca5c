package onnx

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// opDef is one operator the importer implements.
type opDef struct {
	// nondiff lists the operand positions that never take a gradient
	// (shapes, statistics, bounds): an initialiser used only there is a
	// buffer, not a parameter.
	nondiff []int
	// compile reads and checks the node's attributes and returns the
	// kernel that runs it. Problems panic through compiler.bad and
	// compiler.unsupported.
	compile func(c *compiler) kernel
}

// ops maps an ai.onnx operator type to its implementation; the ops_*.go
// files fill it in their init functions.
var ops = map[string]*opDef{}

func register(name string, nondiff []int, compile func(c *compiler) kernel) {
	if _, dup := ops[name]; dup {
		panic("onnx: operator registered twice: " + name)
	}
	ops[name] = &opDef{nondiff: nondiff, compile: compile}
}

// compiler reads one node's attributes. Every attribute the node carries
// must be read (or explicitly ignored) by the operator's compile function,
// so an attribute the importer does not know about is an error rather than
// silently ignored.
type compiler struct {
	n     *Node
	opset int64
	label string
	read  map[string]bool
}

type compileError struct{ err error }

// bad reports a malformed node.
func (c *compiler) bad(format string, args ...any) {
	panic(&compileError{fmt.Errorf("onnx: import: operator %s (opset %d, node %s): %s", c.n.OpType, c.opset, c.label, fmt.Sprintf(format, args...))})
}

// unsupported reports a valid node that uses a feature the importer does
// not implement.
func (c *compiler) unsupported(format string, args ...any) {
	panic(&compileError{fmt.Errorf("onnx: import: operator %s (opset %d, node %s): not supported: %s", c.n.OpType, c.opset, c.label, fmt.Sprintf(format, args...))})
}

// try runs f, turning a compile error it panics with into an error.
func (c *compiler) try(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			ce, ok := r.(*compileError)
			if !ok {
				panic(r)
			}
			err = ce.err
		}
	}()
	f()
	return nil
}

func (c *compiler) compile(def *opDef) (k kernel, err error) {
	c.read = map[string]bool{}
	err = c.try(func() {
		k = def.compile(c)
		var extra []string
		for _, name := range slices.Sorted(maps.Keys(c.n.Attrs)) {
			if !c.read[name] {
				extra = append(extra, name)
			}
		}
		if len(extra) > 0 {
			c.unsupported("attribute %s is not implemented", strings.Join(extra, ", "))
		}
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// attr returns the attribute name, checking its type, or nil.
func (c *compiler) attr(name string, types ...AttrType) *Attribute {
	c.read[name] = true
	a := c.n.Attrs[name]
	if a == nil {
		return nil
	}
	if a.Type != AttrUndefined && !slices.Contains(types, a.Type) {
		c.bad("attribute %s has type %d, want %v", name, a.Type, types)
	}
	return a
}

func (c *compiler) has(name string) bool {
	_, ok := c.n.Attrs[name]
	return ok
}

// ignore marks attributes whose values do not change what inference
// computes (Dropout's seed, BatchNormalization's momentum).
func (c *compiler) ignore(names ...string) {
	for _, n := range names {
		c.read[n] = true
	}
}

func (c *compiler) int(name string, def int64) int64 {
	if a := c.attr(name, AttrInt); a != nil {
		return a.I
	}
	return def
}

func (c *compiler) float(name string, def float32) float32 {
	if a := c.attr(name, AttrFloat); a != nil {
		return a.F
	}
	return def
}

func (c *compiler) str(name, def string) string {
	if a := c.attr(name, AttrString); a != nil {
		return string(a.S)
	}
	return def
}

// ints returns an ints attribute and whether it was present.
func (c *compiler) ints(name string) ([]int64, bool) {
	if a := c.attr(name, AttrInts); a != nil {
		return slices.Clone(a.Ints), true
	}
	return nil, false
}

func (c *compiler) floats(name string) ([]float32, bool) {
	if a := c.attr(name, AttrFloats); a != nil {
		return slices.Clone(a.Floats), true
	}
	return nil, false
}

func (c *compiler) strs(name string) ([]string, bool) {
	a := c.attr(name, AttrStrings)
	if a == nil {
		return nil, false
	}
	out := make([]string, len(a.Strings))
	for i, s := range a.Strings {
		out[i] = string(s)
	}
	return out, true
}

func (c *compiler) tensorAttr(name string) *Tensor {
	if a := c.attr(name, AttrTensor); a != nil {
		return a.T
	}
	return nil
}

// inputs checks the number of inputs: at least lo and at most hi (the
// trailing optional ones may be omitted or empty).
func (c *compiler) inputs(lo, hi int) {
	n := len(c.n.Inputs)
	for n > 0 && c.n.Inputs[n-1] == "" {
		n--
	}
	if n < lo || n > hi {
		if lo == hi {
			c.bad("has %d inputs, want %d", n, lo)
		}
		c.bad("has %d inputs, want %d to %d", n, lo, hi)
	}
	for i := 0; i < lo; i++ {
		if c.n.Inputs[i] == "" {
			c.bad("required input %d is empty", i)
		}
	}
}

// outputs checks that at most the first k outputs are used.
func (c *compiler) outputs(k int) {
	for i, o := range c.n.Outputs {
		if i >= k && o != "" {
			c.unsupported("output %d (%q) is not implemented; only the first %d", i, o, k)
		}
	}
	named := false
	for _, o := range c.n.Outputs {
		named = named || o != ""
	}
	if !named {
		c.bad("has no output")
	}
}

// input reports whether optional input i is given.
func (c *compiler) input(i int) bool { return i < len(c.n.Inputs) && c.n.Inputs[i] != "" }

// legacyBroadcast handles the broadcast and axis attributes of the
// arithmetic operators before opset 7: it returns a function that reshapes
// the second operand for NumPy broadcasting.
func (c *compiler) legacyBroadcast() func(a, b []int) []int {
	if c.opset >= 7 {
		return nil
	}
	bc := c.int("broadcast", 0)
	axis, hasAxis := int64(0), c.has("axis")
	if hasAxis {
		axis = c.int("axis", 0)
	}
	return func(a, b []int) []int {
		if bc == 0 {
			if !slices.Equal(a, b) {
				fail("operands have shapes %v and %v; without broadcast=1 they must be equal", a, b)
			}
			return b
		}
		if !hasAxis {
			return b // suffix matching, as NumPy's
		}
		ax := int(axis)
		if ax < 0 {
			ax += len(a)
		}
		if ax < 0 || ax+len(b) > len(a) {
			fail("broadcast axis %d does not fit shapes %v and %v", axis, a, b)
		}
		out := slices.Clone(b)
		for len(out) < len(a)-ax {
			out = append(out, 1)
		}
		return out
	}
}
