package onnx

import (
	"math"
	"slices"
	"sync/atomic"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
)

// readers maps each value to the positions of the nodes that read it.
func (mod *Module) readers() map[string][]int {
	readers := map[string][]int{}
	for i, cn := range mod.nodes {
		for _, in := range cn.n.Inputs {
			if in != "" {
				readers[in] = append(readers[in], i)
			}
		}
	}
	return readers
}

// fuseConvAct pairs every Conv whose output only a Relu, or a Clip of
// opset 11 or later, reads (and that is neither wanted nor a graph
// output) with that node: the Conv gets a second kernel that applies the
// activation as it writes (the tape's Conv2DReLU, then for a Clip to
// [0, hi] the bound in place: MobileNet's ReLU6), one pass and one tensor
// fewer, which Module.run uses instead of the two nodes when nothing
// needs to see the Conv's own output. A Clip whose bounds turn out at run
// time not to be a constant 0 and a finite positive hi runs as the two
// nodes would.
func (mod *Module) fuseConvAct(wants []string) error {
	readers := mod.readers()
	for _, cn := range mod.nodes {
		n := cn.n
		if n.OpType != "Conv" || len(n.Outputs) != 1 || n.Outputs[0] == "" || len(n.Inputs) > 3 {
			continue
		}
		out := n.Outputs[0]
		rs := readers[out]
		if len(rs) != 1 || slices.Contains(wants, out) || slices.Contains(mod.outputs, out) {
			continue
		}
		actNode := mod.nodes[rs[0]]
		a := actNode.n
		if len(a.Inputs) < 1 || a.Inputs[0] != out || slices.Contains(a.Inputs[1:], out) || len(a.Outputs) != 1 || a.Outputs[0] == "" || len(a.Attrs) != 0 {
			continue
		}
		isRelu := a.OpType == "Relu" && len(a.Inputs) == 1
		isClip := a.OpType == "Clip" && mod.opset >= 11
		if !isRelu && !isClip {
			continue
		}
		c := &compiler{n: n, opset: mod.opset, label: nodeLabel(n, cn.index), read: map[string]bool{}}
		var conv func(e *env, x []*val, act convAct) []*val
		if err := c.try(func() { conv = compileConvAct(c) }); err != nil {
			return err
		}
		if isRelu {
			cn.fused = func(e *env, x []*val) []*val { return conv(e, x[:3], convAct{relu: true}) }
		} else {
			clip := actNode.run
			cn.fused = func(e *env, x []*val) []*val {
				if hi, ok := reluClipBound(x[3:]); ok {
					return conv(e, x[:3], convAct{relu: true, hi: hi})
				}
				y := conv(e, x[:3], convAct{})
				return clip(e, append([]*val{y[0]}, x[3:]...))
			}
		}
		cn.actAt = rs[0]
		cn.fusedNames = append(append(slices.Clone(n.Inputs), make([]string, 3-len(n.Inputs))...), a.Inputs[1:]...)
	}
	return nil
}

