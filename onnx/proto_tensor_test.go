package onnx

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHalfExhaustive: every float16 and bfloat16 value converts to
// float32 and back to the same bits, NaN payloads included.
func TestHalfExhaustive(t *testing.T) {
	for h := range 1 << 16 {
		if got := float32ToHalf(halfToFloat32(uint16(h))); got != uint16(h) {
			t.Fatalf("float16 %#04x -> %v -> %#04x", h, halfToFloat32(uint16(h)), got)
		}
		if got := float32ToBFloat16(bfloat16ToFloat32(uint16(h))); got != uint16(h) {
			t.Fatalf("bfloat16 %#04x -> %v -> %#04x", h, bfloat16ToFloat32(uint16(h)), got)
		}
	}
}

func TestHalfRounding(t *testing.T) {
	cases := []struct {
		f    float32
		half uint16
	}{
		{1, 0x3c00},
		{-2, 0xc000},
		{65504, 0x7bff},
		{65519, 0x7bff},                            // below the midpoint to infinity
		{65520, 0x7c00},                            // the midpoint rounds to even: infinity
		{1e10, 0x7c00},                             // overflow
		{1 + 1.0/2048, 0x3c00},                     // tie, to even
		{1 + 3.0/2048, 0x3c02},                     // tie, to even (up)
		{float32(math.Ldexp(1, -24)), 0x0001},      // smallest subnormal
		{float32(math.Ldexp(1, -25)), 0x0000},      // half of it: tie to even, zero
		{float32(math.Ldexp(1.5, -25)), 0x0001},    // above the tie
		{float32(math.Ldexp(1023, -24)), 0x03ff},   // largest subnormal
		{float32(math.Ldexp(2047, -25)), 0x0400},   // rounds up into the normals
		{float32(math.Ldexp(1, -14)), 0x0400},      // smallest normal
		{-float32(math.Ldexp(1, -30)), 0x8000},     // underflow keeps the sign
		{float32(math.Inf(-1)), 0xfc00},            //
		{math.Float32frombits(0x7f800001), 0x7e00}, // a NaN whose payload is below float16's stays a NaN
	}
	for _, c := range cases {
		if got := float32ToHalf(c.f); got != c.half {
			t.Errorf("float32ToHalf(%g) = %#04x, want %#04x", c.f, got, c.half)
		}
	}
	bf := []struct {
		f  float32
		bf uint16
	}{
		{1, 0x3f80},
		{math.Float32frombits(0x3f808000), 0x3f80}, // tie, to even
		{math.Float32frombits(0x3f818000), 0x3f82}, // tie, to even (up)
		{math.Float32frombits(0x3f808001), 0x3f81},
		{math.MaxFloat32, 0x7f80},
		{math.Float32frombits(0x7f800001), 0x7fc0},
	}
	for _, c := range bf {
		if got := float32ToBFloat16(c.f); got != c.bf {
			t.Errorf("float32ToBFloat16(%g) = %#04x, want %#04x", c.f, got, c.bf)
		}
	}
}

