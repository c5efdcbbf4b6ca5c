package predictor

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/glassbox-ml/glassbox/data"
	"github.com/glassbox-ml/glassbox/datasets"
	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Default shares of a recipe's splits.
const (
	// DefaultTestFraction is held out for testing when the data comes in
	// one piece (tables, image folders).
	DefaultTestFraction = 0.2
	// DefaultValFraction of the training part is held out for validation:
	// early stopping and the per-epoch validation figures read it, never
	// the test split.
	DefaultValFraction = 0.1
)

// Seeds are the independent random streams of one training run, all
// derived from its base seed, so that one --seed reproduces a run while
// changing, say, the initialisation does not reshuffle the data split.
type Seeds struct {
	// Split shuffles a one-piece data set into train and test; Val carves
	// the validation part out of train.
	Split, Val uint64
	// Init initialises the weights; Shuffle orders the batches; Dropout
	// drives the randomness inside the model.
	Init, Shuffle, Dropout uint64
}

// SeedsOf derives the streams of base: stream i is splitmix64(base + i·γ)
// with γ the golden-ratio increment, a bijective mix, so each stream is a
// different, well-spread seed and equal bases give equal streams.
func SeedsOf(base uint64) Seeds {
	s := func(i uint64) uint64 {
		x := base + i*0x9e3779b97f4a7c15
		x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
		x = (x ^ (x >> 27)) * 0x94d049bb133111eb
		return x ^ (x >> 31)
	}
	return Seeds{Split: s(1), Val: s(2), Init: s(3), Shuffle: s(4), Dropout: s(5)}
}

// Data is a data set split for training, in the data's own units.
type Data struct {
	// Spec is the data SPEC it came from.
	Spec string
	Kind explain.InputKind
	Task Task
	// Train fits the model (and its preprocessing); Val is read after each
	// epoch and by early stopping (nil when the recipe has none); Test only
	// by the final evaluation.
	Train, Val, Test data.Dataset
	// InputShape is one input's shape; Classes and Features name the
	// outputs and a table's columns.
	InputShape []int
	Classes    []string
	Features   []string
	// Vocab encodes text data (built from the training documents, or the
	// model's own for OwnData); TestDocs are the test split's documents
	// as written, in the order of Test.
	Vocab    *datasets.Vocab
	TestDocs []string
}

// DataSpecs describes the data SPEC language LoadData reads, for help
// texts.
const DataSpecs = `mnist-small (embedded), mnist, fashion-mnist (cached, downloaded once), ` +
	`the embedded tables iris, wine, breast-cancer, diabetes, digits, ` +
	`the texts imdb-5000 (embedded) and imdb (50,000 reviews, cached, downloaded once)[?len=TOKENS&vocab=SIZE], ` +
	`csv:PATH?target=COL[&task=regression|classification][&categorical=COL,COL][&missing=impute], ` +
	`csv:PATH?text=COL&target=COL[&len=TOKENS&vocab=SIZE] (documents and their classes), images:DIR (one sub-folder per class)`

// LoadData reads the data of recipe r and splits it the way r says:
//
//	mnist-small, mnist, fashion-mnist           images with their own test split
//	iris, wine, breast-cancer, diabetes, digits tables, split TestFraction for test
//	imdb-5000, imdb [?len=N&vocab=N]            labelled texts, split TestFraction for test
//	csv:PATH?target=COL[&task=regression]       your own table
//	csv:PATH?text=COL&target=COL[&len=N]        your own labelled documents
//	images:DIR                                  your own images (DIR/<class>/*.png|jpg)
//
// and holds ValFraction of the training part out for validation. The
// splits depend only on r.Data, the fractions and r.Seed. Text is encoded
// with a vocabulary of its training documents (validation ones included),
// cut to the last len tokens (default: the longest training document, at
// most DefaultSeqLen).
func LoadData(ctx context.Context, r Recipe) (*Data, error) { return loadData(ctx, r, false, nil) }

// loadData is LoadData; offline forbids downloading, for data a model file
// names (a file must not make glassbox reach the network); enc, when not
// nil, encodes text with a model's own vocabulary.
func loadData(ctx context.Context, r Recipe, offline bool, enc *encoding) (*Data, error) {
	testFrac, valFrac := r.TestFraction, r.ValFraction
	if testFrac == 0 {
		testFrac = DefaultTestFraction
	}
	if valFrac == 0 {
		valFrac = DefaultValFraction
	}
	if testFrac < 0 || testFrac >= 1 || valFrac >= 1 || math.IsNaN(testFrac) || math.IsNaN(valFrac) {
		return nil, fmt.Errorf("data %s: test fraction %v and validation fraction %v must lie in [0, 1)", r.Data, testFrac, valFrac)
	}
	seeds := SeedsOf(r.Seed)
	d, err := resolve(ctx, r.Data, testFrac, seeds.Split, offline, enc)
	if err != nil {
		return nil, err
	}
	if valFrac > 0 {
		tr, val, err := data.Split(d.Train, valFrac, seeds.Val)
		if err != nil {
			return nil, fmt.Errorf("data %s: holding out validation data: %w", r.Data, err)
		}
		d.Train, d.Val = tr, val
	}
	return d, nil
}

