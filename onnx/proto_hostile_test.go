package onnx

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
	"google.golang.org/protobuf/encoding/protowire"
)

// Crafted hostile inputs: each must be a clean error that names the
// problem, and decoding it must allocate little, whatever sizes it
// claims.

// pb builds protobuf messages for the tests.
type pb []byte

func (m pb) varint(num protowire.Number, v uint64) pb {
	m = protowire.AppendTag(m, num, protowire.VarintType)
	return protowire.AppendVarint(m, v)
}

func (m pb) bytes(num protowire.Number, b []byte) pb {
	m = protowire.AppendTag(m, num, protowire.BytesType)
	return protowire.AppendBytes(m, b)
}

func (m pb) str(num protowire.Number, s string) pb { return m.bytes(num, []byte(s)) }

// model wraps a GraphProto's bytes in a ModelProto.
func model(graph pb) pb {
	opset := pb{}.varint(2, 17)
	return pb{}.varint(1, 8).bytes(8, opset).bytes(7, graph)
}

// tensorPB is a TensorProto of type dt with dims and raw_data raw.
func tensorPB(name string, dt DataType, dims []int64, raw []byte) pb {
	t := pb{}
	for _, d := range dims {
		t = t.varint(1, uint64(d))
	}
	t = t.varint(2, uint64(dt)).str(8, name)
	if raw != nil {
		t = t.bytes(9, raw)
	}
	return t
}

// allocated is the number of bytes fn allocates.
func allocated(fn func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	fn()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// wantError decodes b as a model (or a tensor), and fails unless it is
// an error containing each of want, allocating under 1 MiB.
func wantError(t *testing.T, name string, b []byte, opt ReadOptions, tensor bool, want ...string) error {
	t.Helper()
	var err error
	n := allocated(func() {
		if tensor {
			_, err = DecodeTensor(b, opt)
		} else {
			_, err = Decode(b, opt)
		}
	})
	if err == nil {
		t.Errorf("%s: no error", name)
		return nil
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: error %q does not contain %q", name, err, w)
		}
	}
	if n > 1<<20 {
		t.Errorf("%s: decoding allocated %d bytes", name, n)
	}
	return err
}

