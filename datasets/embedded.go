package datasets

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/csv"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

//go:embed embedded
var embedded embed.FS

var digitClasses = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

var breastCancerFeatures = func() []string {
	base := []string{"radius", "texture", "perimeter", "area", "smoothness", "compactness",
		"concavity", "concave points", "symmetry", "fractal dimension"}
	var out []string
	for _, b := range base {
		out = append(out, "mean "+b)
	}
	for _, b := range base {
		out = append(out, b+" error")
	}
	for _, b := range base {
		out = append(out, "worst "+b)
	}
	return out
}()

var wineFeatures = []string{"alcohol", "malic acid", "ash", "alcalinity of ash", "magnesium",
	"total phenols", "flavanoids", "nonflavanoid phenols", "proanthocyanins",
	"color intensity", "hue", "OD280/OD315 of diluted wines", "proline"}

var irisFeatures = []string{"sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"}

var diabetesFeatures = []string{"age", "sex", "bmi", "bp", "s1 (tc)", "s2 (ldl)", "s3 (hdl)", "s4 (tch)", "s5 (ltg)", "s6 (glu)"}

func loadEmbedded(name string) (*Dataset, error) {
	d := &Dataset{Location: "embedded"}
	var err error
	switch name {
	case "mnist-small":
		d.Train, d.Test, err = readMNISTPair(embedded, "embedded/mnist-small", digitClasses)
	case "breast-cancer":
		d.Table, err = readSklearnCSV("embedded/tabular/breast_cancer.csv", breastCancerFeatures, "diagnosis")
	case "iris":
		d.Table, err = readSklearnCSV("embedded/tabular/iris.csv", irisFeatures, "species")
	case "wine":
		d.Table, err = readSklearnCSV("embedded/tabular/wine_data.csv", wineFeatures, "cultivar")
	case "diabetes":
		d.Table, err = readDiabetes()
	case "digits":
		d.Table, err = readDigits()
	case "imdb-5000":
		var f io.ReadCloser
		if f, err = openMaybeGzip(embedded, "embedded/text/imdb_5000.jsonl.gz"); err == nil {
			defer f.Close()
			d.Text, err = ReadJSONL(f, JSONLOptions{Classes: []string{"negative", "positive"}})
		}
	default:
		err = fmt.Errorf("datasets: %q is not embedded", name)
	}
	if err != nil {
		return nil, fmt.Errorf("datasets: embedded %s: %w", name, err)
	}
	return d, nil
}

