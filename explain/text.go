package explain

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// TextMode says what a text feature is and how it is hidden.
type TextMode string

const (
	// TextBagOfWords (default): a feature is a distinct word; hiding it
	// removes every occurrence.
	TextBagOfWords TextMode = "bow"
	// TextPositional: a feature is one word occurrence; hiding it replaces
	// that occurrence with MaskString (default "UNKWORDZ", as lime).
	TextPositional TextMode = "positional"
	// TextChars: a feature is one non-space character; hiding it replaces it
	// with MaskString (default: removes it).
	TextChars TextMode = "char"
)

// TextOptions tune a text explanation. The zero value gives the defaults.
type TextOptions struct {
	// Seed makes the explanation reproducible.
	Seed uint64
	// Samples is the number of perturbed documents, the original included
	// (default 5000).
	Samples int
	// NumFeatures is how many features the surrogate keeps (default 10).
	NumFeatures int
	// Labels to explain; default the TopLabels most probable (TopLabels
	// default 1), or output 0 for regression.
	Labels    []int
	TopLabels int
	// Mode of the model's outputs (default Classification) and the names of
	// its classes (optional).
	Mode       Mode
	ClassNames []string
	// KernelWidth on the cosine distance ×100 between the kept-feature mask
	// and the full document (default 25, as lime).
	KernelWidth float64
	// AutoKernelWidth, Selection (default SelectAuto) and Ridge (default
	// 1) work as in TabularOptions.
	AutoKernelWidth bool
	Selection       Selection
	Ridge           float64
	// BatchSize is the number of documents per model call (default 256).
	BatchSize int
	// Text is the feature kind (default TextBagOfWords).
	Text TextMode
	// MaskString replaces hidden tokens in positional and character modes.
	MaskString *string
}

// TextExplanation is a LIME explanation of one document.
type TextExplanation struct {
	Explanation
	// TextMode is the kind of feature.
	TextMode TextMode `json:"text_mode"`
	// Tokens are the document's words (or characters in char mode), in
	// order; Positions[f] lists the token indices that feature f covers.
	Tokens    []string `json:"tokens"`
	Positions [][]int  `json:"positions"`
}

// piece is a span of the document: a token (feature candidate) or a
// separator kept as is.
type piece struct {
	text    string
	feature int // -1 for separators
}

// tokenize splits text into pieces and features for the mode.
func tokenize(text string, mode TextMode) (pieces []piece, tokens []string, names []string, positions [][]int) {
	isWord := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }
	index := map[string]int{}
	addToken := func(tok string) {
		t := len(tokens)
		tokens = append(tokens, tok)
		f := len(names)
		switch mode {
		case TextBagOfWords:
			if g, ok := index[tok]; ok {
				f = g
			} else {
				index[tok] = f
				names = append(names, tok)
				positions = append(positions, nil)
			}
		case TextPositional:
			names = append(names, tok+"["+strconv.Itoa(t)+"]")
			positions = append(positions, nil)
		case TextChars:
			names = append(names, strconv.Quote(tok)+"["+strconv.Itoa(t)+"]")
			positions = append(positions, nil)
		}
		positions[f] = append(positions[f], t)
		pieces = append(pieces, piece{text: tok, feature: f})
	}
	if mode == TextChars {
		for i, r := range text {
			s := text[i : i+utf8.RuneLen(r)]
			if unicode.IsSpace(r) {
				pieces = append(pieces, piece{text: s, feature: -1})
				continue
			}
			addToken(s)
		}
		return
	}
	start := 0
	inWord := false
	for i, r := range text {
		w := isWord(r)
		if w != inWord && i > start {
			if inWord {
				addToken(text[start:i])
			} else {
				pieces = append(pieces, piece{text: text[start:i], feature: -1})
			}
			start = i
		}
		inWord = w
	}
	if start < len(text) {
		if inWord {
			addToken(text[start:])
		} else {
			pieces = append(pieces, piece{text: text[start:], feature: -1})
		}
	}
	return
}

