package train

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/data"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/optim"
	"github.com/glassbox-ml/glassbox/tensor"
)

// affine is a minimal module for these tests: logits = x·W + b, with
// dropout so the training RNG matters for resume.
type affine struct {
	W, B *autograd.Var
	drop float32
}

func newAffine(in, out int, seed uint64) *affine {
	rng := tensor.NewRNG(seed)
	return &affine{W: autograd.Param(tensor.RandN(rng, 0, 0.1, in, out), "aff/weight"), B: autograd.Param(tensor.New(out), "aff/bias")}
}

func (a *affine) Forward(c *nn.Ctx, x *autograd.Var) *autograd.Var {
	if a.drop > 0 && c.Training {
		mask := tensor.New(x.Value.Shape()...)
		for i := range mask.Data() {
			if c.RNG.Float32() >= a.drop {
				mask.Data()[i] = 1 / (1 - a.drop)
			}
		}
		x = c.Tape.Dropout(x, mask)
	}
	return c.Tape.Add(c.Tape.MatMul(x, a.W), a.B)
}
func (a *affine) Params() []*autograd.Var { return []*autograd.Var{a.W, a.B} }
func (a *affine) Spec() nn.Spec           { return nn.MakeSpec("train-test-affine", "aff", nil) }

func newMomentum(ps []*autograd.Var, lr float64) optim.Optimizer {
	o, err := optim.NewSGD(ps, lr, optim.Momentum(0.9))
	if err != nil {
		panic(err)
	}
	return o
}

// blobs is a 3-class problem with well-separated Gaussian clusters.
func blobs(n int, seed uint64) *data.Tensors {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := tensor.New(n, 2)
	y := tensor.New(n)
	centres := [][2]float32{{2, 0}, {-2, 2}, {-2, -2}}
	for i := 0; i < n; i++ {
		c := i % 3
		x.Set(centres[c][0]+0.5*float32(rng.NormFloat64()), i, 0)
		x.Set(centres[c][1]+0.5*float32(rng.NormFloat64()), i, 1)
		y.Set(float32(c), i)
	}
	ds, _ := data.NewTensors(x, y)
	return ds
}