// readMNISTPair reads the four IDX files of an MNIST-like set from fsys.
func readMNISTPair(fsys fs.FS, dir string, classes []string) (train, test *Images, err error) {
	read := func(name string) (*IDX, error) {
		f, err := fsys.Open(path.Join(dir, name+".gz"))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		x, err := ReadIDX(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return x, nil
	}
	var xs [4]*IDX
	for i, n := range mnistFileNames {
		if xs[i], err = read(n); err != nil {
			return nil, nil, err
		}
	}
	if train, err = idxImages(xs[0], xs[1], classes); err != nil {
		return nil, nil, err
	}
	if test, err = idxImages(xs[2], xs[3], classes); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// mnistFileNames are the four files of an MNIST-like set, without ".gz":
// training images and labels, test images and labels.
var mnistFileNames = [4]string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}

// idxImages pairs an N×H×W uint8 image array with N uint8 labels.
func idxImages(imgs, labels *IDX, classes []string) (*Images, error) {
	if imgs.Type != IDXUint8 || len(imgs.Dims) != 3 {
		return nil, fmt.Errorf("images: want uint8 dims [N H W], have %v dims %v", imgs.Type, imgs.Dims)
	}
	if labels.Type != IDXUint8 || len(labels.Dims) != 1 {
		return nil, fmt.Errorf("labels: want uint8 dims [N], have %v dims %v", labels.Type, labels.Dims)
	}
	if imgs.Dims[0] != labels.Dims[0] {
		return nil, fmt.Errorf("%d images but %d labels", imgs.Dims[0], labels.Dims[0])
	}
	im := &Images{N: imgs.Dims[0], C: 1, H: imgs.Dims[1], W: imgs.Dims[2], Classes: classes,
		Pixels: make([]float32, len(imgs.Data)), Labels: make([]int, labels.Dims[0])}
	for i, b := range imgs.Data {
		im.Pixels[i] = float32(b) / 255
	}
	for i, b := range labels.Data {
		if int(b) >= len(classes) {
			return nil, fmt.Errorf("label %d of example %d is not a class index in [0,%d)", b, i, len(classes))
		}
		im.Labels[i] = int(b)
	}
	return im, nil
}

// openMaybeGzip opens a file of fsys, decompressing it if its name ends in
// ".gz".
func openMaybeGzip(fsys fs.FS, name string) (io.ReadCloser, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(name, ".gz") {
		return f, nil
	}
	gz, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{gz, f}, nil
}

// readSklearnCSV reads scikit-learn's bundled layout: a first line
// "rows,cols,class0,class1,...", then rows of cols features and an integer
// label.
func readSklearnCSV(name string, features []string, target string) (*Table, error) {
	b, err := embedded.ReadFile(name)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(bytes.NewReader(b))
	cr.FieldsPerRecord = -1 // the first line is shorter
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(recs) < 2 || len(recs[0]) < 4 {
		return nil, fmt.Errorf("want a header line and rows, have %d lines", len(recs))
	}
	head := recs[0]
	rows, err1 := strconv.Atoi(head[0])
	cols, err2 := strconv.Atoi(head[1])
	if err1 != nil || err2 != nil || cols != len(features) || rows != len(recs)-1 {
		return nil, fmt.Errorf("header %q does not match %d rows of %d features", head, len(recs)-1, len(features))
	}
	t := &Table{Features: features, Rows: rows, Cols: cols, Target: target, Classes: head[2:],
		X: make([]float32, 0, rows*cols), Y: make([]float32, rows)}
	for i, rec := range recs[1:] {
		if len(rec) != cols+1 {
			return nil, fmt.Errorf("line %d has %d fields, want %d", i+2, len(rec), cols+1)
		}
		for _, s := range rec[:cols] {
			v, err := strconv.ParseFloat(s, 32)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", i+2, err)
			}
			t.X = append(t.X, float32(v))
		}
		y, err := strconv.Atoi(rec[cols])
		if err != nil || y < 0 || y >= len(t.Classes) {
			return nil, fmt.Errorf("line %d: label %q is not a class index", i+2, rec[cols])
		}
		t.Y[i] = float32(y)
	}
	return t, t.Validate()
}

func readDiabetes() (*Table, error) {
	read := func(name string) ([][]float32, error) {
		f, err := openMaybeGzip(embedded, name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		b, err := io.ReadAll(f)
		if err != nil {
			return nil, err
		}
		var out [][]float32
		for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var row []float32
			for _, s := range strings.Fields(line) {
				v, err := strconv.ParseFloat(s, 32)
				if err != nil {
					return nil, fmt.Errorf("%s line %d: %w", name, i+1, err)
				}
				row = append(row, float32(v))
			}
			out = append(out, row)
		}
		return out, nil
	}
	x, err := read("embedded/tabular/diabetes_data_raw.csv.gz")
	if err != nil {
		return nil, err
	}
	y, err := read("embedded/tabular/diabetes_target.csv.gz")
	if err != nil {
		return nil, err
	}
	if len(x) != len(y) {
		return nil, fmt.Errorf("%d feature rows, %d targets", len(x), len(y))
	}
	t := &Table{Features: diabetesFeatures, Rows: len(x), Cols: len(diabetesFeatures), Target: "progression", Y: make([]float32, len(y))}
	for i := range x {
		if len(x[i]) != t.Cols || len(y[i]) != 1 {
			return nil, fmt.Errorf("row %d has %d features and %d targets, want %d and 1", i+1, len(x[i]), len(y[i]), t.Cols)
		}
		t.X = append(t.X, x[i]...)
		t.Y[i] = y[i][0]
	}
	return t, t.Validate()
}

func readDigits() (*Table, error) {
	f, err := openMaybeGzip(embedded, "embedded/tabular/digits.csv.gz")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := ReadCSV(f, CSVOptions{Header: HeaderNo, Task: TaskClassification})
	if err != nil {
		return nil, err
	}
	for i := range t.Features {
		t.Features[i] = fmt.Sprintf("pixel_%d_%d", i/8, i%8)
	}
	t.Target = "digit"
	if len(t.Classes) != 10 || t.Cols != 64 {
		return nil, fmt.Errorf("want 64 features and 10 classes, have %d and %d", t.Cols, len(t.Classes))
	}
	return t, t.Validate()
}
