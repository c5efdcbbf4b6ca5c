package onnx

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Opset range the importer implements: ai.onnx operator sets 1 to 21.
// Operators whose meaning changed within the range are read the way the
// model's opset defines them; attributes of old versions that the
// importer does not implement are errors (every attribute a node carries
// must be understood).
const (
	MinOpset = 1
	MaxOpset = 21
)

// ImportOptions choose what Import builds.
type ImportOptions struct {
	// Input names the graph input that Forward feeds, and Output the
	// graph output it returns. Empty means the graph's only input (graph
	// inputs that are also initialisers do not count) and its only output.
	Input, Output string
	// AllInputs imports a graph with any number of inputs and outputs;
	// Eval and Run then evaluate it, and Forward works only when Input and
	// Output pick one of each (it fails if the output needs other inputs).
	AllInputs bool
	// MaxActivationValues bounds the values one evaluation may hold in
	// node outputs, per example of the batch (0: DefaultMaxActivationValues).
	// A graph asking for more (a crafted file, or a model far larger than a
	// CPU serves) is an error before it exhausts the machine's memory.
	MaxActivationValues int64
	// Frozen says the initialisers' values will not change: the model is
	// only run and explained, as the CLI and the server use it. Its
	// convolutions then pack their filters for the GEMM kernels once, on
	// first use, as onnxruntime does when a session opens, instead of at
	// every call (47 MB for ResNet-18). Training still works (a forward
	// that records a filter's gradient drops its packing, so the step's
	// new values are packed next), but a value changed by hand is not
	// seen until ReleasePacked.
	Frozen bool
}

// DefaultMaxActivationValues is ImportOptions.MaxActivationValues's
// default: 2^28 values (1 GiB of float32) per example, ten times what
// ResNet-50 or MobileNetV2 hold at 224×224.
const DefaultMaxActivationValues = 1 << 28

// Module is an imported ONNX graph. It implements nn.Module: Forward
// evaluates the nodes in order on the context's tape, so predictions,
// input gradients (saliency, integrated gradients), Grad-CAM (CAM) and
// parameter gradients (fine-tuning) all work.
//
// Floating-point initialisers that feed a differentiable operand become
// parameters named after the initialiser (Params); the rest — batch
// normalisation statistics, Clip bounds, Pad values — are buffers
// (Buffers), and integer initialisers (shapes, indices) constants. A
// module's Spec has type "onnx" and is not rebuilt by nn.Build: save a
// fine-tuned import by exporting it to ONNX again.
//
// The batch axis (axis 0 of the input) is free: the input may have a
// batch size other than the one the graph was exported with. A Reshape or
// Expand to a constant shape that starts with the exported batch size is
// given the actual one.
type Module struct {
	model  *Model
	opset  int64
	name   string
	nodes  []*cnode
	inits  map[string]*val // initialisers by name
	params []*autograd.Var
	bufs   []*autograd.Var

	inputs  []*ValueInfo // graph inputs that are not initialisers
	outputs []string
	input   string // Forward's input ("" when AllInputs and none chosen)
	output  string
	batch   int // exported batch size of the Forward input, 0 if symbolic
	// maxActs is the per-example bound on the values held in node outputs.
	maxActs int64

	camMu sync.Mutex // serialises CAM, which sets parameter gradients aside

	schedMu sync.Mutex
	scheds  map[schedKey]*schedule // see scheduleFor

	// filters holds the convolutions' filters packed once (see
	// packedFilters), by initialiser tensor; initTensors says which
	// tensors are initialisers.
	frozen      bool // ImportOptions.Frozen
	filtersMu   sync.Mutex
	filters     map[*tensor.Tensor]*tensor.ConvFilters
	derived     map[derivedKey]*tensor.Tensor     // rearranged recurrent weights
	rights      map[rightKey]*tensor.PackedMatrix // Gemm's B packed (packedRight)
	initTensors map[*tensor.Tensor]bool
}

// rightKey names a Gemm's packed right operand: its initialiser and
// whether the node transposes it.
type rightKey struct {
	w     *tensor.Tensor
	trans bool
}

// packedRight returns the right operand of a Gemm, the initialiser w
// (transposed when trans), packed once for the GEMM kernel under the rule
// of packedFilters (keepRule), or nil: a batch of 32 through
// MobileNetV2's classifier had packed its 5 MB of weights at every call,
// more than the product took.
func (mod *Module) packedRight(tp *autograd.Tape, w *autograd.Var, trans bool) *tensor.PackedMatrix {
	if mod == nil { // a kernel run without a module keeps nothing
		return nil
	}
	return keptPacking(mod, tp, w, &mod.rights, rightKey{w.Value, trans}, func() *tensor.PackedMatrix {
		b := w.Value
		if trans {
			b = b.Transpose()
		}
		return tensor.PackRight(b)
	})
}

