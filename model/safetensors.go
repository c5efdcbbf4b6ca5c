package model

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"

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
	header, body, err := readHeader(f, st.Size())
	if err != nil {
		return nil, nil, fmt.Errorf("model %s: %w", path, err)
	}
	meta, err := metadataOf(header)
	if err != nil {
		return nil, nil, fmt.Errorf("model %s: %w", path, err)
	}
	out := map[string]*tensor.Tensor{}
	for name, raw := range header {
		if name == "__metadata__" {
			continue
		}
		var th tensorHeader
		if err := json.Unmarshal(raw, &th); err != nil {
			return nil, nil, fmt.Errorf("model %s: tensor %q: bad header entry: %v", path, name, err)
		}
		if th.DType != "F32" {
			return nil, nil, fmt.Errorf("model %s: tensor %q has dtype %s; want F32", path, name, th.DType)
		}
		n := 1
		for _, d := range th.Shape {
			if d < 0 || (d > 0 && n > len(body)/4/d+1) {
				return nil, nil, fmt.Errorf("model %s: tensor %q has an impossible shape %v", path, name, th.Shape)
			}
			n *= d
		}
		t := tensor.New(th.Shape...)
		if err := decodeInto(t.Data(), th, body); err != nil {
			return nil, nil, fmt.Errorf("model %s: tensor %q: %v", path, name, err)
		}
		out[name] = t
	}
	return out, meta, nil
}

func metadataOf(header map[string]json.RawMessage) (map[string]string, error) {
	md := header["__metadata__"]
	if md == nil {
		return map[string]string{}, nil
	}
	var m map[string]string
	if err := json.Unmarshal(md, &m); err != nil {
		return nil, fmt.Errorf("bad __metadata__: %v", err)
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
