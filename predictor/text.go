package predictor

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/glassbox-ml/glassbox/data"
	"github.com/glassbox-ml/glassbox/datasets"
	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Defaults of a text data SPEC's encoding (len=N, vocab=N options).
const (
	// DefaultSeqLen caps the tokens a document keeps (its last ones); a
	// shorter training set takes its longest document's length.
	DefaultSeqLen = 200
	// DefaultVocabSize caps the vocabulary, <pad> and <unk> included.
	DefaultVocabSize = 20000
	// MaxSeqLen bounds len=N: a recurrent layer steps through every token.
	MaxSeqLen = 4096
)

// textSeq is how documents become token rows, in training and in use
// alike: the last tokens are kept and padding goes in front, so a
// recurrent classifier, which reads its last hidden state, ends on words.
var textSeq = datasets.SeqOptions{PadFront: true, TruncateFront: true}

// encoding is a text model's vocabulary and sequence length; when given
// to loadData, its documents are encoded with it rather than with a
// vocabulary built from their training split.
type encoding struct {
	vocab  *datasets.Vocab
	seqLen int
}

// textOptions are the len=N and vocab=N options of a text data SPEC.
type textOptions struct{ seqLen, vocabSize int }

func parseTextOptions(spec string, q url.Values) (textOptions, error) {
	o := textOptions{vocabSize: DefaultVocabSize}
	for _, f := range []struct {
		key      string
		dst      *int
		min, max int
	}{{"len", &o.seqLen, 1, MaxSeqLen}, {"vocab", &o.vocabSize, 3, 1 << 22}} {
		v := q.Get(f.key)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < f.min || n > f.max {
			return o, fmt.Errorf("data spec %q: %s=%s: want a whole number from %d to %d", spec, f.key, v, f.min, f.max)
		}
		*f.dst = n
	}
	return o, nil
}

// resolveText splits labelled documents into train and test (seeded),
// builds the vocabulary from the training documents (unless enc gives
// the model's own) and encodes both.
func resolveText(spec string, t *datasets.Text, o textOptions, testFrac float64, seed uint64, enc *encoding) (*Data, error) {
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("data %s: %w", spec, err)
	}
	if t.Labels == nil {
		return nil, fmt.Errorf("data %s: the documents have no labels to learn", spec)
	}
	if len(t.Docs) < 2 {
		return nil, fmt.Errorf("data %s: %d documents; want at least 2 (one to train on, one to test)", spec, len(t.Docs))
	}
	if len(t.Classes) < 2 {
		return nil, fmt.Errorf("data %s: every document has the same label %q; a classifier needs two classes or more", spec, strings.Join(t.Classes, ""))
	}
	perm := tensor.NewRNG(seed).Perm(len(t.Docs))
	nTest := min(max(int(testFrac*float64(len(t.Docs))+0.5), 1), len(t.Docs)-1)
	pick := func(idx []int) ([]string, []int) {
		d, l := make([]string, len(idx)), make([]int, len(idx))
		for i, j := range idx {
			d[i], l[i] = t.Docs[j], t.Labels[j]
		}
		return d, l
	}
	teDocs, teLabels := pick(perm[:nTest])
	trDocs, trLabels := pick(perm[nTest:])
	if enc == nil {
		v, err := datasets.BuildVocab(trDocs, datasets.VocabOptions{MaxSize: o.vocabSize})
		if err != nil {
			return nil, fmt.Errorf("data %s: %w", spec, err)
		}
		n := o.seqLen
		if n == 0 {
			for _, d := range trDocs {
				n = max(n, len(v.Split(d)))
			}
			n = min(max(n, 1), DefaultSeqLen)
		}
		enc = &encoding{vocab: v, seqLen: n}
	}
	encode := func(docs []string, labels []int) (data.Dataset, error) {
		ids, _, err := enc.vocab.Sequences(docs, enc.seqLen, textSeq)
		if err != nil {
			return nil, fmt.Errorf("data %s: %w", spec, err)
		}
		return data.FromSequences(ids, enc.seqLen, labels)
	}
	tr, err := encode(trDocs, trLabels)
	if err != nil {
		return nil, err
	}
	te, err := encode(teDocs, teLabels)
	if err != nil {
		return nil, err
	}
	return &Data{Spec: spec, Kind: explain.Text, Task: Classification, Train: tr, Test: te,
		InputShape: []int{enc.seqLen}, Classes: t.Classes, Vocab: enc.vocab, TestDocs: teDocs}, nil
}