func resolve(ctx context.Context, spec string, testFrac float64, seed uint64, offline bool, enc *encoding) (*Data, error) {
	kind, rest, hasKind := strings.Cut(spec, ":")
	if !hasKind {
		return resolveNamed(ctx, spec, testFrac, seed, offline, enc)
	}
	switch kind {
	case "csv":
		return resolveCSV(spec, rest, testFrac, seed, enc)
	case "images":
		im, err := datasets.LoadImageFolder(ctx, rest, datasets.ImageOptions{})
		if err != nil {
			return nil, err
		}
		all, err := data.FromImages(im)
		if err != nil {
			return nil, err
		}
		tr, te, err := data.Split(all, testFrac, seed)
		if err != nil {
			return nil, err
		}
		return &Data{Spec: spec, Kind: explain.Image, Task: Classification, Train: tr, Test: te,
			InputShape: []int{im.C, im.H, im.W}, Classes: im.Classes}, nil
	}
	return nil, fmt.Errorf("unknown data spec %q: use %s", spec, DataSpecs)
}

func resolveNamed(ctx context.Context, spec string, testFrac float64, seed uint64, offline bool, enc *encoding) (*Data, error) {
	name, query, hasQuery := strings.Cut(spec, "?")
	var known []string
	kind := datasets.Kind("")
	key := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(name)), "_", "-")
	for _, info := range datasets.Catalog() {
		known = append(known, info.Name)
		if info.Name == key {
			kind = info.Kind
		}
	}
	if kind == "" {
		msg := fmt.Sprintf("unknown data set %q: use %s", name, DataSpecs)
		if near := explain.Closest(name, known); near != "" {
			msg = fmt.Sprintf("unknown data set %q; did you mean %q? (%s)", name, near, DataSpecs)
		}
		return nil, fmt.Errorf("%s", msg)
	}
	// Options are checked before the data is read (or downloaded).
	var o textOptions
	switch {
	case hasQuery && kind != datasets.KindText:
		return nil, fmt.Errorf("data spec %q: %s takes no options after '?' (len= and vocab= are for text)", spec, name)
	case kind == datasets.KindText:
		q, err := url.ParseQuery(query)
		if err != nil {
			return nil, fmt.Errorf("data spec %q: bad options after '?': %v", spec, err)
		}
		for k := range q {
			if k != "len" && k != "vocab" {
				return nil, fmt.Errorf("data spec %q: unknown option %q (text takes len=TOKENS, vocab=SIZE)", spec, k)
			}
		}
		if o, err = parseTextOptions(spec, q); err != nil {
			return nil, err
		}
	}
	ds, err := datasets.Load(ctx, name, datasets.Options{Offline: offline})
	if err != nil {
		if offline {
			return nil, fmt.Errorf("%w (the model file names this data set; give --data %s to allow downloading it)", err, name)
		}
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
		return &Data{Spec: name, Kind: explain.Image, Task: Classification, Train: tr, Test: te,
			InputShape: []int{ds.Train.C, ds.Train.H, ds.Train.W}, Classes: ds.Train.Classes}, nil
	case datasets.KindTable:
		return tableData(name, ds.Table, testFrac, seed)
	case datasets.KindText:
		return resolveText(spec, ds.Text, o, testFrac, seed, enc)
	}
	return nil, fmt.Errorf("data set %q holds %s, which glassbox cannot train on", name, ds.Kind)
}

func resolveCSV(spec, rest string, testFrac float64, seed uint64, enc *encoding) (*Data, error) {
	path, query, _ := strings.Cut(rest, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("data spec %q: bad options after '?': %v", spec, err)
	}
	if _, isText := q["text"]; isText {
		for k := range q {
			if !slices.Contains([]string{"text", "target", "len", "vocab"}, k) {
				return nil, fmt.Errorf("data spec %q: unknown option %q for text (csv with text=COL takes target=COL, len=TOKENS, vocab=SIZE)", spec, k)
			}
		}
		if q.Get("text") == "" {
			return nil, fmt.Errorf("data spec %q: text= names no column; write text=COL", spec)
		}
		o, err := parseTextOptions(spec, q)
		if err != nil {
			return nil, err
		}
		t, err := readTextCSV(spec, path, q.Get("text"), q.Get("target"))
		if err != nil {
			return nil, err
		}
		return resolveText(spec, t, o, testFrac, seed, enc)
	}
	for k := range q {
		if !slices.Contains([]string{"target", "task", "categorical", "missing"}, k) {
			return nil, fmt.Errorf("data spec %q: unknown option %q (csv takes target=COL, task=classification|regression, categorical=COL,COL, missing=impute; or text=COL&target=COL for documents)", spec, k)
		}
	}
	opts := datasets.CSVOptions{Target: q.Get("target")}
	if c := q.Get("categorical"); c != "" {
		opts.Categorical = strings.Split(c, ",")
	}
	switch q.Get("missing") {
	case "impute":
		opts.Missing = datasets.MissingImpute
	case "":
	default:
		return nil, fmt.Errorf("data spec %q: missing=%s: the only policy is missing=impute (column mean, or most frequent category)", spec, q.Get("missing"))
	}
	switch q.Get("task") {
	case "regression":
		opts.Task = datasets.TaskRegression
	case "classification":
		opts.Task = datasets.TaskClassification
	case "":
	default:
		return nil, fmt.Errorf("data spec %q: task must be classification or regression, got %q", spec, q.Get("task"))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data spec %q: %w", spec, err)
	}
	defer f.Close()
	tab, err := datasets.ReadCSV(f, opts)
	var ve *datasets.ValueError
	switch {
	case errors.As(err, &ve) && ve.Missing:
		return nil, fmt.Errorf("%s line %d, column %q: the value is missing (%q); fill it in, or add &missing=impute to the data SPEC to use the column's mean", path, ve.Line, ve.Column, ve.Value)
	case errors.As(err, &ve):
		return nil, fmt.Errorf("%s line %d, column %q: %q is not a number; fix it, or add &categorical=%s to the data SPEC if the column holds categories", path, ve.Line, ve.Column, ve.Value, ve.Column)
	case err != nil:
		return nil, fmt.Errorf("%s: %s", path, strings.TrimPrefix(err.Error(), "csv: "))
	}
	return tableData(spec, tab, testFrac, seed)
}

