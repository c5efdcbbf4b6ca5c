package datasets

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func idxBytes(t testing.TB, x *IDX) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteIDX(&buf, x); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestIDXRoundTripAllTypes(t *testing.T) {
	vals := []float64{0, 1, -2, 3.5, 100}
	for _, typ := range []IDXType{IDXUint8, IDXInt8, IDXInt16, IDXInt32, IDXFloat32, IDXFloat64} {
		x := &IDX{Type: typ, Dims: []int{5, 1}, Data: make([]byte, 5*typ.Size())}
		want := make([]float64, 5)
		for i, v := range vals {
			switch typ {
			case IDXUint8:
				v = math.Abs(math.Trunc(v))
				x.Data[i] = byte(v)
			case IDXInt8:
				v = math.Trunc(v)
				x.Data[i] = byte(int8(v))
			case IDXInt16:
				v = math.Trunc(v)
				binary.BigEndian.PutUint16(x.Data[2*i:], uint16(int16(v)))
			case IDXInt32:
				v = math.Trunc(v)
				binary.BigEndian.PutUint32(x.Data[4*i:], uint32(int32(v)))
			case IDXFloat32:
				binary.BigEndian.PutUint32(x.Data[4*i:], math.Float32bits(float32(v)))
			case IDXFloat64:
				binary.BigEndian.PutUint64(x.Data[8*i:], math.Float64bits(v))
			}
			want[i] = v
		}
		raw := idxBytes(t, x)
		if raw[2] != byte(typ) || raw[3] != 2 {
			t.Fatalf("%v: header % x", typ, raw[:4])
		}
		for _, in := range [][]byte{raw, gzipBytes(t, raw)} {
			got, err := ReadIDX(bytes.NewReader(in))
			if err != nil {
				t.Fatalf("%v: %v", typ, err)
			}
			if got.Type != typ || len(got.Dims) != 2 || got.Dims[0] != 5 || got.Dims[1] != 1 || got.Len() != 5 {
				t.Fatalf("%v: got type %v dims %v", typ, got.Type, got.Dims)
			}
			f32 := got.Float32s()
			for i := range want {
				if got.Float64(i) != want[i] || f32[i] != float32(want[i]) {
					t.Fatalf("%v: element %d = %v / %v, want %v", typ, i, got.Float64(i), f32[i], want[i])
				}
			}
		}
	}
}