// packedFilters returns the convolution filters w packed once for every
// call, when the module was imported Frozen, w is one of its initialisers
// and nothing is about to change it: an imported model that is only run (predictions,
// explanations, which freeze the parameters) packs its filters on first
// use, not at every call, as onnxruntime packs them when a session opens.
// A forward that records a gradient for w (training) drops the packing
// first, so the next call after an optimiser step packs the new values.
// Initialiser values changed by hand rather than by training need
// ReleasePacked.
func (mod *Module) packedFilters(tp *autograd.Tape, w *autograd.Var, groups int) *tensor.ConvFilters {
	if mod == nil { // convND's 1-D and 3-D cases: reshaped filters, nothing to keep
		return nil
	}
	return keptPacking(mod, tp, w, &mod.filters, w.Value, func() *tensor.ConvFilters {
		return tensor.PrepareConvFilters(w.Value, groups)
	})
}

// keptPacking is packedFilters' and packedRight's bookkeeping: the packing
// of w kept in *kept under key (made by pack on first use), or nil where
// keepRule says not to keep one, releasing and forgetting what was kept
// when this call records a gradient for w.
func keptPacking[K comparable, P interface{ Release() }](mod *Module, tp *autograd.Tape, w *autograd.Var, kept *map[K]P, key K, pack func() P) P {
	var none P
	keep, drop := mod.keepRule(tp, w)
	if !keep && !drop {
		return none
	}
	mod.filtersMu.Lock()
	defer mod.filtersMu.Unlock()
	p, ok := (*kept)[key]
	if drop {
		if ok {
			p.Release()
			delete(*kept, key)
		}
		return none
	}
	if !ok {
		if *kept == nil {
			*kept = map[K]P{}
		}
		p = pack()
		(*kept)[key] = p
	}
	return p
}

// keepRule is the rule of what packedFilters and frozenWeights keep: keep
// says what is derived from vs (nil ones skipped) may be kept for later
// calls (the module is Frozen, every v is one of its initialisers and this
// call records no gradient for any); drop says what was kept must go, as
// this call records a gradient for one of them (training, whose step
// changes their values).
func (mod *Module) keepRule(tp *autograd.Tape, vs ...*autograd.Var) (keep, drop bool) {
	if mod == nil || !mod.frozen {
		return false, false
	}
	for _, v := range vs {
		if v != nil && !mod.initTensors[v.Value] {
			return false, false
		}
	}
	if tp.Recording() {
		for _, v := range vs {
			if v != nil && v.RequiresGrad() {
				return false, true
			}
		}
	}
	return true, false
}

// ReleasePacked drops the convolution filters packed for reuse and the
// recurrent weights rearranged for reuse (see packedFilters and
// frozenWeights): after initialiser values were changed in place other
// than by training, and to free their memory.
func (mod *Module) ReleasePacked() {
	mod.filtersMu.Lock()
	defer mod.filtersMu.Unlock()
	for _, f := range mod.filters {
		f.Release()
	}
	for _, p := range mod.rights {
		p.Release()
	}
	mod.filters = nil
	mod.derived = nil
	mod.rights = nil
}

// weightMemo returns the weight named role that compute derives from a
// recurrent node's initialisers, computed once where that is safe.
type weightMemo func(role string, compute func() *autograd.Var) *autograd.Var

// derivedKey names one rearranged weight: the node's W, one direction,
// one role.
type derivedKey struct {
	w    *tensor.Tensor
	dir  int
	role string
}

// frozenWeights returns the memo of a recurrent node's rearranged weights
// (gate blocks reordered, transposed), computed once and kept, under the
// same rule as packedFilters (keepRule). Otherwise the memo computes every
// time.
func (mod *Module) frozenWeights(tp *autograd.Tape, W, R, B *autograd.Var, dir int) weightMemo {
	every := func(_ string, compute func() *autograd.Var) *autograd.Var { return compute() }
	keep, drop := mod.keepRule(tp, W, R, B)
	if drop {
		mod.filtersMu.Lock()
		for k := range mod.derived {
			if k.w == W.Value {
				delete(mod.derived, k)
			}
		}
		mod.filtersMu.Unlock()
	}
	if !keep {
		return every
	}
	return func(role string, compute func() *autograd.Var) *autograd.Var {
		k := derivedKey{W.Value, dir, role}
		mod.filtersMu.Lock()
		defer mod.filtersMu.Unlock()
		if t, ok := mod.derived[k]; ok {
			return autograd.Const(t)
		}
		v := compute()
		if mod.derived == nil {
			mod.derived = map[derivedKey]*tensor.Tensor{}
		}
		t := v.Value.Contiguous().Clone() // its own memory: not a view of a recycled value
		mod.derived[k] = t
		return autograd.Const(t)
	}
}

var _ nn.Module = (*Module)(nil)
var _ nn.Buffered = (*Module)(nil)

// cnode is a node compiled for execution.
type cnode struct {
	n     *Node
	run   kernel
	index int // position in the graph's node list
	// fused, when set, runs this node (a Conv) together with the
	// activation node actAt (a position in Module.nodes: a Relu, or a
	// Clip whose bounds are then read at run time) that alone reads its
	// output, producing the activation's output in one pass. Its inputs
	// are the Conv's (padded to three) followed by the activation's
	// after the first. run then runs the pair at the activation's place
	// (after any nodes in between, such as a Clip's Constant bounds,
	// none of which reads the Conv's output). It is not
	// used when a hook must see the Conv's output (Grad-CAM) or when the
	// Conv's output is wanted and the activation's is not.
	fused kernel
	actAt int
	// fusedNames are the values fused reads (see fuseConvAct and
	// fuseConvAdd); absorbed are the nodes between the Conv and actAt
	// that the fused step computes too (a residual block's Add).
	fusedNames []string
	absorbed   []int
}

