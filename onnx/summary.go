package onnx

import (
	"fmt"
	"slices"
	"strings"
)

// Summary describes a model's graph for people: producer and opset, the
// inputs and outputs with their shapes, the operators used (with counts)
// and the number of parameters (values of float initialisers).
func Summary(m *Model) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ONNX model: IR version %d, opset %d", m.IRVersion, m.Opset())
	if m.ProducerName != "" {
		fmt.Fprintf(&b, ", made by %s %s", m.ProducerName, m.ProducerVersion)
	}
	b.WriteString("\n")
	g := m.Graph
	if g == nil {
		b.WriteString("  (no graph)\n")
		return b.String()
	}
	init := map[string]bool{}
	var params, weights int64
	for _, t := range g.Initializers {
		init[t.Name] = true
		if t.DataType == Float || t.DataType == Double || t.DataType == Float16 || t.DataType == BFloat16 {
			n := int64(1)
			for _, d := range t.Dims {
				n *= d
			}
			params += n
			weights++
		}
	}
	for _, v := range g.Inputs {
		if !init[v.Name] {
			fmt.Fprintf(&b, "  input  %-20s %s\n", v.Name, describeValue(v))
		}
	}
	for _, v := range g.Outputs {
		fmt.Fprintf(&b, "  output %-20s %s\n", v.Name, describeValue(v))
	}
	counts := map[string]int{}
	for _, n := range g.Nodes {
		op := n.OpType
		if n.Domain != "" && n.Domain != "ai.onnx" {
			op = n.Domain + "." + op
		}
		counts[op]++
	}
	ops := make([]string, 0, len(counts))
	for op := range counts {
		ops = append(ops, op)
	}
	slices.SortFunc(ops, func(a, c string) int {
		if counts[a] != counts[c] {
			return counts[c] - counts[a]
		}
		return strings.Compare(a, c)
	})
	fmt.Fprintf(&b, "  %d nodes:", len(g.Nodes))
	for _, op := range ops {
		fmt.Fprintf(&b, " %s×%d", op, counts[op])
	}
	fmt.Fprintf(&b, "\n  %d parameters in %d weight tensors\n", params, weights)
	return b.String()
}

// describeValue writes a value's element type and shape, "batch" for a
// named dimension and "?" for an unknown one.
func describeValue(v *ValueInfo) string {
	if v.Shape == nil {
		return v.ElemType.String() + " [?]"
	}
	parts := make([]string, len(v.Shape))
	for i, d := range v.Shape {
		switch {
		case d.Value > 0:
			parts[i] = fmt.Sprint(d.Value)
		case d.Param != "":
			parts[i] = d.Param
		default:
			parts[i] = "?"
		}
	}
	return v.ElemType.String() + " [" + strings.Join(parts, " ") + "]"
}
