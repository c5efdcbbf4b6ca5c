package nn_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/nn/layertest"
	"github.com/glassbox-ml/glassbox/tensor"
)

func TestDropoutConforms(t *testing.T) {
	layertest.Run(t, func(*rand.Rand) nn.Module { return nn.NewDropout(0.3) }, []int{4, 6})
}

func TestDropoutStatistics(t *testing.T) {
	const p = 0.25
	d := nn.NewDropout(p)
	x := autograd.Const(tensor.Ones(200, 500))
	y := d.Forward(nn.Train(tensor.NewRNG(1)), x).Value.Data()
	zeros := 0
	var sum float64
	for _, v := range y {
		switch {
		case v == 0:
			zeros++
		case math.Abs(float64(v)-1/(1-p)) > 1e-6:
			t.Fatalf("survivor scaled to %v, want 1/(1−p) = %v", v, 1/(1-p))
		}
		sum += float64(v)
	}
	frac := float64(zeros) / float64(len(y))
	if math.Abs(frac-p) > 0.01 {
		t.Fatalf("dropped fraction %.4f, want %.2f", frac, p)
	}
	if mean := sum / float64(len(y)); math.Abs(mean-1) > 0.01 {
		t.Fatalf("mean activation %.4f, want 1 (inverted dropout keeps the expectation)", mean)
	}
	// Evaluation mode: the identity, the very same Var.
	if out := d.Forward(nn.Eval(), x); out != x {
		t.Fatal("dropout in evaluation mode is not the identity")
	}
	// Same seed, same mask; another seed, another mask.
	a := d.Forward(nn.Train(tensor.NewRNG(7)), x).Value
	b := d.Forward(nn.Train(tensor.NewRNG(7)), x).Value
	c := d.Forward(nn.Train(tensor.NewRNG(8)), x).Value
	if !tensor.AllClose(a, b, 0, 0) || tensor.AllClose(a, c, 0, 0) {
		t.Fatal("the mask does not follow Ctx.RNG")
	}
}

func TestDropoutErrors(t *testing.T) {
	d := nn.NewDropout(0.5)
	d.SetName("drop1")
	_, err := nn.Apply(d, &nn.Ctx{Tape: autograd.NewTape(), Training: true}, tensor.Ones(2, 2))
	if err == nil || !strings.Contains(err.Error(), "nn.Train(rng)") || !strings.Contains(err.Error(), `"drop1"`) {
		t.Fatalf("training without an RNG: %v", err)
	}
	for _, p := range []float64{-0.1, 1, math.NaN()} {
		if err := tensor.Catch(func() { nn.NewDropout(p) }); err == nil {
			t.Errorf("NewDropout(%v) accepted", p)
		}
	}
	if _, err := nn.Build(nn.Spec{Type: "dropout", Args: json.RawMessage(`{"p":1.5}`)}, nil); err == nil {
		t.Error("Build accepted p = 1.5")
	}
}
