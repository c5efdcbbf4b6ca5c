package model

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/datasets"
	"github.com/glassbox-ml/glassbox/tensor"
	"github.com/glassbox-ml/glassbox/zoo"
)

// FuzzRead: any bytes either fail to read with an error or give a model
// that holds exactly the file's tensors; Read never panics, and a size
// that claims more than the reader holds is always an error. The seed
// corpus (testdata/fuzz/FuzzRead, written by TestWriteReadCorpus) holds
// saved zoo models, truncations and header mutations.
func FuzzRead(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		check(t, in)
		if fixed := fixHeaderLength(in); fixed != nil {
			check(t, fixed)
		}
	})
}

// check reads in as a model and as plain tensors.
func check(t *testing.T, in []byte) {
	size := int64(len(in))
	h, _, err := readFile(bytes.NewReader(in), size)
	if err != nil {
		if _, _, err2 := Read(bytes.NewReader(in), size); err2 == nil {
			t.Fatalf("readFile fails (%v) but Read succeeds", err)
		}
		return
	}
	declared, err := tensorElements(h)
	if err != nil {
		t.Fatalf("a checked header has no element count: %v", err)
	}
	if declared > size {
		t.Fatalf("a %d-byte file declares %d values", size, declared)
	}
	ts, _, err := readTensors(bytes.NewReader(in), size)
	if err == nil && len(ts) != len(h.tensors) {
		t.Fatalf("readTensors returned %d of %d tensors", len(ts), len(h.tensors))
	}
	if _, _, err := readTensors(bytes.NewReader(in), size+1); err == nil {
		t.Fatal("a size one byte larger than the data read without error")
	}
	m, _, err := Read(bytes.NewReader(in), size)
	if err != nil {
		return
	}
	state, _, err := State(m)
	if err != nil {
		t.Fatalf("a model read from a file has no state: %v", err)
	}
	var held int64
	for _, v := range state {
		held += int64(v.Value.Len())
	}
	if len(state) != len(h.tensors) || held != declared {
		t.Fatalf("the model holds %d tensors of %d values, the file declares %d of %d", len(state), held, len(h.tensors), declared)
	}
	if _, _, err := Read(bytes.NewReader(in), size+1); err == nil {
		t.Fatal("a size one byte larger than the data read without error")
	}
}

// fixHeaderLength returns in with its length prefix set to the length of
// the JSON value that follows it, so that mutations inside the header
// reach the checks after the length; nil when there is nothing to fix.
func fixHeaderLength(in []byte) []byte {
	if len(in) < 8 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(in[8:]))
	var v json.RawMessage
	if dec.Decode(&v) != nil {
		return nil
	}
	n := uint64(dec.InputOffset())
	if n == binary.LittleEndian.Uint64(in) {
		return nil
	}
	out := bytes.Clone(in)
	binary.LittleEndian.PutUint64(out, n)
	return out
}

