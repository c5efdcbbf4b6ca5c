package layertest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// scale is a deliberately configurable test layer: y = x·w (w a [d]
// vector broadcast over the batch). Its flaws are switched on by fields,
// so the kit can be shown to catch each one.
type scale struct {
	W          *autograd.Var
	D          int
	badGrad    bool // backward forgets the factor w
	badSpec    bool // Spec loses the size
	noisyEval  bool // evaluation depends on a hidden counter
	calls      int
	name       string
	unnamedW   bool
	noBatchFix bool   // output drops the batch axis
	specType   string // "layertest-scale" unless set
	shapeFlaw  string // OutputShape "wrong" (one size off), "lax" (no check) or "words" (other error)
}

func newScale(d int, rng *rand.Rand) *scale {
	return &scale{W: autograd.Param(tensor.RandN(rng, 1, 0.5, d), "w"), D: d}
}

func (s *scale) Forward(c *nn.Ctx, x *autograd.Var) *autograd.Var {
	s.calls++
	if sh := x.Shape(); len(sh) != 2 || sh[1] != s.D {
		panic(&tensor.ShapeError{Op: "layertest-scale", Msg: fmt.Sprintf("input must be [batch, %d], got %v", s.D, sh)})
	}
	var y *autograd.Var
	if s.badGrad {
		// Correct value, gradient with respect to x missing the factor w.
		v := tensor.Mul(x.Value, s.W.Value)
		y = c.Tape.Custom(v, func(g *tensor.Tensor) []*tensor.Tensor {
			return []*tensor.Tensor{g.Clone(), tensor.Mul(g, x.Value)}
		}, x, s.W)
	} else {
		y = c.Tape.Mul(x, s.W)
	}
	if s.noisyEval && !c.Training {
		y = c.Tape.AddScalar(y, float32(s.calls))
	}
	if s.noBatchFix {
		y = c.Tape.Sum(y, false, 0)
	}
	return y
}

func (s *scale) OutputShape(in []int) ([]int, error) {
	if s.shapeFlaw != "lax" && (len(in) != 2 || in[1] != s.D) {
		msg := fmt.Sprintf("input must be [batch, %d], got %v", s.D, in)
		if s.shapeFlaw == "words" {
			msg = "bad input"
		}
		return nil, &tensor.ShapeError{Op: "layertest-scale", Msg: msg}
	}
	out := slices.Clone(in)
	if s.shapeFlaw == "wrong" {
		out[len(out)-1]++
	}
	if s.noBatchFix {
		out = out[1:]
	}
	return out, nil
}

func (s *scale) Params() []*autograd.Var { return []*autograd.Var{s.W} }

func (s *scale) Spec() nn.Spec {
	d := s.D
	if s.badSpec {
		d++
	}
	typ := s.specType
	if typ == "" {
		typ = "layertest-scale"
	}
	return nn.MakeSpec(typ, s.name, map[string]int{"d": d})
}

func (s *scale) LayerName() string { return s.name }

func (s *scale) SetName(n string) {
	s.name = n
	if !s.unnamedW {
		s.W.Name = n + "/w"
	}
}

func init() {
	// layertest-scale is sized correctly; layertest-scale-unsized has no
	// Sizer and layertest-scale-badsize a wrong one.
	for typ, size := range map[string]nn.Sizer{
		"layertest-scale":         func(sp nn.Spec) (int64, error) { d, err := scaleSize(sp); return int64(d), err },
		"layertest-scale-unsized": nil,
		"layertest-scale-badsize": func(sp nn.Spec) (int64, error) { d, err := scaleSize(sp); return int64(d) - 1, err },
	} {
		build := func(sp nn.Spec, rng *rand.Rand) (nn.Module, error) {
			d, err := scaleSize(sp)
			if err != nil {
				return nil, err
			}
			l := newScale(d, rng)
			l.specType = typ
			l.SetName(sp.Name)
			return l, nil
		}
		if size == nil {
			nn.Register(typ, build)
		} else {
			nn.RegisterSized(typ, build, size)
		}
	}
}

func scaleSize(sp nn.Spec) (int, error) {
	var a struct{ D int }
	if err := sp.UnmarshalArgs(&a); err != nil {
		return 0, err
	}
	if a.D < 1 || a.D > nn.MaxDim {
		return 0, fmt.Errorf("d=%d out of range", a.D)
	}
	return a.D, nil
}

