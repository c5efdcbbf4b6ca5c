package datasets

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text is a labelled set of documents.
type Text struct {
	Docs    []string // the documents, raw
	Labels  []int    // class index of each document; nil when unlabelled
	Classes []string // class names; Labels[i] < len(Classes)
}

// Validate checks that labels match the documents and are class indices.
func (t *Text) Validate() error {
	if t.Labels == nil {
		return nil
	}
	if len(t.Labels) != len(t.Docs) {
		return fmt.Errorf("text: %d labels for %d documents", len(t.Labels), len(t.Docs))
	}
	for i, l := range t.Labels {
		if l < 0 || l >= len(t.Classes) {
			return fmt.Errorf("text: label %d of document %d is not a class index in [0,%d)", l, i, len(t.Classes))
		}
	}
	return nil
}

// JSONLOptions configures [ReadJSONL].
type JSONLOptions struct {
	TextField  string // field holding the text (default "text")
	LabelField string // field holding the label (default "label"); "-" reads no labels
	// Classes names integer labels 0, 1, ...; nil names them "0", "1", ...
	// String labels are sorted and coded, and name themselves.
	Classes []string
}

// maxLine caps one JSON Lines record.
const maxLine = 64 << 20

// ReadJSONL reads documents from JSON Lines: one JSON object a line, with a
// text field and a label field that is either an integer class index
// (0, 1, ...) or a string class name (all lines alike). Empty lines are
// skipped. Errors name the line.
func ReadJSONL(r io.Reader, opts JSONLOptions) (*Text, error) {
	tf, lf := opts.TextField, opts.LabelField
	if tf == "" {
		tf = "text"
	}
	if lf == "" {
		lf = "label"
	}
	br := bufio.NewReader(r)
	t := &Text{}
	var strLabels []string
	var intLabels []int
	kind := 0 // 1 int labels, 2 string labels
	for line := 1; ; line++ {
		b, err := readLine(br)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("jsonl: line %d: %w", line, err)
		}
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			continue
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(b, &obj); err != nil {
			return nil, fmt.Errorf("jsonl: line %d: %v (want one JSON object a line)", line, err)
		}
		var doc string
		if err := json.Unmarshal(obj[tf], &doc); err != nil || obj[tf] == nil {
			return nil, fmt.Errorf("jsonl: line %d: no string field %q (set JSONLOptions.TextField)", line, tf)
		}
		t.Docs = append(t.Docs, doc)
		if lf == "-" {
			continue
		}
		raw := obj[lf]
		if raw == nil || string(raw) == "null" {
			return nil, fmt.Errorf("jsonl: line %d: no label field %q (set JSONLOptions.LabelField, or \"-\" for none)", line, lf)
		}
		var s string
		var f float64
		switch {
		case json.Unmarshal(raw, &s) == nil && kind != 1:
			kind = 2
			strLabels = append(strLabels, s)
		case json.Unmarshal(raw, &f) == nil && kind != 2:
			if f != math.Trunc(f) || f < 0 || f > 1<<20 {
				return nil, fmt.Errorf("jsonl: line %d: label %s is not a class index (a small non-negative integer)", line, raw)
			}
			kind = 1
			intLabels = append(intLabels, int(f))
		default:
			return nil, fmt.Errorf("jsonl: line %d: label %s: labels must be all integers or all strings", line, raw)
		}
	}
	if len(t.Docs) == 0 {
		return nil, errors.New("jsonl: no documents")
	}
	switch kind {
	case 1:
		t.Labels = intLabels
		n := slices.Max(intLabels) + 1
		if opts.Classes != nil {
			if n > len(opts.Classes) {
				return nil, fmt.Errorf("jsonl: label %d found but only %d class names given", n-1, len(opts.Classes))
			}
			t.Classes = opts.Classes
		} else {
			for i := range n {
				t.Classes = append(t.Classes, strconv.Itoa(i))
			}
		}
	case 2:
		t.Classes = slices.Clone(strLabels)
		slices.Sort(t.Classes)
		t.Classes = slices.Compact(t.Classes)
		for _, s := range strLabels {
			i, _ := slices.BinarySearch(t.Classes, s)
			t.Labels = append(t.Labels, i)
		}
	}
	return t, nil
}

