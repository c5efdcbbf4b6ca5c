package nn_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/nn/layertest"
	"github.com/glassbox-ml/glassbox/tensor"
)

// randomBias gives a layer's bias non-zero values so its gradient and the
// round trip are really tested.
func randomBias(b *autograd.Var, rng *rand.Rand) {
	if b != nil {
		b.Value.CopyFrom(tensor.RandN(rng, 0, 1, b.Value.Shape()...))
	}
}

func TestLinearConforms(t *testing.T) {
	t.Run("2d", func(t *testing.T) {
		layertest.Run(t, func(rng *rand.Rand) nn.Module {
			l := nn.NewLinear(4, 3, rng)
			randomBias(l.Bias, rng)
			return l
		}, []int{2, 4})
	})
	t.Run("sequence", func(t *testing.T) {
		layertest.Run(t, func(rng *rand.Rand) nn.Module {
			l := nn.NewLinear(4, 2, rng, nn.LinearInit(nn.InitHeNormal))
			randomBias(l.Bias, rng)
			return l
		}, []int{2, 3, 4})
	})
	t.Run("no-bias", func(t *testing.T) {
		layertest.Run(t, func(rng *rand.Rand) nn.Module { return nn.NewLinear(3, 2, rng, nn.LinearNoBias()) }, []int{3, 3})
	})
}

func TestLinearKnownAnswer(t *testing.T) {
	l := nn.NewLinear(2, 3, tensor.NewRNG(1))
	l.Weight.Value.CopyFrom(tensor.MustFromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3))
	l.Bias.Value.CopyFrom(tensor.MustFromSlice([]float32{0.5, -1, 0}, 3))
	x := tensor.MustFromSlice([]float32{1, 1, 2, -1}, 2, 2)
	y, err := nn.Predict(l, x)
	if err != nil {
		t.Fatal(err)
	}
	// [1 1]·W = [5 7 9]; [2 −1]·W = [−2 −1 0]; plus the bias.
	want := tensor.MustFromSlice([]float32{5.5, 6, 9, -1.5, -2, 0}, 2, 3)
	if !tensor.AllClose(y, want, 0, 0) {
		t.Fatalf("got %v, want %v", y, want)
	}
	// The sequence form is the 2-D form row by row.
	x3 := tensor.RandN(tensor.NewRNG(2), 0, 1, 2, 5, 2)
	y3, _ := nn.Predict(l, x3)
	y2, _ := nn.Predict(l, x3.Reshape(10, 2))
	if fmt.Sprint(y3.Shape()) != "[2 5 3]" || !tensor.AllClose(y3.Reshape(10, 3), y2, 0, 0) {
		t.Fatalf("sequence input: shape %v or values differ from the 2-D form", y3.Shape())
	}
}

func TestLinearErrors(t *testing.T) {
	l := nn.NewLinear(4, 2, tensor.NewRNG(1))
	l.SetName("fc1")
	_, err := nn.Predict(l, tensor.New(3, 5))
	if err == nil || !strings.Contains(err.Error(), `linear "fc1"`) || !strings.Contains(err.Error(), "5 features") || !strings.Contains(err.Error(), "expects 4") {
		t.Fatalf("wrong feature count: %v", err)
	}
	if _, err := nn.Predict(l, tensor.New(4)); err == nil || !strings.Contains(err.Error(), "batch") {
		t.Fatalf("missing batch axis: %v", err)
	}
	if err := tensor.Catch(func() { nn.NewLinear(0, 3, tensor.NewRNG(1)) }); err == nil {
		t.Fatal("NewLinear(0, 3) accepted")
	}
	for _, args := range []string{`{"in":0,"out":2}`, `{"in":2,"out":2,"init":"lecun"}`, `{"in":"x"}`} {
		if _, err := nn.Build(nn.Spec{Type: "linear", Name: "fc", Args: json.RawMessage(args)}, tensor.NewRNG(1)); err == nil {
			t.Errorf("Build accepted %s", args)
		}
	}
}

func TestLinearInitChoice(t *testing.T) {
	he := nn.NewLinear(400, 300, tensor.NewRNG(1), nn.LinearInit(nn.InitHeNormal))
	gl := nn.NewLinear(400, 300, tensor.NewRNG(1))
	_, sHe, _, _ := moments(he.Weight.Value)
	_, sGl, _, hi := moments(gl.Weight.Value)
	if sHe < 0.066 || sHe > 0.0755 { // √(2/400) = 0.0707
		t.Fatalf("He std %v", sHe)
	}
	if sGl < 0.051 || sGl > 0.056 || hi > 0.0926 { // √(2/700) = 0.0535, bound √(6/700) = 0.0926
		t.Fatalf("Glorot std %v max %v", sGl, hi)
	}
	if b := gl.Bias.Value.Data(); b[0] != 0 || b[len(b)-1] != 0 {
		t.Fatal("bias does not start at zero")
	}
}

func ExampleLinear() {
	rng := tensor.NewRNG(1)
	fc := nn.NewLinear(3, 2, rng) // weight [3, 2], bias [2]
	fc.SetName("fc1")
	x := tensor.MustFromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3) // a batch of two examples
	y, err := nn.Predict(fc, x)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(y.Shape(), nn.NumParams(fc))
	for _, p := range fc.Params() {
		fmt.Println(p.Name, p.Shape())
	}
	// Output:
	// [2 2] 8
	// fc1/weight [3 2]
	// fc1/bias [2]
}

// BenchmarkLinearFused compares the fused x·W+b op with the same layer
// written as two tape ops (MatMul, then a broadcasting Add), forward and
// backward, at an MLP's first-layer shape.
func BenchmarkLinearFused(b *testing.B) {
	rng := tensor.NewRNG(1)
	l := nn.NewLinear(784, 256, rng)
	x := autograd.Const(tensor.RandN(rng, 0, 1, 128, 784))
	b.Run("fused", func(b *testing.B) {
		for range b.N {
			tp := autograd.NewTape()
			y := l.Forward(&nn.Ctx{Tape: tp}, x)
			_ = tp.Backward(tp.Sum(y, false))
			nn.ZeroGrad(l)
		}
	})
	b.Run("matmul+add", func(b *testing.B) {
		for range b.N {
			tp := autograd.NewTape()
			y := tp.Add(tp.MatMul(x, l.Weight), l.Bias)
			_ = tp.Backward(tp.Sum(y, false))
			nn.ZeroGrad(l)
		}
	})
}
