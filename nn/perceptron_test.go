package nn_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/loss"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/nn/layertest"
	"github.com/glassbox-ml/glassbox/optim"
	"github.com/glassbox-ml/glassbox/tensor"
)

var boolInputs = tensor.MustFromSlice([]float32{0, 0, 0, 1, 1, 0, 1, 1}, 4, 2)

func truth(a, b, c, d float32) *tensor.Tensor {
	return tensor.MustFromSlice([]float32{a, b, c, d}, 4, 1)
}

func TestPerceptronLearnsANDandOR(t *testing.T) {
	for name, y := range map[string]*tensor.Tensor{"AND": truth(0, 0, 0, 1), "OR": truth(0, 1, 1, 1), "NAND": truth(1, 1, 1, 0)} {
		p := nn.NewPerceptron(2, 1, tensor.NewRNG(1))
		h, err := p.PerceptronRule(boolInputs, y, 0.1, 100)
		if err != nil {
			t.Fatal(err)
		}
		if !h.Converged || h.Mistakes[len(h.Mistakes)-1] != 0 {
			t.Fatalf("%s: not converged after %d epochs: %v", name, len(h.Mistakes), h.Mistakes)
		}
		if h.Mistakes[0] == 0 {
			t.Fatalf("%s: the random start already solved it; the test shows no learning", name)
		}
		out, err := nn.Predict(p, boolInputs)
		if err != nil {
			t.Fatal(err)
		}
		if !tensor.AllClose(out, y, 0, 0) {
			t.Fatalf("%s: perceptron outputs %v, want %v", name, out.Data(), y.Data())
		}
	}
}

func TestPerceptronFailsOnXOR(t *testing.T) {
	p := nn.NewPerceptron(2, 1, tensor.NewRNG(1))
	xor := truth(0, 1, 1, 0)
	h, err := p.PerceptronRule(boolInputs, xor, 0.1, 200)
	if err != nil {
		t.Fatal(err)
	}
	if h.Converged || len(h.Mistakes) != 200 {
		t.Fatalf("the perceptron claims to have learned XOR: %+v", h)
	}
	for e, m := range h.Mistakes {
		if m == 0 {
			t.Fatalf("epoch %d made no mistake on XOR", e)
		}
	}
	out, _ := nn.Predict(p, boolInputs)
	wrong := 0
	for i, v := range out.Data() {
		if v != xor.Data()[i] {
			wrong++
		}
	}
	if wrong == 0 {
		t.Fatal("a single perceptron separated XOR, which no line can")
	}
}

// An MLP with one hidden layer, trained by gradient descent (Adam), solves
// what the perceptron could not.
func TestMLPSolvesXORWithAdam(t *testing.T) {
	rng := tensor.NewRNG(3)
	mlp := nn.NewSequential(nn.NewLinear(2, 8, rng), nn.NewTanh(), nn.NewLinear(8, 1, rng))
	opt, err := optim.NewAdam(mlp.Params(), 0.05)
	if err != nil {
		t.Fatal(err)
	}
	x := autograd.Const(boolInputs)
	y := autograd.Const(truth(0, 1, 1, 0))
	var last float32
	for range 300 {
		c := nn.Train(rng)
		l := loss.BCEWithLogits(c.Tape, mlp.Forward(c, x), y)
		opt.ZeroGrad()
		if err := c.Tape.Backward(l); err != nil {
			t.Fatal(err)
		}
		if err := opt.Step(); err != nil {
			t.Fatal(err)
		}
		last = l.Value.Item()
	}
	if last > 0.05 {
		t.Fatalf("XOR loss %v after training, want < 0.05", last)
	}
	out, _ := nn.Predict(mlp, boolInputs)
	for i, v := range out.Data() {
		if (v > 0) != (truth(0, 1, 1, 0).Data()[i] == 1) {
			t.Fatalf("MLP gets XOR example %d wrong (logit %v)", i, v)
		}
	}
	if names := mlp.Params()[0].Name + "," + mlp.Params()[2].Name; names != "linear0/weight,linear2/weight" {
		t.Fatalf("Sequential param names %s", names)
	}
}

func TestPerceptronConformsAndScore(t *testing.T) {
	layertest.Run(t, func(rng *rand.Rand) nn.Module { return nn.NewPerceptron(3, 2, rng) }, []int{4, 3}, layertest.NotDifferentiable())
	p := nn.NewPerceptron(2, 1, tensor.NewRNG(1))
	p.Weight.Value.CopyFrom(tensor.MustFromSlice([]float32{1, 1}, 2, 1))
	p.Bias.Value.Fill(-1.5)
	tp := autograd.NewTape()
	s := p.Score(&nn.Ctx{Tape: tp}, autograd.Const(boolInputs))
	if got := s.Value.Data(); got[0] != -1.5 || got[3] != 0.5 {
		t.Fatalf("scores %v", got)
	}
	out, _ := nn.Predict(p, boolInputs)
	if !tensor.AllClose(out, truth(0, 0, 0, 1), 0, 0) {
		t.Fatalf("hand-set AND perceptron outputs %v", out.Data())
	}
	if err := tp.Backward(tp.Sum(s, false)); err != nil || p.Weight.Grad == nil {
		t.Fatalf("Score is not differentiable: %v", err)
	}
}

func TestPerceptronRuleErrors(t *testing.T) {
	p := nn.NewPerceptron(2, 1, tensor.NewRNG(1))
	cases := []struct {
		x, y *tensor.Tensor
		lr   float32
		want string
	}{
		{tensor.New(4, 3), truth(0, 0, 0, 1), 1, "[examples, 2]"},
		{boolInputs, tensor.New(3, 1), 1, "targets"},
		{boolInputs, truth(0, 2, 0, 1), 1, "0 or 1"},
		{boolInputs, truth(0, 0, 0, 1), 0, "learning rate"},
	}
	for _, c := range cases {
		if _, err := p.PerceptronRule(c.x, c.y, c.lr, 10); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one mentioning %q", err, c.want)
		}
	}
	// [n] targets are accepted for a single output.
	if _, err := p.PerceptronRule(boolInputs, tensor.MustFromSlice([]float32{0, 0, 0, 1}, 4), 1, 10); err != nil {
		t.Fatal(err)
	}
}