// fuseConvAdd pairs every Conv not fused with an activation whose output
// only an Add reads, with the other operand of that Add (a residual
// block's shortcut), and the Relu, or the Clip of opset 11 or later, that
// alone reads the Add's output when there is one: the fused step computes
// all of them as tensor.Conv2DAdd does, the shortcut added as each tile of
// the convolution is stored (ResNet's 8 blocks; MobileNetV2's 10, whose
// sum has no activation) instead of an addition and an activation each
// going over the output again. Where the fused kernel does not apply (a
// tape recording gradients, a rule, an Add that broadcasts, other than
// 2-D convolutions, a Clip without constant bounds 0 and hi) the step
// runs the nodes' own kernels one after another, with the same results.
func (mod *Module) fuseConvAdd(wants []string) error {
	readers := mod.readers()
	// sole returns the node that alone reads out, unless out is wanted
	// or a graph output.
	sole := func(out string) (int, bool) {
		rs := readers[out]
		if len(rs) != 1 || slices.Contains(wants, out) || slices.Contains(mod.outputs, out) {
			return 0, false
		}
		return rs[0], true
	}
	// taken marks the Adds fused already: both operands of a downsampling
	// block's Add are Convs (the block's second and its shortcut); the
	// first in the graph's order gets it.
	taken := map[int]bool{}
	for _, cn := range mod.nodes {
		n := cn.n
		if cn.fused != nil || n.OpType != "Conv" || len(n.Outputs) != 1 || n.Outputs[0] == "" || len(n.Inputs) > 3 {
			continue
		}
		out := n.Outputs[0]
		ai, ok := sole(out)
		if !ok || taken[ai] {
			continue
		}
		add := mod.nodes[ai]
		an := add.n
		if an.OpType != "Add" || len(an.Inputs) != 2 || len(an.Outputs) != 1 || an.Outputs[0] == "" || an.Inputs[0] == an.Inputs[1] {
			continue
		}
		resFirst := an.Inputs[1] == out // Add(shortcut, conv)
		res := an.Inputs[0]
		if !resFirst {
			res = an.Inputs[1]
		}
		// The activation reading the sum, if the sum has only it.
		var act *cnode
		var relu, clip bool
		if ri, ok := sole(an.Outputs[0]); ok {
			r := mod.nodes[ri]
			rn := r.n
			if len(rn.Inputs) >= 1 && rn.Inputs[0] == an.Outputs[0] && !slices.Contains(rn.Inputs[1:], an.Outputs[0]) && len(rn.Outputs) == 1 && rn.Outputs[0] != "" && len(rn.Attrs) == 0 {
				relu = rn.OpType == "Relu" && len(rn.Inputs) == 1
				clip = rn.OpType == "Clip" && mod.opset >= 11
				if relu || clip {
					act = r
				}
			}
		}
		c := &compiler{n: n, opset: mod.opset, label: nodeLabel(n, cn.index), read: map[string]bool{}}
		var conv func(e *env, x []*val, act convAct) []*val
		if err := c.try(func() { conv = compileConvAct(c) }); err != nil {
			return err
		}
		convRun, addRun := cn.run, add.run
		var actRun kernel
		if act != nil {
			actRun = act.run
		}
		cn.fused = func(e *env, x []*val) []*val {
			xs, r, bounds := x[:3], x[3], x[4:]
			a := convAct{relu: relu || clip}
			fast := !e.tp.Recording() && e.tp.Rule() == nil && r != nil && r.v != nil && len(xs[0].dims()) == 4
			if clip {
				hi, ok := reluClipBound(bounds)
				a.hi, fast = hi, fast && ok
			}
			if fast {
				a.res = r.v.Value
				if y := conv(e, xs, a); y != nil {
					return y
				}
			}
			// The nodes one after another.
			y := convRun(e, xs)
			in := []*val{y[0], r}
			if resFirst {
				in = []*val{r, y[0]}
			}
			z := addRun(e, in)
			if actRun == nil {
				return z
			}
			return actRun(e, append([]*val{z[0]}, bounds...))
		}
		taken[ai] = true
		cn.fusedNames = append(append(slices.Clone(n.Inputs), make([]string, 3-len(n.Inputs))...), res)
		cn.actAt = ai
		cn.absorbed = nil
		if act != nil {
			cn.actAt = slices.Index(mod.nodes, act)
			cn.absorbed = []int{ai}
			cn.fusedNames = append(cn.fusedNames, act.n.Inputs[1:]...)
		}
	}
	return nil
}

// reluClipBound reports whether Clip's bound inputs (min, max) are the
// constants 0 and a finite hi > 0, which take no gradient, and returns hi.
func reluClipBound(bounds []*val) (float32, bool) {
	if len(bounds) != 2 {
		return 0, false
	}
	var b [2]float32
	for i, v := range bounds {
		if v == nil || v.v == nil || v.v.RequiresGrad() || v.v.Value.Len() != 1 {
			return 0, false
		}
		b[i] = v.v.Value.Data()[0]
	}
	if b[0] != 0 || !(b[1] > 0) || math.IsInf(float64(b[1]), 1) {
		return 0, false
	}
	return b[1], true
}

