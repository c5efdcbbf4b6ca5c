package datasets

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// IDXType is the element type code of an IDX file (the third byte of its
// magic number).
type IDXType byte

// The element types the IDX format defines. Multi-byte values are stored
// big-endian.
const (
	IDXUint8   IDXType = 0x08
	IDXInt8    IDXType = 0x09
	IDXInt16   IDXType = 0x0B
	IDXInt32   IDXType = 0x0C
	IDXFloat32 IDXType = 0x0D
	IDXFloat64 IDXType = 0x0E
)

// MaxIDXBytes caps the data size (in bytes, header excluded) that [ReadIDX]
// accepts, so that a hostile header cannot make it allocate without bound.
const MaxIDXBytes = 1 << 31

// Size returns the size of one element in bytes, or 0 for an unknown type.
func (t IDXType) Size() int {
	switch t {
	case IDXUint8, IDXInt8:
		return 1
	case IDXInt16:
		return 2
	case IDXInt32, IDXFloat32:
		return 4
	case IDXFloat64:
		return 8
	}
	return 0
}

// String returns the type's name ("uint8", "float32", ...).
func (t IDXType) String() string {
	switch t {
	case IDXUint8:
		return "uint8"
	case IDXInt8:
		return "int8"
	case IDXInt16:
		return "int16"
	case IDXInt32:
		return "int32"
	case IDXFloat32:
		return "float32"
	case IDXFloat64:
		return "float64"
	}
	return fmt.Sprintf("IDXType(0x%02x)", byte(t))
}

// IDX is an n-dimensional array read from (or to be written to) an IDX file,
// the format of the MNIST and Fashion-MNIST files.
type IDX struct {
	Type IDXType
	Dims []int  // sizes of the dimensions, outermost first
	Data []byte // the elements, row-major, big-endian as in the file: Len()*Type.Size() bytes
}

// Len returns the number of elements (the product of Dims).
func (x *IDX) Len() int {
	n := 1
	for _, d := range x.Dims {
		n *= d
	}
	return n
}

// Float64 returns element i converted to float64. It panics if i is out of
// range (a programmer error).
func (x *IDX) Float64(i int) float64 {
	switch x.Type {
	case IDXUint8:
		return float64(x.Data[i])
	case IDXInt8:
		return float64(int8(x.Data[i]))
	case IDXInt16:
		return float64(int16(binary.BigEndian.Uint16(x.Data[2*i:])))
	case IDXInt32:
		return float64(int32(binary.BigEndian.Uint32(x.Data[4*i:])))
	case IDXFloat32:
		return float64(math.Float32frombits(binary.BigEndian.Uint32(x.Data[4*i:])))
	case IDXFloat64:
		return math.Float64frombits(binary.BigEndian.Uint64(x.Data[8*i:]))
	}
	panic(fmt.Sprintf("idx: unknown element type %v", x.Type))
}

// Float32s returns all elements converted to float32, unscaled.
func (x *IDX) Float32s() []float32 {
	out := make([]float32, x.Len())
	if x.Type == IDXUint8 {
		for i, b := range x.Data[:len(out)] {
			out[i] = float32(b)
		}
		return out
	}
	for i := range out {
		out[i] = float32(x.Float64(i))
	}
	return out
}

// validate checks that the header is well formed and that the data length
// matches it.
func (x *IDX) validate() error {
	if x.Type.Size() == 0 {
		return fmt.Errorf("idx: unknown element type 0x%02x (want 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32 or 0x0E float64)", byte(x.Type))
	}
	if len(x.Dims) == 0 || len(x.Dims) > 255 {
		return fmt.Errorf("idx: %d dimensions, the format allows 1 to 255", len(x.Dims))
	}
	n, err := idxPayload(x.Type, x.Dims, math.MaxInt64)
	if err != nil {
		return err
	}
	if int64(len(x.Data)) != n {
		return fmt.Errorf("idx: dims %v of %v need %d bytes of data, have %d", x.Dims, x.Type, n, len(x.Data))
	}
	return nil
}

// idxPayload returns the data size in bytes for the header, or an error if
// a dimension is out of range or the size passes limit.
func idxPayload(t IDXType, dims []int, limit int64) (int64, error) {
	n := int64(t.Size())
	for _, d := range dims {
		if d < 0 || int64(d) > math.MaxUint32 {
			return 0, fmt.Errorf("idx: dimension %d out of range in %v", d, dims)
		}
		if d == 0 {
			return 0, nil
		}
		if n > limit/int64(d) {
			return 0, fmt.Errorf("idx: dims %v of %v would need more than %d bytes; refusing (corrupt header or file too large)", dims, t, limit)
		}
		n *= int64(d)
	}
	return n, nil
}

