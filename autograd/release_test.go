package autograd

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/glassbox-ml/glassbox/tensor"
)

// releaseNet is a small network whose buffers are large enough to be
// recycled, with a parameter whose gradient is a view of an intermediate
// gradient (the transpose of a [1, n] row), the case Release must not hand
// back.
type releaseNet struct {
	w1, w2, scale *Var
	x             *tensor.Tensor
	y             []int
}

func newReleaseNet() *releaseNet {
	rng := tensor.NewRNG(3)
	n := &releaseNet{
		w1:    Param(tensor.RandN(rng, 0, 0.1, 128, 256), "w1"),
		w2:    Param(tensor.RandN(rng, 0, 0.1, 256, 10), "w2"),
		scale: Param(tensor.RandN(rng, 1, 0.1, 1, 64*256), "scale"),
		x:     tensor.RandN(rng, 0, 1, 64, 128),
	}
	for i := 0; i < 64; i++ {
		n.y = append(n.y, i%10)
	}
	return n
}

func (n *releaseNet) step(t *testing.T, tp *Tape, release, scribble bool) float32 {
	h := tp.ReLU(tp.MatMul(Const(n.x), n.w1))
	s := tp.Reshape(tp.Transpose(n.scale), 64, 256)
	out := tp.MatMul(tp.Mul(h, s), n.w2)
	loss := tp.SoftmaxCrossEntropy(out, n.y, nil, 0)
	lv := loss.Value.Item()
	for _, p := range []*Var{n.w1, n.w2, n.scale} {
		p.ZeroGrad()
	}
	if err := tp.Backward(loss); err != nil {
		t.Fatal(err)
	}
	if release {
		tp.Release()
	} else {
		tp.Reset()
	}
	if scribble {
		// Whatever comes next draws on the recycled memory; scribble on it.
		for _, sh := range [][]int{{64, 256}, {1, 64 * 256}, {256, 128}, {64, 128}} {
			j := tensor.New(sh...)
			for i := range j.Data() {
				j.Data()[i] = 1e9
			}
		}
	}
	for _, p := range []*Var{n.w1, n.w2, n.scale} {
		tensor.AddInPlace(p.Value, tensor.MulScalar(p.Grad, -0.05))
	}
	return lv
}

func TestReleaseTrainsLikeReset(t *testing.T) {
	a, b := newReleaseNet(), newReleaseNet()
	ta, tb := NewTape(), NewTape()
	var first, last float32
	for i := 0; i < 8; i++ {
		la := a.step(t, ta, false, true)
		lb := b.step(t, tb, true, true)
		if la != lb {
			t.Fatalf("step %d: loss %v with Reset, %v with Release", i, la, lb)
		}
		if i == 0 {
			first = la
		}
		last = la
	}
	if !(last < first) {
		t.Fatalf("loss did not fall: %v → %v", first, last)
	}
	for _, pair := range [][2]*Var{{a.w1, b.w1}, {a.w2, b.w2}, {a.scale, b.scale}} {
		pa, pb := pair[0].Value.Data(), pair[1].Value.Data()
		for i := range pa {
			if pa[i] != pb[i] {
				t.Fatalf("%s[%d]: %v with Reset, %v with Release", pair[0].Name, i, pa[i], pb[i])
			}
		}
	}
}

func TestReleaseAllocatesLess(t *testing.T) {
	bytesPerStep := func(release bool) uint64 {
		n, tp := newReleaseNet(), NewTape()
		n.step(t, tp, release, false)
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		for i := 0; i < 10; i++ {
			n.step(t, tp, release, false)
		}
		runtime.ReadMemStats(&m1)
		return (m1.TotalAlloc - m0.TotalAlloc) / 10
	}
	reset, release := bytesPerStep(false), bytesPerStep(true)
	t.Logf("bytes a step: Reset %d, Release %d", reset, release)
	// Half of what Reset allocates is the step's activations and their
	// gradients; the race detector's pools keep only some of them.
	bound := 0.6
	if raceEnabled {
		bound = 0.85
	}
	if float64(release) > bound*float64(reset) {
		t.Fatalf("Release allocated %d bytes a step, Reset %d: want at most %.2f of it", release, reset, bound)
	}
}

func TestReleaseKeepsInputsAndNilTape(t *testing.T) {
	var nilTape *Tape
	nilTape.Release() // a nil tape records nothing and releases nothing
	x := tensor.RandN(tensor.NewRNG(1), 0, 1, 64, 128)
	in := Input(x)
	keepSum := tensor.Sum(x, false).Item()
	tp := NewTape()
	y := tp.Reshape(in, 128, 64) // a view of the input
	loss := tp.Sum(tp.Square(y), false)
	if err := tp.Backward(loss); err != nil {
		t.Fatal(err)
	}
	g := in.Grad.Clone()
	tp.Release()
	for i := 0; i < 4; i++ {
		j := tensor.New(64, 128)
		for k := range j.Data() {
			j.Data()[k] = -5
		}
	}
	if tensor.Sum(x, false).Item() != keepSum {
		t.Fatal("Release handed back an input's memory")
	}
	for i, v := range in.Grad.Data() {
		if v != g.Data()[i] {
			t.Fatalf("input gradient changed after Release at %d: %v, was %v", i, v, g.Data()[i])
		}
	}
}

// A training loop ends each step with Release: the step's activations and
// gradients go back for the next step, and only the parameters (with
// their gradients, for the optimizer) survive it.
func ExampleTape_Release() {
	w := Param(tensor.Full(0.5, 64, 64), "w")
	x := tensor.Ones(64, 64)
	tp := NewTape()
	for step := 0; step < 3; step++ {
		w.ZeroGrad()
		loss := tp.Mean(tp.Square(tp.MatMul(Const(x), w)), false)
		if err := tp.Backward(loss); err != nil {
			panic(err)
		}
		fmt.Printf("step %d: loss %.4g\n", step, loss.Value.Item()) // read before Release
		tp.Release()
		tensor.AddInPlace(w.Value, tensor.MulScalar(w.Grad, -0.01))
	}
	// Output:
	// step 0: loss 1024
	// step 1: loss 983.4
	// step 2: loss 944.5
}
