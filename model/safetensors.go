package model

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/glassbox-ml/glassbox/tensor"
)

// WriteTensors writes named float32 tensors and string metadata to path as
// a safetensors file, atomically. Names are written in sorted order.
func WriteTensors(path string, tensors map[string]*tensor.Tensor, metadata map[string]string) error {
	names := make([]string, 0, len(tensors))
	for n := range tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	header := map[string]any{}
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	off := 0
	for _, n := range names {
		v := tensors[n]
		size := v.Len() * 4
		header[n] = tensorHeader{DType: "F32", Shape: append([]int{}, v.Shape()...), DataOffsets: [2]int{off, off + size}}
		off += size
	}
	hb, err := json.Marshal(header)
	if err != nil {
		return err
	}
	// Pad the header with spaces to an 8-byte boundary, as the format
	// recommends for aligned reads.
	for len(hb)%8 != 0 {
		hb = append(hb, ' ')
	}
	return writeAtomic(path, func(w io.Writer) error {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(hb)))
		if _, err := w.Write(n[:]); err != nil {
			return err
		}
		if _, err := w.Write(hb); err != nil {
			return err
		}
		buf := make([]byte, 0, 1<<16)
		for _, name := range names {
			for _, f := range tensors[name].Data() {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(f))
				if len(buf) == cap(buf) {
					if _, err := w.Write(buf); err != nil {
						return err
					}
					buf = buf[:0]
				}
			}
		}
		_, err := w.Write(buf)
		return err
	})
}

