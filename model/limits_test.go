package model

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/tensor"
)

// goodFile returns the bytes of a small saved model.
func goodFile(t *testing.T) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.gbx")
	if err := Save(path, newAffine(3, 2, tensor.NewRNG(1)), Meta{InputShape: []int{3}}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// allocated returns the bytes fn allocates on the heap.
func allocated(fn func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	fn()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// A reader whose size lies (a stream claiming a gigabyte that holds a few
// hundred bytes) must not make Read allocate what the size claims: the
// body is read as it arrives.
func TestReadLyingSizeDoesNotAllocate(t *testing.T) {
	raw := goodFile(t)
	var err error
	n := allocated(func() { _, _, err = Read(bytes.NewReader(raw), 1<<30) })
	if err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("want a truncated-data error, got %v", err)
	}
	if n > 16<<20 {
		t.Fatalf("Read of a %d-byte stream claiming 1 GiB allocated %d bytes", len(raw), n)
	}
	// The truth still reads.
	if _, _, err := Read(bytes.NewReader(raw), int64(len(raw))); err != nil {
		t.Fatal(err)
	}
}

// readBody reads exactly the bytes asked for, across several growths,
// and leaves what follows them unread.
func TestReadBodyExact(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 3*readChunk/10+7)
	for _, n := range []int64{0, 1, readChunk - 1, readChunk, readChunk + 1, int64(len(data)) - 3} {
		r := bytes.NewReader(data)
		got, err := readBody(r, n)
		if err != nil || !bytes.Equal(got, data[:n]) {
			t.Fatalf("n=%d: got %d bytes, %v", n, len(got), err)
		}
		if r.Len() != len(data)-int(n) {
			t.Fatalf("n=%d: read %d bytes past the body", n, len(data)-int(n)-r.Len())
		}
	}
	if _, err := readBody(bytes.NewReader(data), int64(len(data))+1); err == nil {
		t.Fatal("a short reader gave no error")
	}
}

// craft returns a safetensors file with the given header (marshalled as
// JSON) and body.
func craft(t *testing.T, header map[string]any, body []byte) []byte {
	t.Helper()
	hb, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(hb)))
	return append(append(out, hb...), body...)
}

func writeFile(t *testing.T, raw []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.safetensors")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func entry(dtype string, shape []int, lo, hi int) map[string]any {
	return map[string]any{"dtype": dtype, "shape": shape, "data_offsets": []int{lo, hi}}
}

// A shape whose element count is far beyond the body must be refused
// before the tensor is allocated. ReadTensors's old check let [1, d]
// through for any d (it compared 1 with len(body)/4/d+1), so a 48-byte
// file asked for 256 MiB here, and [1, 1<<40] killed the process.
func TestReadTensorsRefusesImpossibleShapes(t *testing.T) {
	body := make([]byte, 48)
	for _, shape := range [][]int{{1, 1 << 26}, {1, 1 << 40}, {1 << 31, 1 << 31, 4}, {1 << 62, 4}, {-1, -4}, {3, -4}} {
		path := writeFile(t, craft(t, map[string]any{"w": entry("F32", shape, 0, 48)}, body))
		var err error
		n := allocated(func() { _, _, err = ReadTensors(path) })
		if err == nil {
			t.Errorf("shape %v: no error", shape)
		}
		if n > 1<<20 {
			t.Errorf("shape %v: a 48-byte body made ReadTensors allocate %d bytes", shape, n)
		}
	}
}

