package nn

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/optim"
	"github.com/glassbox-ml/glassbox/tensor"
)

// recurrentLayer is what the tests need of RNN, LSTM and GRU.
type recurrentLayer interface {
	Module
	Named
	ForwardState(c *Ctx, x *autograd.Var, init *RecurrentState) (*autograd.Var, *RecurrentState)
}

// recurrentKinds builds each layer type with the given options.
var recurrentKinds = []struct {
	kind  string
	gates int
	cell  bool // has a cell state (LSTM)
	new   func(in, hidden int, rng *rand.Rand, opts ...RecurrentOption) recurrentLayer
	ws    func(m recurrentLayer) []RecurrentWeights
}{
	{"rnn", 1, false, func(in, h int, rng *rand.Rand, o ...RecurrentOption) recurrentLayer { return NewRNN(in, h, rng, o...) },
		func(m recurrentLayer) []RecurrentWeights { return m.(*RNN).Layers }},
	{"lstm", 4, true, func(in, h int, rng *rand.Rand, o ...RecurrentOption) recurrentLayer { return NewLSTM(in, h, rng, o...) },
		func(m recurrentLayer) []RecurrentWeights { return m.(*LSTM).Layers }},
	{"gru", 3, false, func(in, h int, rng *rand.Rand, o ...RecurrentOption) recurrentLayer { return NewGRU(in, h, rng, o...) },
		func(m recurrentLayer) []RecurrentWeights { return m.(*GRU).Layers }},
}

func sig64(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// refRecurrent runs a stacked recurrent layer in float64, straight from
// the formulas in the layers' doc comments. x is [B, T, in]; h0 and c0 are
// per-layer initial states or nil. It returns the top layer's hidden
// states [B][T][H] and each layer's final h and c.
func refRecurrent(kind string, ws []RecurrentWeights, x *tensor.Tensor, h0, c0 []*tensor.Tensor) (out [][][]float64, hT, cT [][][]float64) {
	bsz, steps := x.Dim(0), x.Dim(1)
	seq := make([][][]float64, bsz)
	xd := x.Data()
	in := x.Dim(2)
	for b := range seq {
		seq[b] = make([][]float64, steps)
		for t := range seq[b] {
			seq[b][t] = make([]float64, in)
			for i := range seq[b][t] {
				seq[b][t][i] = float64(xd[(b*steps+t)*in+i])
			}
		}
	}
	for l, w := range ws {
		hsz := w.WHH.Value.Dim(0)
		gw := w.WHH.Value.Dim(1)
		wih, whh, bias := w.WIH.Value.Data(), w.WHH.Value.Data(), w.Bias.Value.Data()
		var bhh []float32
		if w.BiasHH != nil {
			bhh = w.BiasHH.Value.Data()
		}
		layerIn := len(seq[0][0])
		next := make([][][]float64, bsz)
		var hl, cl [][]float64
		for b := 0; b < bsz; b++ {
			h := make([]float64, hsz)
			c := make([]float64, hsz)
			if h0 != nil && h0[l] != nil {
				for j := range h {
					h[j] = float64(h0[l].At(b, j))
				}
			}
			if c0 != nil && c0[l] != nil {
				for j := range c {
					c[j] = float64(c0[l].At(b, j))
				}
			}
			next[b] = make([][]float64, steps)
			for t := 0; t < steps; t++ {
				xg := make([]float64, gw) // x·W_ih + bias
				hg := make([]float64, gw) // h·W_hh (+ b_hh)
				for k := 0; k < gw; k++ {
					xg[k] = float64(bias[k])
					for i := 0; i < layerIn; i++ {
						xg[k] += seq[b][t][i] * float64(wih[i*gw+k])
					}
					if bhh != nil {
						hg[k] = float64(bhh[k])
					}
					for j := 0; j < hsz; j++ {
						hg[k] += h[j] * float64(whh[j*gw+k])
					}
				}
				nh := make([]float64, hsz)
				for j := 0; j < hsz; j++ {
					switch kind {
					case "rnn":
						nh[j] = math.Tanh(xg[j] + hg[j])
					case "lstm":
						p := func(g int) float64 { return xg[g*hsz+j] + hg[g*hsz+j] }
						i, f, g, o := sig64(p(0)), sig64(p(1)), math.Tanh(p(2)), sig64(p(3))
						c[j] = f*c[j] + i*g
						nh[j] = o * math.Tanh(c[j])
					case "gru":
						r := sig64(xg[j] + hg[j])
						z := sig64(xg[hsz+j] + hg[hsz+j])
						n := math.Tanh(xg[2*hsz+j] + r*hg[2*hsz+j])
						nh[j] = (1-z)*n + z*h[j]
					}
				}
				h = nh
				next[b][t] = nh
			}
			hl = append(hl, h)
			cl = append(cl, c)
		}
		seq = next
		hT = append(hT, hl)
		cT = append(cT, cl)
	}
	return seq, hT, cT
}

func closeTo(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i])-want[i]) > tol {
			t.Fatalf("%s: element %d = %v, want %v", what, i, got[i], want[i])
		}
	}
}

