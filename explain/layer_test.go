package explain

import (
	"context"
	"math"
	"strings"
	"testing"
)

// toyNet is h = ReLU(W x + b) (the hidden layer, 3 units over 4 inputs)
// followed by an onward part G(h) with two outputs: linear (V h) or, when
// product is set, output 0 = h0·h1 and output 1 = V₁·h. Its LayerAccess
// is written out by hand, so the layer attributions have analytic values.
type toyNet struct {
	W       [3][4]float64
	b       [3]float64
	V       [2][3]float64
	product bool
}

func newToyNet(product bool) *toyNet {
	return &toyNet{
		W:       [3][4]float64{{1, -0.5, 0.25, 0}, {0.5, 1, 0, -1}, {-1, 0.5, 1, 0.5}},
		b:       [3]float64{0.1, -0.2, 0.3},
		V:       [2][3]float64{{1.5, -2, 0.5}, {-1, 1, 2}},
		product: product,
	}
}

func (t *toyNet) pre(x []float32, j int) float64 {
	s := t.b[j]
	for i, w := range t.W[j] {
		s += w * float64(x[i])
	}
	return s
}

func (t *toyNet) hidden(x []float32) []float32 {
	h := make([]float32, 3)
	for j := range h {
		h[j] = float32(math.Max(0, t.pre(x, j)))
	}
	return h
}

func (t *toyNet) onward(h []float32, label int) (out [2]float64, grad [3]float64) {
	for o := range 2 {
		for j := range 3 {
			out[o] += t.V[o][j] * float64(h[j])
		}
	}
	grad = t.V[label]
	if t.product {
		out[0] = float64(h[0]) * float64(h[1])
		if label == 0 {
			grad = [3]float64{float64(h[1]), float64(h[0]), 0}
		}
	}
	return out, grad
}

func (t *toyNet) access() *LayerAccess {
	return &LayerAccess{Name: "relu1", Shape: []int{3},
		Activations: func(_ context.Context, x []float32, n int) ([]float32, error) {
			var a []float32
			for r := range n {
				a = append(a, t.hidden(x[r*4:(r+1)*4])...)
			}
			return a, nil
		},
		Onward: func(_ context.Context, a []float32, n, label int) ([]float32, []float32, error) {
			var out, grad []float32
			for r := range n {
				o, g := t.onward(a[r*3:(r+1)*3], label)
				out = append(out, float32(o[0]), float32(o[1]))
				grad = append(grad, float32(g[0]), float32(g[1]), float32(g[2]))
			}
			return out, grad, nil
		},
		Neuron: func(_ context.Context, x []float32, n, unit int) ([]float32, []float32, error) {
			var act, grad []float32
			for r := range n {
				xr := x[r*4 : (r+1)*4]
				act = append(act, t.hidden(xr)...)
				on := 0.0
				if t.pre(xr, unit) > 0 {
					on = 1
				}
				for i := range 4 {
					grad = append(grad, float32(t.W[unit][i]*on))
				}
			}
			return act, grad, nil
		},
	}
}

func (t *toyNet) subject() *Subject {
	la := t.access()
	return &Subject{Kind: Table, Shape: []int{4}, Mode: Regression, Outputs: 2,
		Predict: func(ctx context.Context, x []float32, n int) ([]float32, error) {
			a, _ := la.Activations(ctx, x, n)
			out, _, err := la.Onward(ctx, a, n, 0)
			return out, err
		},
		Layers: []string{"linear0", "relu1", "linear2"},
		Layer: func(name string) (*LayerAccess, error) {
			if name != "relu1" {
				return nil, errUnknownLayer(name)
			}
			return la, nil
		},
	}
}

type errUnknownLayer string

func (e errUnknownLayer) Error() string { return "unknown layer " + string(e) }

func near(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i])-want[i]) > tol*math.Max(1, math.Abs(want[i])) {
			t.Fatalf("%s = %v, want %v", what, got, want)
		}
	}
}

// On a linear onward part both layer methods give unit j exactly
// V_j·(h_j(x) − h_j(x')), even across a ReLU kink on the input path
// (conductance telescopes; Layer IG integrates a constant).
func TestLayerMethodsAnalyticOnLinearOnward(t *testing.T) {
	ctx := context.Background()
	net := newToyNet(false)
	x := []float32{1, 1.5, -0.5, 0.5}
	base := []float32{-1, 0.5, 1, 0} // unit 1 switches on along the path
	hx, hb := net.hidden(x), net.hidden(base)
	for label := range 2 {
		want := make([]float64, 3)
		for j := range want {
			want[j] = net.V[label][j] * float64(hx[j]-hb[j])
		}
		ig, err := LayerIntegratedGradients(ctx, net.access(), x, base, label, IGOptions{Steps: 8})
		if err != nil {
			t.Fatal(err)
		}
		near(t, "layer IG", ig.Values, want, 1e-5)
		cond, err := LayerConductance(ctx, net.access(), x, base, label, 7)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "layer conductance", cond.Values, want, 1e-5)
		if cond.Completeness.Relative > 1e-5 || ig.Completeness.Relative > 1e-5 {
			t.Fatalf("completeness: conductance %+v, IG %+v", cond.Completeness, ig.Completeness)
		}
	}
}