// kernel runs one node: its inputs (nil for an omitted optional one) to
// its outputs (nil for an output that is not produced).
type kernel func(e *env, in []*val) []*val

// env is the state of one evaluation of the graph.
type env struct {
	tp    *autograd.Tape
	ctx   *nn.Ctx
	m     *Module
	batch int   // actual batch size (axis 0 of the Forward input), 0 unknown
	held  int64 // values held in node outputs so far, against m.maxActs
	// hook, when set, sees every node output as it is produced and may
	// replace it (Grad-CAM swaps in a leaf).
	hook func(name string, v *val) *val
}

// Import builds a module that runs m's graph. It checks every node: an
// operator (or attribute value) the importer does not implement is an
// error naming the operator, the model's opset and the node.
func Import(m *Model, opt ImportOptions) (*Module, error) {
	if m == nil || m.Graph == nil {
		return nil, fmt.Errorf("onnx: import: the model has no graph")
	}
	opset := m.Opset()
	if _, ok := m.Opsets[""]; !ok {
		if _, ok2 := m.Opsets["ai.onnx"]; ok2 {
			opset = m.Opsets["ai.onnx"]
		}
	}
	if _, ok := m.Opsets[""]; !ok && len(m.Opsets) > 0 {
		if _, ok2 := m.Opsets["ai.onnx"]; !ok2 {
			var ds []string
			for d := range m.Opsets {
				ds = append(ds, d)
			}
			slices.Sort(ds)
			return nil, fmt.Errorf("onnx: import: the model imports no ai.onnx opset, only the domains %s, which the importer does not implement", strings.Join(ds, ", "))
		}
	}
	if opset == 0 && len(m.Opsets) == 0 {
		opset = MinOpset // no opset_import: the oldest we know
	}
	if opset < MinOpset || opset > MaxOpset {
		return nil, fmt.Errorf("onnx: import: the model uses ai.onnx opset %d; the importer implements opsets %d to %d (re-export the model with one of them, e.g. torch.onnx.export(..., opset_version=17))", opset, MinOpset, MaxOpset)
	}
	g := m.Graph
	mod := &Module{model: m, opset: opset, name: g.Name, inits: map[string]*val{}, maxActs: opt.MaxActivationValues, frozen: opt.Frozen}

	// Initialisers.
	initNames := map[string]bool{}
	for _, t := range g.Initializers {
		if t == nil || t.Name == "" {
			return nil, fmt.Errorf("onnx: import: an initialiser has no name")
		}
		if initNames[t.Name] {
			return nil, fmt.Errorf("onnx: import: initialiser %q appears twice", t.Name)
		}
		initNames[t.Name] = true
	}
	// Inputs and outputs. With a chosen output (every module but one
	// imported with AllInputs), only the nodes it depends on are imported:
	// a ZipMap or a label ArgMax beside the probabilities does not matter.
	for _, in := range g.Inputs {
		if !initNames[in.Name] {
			mod.inputs = append(mod.inputs, in)
		}
	}
	for _, out := range g.Outputs {
		mod.outputs = append(mod.outputs, out.Name)
	}
	if err := mod.chooseOutput(opt); err != nil {
		return nil, err
	}
	wants := mod.outputs
	if mod.output != "" {
		wants = []string{mod.output}
	}
	for _, out := range g.Outputs {
		if slices.Contains(wants, out.Name) && out.Kind != KindTensor {
			return nil, fmt.Errorf("onnx: import: output %q is a %s; the importer produces tensors only", out.Name, out.Kind)
		}
	}
	need := make([]bool, len(g.Nodes))
	reads := map[string]bool{}
	for _, w := range wants {
		reads[w] = true
	}
	for i := len(g.Nodes) - 1; i >= 0; i-- {
		n := g.Nodes[i]
		if n == nil {
			return nil, fmt.Errorf("onnx: import: node %d is empty", i)
		}
		for _, o := range n.Outputs {
			if o != "" && reads[o] {
				need[i] = true
			}
		}
		if need[i] {
			for _, in := range n.Inputs {
				reads[in] = true
			}
		}
	}
	var active []*ValueInfo // the graph inputs the wanted outputs read
	for _, in := range mod.inputs {
		if reads[in.Name] || opt.AllInputs {
			if in.Kind != KindTensor {
				return nil, fmt.Errorf("onnx: import: input %q is a %s; the importer takes tensors only", in.Name, in.Kind)
			}
			active = append(active, in)
		}
	}
	if err := mod.chooseInput(opt, active); err != nil {
		return nil, err
	}

	// Initialisers: those float ones that reach a differentiable operand
	// are parameters, the other float ones buffers.
	trainable := map[string]bool{}
	usedInit := map[string]bool{}
	for i, n := range g.Nodes {
		def := ops[n.OpType]
		if !need[i] || def == nil {
			continue
		}
		for j, in := range n.Inputs {
			usedInit[in] = true
			if initNames[in] && !slices.Contains(def.nondiff, j) {
				trainable[in] = true
			}
		}
	}
	usedName := map[string]bool{}
	for _, t := range g.Initializers {
		v, err := tensorVal(t)
		if err != nil {
			return nil, fmt.Errorf("onnx: import: initialiser %q: %w", t.Name, err)
		}
		v.static = true
		if v.v != nil && (usedInit[t.Name] || slices.Contains(wants, t.Name)) {
			name := safeName(t.Name, usedName)
			if trainable[t.Name] {
				v.v = autograd.Param(v.v.Value, name)
				mod.params = append(mod.params, v.v)
			} else {
				v.v.Name = name
				mod.bufs = append(mod.bufs, v.v)
			}
		}
		mod.inits[t.Name] = v
		if v.v != nil {
			if mod.initTensors == nil {
				mod.initTensors = map[*tensor.Tensor]bool{}
			}
			mod.initTensors[v.v.Value] = true
		}
	}

	// Nodes.
	known := map[string]bool{}
	for name := range mod.inits {
		known[name] = true
	}
	for _, in := range mod.inputs {
		known[in.Name] = true
	}
	for i, n := range g.Nodes {
		if !need[i] {
			continue
		}
		label := nodeLabel(n, i)
		if n.Domain != "" && n.Domain != "ai.onnx" {
			return nil, fmt.Errorf("onnx: import: operator %s of domain %q (node %s) is not supported: the importer implements the default ai.onnx domain, opsets %d–%d", n.OpType, n.Domain, label, MinOpset, MaxOpset)
		}
		def := ops[n.OpType]
		if def == nil {
			return nil, fmt.Errorf("onnx: import: operator %s (opset %d, node %s) is not supported; onnx.SupportedOps lists the %d operators the importer implements", n.OpType, opset, label, len(ops))
		}
		for _, in := range n.Inputs {
			if in != "" && !known[in] {
				return nil, fmt.Errorf("onnx: import: node %s (%s) reads %q, which no earlier node, initialiser or graph input produces (the nodes must be in topological order)", label, n.OpType, in)
			}
		}
		c := &compiler{n: n, opset: opset, label: label}
		run, err := c.compile(def)
		if err != nil {
			return nil, err
		}
		for _, out := range n.Outputs {
			if out != "" {
				known[out] = true
			}
		}
		mod.nodes = append(mod.nodes, &cnode{n: n, run: run, index: i})
	}
	if err := mod.fuseConvAct(wants); err != nil {
		return nil, err
	}
	if err := mod.fuseConvAdd(wants); err != nil {
		return nil, err
	}
	if err := mod.fuseExpandDepthwise(wants); err != nil {
		return nil, err
	}
	for _, out := range wants {
		if !known[out] {
			return nil, fmt.Errorf("onnx: import: output %q is produced by no node", out)
		}
	}
	return mod, nil
}

