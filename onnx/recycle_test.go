package onnx

import (
	"slices"
	"testing"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Inference hands each value's memory back after its last reader. A
// graph whose outputs are views of values that die (Reshape, Flatten),
// which reads an initialiser through a view, and whose branches end at
// different nodes must give the same answers as a recording forward, run
// after run, while other allocations draw on the recycled memory.
func TestInferenceRecyclingKeepsLiveValues(t *testing.T) {
	rng := tensor.NewRNG(4)
	w := tensor.RandN(rng, 0, 1, 64, 64)
	m := newModel(17).
		input("x", Float, -1, 64).
		floatInit("w", w).
		intInit("shape", []int64{2}, -1, 4096).
		intInit("wshape", []int64{2}, 64, 64).
		node("MatMul", []string{"x", "w"}, []string{"h"}).         // [N, 64]
		node("Relu", []string{"h"}, []string{"r"}).                // h dies here
		node("Reshape", []string{"w", "wshape"}, []string{"wv"}).  // a view of an initialiser
		node("MatMul", []string{"r", "wv"}, []string{"h2"}).       // [N, 64]
		node("Add", []string{"h2", "r"}, []string{"s"}).           // r dies here
		node("Reshape", []string{"s", "shape"}, []string{"flat"}). // a view of s, which dies
		node("Tanh", []string{"flat"}, []string{"side"}).          // a second output
		output("flat", "side").m
	all := mustImport(t, m, ImportOptions{AllInputs: true}) // every output, for Eval
	mod := mustImport(t, m, ImportOptions{Output: "flat"})
	x := tensor.RandN(rng, 0, 1, 64, 64)

	want := map[string][]float32{}
	tp := autograd.NewTape() // recording: nothing recycled
	xin := autograd.Input(x.Clone())
	for _, name := range []string{"flat", "side"} {
		want[name] = slices.Clone(runVars(all, tp, map[string]*autograd.Var{"x": xin}, name).Value.Data())
	}
	wBefore := slices.Clone(w.Data())
	for run := 0; run < 4; run++ {
		outs, err := all.Eval(map[string]*Tensor{"x": floatTensor("x", x)})
		if err != nil {
			t.Fatal(err)
		}
		for name, wv := range want {
			if !slices.Equal(outs[name].Floats, wv) {
				t.Fatalf("run %d: output %s differs from the recording forward", run, name)
			}
		}
		// Forward (the module as a layer) without a tape, the output a
		// view of a dead value; then scribble on whatever is recycled.
		y, err := nn.Predict(mod, x)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 6; i++ {
			j := tensor.New(64, 64)
			for k := range j.Data() {
				j.Data()[k] = 1e9
			}
		}
		if !slices.Equal(y.Data(), want["flat"]) {
			t.Fatalf("run %d: Forward's output changed after later allocations", run)
		}
	}
	for i, v := range all.inits["w"].v.Value.Data() {
		if v != wBefore[i] {
			t.Fatal("an initialiser read through a view was handed back")
		}
	}
}
