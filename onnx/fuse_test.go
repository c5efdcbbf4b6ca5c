package onnx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
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
	if nfused != 1 || fused.nodes[0].fused == nil || fused.nodes[fused.nodes[0].actAt].n.OpType != "Relu" {
		t.Fatalf("%d fused pairs, want the Conv and its Relu", nfused)
	}
	x := randImages(5, 2)
	r := tensor.RandU(tensor.NewRNG(6), -1, 1, 2, 5)
	fy, fx, fp, fops := runGrads(t, fused, x, r)
	py, px, pp, pops := runGrads(t, plain, x, r)
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

// TestConvClipFusion checks that a depthwise Conv followed by a Clip to
// [0, 6] (ReLU6, bounds from Constant nodes between the two, as PyTorch
// exports them) runs
// fused with the same outputs and gradients as the two nodes, and that a
// Clip with other bounds falls back to the two nodes' values.
func TestConvClipFusion(t *testing.T) {
	rng := tensor.NewRNG(8)
	w := tensor.RandN(rng, 0, 1, 4, 1, 3, 3)
	b := tensor.RandN(rng, 0, 1, 4)
	graph := func(lo, hi float32) *Model {
		return newModel(13).input("x", Float, -1, 4, 6, 6).
			floatInit("w", w).floatInit("b", b).
			node("Conv", []string{"x", "w", "b"}, []string{"c"}, tInt("group", 4), tInts("pads", 1, 1, 1, 1)).
			node("Constant", nil, []string{"lo"}, tTensor("value", floatTensor("", tensor.MustFromSlice([]float32{lo})))).
			node("Constant", nil, []string{"hi"}, tTensor("value", floatTensor("", tensor.MustFromSlice([]float32{hi})))).
			node("Clip", []string{"c", "lo", "hi"}, []string{"y"}).
			output("y").m
	}
	x := tensor.RandN(tensor.NewRNG(9), 0, 3, 2, 4, 6, 6)
	r := tensor.RandU(tensor.NewRNG(10), -1, 1, 2, 4, 6, 6)
	for _, bounds := range [][2]float32{{0, 6}, {-1, 6}, {0, 1}} {
		fused := mustImport(t, graph(bounds[0], bounds[1]), ImportOptions{})
		plain := mustImport(t, graph(bounds[0], bounds[1]), ImportOptions{})
		for _, cn := range plain.nodes {
			cn.fused = nil
		}
		if fused.nodes[0].fused == nil {
			t.Fatal("the Conv and its Clip were not paired")
		}
		fy, fx, fp, fops := runGrads(t, fused, x, r)
		py, px, pp, pops := runGrads(t, plain, x, r)
		fw, fb, pw, pb := fp[0], fp[1], pp[0], pp[1]
		if fused := bounds[0] == 0; fused && fops != pops-1 || !fused && fops != pops {
			t.Fatalf("bounds %v: %d tape operations fused, %d unfused", bounds, fops, pops)
		}
		sat := 0
		for _, v := range py.Data() {
			if v == bounds[1] {
				sat++
			}
		}
		if sat == 0 {
			t.Fatalf("bounds %v: no output reaches the upper bound; the test does not exercise it", bounds)
		}
		closeTo(t, "output", fy.Data(), py.Data(), 0)
		closeTo(t, "input gradient", fx.Data(), px.Data(), 1e-6)
		closeTo(t, "weight gradient", fw.Data(), pw.Data(), 1e-5)
		closeTo(t, "bias gradient", fb.Data(), pb.Data(), 1e-5)
	}
}

