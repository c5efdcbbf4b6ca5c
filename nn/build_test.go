package nn_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

func init() {
	// Test types: one registered without a Sizer, one whose Sizer
	// under-counts, one whose builder panics with a ShapeError.
	nn.Register("buildtest-unsized", func(s nn.Spec, rng *rand.Rand) (nn.Module, error) {
		return nn.NewLinear(2, 2, rng), nil
	})
	nn.RegisterSized("buildtest-lying", func(s nn.Spec, rng *rand.Rand) (nn.Module, error) {
		return nn.NewLinear(10, 10, rng), nil
	}, func(nn.Spec) (int64, error) { return 0, nil })
	nn.RegisterSized("buildtest-panics", func(s nn.Spec, rng *rand.Rand) (nn.Module, error) {
		return nn.NewLinear(0, 2, rng), nil
	}, func(nn.Spec) (int64, error) { return 0, nil })
}

func spec(typ, args string, children ...nn.Spec) nn.Spec {
	s := nn.Spec{Type: typ, Name: "x", Children: children}
	if args != "" {
		s.Args = json.RawMessage(args)
	}
	return s
}

// nested returns depth Sequentials inside each other around a ReLU.
func nested(depth int) nn.Spec {
	s := nn.Spec{Type: "relu"}
	for range depth {
		s = nn.Spec{Type: "sequential", Children: []nn.Spec{s}}
	}
	return s
}

