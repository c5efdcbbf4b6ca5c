package datasets

import (
	"bytes"
	"context"
	"path/filepath"
	"strconv"
	"testing"
)

// Reading and verifying the full MNIST training images (9.9 MB gzip, 47 MB
// decompressed): decompression + SHA-256 + parse.
func BenchmarkReadVerifiedMNISTTrainImages(b *testing.B) {
	p := filepath.Join(mnistDir(b), "train-images-idx3-ubyte.gz")
	b.SetBytes(mnistSet.files[0].size)
	for b.Loop() {
		if _, err := readVerified(p, mnistSet.files[0]); err != nil {
			b.Fatal(err)
		}
	}
}

// The same file without the SHA-256 check.
func BenchmarkReadIDXMNISTTrainImages(b *testing.B) {
	p := filepath.Join(mnistDir(b), "train-images-idx3-ubyte.gz")
	b.SetBytes(mnistSet.files[0].size)
	for b.Loop() {
		if _, err := ReadIDXFile(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadMNISTSmall(b *testing.B) {
	for b.Loop() {
		if _, err := Load(context.Background(), "mnist-small", Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadCSVBreastCancerSized(b *testing.B) {
	d, err := Load(context.Background(), "breast-cancer", Options{})
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	for i := range d.Table.Rows {
		for _, v := range d.Table.Row(i) {
			buf.WriteString(formatFloat(v) + ",")
		}
		buf.WriteString(d.Table.Classes[int(d.Table.Y[i])] + "\n")
	}
	in := buf.Bytes()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := ReadCSV(bytes.NewReader(in), CSVOptions{Header: HeaderNo}); err != nil {
			b.Fatal(err)
		}
	}
}

func formatFloat(v float32) string { return strconv.FormatFloat(float64(v), 'g', -1, 32) }
