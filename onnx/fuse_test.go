package onnx

import (
	"math"
	"testing"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// TestConvReluFusion checks that a Conv read only by a Relu runs as one
// fused node, with outputs and input and parameter gradients bit for bit
// those of the two nodes, one tape operation fewer; and that the pair is
// not fused when the Conv's output is itself wanted or a graph output.
func TestConvReluFusion(t *testing.T) {
	seq := smallCNN(4)
	fused := mustImport(t, cnnGraph(seq, -1), ImportOptions{})
	plain := mustImport(t, cnnGraph(seq, -1), ImportOptions{})
	nfused := 0
	for _, cn := range plain.nodes {
		if cn.fused != nil {
			nfused++
			cn.fused = nil
		}
	}
	if nfused != 1 || fused.nodes[0].fused == nil || fused.nodes[fused.nodes[0].reluAt].n.OpType != "Relu" {
		t.Fatalf("%d fused pairs, want the Conv and its Relu", nfused)
	}
	x := randImages(5, 2)
	r := tensor.RandU(tensor.NewRNG(6), -1, 1, 2, 5)
	run := func(m *Module) (y, gx *tensor.Tensor, gp []*tensor.Tensor, ops int) {
		nn.ZeroGrad(m)
		c := nn.EvalGrad()
		xv := autograd.Input(x.Clone())
		out := m.Forward(c, xv)
		ops = c.Tape.Len()
		if err := c.Tape.Backward(c.Tape.Sum(c.Tape.Mul(out, autograd.Const(r)), false)); err != nil {
			t.Fatal(err)
		}
		for _, p := range m.Params() {
			gp = append(gp, p.Grad)
		}
		return out.Value, xv.Grad, gp, ops
	}
	fy, fx, fp, fops := run(fused)
	py, px, pp, pops := run(plain)
	if fops != pops-1 {
		t.Fatalf("fused graph records %d operations, unfused %d: want one fewer", fops, pops)
	}
	same := func(what string, a, b *tensor.Tensor) {
		t.Helper()
		for i, v := range a.Data() {
			if math.Float32bits(v) != math.Float32bits(b.Data()[i]) {
				t.Fatalf("%s[%d]: fused %v, unfused %v", what, i, v, b.Data()[i])
			}
		}
	}
	same("output", fy, py)
	same("input gradient", fx, px)
	for i := range fp {
		same("parameter gradient", fp[i], pp[i])
	}

	// The Conv's output wanted, or a graph output: no fusion, and the
	// value is the unrectified convolution.
	m := cnnGraph(seq, -1)
	m.Graph.Outputs = append(m.Graph.Outputs, &ValueInfo{Name: "conv_out", Kind: KindTensor, ElemType: Float})
	for _, opt := range []ImportOptions{{Output: "conv_out"}, {Output: "logits"}} {
		mod := mustImport(t, m, opt)
		for _, cn := range mod.nodes {
			if cn.fused != nil {
				t.Fatalf("output %q: a Conv whose output is a graph output was fused", opt.Output)
			}
		}
	}
	mod := mustImport(t, cnnGraph(seq, -1), ImportOptions{Output: "conv_out"})
	y, err := nn.Predict(mod, x)
	if err != nil {
		t.Fatal(err)
	}
	neg := false
	for _, v := range y.Data() {
		neg = neg || v < 0
	}
	if !neg {
		t.Fatal("the Conv's own output has no negative value: it was rectified")
	}
}
