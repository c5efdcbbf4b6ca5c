package batch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/predictor"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Record is one row's line of the records output: what `glassbox explain
// --id ID --seed BASE --json` prints for that row (the explanation with
// its quality figures and seed), plus the row's id, source and
// prediction and whether its quality figures are poor. Every field but
// the explanation's "seconds" depends only on the model, the id, the
// options and the base seed.
type Record struct {
	ID         string               `json:"id"`
	Source     string               `json:"source,omitempty"`
	Prediction predictor.Prediction `json:"prediction"`
	// Explanation carries the method, seed, label, quality figures, top
	// features and model calls.
	Explanation *explain.Result `json:"explanation"`
	// Poor lists the quality figures that fall short (Thresholds); empty
	// for a trustworthy explanation.
	Poor []string `json:"poor,omitempty"`
}

// DeadLetter is one line of the dead-letter output: a row that could not
// be read or explained, and why. The pipeline goes on without it.
type DeadLetter struct {
	ID     string `json:"id"`
	Source string `json:"source,omitempty"`
	Error  string `json:"error"`
}

// Contribution is what one explained row adds to the summaries: its
// class, whether it is poor, and its largest feature weights keyed by
// feature (a table's column name, a word, a segment or pixel name).
type Contribution struct {
	ID      string
	Class   string
	Poor    bool
	Keys    []string
	Weights []float64
}

// MaxSummaryFeatures is how many of a row's largest |weights| count in
// the summaries; the rest count as 0. Tables up to this many columns are
// summarised exactly; an image's per-pixel map is cut to its strongest
// pixels rather than carried whole through the combiners.
const MaxSummaryFeatures = 64

// Progress metrics, in Beam's "glassbox" namespace.
var (
	rowsDone     = beam.NewCounter("glassbox", "rows_done")
	rowsFailed   = beam.NewCounter("glassbox", "rows_failed")
	rowsPoor     = beam.NewCounter("glassbox", "rows_poor")
	rowMillis    = beam.NewDistribution("glassbox", "row_millis")
	modelsLoaded = beam.NewCounter("glassbox", "models_loaded")
)

// explainFn explains rows with one model. Its exported fields travel to
// the workers; the predictor is loaded in Setup, once per worker process
// (every bundle of that process shares it).
type explainFn struct {
	Model      string
	Data       string
	Method     string
	Samples    int
	Seed       uint64
	Label      int
	Hide       string
	Thresholds Thresholds

	p *predictor.Predictor
}

func (f *explainFn) Setup(ctx context.Context) error {
	p, err := models.acquire(ctx, f.Model, f.Data, f.Method)
	if err != nil {
		return err
	}
	f.p = p
	return nil
}

func (f *explainFn) Teardown() { models.release(f.Model, f.Data, f.Method) }

func (f *explainFn) ProcessElement(ctx context.Context, row Row, records, dead func(string), contrib func(Contribution)) {
	t0 := time.Now()
	rec, c, err := f.explainInSlot(ctx, row)
	if err != nil {
		rowsFailed.Inc(ctx, 1)
		line, _ := json.Marshal(DeadLetter{ID: row.ID, Source: row.Source, Error: err.Error()})
		dead(string(line))
		return
	}
	line, err := json.Marshal(rec)
	if err != nil {
		rowsFailed.Inc(ctx, 1)
		line, _ = json.Marshal(DeadLetter{ID: row.ID, Source: row.Source, Error: err.Error()})
		dead(string(line))
		return
	}
	records(string(line))
	contrib(c)
	rowsDone.Inc(ctx, 1)
	if c.Poor {
		rowsPoor.Inc(ctx, 1)
	}
	rowMillis.Update(ctx, time.Since(t0).Milliseconds())
}

// slots bounds the explanations a worker process runs at once to
// GOMAXPROCS, whatever the number of bundles the runner hands it at the
// same time (prism runs up to 8): the memory of explanations in flight
// stays bounded, and the cores are not shared among more explanations
// than they can run (which costs more CPU in total than running them in
// turn).
var slots = make(chan struct{}, runtime.GOMAXPROCS(0))

func (f *explainFn) explainInSlot(ctx context.Context, row Row) (*Record, Contribution, error) {
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return nil, Contribution{}, ctx.Err()
	}
	defer func() { <-slots }()
	return f.explain(ctx, row)
}

// Options of one explanation, as `glassbox explain` builds them for
// --seed, --samples, --label and --hide with --id set to the row's id.
func (f *explainFn) options(id string) explain.Options {
	opt := explain.Options{Seed: explain.RowSeed(f.Seed, id), Samples: f.Samples, Hide: explain.Hide(f.Hide)}
	if f.Label >= 0 {
		opt.Label = explain.Class(f.Label)
	}
	return opt
}

// explain predicts and explains one row; an error names what is wrong
// with the row.
func (f *explainFn) explain(ctx context.Context, row Row) (*Record, Contribution, error) {
	var c Contribution
	if row.Err != "" {
		return nil, c, errors.New(row.Err)
	}
	x, err := Input(f.p, row)
	if err != nil {
		return nil, c, err
	}
	var rec *Record
	if err := tensor.Catch(func() {
		rec, err = Explain(ctx, f.p, f.Method, row, x, f.options(row.ID), f.Thresholds)
	}); err != nil {
		return nil, c, err
	}
	if err != nil {
		return nil, c, err
	}
	return rec, contribution(f.p, rec), nil
}

