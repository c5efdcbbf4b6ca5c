package onnx

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// A Frozen import packs its filters once; it must answer as a plain one
// does, through inference, input gradients, training steps (which drop
// the packing) and a value changed by hand (after ReleasePacked).
func TestFrozenMatchesPlain(t *testing.T) {
	plain := mustImport(t, cnnGraph(smallCNN(6), -1), ImportOptions{})
	frozen := mustImport(t, cnnGraph(smallCNN(6), -1), ImportOptions{Frozen: true})
	// Batches of 8 and more run the Gemm on its packed weights.
	x := randImages(7, 9)
	same := func(what string) {
		t.Helper()
		for _, batch := range []int{1, 3, 9} {
			xb := x.Slice(0, 0, batch).Contiguous()
			want, err := nn.Predict(plain, xb)
			if err != nil {
				t.Fatal(err)
			}
			for run := 0; run < 2; run++ { // the second run uses the packing
				got, err := nn.Predict(frozen, xb)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got.Data(), want.Data()) {
					t.Fatalf("%s, batch %d, run %d: frozen output differs", what, batch, run)
				}
			}
			// The input gradient with the parameters frozen, as the
			// explanations take it.
			inGrad := func(m *Module) []float32 {
				thaw := autograd.Freeze(m.Params())
				defer thaw()
				c := nn.EvalGrad()
				xv := autograd.Input(xb.Clone())
				if err := c.Tape.Backward(c.Tape.Sum(m.Forward(c, xv), false)); err != nil {
					t.Fatal(err)
				}
				return xv.Grad.Data()
			}
			if !slices.Equal(inGrad(frozen), inGrad(plain)) {
				t.Fatalf("%s, batch %d: frozen input gradient differs", what, batch)
			}
		}
	}
	same("imported")
	if len(frozen.filters) == 0 || len(frozen.rights) == 0 {
		t.Fatalf("a frozen import packed %d filters and %d Gemm operands", len(frozen.filters), len(frozen.rights))
	}
	x = x.Slice(0, 0, 3).Contiguous()
	// Training steps on both: each recording forward drops the packing.
	target := tensor.RandU(tensor.NewRNG(8), -1, 1, 3, 5)
	for _, m := range []*Module{plain, frozen} {
		for i := 0; i < 3; i++ {
			nn.ZeroGrad(m)
			c := nn.Train(tensor.NewRNG(1))
			d := c.Tape.Sub(m.Forward(c, autograd.Const(x)), autograd.Const(target))
			if err := c.Tape.Backward(c.Tape.Mean(c.Tape.Square(d), false)); err != nil {
				t.Fatal(err)
			}
			for _, p := range m.Params() {
				tensor.AddInPlace(p.Value, tensor.MulScalar(p.Grad, -0.1))
			}
			nn.Predict(m, x) // an inference between steps packs the filters again
		}
	}
	x = randImages(7, 9)
	same("after training steps")
	// By hand: both changed, the frozen one told.
	for _, m := range []*Module{plain, frozen} {
		m.Params()[0].Value.Data()[0] += 0.5
	}
	frozen.ReleasePacked()
	same("after a change by hand and ReleasePacked")
}

// A Frozen recurrent model keeps its rearranged weights; it must answer
// as a plain import does, before and after training steps and a hand
// edit (with ReleasePacked).
func TestFrozenRecurrentMatchesPlain(t *testing.T) {
	m1, _ := textModel(tensor.NewRNG(12), 11, 4, 3, 2)
	m2, _ := textModel(tensor.NewRNG(12), 11, 4, 3, 2)
	plain := mustImport(t, m1, ImportOptions{})
	frozen := mustImport(t, m2, ImportOptions{Frozen: true})
	x := tensor.MustFromSlice([]float32{1, 4, 0, 10, 3, 7, 7, 2, 9, 5}, 2, 5)
	same := func(what string) {
		t.Helper()
		want, err := nn.Predict(plain, x)
		if err != nil {
			t.Fatal(err)
		}
		for run := 0; run < 2; run++ {
			got, err := nn.Predict(frozen, x)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Data(), want.Data()) {
				t.Fatalf("%s, run %d: frozen output %v, plain %v", what, run, got.Data(), want.Data())
			}
		}
	}
	same("imported")
	if len(frozen.derived) == 0 {
		t.Fatal("a frozen import kept no rearranged weights")
	}
	for _, m := range []*Module{plain, frozen} {
		for i := 0; i < 2; i++ {
			nn.ZeroGrad(m)
			c := nn.Train(tensor.NewRNG(1))
			if err := c.Tape.Backward(c.Tape.Sum(c.Tape.Square(m.Forward(c, autograd.Const(x))), false)); err != nil {
				t.Fatal(err)
			}
			for _, p := range m.Params() {
				tensor.AddInPlace(p.Value, tensor.MulScalar(p.Grad, -0.1))
			}
			nn.Predict(m, x)
		}
	}
	same("after training steps")
	for _, m := range []*Module{plain, frozen} {
		for _, p := range m.Params() {
			p.Value.Data()[0] += 0.25
		}
	}
	frozen.ReleasePacked()
	same("after a change by hand and ReleasePacked")
}

// The server runs predictions of one Frozen module at once: the packing
// made on first use is shared, and every answer is the sequential one.
func TestFrozenConcurrentPredictions(t *testing.T) {
	frozen := mustImport(t, cnnGraph(smallCNN(9), -1), ImportOptions{Frozen: true})
	x := randImages(10, 2)
	want, err := nn.Predict(mustImport(t, cnnGraph(smallCNN(9), -1), ImportOptions{}), x)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func() {
			for i := 0; i < 5; i++ {
				got, err := nn.Predict(frozen, x)
				if err == nil && !slices.Equal(got.Data(), want.Data()) {
					err = fmt.Errorf("a concurrent prediction differs")
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// A crafted Gemm run Frozen on a batch of 8 rows or more (its weights
// packed) answers as the plain import does: an empty inner dimension gives
// the bias alone, and weights that do not fit the input are an error
// naming the node, never a panic.
func TestFrozenGemmCraftedShapes(t *testing.T) {
	gemm := func(k, wk int) *Model {
		return newModel(13).input("x", Float, -1, int64(k)).
			floatInit("w", tensor.Ones(wk, 3)).floatInit("c", tens([]int{3}, 1, 2, 3)).
			node("Gemm", []string{"x", "w", "c"}, []string{"y"}).output("y").m
	}
	for _, frozen := range []bool{false, true} {
		mod := mustImport(t, gemm(0, 0), ImportOptions{Frozen: frozen})
		for run := 0; run < 2; run++ {
			out, err := mod.Eval(map[string]*Tensor{"x": floatTensor("x", tensor.New(9, 0))})
			if err != nil {
				t.Fatalf("frozen %v: empty inner dimension: %v", frozen, err)
			}
			y := out["y"].Floats
			if len(y) != 27 || y[0] != 1 || y[1] != 2 || y[26] != 3 {
				t.Fatalf("frozen %v: empty inner dimension gave %v, want the bias on every row", frozen, y)
			}
		}
		mod = mustImport(t, gemm(4, 5), ImportOptions{Frozen: frozen})
		_, err := mod.Eval(map[string]*Tensor{"x": floatTensor("x", tensor.New(9, 4))})
		if err == nil || !strings.Contains(err.Error(), "Gemm") {
			t.Fatalf("frozen %v: weights of 5 rows for 4 inputs: %v, want an error naming the Gemm", frozen, err)
		}
	}
}
