package datasets

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzIDX: any input either fails with an error or gives an array that
// validates and writes back to the same bytes (when it was not compressed).
func FuzzIDX(f *testing.F) {
	f.Add([]byte{0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3})
	f.Add([]byte{0, 0, 0x0D, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0x3f, 0x80, 0, 0})
	f.Add([]byte{0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		x, err := ReadIDX(bytes.NewReader(in))
		if err != nil {
			return
		}
		if err := x.validate(); err != nil {
			t.Fatalf("ReadIDX gave an invalid array: %v", err)
		}
		_ = x.Float32s()
		var out bytes.Buffer
		if err := WriteIDX(&out, x); err != nil {
			t.Fatal(err)
		}
		if !(len(in) > 1 && in[0] == 0x1f && in[1] == 0x8b) && !bytes.Equal(out.Bytes(), in) {
			t.Fatalf("round trip changed the bytes:\n in % x\nout % x", in, out.Bytes())
		}
		y, err := ReadIDX(bytes.NewReader(out.Bytes()))
		if err != nil || !bytes.Equal(y.Data, x.Data) {
			t.Fatalf("rereading the written array: %v", err)
		}
	})
}

// FuzzCSV: any input either fails with an error or gives a table that
// validates, whatever the options.
func FuzzCSV(f *testing.F) {
	f.Add("a,b,y\n1,2,0\n3,4,1\n", uint8(0))
	f.Add("\uFEFFx;y\r\n\"1;2\";a\r\n\r\n3;?\r\n", uint8(0x25))
	f.Add("c,d\nred,1\nNA,2\n,3\n", uint8(0x48))
	f.Add("1,2\n3\n", uint8(0x13))
	f.Fuzz(func(t *testing.T, in string, flags uint8) {
		opts := CSVOptions{
			Header:  Header(flags % 3),
			Task:    Task(flags / 3 % 3),
			Missing: MissingPolicy(flags / 9 % 2),
		}
		if flags&0x20 != 0 {
			opts.Comma = ';'
		}
		if flags&0x40 != 0 {
			opts.Target = "0"
			opts.Categorical = []string{"-1"}
		}
		if flags&0x80 != 0 {
			opts.NoTarget = true
		}
		tb, err := ReadCSV(strings.NewReader(in), opts)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if err := tb.Validate(); err != nil {
			t.Fatalf("ReadCSV gave an invalid table: %v", err)
		}
		if tb.Rows == 0 {
			t.Fatal("a table without rows was accepted")
		}
		if opts.NoTarget != (tb.Y == nil) {
			t.Fatalf("NoTarget %v but Y is %v", opts.NoTarget, tb.Y)
		}
	})
}