// TestTensorTypes: a tensor of each type encodes and decodes to itself,
// in raw_data, through the types' extreme values.
func TestTensorTypes(t *testing.T) {
	ints := map[DataType][]int64{
		Uint8:  {0, 1, 255},
		Int8:   {-128, 0, 127},
		Uint16: {0, 1, 65535},
		Int16:  {-32768, 0, 32767},
		Int32:  {math.MinInt32, 0, math.MaxInt32},
		Int64:  {math.MinInt64, 0, math.MaxInt64},
		Uint32: {0, 1, math.MaxUint32},
		Uint64: {0, math.MaxInt64, -1}, // -1 is MaxUint64
		Bool:   {0, 1, 1},
	}
	for dt, v := range ints {
		tn := &Tensor{Name: dt.String(), DataType: dt, Dims: []int64{3}, Ints: v}
		if err := roundTripTensor(tn); err != nil {
			t.Errorf("%v: %v", dt, err)
		}
		lo, hi := intRange(dt)
		for _, bad := range []int64{lo - 1, hi + 1} {
			if bad == lo-1 && lo == math.MinInt64 || bad == hi+1 && hi == math.MaxInt64 {
				continue
			}
			_, err := EncodeTensor(&Tensor{Name: "x", DataType: dt, Dims: []int64{1}, Ints: []int64{bad}})
			if err == nil || !strings.Contains(err.Error(), "out of the range of "+dt.String()) {
				t.Errorf("%v: encoding %d: %v", dt, bad, err)
			}
		}
	}
	floats := []float32{0, float32(math.Copysign(0, -1)), 1.5, -256, float32(math.Inf(1)), float32(math.NaN())}
	for _, dt := range []DataType{Float, Double, Float16, BFloat16} {
		tn := &Tensor{Name: dt.String(), DataType: dt, Dims: []int64{2, 3}, Floats: floats}
		if err := roundTripTensor(tn); err != nil {
			t.Errorf("%v: %v", dt, err)
		}
	}
	for _, tn := range []*Tensor{
		{DataType: String, Dims: []int64{2}, Strings: [][]byte{[]byte("a"), {}}},
		{DataType: Float, Dims: []int64{0, 5}, Floats: []float32{}},
		{DataType: Int64, Ints: []int64{7}}, // a scalar
	} {
		if err := roundTripTensor(tn); err != nil {
			t.Errorf("%v: %v", tn.DataType, err)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	g := func(nodes ...*Node) *Model {
		return &Model{IRVersion: 8, Opsets: map[string]int64{"": 17}, Graph: &Graph{Name: "g", Nodes: nodes}}
	}
	cases := []struct {
		name string
		m    *Model
		want string
	}{
		{"no graph", &Model{}, "no graph"},
		{"short payload", &Model{Graph: &Graph{Initializers: []*Tensor{{Name: "w", DataType: Float, Dims: []int64{2}, Floats: []float32{1}}}}}, `initializer 0: tensor "w": Floats holds 1 elements, but dims [2] need 2`},
		{"wrong slice", &Model{Graph: &Graph{Initializers: []*Tensor{{Name: "w", DataType: Int64, Dims: []int64{1}, Floats: []float32{1}}}}}, "Ints holds 0"},
		{"complex", &Model{Graph: &Graph{Initializers: []*Tensor{{Name: "w", DataType: Complex64}}}}, "complex"},
		{"negative dims", &Model{Graph: &Graph{Initializers: []*Tensor{{Name: "w", DataType: Float, Dims: []int64{-1}}}}}, "negative"},
		{"attribute name", g(&Node{Name: "n", OpType: "Relu", Attrs: map[string]*Attribute{"a": {Name: "b", Type: AttrInt}}}), `node 0 "n" (Relu): attribute "a": the attribute is named "a" in the node's map and "b" in itself`},
		{"nil graph attribute", g(&Node{OpType: "If", Attrs: map[string]*Attribute{"then_branch": {Type: AttrGraph}}}), "GRAPH attribute has no graph"},
		{"undefined attribute", g(&Node{OpType: "If", Attrs: map[string]*Attribute{"x": {}}}), "type UNDEFINED"},
		{"dim with value and name", &Model{Graph: &Graph{Inputs: []*ValueInfo{{Name: "x", ElemType: Float, Shape: []Dim{{Value: 1, Param: "N"}}}}}}, `input "x": dim 0 has both`},
		{"sequence made in memory", &Model{Graph: &Graph{Inputs: []*ValueInfo{{Name: "x", Kind: KindSequence}}}}, "only as read from a file"},
	}
	for _, c := range cases {
		_, err := c.m.Encode()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}

func TestLenShape(t *testing.T) {
	cases := []struct {
		dims []int64
		n    int
	}{
		{nil, 1}, {[]int64{2, 3}, 6}, {[]int64{0, 1 << 62, 1 << 62}, 0}, {[]int64{-1}, -1}, {[]int64{1 << 62, 1 << 62}, -1}, {[]int64{math.MaxInt64}, math.MaxInt64},
	}
	for _, c := range cases {
		if got := (&Tensor{Dims: c.dims}).Len(); got != c.n {
			t.Errorf("Len of dims %v = %d, want %d", c.dims, got, c.n)
		}
	}
	if s := (&Tensor{Dims: []int64{2, 3}}).Shape(); len(s) != 2 || s[0] != 2 || s[1] != 3 {
		t.Errorf("Shape = %v", s)
	}
}

func TestReadWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.onnx")
	m := &Model{IRVersion: 8, Opsets: map[string]int64{"": 17}, ProducerName: "glassbox", Metadata: map[string]string{"k": "v"},
		Graph: &Graph{Name: "g",
			Nodes:        []*Node{{Name: "r", OpType: "Relu", Inputs: []string{"x"}, Outputs: []string{"y"}, Attrs: map[string]*Attribute{}}},
			Initializers: []*Tensor{{Name: "w", DataType: Float, Dims: []int64{2}, Floats: []float32{1, 2}}},
			Inputs:       []*ValueInfo{{Name: "x", ElemType: Float, Shape: []Dim{{Param: "N"}, {Value: 3}, {}}}},
			Outputs:      []*ValueInfo{{Name: "y", ElemType: Float}},
		}}
	if err := WriteFile(path, m); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d := diffModels(m, got); d != "" {
		t.Error(d)
	}
	// A model that cannot be encoded leaves the file as it was.
	before, _ := os.ReadFile(path)
	if err := WriteFile(path, &Model{}); err == nil {
		t.Error("WriteFile of a model without a graph succeeded")
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("a failed WriteFile changed the file")
	}
	if _, err := ReadFile(path, ReadOptions{Limits: Limits{MaxFileBytes: 10}}); err == nil || !strings.Contains(err.Error(), "MaxFileBytes") || !strings.Contains(err.Error(), path) {
		t.Errorf("ReadFile over MaxFileBytes: %v", err)
	}
	if _, err := ReadFile(dir, ReadOptions{}); err == nil || !strings.Contains(err.Error(), "folder") {
		t.Errorf("ReadFile of a folder: %v", err)
	}
}
