package check_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/predictor"
)

// The planted-signal image: 1×8×8, class 0 ("signal") when the 3×3 patch
// at rows and columns 1–3 is bright, class 2 reading another patch (rows
// and columns 5–7), class 1 the rest.
const side = 8

func inPatch(p, lo int) bool {
	r, c := p/side, p%side
	return r >= lo && r < lo+3 && c >= lo && c < lo+3
}

// plantedModel is Flatten → Linear(64, 8) → ReLU → Linear(8, 3): hidden
// unit 0 sums the planted patch, unit 1 the other patch, and every unit
// also carries small dense weights, as a trained network does. The
// output layer turns unit 0 into class 0's evidence.
func plantedModel(t testing.TB) (*predictor.Predictor, []float32, []float32) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	l1, l2 := nn.NewLinear(side*side, 8, rng), nn.NewLinear(8, 3, rng)
	w1 := l1.Weight.Value.Data() // [in, out]
	for i := range w1 {
		w1[i] = float32(0.05 * rng.NormFloat64())
	}
	for p := range side * side {
		if inPatch(p, 1) {
			w1[p*8+0] += 1
		}
		if inPatch(p, 5) {
			w1[p*8+1] += 1
		}
	}
	w2 := l2.Weight.Value.Data() // [8, 3]
	for i := range w2 {
		w2[i] = float32(0.05 * rng.NormFloat64())
	}
	w2[0*3+0], w2[1*3+2] = 1.5, 1.5
	b2 := l2.Bias.Value.Data()
	b2[0], b2[1], b2[2] = -4, 0, -4
	m := nn.NewSequential(nn.NewFlatten(), l1, nn.NewReLU(), l2)
	p, err := predictor.New(m, model.Meta{Task: "classification", InputShape: []int{1, side, side}, Classes: []string{"signal", "none", "other"}})
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, side*side)
	mask := make([]float32, side*side)
	for i := range x {
		x[i] = float32(0.3 * rng.Float64())
		if inPatch(i, 1) {
			x[i], mask[i] = 0.9+float32(0.1*rng.Float64()), 1
		}
	}
	return p, x, mask
}

// linearWeights are the linear table model's: y = Σ w_j x_j + 1.
var linearWeights = []float32{3, -2, 1.5, -1, 0.5, 0.25}

// linearModel is a regression y = w·x + 1 over 6 columns with 200
// standard-normal training rows, and an input 1.2 spreads from the mean
// in every column (inside a quartile bin, away from its edges).
func linearModel(t testing.TB) (*predictor.Predictor, []float32) {
	t.Helper()
	d := len(linearWeights)
	rng := rand.New(rand.NewPCG(3, 4))
	l := nn.NewLinear(d, 1, rng)
	copy(l.Weight.Value.Data(), linearWeights)
	l.Bias.Value.Data()[0] = 1
	p, err := predictor.New(nn.NewSequential(l), model.Meta{Task: "regression", InputShape: []int{d}})
	if err != nil {
		t.Fatal(err)
	}
	p.Background = make([]float32, 200*d)
	for i := range p.Background {
		p.Background[i] = float32(rng.NormFloat64())
	}
	x := make([]float32, d)
	for j := range x {
		x[j] = float32(1.2 * math.Pow(-1, float64(j)))
	}
	return p, x
}

// edgeMethod is a deliberately broken explainer: it returns the input's
// edges (the gradient magnitude of the image), whatever the model.
type edgeMethod struct{}

func (edgeMethod) Info() explain.MethodInfo {
	return explain.MethodInfo{Name: "edges", Title: "Edges", Summary: "the input's edges (a broken explainer for tests)", Inputs: []explain.InputKind{explain.Image}}
}

func (edgeMethod) Explain(_ context.Context, s *explain.Subject, x []float32, _ explain.Options, res *explain.Result) error {
	h, w := s.Shape[1], s.Shape[2]
	res.Attribution = make([]float32, h*w)
	for r := range h {
		for c := range w {
			at := func(r, c int) float32 { return x[min(max(r, 0), h-1)*w+min(max(c, 0), w-1)] }
			gx, gy := at(r, c+1)-at(r, c-1), at(r+1, c)-at(r-1, c)
			res.Attribution[r*w+c] = float32(math.Hypot(float64(gx), float64(gy)))
		}
	}
	res.Features = h * w
	return nil
}

func init() { explain.Register(edgeMethod{}) }

// checksOf indexes a result's checks by name.
func checksOf(res *explain.Result) map[string]explain.Check {
	out := map[string]explain.Check{}
	for _, c := range res.Checks {
		out[c.Name] = c
	}
	return out
}

// plantedTable is a classifier of 20 standard-normal columns whose class
// is decided by columns 0 and 1 only: Linear(20, 4) → ReLU → Linear(4, 2)
// with small dense weights elsewhere, 300 training rows, and an input
// where the planted columns speak clearly. The mask marks columns 0, 1.
func plantedTable(t testing.TB) (*predictor.Predictor, []float32, []float32) {
	t.Helper()
	const d = 20
	rng := rand.New(rand.NewPCG(5, 6))
	l1, l2 := nn.NewLinear(d, 4, rng), nn.NewLinear(4, 2, rng)
	w1 := l1.Weight.Value.Data() // [20, 4]
	for i := range w1 {
		w1[i] = float32(0.02 * rng.NormFloat64())
	}
	w1[0*4+0], w1[1*4+0] = 2, 1.5 // unit 0: the signal
	w1[0*4+1], w1[1*4+1] = -2, -1.5
	w2 := l2.Weight.Value.Data() // [4, 2]
	for i := range w2 {
		w2[i] = float32(0.02 * rng.NormFloat64())
	}
	w2[0*2+1], w2[1*2+0] = 2, 2
	p, err := predictor.New(nn.NewSequential(l1, nn.NewReLU(), l2), model.Meta{Task: "classification", InputShape: []int{d}, Classes: []string{"no", "yes"}})
	if err != nil {
		t.Fatal(err)
	}
	p.Background = make([]float32, 300*d)
	for i := range p.Background {
		p.Background[i] = float32(rng.NormFloat64())
	}
	x := make([]float32, d)
	for j := range x {
		x[j] = float32(0.3 * rng.NormFloat64())
	}
	x[0], x[1] = 1.3, 1.1
	mask := make([]float32, d)
	mask[0], mask[1] = 1, 1
	return p, x, mask
}