// runGrads runs m on x recording, back-propagates Σ output·r and returns
// the output, the input and parameter gradients and the number of
// operations the tape recorded.
func runGrads(t *testing.T, m *Module, x, r *tensor.Tensor) (y, gx *tensor.Tensor, gp []*tensor.Tensor, ops int) {
	t.Helper()
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

// residualGraph is a ResNet basic block as torch.onnx.export writes it:
// Conv → Relu → Conv → Add(the block's input) → act, where act is "Relu",
// "Clip" (to [0, 6], its bounds as Constant nodes) or "" (MobileNetV2's
// sum, with no activation); resFirst writes the Add as Add(x, conv).
//
// With down, the shortcut is a 1×1 Conv of x too, after the block's
// second Conv in the graph's order (as ResNet's downsampling blocks are
// exported): both operands of the Add are Convs, and one is fused.
func residualGraph(rng *rand.Rand, act string, resFirst, down bool) *Model {
	b := newModel(13).input("x", Float, -1, 8, 6, 7).
		floatInit("w1", randT(rng, 8, 8, 3, 3)).floatInit("b1", randT(rng, 8)).
		floatInit("w2", randT(rng, 8, 8, 3, 3)).floatInit("b2", randT(rng, 8)).
		node("Conv", []string{"x", "w1", "b1"}, []string{"c1"}, tInts("kernel_shape", 3, 3), tInts("pads", 1, 1, 1, 1)).
		node("Relu", []string{"c1"}, []string{"r1"}).
		node("Conv", []string{"r1", "w2", "b2"}, []string{"c2"}, tInts("kernel_shape", 3, 3), tInts("pads", 1, 1, 1, 1))
	short := "x"
	if down {
		b.floatInit("wd", randT(rng, 8, 8, 1, 1)).
			node("Conv", []string{"x", "wd"}, []string{"d"}, tInts("kernel_shape", 1, 1))
		short = "d"
	}
	ins := []string{"c2", short}
	if resFirst {
		ins = []string{short, "c2"}
	}
	b.node("Add", ins, []string{"sum"})
	switch act {
	case "Relu":
		b.node("Relu", []string{"sum"}, []string{"y"})
	case "Clip":
		b.floatInit("lo", tensor.Scalar(0)).floatInit("hi", tensor.Scalar(6))
		b.node("Clip", []string{"sum", "lo", "hi"}, []string{"y"})
	default:
		b.node("Identity", []string{"sum"}, []string{"y"})
	}
	return b.output("y").m
}

// TestFuseConvAdd checks that a residual block's Conv, Add and activation
// run as one step in inference, with the same bits as the nodes one
// after another (which a tape recording gradients runs), and that the
// gradients still flow through the unfused nodes.
func TestFuseConvAdd(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, act := range []string{"Relu", "Clip", ""} {
		for _, resFirst := range []bool{false, true} {
			for _, down := range []bool{false, true} {
				name := fmt.Sprintf("act %q, Add(x, conv) %v, downsampling %v", act, resFirst, down)
				mod := mustImport(t, residualGraph(rng, act, resFirst, down), ImportOptions{})
				conv := mod.nodes[2]
				short := map[bool]string{false: "x", true: "d"}[down]
				if conv.fused == nil || len(conv.fusedNames) < 4 || conv.fusedNames[3] != short {
					t.Fatalf("%s: the second Conv was not fused with the Add (fused names %v)", name, conv.fusedNames)
				}
				if down && mod.nodes[3].fused != nil {
					t.Fatalf("%s: the shortcut's Conv was fused with the same Add", name)
				}
				x := tensor.RandN(tensor.NewRNG(33), 0, 2, 3, 8, 6, 7)
				got := mod.Forward(nn.Eval(), autograd.Const(x)).Value.Data()
				c := nn.EvalGrad()
				xv := autograd.Input(x.Clone())
				y := mod.Forward(c, xv)
				if !slices.Equal(got, y.Value.Data()) {
					t.Fatalf("%s: the fused step differs from the nodes one after another", name)
				}
				var pos int
				for _, v := range got {
					if v > 0 {
						pos++
					}
				}
				if pos == 0 || act != "" && pos == len(got) {
					t.Fatalf("%s: %d of %d outputs positive: the test exercises nothing", name, pos, len(got))
				}
				if err := c.Tape.Backward(c.Tape.Sum(y, false)); err != nil || xv.Grad == nil {
					t.Fatalf("%s: gradient: %v", name, err)
				}
			}
		}
	}
}

// An explanation's fused Conv and ReLU6 (frozen filters, on a tape)
// convolves with the exact sums, as autograd's convolutions do: on a layer
// Winograd takes for inference (3×3 "same", 16 channels) its output is
// tensor.Conv2DReLUMax's with ConvParams.Exact, bit for bit, and its input
// gradient flows.
func TestConvClipFrozenIsExact(t *testing.T) {
	rng := tensor.NewRNG(12)
	w := tensor.RandN(rng, 0, 0.2, 16, 16, 3, 3)
	b := tensor.RandN(rng, 0, 1, 16)
	m := newModel(13).input("x", Float, -1, 16, 16, 16).
		floatInit("w", w).floatInit("b", b).
		node("Conv", []string{"x", "w", "b"}, []string{"c"}, tInts("kernel_shape", 3, 3), tInts("pads", 1, 1, 1, 1)).
		node("Constant", nil, []string{"lo"}, tTensor("value", floatTensor("", tensor.MustFromSlice([]float32{0})))).
		node("Constant", nil, []string{"hi"}, tTensor("value", floatTensor("", tensor.MustFromSlice([]float32{6})))).
		node("Clip", []string{"c", "lo", "hi"}, []string{"y"}).
		output("y").m
	mod := mustImport(t, m, ImportOptions{Frozen: true})
	if mod.nodes[0].fused == nil {
		t.Fatal("the Conv and its Clip were not paired")
	}
	thaw := autograd.Freeze(mod.Params())
	defer thaw()
	x := tensor.RandN(tensor.NewRNG(13), 0, 3, 2, 16, 16, 16)
	c := nn.EvalGrad()
	xv := autograd.Input(x)
	out := mod.Forward(c, xv)
	want := tensor.Conv2DReLUMax(x, w, b, tensor.ConvParams{PadH: 1, PadW: 1, Exact: true}, 6)
	closeTo(t, "output", out.Value.Contiguous().Data(), want.Data(), 0)
	if err := c.Tape.Backward(c.Tape.Sum(out, false)); err != nil {
		t.Fatal(err)
	}
	if xv.Grad == nil {
		t.Fatal("no input gradient")
	}
}

// invertedResidualGraph is a MobileNetV2 block's first two layers as
// torch.onnx.export writes them: a 1×1 expansion to 24 channels and a
// 3×3 depthwise Conv of the given stride, each followed by act ("Clip"
// to [0, 6] with Constant bounds, or "Relu"), then a 1×1 projection.
func invertedResidualGraph(rng *rand.Rand, act string, stride int) *Model {
	b := newModel(13).input("x", Float, -1, 8, 13, 10).
		floatInit("we", randT(rng, 24, 8, 1, 1)).floatInit("be", randT(rng, 24)).
		floatInit("wd", randT(rng, 24, 1, 3, 3)).floatInit("bd", randT(rng, 24)).
		floatInit("wp", randT(rng, 8, 24, 1, 1))
	activate := func(in, out string) {
		if act == "Relu" {
			b.node("Relu", []string{in}, []string{out})
			return
		}
		b.node("Constant", nil, []string{out + "_lo"}, tTensor("value", floatTensor("", tensor.MustFromSlice([]float32{0})))).
			node("Constant", nil, []string{out + "_hi"}, tTensor("value", floatTensor("", tensor.MustFromSlice([]float32{6})))).
			node("Clip", []string{in, out + "_lo", out + "_hi"}, []string{out})
	}
	b.node("Conv", []string{"x", "we", "be"}, []string{"e"}, tInts("kernel_shape", 1, 1))
	activate("e", "z")
	b.node("Conv", []string{"z", "wd", "bd"}, []string{"d"}, tInts("kernel_shape", 3, 3), tInt("group", 24), tInts("pads", 1, 1, 1, 1), tInts("strides", int64(stride), int64(stride)))
	activate("d", "a")
	b.node("Conv", []string{"a", "wp"}, []string{"y"}, tInts("kernel_shape", 1, 1))
	return b.output("y").m
}

// TestFuseExpandDepthwise checks that an expansion and the depthwise
// layer reading it run as one step in inference (tensor.ExpandDepthwise),
// with the bits of the two fused pairs one after the other (which a tape
// recording gradients runs, and gradients still flow through), and that
// wanting the expansion's output keeps them apart.
func TestFuseExpandDepthwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(61, 62))
	for _, act := range []string{"Clip", "Relu"} {
		for _, stride := range []int{1, 2} {
			name := fmt.Sprintf("%s stride %d", act, stride)
			m := invertedResidualGraph(rng, act, stride)
			mod := mustImport(t, m, ImportOptions{})
			exp := mod.nodes[0]
			if exp.fused == nil || len(exp.absorbed) != 2 || mod.nodes[exp.actAt].n.Outputs[0] != "a" {
				t.Fatalf("%s: the expansion was not joined with the depthwise layer (absorbed %v)", name, exp.absorbed)
			}
			x := tensor.RandN(tensor.NewRNG(63), 0, 2, 3, 8, 13, 10)
			runs := expandDepthwiseRuns.Load()
			got := mod.Forward(nn.Eval(), autograd.Const(x)).Value.Data()
			// Where the vector kernels run, the joined step must have taken
			// them (and not fallen back to the two pairs).
			fast := tensor.ExpandDepthwise(x, tensor.New(24, 8, 1, 1), nil, tensor.ConvParams{}, true, 6,
				tensor.New(24, 1, 3, 3), nil, tensor.ConvParams{StrideH: stride, StrideW: stride, PadH: 1, PadW: 1, Groups: 24}, true, 6) != nil
			if ran := expandDepthwiseRuns.Load() > runs; ran != fast {
				t.Fatalf("%s: joined kernel ran %v, available %v", name, ran, fast)
			}
			c := nn.EvalGrad()
			xv := autograd.Input(x.Clone())
			y := mod.Forward(c, xv)
			if !slices.Equal(got, y.Value.Data()) {
				t.Fatalf("%s: the joined step differs from the layers one after another", name)
			}
			if err := c.Tape.Backward(c.Tape.Sum(y, false)); err != nil || xv.Grad == nil {
				t.Fatalf("%s: gradient: %v", name, err)
			}
			// The expansion's activated output wanted: computed apart, and
			// the graph's output still the same.
			m.Graph.Outputs = append(m.Graph.Outputs, &ValueInfo{Name: "z", Kind: KindTensor, ElemType: Float})
			apart := mustImport(t, m, ImportOptions{Output: "y"})
			if apart.nodes[0].fused != nil && len(apart.nodes[0].absorbed) == 2 {
				t.Fatalf("%s: joined although the expansion's output is a graph output", name)
			}
			if !slices.Equal(got, apart.Forward(nn.Eval(), autograd.Const(x)).Value.Data()) {
				t.Fatalf("%s: the graph with the expansion's output apart differs", name)
			}
		}
	}
}