// TestWriteReadCorpus writes FuzzRead's seed corpus. Run it after a change
// to the file format: GLASSBOX_WRITE_FUZZ_CORPUS=1 go test -run
// TestWriteReadCorpus ./model/
func TestWriteReadCorpus(t *testing.T) {
	if os.Getenv("GLASSBOX_WRITE_FUZZ_CORPUS") == "" {
		t.Skip("set GLASSBOX_WRITE_FUZZ_CORPUS=1 to rewrite testdata/fuzz/FuzzRead")
	}
	seeds := map[string][]byte{}
	vocab, err := datasets.BuildVocab([]string{"a small text", "another text"}, datasets.VocabOptions{})
	if err != nil {
		t.Fatal(err)
	}
	vjson, _ := json.Marshal(vocab)
	models := []struct {
		name string
		cfg  zoo.Config
		meta Meta
	}{
		{"linear", zoo.Config{InputShape: []int{4}, Outputs: 3},
			Meta{Task: "classification", Classes: []string{"a", "b", "c"}, InputShape: []int{4}, Features: []string{"w", "x", "y", "z"},
				Mean: []float32{1, 2, 3, 4}, Std: []float32{1, 1, 2, 2}, Extra: map[string]string{"k": "v"}}},
		{"mlp", zoo.Config{InputShape: []int{3}, Outputs: 1, Hidden: 4},
			Meta{Task: "regression", InputShape: []int{3}, TargetMean: 10, TargetStd: 2,
				Recipe: &Recipe{Data: "csv:x.csv?target=y", Seed: 1, TestFraction: 0.2, Model: "mlp", Hidden: 4, Optimizer: "adam", LR: 1e-3, Batch: 8, Epochs: 2, EpochsRun: 2}}},
		{"deep", zoo.Config{InputShape: []int{2}, Outputs: 2, Hidden: 3, Dropout: 0.5}, Meta{InputShape: []int{2}}},
		{"perceptron", zoo.Config{InputShape: []int{3}, Outputs: 2}, Meta{InputShape: []int{3}}},
		{"lenet", zoo.Config{InputShape: []int{1, 12, 12}, Outputs: 2},
			Meta{Task: "classification", InputShape: []int{1, 12, 12}, PixelMean: []float32{0.5}, PixelStd: []float32{0.25}}},
		{"gru", zoo.Config{InputShape: []int{5}, Outputs: 2, Vocab: vocab.Size(), Hidden: 3},
			Meta{Task: "classification", InputShape: []int{5}, Vocab: vjson, SeqLen: 5}},
		{"lstm-lm", zoo.Config{InputShape: []int{4}, Outputs: 1, Vocab: vocab.Size(), Hidden: 2},
			Meta{InputShape: []int{4}, Vocab: vjson, SeqLen: 4}},
		{"rnn", zoo.Config{InputShape: []int{3}, Outputs: 2, Vocab: 3, Hidden: 2}, Meta{InputShape: []int{3}}},
	}
	dir := t.TempDir()
	var small []byte
	for _, md := range models {
		m, err := zoo.New(md.name, md.cfg, tensor.NewRNG(1))
		if err != nil {
			t.Fatalf("%s: %v", md.name, err)
		}
		path := filepath.Join(dir, md.name+".gbx")
		if err := Save(path, m, md.meta); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := Read(bytes.NewReader(raw), int64(len(raw))); err != nil {
			t.Fatalf("%s: %v", md.name, err)
		}
		seeds[md.name] = raw
		if md.name == "linear" {
			small = raw
		}
	}
	// A plain safetensors file (weights only, other dtypes) and a
	// checkpoint-like one.
	plain := map[string]*tensor.Tensor{"a": tensor.Full(1, 2, 3), "b": tensor.Scalar(2)}
	for name, md := range map[string]map[string]string{"weights-only": nil, "checkpoint": {"format": "glassbox-checkpoint", "glassbox.optimizer": "{}"}} {
		path := filepath.Join(dir, name)
		if err := WriteTensors(path, plain, md); err != nil {
			t.Fatal(err)
		}
		seeds[name], _ = os.ReadFile(path)
	}
	// Truncations of the smallest model: in the length, the header, the
	// data.
	hl := int(binary.LittleEndian.Uint64(small))
	for _, n := range []int{0, 5, 8, 8 + hl/2, 8 + hl, len(small) - 1} {
		seeds[fmt.Sprint("linear-truncated-", n)] = small[:n]
	}
	// Header mutations of the smallest model.
	header := string(small[8 : 8+hl])
	body := small[8+hl:]
	mutate := func(name, old, new string, extra []byte) {
		if !strings.Contains(header, old) {
			t.Fatalf("%s: the header lacks %q", name, old)
		}
		h := strings.Replace(header, old, new, 1)
		out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
		seeds["linear-"+name] = append(append(append(out, h...), body...), extra...)
	}
	mutate("dtype-f16", `"dtype":"F32"`, `"dtype":"F16"`, nil)
	mutate("dtype-unknown", `"dtype":"F32"`, `"dtype":"Q4"`, nil)
	mutate("shape-huge", `"shape":[3]`, `"shape":[3,1099511627776]`, nil)
	mutate("shape-negative", `"shape":[3]`, `"shape":[-3]`, nil)
	mutate("shape-rank", `"shape":[3]`, `"shape":[1,1,1,1,1,1,1,1,1,3]`, nil)
	mutate("offsets-overlap", `"data_offsets":[0,12]`, `"data_offsets":[4,16]`, nil)
	mutate("offsets-outside", `"data_offsets":[0,12]`, `"data_offsets":[1000,1012]`, nil)
	mutate("extra-tensor", `{`, `{"zz":{"dtype":"F32","shape":[1],"data_offsets":[60,64]},`, make([]byte, 4))
	mutate("missing-tensor", `"linear1/bias"`, `"linear1/bias2"`, nil)
	mutate("metadata-null", `"__metadata__":{`, `"__metadata__":null,"x":{`, nil)
	mutate("arch-unknown", `\"type\":\"linear\"`, `\"type\":\"nosuch\"`, nil)
	mutate("arch-huge", `\"in\":4`, `\"in\":4000000000000`, nil)
	mutate("arch-negative", `\"in\":4`, `\"in\":-4`, nil)
	mutate("meta-bad", `\"task\":`, `\"task\":[`, nil)
	mutate("meta-shape", `\"input_shape\":[4]`, `\"input_shape\":[4,9223372036854775807]`, nil)
	// Plain files that reproduce fixed bugs: a shape [1, 2⁴⁰] over a
	// 24-byte body (the old ReadTensors allocated it) and tensors sharing
	// bytes.
	plainFile := func(h string, body []byte) []byte {
		return append(append(binary.LittleEndian.AppendUint64(nil, uint64(len(h))), h...), body...)
	}
	seeds["plain-shape-1xhuge"] = plainFile(`{"a":{"dtype":"F32","shape":[1,1099511627776],"data_offsets":[0,24]}}`, make([]byte, 24))
	seeds["plain-shared-bytes"] = plainFile(`{"a":{"dtype":"F32","shape":[6],"data_offsets":[0,24]},"b":{"dtype":"F32","shape":[6],"data_offsets":[0,24]},"c":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}`, make([]byte, 24))
	huge := bytes.Clone(small)
	binary.LittleEndian.PutUint64(huge, 1<<62)
	seeds["linear-header-length-huge"] = huge
	for name, raw := range seeds {
		writeCorpusFile(t, "FuzzRead", name, raw)
	}
}

// writeCorpusFile writes one seed in the "go test fuzz v1" format.
func writeCorpusFile(t *testing.T, target, name string, raw []byte) {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", raw)
	if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
