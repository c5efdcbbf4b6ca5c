package nn_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
	"github.com/glassbox-ml/glassbox/zoo"
)

// forwardShape runs m in evaluation mode on zeros of the given shape (valid
// ids for an Embedding) and returns the output's shape or Forward's shape
// error.
func forwardShape(m nn.Module, shape []int) ([]int, error) {
	y, err := nn.Predict(m, tensor.New(shape...))
	if err != nil {
		return nil, err
	}
	return y.Shape(), nil
}

// TestOutputShapeMatchesForward: for every layer type, on inputs that fit
// and inputs that do not, OutputShape gives the shape Forward gives or
// the error Forward reports, word for word. (The conformance kit checks
// the same around each layer's own test shape.)
func TestOutputShapeMatchesForward(t *testing.T) {
	rng := tensor.NewRNG(1)
	named := func(m nn.Module, name string) nn.Module { m.(nn.Named).SetName(name); return m }
	layers := []struct {
		name   string
		m      nn.Module
		shapes [][]int
	}{
		{"linear", named(nn.NewLinear(3, 2, rng), "fc"), [][]int{{4, 3}, {1, 5, 3}, {2, 2, 2, 3}, {0, 3}, {3}, {4, 2}, {}, {2, 3, 1}}},
		{"perceptron", nn.NewPerceptron(3, 2, rng), [][]int{{4, 3}, {1, 3}, {4, 2}, {1, 4, 3}, {3}}},
		{"relu", nn.NewReLU(), [][]int{{2, 3}, {5}, {}, {1, 2, 3, 4}, {0, 2}}},
		{"sigmoid", nn.NewSigmoid(), [][]int{{2, 3}, {1, 1, 1}}},
		{"tanh", nn.NewTanh(), [][]int{{2, 3}, {7}}},
		{"gelu", nn.NewGELU(), [][]int{{2, 3}, {2, 1, 2}}},
		{"leaky_relu", nn.NewLeakyReLU(0.1), [][]int{{2, 3}, {4}}},
		{"softmax", named(nn.NewSoftmax(), "probs"), [][]int{{2, 3}, {4}, {}, {2, 3, 5}}},
		{"dropout", nn.NewDropout(0.5), [][]int{{2, 3}, {}, {1, 2, 3}}},
		{"flatten", nn.NewFlatten(), [][]int{{2, 3, 4, 5}, {2, 3}, {3}, {}, {1, 1, 1}}},
		{"batchnorm1d", nn.NewBatchNorm1D(3), [][]int{{2, 3}, {1, 3}, {2, 3, 4}, {2, 4}, {3}, {2, 3, 4, 5}}},
		{"batchnorm2d", named(nn.NewBatchNorm2D(2), "bn"), [][]int{{1, 2, 3, 3}, {2, 2, 1, 1}, {1, 3, 3, 3}, {2, 2, 3}, {2, 2}}},
		{"conv2d", named(nn.NewConv2D(2, 3, 3, rng, nn.ConvPadding(1)), "c1"), [][]int{{1, 2, 5, 5}, {2, 2, 1, 1}, {1, 2, 7, 3}, {1, 3, 5, 5}, {2, 5, 5}, {1, 2, 5, 5, 1}}},
		{"conv2d strided", nn.NewConv2D(2, 4, 3, rng, nn.ConvStrideHW(2, 3), nn.ConvKernelHW(3, 2), nn.ConvGroups(2)), [][]int{{1, 2, 5, 5}, {1, 2, 3, 2}, {1, 2, 2, 5}, {1, 2, 9, 11}, {1, 4, 5, 5}}},
		{"conv2d 1x1", nn.NewConv2D(3, 5, 1, rng), [][]int{{2, 3, 4, 4}, {1, 3, 1, 1}, {1, 5, 4, 4}}},
		{"maxpool2d", nn.NewMaxPool2D(2, 0, 0), [][]int{{1, 3, 4, 6}, {1, 3, 5, 5}, {1, 1, 1, 4}, {1, 1, 2, 2}, {3, 4, 4}}},
		{"maxpool2d padded", named(nn.NewMaxPool2D(3, 2, 1), "pool"), [][]int{{1, 2, 5, 5}, {1, 2, 1, 1}, {1, 2, 6, 1}}},
		{"maxpool2d bad window", &nn.MaxPool2D{Pool: tensor.PoolParams{KH: 2, KW: 2, PadH: 2}}, [][]int{{1, 1, 4, 4}}},
		{"avgpool2d", nn.NewAvgPool2D(3, 2, 1), [][]int{{1, 2, 5, 6}, {1, 2, 1, 1}, {2, 5, 6}}},
		{"avgpool2d non-square", &nn.AvgPool2D{Pool: tensor.PoolParams{KH: 3, KW: 2, StrideH: 2, StrideW: 1, PadH: 1}}, [][]int{{1, 2, 5, 4}, {1, 2, 1, 2}, {1, 2, 1, 1}}},
		{"avgpool2d bad stride", &nn.AvgPool2D{Pool: tensor.PoolParams{KH: 2, KW: 2, StrideH: -1}}, [][]int{{1, 1, 4, 4}}},
		{"globalavgpool2d", nn.NewGlobalAvgPool2D(), [][]int{{2, 3, 4, 5}, {1, 1, 1, 1}, {2, 3, 4}}},
		{"embedding", named(nn.NewEmbedding(5, 3, rng), "emb"), [][]int{{2, 4}, {7}, {1, 2, 3}, {}, {2, 0}}},
		{"rnn", nn.NewRNN(3, 4, rng), [][]int{{2, 5, 3}, {1, 1, 3}, {2, 3}, {2, 5}, {2, 5, 4}, {2, 0, 3}, {2, 5, 3, 1}}},
		{"lstm stacked sequences", named(nn.NewLSTM(3, 4, rng, nn.RecurrentLayers(2), nn.ReturnSequences()), "lstm"), [][]int{{2, 5, 3}, {1, 1, 3}, {1, 5, 2}}},
		{"gru", nn.NewGRU(2, 3, rng, nn.RecurrentLayers(3)), [][]int{{2, 4, 2}, {3, 2}}},
		{"sequential cnn", nn.NewSequential(
			nn.NewConv2D(1, 2, 3, rng), nn.NewReLU(), nn.NewMaxPool2D(2, 0, 0),
			nn.NewFlatten(), nn.NewLinear(2*3*3, 4, rng), nn.NewSoftmax()),
			[][]int{{1, 1, 8, 8}, {3, 1, 8, 8}, {1, 1, 9, 9}, {1, 1, 10, 10}, {1, 2, 8, 8}, {1, 1, 2, 2}}},
		{"sequential nested text", nn.NewSequential(
			nn.NewSequential(nn.NewEmbedding(6, 3, rng), nn.NewGRU(3, 4, rng, nn.ReturnSequences())),
			nn.NewSequential(nn.NewLSTM(4, 3, rng)), nn.NewLinear(3, 2, rng)),
			[][]int{{2, 4}, {1, 1}, {4}, {2, 4, 1}}},
		{"sequential empty", nn.NewSequential(), [][]int{{2, 3}, {}}},
	}
	for _, l := range layers {
		sh := l.m.(nn.Shaper)
		for _, in := range l.shapes {
			want, ferr := forwardShape(l.m, in)
			got, err := sh.OutputShape(in)
			switch {
			case ferr != nil && err == nil:
				t.Errorf("%s on %v: OutputShape = %v, Forward: %v", l.name, in, got, ferr)
			case ferr == nil && err != nil:
				t.Errorf("%s on %v: OutputShape: %v, Forward gives %v", l.name, in, err, want)
			case ferr != nil && err.Error() != ferr.Error():
				t.Errorf("%s on %v:\n OutputShape: %v\n Forward:     %v", l.name, in, err, ferr)
			case ferr != nil:
				var se *tensor.ShapeError
				if !errors.As(err, &se) {
					t.Errorf("%s on %v: OutputShape's error %v is a %T, not a *tensor.ShapeError", l.name, in, err, err)
				}
			case !slices.Equal(got, want):
				t.Errorf("%s on %v: OutputShape = %v, Forward gives %v", l.name, in, got, want)
			}
		}
	}
}