// TestFuseExpandDepthwiseOnlyExpansions checks which pairs are joined in
// MobileNetV2's own order: not a stem (a 3×3 Conv) and the depthwise
// layer after it, nor a projection fused with its residual Add (a step
// that ends in the Add, with no activation) and the expansion reading
// the sum; the expansion and its depthwise layer, yes.
func TestFuseExpandDepthwiseOnlyExpansions(t *testing.T) {
	rng := rand.New(rand.NewPCG(71, 72))
	b := newModel(13).input("x", Float, -1, 3, 12, 12).
		floatInit("ws", randT(rng, 8, 3, 3, 3)).floatInit("wd1", randT(rng, 8, 1, 3, 3)).
		floatInit("wp", randT(rng, 8, 8, 1, 1)).
		floatInit("we", randT(rng, 16, 8, 1, 1)).floatInit("wd2", randT(rng, 16, 1, 3, 3)).
		node("Conv", []string{"x", "ws"}, []string{"s"}, tInts("kernel_shape", 3, 3), tInts("pads", 1, 1, 1, 1)).
		node("Relu", []string{"s"}, []string{"sr"}).
		node("Conv", []string{"sr", "wd1"}, []string{"d1"}, tInts("kernel_shape", 3, 3), tInt("group", 8), tInts("pads", 1, 1, 1, 1)).
		node("Relu", []string{"d1"}, []string{"d1r"}).
		node("Conv", []string{"d1r", "wp"}, []string{"p"}, tInts("kernel_shape", 1, 1)).
		node("Add", []string{"p", "sr2"}, []string{"sum"}).
		node("Conv", []string{"sum", "we"}, []string{"e"}, tInts("kernel_shape", 1, 1)).
		node("Relu", []string{"e"}, []string{"er"}).
		node("Conv", []string{"er", "wd2"}, []string{"d2"}, tInts("kernel_shape", 3, 3), tInt("group", 16), tInts("pads", 1, 1, 1, 1)).
		node("Relu", []string{"d2"}, []string{"y"})
	// The residual: the stem's activation again, through an Identity so
	// the stem's Relu keeps one reader besides it.
	b.m.Graph.Nodes = slices.Insert(b.m.Graph.Nodes, 2, &Node{OpType: "Identity", Inputs: []string{"sr"}, Outputs: []string{"sr2"}})
	m := b.output("y").m
	mod := mustImport(t, m, ImportOptions{})
	joined := map[string]bool{}
	for _, cn := range mod.nodes {
		if cn.fused != nil && len(cn.absorbed) == 2 {
			joined[cn.n.Inputs[1]] = true
		}
	}
	if !joined["we"] || joined["ws"] || joined["wp"] || len(joined) != 1 {
		t.Fatalf("joined the Convs with weights %v, want only the expansion's (we)", joined)
	}
	x := tensor.RandN(tensor.NewRNG(73), 0, 1, 2, 3, 12, 12)
	got := mod.Forward(nn.Eval(), autograd.Const(x)).Value.Data()
	want := mod.Forward(nn.EvalGrad(), autograd.Input(x.Clone())).Value.Data()
	if !slices.Equal(got, want) {
		t.Fatal("the joined graph differs from its nodes one after another")
	}
}

