package predictor

import (
	"context"
	"testing"
)

// TestRandomizedONNX: an imported ONNX network is randomised on a copy,
// from the top: layer 0 is its last Gemm/Conv, the original still
// predicts as before, and the copy predicts otherwise.
func TestRandomizedONNX(t *testing.T) {
	ctx := context.Background()
	p, err := Load("testdata/tiny_cnn.onnx")
	if err != nil {
		t.Fatal(err)
	}
	s := p.Subject()
	if s.Randomized == nil || s.RandomLayers < 2 {
		t.Fatalf("the ONNX subject offers %d random layers", s.RandomLayers)
	}
	x, _ := probe(t)
	before, _ := s.Predict(ctx, x, 1)
	rs, err := s.Randomized([]int{0}, 3)
	if err != nil {
		t.Fatal(err)
	}
	random, _ := rs.Predict(ctx, x, 1)
	after, _ := s.Predict(ctx, x, 1)
	changed := false
	for i := range before {
		if before[i] != after[i] {
			t.Fatalf("randomising a copy changed the original's output %d", i)
		}
		changed = changed || before[i] != random[i]
	}
	if !changed {
		t.Error("the randomised copy predicts exactly as the original")
	}
	groups := paramLayers(p.Module)
	q, err := p.Randomized([]int{0}, 3)
	if err != nil {
		t.Fatal(err)
	}
	first, last := groups[0][0], groups[len(groups)-1][0]
	if p.Module.Params()[first].Value.Data()[0] != q.Module.Params()[first].Value.Data()[0] ||
		p.Module.Params()[last].Value.Data()[0] == q.Module.Params()[last].Value.Data()[0] {
		t.Error("layer 0 must be the last layer: the first changed or the last did not")
	}
}
