package onnx

import "slices"

// fuseConvRelu pairs every Conv whose output only a Relu reads (and that
// is neither wanted nor a graph output) with that Relu: the Conv gets a
// second kernel that rectifies as it writes (the tape's Conv2DReLU, one
// pass and one tensor fewer), which Module.run uses instead of the two
// nodes when nothing needs to see the Conv's own output.
func (mod *Module) fuseConvRelu(wants []string) error {
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
		if n.OpType != "Conv" || len(n.Outputs) != 1 || n.Outputs[0] == "" {
			continue
		}
		out := n.Outputs[0]
		rs := readers[out]
		if len(rs) != 1 || slices.Contains(wants, out) || slices.Contains(mod.outputs, out) {
			continue
		}
		r := mod.nodes[rs[0]].n
		if r.OpType != "Relu" || len(r.Inputs) != 1 || len(r.Outputs) != 1 || r.Outputs[0] == "" || len(r.Attrs) != 0 {
			continue
		}
		c := &compiler{n: n, opset: mod.opset, label: nodeLabel(n, cn.index), fuseRelu: true}
		fused, err := c.compile(ops["Conv"])
		if err != nil {
			return err
		}
		cn.fused, cn.reluAt = fused, rs[0]
	}
	return nil
}