// Input turns a row into the model's input x, in the data's own units,
// as `glassbox explain` reads it from a file.
func Input(p *predictor.Predictor, row Row) ([]float32, error) {
	var t *tensor.Tensor
	var err error
	switch {
	case row.Image != nil:
		t, err = p.DecodeImage(row.Image)
	case row.Values != nil:
		if len(row.Values) != tensor.Numel(p.InputShape) {
			return nil, fmt.Errorf("the row has %d values, the model takes %d (shape %v)", len(row.Values), tensor.Numel(p.InputShape), p.InputShape)
		}
		return row.Values, nil
	case p.Prep.Vocab != nil:
		t, err = p.EncodeText([]string{row.Text})
	default:
		return nil, fmt.Errorf("the row holds a document, but the model takes inputs of shape %v", p.InputShape)
	}
	if err != nil {
		return nil, err
	}
	return t.Data(), nil
}

// Explain makes row's record: the prediction for x and its explanation
// with method and opt, judged by th.
func Explain(ctx context.Context, p *predictor.Predictor, method string, row Row, x []float32, opt explain.Options, th Thresholds) (*Record, error) {
	in, err := tensor.FromSlice(x, append([]int{1}, p.InputShape...)...)
	if err != nil {
		return nil, err
	}
	preds, err := p.Predict(ctx, in)
	if err != nil {
		return nil, err
	}
	res, err := p.Explain(ctx, method, x, opt)
	if err != nil {
		return nil, err
	}
	return &Record{ID: row.ID, Source: row.Source, Prediction: preds[0], Explanation: res, Poor: th.Poor(res)}, nil
}

// contribution keeps the summaries' share of a record: table weights are
// keyed by column (LIME names a column by its bin, "age <= 42.5", which
// differs from row to row), other inputs by the feature's name.
func contribution(p *predictor.Predictor, rec *Record) Contribution {
	res := rec.Explanation
	c := Contribution{ID: rec.ID, Class: res.LabelName, Poor: len(rec.Poor) > 0}
	if c.Class == "" {
		c.Class = fmt.Sprintf("output %d", res.Label)
	}
	for _, fw := range res.Top[:min(len(res.Top), MaxSummaryFeatures)] {
		key := fw.Name
		if p.Kind == explain.Table {
			key = fmt.Sprintf("x%d", fw.Feature)
			if fw.Feature < len(p.Features) {
				key = p.Features[fw.Feature]
			}
		}
		c.Keys = append(c.Keys, key)
		c.Weights = append(c.Weights, fw.Weight)
	}
	return c
}

// models shares one loaded predictor per (model, data, method) among the
// explainFn instances of a worker process: the SDK harness runs bundles
// concurrently, each with its own DoFn instance, and a model (with its
// background rows) is loaded once, not once per bundle.
var models = &modelCache{m: map[string]*cached{}}

type modelCache struct {
	mu sync.Mutex
	m  map[string]*cached
}

type cached struct {
	p    *predictor.Predictor
	refs int
}

func cacheKey(model, data, method string) string { return model + "\x00" + data + "\x00" + method }

func (mc *modelCache) acquire(ctx context.Context, model, data, method string) (*predictor.Predictor, error) {
	mc.mu.Lock()
	defer mc.mu.Unlock()
	k := cacheKey(model, data, method)
	if c, ok := mc.m[k]; ok {
		c.refs++
		return c.p, nil
	}
	p, err := LoadPredictor(ctx, model, data, method)
	if err != nil {
		return nil, err
	}
	modelsLoaded.Inc(ctx, 1)
	mc.m[k] = &cached{p: p, refs: 1}
	return p, nil
}

func (mc *modelCache) release(model, data, method string) {
	mc.mu.Lock()
	defer mc.mu.Unlock()
	k := cacheKey(model, data, method)
	if c, ok := mc.m[k]; ok {
		if c.refs--; c.refs <= 0 {
			delete(mc.m, k)
		}
	}
}

// LoadPredictor loads the model (a .gbx or .onnx file; on a remote
// filesystem it is copied to a local temporary file first, with an ONNX
// model's sidecar), and its training rows when method needs them (from
// data, or the model's own recipe when data is "") — what `glassbox
// explain --data` does.
func LoadPredictor(ctx context.Context, model, data, method string) (*predictor.Predictor, error) {
	m, err := explain.Lookup(method)
	if err != nil {
		return nil, err
	}
	local := model
	if strings.Contains(model, "://") {
		dir, err := os.MkdirTemp("", "glassbox-model-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		local = filepath.Join(dir, filepath.Base(model))
		if err := copyLocal(ctx, model, local, true); err != nil {
			return nil, err
		}
		if strings.EqualFold(filepath.Ext(model), ".onnx") {
			if err := copyLocal(ctx, predictor.SidecarPath(model), predictor.SidecarPath(local), false); err != nil {
				return nil, err
			}
		}
	}
	p, err := predictor.Load(local)
	if err != nil {
		return nil, err
	}
	if m.Info().Needs&explain.NeedsBackground != 0 && p.Kind == explain.Table {
		if err := p.LoadBackground(ctx, data); err != nil {
			return nil, fmt.Errorf("%s needs the model's training rows: %w", method, err)
		}
	}
	if err := m.Info().Applies(p.Subject()); err != nil {
		return nil, err
	}
	return p, nil
}

// copyLocal copies a file of a Beam filesystem to a local path; a missing
// optional file is no error.
func copyLocal(ctx context.Context, from, to string, required bool) error {
	fs, err := filesystem.New(ctx, from)
	if err != nil {
		return err
	}
	defer fs.Close()
	rc, err := fs.OpenRead(ctx, from)
	if err != nil {
		if required {
			return fmt.Errorf("model %s: %v", from, err)
		}
		return nil
	}
	defer rc.Close()
	w, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := w.ReadFrom(rc); err != nil {
		w.Close()
		return fmt.Errorf("copying %s: %v", from, err)
	}
	return w.Close()
}
