package onnx

import (
	"runtime"
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

// A value viewed by a later node's output (a Gather's selection, seen
// through a Transpose, as a GRU classifier's embedding is) is handed back
// once the view is dead too, not lost to the collector: inference after
// inference draws on the same memory, and the answers stay those of a
// recording forward while other allocations scribble on what is recycled.
func TestInferenceRecyclesValuesBehindViews(t *testing.T) {
	rng := tensor.NewRNG(5)
	// A selection of 1 MiB: large buffers are kept by the big-buffer
	// cache, not a sync.Pool (which drops buffers at random under -race).
	emb := tensor.RandN(rng, 0, 1, 50, 1024)
	m := newModel(17).
		input("ids", Int64, -1, 64).
		floatInit("emb", emb).
		node("Gather", []string{"emb", "ids"}, []string{"e"}).                   // [N, 64, 1024], an owner
		node("Transpose", []string{"e"}, []string{"t"}, tInts("perm", 1, 0, 2)). // a view of e; e dies here
		node("Relu", []string{"t"}, []string{"r"}).                              // the view dies here
		output("r").m
	mod := mustImport(t, m, ImportOptions{})
	ids := make([]int64, 4*64)
	for i := range ids {
		ids[i] = int64(i*7) % 50
	}
	in := map[string]*Tensor{"ids": {Name: "ids", DataType: Int64, Dims: []int64{4, 64}, Ints: ids}}
	want := func() []float32 {
		outs, err := mod.Eval(in)
		if err != nil {
			t.Fatal(err)
		}
		return outs["r"].Floats
	}()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const runs = 20
	for run := 0; run < runs; run++ {
		outs, err := mod.Eval(in)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(outs["r"].Floats, want) {
			t.Fatalf("run %d: the answer changed", run)
		}
		for i := 0; i < 4; i++ {
			j := tensor.New(64, 4, 1024)
			for k := range j.Data() {
				j.Data()[k] = 1e9
			}
			tensor.Recycle([]*tensor.Tensor{j}, nil)
		}
	}
	runtime.ReadMemStats(&after)
	// Each value is 4·64·1024 floats (1 MiB). The output and Eval's copy
	// of it are new every run; without the hand-back so was the selection.
	const size = 4 * 64 * 1024 * 4
	if per := float64(after.TotalAlloc-before.TotalAlloc) / runs; per > 2.5*size {
		t.Fatalf("%.0f bytes allocated per inference: the values behind views were not recycled", per)
	}
}
