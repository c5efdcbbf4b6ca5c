package onnx

import (
	"bytes"
	"testing"
)

// FuzzDecode: no input makes Decode or DecodeTensor panic or hang, and
// what they accept encodes, and decodes back to the same model (tensor),
// whose encoding is the same bytes. The seed corpus in
// testdata/fuzz/FuzzDecode holds small models and tensor files of the
// ONNX test suite (see testdata/LICENSE-onnx-testdata).
func FuzzDecode(f *testing.F) {
	f.Add([]byte(model(pb{}.str(2, "g"))))
	f.Add([]byte(tensorPB("w", Float16, []int64{2}, []byte{0, 0x3c, 0, 0x7e})))
	f.Fuzz(func(t *testing.T, b []byte) {
		opt := ReadOptions{}
		if m, err := Decode(b, opt); err == nil {
			enc, err := m.Encode()
			if err != nil {
				t.Fatalf("a decoded model does not encode: %v", err)
			}
			m2, err := Decode(enc, opt)
			if err != nil {
				t.Fatalf("an encoded model does not decode: %v", err)
			}
			if d := diffModels(m, m2); d != "" {
				t.Fatalf("round trip: %s", d)
			}
			if enc2, err := m2.Encode(); err != nil || !bytes.Equal(enc, enc2) {
				t.Fatalf("encoding twice differs (%v)", err)
			}
		} else if m != nil {
			t.Fatal("Decode returned a model and an error")
		}
		if tn, err := DecodeTensor(b, opt); err == nil {
			if err := roundTripTensor(tn); err != nil {
				t.Fatalf("tensor round trip: %v", err)
			}
		}
	})
}
