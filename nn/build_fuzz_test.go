package nn_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
	"github.com/glassbox-ml/glassbox/zoo"
)

// fuzzLimit is FuzzBuild's element budget (512 KB of float32): large
// enough that every seed model builds, small enough that no input makes
// an execution slow.
const fuzzLimit = 1 << 17

var updateFuzzCorpus = flag.Bool("update-fuzz-corpus", false, "rewrite testdata/fuzz/FuzzBuild from fuzzSeeds")

// FuzzBuild feeds architecture JSON, as a model file holds it, to
// BuildLimited. Whatever the bytes, it must return (never panic, never
// allocate past the budget), and a module it builds must hold what
// SpecElements predicted and rebuild from its own Spec to the same Spec.
//
//	go test -run '^$' -fuzz FuzzBuild -parallel 1 ./nn/
func FuzzBuild(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s.json)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var s nn.Spec
		if err := json.Unmarshal(data, &s); err != nil {
			return
		}
		m, err := nn.BuildLimited(s, tensor.NewRNG(1), fuzzLimit)
		if err != nil {
			return
		}
		have := elementsOf(m)
		if have > fuzzLimit {
			t.Fatalf("built %d elements, over the limit of %d", have, fuzzLimit)
		}
		// SpecElements also counts children that a leaf type ignores.
		if n, err := nn.SpecElements(s); err != nil || n < have {
			t.Fatalf("SpecElements = %d, %v; the module holds %d", n, err, have)
		}
		js, err := json.Marshal(m.Spec())
		if err != nil {
			t.Fatalf("Spec does not marshal: %v", err)
		}
		var s2 nn.Spec
		if err := json.Unmarshal(js, &s2); err != nil {
			t.Fatalf("Spec JSON does not unmarshal: %v\n%s", err, js)
		}
		if n, err := nn.SpecElements(s2); err != nil || n != have {
			t.Fatalf("SpecElements of the built module's Spec = %d, %v; it holds %d\n%s", n, err, have, js)
		}
		m2, err := nn.BuildLimited(s2, tensor.NewRNG(2), have)
		if err != nil {
			t.Fatalf("the built module's own Spec does not build: %v\n%s", err, js)
		}
		if js2, _ := json.Marshal(m2.Spec()); !bytes.Equal(js, js2) {
			t.Fatalf("Spec changed when rebuilt:\n%s\n%s", js, js2)
		}
		// Sizing a forward pass never panics, whatever the input shape.
		for _, in := range [][]int{{}, {1}, {2, 3}, {1, 4, 3}, {2, 1, 5, 5}, {1, 3, 1 << 20, 1 << 20}} {
			if _, _, err := nn.ActivationElements(m, in); err != nil && errors.Is(err, nn.ErrUnknownShape) {
				t.Fatalf("a built-in module cannot be sized: %v", err)
			}
		}
	})
}

func elementsOf(m nn.Module) int64 {
	n := int64(nn.NumParams(m))
	if b, ok := m.(nn.Buffered); ok {
		for _, v := range b.Buffers() {
			n += int64(v.Value.Len())
		}
	}
	return n
}

type fuzzSeed struct {
	name string
	json []byte
}