// TestEveryLayerTypeIsAShaper: every module that a registered type builds
// (the fuzz seeds hold one of each) can size its activations, so loading
// a model file never has to run an architecture to learn what it costs.
func TestEveryLayerTypeIsAShaper(t *testing.T) {
	seen := map[string]bool{}
	var walk func(m nn.Module)
	walk = func(m nn.Module) {
		seen[m.Spec().Type] = true
		if _, ok := m.(nn.Shaper); !ok {
			t.Errorf("%s (%T) does not implement nn.Shaper", m.Spec().Type, m)
		}
		if s, ok := m.(*nn.Sequential); ok {
			for _, l := range s.Layers {
				walk(l)
			}
		}
	}
	for _, s := range fuzzSeeds(t) {
		var sp nn.Spec
		if err := json.Unmarshal(s.json, &sp); err != nil {
			t.Fatal(err)
		}
		if m, err := nn.BuildLimited(sp, tensor.NewRNG(1), fuzzLimit); err == nil {
			walk(m)
		}
	}
	for _, typ := range nn.RegisteredTypes() {
		if !seen[typ] && !strings.HasPrefix(typ, "buildtest-") && !strings.HasPrefix(typ, "layertest-") {
			t.Errorf("no fuzz seed builds a %s; add one to fuzzSeeds", typ)
		}
	}
}