// fuseExpandDepthwise joins an expansion and the depthwise layer that
// alone reads it (an inverted-residual block, MobileNetV2's 16): a Conv
// fused with its Relu or Clip (fuseConvAct) whose activated output only a
// second such pair reads. The joined step runs both as
// tensor.ExpandDepthwise, a block of the expansion's channels at a time
// with their depthwise planes right after, so the expansion's output
// (4.8 MB per 112×112 image) is never written whole; it writes the
// second activation's output. Where that kernel does not apply (a tape
// that records, a rule, other shapes or attributes, bounds that are not
// constants) the two fused pairs run one after the other, with the same
// results: the kernel's bits are theirs.
func (mod *Module) fuseExpandDepthwise(wants []string) error {
	readers := mod.readers()
	joined := map[int]bool{} // depthwise Convs already joined to an expansion
	for i, cn := range mod.nodes {
		if cn.fused == nil || cn.absorbed != nil || joined[i] {
			continue
		}
		act := mod.nodes[cn.actAt].n
		if !mod.convShaped(cn, func(s []int) bool { return s[2] == 1 && s[3] == 1 }) || !isActivation(act) {
			continue
		}
		z := act.Outputs[0]
		rs := readers[z]
		if len(rs) != 1 || slices.Contains(wants, z) || slices.Contains(mod.outputs, z) {
			continue
		}
		di := rs[0]
		dw := mod.nodes[di]
		if dw.n.OpType != "Conv" || dw.fused == nil || dw.absorbed != nil || len(dw.n.Inputs) < 2 || dw.n.Inputs[0] != z || slices.Contains(dw.n.Inputs[1:], z) ||
			!isActivation(mod.nodes[dw.actAt].n) || !mod.convShaped(dw, func(s []int) bool { return s[1] == 1 && s[2] == 3 && s[3] == 3 }) {
			continue
		}
		geo1, err := convAttrs(mod, cn)
		if err != nil {
			return err
		}
		geo2, err := convAttrs(mod, dw)
		if err != nil {
			return err
		}
		first, second := cn.fused, dw.fused
		split := len(cn.fusedNames)
		relu1 := mod.nodes[cn.actAt].n.OpType == "Relu"
		relu2 := mod.nodes[dw.actAt].n.OpType == "Relu"
		cn.fused = func(e *env, x []*val) []*val {
			if y := expandDepthwise(e, x[:split], x[split:], geo1, geo2, relu1, relu2); y != nil {
				return y
			}
			z := first(e, x[:split])
			defer nameFailure(dw)
			return second(e, append([]*val{z[0]}, x[split+1:]...))
		}
		// The joined step reads the first pair's values, then the second's
		// but for z, which it does not produce (its slot is left empty).
		cn.fusedNames = append(append(slices.Clone(cn.fusedNames), ""), dw.fusedNames[1:]...)
		cn.absorbed = []int{cn.actAt, di}
		cn.actAt = dw.actAt
		joined[di] = true
	}
	return nil
}

// nameFailure, deferred around a joined node's kernel, adds that node's
// name to the error it raises: the step's errors otherwise name the Conv
// it runs as (runNode), which is another node.
func nameFailure(cn *cnode) {
	r := recover()
	if r == nil {
		return
	}
	where := "joined node " + nodeLabel(cn.n, cn.index) + " (" + cn.n.OpType + ")"
	switch x := r.(type) {
	case *opError:
		panic(&opError{where + ": " + x.msg})
	case *unsupportedRT:
		panic(&unsupportedRT{where + ": " + x.msg})
	case *tensor.ShapeError:
		panic(&opError{where + ": " + x.Error()})
	}
	panic(r)
}

// isActivation reports a Relu or Clip node (what fuseConvAct pairs a Conv
// with; fuseConvAdd's steps end in an Add or one of those).
func isActivation(n *Node) bool { return n.OpType == "Relu" || n.OpType == "Clip" }