// readLine reads one line (without its end) of at most maxLine bytes.
func readLine(br *bufio.Reader) ([]byte, error) {
	var out []byte
	for {
		frag, err := br.ReadSlice('\n')
		out = append(out, frag...)
		if len(out) > maxLine {
			return nil, fmt.Errorf("line longer than %d bytes", maxLine)
		}
		switch err {
		case nil:
			return out, nil
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			if len(out) == 0 {
				return nil, io.EOF
			}
			return out, nil
		default:
			return nil, err
		}
	}
}

var htmlTag = regexp.MustCompile(`<[^<>]{0,200}>`)

// Tokenize splits text into lower-case word tokens: HTML tags (such as
// "<br />") become spaces and entities are decoded; runs of letters and
// digits are words (an apostrophe between letters stays inside, as in
// "don't"); every other non-space character is a token of its own.
//
//	Tokenize("Great film!<br />Don't miss it.") = [great film ! don't miss it .]
func Tokenize(s string) []string {
	s = html.UnescapeString(htmlTag.ReplaceAllString(s, " "))
	s = strings.ToLower(s)
	var toks []string
	rs := []rune(s)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			i++
		case isWordRune(r):
			j := i + 1
			for j < len(rs) {
				if isWordRune(rs[j]) {
					j++
				} else if (rs[j] == '\'' || rs[j] == '’') && j+1 < len(rs) && unicode.IsLetter(rs[j+1]) {
					j += 2
				} else {
					break
				}
			}
			toks = append(toks, string(rs[i:j]))
			i = j
		default:
			toks = append(toks, string(r))
			i++
		}
	}
	return toks
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) }

// Level is the unit a [Vocab] counts: words or characters.
type Level int

const (
	// WordLevel splits documents with [Tokenize].
	WordLevel Level = iota
	// CharLevel splits documents into characters (Unicode code points),
	// unchanged: no lower-casing and no clean-up.
	CharLevel
)

// Ids of the special tokens in every [Vocab].
const (
	PadID    = 0
	UnkID    = 1
	PadToken = "<pad>"
	UnkToken = "<unk>"
)

// Vocab maps tokens to integer ids: 0 is <pad>, 1 is <unk> (any token not
// in the vocabulary), then the kept tokens from most to least frequent.
type Vocab struct {
	level  Level
	tokens []string
	index  map[string]int
}

// VocabOptions configures [BuildVocab].
type VocabOptions struct {
	Level Level
	// MaxSize caps the vocabulary size, the two special tokens included;
	// 0 means no cap. The most frequent tokens are kept; ties are broken
	// by the token's text (byte order), so the result is deterministic.
	MaxSize int
	// MinCount drops tokens seen fewer times (default 1: keep all).
	MinCount int
}

// BuildVocab counts the tokens of docs and builds a vocabulary.
func BuildVocab(docs []string, opts VocabOptions) (*Vocab, error) {
	if opts.Level != WordLevel && opts.Level != CharLevel {
		return nil, fmt.Errorf("vocab: unknown Level %d, want WordLevel or CharLevel", int(opts.Level))
	}
	if opts.MaxSize != 0 && opts.MaxSize < 3 {
		return nil, fmt.Errorf("vocab: MaxSize %d leaves no room beside <pad> and <unk>; use 0 (no cap) or at least 3", opts.MaxSize)
	}
	v := &Vocab{level: opts.Level}
	counts := map[string]int{}
	for _, d := range docs {
		for _, t := range v.Split(d) {
			counts[t]++
		}
	}
	type tc struct {
		tok string
		n   int
	}
	list := make([]tc, 0, len(counts))
	for t, n := range counts {
		if n >= max(opts.MinCount, 1) && t != PadToken && t != UnkToken {
			list = append(list, tc{t, n})
		}
	}
	slices.SortFunc(list, func(a, b tc) int {
		if a.n != b.n {
			return b.n - a.n
		}
		return strings.Compare(a.tok, b.tok)
	})
	if opts.MaxSize > 0 && len(list) > opts.MaxSize-2 {
		list = list[:opts.MaxSize-2]
	}
	toks := []string{PadToken, UnkToken}
	for _, e := range list {
		toks = append(toks, e.tok)
	}
	v.setTokens(toks)
	return v, nil
}

func (v *Vocab) setTokens(toks []string) {
	v.tokens = toks
	v.index = make(map[string]int, len(toks))
	for i, t := range toks {
		v.index[t] = i
	}
}

