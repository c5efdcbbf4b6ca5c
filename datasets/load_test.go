package datasets

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLoadEmbeddedTables(t *testing.T) {
	cases := []struct {
		name          string
		rows, cols    int
		classes       []string
		first, last   string // first and last feature names
		x00, y0, yEnd float32
	}{
		{"breast-cancer", 569, 30, []string{"malignant", "benign"}, "mean radius", "worst fractal dimension", 17.99, 0, 1},
		{"iris", 150, 4, []string{"setosa", "versicolor", "virginica"}, "sepal length (cm)", "petal width (cm)", 5.1, 0, 2},
		{"wine", 178, 13, []string{"class_0", "class_1", "class_2"}, "alcohol", "proline", 14.23, 0, 2},
		{"diabetes", 442, 10, nil, "age", "s6 (glu)", 59, 151, 57},
		{"digits", 1797, 64, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, "pixel_0_0", "pixel_7_7", 0, 0, 8},
	}
	for _, c := range cases {
		d, err := Load(context.Background(), c.name, Options{Offline: true})
		if err != nil {
			t.Fatal(err)
		}
		tb := d.Table
		if d.Kind != KindTable || !d.Embedded || d.Location != "embedded" || tb == nil || d.Train != nil {
			t.Fatalf("%s: %+v", c.name, d.Info)
		}
		if err := tb.Validate(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if tb.Rows != c.rows || tb.Cols != c.cols || !slices.Equal(tb.Classes, c.classes) {
			t.Fatalf("%s: %d×%d classes %v", c.name, tb.Rows, tb.Cols, tb.Classes)
		}
		if tb.Features[0] != c.first || tb.Features[c.cols-1] != c.last || tb.X[0] != c.x00 || tb.Y[0] != c.y0 || tb.Y[c.rows-1] != c.yEnd {
			t.Fatalf("%s: features %q..%q, X[0]=%v, Y[0]=%v, Y[last]=%v", c.name, tb.Features[0], tb.Features[c.cols-1], tb.X[0], tb.Y[0], tb.Y[c.rows-1])
		}
		if c.classes != nil {
			counts := make([]int, len(c.classes))
			for _, l := range tb.Labels() {
				counts[l]++
			}
			for k, n := range counts {
				if n == 0 {
					t.Fatalf("%s: class %q has no rows", c.name, c.classes[k])
				}
			}
		}
	}
	d, _ := Load(context.Background(), "breast-cancer", Options{})
	if counts := countInts(d.Table.Labels(), 2); counts[0] != 212 || counts[1] != 357 {
		t.Fatalf("breast-cancer class counts %v, want 212 malignant, 357 benign", counts)
	}
	d, _ = Load(context.Background(), "digits", Options{})
	im, err := d.Table.AsImages(1, 8, 8, 16)
	if err != nil || im.N != 1797 || im.H != 8 || im.Validate() != nil || im.Image(0)[2] != 5.0/16 {
		t.Fatalf("digits as images: %v", err)
	}
	if _, err := d.Table.AsImages(1, 8, 7, 16); err == nil {
		t.Fatal("AsImages with the wrong size accepted")
	}
}

func countInts(xs []int, n int) []int {
	c := make([]int, n)
	for _, x := range xs {
		c[x]++
	}
	return c
}

func TestLoadEmbeddedText(t *testing.T) {
	d, err := Load(context.Background(), "imdb-5000", Options{})
	if err != nil {
		t.Fatal(err)
	}
	tx := d.Text
	if d.Kind != KindText || len(tx.Docs) != 5000 || !slices.Equal(tx.Classes, []string{"negative", "positive"}) || tx.Validate() != nil {
		t.Fatalf("%d docs, classes %v", len(tx.Docs), tx.Classes)
	}
	if c := countInts(tx.Labels, 2); c[0] != 2500 || c[1] != 2500 {
		t.Fatalf("class counts %v, want 2500 each", c)
	}
	if !strings.HasPrefix(tx.Docs[0], "A frustrating documentary.") || tx.Labels[0] != 0 {
		t.Fatalf("first review %.40q label %d", tx.Docs[0], tx.Labels[0])
	}
	v, err := BuildVocab(tx.Docs, VocabOptions{MaxSize: 1000})
	if err != nil || v.Size() != 1000 || v.Token(2) != "the" {
		t.Fatalf("vocab of the reviews: size %d, most frequent %q (%v)", v.Size(), v.Token(2), err)
	}
	if v.ID("br") != UnkID {
		t.Fatal(`"<br />" tags leaked into the vocabulary as "br"`)
	}
}

// The embedded mnist-small must be exactly the first 12,000 training and
// 2,000 test images and labels of the original files.
func TestEmbeddedMNISTSmallIsPrefixOfMNIST(t *testing.T) {
	d, err := Load(context.Background(), "mnist-small", Options{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	if d.Train.N != 12000 || d.Test.N != 2000 || d.Train.H != 28 || d.Train.W != 28 || d.Train.C != 1 {
		t.Fatalf("mnist-small %d/%d images of %d×%d", d.Train.N, d.Test.N, d.Train.H, d.Train.W)
	}
	dir := mnistDir(t)
	for i, im := range []*Images{d.Train, d.Train, d.Test, d.Test} {
		x, err := ReadIDXFile(filepath.Join(dir, mnistFileNames[i]+".gz"))
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			for k, v := range im.Pixels {
				if v != float32(x.Data[k])/255 {
					t.Fatalf("%s: pixel %d differs from the original", mnistFileNames[i], k)
				}
			}
			continue
		}
		for k, l := range im.Labels {
			if l != int(x.Data[k]) {
				t.Fatalf("%s: label %d differs from the original", mnistFileNames[i], k)
			}
		}
	}
	if c := d.Train.ClassCounts(); c[5] != 1048 || c[1] != 1351 {
		t.Fatalf("train class counts %v", c)
	}
}

func TestLoadNamesAndCatalog(t *testing.T) {
	_, err := Load(context.Background(), "cifar10", Options{})
	if err == nil || !strings.Contains(err.Error(), `unknown data set "cifar10"`) || !strings.Contains(err.Error(), "mnist-small") {
		t.Fatalf("unknown name: %v", err)
	}
	if d, err := Load(context.Background(), " Breast_Cancer ", Options{}); err != nil || d.Name != "breast-cancer" {
		t.Fatalf("name normalisation: %v", err)
	}
	cat := Catalog()
	if len(cat) != 10 {
		t.Fatalf("catalog has %d entries", len(cat))
	}
	for _, in := range cat {
		if in.Description == "" || in.Source == "" || in.License == "" {
			t.Fatalf("catalog entry %q lacks a description, source or licence", in.Name)
		}
		if in.Embedded {
			if _, err := loadEmbedded(in.Name); err != nil {
				t.Fatalf("embedded %q: %v", in.Name, err)
			}
		}
	}
	cat[0].Name = "changed"
	if Catalog()[0].Name == "changed" {
		t.Fatal("Catalog returns the package's own slice")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Load(ctx, "iris", Options{}); err != context.Canceled {
		t.Fatalf("cancelled: %v", err)
	}
}

// The embedded files are what the generator writes from the originals.
func TestEmbeddedFilesAreGzipIDX(t *testing.T) {
	for _, n := range mnistFileNames {
		b, err := embedded.ReadFile("embedded/mnist-small/" + n + ".gz")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
			t.Fatalf("%s is not gzip-compressed", n)
		}
	}
	for _, n := range []string{"embedded/LICENSE-DATA", "embedded/README.md"} {
		b, err := embedded.ReadFile(n)
		if err != nil || !bytes.Contains(b, []byte("CC BY-SA 3.0")) {
			t.Fatalf("%s missing or without the MNIST licence: %v", n, err)
		}
	}
}