// ReadTensors reads every tensor and the metadata of a safetensors file
// holding F32 tensors, validating the header before allocating.
func ReadTensors(path string) (map[string]*tensor.Tensor, map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("model: %v", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	tensors, md, err := readTensors(f, st.Size())
	if err != nil {
		return nil, nil, fmt.Errorf("model %s: %w", path, err)
	}
	return tensors, md, nil
}

// readTensors is ReadTensors from a reader of known size. The tensors it
// allocates hold at most the file's data bytes (parseHeader refuses
// ranges that share bytes).
func readTensors(r io.Reader, size int64) (map[string]*tensor.Tensor, map[string]string, error) {
	h, body, err := readFile(r, size)
	if err != nil {
		return nil, nil, err
	}
	out := make(map[string]*tensor.Tensor, len(h.tensors))
	for name, th := range h.tensors {
		if th.DType != "F32" {
			return nil, nil, fmt.Errorf("tensor %q has dtype %s; want F32", name, th.DType)
		}
		t := tensor.New(th.Shape...)
		if err := decodeInto(t.Data(), th, body); err != nil {
			return nil, nil, fmt.Errorf("tensor %q: %v", name, err)
		}
		out[name] = t
	}
	return out, h.metadata, nil
}

// Limits on what a safetensors file may declare. Load, Read, LoadWeights
// and ReadTensors check a file's header against them, and every tensor's
// byte range against the file's size, before they allocate anything the
// header describes. The tensors they allocate therefore hold at most the
// file's size in bytes; Read's doc gives the whole bound.
const (
	// MaxHeaderBytes bounds the JSON header: the architecture, the meta
	// and one entry per tensor. A glassbox model's header is a few
	// kilobytes; a text model's vocabulary of a million words takes about
	// 15 MiB of it.
	MaxHeaderBytes = 64 << 20
	// MaxTensors bounds the number of tensors one file may list.
	MaxTensors = 1 << 16
	// MaxRank bounds the number of dimensions of one tensor.
	MaxRank = 8
)

// readChunk is the most readBody allocates ahead of the bytes that have
// arrived.
const readChunk = 1 << 20

// dtypeSize is the size in bytes of one element of each safetensors dtype.
var dtypeSize = map[string]int64{
	"BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1,
	"U16": 2, "I16": 2, "F16": 2, "BF16": 2,
	"U32": 4, "I32": 4, "F32": 4,
	"U64": 8, "I64": 8, "F64": 8,
}

// maxDTypeSize is the largest value in dtypeSize.
const maxDTypeSize = 8

type tensorHeader struct {
	DType       string `json:"dtype"`
	Shape       []int  `json:"shape"`
	DataOffsets [2]int `json:"data_offsets"`
}

// header is a parsed safetensors header whose every entry parseHeader has
// checked.
type header struct {
	tensors  map[string]tensorHeader
	metadata map[string]string
}

// readFile reads a safetensors file of size bytes from r: the header,
// checked against the limits above and against the size before anything
// it describes is allocated, then the tensor data.
func readFile(r io.Reader, size int64) (*header, []byte, error) {
	if size < 8 {
		return nil, nil, fmt.Errorf("file too short for a safetensors header: %d bytes", max(size, 0))
	}
	var nb [8]byte
	if _, err := io.ReadFull(r, nb[:]); err != nil {
		return nil, nil, fmt.Errorf("file too short for a safetensors header: %v", err)
	}
	hl := binary.LittleEndian.Uint64(nb[:])
	if hl > MaxHeaderBytes || hl > uint64(size-8) {
		return nil, nil, fmt.Errorf("not a glassbox model (.gbx, safetensors) or a truncated one: the header length its first 8 bytes give, %d, exceeds the file's %d bytes (or the limit model.MaxHeaderBytes = %d)", hl, size, MaxHeaderBytes)
	}
	hb, err := readBody(r, int64(hl))
	if err != nil {
		return nil, nil, fmt.Errorf("truncated header: %v", err)
	}
	bodyLen := size - 8 - int64(hl)
	h, err := parseHeader(hb, bodyLen)
	if err != nil {
		return nil, nil, err
	}
	body, err := readBody(r, bodyLen)
	if err != nil {
		return nil, nil, fmt.Errorf("truncated data: %v", err)
	}
	return h, body, nil
}

// readBody reads exactly n bytes from r. It grows its buffer as the bytes
// arrive (doubling, never past n), so a reader that promises more than it
// holds makes it allocate at most about twice what it delivered plus
// readChunk, never n.
func readBody(r io.Reader, n int64) ([]byte, error) {
	buf := make([]byte, 0, min(n, readChunk))
	for int64(len(buf)) < n {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, int(min(int64(cap(buf)), n-int64(len(buf)))))
		}
		end := int(min(int64(cap(buf)), n)) // Grow may round the capacity up past n
		k, err := io.ReadFull(r, buf[len(buf):end])
		buf = buf[:len(buf)+k]
		if err != nil {
			return nil, fmt.Errorf("%d bytes promised, %d found: %v", n, len(buf), err)
		}
	}
	return buf, nil
}