// chooseOutput picks Forward's output: ImportOptions.Output (a graph
// output or any node's output), or the graph's only output.
func (mod *Module) chooseOutput(opt ImportOptions) error {
	switch {
	case opt.Output != "":
		found := slices.Contains(mod.outputs, opt.Output)
		for _, n := range mod.model.Graph.Nodes {
			found = found || (n != nil && slices.Contains(n.Outputs, opt.Output))
		}
		if !found {
			return fmt.Errorf("onnx: import: ImportOptions.Output %q is neither a graph output nor a node's output; the graph outputs are %s", opt.Output, strings.Join(mod.outputs, ", "))
		}
		mod.output = opt.Output
	case len(mod.outputs) == 1:
		mod.output = mod.outputs[0]
	case !opt.AllInputs:
		return fmt.Errorf("onnx: import: the graph has %d outputs: %s; name the one Forward returns in ImportOptions.Output", len(mod.outputs), strings.Join(mod.outputs, ", "))
	}
	return nil
}

// chooseInput picks Forward's input among the graph inputs the output
// reads (active): ImportOptions.Input, or the only one.
func (mod *Module) chooseInput(opt ImportOptions, active []*ValueInfo) error {
	names := func(vs []*ValueInfo) string {
		var s []string
		for _, in := range vs {
			s = append(s, fmt.Sprintf("%s (%s)", in.Name, describeInput(in)))
		}
		return strings.Join(s, ", ")
	}
	switch {
	case opt.Input != "":
		if !slices.ContainsFunc(mod.inputs, func(v *ValueInfo) bool { return v.Name == opt.Input }) {
			return fmt.Errorf("onnx: import: ImportOptions.Input %q is not a graph input; the inputs are %s", opt.Input, names(mod.inputs))
		}
		mod.input = opt.Input
		if !opt.AllInputs && (len(active) > 1 || (len(active) == 1 && active[0].Name != opt.Input)) {
			return fmt.Errorf("onnx: import: output %q reads the inputs %s; Forward feeds only %q: set ImportOptions.AllInputs and evaluate with Eval", mod.output, names(active), opt.Input)
		}
	case len(active) == 1:
		mod.input = active[0].Name
	case !opt.AllInputs:
		if len(active) == 0 {
			return fmt.Errorf("onnx: import: output %q reads no graph input (besides initialisers); a module needs exactly one", mod.output)
		}
		return fmt.Errorf("onnx: import: output %q reads %d inputs: %s; a glassbox module takes one: set ImportOptions.AllInputs and evaluate with Eval", mod.output, len(active), names(active))
	}
	if mod.input != "" {
		in := mod.inputs[slices.IndexFunc(mod.inputs, func(v *ValueInfo) bool { return v.Name == mod.input })]
		if in.Kind != KindTensor || (in.ElemType != Undefined && !isFloatType(in.ElemType) && !isIntType(in.ElemType)) {
			return fmt.Errorf("onnx: import: input %q has type %s; the importer takes float or integer tensors", in.Name, describeInput(in))
		}
		if len(in.Shape) > 0 && in.Shape[0].Param == "" && in.Shape[0].Value > 0 {
			mod.batch = int(in.Shape[0].Value)
		}
	}
	return nil
}