func TestGoodLayerPasses(t *testing.T) {
	Run(t, func(rng *rand.Rand) nn.Module { return newScale(3, rng) }, []int{2, 3})
}

func TestKitCatchesBrokenLayers(t *testing.T) {
	cases := []struct {
		name  string
		flaw  func(*scale)
		check string
		want  string
	}{
		{"wrong gradient", func(s *scale) { s.badGrad = true }, "gradients", "gradient of the input"},
		{"spec loses size", func(s *scale) { s.badSpec = true }, "spec", ""},
		{"random eval", func(s *scale) { s.noisyEval = true }, "eval", "differ"},
		{"SetName forgets params", func(s *scale) { s.unnamedW = true }, "names", "probe/"},
		{"drops batch axis", func(s *scale) { s.noBatchFix = true }, "shape", "batch of"},
		{"type without a Sizer", func(s *scale) { s.specType = "layertest-scale-unsized" }, "spec", "RegisterSized"},
		{"wrong Sizer", func(s *scale) { s.specType = "layertest-scale-badsize" }, "spec", "layer holds 3"},
		{"OutputShape one size off", func(s *scale) { s.shapeFlaw = "wrong" }, "outputshape", "Forward gives [2 3]"},
		{"OutputShape without checks", func(s *scale) { s.shapeFlaw = "lax" }, "outputshape", "Forward refuses the shape"},
		{"OutputShape in other words", func(s *scale) { s.shapeFlaw = "words" }, "outputshape", "report the same error"},
	}
	for _, c := range cases {
		newLayer := func(rng *rand.Rand) nn.Module {
			s := newScale(3, rng)
			c.flaw(s)
			return s
		}
		cfg := config{inputGrad: true, differentiable: true, batchAxis: true, eps: 1e-2, rtol: 2e-2, atol: 2e-3, maxChecks: 96, input: defaultInput}
		var err error
		for _, ch := range checks(&cfg) {
			if ch.name == c.check {
				err = ch.fn(newLayer, []int{2, 3}, &cfg)
			}
		}
		if err == nil {
			t.Errorf("%s: the %q check passed a broken layer", c.name, c.check)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not mention %q", c.name, err, c.want)
		}
	}
}

func TestIndices(t *testing.T) {
	if got := indices(5, 10); len(got) != 5 || got[4] != 4 {
		t.Fatalf("indices(5, 10) = %v", got)
	}
	got := indices(1000, 4)
	if len(got) != 4 || got[0] != 0 || got[3] != 999 {
		t.Fatalf("indices(1000, 4) = %v", got)
	}
}

// TestCheckElementKinks: at a kink the backward value must lie between the
// one-sided derivatives; near a kink (within the step) the step shrinks
// and the check is strict again; where the function is smooth it is the
// plain central difference.
func TestCheckElementKinks(t *testing.T) {
	cfg := config{eps: 1e-2, rtol: 2e-2, atol: 2e-3}
	cases := []struct {
		name string
		x    float32
		f    func(x float64) float64
		ana  float64
		ok   bool
	}{
		{"relu at 0, left derivative", 0, func(x float64) float64 { return max(x, 0) }, 0, true},
		{"relu at 0, right derivative", 0, func(x float64) float64 { return max(x, 0) }, 1, true},
		{"relu at 0, outside", 0, func(x float64) float64 { return max(x, 0) }, -0.5, false},
		{"abs at 0, between", 0, math.Abs, 0.3, true},
		{"abs at 0, outside", 0, math.Abs, 1.5, false},
		{"kink within the step, right value", 0, func(x float64) float64 { return max(x-0.005, 0) }, 0, true},
		{"kink within the step, other side's slope", 0, func(x float64) float64 { return max(x-0.005, 0) }, 1, false},
		{"smooth, right", 1, func(x float64) float64 { return x * x }, 2, true},
		{"smooth, wrong", 1, func(x float64) float64 { return x * x }, 1.9, false},
		{"NaN", 1, func(x float64) float64 { return x }, math.NaN(), false},
	}
	for _, c := range cases {
		d := []float32{c.x}
		project := func() (float64, error) { return c.f(float64(d[0])), nil }
		err := checkElement(d, 0, c.ana, c.f(float64(c.x)), project, &cfg)
		if (err == nil) != c.ok {
			t.Errorf("%s: backward %v: err = %v", c.name, c.ana, err)
		}
		if d[0] != c.x {
			t.Errorf("%s: the element was left at %v", c.name, d[0])
		}
	}
}