// parseHeader decodes a header and checks every tensor entry: a known
// dtype, a shape of at most MaxRank dimensions, none negative, whose
// element count times the dtype's size is exactly the entry's byte range;
// and every range inside the body of bodyLen bytes, no two sharing a byte,
// so that the tensors together hold at most bodyLen bytes.
func parseHeader(hb []byte, bodyLen int64) (*header, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hb, &raw); err != nil {
		return nil, fmt.Errorf("corrupt header JSON: %v", err)
	}
	md, err := metadataOf(raw)
	if err != nil {
		return nil, err
	}
	delete(raw, "__metadata__")
	if len(raw) > MaxTensors {
		return nil, fmt.Errorf("corrupt file: it lists %d tensors, more than model.MaxTensors = %d", len(raw), MaxTensors)
	}
	h := &header{tensors: make(map[string]tensorHeader, len(raw)), metadata: md}
	type span struct {
		lo, hi int
		name   string
	}
	spans := make([]span, 0, len(raw))
	for name, e := range raw {
		var th tensorHeader
		if err := json.Unmarshal(e, &th); err != nil {
			return nil, fmt.Errorf("tensor %q: bad header entry: %v", name, err)
		}
		es, ok := dtypeSize[th.DType]
		if !ok {
			return nil, fmt.Errorf("tensor %q: unknown dtype %q", name, th.DType)
		}
		n, err := elements(th.Shape)
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %v", name, err)
		}
		lo, hi := th.DataOffsets[0], th.DataOffsets[1]
		if lo < 0 || hi < lo || int64(hi) > bodyLen || int64(hi-lo) != n*es {
			return nil, fmt.Errorf("tensor %q: data range [%d, %d) invalid for %d values of %s in a %d-byte body (corrupt or truncated file)", name, lo, hi, n, th.DType, bodyLen)
		}
		h.tensors[name] = th
		if hi > lo {
			spans = append(spans, span{lo, hi, name})
		}
	}
	slices.SortFunc(spans, func(a, b span) int {
		return cmp.Or(cmp.Compare(a.lo, b.lo), cmp.Compare(a.hi, b.hi), strings.Compare(a.name, b.name))
	})
	for i := 1; i < len(spans); i++ {
		if a, b := spans[i-1], spans[i]; b.lo < a.hi {
			return nil, fmt.Errorf("corrupt file: tensors %q [%d, %d) and %q [%d, %d) share bytes", a.name, a.lo, a.hi, b.name, b.lo, b.hi)
		}
	}
	return h, nil
}

// elements is the number of values of a tensor of the given shape. A
// shape of more than MaxRank dimensions, a negative dimension, or
// dimensions whose product (zeros left out) could overflow a byte count
// are errors.
func elements(shape []int) (int64, error) {
	if len(shape) > MaxRank {
		return 0, fmt.Errorf("shape has %d dimensions, more than model.MaxRank = %d", len(shape), MaxRank)
	}
	n, zero := int64(1), false
	for _, d := range shape {
		switch {
		case d < 0:
			return 0, fmt.Errorf("shape %v has a negative dimension", shape)
		case d == 0:
			zero = true
		case n > math.MaxInt64/maxDTypeSize/int64(d):
			return 0, fmt.Errorf("shape %v holds too many values", shape)
		default:
			n *= int64(d)
		}
	}
	if zero {
		return 0, nil
	}
	return n, nil
}

// tensorElements is the number of values all the tensors of a checked
// header declare together. parseHeader refuses byte ranges outside the
// body or shared between tensors, so it is at most the file's data bytes
// over the smallest dtype size: the element budget for a model rebuilt
// to hold the file's tensors.
func tensorElements(h *header) (int64, error) {
	var sum int64
	for name, th := range h.tensors {
		n, err := elements(th.Shape)
		if err != nil {
			return 0, fmt.Errorf("tensor %q: %v", name, err)
		}
		if sum > math.MaxInt64-n {
			return 0, fmt.Errorf("the tensors hold more than %d values together", int64(math.MaxInt64))
		}
		sum += n
	}
	return sum, nil
}

// metadataOf decodes the header's string-to-string "__metadata__" (an
// empty map when there is none).
func metadataOf(header map[string]json.RawMessage) (map[string]string, error) {
	m := map[string]string{}
	md := header["__metadata__"]
	if md == nil {
		return m, nil
	}
	if err := json.Unmarshal(md, &m); err != nil {
		return nil, fmt.Errorf("bad __metadata__: %v", err)
	}
	if m == nil { // "__metadata__": null
		m = map[string]string{}
	}
	return m, nil
}

// decodeInto copies a tensor's bytes from the body after checking its
// advertised byte range.
func decodeInto(d []float32, th tensorHeader, body []byte) error {
	lo, hi := th.DataOffsets[0], th.DataOffsets[1]
	if lo < 0 || hi < lo || hi > len(body) || hi-lo != len(d)*4 {
		return fmt.Errorf("data range [%d, %d) invalid for %d values in a %d-byte body (corrupt or truncated file)", lo, hi, len(d), len(body))
	}
	for i := range d {
		d[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[lo+4*i:]))
	}
	return nil
}
