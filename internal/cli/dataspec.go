package cli

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"os"
	"strings"

	"github.com/glassbox-ml/glassbox/data"
	"github.com/glassbox-ml/glassbox/datasets"
	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/tensor"
	"github.com/glassbox-ml/glassbox/train"
)

// Prepared is a data set made ready for training: split into train and
// test parts, with what a model file must remember about preprocessing.
type Prepared struct {
	Name        string
	Train, Test data.Dataset
	Task        train.Task
	Classes     []string
	// InputShape is one example's shape.
	InputShape []int
	// Kind is "images", "table" or "text".
	Kind string
	// Meta is filled with class names, features and standardisation.
	Meta model.Meta
}

// testFraction is the share of a table held out for testing when the data
// set comes as one piece.
const testFraction = 0.2

// ResolveData turns a data SPEC into a Prepared data set:
//
//	mnist-small, mnist, fashion-mnist           images with their own test split
//	iris, wine, breast-cancer, diabetes, digits tables, split 80/20 with seed, standardised on train
//	imdb-5000                                   text, word vocabulary, split 80/20
//	csv:PATH?target=COL[&task=regression]       your own table
//	images:DIR                                  your own images (DIR/<class>/*.png|jpg), split 80/20
func ResolveData(ctx context.Context, spec string, seed uint64) (*Prepared, error) {
	kind, rest, hasKind := strings.Cut(spec, ":")
	if !hasKind {
		return resolveNamed(ctx, spec, seed)
	}
	switch kind {
	case "csv":
		return resolveCSV(rest, seed)
	case "images":
		im, err := datasets.LoadImageFolder(ctx, rest, datasets.ImageOptions{})
		if err != nil {
			return nil, err
		}
		all, err := data.FromImages(im)
		if err != nil {
			return nil, err
		}
		tr, te, err := data.Split(all, testFraction, seed)
		if err != nil {
			return nil, err
		}
		return &Prepared{Name: spec, Train: tr, Test: te, Kind: "images", Classes: im.Classes,
			InputShape: []int{im.C, im.H, im.W},
			Meta:       model.Meta{Task: "classification", Classes: im.Classes, InputShape: []int{im.C, im.H, im.W}}}, nil
	}
	return nil, fmt.Errorf("unknown data spec %q: use a name (mnist-small, mnist, fashion-mnist, iris, wine, breast-cancer, diabetes, digits, imdb-5000), csv:PATH?target=COL or images:DIR", spec)
}

func resolveNamed(ctx context.Context, name string, seed uint64) (*Prepared, error) {
	ds, err := datasets.Load(ctx, name, datasets.Options{})
	if err != nil {
		return nil, err
	}
	switch ds.Kind {
	case datasets.KindImages:
		tr, err := data.FromImages(ds.Train)
		if err != nil {
			return nil, err
		}
		te, err := data.FromImages(ds.Test)
		if err != nil {
			return nil, err
		}
		shape := []int{ds.Train.C, ds.Train.H, ds.Train.W}
		return &Prepared{Name: ds.Name, Train: tr, Test: te, Kind: "images", Classes: ds.Train.Classes, InputShape: shape,
			Meta: model.Meta{Task: "classification", Classes: ds.Train.Classes, InputShape: shape}}, nil
	case datasets.KindTable:
		return prepareTable(ds.Name, ds.Table, seed)
	}
	return nil, fmt.Errorf("data set %q is text; text training is done with the library (see examples/) in this version", name)
}

func resolveCSV(rest string, seed uint64) (*Prepared, error) {
	path, query, _ := strings.Cut(rest, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("csv spec %q: bad options after '?': %v", rest, err)
	}
	opts := datasets.CSVOptions{Target: q.Get("target")}
	switch q.Get("task") {
	case "regression":
		opts.Task = datasets.TaskRegression
	case "classification":
		opts.Task = datasets.TaskClassification
	case "":
	default:
		return nil, fmt.Errorf("csv spec: task must be classification or regression, got %q", q.Get("task"))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tab, err := datasets.ReadCSV(f, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return prepareTable("csv:"+path, tab, seed)
}

// prepareTable splits a table and fits standardisation on the training
// part only; Standardize applies it.
func prepareTable(name string, tab *datasets.Table, seed uint64) (*Prepared, error) {
	all, err := data.FromTable(tab)
	if err != nil {
		return nil, err
	}
	tr, te, err := data.Split(all, testFraction, seed)
	if err != nil {
		return nil, err
	}
	st, err := data.FitStandardizer(tr)
	if err != nil {
		return nil, err
	}
	p := &Prepared{Name: name, Train: tr, Test: te, Kind: "table", Classes: tab.Classes, InputShape: []int{tab.Cols}}
	p.Task = train.Classification
	p.Meta = model.Meta{Task: "classification", Classes: tab.Classes, InputShape: []int{tab.Cols},
		Features: tab.Features, Mean: st.Mean, Std: st.Std}
	if !tab.IsClassification() {
		p.Task = train.Regression
		p.Meta.Task = "regression"
		// Standardise the target too, so default learning rates work
		// whatever its units; predictions are mapped back.
		_, y := data.Materialize(tr)
		m, s := meanStd(y.Data())
		p.Meta.TargetMean, p.Meta.TargetStd = m, s
	}
	return p, nil
}

func meanStd(v []float32) (mean, std float32) {
	var s, sq float64
	for _, x := range v {
		s += float64(x)
		sq += float64(x) * float64(x)
	}
	n := float64(len(v))
	m := s / n
	sd := math.Sqrt(math.Max(sq/n-m*m, 0))
	if sd == 0 {
		sd = 1
	}
	return float32(m), float32(sd)
}

// Standardize applies per-feature standardisation (from the training split,
// or from a saved model's Meta) to both splits, materialising them, and
// for regression standardises the target the same way.
func (p *Prepared) Standardize(meta model.Meta) error {
	mean, std := meta.Mean, meta.Std
	if mean == nil {
		return nil
	}
	if len(mean) != tensor.Numel(p.InputShape) {
		return fmt.Errorf("the model standardises %d features, the data has %d", len(mean), tensor.Numel(p.InputShape))
	}
	st := &data.Standardizer{Mean: mean, Std: std}
	for _, part := range []*data.Dataset{&p.Train, &p.Test} {
		x, y := data.Materialize(*part)
		st.Apply(x.Data())
		if meta.TargetStd != 0 {
			for i, v := range y.Data() {
				y.Data()[i] = (v - meta.TargetMean) / meta.TargetStd
			}
		}
		t, err := data.NewTensors(x, y)
		if err != nil {
			return err
		}
		*part = t
	}
	return nil
}