// TestBuildRefusesHostileSpecs: architecture JSON is read from files, so
// Build must refuse absurd layer arguments before it allocates anything.
// Each spec is rejected with an error saying why, in well under a second
// and with less than 2 MB allocated.
func TestBuildRefusesHostileSpecs(t *testing.T) {
	const limit = 1 << 20 // 4 MB of float32
	var deepJSON []byte
	{
		var b strings.Builder
		// 4000 levels: 8000 levels of JSON, under encoding/json's own limit.
		for range 4000 {
			b.WriteString(`{"type":"sequential","children":[`)
		}
		b.WriteString(`{"type":"relu"}`)
		for range 4000 {
			b.WriteString(`]}`)
		}
		deepJSON = []byte(b.String())
	}
	var deepFromJSON nn.Spec
	if err := json.Unmarshal(deepJSON, &deepFromJSON); err != nil {
		t.Fatal(err)
	}

	many := make([]nn.Spec, 40)
	for i := range many {
		many[i] = spec("linear", `{"in":200,"out":200}`)
	}
	cases := []struct {
		name string
		s    nn.Spec
		want string // in the error
	}{
		{"linear 1e9", spec("linear", `{"in":1000000000,"out":1000000000}`), "MaxDim"},
		{"linear 200000", spec("linear", `{"in":200000,"out":200000}`), "over the limit of 1048576"},
		{"linear 20000", spec("linear", `{"in":20000,"out":20000}`), `linear "x" {"in":20000,"out":20000} needs 400020000`},
		{"linear max int", spec("linear", `{"in":9223372036854775807,"out":2}`), "MaxDim"},
		{"linear negative", spec("linear", `{"in":-3,"out":2}`), "in=-3"},
		{"linear zero", spec("linear", `{"in":0,"out":2}`), "in=0"},
		{"linear string size", spec("linear", `{"in":"many","out":2}`), "bad args"},
		{"linear float size", spec("linear", `{"in":2.5,"out":2}`), "bad args"},
		{"linear huge float", spec("linear", `{"in":1e300,"out":2}`), "bad args"},
		{"linear args array", spec("linear", `[1,2]`), "bad args"},
		{"linear args string", spec("linear", `"in=2"`), "bad args"},
		{"linear bad init", spec("linear", `{"in":2,"out":2,"init":"lecun"}`), "unknown initialiser"},
		{"conv huge channels", spec("conv2d", `{"in":1000000,"out":1000000,"kh":3,"kw":3}`), "over the limit"},
		{"conv channels over MaxDim", spec("conv2d", `{"in":100000000,"out":1,"kh":1,"kw":1}`), "MaxDim"},
		{"conv huge kernel", spec("conv2d", `{"in":1,"out":1,"kh":16777216,"kw":16777216}`), "over the limit"},
		{"conv kernel over MaxDim", spec("conv2d", `{"in":1,"out":1,"kh":1000000000,"kw":1}`), "MaxDim"},
		{"conv overflowing product", spec("conv2d", `{"in":16777216,"out":16777216,"kh":16777216,"kw":16777216}`), "over the limit"},
		{"conv negative kernel", spec("conv2d", `{"in":1,"out":1,"kh":-1,"kw":3}`), "kernel -1×3"},
		{"conv negative padding", spec("conv2d", `{"in":1,"out":1,"kh":3,"kw":3,"pad_h":-2}`), "padding"},
		{"conv huge padding", spec("conv2d", `{"in":1,"out":1,"kh":3,"kw":3,"pad_h":4611686018427387904}`), "padding"},
		{"conv huge stride", spec("conv2d", `{"in":1,"out":1,"kh":3,"kw":3,"stride_h":4611686018427387904}`), "stride"},
		{"conv groups", spec("conv2d", `{"in":3,"out":4,"kh":3,"kw":3,"groups":-1}`), "groups"},
		{"maxpool huge window", spec("maxpool2d", `{"kh":9223372036854775807,"kw":2}`), "window"},
		{"maxpool overflowing padding", spec("maxpool2d", `{"kh":3,"kw":3,"pad_h":4611686018427387904}`), "padding"},
		{"avgpool negative stride", spec("avgpool2d", `{"kh":2,"kw":2,"stride_w":-1}`), "stride"},
		{"embedding huge", spec("embedding", `{"vocab":10000000,"dim":1000}`), "over the limit"},
		{"embedding negative", spec("embedding", `{"vocab":-1,"dim":3}`), "vocab=-1"},
		{"batchnorm huge", spec("batchnorm2d", `{"features":1000000000}`), "MaxDim"},
		{"batchnorm negative eps", spec("batchnorm1d", `{"features":3,"eps":-1}`), "eps"},
		{"perceptron huge", spec("perceptron", `{"in":16000000,"out":16000000}`), "over the limit"},
		{"lstm huge hidden", spec("lstm", `{"input":4,"hidden":1000000}`), "over the limit"},
		{"gru many layers", spec("gru", `{"input":1,"hidden":1,"layers":100000000}`), "MaxRecurrentLayers"},
		{"rnn just under MaxRecurrentLayers but too big", spec("rnn", `{"input":1000,"hidden":1000,"layers":1000}`), "over the limit"},
		{"rnn negative layers", spec("rnn", `{"input":1,"hidden":1,"layers":-1}`), "layers=-1"},
		{"dropout p", spec("dropout", `{"p":2}`), "drop probability"},
		{"leaky bad slope", spec("leaky_relu", `{"slope":"steep"}`), "bad args"},
		{"unknown type", spec("transformer", `{}`), "unknown module type"},
		{"unknown type deep inside", spec("sequential", "", spec("relu", ""), spec("sequential", "", spec("bogus", ""))), `sequential layer 1: sequential layer 0: nn: unknown module type "bogus"`},
		{"sum over the limit", spec("sequential", "", many...), `sequential layer 26: nn: linear "x"`},
		{"hostile child of a valid model", spec("sequential", "", spec("linear", `{"in":2,"out":2}`), spec("linear", `{"in":20000,"out":20000}`)), "sequential layer 1"},
		{"deep nesting", nested(10000), "MaxSpecDepth"},
		{"deep nesting just over", nested(nn.MaxSpecDepth + 1), "MaxSpecDepth"},
		{"deep nesting from JSON", deepFromJSON, "MaxSpecDepth"},
		{"type without a Sizer", spec("buildtest-unsized", ""), "RegisterSized"},
		{"Sizer that under-counts", spec("buildtest-lying", ""), "Sizers said 0"},
		{"builder that panics", spec("buildtest-panics", ""), "in=0"},
	}
	for _, c := range cases {
		limit := int64(limit)
		if c.name == "Sizer that under-counts" {
			limit = 50
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		m, err := nn.BuildLimited(c.s, tensor.NewRNG(1), limit)
		elapsed := time.Since(start)
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Errorf("%s: built %T", c.name, m)
			continue
		}
		t.Logf("%s: %v", c.name, err)
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not mention %q", c.name, err, c.want)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 2<<20 {
			t.Errorf("%s: %d bytes allocated before refusing", c.name, alloc)
		}
		if elapsed > 500*time.Millisecond {
			t.Errorf("%s: took %v to refuse", c.name, elapsed)
		}
	}
}