func describeInput(v *ValueInfo) string {
	var b strings.Builder
	b.WriteString(typeName(v.ElemType))
	b.WriteString("[")
	for i, d := range v.Shape {
		if i > 0 {
			b.WriteString(" ")
		}
		switch {
		case d.Param != "":
			b.WriteString(d.Param)
		case d.Value > 0:
			fmt.Fprint(&b, d.Value)
		default:
			b.WriteString("?")
		}
	}
	b.WriteString("]")
	return b.String()
}

// typeName names an element type as ONNX does ("float", "int64").
func typeName(d DataType) string {
	names := map[DataType]string{Undefined: "undefined", Float: "float", Uint8: "uint8", Int8: "int8",
		Uint16: "uint16", Int16: "int16", Int32: "int32", Int64: "int64", String: "string", Bool: "bool",
		Float16: "float16", Double: "double", Uint32: "uint32", Uint64: "uint64", Complex64: "complex64",
		Complex128: "complex128", BFloat16: "bfloat16"}
	if s, ok := names[d]; ok {
		return s
	}
	return fmt.Sprintf("type%d", int32(d))
}

func nodeLabel(n *Node, i int) string {
	if n.Name != "" {
		return fmt.Sprintf("%q", n.Name)
	}
	out := ""
	if len(n.Outputs) > 0 {
		out = n.Outputs[0]
	}
	return fmt.Sprintf("#%d (unnamed, output %q)", i, out)
}

// safeName makes an initialiser's name usable as a parameter name (as
// checkpoints store them): characters other than letters, digits and
// "._/-:" become "_", and a repeat gets a numeric suffix.
func safeName(s string, used map[string]bool) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("._/-:", r):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	name := b.String()
	if name == "" {
		name = "param"
	}
	base := name
	for i := 2; used[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	used[name] = true
	return name
}

// tensorVal turns an initialiser or a Constant's tensor into a value.
func tensorVal(t *Tensor) (*val, error) {
	shape := make([]int, len(t.Dims))
	n := int64(1)
	for i, d := range t.Dims {
		if d < 0 || d > math.MaxInt32 {
			return nil, fmt.Errorf("dimension %d of %v is out of range", i, t.Dims)
		}
		shape[i] = int(d)
		n *= d
		if n > maxElements {
			return nil, fmt.Errorf("shape %v is too large", t.Dims)
		}
	}
	switch {
	case isFloatType(t.DataType):
		if int64(len(t.Floats)) != n {
			return nil, fmt.Errorf("%s tensor of shape %v holds %d values, want %d", typeName(t.DataType), t.Dims, len(t.Floats), n)
		}
		return floatVal(autograd.Const(tensor.MustFromSlice(slices.Clone(t.Floats), shape...)), t.DataType), nil
	case isIntType(t.DataType):
		if int64(len(t.Ints)) != n {
			return nil, fmt.Errorf("%s tensor of shape %v holds %d values, want %d", typeName(t.DataType), t.Dims, len(t.Ints), n)
		}
		return intVal(slices.Clone(t.Ints), shape, t.DataType), nil
	}
	return nil, fmt.Errorf("element type %s is not supported (float, double, float16, bfloat16 and the integer and boolean types are)", typeName(t.DataType))
}

// Forward runs the graph on x, feeding the chosen input and returning the
// chosen output. An integer input (token ids) is given as whole-number
// float32 values. Shape problems panic with a *tensor.ShapeError naming
// the node, which nn.Apply turns into an error.
func (mod *Module) Forward(c *nn.Ctx, x *autograd.Var) *autograd.Var {
	if mod.input == "" || mod.output == "" {
		panic(&tensor.ShapeError{Op: "onnx", Msg: "the module was imported with AllInputs and no Input/Output chosen; evaluate it with Eval"})
	}
	if c == nil {
		c = nn.Eval()
	}
	e := &env{tp: c.Tape, ctx: c, m: mod}
	vals, err := mod.run(e, map[string]*autograd.Var{mod.input: x}, nil, []string{mod.output})
	if err != nil {
		// ShapeError puts its Op before the message: say "onnx:" once.
		panic(&tensor.ShapeError{Op: "onnx", Msg: strings.TrimPrefix(err.Error(), "onnx: ")})
	}
	return vals[mod.output].asVar()
}

// Params returns the trainable initialisers, in the graph's order.
func (mod *Module) Params() []*autograd.Var { return mod.params }