// Every entry of the header is checked against the limits before any
// tensor is allocated.
func TestReadTensorsHeaderLimits(t *testing.T) {
	var b strings.Builder // built by hand: json.Marshal of 65537 entries is slow
	b.WriteString("{")
	for i := range MaxTensors + 1 {
		fmt.Fprintf(&b, `"t%d":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},`, i)
	}
	many := strings.TrimSuffix(b.String(), ",") + "}"
	cases := map[string]struct {
		raw  []byte
		want string
	}{
		"rank":       {craft(t, map[string]any{"w": entry("F32", make([]int, MaxRank+1), 0, 0)}, nil), "MaxRank"},
		"tensors":    {append(binary.LittleEndian.AppendUint64(nil, uint64(len(many))), many...), "MaxTensors"},
		"dtype":      {craft(t, map[string]any{"w": entry("F33", []int{1}, 0, 4)}, make([]byte, 4)), "unknown dtype"},
		"range":      {craft(t, map[string]any{"w": entry("F64", []int{1}, 0, 4)}, make([]byte, 4)), "invalid"},
		"outside":    {craft(t, map[string]any{"w": entry("F32", []int{2}, 4, 12)}, make([]byte, 8)), "invalid"},
		"negative":   {craft(t, map[string]any{"w": entry("F32", []int{1}, -4, 0)}, make([]byte, 8)), "invalid"},
		"entry":      {craft(t, map[string]any{"w": []int{1, 2}}, nil), "bad header entry"},
		"metadata":   {craft(t, map[string]any{"__metadata__": map[string]int{"a": 1}}, nil), "__metadata__"},
		"short":      {[]byte{1, 2, 3}, "too short"},
		"header cap": {binary.LittleEndian.AppendUint64(nil, MaxHeaderBytes+1), "MaxHeaderBytes"},
	}
	for name, c := range cases {
		_, _, err := ReadTensors(writeFile(t, c.raw))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: want an error containing %q, got %v", name, c.want, err)
		}
	}
	// A file within the limits reads, a zero-size tensor and a null
	// __metadata__ included.
	raw := craft(t, map[string]any{"__metadata__": nil, "e": entry("F32", []int{0, 1 << 40}, 8, 8), "w": entry("F32", []int{2}, 0, 8)}, make([]byte, 8))
	ts, md, err := ReadTensors(writeFile(t, raw))
	if err != nil || len(ts) != 2 || md == nil || ts["e"].Len() != 0 || ts["w"].Len() != 2 {
		t.Fatalf("a sound file: %v, %v, %v", ts, md, err)
	}
}

// Tensors whose byte ranges overlap could each claim the whole body: a
// file of 1 MiB of data and a thousand entries pointing at it asked
// ReadTensors for a GiB. Overlaps are refused, so the tensors together
// hold at most the file's data.
func TestReadTensorsRefusesSharedBytes(t *testing.T) {
	const n = 1 << 18 // values in the body
	h := map[string]any{}
	for i := range 1000 {
		h[fmt.Sprint("t", i)] = entry("F32", []int{n}, 0, 4*n)
	}
	path := writeFile(t, craft(t, h, make([]byte, 4*n)))
	var err error
	got := allocated(func() { _, _, err = ReadTensors(path) })
	if err == nil || !strings.Contains(err.Error(), "share bytes") {
		t.Errorf("want an error about shared bytes, got %v", err)
	}
	if got > 16<<20 {
		t.Errorf("a file of %d bytes made ReadTensors allocate %d", 4*n, got)
	}
	// Partial overlap, and a zero-size tensor inside another's range
	// (which shares nothing).
	raw := craft(t, map[string]any{"a": entry("F32", []int{2}, 0, 8), "b": entry("F32", []int{2}, 4, 12)}, make([]byte, 12))
	if _, _, err := ReadTensors(writeFile(t, raw)); err == nil || !strings.Contains(err.Error(), "share bytes") {
		t.Errorf("partial overlap: %v", err)
	}
	raw = craft(t, map[string]any{"a": entry("F32", []int{2}, 0, 8), "z": entry("F32", []int{0}, 4, 4)}, make([]byte, 8))
	if _, _, err := ReadTensors(writeFile(t, raw)); err != nil {
		t.Errorf("zero-size tensor: %v", err)
	}
}

// tensorElements sums the values the file's tensors declare: for a saved
// model, the model's parameter and buffer count.
func TestTensorElements(t *testing.T) {
	raw := goodFile(t) // affine 3→2: weight 6, bias 2, count 1
	h, _, err := readFile(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := tensorElements(h); n != 9 || err != nil {
		t.Fatalf("tensorElements = %d, %v; want 9", n, err)
	}
	raw = craft(t, map[string]any{"a": entry("F32", []int{2, 3}, 0, 24), "b": entry("U8", []int{5}, 24, 29),
		"z": entry("F64", []int{0, 7}, 29, 29), "s": entry("F16", nil, 30, 32)}, make([]byte, 32))
	if h, _, err = readFile(bytes.NewReader(raw), int64(len(raw))); err != nil {
		t.Fatal(err)
	}
	if n, err := tensorElements(h); n != 12 || err != nil {
		t.Fatalf("tensorElements = %d, %v; want 6+5+0+1", n, err)
	}
	if n, err := tensorElements(&header{tensors: map[string]tensorHeader{"x": {Shape: []int{-1}}}}); err == nil {
		t.Fatalf("an unchecked negative shape gave %d", n)
	}
	big := &header{tensors: map[string]tensorHeader{}}
	for i := range 17 { // 17 × 2⁵⁹ > 2⁶³
		big.tensors[fmt.Sprint(i)] = tensorHeader{Shape: []int{1 << 30, 1 << 29}}
	}
	if n, err := tensorElements(big); err == nil {
		t.Fatalf("an overflowing sum gave %d", n)
	}
}