func TestHostileTensors(t *testing.T) {
	four := []byte{0, 0, 128, 63}
	cases := []struct {
		name string
		b    pb
		want []string
	}{
		{"dims [1e9, 1e9] over 4 bytes", tensorPB("w", Float, []int64{1e9, 1e9}, four), []string{`tensor "w"`, "MaxTensorElements", "limit exceeded"}},
		{"dims [2^62, 2^62] overflow", tensorPB("w", Float, []int64{1 << 62, 1 << 62}, four), []string{"MaxTensorElements"}},
		{"dims [1e6] over 4 bytes of raw_data", tensorPB("w", Float, []int64{1e6}, four), []string{"raw_data holds 4 bytes", "need 4000000"}},
		{"dims [1e6] int64 over one int64_data", tensorPB("w", Int64, []int64{1e6}, nil).varint(7, 5), []string{"int64_data holds 1 elements", "need 1000000"}},
		{"dims [1e6] and no data", tensorPB("w", Float, []int64{1e6}, nil), []string{"float_data holds 0 elements"}},
		{"negative dim", tensorPB("w", Float, []int64{-1}, four), []string{"negative"}},
		{"100 dims", tensorPB("w", Float, make([]int64, 100), nil), []string{"MaxDims"}},
		{"no data type", tensorPB("w", Undefined, []int64{1}, four), []string{"data_type is missing"}},
		{"complex", tensorPB("w", Complex64, []int64{1}, four), []string{"complex"}},
		{"float8", tensorPB("w", 17, []int64{1}, four), []string{"data type 17 is not supported"}},
		{"string raw_data", tensorPB("w", String, []int64{1}, four), []string{"STRING tensor cannot use raw_data"}},
		{"float with int64_data", tensorPB("w", Float, []int64{1}, nil).varint(7, 1), []string{"FLOAT tensor cannot hold int64_data"}},
		{"raw and float_data", tensorPB("w", Float, []int64{1}, four).bytes(4, four), []string{"both raw_data and float_data"}},
		{"packed float_data of 3 bytes", tensorPB("w", Float, []int64{1}, nil).bytes(4, []byte{1, 2, 3}), []string{"not a multiple of 4"}},
		{"segment", tensorPB("w", Float, []int64{1}, four).bytes(3, nil), []string{"segment"}},
		{"name claims 2^40 bytes", pb{}.varint(2, 1).varint(1, 1).bytes(9, four).bytes(8, nil)[:0].
			varint(2, 1).bytes(9, four).str(0, "")[:0], nil}, // placeholder, replaced below
		{"truncated varint", pb{0x08, 0xff, 0xff}, []string{"unexpected EOF", "truncated"}},
		{"varint overflow", pb{0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, []string{"overflow"}},
		{"field number 0", pb{0x00, 0x01}, []string{"invalid field number"}},
		{"wire type mismatch", pb{}.str(2, "x"), []string{"data_type", "wire type"}},
		{"external data without a folder", tensorPB("w", Float, []int64{1}, nil).varint(14, 1).bytes(13, pb{}.str(1, "location").str(2, "w.bin")), []string{`tensor "w"`, `external file "w.bin"`, "ReadFile"}},
		{"unknown data_location", tensorPB("w", Float, []int64{1}, four).varint(14, 7), []string{"data_location 7"}},
	}
	// A name claiming 2^40 bytes, with four present.
	lying := protowire.AppendTag(pb{}.varint(2, 1), 8, protowire.BytesType)
	lying = protowire.AppendVarint(lying, 1<<40)
	cases[15].b, cases[15].want = append(lying, "abcd"...), []string{"unexpected EOF"}

	for _, c := range cases {
		err := wantError(t, c.name, c.b, ReadOptions{}, true, c.want...)
		// The same tensor as a model's initialiser names it in the graph.
		if err != nil && c.name != "truncated varint" {
			g := pb{}.str(2, "g").bytes(5, c.b)
			wantError(t, c.name+" (initialiser)", model(g), ReadOptions{}, false, append([]string{`graph "g": initializer 0: tensor`}, c.want...)...)
		}
	}
	err := wantError(t, "limit", tensorPB("w", Float, []int64{1e9, 1e9}, four), ReadOptions{}, true)
	if !errors.Is(err, ErrLimit) {
		t.Errorf("errors.Is(%v, ErrLimit) is false", err)
	}
}

func TestHostileModels(t *testing.T) {
	node := pb{}.str(1, "x").str(2, "y").str(3, "relu").str(4, "Relu")
	small := ReadOptions{Limits: Limits{MaxNodes: 10, MaxAttributeElements: 100, MaxStringBytes: 64, MaxValueInfos: 5, MaxTensors: 3, MaxTotalElements: 1000, MaxMapEntries: 4}}
	many := func(field protowire.Number, n int, v pb) pb {
		g := pb{}.str(2, "g")
		for range n {
			g = g.bytes(field, v)
		}
		return model(g)
	}
	tensor := tensorPB("w", Float, []int64{400}, make([]byte, 1600))
	cases := []struct {
		name string
		b    pb
		opt  ReadOptions
		want []string
	}{
		{"no graph", pb{}.varint(1, 8), ReadOptions{}, []string{"no graph"}},
		{"two graphs", model(pb{}).bytes(7, pb{}), ReadOptions{}, []string{"graph occurs twice"}},
		{"11 nodes over MaxNodes 10", many(1, 11, node), small, []string{"MaxNodes", "11"}},
		{"6 inputs over MaxValueInfos 5", many(11, 6, pb{}.str(1, "x")), small, []string{"MaxValueInfos"}},
		{"4 tensors over MaxTensors 3", many(5, 4, tensorPB("w", Float, nil, []byte{0, 0, 0, 0})), small, []string{"MaxTensors"}},
		{"3×400 elements over MaxTotalElements 1000", many(5, 3, tensor), small, []string{"MaxTotalElements"}},
		{"long name over MaxStringBytes 64", model(pb{}.str(2, strings.Repeat("x", 65))), small, []string{"MaxStringBytes", "name"}},
		{"5 opsets over MaxMapEntries 4", func() pb {
			m := model(pb{})
			for i := range 5 {
				m = m.bytes(8, pb{}.str(1, string(rune('a'+i))).varint(2, 1))
			}
			return m
		}(), small, []string{"MaxMapEntries"}},
		{"conflicting opsets", model(pb{}).bytes(8, pb{}.varint(2, 9)), ReadOptions{}, []string{`domain ""`, "17 and 9"}},
		{"duplicate metadata", model(pb{}).bytes(14, pb{}.str(1, "k")).bytes(14, pb{}.str(1, "k")), ReadOptions{}, []string{`key "k" twice`}},
		{"packed ints over MaxAttributeElements 100", model(pb{}.bytes(1, node.bytes(5, pb{}.str(1, "axes").varint(20, 7).bytes(8, make([]byte, 101))))), small, []string{`node 0 "relu" (Relu)`, `attribute "axes"`, "MaxAttributeElements"}},
		{"unpacked floats over MaxAttributeElements 100", func() pb {
			a := pb{}.str(1, "f").varint(20, 6)
			for range 101 {
				a = protowire.AppendFixed32(protowire.AppendTag(a, 7, protowire.Fixed32Type), 0)
			}
			return model(pb{}.bytes(1, node.bytes(5, a)))
		}(), small, []string{"MaxAttributeElements"}},
		{"duplicate attribute", model(pb{}.bytes(1, node.bytes(5, pb{}.str(1, "a").varint(20, 2)).bytes(5, pb{}.str(1, "a").varint(20, 2)))), ReadOptions{}, []string{`attribute "a" occurs twice`}},
		{"attribute without name", model(pb{}.bytes(1, node.bytes(5, pb{}.varint(20, 2)))), ReadOptions{}, []string{"no name"}},
		{"attribute without type or value", model(pb{}.bytes(1, node.bytes(5, pb{}.str(1, "a")))), ReadOptions{}, []string{`attribute "a": the attribute has no type`}},
		{"TENSOR attribute without tensor", model(pb{}.bytes(1, node.bytes(5, pb{}.str(1, "a").varint(20, 4)))), ReadOptions{}, []string{"has no tensor"}},
		{"sparse attribute", model(pb{}.bytes(1, node.bytes(5, pb{}.str(1, "a").varint(20, 11)))), ReadOptions{}, []string{"sparse"}},
		{"sparse initializer", model(pb{}.bytes(15, pb{})), ReadOptions{}, []string{"sparse"}},
		{"unknown attribute type", model(pb{}.bytes(1, node.bytes(5, pb{}.str(1, "a").varint(20, 99)))), ReadOptions{}, []string{"unknown type 99"}},
		{"shape of 100 dims", model(pb{}.bytes(11, pb{}.str(1, "x").bytes(2, pb{}.bytes(1, pb{}.varint(1, 1).bytes(2, func() pb {
			s := pb{}
			for range 100 {
				s = s.bytes(1, pb{}.varint(1, 1))
			}
			return s
		}()))))), ReadOptions{}, []string{`input "x"`, "MaxDims"}},
		{"type both tensor and sequence", model(pb{}.bytes(11, pb{}.str(1, "x").bytes(2, pb{}.bytes(1, nil).bytes(4, nil)))), ReadOptions{}, []string{"both tensor_type and sequence_type"}},
		{"20000 nested groups in an unknown field", model(pb{}).bytes(99, nil)[:0], ReadOptions{}, nil}, // replaced below
		{"file over MaxFileBytes", model(pb{}.str(2, strings.Repeat("x", 100))), ReadOptions{Limits: Limits{MaxFileBytes: 50}}, []string{"MaxFileBytes"}},
	}
	groups := model(pb{})
	for range 20000 {
		groups = protowire.AppendTag(groups, 99, protowire.StartGroupType)
	}
	cases[len(cases)-2].b, cases[len(cases)-2].want = groups, []string{"field 99 (group)"}

	for _, c := range cases {
		wantError(t, c.name, c.b, c.opt, false, c.want...)
	}
}

// TestDeepNesting: subgraphs nested (an If in the then_branch of an If
// ...) beyond MaxGraphDepth, and sequence types nested as deep, are errors
// before the decoder recurses far.
func TestDeepNesting(t *testing.T) {
	nest := func(depth int) pb {
		g := pb{}.str(2, "leaf")
		for range depth - 1 {
			attr := pb{}.str(1, "then_branch").varint(20, uint64(AttrGraph)).bytes(6, g)
			g = pb{}.bytes(1, pb{}.str(4, "If").bytes(5, attr)).str(2, "g")
		}
		return model(g)
	}
	if _, err := Decode(nest(MaxGraphDepth), ReadOptions{}); err != nil {
		t.Errorf("depth %d: %v", MaxGraphDepth, err)
	}
	wantError(t, "depth 33", nest(MaxGraphDepth+1), ReadOptions{}, false, "MaxGraphDepth")
	wantError(t, "depth 2000", nest(2000), ReadOptions{}, false, "MaxGraphDepth")

	typ := pb{}.bytes(1, pb{}.varint(1, 1))
	for range 2000 {
		typ = pb{}.bytes(4, pb{}.bytes(1, typ))
	}
	wantError(t, "sequence of sequence ... 2000 deep", model(pb{}.bytes(11, pb{}.str(1, "x").bytes(2, typ))), ReadOptions{}, false, "MaxGraphDepth", `input "x"`)
}

// TestTruncated: every proper prefix of a real model is an error or a
// model, never a panic, and allocates at most a few times its size.
func TestTruncated(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testDataDir, "node/test_if/model.onnx"))
	if err != nil {
		t.Fatalf("%v: install libonnx-testdata", err)
	}
	for i := range len(b) {
		if _, err := Decode(b[:i], ReadOptions{}); err == nil && i < len(b)/2 {
			t.Errorf("a %d-byte prefix of a %d-byte model decodes", i, len(b))
		}
	}
}