func flat3(a [][][]float64) []float64 {
	var out []float64
	for _, x := range a {
		for _, y := range x {
			out = append(out, y...)
		}
	}
	return out
}

// TestRecurrentMatchesReference checks every layer type, stacked two high,
// against the float64 reference, in both output modes and from a given
// initial state, including the final states ForwardState returns.
func TestRecurrentMatchesReference(t *testing.T) {
	const bsz, steps, in, hsz = 3, 5, 4, 6
	for _, k := range recurrentKinds {
		t.Run(k.kind, func(t *testing.T) {
			rng := tensor.NewRNG(7)
			m := k.new(in, hsz, rng, RecurrentLayers(2), ReturnSequences())
			// Non-zero biases everywhere, so a bias in the wrong place shows.
			for _, p := range m.Params() {
				if p.Value.Rank() == 1 {
					p.Value.CopyFrom(tensor.RandN(rng, 0, 0.5, p.Value.Shape()...))
				}
			}
			x := tensor.RandN(rng, 0, 1, bsz, steps, in)
			var h0, c0 []*tensor.Tensor
			init := &RecurrentState{}
			for l := 0; l < 2; l++ {
				h0 = append(h0, tensor.RandN(rng, 0, 0.5, bsz, hsz))
				init.H = append(init.H, autograd.Const(h0[l]))
				if k.cell {
					c0 = append(c0, tensor.RandN(rng, 0, 0.5, bsz, hsz))
					init.C = append(init.C, autograd.Const(c0[l]))
				}
			}
			want, wantH, wantC := refRecurrent(k.kind, k.ws(m), x, h0, c0)
			y, st := m.ForwardState(Eval(), autograd.Const(x), init)
			if !tensor.SameShape(y.Shape(), []int{bsz, steps, hsz}) {
				t.Fatalf("ReturnSequences output shape %v, want [%d %d %d]", y.Shape(), bsz, steps, hsz)
			}
			closeTo(t, "hidden states", y.Value.Data(), flat3(want), 2e-5)
			for l := 0; l < 2; l++ {
				closeTo(t, "final h", st.H[l].Value.Data(), flat3([][][]float64{wantH[l]}), 2e-5)
				if k.cell {
					closeTo(t, "final c", st.C[l].Value.Data(), flat3([][][]float64{wantC[l]}), 2e-5)
				} else if len(st.C) != 0 {
					t.Fatalf("%s returned a cell state", k.kind)
				}
			}
			// Zero state, last step only.
			want, _, _ = refRecurrent(k.kind, k.ws(m), x, nil, nil)
			m2 := k.new(in, hsz, tensor.NewRNG(1), RecurrentLayers(2))
			for i, p := range m2.Params() {
				p.Value.CopyFrom(m.Params()[i].Value)
			}
			y = m2.Forward(Train(tensor.NewRNG(1)), autograd.Const(x))
			if !tensor.SameShape(y.Shape(), []int{bsz, hsz}) {
				t.Fatalf("output shape %v, want [%d %d]", y.Shape(), bsz, hsz)
			}
			var last []float64
			for b := 0; b < bsz; b++ {
				last = append(last, want[b][steps-1]...)
			}
			closeTo(t, "last hidden state", y.Value.Data(), last, 2e-5)
		})
	}
}

// swapWeights points the layer's weights at vars (in Params order) and
// returns a function that restores the originals.
func swapWeights(ws []RecurrentWeights, vars []*autograd.Var) func() {
	saved := append([]RecurrentWeights(nil), ws...)
	i := 0
	next := func() *autograd.Var { i++; return vars[i-1] }
	for l := range ws {
		ws[l].WIH, ws[l].WHH, ws[l].Bias = next(), next(), next()
		if ws[l].BiasHH != nil {
			ws[l].BiasHH = next()
		}
	}
	return func() { copy(ws, saved) }
}