func tableData(spec string, tab *datasets.Table, testFrac float64, seed uint64) (*Data, error) {
	all, err := data.FromTable(tab)
	if err != nil {
		return nil, err
	}
	tr, te, err := data.Split(all, testFrac, seed)
	if err != nil {
		return nil, err
	}
	d := &Data{Spec: spec, Kind: explain.Table, Task: Classification, Train: tr, Test: te,
		InputShape: []int{tab.Cols}, Classes: tab.Classes, Features: tab.Features}
	if !tab.IsClassification() {
		d.Task, d.Classes = Regression, nil
	}
	return d, nil
}

// FitPreprocessing fits the preprocessing of a model trained on d, on its
// training split only: table features standardised, and a regression
// target scaled to zero mean and unit variance so that default learning
// rates work whatever its units. Images pass through; text keeps its
// vocabulary and sequence length.
func FitPreprocessing(d *Data) (Preprocessing, error) {
	var pr Preprocessing
	if d.Kind == explain.Text {
		pr.Vocab, pr.SeqLen = d.Vocab, d.InputShape[0]
		return pr, nil
	}
	if d.Kind != explain.Table {
		return pr, nil
	}
	st, err := data.FitStandardizer(d.Train)
	if err != nil {
		return pr, err
	}
	pr.Mean, pr.Std = st.Mean, st.Std
	if d.Task == Regression {
		_, y := data.Materialize(d.Train)
		pr.TargetMean, pr.TargetStd = meanStd(y.Data())
	}
	return pr, nil
}

func meanStd(v []float32) (mean, std float32) {
	var s, sq float64
	for _, x := range v {
		s += float64(x)
		sq += float64(x) * float64(x)
	}
	n := float64(max(len(v), 1))
	m := s / n
	sd := math.Sqrt(math.Max(sq/n-m*m, 0))
	if sd == 0 {
		sd = 1
	}
	return float32(m), float32(sd)
}

// Rows reads every input of ds into one slice [n × d], in ds's units.
func Rows(ds data.Dataset) []float32 {
	x, _ := data.Materialize(ds)
	return x.Data()
}

// OwnData loads the data the model was trained on, split as in training
// (its recipe's data, fractions and seed), so that its test split is the
// one it never saw. A non-empty spec replaces the recipe's data SPEC
// (same fractions and seed); a model without a recipe needs one and is
// split with seed 1 and the default fractions. Data named by the file
// itself is never downloaded (a file must not make glassbox reach the
// network); only a spec the caller gives may be.
func (p *Predictor) OwnData(ctx context.Context, spec string) (*Data, error) {
	r := Recipe{Data: spec, Seed: 1}
	if p.Recipe != nil {
		r = *p.Recipe
		if spec != "" {
			r.Data = spec
		}
	}
	if r.Data == "" {
		return nil, fmt.Errorf("the model does not record its training data; give it with --data SPEC")
	}
	var enc *encoding
	if p.Prep.Vocab != nil {
		enc = &encoding{vocab: p.Prep.Vocab, seqLen: p.Prep.SeqLen}
	}
	d, err := loadData(ctx, r, spec == "", enc)
	if err != nil {
		return nil, err
	}
	if !tensor.SameShape(d.InputShape, p.InputShape) {
		return nil, fmt.Errorf("the model takes inputs of shape %v, %s has %v", p.InputShape, r.Data, d.InputShape)
	}
	return d, nil
}

// LoadBackground fills p.Background with the training rows of OwnData
// (tables only; other kinds need none).
func (p *Predictor) LoadBackground(ctx context.Context, spec string) error {
	if p.Kind != explain.Table {
		return nil
	}
	d, err := p.OwnData(ctx, spec)
	if err != nil {
		return err
	}
	p.Background = Rows(d.Train)
	return nil
}