func TestIDXErrors(t *testing.T) {
	good := idxBytes(t, &IDX{Type: IDXUint8, Dims: []int{2, 3}, Data: []byte{1, 2, 3, 4, 5, 6}})
	gz := gzipBytes(t, good)
	badCRC := bytes.Clone(gz)
	badCRC[len(badCRC)-6] ^= 0xff // inside the CRC-32 trailer
	huge := []byte{0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	cases := []struct {
		name, want string
		in         []byte
	}{
		{"empty", "empty", nil},
		{"one byte", "empty", []byte{0}},
		{"bad magic", "magic", append([]byte{1, 2}, good[2:]...)},
		{"unknown type", "unknown element type 0x07", append([]byte{0, 0, 7}, good[3:]...)},
		{"zero dims", "0 dimensions", []byte{0, 0, 8, 0}},
		{"short dims", "dimension sizes", []byte{0, 0, 8, 2, 0, 0}},
		{"truncated raw", "file has 5 bytes", good[:len(good)-1]},
		{"trailing raw", "file has 7 bytes", append(bytes.Clone(good), 9)},
		{"truncated gzip data", "truncated", gzipBytes(t, good[:len(good)-2])},
		{"trailing gzip data", "trailing bytes", gzipBytes(t, append(bytes.Clone(good), 1, 2))},
		{"cut gzip stream", "unexpected EOF", gz[:len(gz)-10]},
		{"bad gzip crc", "checksum", badCRC},
		{"huge header", "refusing", huge},
		{"huge header gzip", "refusing", gzipBytes(t, huge)},
	}
	for _, c := range cases {
		_, err := ReadIDX(bytes.NewReader(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// A header that declares far more data than a small stream holds must not
// allocate what it declares.
func TestIDXLyingHeaderDoesNotAllocate(t *testing.T) {
	head := []byte{0, 0, 8, 3, 0, 0, 0x40, 0, 0, 0, 0x40, 0, 0, 0, 0x10, 0} // 16384×16384×4096... too big
	binary.BigEndian.PutUint32(head[4:], 1000)
	binary.BigEndian.PutUint32(head[8:], 1000)
	binary.BigEndian.PutUint32(head[12:], 1000) // 1e9 bytes declared, under the cap
	in := gzipBytes(t, append(head, make([]byte, 100)...))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := ReadIDX(bytes.NewReader(in)) // gzip: size unknown in advance
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "truncated after 100 bytes") {
		t.Fatalf("error %v, want a truncation after 100 bytes", err)
	}
	if d := after.TotalAlloc - before.TotalAlloc; d > 8<<20 {
		t.Fatalf("allocated %d bytes for a 100-byte payload", d)
	}
	// Raw from a file: the size is checked before reading.
	p := filepath.Join(t.TempDir(), "lie.idx")
	if err := os.WriteFile(p, append(head, make([]byte, 100)...), 0o644); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&before)
	_, err = ReadIDXFile(p)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "file has 100 bytes of data") || !strings.Contains(err.Error(), p) {
		t.Fatalf("error %v, want a size mismatch naming the file", err)
	}
	if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
		t.Fatalf("allocated %d bytes before rejecting the size", d)
	}
}

func TestWriteIDXValidates(t *testing.T) {
	for _, x := range []*IDX{
		{Type: IDXUint8, Dims: []int{2, 2}, Data: []byte{1, 2, 3}},
		{Type: 0x42, Dims: []int{1}, Data: []byte{1}},
		{Type: IDXUint8, Dims: nil, Data: nil},
		{Type: IDXInt16, Dims: []int{-1}, Data: nil},
	} {
		if err := WriteIDX(&bytes.Buffer{}, x); err == nil {
			t.Errorf("WriteIDX(%v %v, %d bytes) accepted", x.Type, x.Dims, len(x.Data))
		}
	}
}

// The real MNIST files: sizes, label range and known values (first labels,
// a row of the first image, pixel sums, computed independently with Python).
func TestReadIDXRealMNIST(t *testing.T) {
	dir := mnistDir(t)
	check := func(name string, dims []int) *IDX {
		x, err := ReadIDXFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if x.Type != IDXUint8 || len(x.Dims) != len(dims) {
			t.Fatalf("%s: type %v dims %v, want uint8 %v", name, x.Type, x.Dims, dims)
		}
		for i := range dims {
			if x.Dims[i] != dims[i] {
				t.Fatalf("%s: dims %v, want %v", name, x.Dims, dims)
			}
		}
		return x
	}
	trainX := check("train-images-idx3-ubyte.gz", []int{60000, 28, 28})
	trainY := check("train-labels-idx1-ubyte.gz", []int{60000})
	testX := check("t10k-images-idx3-ubyte.gz", []int{10000, 28, 28})
	testY := check("t10k-labels-idx1-ubyte.gz", []int{10000})
	for _, y := range [][]byte{trainY.Data, testY.Data} {
		seen := [10]int{}
		for _, l := range y {
			if l > 9 {
				t.Fatalf("label %d out of 0-9", l)
			}
			seen[l]++
		}
		for d, n := range seen {
			if n == 0 {
				t.Fatalf("digit %d never appears", d)
			}
		}
	}
	if got, want := trainY.Data[:10], []byte{5, 0, 4, 1, 9, 2, 1, 3, 1, 4}; !bytes.Equal(got, want) {
		t.Fatalf("first train labels %v, want %v", got, want)
	}
	if got, want := testY.Data[:10], []byte{7, 2, 1, 0, 4, 1, 4, 9, 5, 9}; !bytes.Equal(got, want) {
		t.Fatalf("first test labels %v, want %v", got, want)
	}
	row14 := []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 81, 240, 253, 253, 119, 25, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	if got := trainX.Data[14*28 : 15*28]; !bytes.Equal(got, row14) {
		t.Fatalf("row 14 of the first image %v, want %v", got, row14)
	}
	sum := func(b []byte) (s int) {
		for _, v := range b {
			s += int(v)
		}
		return s
	}
	if s := sum(trainX.Data[:784]); s != 27525 {
		t.Fatalf("pixel sum of the first train image %d, want 27525", s)
	}
	if s := sum(testX.Data[:784]); s != 18454 {
		t.Fatalf("pixel sum of the first test image %d, want 18454", s)
	}
}