// On G(h) = h0·h1, Layer IG along the straight line in the layer's space
// gives unit 0 Δh0·(h1 + h1')/2 and unit 1 Δh1·(h0 + h0')/2 (Gauss–Legendre
// is exact for this quadratic), and adds up to f(x) − f(x').
func TestLayerIGAnalyticOnProduct(t *testing.T) {
	net := newToyNet(true)
	x := []float32{1, 1.5, -0.5, 0.5}
	base := []float32{0.5, 1, 0, 0}
	hx, hb := net.hidden(x), net.hidden(base)
	if hx[0] <= 0 || hx[1] <= 0 || hb[0] <= 0 || hb[1] <= 0 {
		t.Fatalf("test set-up: units 0 and 1 should be active: %v %v", hx, hb)
	}
	e, err := LayerIntegratedGradients(context.Background(), net.access(), x, base, 0, IGOptions{Steps: 4})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{float64(hx[0]-hb[0]) * float64(hx[1]+hb[1]) / 2, float64(hx[1]-hb[1]) * float64(hx[0]+hb[0]) / 2, 0}
	near(t, "layer IG", e.Values, want, 1e-5)
	delta := float64(hx[0])*float64(hx[1]) - float64(hb[0])*float64(hb[1])
	if math.Abs(e.Completeness.Sum-delta) > 1e-5 {
		t.Fatalf("Σ = %v, f(x) − f(x') = %v", e.Completeness.Sum, delta)
	}
}

// Layer conductance on a nonlinear onward part adds up to the output's
// change, closer with more steps.
func TestLayerConductanceCompleteness(t *testing.T) {
	net := newToyNet(true)
	x := []float32{1, 1.5, -0.5, 0.5}
	base := []float32{-1, 0.5, 1, 0}
	coarse, err := LayerConductance(context.Background(), net.access(), x, base, 0, 5)
	if err != nil {
		t.Fatal(err)
	}
	fine, err := LayerConductance(context.Background(), net.access(), x, base, 0, 400)
	if err != nil {
		t.Fatal(err)
	}
	if fine.Completeness.Residual > 0.01*math.Abs(fine.Completeness.Delta) || fine.Completeness.Residual >= coarse.Completeness.Residual {
		t.Fatalf("completeness: 5 steps %+v, 400 steps %+v", coarse.Completeness, fine.Completeness)
	}
}

// Neuron IG of a unit whose pre-activation stays positive on the path is
// W_j·(x − x') exactly; across a kink it still adds up to the unit's
// change. Neuron conductance through unit j of a linear onward part is
// V_j·W_j·(x − x') where the unit is active throughout.
func TestNeuronMethodsAnalytic(t *testing.T) {
	ctx := context.Background()
	net := newToyNet(false)
	x := []float32{1, 1.5, -0.5, 0.5}
	base := []float32{0.5, 0, 0, 0}
	if net.pre(x, 0) <= 0 || net.pre(base, 0) <= 0 {
		t.Fatal("test set-up: unit 0 should be active at both ends")
	}
	want := make([]float64, 4)
	cond := make([]float64, 4)
	for i := range want {
		want[i] = net.W[0][i] * float64(x[i]-base[i])
		cond[i] = net.V[1][0] * want[i]
	}
	e, err := NeuronIntegratedGradients(ctx, net.access(), x, base, 0, IGOptions{Steps: 3})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "neuron IG", e.Values, want, 1e-5)
	c, err := NeuronConductance(ctx, net.access(), x, base, 0, 1, IGOptions{Steps: 6})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "neuron conductance", c.Values, cond, 1e-5)

	// Unit 1 switches on half-way: completeness, not linearity.
	kinked := []float32{-1, 0.5, 1, 0}
	k, err := NeuronIntegratedGradients(ctx, net.access(), x, kinked, 1, IGOptions{Steps: 400, Method: RiemannMiddle})
	if err != nil {
		t.Fatal(err)
	}
	delta := float64(net.hidden(x)[1] - net.hidden(kinked)[1])
	if delta == 0 || math.Abs(k.Completeness.Sum-delta) > 0.01*math.Abs(delta) {
		t.Fatalf("neuron IG across a kink adds up to %v, the unit changes by %v", k.Completeness.Sum, delta)
	}
	if _, err := NeuronIntegratedGradients(ctx, net.access(), x, base, 3, IGOptions{}); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Fatalf("unit 3 of 3: %v", err)
	}
}

// Through Run: the default layer, the default unit (the most active), the
// ranking names, the cost counted and unknown layers refused.
func TestLayerMethodsThroughRun(t *testing.T) {
	ctx := context.Background()
	net := newToyNet(false)
	s := net.subject()
	x := []float32{1, 1.5, -0.5, 0.5}
	res, err := Run(ctx, "layerig", s, x, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Layer != "relu1" || len(res.Top) != 3 || !strings.HasPrefix(res.Top[0].Name, "relu1[") || res.ModelCalls < 3 {
		t.Fatalf("layerig: layer %q, top %+v, %d calls", res.Layer, res.Top, res.ModelCalls)
	}
	if r := res.Quality["completeness_residual"]; !(r < 1e-4) {
		t.Fatalf("completeness residual %v", r)
	}
	res, err = Run(ctx, "neuronconductance", s, x, Options{Label: Class(1)})
	if err != nil {
		t.Fatal(err)
	}
	h := net.hidden(x)
	if res.Unit == nil || *res.Unit != argmax(h) || len(res.Top) != 4 {
		t.Fatalf("default unit %v, want %d (activations %v); top %+v", res.Unit, argmax(h), h, res.Top)
	}
	if _, err := Run(ctx, "layerconductance", s, x, Options{Layer: "relu"}); err == nil || !strings.Contains(err.Error(), "unknown layer") {
		t.Fatalf("unknown layer: %v", err)
	}
	s.Layer = nil
	if _, err := Run(ctx, "neuronig", s, x, Options{}); err == nil || !strings.Contains(err.Error(), "hidden layers") {
		t.Fatalf("no layer access: %v", err)
	}
}