// externalModel is a model with one FLOAT initialiser of dims whose data
// keys (external_data) place elsewhere.
func externalModel(dims []int64, keys ...string) pb {
	tp := tensorPB("w", Float, dims, nil).varint(14, 1)
	for i := 0; i+1 < len(keys); i += 2 {
		tp = tp.bytes(13, pb{}.str(1, keys[i]).str(2, keys[i+1]))
	}
	return model(pb{}.str(2, "g").bytes(5, tp))
}

func TestExternalData(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "model")
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 0, 64)
	for i := range 16 {
		data = append(data, byte(math.Float32bits(float32(i))), byte(math.Float32bits(float32(i))>>8), byte(math.Float32bits(float32(i))>>16), byte(math.Float32bits(float32(i))>>24))
	}
	for _, p := range []string{filepath.Join(dir, "w.bin"), filepath.Join(dir, "sub", "w.bin"), filepath.Join(root, "secret.bin")} {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(root, "secret.bin"), filepath.Join(dir, "escape.bin")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("sub/w.bin", filepath.Join(dir, "inside.bin")); err != nil {
		t.Fatal(err)
	}

	read := func(b pb) (*Model, error) {
		path := filepath.Join(dir, "model.onnx")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		var m *Model
		var err error
		if n := allocated(func() { m, err = ReadFile(path, ReadOptions{}) }); n > 1<<20 {
			t.Errorf("reading allocated %d bytes", n)
		}
		return m, err
	}
	good := []struct {
		name string
		b    pb
		want []float32
	}{
		{"whole file", externalModel([]int64{4, 4}, "location", "w.bin"), nil},
		{"offset and length", externalModel([]int64{2}, "location", "w.bin", "offset", "8", "length", "8"), []float32{2, 3}},
		{"subfolder", externalModel([]int64{3}, "location", "sub/w.bin", "offset", "52"), []float32{13, 14, 15}},
		{"symlink inside the folder", externalModel([]int64{1}, "location", "inside.bin", "offset", "4", "length", "4", "checksum", "x"), []float32{1}},
	}
	for _, c := range good {
		m, err := read(c.b)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		got := m.Graph.Initializers[0].Floats
		if c.want == nil {
			for i := range 16 {
				c.want = append(c.want, float32(i))
			}
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: got %v, want %v", c.name, got, c.want)
				break
			}
		}
	}

	bad := []struct {
		name string
		b    pb
		want []string
	}{
		{"absolute path", externalModel([]int64{1}, "location", filepath.Join(root, "secret.bin")), []string{"absolute path"}},
		{"parent folder", externalModel([]int64{1}, "location", "../secret.bin"), []string{"contains .."}},
		{"parent folder inside", externalModel([]int64{1}, "location", "sub/../../secret.bin"), []string{"contains .."}},
		{"backslash parent", externalModel([]int64{1}, "location", `..\secret.bin`), []string{"contains .."}},
		{"symlink out of the folder", externalModel([]int64{1}, "location", "escape.bin"), []string{"escape"}},
		{"no location", externalModel([]int64{1}), []string{"no location"}},
		{"missing file", externalModel([]int64{1}, "location", "none.bin"), []string{"none.bin"}},
		{"a folder", externalModel([]int64{1}, "location", "sub"), []string{"not a regular file"}},
		{"length past the end", externalModel([]int64{16}, "location", "w.bin", "offset", "4", "length", "64"), []string{"past the end"}},
		{"offset past the end", externalModel([]int64{1}, "location", "w.bin", "offset", "65"), []string{"past the end"}},
		{"huge offset and length", externalModel([]int64{1 << 28}, "location", "w.bin", "offset", "9223372036854775807", "length", "1073741824"), []string{"past the end"}},
		{"length not matching dims", externalModel([]int64{3}, "location", "w.bin", "length", "8"), []string{"length 8", "need 12 bytes"}},
		{"rest of file not matching dims", externalModel([]int64{3}, "location", "w.bin"), []string{"length 64", "need 12 bytes"}},
		{"dims [1e9, 1e9]", externalModel([]int64{1e9, 1e9}, "location", "w.bin"), []string{"MaxTensorElements"}},
		{"negative offset", externalModel([]int64{1}, "location", "w.bin", "offset", "-4"), []string{"not a non-negative integer"}},
		{"text offset", externalModel([]int64{1}, "location", "w.bin", "offset", "4x"), []string{"not a non-negative integer"}},
	}
	for _, c := range bad {
		_, err := read(c.b)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not contain %q", c.name, err, w)
			}
		}
		if !strings.Contains(err.Error(), `tensor "w"`) {
			t.Errorf("%s: error %q does not name the tensor", c.name, err)
		}
	}

	// Decode reads external data only when told the folder.
	b := externalModel([]int64{2}, "location", "w.bin", "length", "8")
	if _, err := Decode(b, ReadOptions{}); err == nil || !strings.Contains(err.Error(), "ReadOptions.Dir") {
		t.Errorf("Decode without a folder: %v", err)
	}
	if m, err := Decode(b, ReadOptions{Dir: dir}); err != nil || m.Graph.Initializers[0].Floats[1] != 1 {
		t.Errorf("Decode with ReadOptions.Dir: %v", err)
	}
	// The model written back holds the data inline.
	m, err := Decode(b, ReadOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := roundTrip(m); err != nil {
		t.Error(err)
	}
}