// convShaped reports whether cn's weights are an initialiser of rank 4
// whose shape ok accepts: the joined kernels need their filters' shape
// known when the graph is compiled, to pick the pairs.
func (mod *Module) convShaped(cn *cnode, ok func([]int) bool) bool {
	if cn.n.OpType != "Conv" || len(cn.n.Inputs) < 2 {
		return false
	}
	w, found := mod.inits[cn.n.Inputs[1]]
	if !found || w.v == nil {
		return false
	}
	s := w.v.Value.Shape()
	return len(s) == 4 && ok(s)
}

// expandDepthwiseRuns counts the joined steps that ran fused (tests).
var expandDepthwiseRuns atomic.Int64

// convSpec is what a fused kernel needs of a Conv node's attributes.
type convSpec struct {
	sa    spatialAttrs
	group int
}

// convAttrs reads cn's Conv attributes (checked already when it was
// compiled).
func convAttrs(mod *Module, cn *cnode) (convSpec, error) {
	c := &compiler{n: cn.n, opset: mod.opset, label: nodeLabel(cn.n, cn.index), read: map[string]bool{}}
	var s convSpec
	err := c.try(func() {
		s.sa = readSpatial(c, true)
		s.group = int(c.int("group", 1))
	})
	return s, err
}

// expandDepthwise runs the joined step of fuseExpandDepthwise with
// tensor.ExpandDepthwise: a (x, W, B, bounds...) and b (z, W, B,
// bounds...) are the two pairs' inputs. It returns nil where that does
// not apply.
func expandDepthwise(e *env, a, b []*val, s1, s2 convSpec, relu1, relu2 bool) []*val {
	if e.tp.Recording() || e.tp.Rule() != nil || len(a) < 3 || len(b) < 3 || a[0] == nil || a[1] == nil || b[1] == nil {
		return nil
	}
	hi1, hi2 := float32(0), float32(0)
	if !relu1 {
		var ok bool
		if hi1, ok = reluClipBound(a[3:]); !ok {
			return nil
		}
	}
	if !relu2 {
		var ok bool
		if hi2, ok = reluClipBound(b[3:]); !ok {
			return nil
		}
	}
	for _, v := range []*val{a[0], a[1], a[2], b[1], b[2]} {
		if v != nil && v.v == nil {
			return nil
		}
	}
	x, we, wd := a[0].v.Value, a[1].v.Value, b[1].v.Value
	xs, es, ds := x.Shape(), we.Shape(), wd.Shape()
	if len(xs) != 4 || len(es) != 4 || len(ds) != 4 || !x.IsContiguous() || !we.IsContiguous() || !wd.IsContiguous() {
		return nil
	}
	g1 := s1.sa.resolve(xs[2:], es[2:], false)
	if slices.ContainsFunc([][]int{g1.padBegin, g1.padEnd}, func(p []int) bool { return p[0] != 0 || p[1] != 0 }) {
		return nil
	}
	z := []int{xs[2], xs[3]} // the expansion keeps the plane
	g2 := s2.sa.resolve(z, ds[2:], false)
	if g2.dil[0] != 1 || g2.dil[1] != 1 || g2.padBegin[0] != g2.padEnd[0] || g2.padBegin[1] != g2.padEnd[1] {
		return nil
	}
	pe := tensor.ConvParams{StrideH: g1.stride[0], StrideW: g1.stride[1], Groups: s1.group}
	pd := tensor.ConvParams{StrideH: g2.stride[0], StrideW: g2.stride[1], PadH: g2.padBegin[0], PadW: g2.padBegin[1], Groups: s2.group}
	pe.Prepared = e.m.packedFilters(e.tp, a[1].v, s1.group)
	var be, bd *tensor.Tensor
	if a[2] != nil {
		be = a[2].v.Value
	}
	if b[2] != nil {
		bd = b[2].v.Value
	}
	y := tensor.ExpandDepthwise(x, we, be, pe, true, hi1, wd, bd, pd, true, hi2)
	if y == nil {
		return nil
	}
	expandDepthwiseRuns.Add(1)
	return []*val{floatVal(autograd.Const(y), a[0].dt)}
}