// ReadIDX reads one IDX array from r, raw or gzip-compressed (detected from
// the first bytes). It checks the magic number, the element type, the
// dimensions and that the data length matches them exactly (no missing and
// no trailing bytes). Where the size of r is known (an *os.File, a
// *bytes.Reader, ...) and the data is not compressed, the length is checked
// before the data is allocated; otherwise memory grows only as data
// actually arrives, so a header that lies costs nothing. Data larger than
// [MaxIDXBytes] is refused. Corrupt or truncated input gives an error,
// never a panic.
func ReadIDX(r io.Reader) (*IDX, error) {
	return readIDX(r, MaxIDXBytes)
}

// ReadIDXFile reads an IDX file (raw or gzip-compressed) with [ReadIDX];
// errors name the file.
func ReadIDXFile(path string) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	x, err := ReadIDX(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return x, nil
}

func readIDX(r io.Reader, limit int64) (*IDX, error) {
	known := int64(-1) // bytes left in r, if it can tell
	switch s := r.(type) {
	case interface{ Len() int }:
		known = int64(s.Len())
	case *os.File:
		if st, err := s.Stat(); err == nil && st.Mode().IsRegular() {
			if pos, err := s.Seek(0, io.SeekCurrent); err == nil {
				known = st.Size() - pos
			}
		}
	}
	br := bufio.NewReader(r)
	head, err := br.Peek(4)
	if len(head) < 2 {
		if err == nil || err == io.EOF {
			return nil, errors.New("idx: file is empty or shorter than the 4-byte magic number")
		}
		return nil, fmt.Errorf("idx: %w", err)
	}
	var src io.Reader = br
	if head[0] == 0x1f && head[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("idx: gzip: %w", err)
		}
		defer gz.Close()
		src = gz
		known = -1
	}

	var magic [4]byte
	if _, err := io.ReadFull(src, magic[:]); err != nil {
		return nil, fmt.Errorf("idx: reading the magic number: %w", shortRead(err))
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, fmt.Errorf("idx: bad magic number % x: an IDX file starts with two zero bytes (is this an IDX file?)", magic)
	}
	x := &IDX{Type: IDXType(magic[2])}
	if x.Type.Size() == 0 {
		return nil, fmt.Errorf("idx: unknown element type 0x%02x (want 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32 or 0x0E float64)", magic[2])
	}
	nd := int(magic[3])
	if nd == 0 {
		return nil, errors.New("idx: header declares 0 dimensions")
	}
	dimBytes := make([]byte, 4*nd) // at most 1020 bytes
	if _, err := io.ReadFull(src, dimBytes); err != nil {
		return nil, fmt.Errorf("idx: reading %d dimension sizes: %w", nd, shortRead(err))
	}
	x.Dims = make([]int, nd)
	for i := range x.Dims {
		x.Dims[i] = int(binary.BigEndian.Uint32(dimBytes[4*i:]))
	}
	n, err := idxPayload(x.Type, x.Dims, limit)
	if err != nil {
		return nil, err
	}
	if known >= 0 {
		if have := known - 4 - int64(4*nd); have != n {
			return nil, fmt.Errorf("idx: header says dims %v of %v (%d bytes of data), the file has %d bytes of data", x.Dims, x.Type, n, have)
		}
	}
	data, err := readGrowing(src, n)
	if err != nil {
		return nil, fmt.Errorf("idx: dims %v of %v need %d bytes of data: %w", x.Dims, x.Type, n, err)
	}
	x.Data = data
	// Reading to the end makes gzip check its CRC and catches trailing bytes.
	var one [1]byte
	switch m, err := io.ReadFull(src, one[:]); {
	case m > 0:
		return nil, fmt.Errorf("idx: trailing bytes after the %d bytes of data that dims %v of %v declare", n, x.Dims, x.Type)
	case err != io.EOF:
		return nil, fmt.Errorf("idx: after the data: %w", err)
	}
	return x, nil
}

// readGrowing reads exactly n bytes, growing its buffer only as data
// arrives (at most doubling), so memory stays proportional to the input.
func readGrowing(r io.Reader, n int64) ([]byte, error) {
	const first = 1 << 20
	buf := make([]byte, min(n, first))
	got := 0
	for {
		m, err := io.ReadFull(r, buf[got:])
		got += m
		if err != nil {
			return nil, fmt.Errorf("truncated after %d bytes: %w", got, shortRead(err))
		}
		if int64(got) == n {
			return buf, nil
		}
		next := make([]byte, min(n, 2*int64(len(buf))))
		copy(next, buf)
		buf = next
	}
}

// shortRead turns io.EOF into io.ErrUnexpectedEOF: running out in the middle
// of something is a truncation.
func shortRead(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// WriteIDX writes x in IDX format (uncompressed) after checking that Data
// matches Type and Dims.
func WriteIDX(w io.Writer, x *IDX) error {
	if err := x.validate(); err != nil {
		return err
	}
	head := make([]byte, 4+4*len(x.Dims))
	head[2] = byte(x.Type)
	head[3] = byte(len(x.Dims))
	for i, d := range x.Dims {
		binary.BigEndian.PutUint32(head[4+4*i:], uint32(d))
	}
	if _, err := w.Write(head); err != nil {
		return err
	}
	_, err := w.Write(x.Data)
	return err
}