// TestFuseExpandDepthwiseBadGroup feeds a crafted graph whose "depthwise"
// Conv has one filter per channel by shape but group 1 by attribute: the
// pairs are joined by shape, the joined kernel refuses the attributes,
// and the nodes' own kernels report the mismatch as an error naming the
// depthwise node (not only the expansion the joined step runs as), with
// no panic.
func TestFuseExpandDepthwiseBadGroup(t *testing.T) {
	rng := rand.New(rand.NewPCG(81, 82))
	m := newModel(13).input("x", Float, -1, 8, 9, 9).
		floatInit("we", randT(rng, 24, 8, 1, 1)).floatInit("wd", randT(rng, 24, 1, 3, 3)).
		node("Conv", []string{"x", "we"}, []string{"e"}, tInts("kernel_shape", 1, 1)).
		node("Relu", []string{"e"}, []string{"z"}).
		node("Conv", []string{"z", "wd"}, []string{"d"}, tInts("kernel_shape", 3, 3), tInt("group", 1), tInts("pads", 1, 1, 1, 1)).
		node("Relu", []string{"d"}, []string{"y"}).
		output("y").m
	mod := mustImport(t, m, ImportOptions{})
	_, err := mod.Eval(map[string]*Tensor{"x": floatTensor("x", tensor.RandN(tensor.NewRNG(83), 0, 1, 1, 8, 9, 9))})
	if err == nil || !strings.Contains(err.Error(), "channels") || !strings.Contains(err.Error(), `"Conv_d"`) {
		t.Fatalf("got %v, want an error about the channels that names the depthwise node", err)
	}
}