// Buffers returns the float initialisers that take no gradient (batch
// normalisation statistics and other non-differentiable operands).
func (mod *Module) Buffers() []*autograd.Var { return mod.bufs }

// Spec describes the imported graph. Its type "onnx" is not registered
// with nn.Build: an imported module is re-created by importing the file
// again, and a fine-tuned one is saved by exporting it to ONNX.
func (mod *Module) Spec() nn.Spec {
	type args struct {
		Graph    string `json:"graph,omitempty"`
		Producer string `json:"producer,omitempty"`
		Opset    int64  `json:"opset"`
		Nodes    int    `json:"nodes"`
		Input    string `json:"input,omitempty"`
		Output   string `json:"output,omitempty"`
	}
	return nn.MakeSpec("onnx", mod.name, args{Graph: mod.name, Producer: mod.model.ProducerName,
		Opset: mod.opset, Nodes: len(mod.nodes), Input: mod.input, Output: mod.output})
}

// Model returns the model the module was imported from.
func (mod *Module) Model() *Model { return mod.model }

// Opset returns the ai.onnx opset the module's graph uses.
func (mod *Module) Opset() int64 { return mod.opset }

// Inputs returns the graph's inputs (initialisers excluded).
func (mod *Module) Inputs() []*ValueInfo { return mod.inputs }

// Outputs returns the names of the graph's outputs.
func (mod *Module) Outputs() []string { return slices.Clone(mod.outputs) }

// Eval evaluates the graph in inference mode on the named inputs (every
// graph input that is not an initialiser) and returns every graph output.
// Tensors carry their ONNX element types: float data in Floats, integer
// and boolean data in Ints.
func (mod *Module) Eval(inputs map[string]*Tensor) (map[string]*Tensor, error) {
	ints := map[string]*val{}
	for name, t := range inputs {
		if t == nil {
			return nil, fmt.Errorf("onnx: eval: input %q is nil", name)
		}
		v, err := tensorVal(t)
		if err != nil {
			return nil, fmt.Errorf("onnx: eval: input %q: %w", name, err)
		}
		ints[name] = v
	}
	e := &env{tp: autograd.NoGrad(), ctx: nn.Eval(), m: mod}
	vals, err := mod.run(e, nil, ints, mod.outputs)
	if err != nil {
		return nil, err
	}
	out := map[string]*Tensor{}
	for _, name := range mod.outputs {
		v := vals[name]
		t := &Tensor{Name: name, DataType: v.dt, Dims: toInt64s(v.dims())}
		if v.v != nil {
			t.Floats = slices.Clone(v.v.Value.Data())
		} else {
			t.Ints = slices.Clone(v.ints)
		}
		out[name] = t
	}
	return out, nil
}

// run evaluates the nodes needed for wants. Float inputs come as Vars
// (Forward) or values (Eval).
func (mod *Module) run(e *env, vars map[string]*autograd.Var, given map[string]*val, wants []string) (res map[string]*val, err error) {
	vals := map[string]*val{}
	for _, in := range mod.inputs {
		var v *val
		if x, ok := vars[in.Name]; ok {
			var err error
			if v, err = mod.inputVar(in, x); err != nil {
				return nil, err
			}
		} else if g, ok := given[in.Name]; ok {
			v = g
			if isFloatType(in.ElemType) && v.v == nil {
				v = floatVal(v.asVar(), in.ElemType)
			}
		}
		if v == nil {
			continue // an error only if a needed node reads it
		}
		if _, fwd := vars[in.Name]; fwd {
			if err := checkInput(in, v.dims()); err != nil {
				return nil, err
			}
		}
		if in.Name == mod.input || (mod.input == "" && e.batch == 0 && len(v.dims()) > 0) {
			if len(v.dims()) > 0 {
				e.batch = v.dims()[0]
			}
		}
		vals[in.Name] = v
	}
	recycle := !e.tp.Recording() && e.hook == nil
	sc := mod.scheduleFor(wants, e.hook == nil, recycle)
	plan, lastUse := sc.plan, sc.lastUse
	// produced holds the live values the nodes made: only their memory can
	// be shared with a dead value's (initialisers and inputs have their own).
	produced := map[string]*val{}
	var held []*tensor.Tensor // dead owners a live view still reads (releaseDead)
	// get finds a value: the nodes' outputs and the inputs are in vals,
	// the initialisers in mod.inits (never copied for a call).
	get := func(name string) (*val, bool) {
		if v, ok := vals[name]; ok {
			return v, true
		}
		v, ok := mod.inits[name]
		return v, ok
	}
	for i, st := range plan {
		if st == nil {
			continue
		}
		in := make([]*val, len(st.names))
		static := true
		for j, name := range st.names {
			if name == "" {
				continue
			}
			v, ok := get(name)
			if !ok {
				return nil, fmt.Errorf("onnx: node %s (%s) needs %q, which was not given (graph inputs: %s)", nodeLabel(st.cn.n, st.cn.index), st.cn.n.OpType, name, mod.inputNames())
			}
			in[j] = v
			static = static && v.static
		}
		outs, err := runNode(e, st.cn.n, st.run, st.cn.index, in)
		if err != nil {
			return nil, err
		}
		if err := e.hold(st.n, st.cn.index, outs); err != nil {
			return nil, err
		}
		for j, name := range st.n.Outputs {
			if name == "" || j >= len(outs) || outs[j] == nil {
				continue
			}
			v := outs[j]
			if static && v.v == nil {
				v.static = true
			}
			if e.hook != nil {
				v = e.hook(name, v)
			}
			vals[name] = v
			if recycle {
				produced[name] = v
			}
		}
		if recycle {
			held = releaseDead(vals, produced, lastUse, i, st.names, st.n.Outputs, held)
		}
	}
	res = map[string]*val{}
	for _, w := range wants {
		v, ok := get(w)
		if !ok {
			return nil, fmt.Errorf("onnx: output %q was not produced (a node with an optional output left it out)", w)
		}
		res[w] = v
	}
	return res, nil
}