// fuzzSeeds returns the architecture JSON of the zoo's models (sized to
// fit fuzzLimit, and two at full size, which it refuses) and of every
// layer type with its options.
func fuzzSeeds(tb testing.TB) []fuzzSeed {
	rng := tensor.NewRNG(1)
	var seeds []fuzzSeed
	add := func(name string, m nn.Module) {
		b, err := json.Marshal(m.Spec())
		if err != nil {
			tb.Fatal(err)
		}
		seeds = append(seeds, fuzzSeed{name, b})
	}
	zooCfg := map[string]zoo.Config{
		"linear": {InputShape: []int{1, 8, 8}, Outputs: 3}, "mlp": {InputShape: []int{1, 8, 8}, Outputs: 3, Hidden: 16, Dropout: 0.2},
		"deep": {InputShape: []int{6}, Outputs: 2, Hidden: 8, Dropout: 0.1}, "perceptron": {InputShape: []int{4}, Outputs: 2},
		"lenet": {InputShape: []int{1, 12, 12}, Outputs: 10}, "cnn": {InputShape: []int{3, 4, 4}, Outputs: 3, Hidden: 8},
	}
	for _, name := range zoo.Names() {
		cfg, ok := zooCfg[name]
		if !ok { // the recurrent models
			cfg = zoo.Config{InputShape: []int{5}, Outputs: 3, Vocab: 11, Hidden: 8}
		}
		m, err := zoo.New(name, cfg, rng)
		if err != nil {
			tb.Fatalf("zoo %s: %v", name, err)
		}
		add("zoo-"+name, m)
	}
	for name, cfg := range map[string]zoo.Config{
		"lenet": {InputShape: []int{1, 28, 28}, Outputs: 10}, "lstm-lm": {InputShape: []int{32}, Outputs: 1, Vocab: 80},
	} {
		m, err := zoo.New(name, cfg, rng)
		if err != nil {
			tb.Fatalf("zoo %s: %v", name, err)
		}
		add("zoo-"+name+"-full", m)
	}
	named := func(m nn.Module, name string) nn.Module { m.(nn.Named).SetName(name); return m }
	layers := []struct {
		name string
		m    nn.Module
	}{
		{"linear", named(nn.NewLinear(3, 2, rng), "fc")},
		{"linear-he-nobias", nn.NewLinear(4, 3, rng, nn.LinearInit(nn.InitHeNormal), nn.LinearNoBias())},
		{"linear-orthogonal", nn.NewLinear(5, 3, rng, nn.LinearInit(nn.InitOrthogonal))},
		{"linear-he-uniform", nn.NewLinear(2, 2, rng, nn.LinearInit(nn.InitHeUniform))},
		{"linear-glorot-normal", nn.NewLinear(2, 2, rng, nn.LinearInit(nn.InitGlorotNormal))},
		{"linear-zeros", nn.NewLinear(2, 2, rng, nn.LinearInit(nn.InitZeros))},
		{"conv2d", named(nn.NewConv2D(1, 2, 3, rng, nn.ConvPadding(1)), "conv1")},
		{"conv2d-options", nn.NewConv2D(4, 6, 3, rng, nn.ConvStrideHW(2, 1), nn.ConvPaddingHW(1, 0), nn.ConvGroups(2), nn.ConvKernelHW(3, 2), nn.ConvNoBias())},
		{"maxpool2d", nn.NewMaxPool2D(3, 2, 1)},
		{"avgpool2d", nn.NewAvgPool2D(2, 0, 0)},
		{"globalavgpool2d", nn.NewGlobalAvgPool2D()},
		{"flatten", nn.NewFlatten()},
		{"batchnorm1d", nn.NewBatchNorm1D(4)},
		{"batchnorm2d", func() nn.Module { b := nn.NewBatchNorm2D(3); b.Momentum, b.Eps = 0.01, 1e-3; return b }()},
		{"dropout", nn.NewDropout(0.5)},
		{"relu", nn.NewReLU()}, {"sigmoid", nn.NewSigmoid()}, {"tanh", nn.NewTanh()}, {"gelu", nn.NewGELU()},
		{"softmax", nn.NewSoftmax()}, {"leaky_relu", nn.NewLeakyReLU(0.2)},
		{"perceptron", nn.NewPerceptron(3, 2, rng)},
		{"embedding", nn.NewEmbedding(10, 4, rng)},
		{"rnn", nn.NewRNN(3, 4, rng)},
		{"lstm-stacked", nn.NewLSTM(3, 4, rng, nn.RecurrentLayers(2), nn.ReturnSequences())},
		{"gru-stacked", nn.NewGRU(2, 3, rng, nn.RecurrentLayers(3))},
		{"sequential-nested", nn.NewSequential(
			nn.NewSequential(nn.NewLinear(3, 4, rng), nn.NewReLU()),
			nn.NewSequential(nn.NewSequential(nn.NewLinear(4, 2, rng)), nn.NewTanh()))},
		{"sequential-empty", nn.NewSequential()},
	}
	for _, l := range layers {
		add("layer-"+l.name, l.m)
	}
	for name, js := range map[string]string{
		"hostile-linear-20000":  `{"type":"sequential","children":[{"type":"linear","args":{"in":20000,"out":20000}}]}`,
		"hostile-conv-padding":  `{"type":"conv2d","args":{"in":1,"out":1,"kh":3,"kw":3,"pad_h":4611686018427387904}}`,
		"hostile-gru-layers":    `{"type":"gru","args":{"input":1,"hidden":1,"layers":100000000}}`,
		"hostile-leaf-children": `{"type":"relu","children":[{"type":"linear","args":{"in":2,"out":2}}]}`,
	} {
		seeds = append(seeds, fuzzSeed{name, []byte(js)})
	}
	sort.Slice(seeds, func(i, j int) bool { return seeds[i].name < seeds[j].name })
	return seeds
}

// TestFuzzBuildCorpus keeps the committed seed corpus in step with the
// layer types: every registered type must occur in a corpus file that
// builds under fuzzLimit. -update-fuzz-corpus rewrites the files.
func TestFuzzBuildCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzBuild")
	if *updateFuzzCorpus {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, s := range fuzzSeeds(t) {
			body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(s.json)) + ")\n"
			if err := os.WriteFile(filepath.Join(dir, "seed-"+s.name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("%v (generate the corpus with go test -run TestFuzzBuildCorpus -update-fuzz-corpus ./nn/)", err)
	}
	built := map[string]bool{}
	var walk func(s nn.Spec)
	walk = func(s nn.Spec) {
		built[s.Type] = true
		for _, c := range s.Children {
			walk(c)
		}
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		rest, ok := strings.CutPrefix(string(b), "go test fuzz v1\n[]byte(")
		rest, ok2 := strings.CutSuffix(strings.TrimSpace(rest), ")")
		if !ok || !ok2 {
			t.Fatalf("%s is not a fuzz corpus file of one []byte", f.Name())
		}
		js, err := strconv.Unquote(rest)
		if err != nil {
			t.Fatalf("%s: %v", f.Name(), err)
		}
		var s nn.Spec
		if err := json.Unmarshal([]byte(js), &s); err != nil {
			t.Fatalf("%s: %v", f.Name(), err)
		}
		if _, err := nn.BuildLimited(s, tensor.NewRNG(1), fuzzLimit); err == nil {
			walk(s)
		}
	}
	var missing []string
	for _, typ := range nn.RegisteredTypes() {
		if !built[typ] && !strings.HasPrefix(typ, "buildtest-") {
			missing = append(missing, typ)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("no seed in %s builds a %v; add one to fuzzSeeds and run with -update-fuzz-corpus", dir, missing)
	}
}