// opaque is a user's layer that does not implement Shaper.
type opaque struct{}

func (opaque) Forward(c *nn.Ctx, x *autograd.Var) *autograd.Var { return x }
func (opaque) Params() []*autograd.Var                          { return nil }
func (opaque) Spec() nn.Spec                                    { return nn.Spec{Type: "opaque"} }

// huge is a Shaper whose output is absurdly large, to check that the
// counts saturate.
type huge struct{ opaque }

func (huge) OutputShape(in []int) ([]int, error) {
	return []int{math.MaxInt / 2, math.MaxInt / 2, 3}, nil
}

func TestActivationElements(t *testing.T) {
	rng := tensor.NewRNG(1)
	count := func(t *testing.T, m nn.Module, in ...int) (peak, total int64) {
		t.Helper()
		peak, total, err := nn.ActivationElements(m, in)
		if err != nil {
			t.Fatal(err)
		}
		return peak, total
	}
	t.Run("views and outputs", func(t *testing.T) {
		lin := nn.NewLinear(16, 8, rng)
		_, linear := count(t, nn.NewSequential(lin), 2, 16)
		peak, withReLU := count(t, nn.NewSequential(lin, nn.NewReLU()), 2, 16)
		if withReLU != linear+16 || peak != 32+linear {
			t.Fatalf("linear alone: total %d; with a ReLU: total %d, peak %d; want the ReLU's 16 more and a peak of the input's 32 plus the linear's %d",
				withReLU, linear, peak, linear)
		}
		// Flatten and Dropout (in evaluation) return views of their input.
		_, views := count(t, nn.NewSequential(nn.NewFlatten(), lin, nn.NewDropout(0.5), nn.NewReLU()), 2, 1, 4, 4)
		if views != withReLU {
			t.Fatalf("with flatten and dropout: total %d, want %d", views, withReLU)
		}
		if linear < 16 {
			t.Fatalf("linear: total %d is less than its output", linear)
		}
	})
	t.Run("fused conv-relu and nesting", func(t *testing.T) {
		conv := nn.NewConv2D(1, 4, 1, rng)
		_, alone := count(t, conv, 1, 1, 5, 5)
		_, fused := count(t, nn.NewSequential(conv, nn.NewReLU()), 1, 1, 5, 5)
		_, apart := count(t, nn.NewSequential(nn.NewSequential(conv), nn.NewReLU()), 1, 1, 5, 5)
		if fused != alone || apart != alone+100 {
			t.Fatalf("conv: total %d; conv+relu: %d (the ReLU fused, want the same); in separate Sequentials: %d (want 100 more)", alone, fused, apart)
		}
	})
	t.Run("recurrent and strided conv scratch", func(t *testing.T) {
		lstm := nn.NewLSTM(3, 4, rng)
		_, total, err := nn.ActivationElements(lstm, []int{2, 100, 3})
		// At least the input projection and every step's hidden state.
		if min := int64(2 * 100 * (16 + 4)); err != nil || total < min {
			t.Fatalf("lstm: total %d, %v; want at least %d", total, err, min)
		}
		conv := nn.NewConv2D(1, 1, 4, rng, nn.ConvStride(2))
		_, total, err = nn.ActivationElements(conv, []int{1, 1, 64, 64})
		// The unfolded image is 16 × 31·31 elements; the output 31·31.
		if min := int64(17 * 31 * 31); err != nil || total < min {
			t.Fatalf("strided conv: total %d, %v; want at least %d", total, err, min)
		}
	})
	t.Run("shape error is Forward's", func(t *testing.T) {
		m := nn.NewSequential(nn.NewLinear(4, 3, rng), nn.NewLinear(2, 1, rng))
		_, _, err := nn.ActivationElements(m, []int{1, 4})
		_, ferr := nn.Predict(m, tensor.New(1, 4))
		if err == nil || ferr == nil || err.Error() != ferr.Error() {
			t.Fatalf("ActivationElements: %v; Forward: %v", err, ferr)
		}
		if _, _, err := nn.ActivationElements(m, []int{1, -4}); err == nil || !strings.Contains(err.Error(), "negative") {
			t.Fatalf("negative size: %v", err)
		}
	})
	t.Run("unknown layer", func(t *testing.T) {
		lin := nn.NewLinear(4, 4, rng)
		m := nn.NewSequential(lin, nn.NewSequential(nn.NewReLU(), opaque{}, nn.NewTanh()))
		peak, total, err := nn.ActivationElements(m, []int{1, 4})
		if !errors.Is(err, nn.ErrUnknownShape) || !strings.Contains(err.Error(), "sequential layer 1: sequential layer 1: nn: opaque (nn_test.opaque)") {
			t.Fatalf("err = %v", err)
		}
		// The counts cover the layers before the unknown one.
		if wantPeak, wantTotal := count(t, nn.NewSequential(lin, nn.NewReLU()), 1, 4); peak != wantPeak || total != wantTotal {
			t.Fatalf("peak %d, total %d before the unknown layer; want %d, %d", peak, total, wantPeak, wantTotal)
		}
		if _, err := nn.OutputShape(opaque{}, []int{1}); !errors.Is(err, nn.ErrUnknownShape) {
			t.Fatalf("OutputShape of a non-Shaper: %v", err)
		}
		if _, err := m.OutputShape([]int{1, 4}); !errors.Is(err, nn.ErrUnknownShape) {
			t.Fatalf("Sequential.OutputShape with a non-Shaper: %v", err)
		}
	})
	t.Run("saturates", func(t *testing.T) {
		m := nn.NewSequential(huge{}, nn.NewReLU(), nn.NewEmbedding(3, 1<<10, rng), nn.NewFlatten())
		peak, total, err := nn.ActivationElements(m, []int{1})
		if err == nil {
			t.Fatalf("flattening %d² elements: peak %d, total %d, no error", math.MaxInt/2, peak, total)
		}
		peak, total, err = nn.ActivationElements(nn.NewSequential(huge{}, nn.NewReLU(), nn.NewEmbedding(3, 1<<10, rng)), []int{1})
		if err != nil || peak != math.MaxInt64 || total != math.MaxInt64 {
			t.Fatalf("peak %d, total %d, %v; want both math.MaxInt64", peak, total, err)
		}
	})
}