func loader(t *testing.T, ds data.Dataset, shuffle bool) *data.Loader {
	l, err := data.NewLoader(ds, data.Options{BatchSize: 16, Shuffle: shuffle, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestFitLearnsAndReportsJSONLines(t *testing.T) {
	m := newAffine(2, 3, 1)
	var out bytes.Buffer
	hist, err := Fit(context.Background(), m, loader(t, blobs(300, 1), true), Config{
		Epochs: 5, Optimizer: newMomentum(m.Params(), 0.05), Task: Classification, Classes: 3,
		Val: loader(t, blobs(90, 2), false), Progress: &out, JSONProgress: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	first, last := hist.Epochs[0].Train["loss"], hist.Last().Train["loss"]
	if !(last < first/2) {
		t.Fatalf("training loss went %v → %v", first, last)
	}
	if acc := hist.Last().Val["accuracy"]; acc < 0.95 {
		t.Fatalf("validation accuracy %v, want ≥ 0.95", acc)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 5 {
		t.Fatalf("want one JSON line per epoch, got %d lines", len(lines))
	}
	var e EpochInfo
	if err := json.Unmarshal([]byte(lines[4]), &e); err != nil || e.Epoch != 5 {
		t.Fatalf("last progress line %q: %v", lines[4], err)
	}
}

func TestResumeIsBitIdentical(t *testing.T) {
	ds := blobs(200, 3)
	cfg := func(m *affine) Config {
		return Config{Epochs: 4, Optimizer: newMomentum(m.Params(), 0.05), Task: Classification, Classes: 3, Seed: 9, Quiet: true}
	}
	// Uninterrupted.
	full := newAffine(2, 3, 1)
	full.drop = 0.2
	if _, err := Fit(context.Background(), full, loader(t, ds, true), cfg(full)); err != nil {
		t.Fatal(err)
	}
	// Two epochs, checkpoint, then a fresh process-like model resumes.
	ckpt := filepath.Join(t.TempDir(), "ckpt.safetensors")
	part := newAffine(2, 3, 1)
	part.drop = 0.2
	c := cfg(part)
	c.Epochs, c.Checkpoint = 2, ckpt
	if _, err := Fit(context.Background(), part, loader(t, ds, true), c); err != nil {
		t.Fatal(err)
	}
	resumed := newAffine(2, 3, 777) // different init: everything must come from the checkpoint
	resumed.drop = 0.2
	c = cfg(resumed)
	c.Resume = ckpt
	hist, err := Fit(context.Background(), resumed, loader(t, ds, true), c)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist.Epochs) != 4 {
		t.Fatalf("resumed history has %d epochs", len(hist.Epochs))
	}
	for i, p := range full.Params() {
		if !tensor.AllClose(p.Value, resumed.Params()[i].Value, 0, 0) {
			t.Fatalf("%s differs after resume", p.Name)
		}
	}
}

func TestNaNStopsTraining(t *testing.T) {
	m := newAffine(2, 3, 1)
	x := tensor.New(20, 2)
	x.Set(float32(nan()), 3, 1)
	ds, _ := data.NewTensors(x, tensor.New(20))
	_, err := Fit(context.Background(), m, loader(t, ds, false), Config{Epochs: 1, Optimizer: newMomentum(m.Params(), 0.1), Classes: 3, Quiet: true})
	if err == nil || !strings.Contains(err.Error(), "NaN") || !strings.Contains(err.Error(), "epoch 1 step 0") {
		t.Fatalf("want a NaN error naming the step, got %v", err)
	}
}

func nan() float64 { var z float64; return z / z }

func TestShapeErrorBecomesError(t *testing.T) {
	m := newAffine(5, 3, 1) // expects 5 features, data has 2
	_, err := Fit(context.Background(), m, loader(t, blobs(30, 1), false), Config{Epochs: 1, Optimizer: newMomentum(m.Params(), 0.1), Classes: 3, Quiet: true})
	if err == nil || !strings.Contains(err.Error(), "MatMul") {
		t.Fatalf("want a shape error, got %v", err)
	}
}

func TestEarlyStoppingAndCancel(t *testing.T) {
	m := newAffine(2, 3, 1)
	hist, err := Fit(context.Background(), m, loader(t, blobs(60, 1), true), Config{
		Epochs: 200, Optimizer: newMomentum(m.Params(), 0.0), Classes: 3, Quiet: true, // lr 0: never improves
		Val: loader(t, blobs(30, 2), false), EarlyStopping: &EarlyStopping{Patience: 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist.Epochs) != 4 || !strings.Contains(hist.Stopped, "early stopping") {
		t.Fatalf("ran %d epochs, stopped %q", len(hist.Epochs), hist.Stopped)
	}
	ctx, cancel := context.WithCancel(context.Background())
	steps := 0
	_, err = Fit(ctx, m, loader(t, blobs(600, 1), true), Config{Epochs: 5, Optimizer: newMomentum(m.Params(), 0.01), Classes: 3, Quiet: true,
		OnStep: func(StepInfo) error {
			if steps++; steps == 3 {
				cancel()
			}
			return nil
		}})
	if err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Fatalf("want cancellation error, got %v", err)
	}
}

func TestMetrics(t *testing.T) {
	m := NewMetrics(Classification, 2)
	m.AddClassification([]int{0, 1, 1, 1}, []int{0, 0, 1, 1})
	if m.Accuracy() != 0.75 || m.Precision()[1] != 2.0/3 || m.Recall()[0] != 0.5 {
		t.Fatalf("acc %v prec %v rec %v", m.Accuracy(), m.Precision(), m.Recall())
	}
	r := NewMetrics(Regression, 0)
	r.AddRegression([]float32{1, 2, 3}, []float32{1, 2, 4})
	if r.MSE() != 1.0/3 || r.MAE() != 1.0/3 {
		t.Fatalf("mse %v mae %v", r.MSE(), r.MAE())
	}
	// SST of {1,2,4} = 14/3; R² = 1 − 1/(14/3).
	if d := r.R2() - (1 - 3.0/14); d > 1e-12 || d < -1e-12 {
		t.Fatalf("r2 %v", r.R2())
	}
}

func TestFitPipedProgressIsPlainLines(t *testing.T) {
	m := newAffine(2, 3, 1)
	var out bytes.Buffer
	if _, err := Fit(context.Background(), m, loader(t, blobs(120, 1), true), Config{
		Epochs: 2, Optimizer: newMomentum(m.Params(), 0.05), Task: Classification, Classes: 3,
		Val: loader(t, blobs(30, 2), false), Progress: &out,
	}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one line per epoch, got %q", out.String())
	}
	for i, l := range lines {
		if !strings.HasPrefix(l, fmt.Sprintf("epoch %d/2: train loss ", i+1)) || !strings.Contains(l, "| val loss ") ||
			!strings.Contains(l, "accuracy ") || strings.ContainsAny(l, "{\r") {
			t.Fatalf("line %d is not a plain progress line: %q", i, l)
		}
	}
}

// TestRecycleGradsClearsGrad checks that RecycleGrads leaves no gradient
// pointing at storage it handed back: a backward pass right after it (no
// ZeroGrad between) gives the step's own gradient, not one added into
// memory a new tensor may own, and a gradient sharing a parameter's storage
// is not handed back.
func TestRecycleGradsClearsGrad(t *testing.T) {
	const n = 1 << 13 // above the size tensor.Recycle keeps
	w := autograd.Param(tensor.Full(1, n), "w")
	shared := autograd.Param(tensor.Full(2, n), "shared")
	shared.Grad = shared.Value // a gradient that is the parameter itself
	loss := func(tp *autograd.Tape) *autograd.Var { return tp.Sum(tp.Mul(w, w), false) }
	tp := autograd.NewTape()
	if err := tp.Backward(loss(tp)); err != nil {
		t.Fatal(err)
	}
	tp.Release()
	RecycleGrads([]*autograd.Var{w, shared})
	if w.Grad != nil || shared.Grad != nil {
		t.Fatal("RecycleGrads left a gradient in place")
	}
	// Whatever takes the handed-back storage now must not show up in w's
	// next gradient.
	junk := tensor.Full(1e6, n)
	tp = autograd.NewTape()
	if err := tp.Backward(loss(tp)); err != nil {
		t.Fatal(err)
	}
	for i, v := range w.Grad.Data() {
		if v != 2 {
			t.Fatalf("w.Grad[%d] = %v after RecycleGrads, want 2 (d/dw Σw² at w = 1)", i, v)
		}
	}
	if junk.Data()[0] != 1e6 {
		t.Fatal("a tensor made after RecycleGrads was overwritten")
	}
	for i, v := range shared.Value.Data() {
		if v != 2 {
			t.Fatalf("shared parameter[%d] = %v, want 2: its storage was handed back", i, v)
		}
	}
}