// Level returns WordLevel or CharLevel.
func (v *Vocab) Level() Level { return v.level }

// Size returns the number of ids, the special tokens included.
func (v *Vocab) Size() int { return len(v.tokens) }

// ID returns the id of a token, or UnkID if it is not in the vocabulary.
func (v *Vocab) ID(tok string) int {
	if i, ok := v.index[tok]; ok {
		return i
	}
	return UnkID
}

// Token returns the token with the given id, or <unk> for an id out of
// range.
func (v *Vocab) Token(id int) string {
	if id < 0 || id >= len(v.tokens) {
		return UnkToken
	}
	return v.tokens[id]
}

// Split splits a document into tokens at the vocabulary's level.
func (v *Vocab) Split(doc string) []string {
	if v.level == CharLevel {
		out := make([]string, 0, utf8.RuneCountInString(doc))
		for _, r := range doc {
			out = append(out, string(r))
		}
		return out
	}
	return Tokenize(doc)
}

// Encode returns the ids of a document's tokens (unknown tokens map to
// UnkID).
func (v *Vocab) Encode(doc string) []int {
	toks := v.Split(doc)
	ids := make([]int, len(toks))
	for i, t := range toks {
		ids[i] = v.ID(t)
	}
	return ids
}

// Decode turns ids back into text: words joined by spaces, characters
// concatenated. Padding is skipped; unknown ids read as <unk>.
func (v *Vocab) Decode(ids []int) string {
	var parts []string
	for _, id := range ids {
		if id != PadID {
			parts = append(parts, v.Token(id))
		}
	}
	if v.level == CharLevel {
		return strings.Join(parts, "")
	}
	return strings.Join(parts, " ")
}

// SeqOptions says where [Vocab.Sequences] pads and truncates.
type SeqOptions struct {
	// PadFront puts the padding before the tokens (default: after).
	PadFront bool
	// TruncateFront drops tokens from the start of a long document, keeping
	// its end (default: keep the start, drop the end).
	TruncateFront bool
}

// Sequences encodes docs into a len(docs)×length matrix of ids, row-major,
// each row padded with PadID or truncated to length. lengths[i] is the
// number of real (non-pad) ids in row i.
func (v *Vocab) Sequences(docs []string, length int, opts SeqOptions) (ids []int, lengths []int, err error) {
	if length <= 0 {
		return nil, nil, fmt.Errorf("vocab: sequence length %d, want > 0", length)
	}
	if int64(len(docs))*int64(length) > maxSetFloats {
		return nil, nil, fmt.Errorf("vocab: %d documents × length %d is too large; use a shorter length or fewer documents", len(docs), length)
	}
	ids = make([]int, len(docs)*length) // PadID is 0
	lengths = make([]int, len(docs))
	for i, d := range docs {
		e := v.Encode(d)
		if len(e) > length {
			if opts.TruncateFront {
				e = e[len(e)-length:]
			} else {
				e = e[:length]
			}
		}
		row := ids[i*length : (i+1)*length]
		if opts.PadFront {
			copy(row[length-len(e):], e)
		} else {
			copy(row, e)
		}
		lengths[i] = len(e)
	}
	return ids, lengths, nil
}

type vocabJSON struct {
	Level  string   `json:"level"`
	Tokens []string `json:"tokens"`
}

// MarshalJSON stores the vocabulary as {"level":"word"|"char","tokens":[...]}
// (tokens in id order), so a model file can carry it.
func (v *Vocab) MarshalJSON() ([]byte, error) {
	l := "word"
	if v.level == CharLevel {
		l = "char"
	}
	return json.Marshal(vocabJSON{l, v.tokens})
}

// UnmarshalJSON reads what MarshalJSON wrote, checking that ids 0 and 1 are
// <pad> and <unk> and that no token repeats.
func (v *Vocab) UnmarshalJSON(b []byte) error {
	var j vocabJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("vocab: %w", err)
	}
	switch j.Level {
	case "word":
		v.level = WordLevel
	case "char":
		v.level = CharLevel
	default:
		return fmt.Errorf("vocab: level %q, want \"word\" or \"char\"", j.Level)
	}
	if len(j.Tokens) < 2 || j.Tokens[0] != PadToken || j.Tokens[1] != UnkToken {
		return fmt.Errorf("vocab: tokens must start with %q, %q", PadToken, UnkToken)
	}
	v.setTokens(j.Tokens)
	if len(v.index) != len(j.Tokens) {
		return errors.New("vocab: a token appears twice")
	}
	return nil
}