// TestActivationElementsBoundsAllocation: for the zoo's models and layers
// with scratch, what a forward pass in evaluation mode really allocates
// (runtime.MemStats.TotalAlloc, in float32 elements) stays within
// ActivationElements' total, give or take the small bookkeeping objects.
func TestActivationElementsBoundsAllocation(t *testing.T) {
	rng := tensor.NewRNG(3)
	cases := []struct {
		name string
		m    nn.Module
		in   []int
	}{
		{"strided conv", nn.NewConv2D(2, 8, 5, rng, nn.ConvStride(2), nn.ConvPadding(2)), []int{1, 2, 96, 96}},
		{"padded conv", nn.NewConv2D(3, 16, 3, rng, nn.ConvPadding(1)), []int{1, 3, 64, 64}},
		{"embedding lstm", nn.NewSequential(nn.NewEmbedding(5, 16, rng), nn.NewLSTM(16, 32, rng, nn.RecurrentLayers(2))), []int{1, 400}},
		{"gru sequences", nn.NewGRU(8, 32, rng, nn.ReturnSequences()), []int{2, 300, 8}},
		{"maxpool", nn.NewMaxPool2D(2, 0, 0), []int{1, 8, 64, 64}},
	}
	for _, name := range zoo.Names() {
		cfg := zoo.Config{InputShape: []int{1, 28, 28}, Outputs: 10}
		in := []int{1, 1, 28, 28}
		if strings.Contains(name, "rnn") || strings.Contains(name, "lstm") || strings.Contains(name, "gru") {
			cfg = zoo.Config{InputShape: []int{200}, Outputs: 3, Vocab: 30}
			in = []int{1, 200}
		}
		m, err := zoo.New(name, cfg, rng)
		if err != nil {
			t.Fatalf("zoo %s: %v", name, err)
		}
		cases = append(cases, struct {
			name string
			m    nn.Module
			in   []int
		}{"zoo " + name, m, in})
	}
	for _, c := range cases {
		_, total, err := nn.ActivationElements(c.m, c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		x := tensor.New(c.in...)
		if _, err := nn.Predict(c.m, x); err != nil { // warm up lazily built state
			t.Fatalf("%s: %v", c.name, err)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		if _, err := nn.Predict(c.m, x); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		runtime.ReadMemStats(&after)
		used := int64(after.TotalAlloc-before.TotalAlloc) / 4
		// Slack for the small objects (tape, Vars, shapes, closures) and the
		// panel buffers of every goroutine of a parallel matrix product.
		if slack := int64(1<<14 + runtime.GOMAXPROCS(0)<<16); used > total+slack {
			t.Errorf("%s on %v: the forward pass allocated %d elements, ActivationElements counts %d", c.name, c.in, used, total)
		}
		t.Logf("%s on %v: allocated %d elements, counted %d", c.name, c.in, used, total)
	}
}

// A 1×1 convolution to 4096 channels has 8192 parameters, but on a
// 4096×4096 image its output holds 2³⁶ values: ActivationElements tells
// before anything is allocated.
func ExampleActivationElements() {
	rng := tensor.NewRNG(1)
	m := nn.NewSequential(nn.NewConv2D(1, 4096, 1, rng), nn.NewGlobalAvgPool2D(), nn.NewLinear(4096, 10, rng))
	_, total, err := nn.ActivationElements(m, []int{1, 1, 4096, 4096})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d parameters, %.0f GiB of activations\n", nn.NumParams(m), float64(total)*4/(1<<30))
	// Output: 49162 parameters, 256 GiB of activations
}
