package nn_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/nn/layertest"
	"github.com/glassbox-ml/glassbox/tensor"
)

// ids draws token ids in [0, vocab) as float32.
func ids(vocab int) func(rng *rand.Rand, shape []int) *tensor.Tensor {
	return func(rng *rand.Rand, shape []int) *tensor.Tensor {
		t := tensor.New(shape...)
		d := t.Data()
		for i := range d {
			d[i] = float32(rng.IntN(vocab))
		}
		return t
	}
}

func TestEmbeddingConforms(t *testing.T) {
	layertest.Run(t, func(rng *rand.Rand) nn.Module { return nn.NewEmbedding(7, 3, rng) }, []int{2, 5},
		layertest.Input(ids(7)), layertest.NoInputGrad())
}

func TestEmbeddingLookupAndGradient(t *testing.T) {
	l := nn.NewEmbedding(4, 2, tensor.NewRNG(1))
	l.Weight.Value.CopyFrom(tensor.MustFromSlice([]float32{0, 1, 10, 11, 20, 21, 30, 31}, 4, 2))
	x := tensor.MustFromSlice([]float32{3, 0, 3, 1, 1, 1}, 2, 3)
	c := nn.Train(tensor.NewRNG(1))
	y, err := nn.Apply(l, c, x)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(y.Shape()) != "[2 3 2]" {
		t.Fatalf("shape %v", y.Shape())
	}
	want := []float32{30, 31, 0, 1, 30, 31, 10, 11, 10, 11, 10, 11}
	for i, v := range y.Value.Data() {
		if v != want[i] {
			t.Fatalf("lookup %v, want %v", y.Value.Data(), want)
		}
	}
	// d(sum)/d(row) counts how often each id occurs: 1, 3, 0, 2.
	if err := c.Tape.Backward(c.Tape.Sum(y, false)); err != nil {
		t.Fatal(err)
	}
	g := l.Weight.Grad.Data()
	for row, n := range []float32{1, 3, 0, 2} {
		if g[2*row] != n || g[2*row+1] != n {
			t.Fatalf("gradient of row %d is %v, want %v", row, g[2*row:2*row+2], n)
		}
	}
}

func TestEmbeddingErrors(t *testing.T) {
	l := nn.NewEmbedding(10, 4, tensor.NewRNG(1))
	l.SetName("emb")
	cases := []struct {
		ids  []float32
		want []string
	}{
		{[]float32{1, 12, 3}, []string{`embedding "emb"`, "id 12", "vocabulary size 10"}},
		{[]float32{-1, 2, 3}, []string{"id -1", "vocabulary size 10"}},
		{[]float32{1, 2.5, 3}, []string{"2.5", "whole number"}},
		{[]float32{1e30, 2, 3}, []string{"out of range"}},
	}
	for _, c := range cases {
		_, err := nn.Apply(l, nn.Eval(), tensor.MustFromSlice(c.ids, 1, 3))
		if err == nil {
			t.Fatalf("ids %v accepted", c.ids)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q does not mention %q", err, w)
			}
		}
	}
	if err := tensor.Catch(func() { nn.NewEmbedding(0, 3, tensor.NewRNG(1)) }); err == nil {
		t.Fatal("vocab 0 accepted")
	}
}
