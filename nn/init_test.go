package nn_test

import (
	"math"
	"testing"

	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

func moments(t *tensor.Tensor) (mean, std, lo, hi float64) {
	d := t.Data()
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range d {
		mean += float64(v)
		lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
	}
	mean /= float64(len(d))
	for _, v := range d {
		std += (float64(v) - mean) * (float64(v) - mean)
	}
	return mean, math.Sqrt(std / float64(len(d))), lo, hi
}

func TestInitialiserScales(t *testing.T) {
	rng := tensor.NewRNG(1)
	const fanIn, fanOut = 200, 50
	cases := []struct {
		name    string
		t       *tensor.Tensor
		std     float64
		uniform float64 // bound, 0 for normal
	}{
		{"he_normal", nn.HeNormal(rng, fanIn, 200, 300), math.Sqrt(2.0 / fanIn), 0},
		{"he_uniform", nn.HeUniform(rng, fanIn, 200, 300), math.Sqrt(2.0 / fanIn), math.Sqrt(6.0 / fanIn)},
		{"glorot_normal", nn.GlorotNormal(rng, fanIn, fanOut, 200, 300), math.Sqrt(2.0 / (fanIn + fanOut)), 0},
		{"glorot_uniform", nn.GlorotUniform(rng, fanIn, fanOut, 200, 300), math.Sqrt(2.0 / (fanIn + fanOut)), math.Sqrt(6.0 / (fanIn + fanOut))},
	}
	for _, c := range cases {
		mean, std, lo, hi := moments(c.t)
		if math.Abs(mean) > 0.02*c.std || math.Abs(std-c.std) > 0.02*c.std {
			t.Errorf("%s: mean %.4g std %.4g, want 0 and %.4g", c.name, mean, std, c.std)
		}
		if c.uniform > 0 && (lo < -c.uniform || hi > c.uniform || hi < 0.99*c.uniform) {
			t.Errorf("%s: range [%.4g, %.4g], want within ±%.4g and filling it", c.name, lo, hi, c.uniform)
		}
	}
}

// gram returns AᵀA (cols×cols) in float64.
func gram(a *tensor.Tensor, transpose bool) [][]float64 {
	r, c := a.Dim(0), a.Dim(1)
	at := func(i, j int) float64 { return float64(a.At(i, j)) }
	if transpose {
		r, c = c, r
		at = func(i, j int) float64 { return float64(a.At(j, i)) }
	}
	g := make([][]float64, c)
	for i := range g {
		g[i] = make([]float64, c)
		for j := range g[i] {
			for k := 0; k < r; k++ {
				g[i][j] += at(k, i) * at(k, j)
			}
		}
	}
	return g
}

func TestOrthogonal(t *testing.T) {
	for _, sh := range [][2]int{{6, 6}, {10, 4}, {3, 8}, {1, 5}, {64, 64}} {
		q := nn.Orthogonal(tensor.NewRNG(3), sh[0], sh[1])
		if q.Dim(0) != sh[0] || q.Dim(1) != sh[1] {
			t.Fatalf("shape %v, want %v", q.Shape(), sh)
		}
		// Tall or square: orthonormal columns (QᵀQ = I); wide: orthonormal rows.
		g := gram(q, sh[0] < sh[1])
		for i := range g {
			for j := range g[i] {
				want := 0.0
				if i == j {
					want = 1
				}
				if math.Abs(g[i][j]-want) > 1e-5 {
					t.Fatalf("%v: Gram[%d][%d] = %v, want %v", sh, i, j, g[i][j], want)
				}
			}
		}
	}
	a, b := nn.Orthogonal(tensor.NewRNG(5), 5, 5), nn.Orthogonal(tensor.NewRNG(5), 5, 5)
	if !tensor.AllClose(a, b, 0, 0) {
		t.Fatal("same seed, different orthogonal matrices")
	}
	if c := nn.Orthogonal(tensor.NewRNG(6), 5, 5); tensor.AllClose(a, c, 0, 1e-3) {
		t.Fatal("different seeds gave the same matrix")
	}
}

func TestInitByName(t *testing.T) {
	for _, i := range nn.Inits() {
		x, err := i.New(tensor.NewRNG(1), 4, 6, 4, 6)
		if err != nil {
			t.Fatalf("%s: %v", i, err)
		}
		_, std, _, _ := moments(x)
		if (i == nn.InitZeros) != (std == 0) {
			t.Fatalf("%s: std %v", i, std)
		}
	}
	if _, err := nn.Init("lecun").New(tensor.NewRNG(1), 1, 1, 2); err == nil {
		t.Fatal("unknown initialiser accepted")
	}
	if _, err := nn.InitHeNormal.New(tensor.NewRNG(1), 0, 1, 2); err == nil {
		t.Fatal("fan 0 accepted")
	}
}