// TestRecurrentGradCheck checks with autograd.GradCheck, through T = 4
// steps of a 2-layer stack, the gradients of the output sequence and
// final states w.r.t. the input, every weight of both layers and the
// initial states.
func TestRecurrentGradCheck(t *testing.T) {
	const bsz, steps, in, hsz = 2, 4, 3, 4
	for _, k := range recurrentKinds {
		t.Run(k.kind, func(t *testing.T) {
			rng := tensor.NewRNG(11)
			m := k.new(in, hsz, rng, RecurrentLayers(2), ReturnSequences())
			ws := k.ws(m)
			inputs := []*tensor.Tensor{tensor.RandN(rng, 0, 1, bsz, steps, in)}
			for _, p := range m.Params() {
				v := p.Value.Clone()
				if v.Rank() == 1 {
					v = tensor.RandN(rng, 0, 0.5, v.Shape()...)
				}
				inputs = append(inputs, v)
			}
			np := len(m.Params())
			nstate := 2
			if k.cell {
				nstate = 4
			}
			for range nstate {
				inputs = append(inputs, tensor.RandN(rng, 0, 0.5, bsz, hsz))
			}
			f := func(tp *autograd.Tape, xs []*autograd.Var) *autograd.Var {
				defer swapWeights(ws, xs[1:1+np])()
				st := xs[1+np:]
				init := &RecurrentState{H: st[:2]}
				if k.cell {
					init.C = st[2:4]
				}
				y, fin := m.ForwardState(&Ctx{Tape: tp}, xs[0], init)
				parts := []*autograd.Var{tp.Reshape(y, bsz, steps*hsz)}
				parts = append(parts, fin.H...)
				parts = append(parts, fin.C...)
				return tp.Concat(1, parts...)
			}
			if err := autograd.GradCheck(f, inputs, 1e-2, 2e-2, 2e-3); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestRecurrentStateCarriesAcrossCalls feeds a sequence in two pieces,
// carrying the state, and expects the same outputs as in one piece.
func TestRecurrentStateCarriesAcrossCalls(t *testing.T) {
	for _, k := range recurrentKinds {
		t.Run(k.kind, func(t *testing.T) {
			rng := tensor.NewRNG(3)
			m := k.new(2, 5, rng, RecurrentLayers(2), ReturnSequences())
			x := tensor.RandN(rng, 0, 1, 2, 7, 2)
			whole, stWhole := m.ForwardState(Eval(), autograd.Const(x), nil)
			a, st := m.ForwardState(Eval(), autograd.Const(x.Slice(1, 0, 3).Contiguous()), nil)
			b, st2 := m.ForwardState(Eval(), autograd.Const(x.Slice(1, 3, 7).Contiguous()), st.Detach())
			joined := tensor.Concat(1, a.Value, b.Value)
			if !tensor.AllClose(joined, whole.Value, 1e-6, 1e-6) {
				t.Fatalf("two pieces give %v, one piece %v", joined, whole.Value)
			}
			for l := range stWhole.H {
				if !tensor.AllClose(st2.H[l].Value, stWhole.H[l].Value, 1e-6, 1e-6) {
					t.Fatalf("final state of layer %d differs", l)
				}
			}
			// A non-contiguous (transposed) input gives the same result.
			xt := x.Transpose(1, 0, 2).Contiguous().Transpose(1, 0, 2)
			if xt.IsContiguous() {
				t.Fatal("test setup: input should be a strided view")
			}
			if y := m.Forward(Eval(), autograd.Const(xt)); !tensor.AllClose(y.Value, whole.Value, 0, 0) {
				t.Fatal("a strided input view gives a different output")
			}
			// A nil Ctx runs without recording, like Eval.
			if y := m.Forward(nil, autograd.Const(x)); !tensor.AllClose(y.Value, whole.Value, 0, 0) {
				t.Fatal("a nil Ctx gives a different output")
			}
		})
	}
}

func TestRecurrentInitialisation(t *testing.T) {
	const in, hsz = 10, 8
	for _, k := range recurrentKinds {
		t.Run(k.kind, func(t *testing.T) {
			m := k.new(in, hsz, tensor.NewRNG(5), RecurrentLayers(2))
			for l, w := range k.ws(m) {
				lin := in
				if l > 0 {
					lin = hsz
				}
				gw := k.gates * hsz
				limit := math.Sqrt(6 / float64(lin+gw))
				var sumSq float64
				for _, v := range w.WIH.Value.Data() {
					if math.Abs(float64(v)) > limit {
						t.Fatalf("layer %d: w_ih value %v outside the Glorot limit ±%.4f", l, v, limit)
					}
					sumSq += float64(v) * float64(v)
				}
				if got, want := sumSq/float64(lin*gw), limit*limit/3; math.Abs(got-want) > 0.25*want {
					t.Fatalf("layer %d: w_ih variance %.4f, want ≈ %.4f (Glorot uniform)", l, got, want)
				}
				// Each gate's H×H block of w_hh is orthogonal: BᵀB = I.
				whh := w.WHH.Value
				for g := 0; g < k.gates; g++ {
					blk := whh.Slice(1, g*hsz, (g+1)*hsz).Contiguous()
					prod := tensor.MatMul(blk.Transpose(), blk)
					for i := 0; i < hsz; i++ {
						for j := 0; j < hsz; j++ {
							want := 0.0
							if i == j {
								want = 1
							}
							if math.Abs(float64(prod.At(i, j))-want) > 1e-5 {
								t.Fatalf("layer %d gate %d: (BᵀB)[%d,%d] = %v, want %v", l, g, i, j, prod.At(i, j), want)
							}
						}
					}
				}
				for i, v := range w.Bias.Value.Data() {
					want := float32(0)
					if k.kind == "lstm" && i >= hsz && i < 2*hsz {
						want = 1 // forget gate
					}
					if v != want {
						t.Fatalf("layer %d: bias[%d] = %v, want %v", l, i, v, want)
					}
				}
				if (w.BiasHH != nil) != (k.kind == "gru") {
					t.Fatalf("layer %d: BiasHH present = %v, want it only for the GRU", l, w.BiasHH != nil)
				}
			}
		})
	}
}

func TestRecurrentParamNames(t *testing.T) {
	want := map[string][]string{
		"rnn":  {"l0/w_ih", "l0/w_hh", "l0/bias", "l1/w_ih", "l1/w_hh", "l1/bias"},
		"lstm": {"l0/w_ih", "l0/w_hh", "l0/bias", "l1/w_ih", "l1/w_hh", "l1/bias"},
		"gru":  {"l0/w_ih", "l0/w_hh", "l0/b_ih", "l0/b_hh", "l1/w_ih", "l1/w_hh", "l1/b_ih", "l1/b_hh"},
	}
	for _, k := range recurrentKinds {
		m := k.new(3, 4, tensor.NewRNG(1), RecurrentLayers(2))
		m.SetName(k.kind + "1")
		ps := m.Params()
		if len(ps) != len(want[k.kind]) {
			t.Fatalf("%s: %d params, want %d", k.kind, len(ps), len(want[k.kind]))
		}
		for i, p := range ps {
			if w := k.kind + "1/" + want[k.kind][i]; p.Name != w {
				t.Fatalf("%s: param %d named %q, want %q", k.kind, i, p.Name, w)
			}
		}
		// In a Sequential an unnamed layer is named after its type and position.
		s := NewSequential(k.new(3, 4, tensor.NewRNG(1)))
		if got := s.Params()[0].Name; got != k.kind+"0/l0/w_ih" {
			t.Fatalf("%s in a Sequential: first param %q, want %q", k.kind, got, k.kind+"0/l0/w_ih")
		}
	}
}

func TestRecurrentShapeErrors(t *testing.T) {
	for _, k := range recurrentKinds {
		t.Run(k.kind, func(t *testing.T) {
			m := k.new(3, 4, tensor.NewRNG(1), RecurrentLayers(2))
			m.SetName("enc")
			cases := []struct {
				x    *tensor.Tensor
				init *RecurrentState
				want []string
			}{
				{tensor.New(2, 5, 7), nil, []string{k.kind + ` "enc"`, "7 features", "[batch, seq, 3]"}},
				{tensor.New(2, 3), nil, []string{"[batch, seq, 3]", "sequence axis"}},
				{tensor.New(2, 5), nil, []string{"[batch, seq, 3]", "Embedding"}},
				{tensor.New(2, 5, 3, 1), nil, []string{"[batch, seq, 3]"}},
				{tensor.New(2, 0, 3), nil, []string{"sequence is empty"}},
				{tensor.New(2, 5, 3), &RecurrentState{H: []*autograd.Var{autograd.Const(tensor.New(2, 4))}}, []string{"one per layer (2)"}},
				{tensor.New(2, 5, 3), &RecurrentState{H: []*autograd.Var{autograd.Const(tensor.New(2, 4)), autograd.Const(tensor.New(3, 4))}}, []string{"H[1]", "[batch, hidden] = [2, 4]"}},
			}
			for _, c := range cases {
				err := tensor.Catch(func() { m.ForwardState(Eval(), autograd.Const(c.x), c.init) })
				var se *tensor.ShapeError
				if !errors.As(err, &se) {
					t.Fatalf("input %v: got %v, want a ShapeError", c.x.Shape(), err)
				}
				for _, w := range c.want {
					if !strings.Contains(err.Error(), w) {
						t.Fatalf("input %v: error %q does not mention %q", c.x.Shape(), err, w)
					}
				}
			}
			if _, err := Apply(m, Eval(), tensor.New(2, 5, 2)); err == nil {
				t.Fatal("Apply with 2 features: no error")
			}
			cellErr := tensor.Catch(func() {
				m.ForwardState(Eval(), autograd.Const(tensor.New(2, 5, 3)), &RecurrentState{C: []*autograd.Var{nil, nil}})
			})
			if k.cell != (cellErr == nil) {
				t.Fatalf("a cell state given to %s: error %v", k.kind, cellErr)
			}
			if err := tensor.Catch(func() { k.new(3, 0, tensor.NewRNG(1)) }); err == nil || !strings.Contains(err.Error(), "hidden=0") {
				t.Fatalf("hidden 0: got %v, want an error naming it", err)
			}
			if _, err := Build(MakeSpec(k.kind, "x", recurrentArgs{Input: 3, Hidden: 4, Layers: 0}), tensor.NewRNG(1)); err == nil || !strings.Contains(err.Error(), "layers=0") {
				t.Fatalf("Build with 0 layers: got %v, want an error naming it", err)
			}
		})
	}
}

// addingBatch draws n sequences of the adding problem: each step carries
// a value in [0, 1) and a marker; exactly two steps are marked, one in
// each half, and the target is the sum of the two marked values. The mean
// predictor scores MSE 1/6 ≈ 0.167; a model that only knows one of the
// two values (or the sum of all values) cannot get below 1/12 ≈ 0.083.
func addingBatch(rng *rand.Rand, n, steps int) (*tensor.Tensor, *tensor.Tensor) {
	x := tensor.New(n, steps, 2)
	y := tensor.New(n, 1)
	xd, yd := x.Data(), y.Data()
	for i := 0; i < n; i++ {
		for t := 0; t < steps; t++ {
			xd[(i*steps+t)*2] = rng.Float32()
		}
		a, b := rng.IntN(steps/2), steps/2+rng.IntN(steps/2)
		for _, t := range []int{a, b} {
			xd[(i*steps+t)*2+1] = 1
			yd[i] += xd[(i*steps+t)*2]
		}
	}
	return x, y
}

// trainAdding trains m plus a linear head on the adding problem with Adam
// and returns the MSE on fresh sequences.
func trainAdding(t *testing.T, m Module, hidden, iters int) float64 {
	t.Helper()
	const steps, batch = 20, 32
	rng := tensor.NewRNG(21)
	head := autograd.Param(GlorotUniform(rng, hidden, 1, hidden, 1), "head/weight")
	hb := autograd.Param(tensor.Full(1, 1), "head/bias")
	params := append(m.Params(), head, hb)
	opt, err := optim.NewAdam(params, 1e-2)
	if err != nil {
		t.Fatal(err)
	}
	predict := func(c *Ctx, x *tensor.Tensor) *autograd.Var {
		return c.Tape.Add(c.Tape.MatMul(m.Forward(c, autograd.Const(x)), head), hb)
	}
	mse := func(tp *autograd.Tape, p *autograd.Var, y *tensor.Tensor) *autograd.Var {
		return tp.Mean(tp.Square(tp.Sub(p, autograd.Const(y))), false)
	}
	for it := 0; it < iters; it++ {
		x, y := addingBatch(rng, batch, steps)
		c := Train(rng)
		loss := mse(c.Tape, predict(c, x), y)
		opt.ZeroGrad()
		if err := c.Tape.Backward(loss); err != nil {
			t.Fatal(err)
		}
		if err := opt.Step(); err != nil {
			t.Fatal(err)
		}
	}
	x, y := addingBatch(tensor.NewRNG(99), 1000, steps)
	c := Eval()
	return float64(mse(c.Tape, predict(c, x), y).Value.Item())
}

// TestRecurrentLearnsAddingProblem trains an LSTM and a GRU on the adding
// problem (T = 20): both must reach an MSE far below what any memoryless
// or one-value model can (1/12 ≈ 0.083), which needs memory across the
// sequence.
func TestRecurrentLearnsAddingProblem(t *testing.T) {
	const hidden, iters, bar = 24, 600, 0.01
	for _, k := range recurrentKinds[1:] {
		t.Run(k.kind, func(t *testing.T) {
			got := trainAdding(t, k.new(2, hidden, tensor.NewRNG(4)), hidden, iters)
			t.Logf("%s: test MSE %.5f after %d steps (mean predictor 0.167)", k.kind, got, iters)
			if got > bar {
				t.Fatalf("%s: test MSE %.4f after %d steps, want < %v (mean predictor: 0.167)", k.kind, got, iters, bar)
			}
		})
	}
}

// BenchmarkLSTMStep times one forward+backward pass of an LSTM layer at
// the char-LSTM shape: batch 64, 64 steps, 64 inputs, 256 hidden units,
// every step's output used.
func BenchmarkLSTMStep(b *testing.B) {
	const batch, steps, in, hidden = 64, 64, 64, 256
	rng := tensor.NewRNG(1)
	m := NewLSTM(in, hidden, rng, ReturnSequences())
	x := tensor.RandN(rng, 0, 1, batch, steps, in)
	r := autograd.Const(tensor.RandN(rng, 0, 1, batch, steps, hidden))
	step := func() {
		ZeroGrad(m)
		c := Train(rng)
		y := m.Forward(c, autograd.Const(x))
		if err := c.Tape.Backward(c.Tape.Sum(c.Tape.Mul(y, r), false)); err != nil {
			b.Fatal(err)
		}
	}
	step()
	b.ResetTimer()
	for range b.N {
		step()
	}
	b.ReportMetric(float64(batch)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkLSTMForward times inference at the same shape.
func BenchmarkLSTMForward(b *testing.B) {
	const batch, steps, in, hidden = 64, 64, 64, 256
	rng := tensor.NewRNG(1)
	m := NewLSTM(in, hidden, rng, ReturnSequences())
	x := autograd.Const(tensor.RandN(rng, 0, 1, batch, steps, in))
	for range b.N {
		m.Forward(Eval(), x)
	}
	b.ReportMetric(float64(batch)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkCharLSTMTrainStep times one full training step of the
// char-LSTM of bench/train (the same model as PyTorch's there): embedding
// 96×64, LSTM 64→256 over 64 steps, Linear 256→96 at every step, softmax
// cross-entropy, Adam; batch 64.
func BenchmarkCharLSTMTrainStep(b *testing.B) {
	const batch, steps, vocab, emb, hidden = 64, 64, 96, 64, 256
	rng := tensor.NewRNG(1)
	table := autograd.Param(tensor.RandN(rng, 0, 1, vocab, emb), "emb/weight")
	lstm := NewLSTM(emb, hidden, rng, ReturnSequences())
	out := NewLinear(hidden, vocab, rng)
	params := append(append([]*autograd.Var{table}, lstm.Params()...), out.Params()...)
	opt, err := optim.NewAdam(params, 1e-3)
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]int, batch*steps)
	targets := make([]int, batch*steps)
	for i := range ids {
		ids[i], targets[i] = rng.IntN(vocab), rng.IntN(vocab)
	}
	step := func() {
		opt.ZeroGrad()
		c := Train(rng)
		tp := c.Tape
		x := tp.Reshape(tp.IndexSelect(table, 0, ids), batch, steps, emb)
		logits := out.Forward(c, lstm.Forward(c, x))
		loss := tp.SoftmaxCrossEntropy(tp.Reshape(logits, batch*steps, vocab), targets, nil, 0)
		if err := tp.Backward(loss); err != nil {
			b.Fatal(err)
		}
		if err := opt.Step(); err != nil {
			b.Fatal(err)
		}
	}
	step()
	b.ResetTimer()
	for range b.N {
		step()
	}
	b.ReportMetric(float64(batch)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}
