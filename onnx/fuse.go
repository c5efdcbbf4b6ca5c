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