// readTextCSV reads the text and target columns of a CSV file as
// labelled documents (the target's distinct values, sorted, are the
// classes).
func readTextCSV(spec, path, textCol, targetCol string) (*datasets.Text, error) {
	if targetCol == "" {
		return nil, fmt.Errorf("data spec %q: text=%s needs target=COL, the column holding each document's class", spec, textCol)
	}
	if textCol == targetCol {
		return nil, fmt.Errorf("data spec %q: text and target are both column %q; name two different columns", spec, textCol)
	}
	raw, err := readLimited(path, MaxTextCSVBytes)
	if err != nil {
		return nil, fmt.Errorf("data spec %q: %w", spec, err)
	}
	rows, err := csvRecords(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(rows) < 2 {
		return nil, fmt.Errorf("%s: want a header line and at least one row", path)
	}
	head := rows[0]
	ti, yi := slices.Index(head, textCol), slices.Index(head, targetCol)
	for _, c := range []struct {
		opt, name string
		i         int
	}{{"text", textCol, ti}, {"target", targetCol, yi}} {
		if c.i < 0 {
			msg := fmt.Sprintf("%s: no column %q for %s=; the header has %s", path, c.name, c.opt, strings.Join(head, ", "))
			if near := explain.Closest(c.name, head); near != "" {
				msg += fmt.Sprintf("; did you mean %q?", near)
			}
			return nil, errors.New(msg)
		}
	}
	t := &datasets.Text{}
	var labels []string
	for n, r := range rows[1:] {
		if len(r) != len(head) {
			return nil, fmt.Errorf("%s line %d: %d fields, the header has %d", path, n+2, len(r), len(head))
		}
		if strings.TrimSpace(r[yi]) == "" {
			return nil, fmt.Errorf("%s line %d, column %q: the class is missing; fill it in or drop the line", path, n+2, targetCol)
		}
		t.Docs = append(t.Docs, r[ti])
		labels = append(labels, strings.TrimSpace(r[yi]))
	}
	t.Classes = slices.Compact(slices.Sorted(slices.Values(labels)))
	for _, l := range labels {
		i, _ := slices.BinarySearch(t.Classes, l)
		t.Labels = append(t.Labels, i)
	}
	return t, nil
}

// MaxTextCSVBytes bounds a text CSV file read by a data SPEC.
const MaxTextCSVBytes = 256 << 20

// csvRecords parses CSV (quoted fields may hold commas and line breaks).
func csvRecords(raw []byte) ([][]string, error) {
	r := csv.NewReader(bytes.NewReader(raw))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("not CSV: %v", strings.TrimPrefix(err.Error(), "record on "))
	}
	return rows, nil
}

// ReadText reads documents for a text model, one a line (empty lines
// skipped); "-" reads standard input.
func ReadText(path string) ([]string, error) {
	raw, err := readLimited(path, MaxInputBytes)
	if err != nil {
		return nil, err
	}
	var docs []string
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, len(raw)+1)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			docs = append(docs, l)
		}
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s: no text; give one document a line", path)
	}
	if len(docs) > MaxExamples {
		return nil, fmt.Errorf("%s holds %d documents; give at most %d", path, len(docs), MaxExamples)
	}
	return docs, nil
}

// textMethods are the registry's methods ExplainText runs: those that
// explain a document by its words rather than its token ids.
var textMethods = []string{"lime"}

// ExplainsText reports whether ExplainText runs method; the others the
// registry lists for a text model explain token ids (through Explain).
func ExplainsText(method string) bool { return slices.Contains(textMethods, method) }

// ExplainText explains the model's prediction for one document with the
// registered text method (LIME over words). The result's Words hold the
// document's words in order with their weights for the explained output
// (0 for words the surrogate did not keep); Top lists the kept words.
func (p *Predictor) ExplainText(ctx context.Context, method, doc string, opt explain.Options) (*explain.Result, error) {
	if p.Kind != explain.Text {
		return nil, fmt.Errorf("the model takes %s inputs, not text", p.Kind)
	}
	m, err := explain.Lookup(method)
	if err != nil {
		return nil, err
	}
	if err := m.Info().Applies(p.Subject()); err != nil {
		return nil, err
	}
	if !ExplainsText(method) {
		return nil, fmt.Errorf("%s does not explain text here; use %s", method, strings.Join(textMethods, ", "))
	}
	if opt.Samples < 0 || opt.Samples > explain.MaxSamples {
		return nil, fmt.Errorf("%s: samples %d: want 0 (the method's default) to %d (explain.MaxSamples)", method, opt.Samples, explain.MaxSamples)
	}
	sub := p.Subject()
	calls, rows := 0, 0
	model := func(ctx context.Context, docs []string) ([]float32, error) {
		x, err := p.EncodeText(docs)
		if err != nil {
			return nil, err
		}
		calls++
		rows += len(docs)
		return sub.Predict(ctx, x.Data(), len(docs))
	}
	probs, err := model(ctx, []string{doc})
	if err != nil {
		return nil, err
	}
	label := argmax(probs)
	if opt.Label != nil {
		if *opt.Label < 0 || *opt.Label >= len(probs) {
			return nil, fmt.Errorf("label %d: the model has %d outputs", *opt.Label, len(probs))
		}
		label = *opt.Label
	}
	to := explain.TextOptions{LIMEOptions: explain.LIMEOptions{Seed: opt.Seed, Samples: opt.Samples, Labels: []int{label}},
		Mode: explain.Classification, ClassNames: p.Classes}
	e, err := explain.ExplainText(ctx, model, doc, to)
	if err != nil {
		return nil, err
	}
	le := e.Label(label)
	res := &explain.Result{Method: method, Seed: opt.Seed, Samples: e.Samples, Label: label, Probability: float64(probs[label]),
		Features: e.NumFeatures, Quality: map[string]float64{"r2": le.Score, "local_error": le.LocalError},
		Top: le.Weights, Warnings: e.Quality.Warnings, ModelCalls: calls, ModelRows: rows, Details: e}
	if label < len(p.Classes) {
		res.LabelName = p.Classes[label]
	}
	weight := make([]float64, len(e.Tokens))
	for _, fw := range le.Weights {
		for _, t := range e.Positions[fw.Feature] {
			weight[t] = fw.Weight
		}
	}
	for i, tok := range e.Tokens {
		res.Words = append(res.Words, explain.WordWeight{Text: tok, Weight: weight[i]})
	}
	return res, nil
}