// A Conv whose padding dwarfs its input, with a large stride, asks for an
// output of a million values but a padded plane of 1.6·10⁹ per channel: the strided
// and depthwise forwards must not build that plane (they took 6–8 GB and
// crashed), and the prediction is the bias everywhere the kernel sees
// only padding.
func TestConvCraftedPaddingAndStride(t *testing.T) {
	for _, groups := range []int64{1, 4} {
		c := int(groups)
		w := tensor.RandN(tensor.NewRNG(1), 0, 1, c, c/int(groups), 3, 3)
		b := tensor.Full(0.5, c)
		m := newModel(13).input("x", Float, -1, int64(c), 2, 2).floatInit("w", w).floatInit("b", b).
			node("Conv", []string{"x", "w", "b"}, []string{"y"}, tInts("pads", 20000, 20000, 20000, 20000), tInts("strides", 40, 40), tInt("group", groups)).
			output("y").m
		mod := mustImport(t, m, ImportOptions{Frozen: true})
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		y, err := nn.Predict(mod, tensor.RandN(tensor.NewRNG(2), 0, 1, 1, c, 2, 2))
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatalf("groups %d: %v", groups, err)
		}
		if !slices.Equal(y.Shape(), []int{1, c, 1000, 1000}) || y.At(0, 0, 0, 0) != 0.5 {
			t.Fatalf("groups %d: shape %v, corner %v; want [1 %d 1000 1000] and the bias 0.5", groups, y.Shape(), y.At(0, 0, 0, 0), c)
		}
		if a := after.TotalAlloc - before.TotalAlloc; a > 1<<30 {
			t.Fatalf("groups %d: %d bytes allocated for a %d-value output", groups, a, y.Len())
		}
	}
}