// ExplainText explains a text model's prediction for one document.
//
// Each perturbed document hides a number of features drawn by stratified
// sampling, uniform over 1..D across the sample (so every removal count is
// represented in proportion), and a random subset of that size; the kernel
// weighs documents by the cosine distance of their kept-feature mask to the
// full document.
func ExplainText(ctx context.Context, model TextFunc, text string, opt TextOptions) (*TextExplanation, error) {
	start := time.Now()
	const what = "lime text"
	if model == nil {
		return nil, fmt.Errorf("%s: model is nil", what)
	}
	mode := opt.Text
	if mode == "" {
		mode = TextBagOfWords
	}
	mask := ""
	switch mode {
	case TextBagOfWords:
	case TextPositional:
		mask = "UNKWORDZ"
	case TextChars:
	default:
		return nil, fmt.Errorf("%s: unknown text mode %q; use bow, positional or char", what, mode)
	}
	if opt.MaskString != nil {
		mask = *opt.MaskString
	}
	outMode := opt.Mode
	if outMode == "" {
		outMode = Classification
	}
	if outMode != Classification && outMode != Regression {
		return nil, fmt.Errorf("%s: unknown mode %q; use classification or regression", what, outMode)
	}
	pieces, tokens, names, positions := tokenize(text, mode)
	D := len(names)
	if D == 0 {
		return nil, fmt.Errorf("%s: the document has no words to explain (got %q); pass non-empty text", what, text)
	}
	n, cfg, batch, err := commonOptions(what, opt.Samples, 5000, opt.NumFeatures, opt.KernelWidth, 25, opt.Selection, opt.Ridge, opt.BatchSize, 256)
	if err != nil {
		return nil, err
	}
	cfg.autoWidth = opt.AutoKernelWidth
	z, dist := textDesign(opt.Seed, n, D)
	e := &TextExplanation{Explanation: Explanation{Method: "lime-text", Mode: outMode, Seed: opt.Seed, Samples: n,
		NumFeatures: D, FeatureNames: names, Selection: cfg.selection, Ridge: cfg.ridge},
		TextMode: mode, Tokens: tokens, Positions: positions}
	o := outputs{what: what, timing: &e.Timing}
	docs := make([]string, batch)
	for lo := 0; lo < n; lo += batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi := min(lo+batch, n)
		parallelChunks(hi-lo, 32, func(_, a, b int) {
			var sb strings.Builder
			for i := a; i < b; i++ {
				row := z[(lo+i)*D : (lo+i+1)*D]
				sb.Reset()
				sb.Grow(len(text))
				for _, p := range pieces {
					if p.feature < 0 || row[p.feature] != 0 {
						sb.WriteString(p.text)
					} else if mode != TextBagOfWords {
						sb.WriteString(mask)
					}
				}
				docs[i] = sb.String()
			}
		})
		if err := o.add(hi-lo, lo, func() ([]float32, error) { return model(ctx, docs[:hi-lo]) }); err != nil {
			return nil, err
		}
	}
	labels, err := pickLabels(what, outMode, o.y[:o.k], opt.Labels, opt.TopLabels)
	if err != nil {
		return nil, err
	}
	p := &problem{z: z, n: n, d: D, dist: dist, y: o.y, k: o.k, binary: true}
	labs, width, grid, ess := fit(p, labels, cfg, names)
	for i := range labs {
		if l := labs[i].Label; l < len(opt.ClassNames) {
			labs[i].Name = opt.ClassNames[l]
		}
	}
	e.Labels, e.KernelWidth, e.KernelWidths = labs, width, grid
	e.Quality = quality(labs, ess, n)
	e.Timing.Total = time.Since(start)
	return e, nil
}

// textDesign draws the n×D keep-masks (row 0 keeps everything) and their
// cosine distances ×100 to the full mask. Row i ≥ 1 hides
// 1 + ⌊(i−1+u)·D/(n−1)⌋ features: stratified counts uniform over 1..D.
func textDesign(seed uint64, n, D int) ([]float32, []float64) {
	z := make([]float32, n*D)
	dist := make([]float64, n)
	for j := range D {
		z[j] = 1
	}
	m := n - 1
	u0 := subStream(seed, streamOther, 0).Float64()
	parallelChunks(m, chunkRows, func(c, lo, hi int) {
		r := subStream(seed, streamChunk, uint64(c))
		idx := make([]int, D)
		for i := lo; i < hi; i++ {
			hide := 1 + int((float64(i)+u0)*float64(D)/float64(m))
			hide = min(hide, D)
			row := z[(i+1)*D : (i+2)*D]
			for j := range row {
				row[j] = 1
				idx[j] = j
			}
			// Partial Fisher–Yates: the first `hide` of idx are a random
			// subset.
			for k := range hide {
				s := k + r.IntN(D-k)
				idx[k], idx[s] = idx[s], idx[k]
				row[idx[k]] = 0
			}
			kept := float64(D - hide)
			dist[i+1] = 100 * (1 - math.Sqrt(kept/float64(D)))
		}
	})
	return z, dist
}
