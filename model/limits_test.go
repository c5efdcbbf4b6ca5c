package model

import (
	"bytes"
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