// TestBuildDefaultLimit: plain Build refuses what no CPU model needs
// (in=out=200000 is 160 GB) with the same early check, and still builds
// ordinary models, including types registered without a Sizer.
func TestBuildDefaultLimit(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := nn.Build(spec("linear", `{"in":200000,"out":200000}`), tensor.NewRNG(1))
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprint(nn.DefaultMaxElements)) {
		t.Fatalf("Build of a 160 GB linear: %v", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 2<<20 {
		t.Fatalf("%d bytes allocated before refusing", alloc)
	}
	m, err := nn.Build(spec("sequential", "", spec("linear", `{"in":3,"out":4}`), spec("buildtest-unsized", "")), tensor.NewRNG(1))
	if err != nil || nn.NumParams(m) != 16+6 {
		t.Fatalf("ordinary model: %v", err)
	}
	if _, err := nn.BuildLimited(nested(nn.MaxSpecDepth), tensor.NewRNG(1), 0); err != nil {
		t.Fatalf("nesting of MaxSpecDepth: %v", err)
	}
	if _, err := nn.BuildLimited(spec("relu", ""), tensor.NewRNG(1), -1); err == nil {
		t.Fatal("negative limit accepted")
	}
}

// TestBuildLimitedExact: the limit is inclusive, and SpecElements counts
// exactly the parameters and buffers of what Build builds, for every
// layer type in one model.
func TestBuildLimitedExact(t *testing.T) {
	rng := tensor.NewRNG(1)
	m := nn.NewSequential(
		nn.NewConv2D(2, 4, 3, rng, nn.ConvGroups(2)), nn.NewBatchNorm2D(4), nn.NewReLU(), nn.NewMaxPool2D(2, 0, 0),
		nn.NewAvgPool2D(1, 0, 0), nn.NewGlobalAvgPool2D(), nn.NewLinear(4, 6, rng, nn.LinearNoBias()), nn.NewBatchNorm1D(6),
		nn.NewSequential(nn.NewPerceptron(6, 3, rng), nn.NewEmbedding(5, 2, rng)),
		nn.NewLSTM(2, 3, rng, nn.RecurrentLayers(2), nn.ReturnSequences()), nn.NewGRU(3, 2, rng, nn.RecurrentLayers(3)),
		nn.NewRNN(2, 2, rng), nn.NewDropout(0.1), nn.NewLeakyReLU(0.2), nn.NewSigmoid(), nn.NewTanh(), nn.NewGELU(),
		nn.NewSoftmax(), nn.NewFlatten())
	want := int64(nn.NumParams(m))
	for _, b := range m.Buffers() {
		want += int64(b.Value.Len())
	}
	got, err := nn.SpecElements(m.Spec())
	if err != nil || got != want {
		t.Fatalf("SpecElements = %d, %v; the model holds %d", got, err, want)
	}
	if _, err := nn.BuildLimited(m.Spec(), rng, want); err != nil {
		t.Fatalf("limit = size: %v", err)
	}
	if _, err := nn.BuildLimited(m.Spec(), rng, want-1); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("over the limit of %d", want-1)) {
		t.Fatalf("limit = size−1: %v", err)
	}
}

func TestElements(t *testing.T) {
	for _, c := range []struct {
		shape []int
		want  int64
	}{
		{nil, 1}, {[]int{3, 4}, 12}, {[]int{0, 5}, 0}, {[]int{-1, 2}, 1<<63 - 1},
		{[]int{1 << 24, 1 << 24, 1 << 24, 1 << 24}, 1<<63 - 1}, {[]int{1 << 31, 1 << 31}, 1 << 62},
	} {
		if got := nn.Elements(c.shape...); got != c.want {
			t.Errorf("Elements(%v) = %d, want %d", c.shape, got, c.want)
		}
	}
}