// step is one kernel call of a run: a node, or a Conv with the activation
// fused into it (see fuseConvAct).
type step struct {
	cn    *cnode // the node errors name (the Conv of a fused pair)
	n     *Node  // the node whose outputs it writes
	run   kernel
	names []string // the values it reads
}

// schedule is what run works out from the graph alone for one set of
// wanted outputs: the steps (nil for nodes not needed or run fused
// into a later one) and, when values are recycled, the step after which
// each value is dead (len(plan): never, as for initialisers, inputs and
// wanted outputs). Working it out for every call cost a batch-1
// MobileNetV2 (170 nodes, 300 initialisers) half a millisecond.
type schedule struct {
	plan    []*step
	lastUse map[string]int
}

type schedKey struct {
	wants         string
	fuse, recycle bool
}

// maxSchedules bounds the schedules kept (Grad-CAM asks for layers by
// name: a server could ask for many).
const maxSchedules = 64

// scheduleFor returns the schedule of wants, made once: fuse says a Conv
// and its activation may run as one step (no hook needs to see the
// Conv's own output; nor may wants ask for it), recycle that the run
// hands dead values back.
func (mod *Module) scheduleFor(wants []string, fuse, recycle bool) *schedule {
	key := schedKey{strings.Join(wants, "\x00"), fuse, recycle}
	mod.schedMu.Lock()
	defer mod.schedMu.Unlock()
	if sc := mod.scheds[key]; sc != nil {
		return sc
	}
	need := mod.needed(wants)
	// fusedAt[j] is 1 + the Conv run fused into activation node j: the
	// pair runs at the activation's place, after the nodes between them
	// (such as the Constant bounds of a Clip).
	fusedAt := make([]int, len(mod.nodes))
	skip := make([]bool, len(mod.nodes))
	plan := make([]*step, len(mod.nodes))
	for i, cn := range mod.nodes {
		if !need[i] || skip[i] {
			continue
		}
		if cn.fused != nil && fuse && need[cn.actAt] && !mod.fusedWanted(cn, wants) {
			fusedAt[cn.actAt] = i + 1
			for _, j := range cn.absorbed {
				skip[j] = true
			}
			continue
		}
		st := &step{cn: cn, n: cn.n, run: cn.run, names: cn.n.Inputs}
		if c := fusedAt[i]; c > 0 {
			// The activation's output, produced by the Conv's fused
			// kernel; errors name the Conv.
			conv := mod.nodes[c-1]
			st.run, st.cn, st.names = conv.fused, conv, conv.fusedNames
		}
		plan[i] = st
	}
	sc := &schedule{plan: plan}
	// Without a recording tape nothing refers to a node's output once its
	// last reader has run, so its memory goes back for the next outputs
	// (tensor.Recycle), as onnxruntime plans its arena: fresh memory costs
	// page faults and zeroing, and an inference reused none of it.
	if recycle {
		lastUse := map[string]int{}
		for i, st := range plan {
			if st == nil {
				continue
			}
			for _, name := range st.names {
				lastUse[name] = i
			}
			for _, name := range st.n.Outputs {
				if _, ok := lastUse[name]; !ok {
					lastUse[name] = i // read by nobody: dead once written
				}
			}
		}
		for _, w := range wants {
			lastUse[w] = len(plan) // never before the end
		}
		for name := range mod.inits {
			lastUse[name] = len(plan) // initialisers and inputs are not ours
		}
		for _, in := range mod.inputs {
			lastUse[in.Name] = len(plan)
		}
		sc.lastUse = lastUse
	}
	if mod.scheds == nil || len(mod.scheds) >= maxSchedules {
		mod.scheds = map[schedKey]*schedule{}
	}
	mod.scheds[key] = sc
	return sc
}

// fusedWanted reports whether wants asks for a value that the fused step
// of cn does not produce: the Conv's output, or an absorbed node's.
func (mod *Module) fusedWanted(cn *cnode, wants []string) bool {
	if slices.Contains(wants, cn.n.Outputs[0]) {
		return true
	}
	for _, j := range cn.absorbed {
		if slices.ContainsFunc(mod.nodes[j].n.Outputs, func(o string) bool { return o != "" && slices.Contains(wants, o) }) {
			return true
		}
	}
	return false
}

