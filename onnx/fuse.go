package onnx

import (
	"math"
	"slices"
)

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
	readers := map[string][]int{}
	for i, cn := range mod.nodes {
		for _, in := range cn.n.Inputs {
			if in != "" {
				readers[in] = append(readers[in], i)
			}
		}
	}
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
	readers := map[string][]int{}
	for i, cn := range mod.nodes {
		for _, in := range cn.n.Inputs {
			if in != "" {
				readers[in] = append(readers[in], i)
			}
		}
	}
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