// Corpus is a text cut into fixed-length character sequences for a
// language model: each input sequence is paired with the same sequence
// shifted by one character, the characters to predict.
type Corpus struct {
	Text    string // the whole text
	Vocab   *Vocab // character vocabulary built from Text
	SeqLen  int    // characters per sequence
	N       int    // number of sequences
	Inputs  []int  // N*SeqLen ids, row-major
	Targets []int  // N*SeqLen ids: Targets[i*SeqLen+j] follows Inputs[i*SeqLen+j] in Text
}

// CorpusOptions configures [ReadCorpus].
type CorpusOptions struct {
	SeqLen int // characters per sequence (required)
	// Stride is the step between the starts of consecutive sequences
	// (default SeqLen: no overlap).
	Stride int
	// MaxVocab caps the vocabulary (see VocabOptions.MaxSize); 0: no cap.
	MaxVocab int
	// MaxBytes caps the text read (default 64 MiB); longer input is an
	// error.
	MaxBytes int64
}

// ReadCorpus reads UTF-8 text (gzip-compressed or not: detected) and cuts it
// into character sequences for a language model.
func ReadCorpus(r io.Reader, opts CorpusOptions) (*Corpus, error) {
	if opts.SeqLen <= 0 {
		return nil, fmt.Errorf("corpus: SeqLen %d, want > 0", opts.SeqLen)
	}
	stride := opts.Stride
	if stride == 0 {
		stride = opts.SeqLen
	}
	if stride < 0 {
		return nil, fmt.Errorf("corpus: Stride %d, want > 0", stride)
	}
	limit := opts.MaxBytes
	if limit <= 0 {
		limit = 64 << 20
	}
	br := bufio.NewReader(r)
	var src io.Reader = br
	if h, _ := br.Peek(2); len(h) == 2 && h[0] == 0x1f && h[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("corpus: gzip: %w", err)
		}
		defer gz.Close()
		src = gz
	}
	b, err := io.ReadAll(io.LimitReader(src, limit+1))
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("corpus: text is longer than %d bytes; raise CorpusOptions.MaxBytes or use a smaller file", limit)
	}
	if !utf8.Valid(b) {
		return nil, errors.New("corpus: text is not valid UTF-8")
	}
	text := string(b)
	v, err := BuildVocab([]string{text}, VocabOptions{Level: CharLevel, MaxSize: opts.MaxVocab})
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	ids := v.Encode(text)
	if len(ids) < opts.SeqLen+1 {
		return nil, fmt.Errorf("corpus: %d characters, need at least SeqLen+1 = %d", len(ids), opts.SeqLen+1)
	}
	c := &Corpus{Text: text, Vocab: v, SeqLen: opts.SeqLen}
	c.N = (len(ids)-1-opts.SeqLen)/stride + 1
	c.Inputs = make([]int, c.N*opts.SeqLen)
	c.Targets = make([]int, c.N*opts.SeqLen)
	for i := range c.N {
		s := i * stride
		copy(c.Inputs[i*opts.SeqLen:], ids[s:s+opts.SeqLen])
		copy(c.Targets[i*opts.SeqLen:], ids[s+1:s+1+opts.SeqLen])
	}
	return c, nil
}

// ReadCorpusFile reads a text file (optionally gzip-compressed) with
// [ReadCorpus]; errors name the file.
func ReadCorpusFile(path string, opts CorpusOptions) (*Corpus, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c, err := ReadCorpus(f, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ReadJSONLFile reads a JSON Lines file (gzip-compressed or not: detected)
// with [ReadJSONL]; errors name the file.
func ReadJSONLFile(path string, opts JSONLOptions) (*Text, error) {
	var t *Text
	err := withFile(path, func(r io.Reader) (err error) {
		t, err = ReadJSONL(r, opts)
		return err
	})
	return t, err
}

// withFile opens path, decompresses it if it starts with the gzip magic
// bytes, and passes it to read; errors are prefixed with the path.
func withFile(path string, read func(io.Reader) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var src io.Reader = br
	if h, _ := br.Peek(2); len(h) == 2 && h[0] == 0x1f && h[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("%s: gzip: %w", path, err)
		}
		defer gz.Close()
		src = gz
	}
	if err := read(src); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