// releaseDead hands back the float values whose last reader was step i
// (among names, what it read, and outputs, what it wrote), keeping
// whatever shares memory with a value still alive: of those, only what
// the nodes produced can (produced, kept in step with vals). held are the
// dead values an earlier call kept for a live view of them; it returns
// those it keeps now.
func releaseDead(vals, produced map[string]*val, lastUse map[string]int, i int, names, outputs []string, held []*tensor.Tensor) []*tensor.Tensor {
	dead := held // dead before, kept then for a live view of them
	for _, group := range [2][]string{names, outputs} {
		for _, name := range group {
			v, ok := vals[name]
			if name == "" || !ok || lastUse[name] != i {
				continue
			}
			delete(vals, name)
			delete(produced, name)
			if v.v != nil && v.v.Value.Len() >= 1024 { // smaller ones are not recycled
				dead = append(dead, v.v.Value)
			}
		}
	}
	if len(dead) == 0 {
		return nil
	}
	keep := make([]*tensor.Tensor, 0, len(produced))
	for _, v := range produced {
		if v.v != nil {
			keep = append(keep, v.v.Value)
		}
	}
	// A dead value that a live one views (a Transpose's output) is held
	// and offered again at the next release, until the view is gone too.
	return tensor.RecycleOrHold(dead, keep)
}

func (mod *Module) inputNames() string {
	var s []string
	for _, in := range mod.inputs {
		s = append(s, in.Name)
	}
	return strings.Join(s, ", ")
}

// needed marks the nodes that the wanted values depend on.
func (mod *Module) needed(wants []string) []bool {
	need := make([]bool, len(mod.nodes))
	want := map[string]bool{}
	for _, w := range wants {
		want[w] = true
	}
	for i := len(mod.nodes) - 1; i >= 0; i-- {
		n := mod.nodes[i].n
		for _, o := range n.Outputs {
			if o != "" && want[o] {
				need[i] = true
				break
			}
		}
		if need[i] {
			for _, in := range n.Inputs {
				want[in] = true
			}
		}
	}
	return need
}

// inputVar turns Forward's x into the value of graph input in: integer
// inputs (token ids) arrive as whole-number floats.
func (mod *Module) inputVar(in *ValueInfo, x *autograd.Var) (v *val, err error) {
	if !isIntType(in.ElemType) {
		return floatVal(x, in.ElemType), nil
	}
	defer func() {
		if r := recover(); r != nil {
			oe, ok := r.(*opError)
			if !ok {
				panic(r)
			}
			err = fmt.Errorf("onnx: %s", oe.msg)
		}
	}()
	ids := (&val{v: autograd.Const(x.Value)}).asInts(fmt.Sprintf("input %q (%s ids)", in.Name, typeName(in.ElemType)))
	return intVal(ids, x.Value.Shape(), in.ElemType), nil
}

// checkInput compares an input's shape with the graph's declaration: the
// rank and every fixed size except the batch axis must match.
func checkInput(in *ValueInfo, got []int) error {
	if in.Shape == nil {
		return nil
	}
	if len(got) != len(in.Shape) {
		return fmt.Errorf("onnx: input %q has shape %v; the graph declares %s (rank %d)", in.Name, got, describeInput(in), len(in.Shape))
	}
	for i, d := range in.Shape {
		if i == 0 || d.Param != "" || d.Value <= 0 {
			continue
		}
		if int64(got[i]) != d.Value {
			return fmt.Errorf("onnx: input %q has shape %v; the graph declares %s: axis %d must be %d", in.Name, got, describeInput(in), i, d.Value)
		}
	}
	return nil
}

// runNode runs one node, turning a kernel's panic into an error that
// names the node.
func runNode(e *env, n *Node, run kernel, i int, in []*val) (outs []*val, err error) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		where := fmt.Sprintf("node %s (%s, opset %d)", nodeLabel(n, i), n.OpType, e.m.opset)
		switch x := r.(type) {
		case *opError:
			err = fmt.Errorf("onnx: %s: %s", where, x.msg)
		case *unsupportedRT:
			err = fmt.Errorf("onnx: %s: not supported: %s", where, x.msg)
		case *tensor.ShapeError:
			err = fmt.Errorf("onnx: %s: %s", where, x.Error())
		default:
			panic(r)
		}
	}()
	outs = run(e, in)
	return outs, nil
}

// SupportedOps lists the ai.onnx operators the importer implements, sorted.
func SupportedOps() []string { return slices.Sorted(maps.Keys(ops)) }

// hold counts a node's outputs against the module's activation budget,
// scaled by the batch: a graph that keeps asking for more is stopped
// after the node that crossed the line, before the next one allocates.
func (e *env) hold(n *Node, index int, outs []*val) error {
	for _, v := range outs {
		if v == nil {
			continue
		}
		if v.v != nil {
			e.held += int64(v.v.Value.Len())
		} else {
			e.held += int64(len(v.ints))
		}
	}
	limit := e.m.maxActs
	if limit <= 0 {
		limit = DefaultMaxActivationValues
	}
	if b := int64(max(e.batch, 1)); e.held > limit*b {
		return fmt.Errorf("onnx: node %s (%s): the graph's values reach %d for a batch of %d, over the bound of %d per example (ImportOptions.MaxActivationValues)",
			nodeLabel(n, index), n.OpType, e.held, b, limit)
	}
	return nil
}
