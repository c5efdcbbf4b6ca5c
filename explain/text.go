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

// TextOptions tune a text explanation. The zero value gives the defaults:
// those of LIMEOptions for text.
type TextOptions struct {
	LIMEOptions
	// Mode of the model's outputs (default Classification) and the names of
	// its classes (optional).
	Mode       Mode
	ClassNames []string
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
	bud, cfg, batch, err := opt.resolve(what, limeDefaults{samples: 5000, numFeatures: 10, width: 25, batch: 256})
	if err != nil {
		return nil, err
	}
	e := &TextExplanation{Explanation: Explanation{Method: "lime-text", Mode: outMode, Seed: opt.Seed,
		NumFeatures: D, FeatureNames: names, Selection: cfg.selection, Ridge: cfg.ridge},
		TextMode: mode, Tokens: tokens, Positions: positions}
	if bud.adaptive {
		e.MaxSamples = bud.max
	}
	p := newMaskProblem(D, func(kept int) float64 { return 100 * (1 - math.Sqrt(float64(kept)/float64(D))) })
	o := outputs{what: what, timing: &e.Timing}
	// Batch i+1's documents are built while the model reads batch i's.
	docs := [2][]string{make([]string, batch), make([]string, batch)}
	var rows []uint8 // one block's keep-masks, row-major
	blocks := 0
	extend := func(lo, hi int) error {
		rows = textBlock(p, opt.Seed, blocks, lo, hi, rows)
		blocks++
		return p.addRows(ctx, &o, cfg.width, lo, hi, batch, func(i, a, b int) {
			out := docs[i%2]
			parallelChunks(b-a, 32, func(_, c, f int) {
				var sb strings.Builder
				for r := c; r < f; r++ {
					row := rows[(a+r-lo)*D : (a+r-lo+1)*D]
					sb.Reset()
					sb.Grow(len(text))
					for _, p := range pieces {
						if p.feature < 0 || row[p.feature] != 0 {
							sb.WriteString(p.text)
						} else if mode != TextBagOfWords {
							sb.WriteString(mask)
						}
					}
					out[r] = sb.String()
				}
			})
		}, func(i, a, b int) error {
			return o.add(b-a, a, func() ([]float32, error) { return model(ctx, docs[i%2][:b-a]) })
		})
	}
	if err := extend(0, bud.start); err != nil {
		return nil, err
	}
	labels, err := pickLabels(what, outMode, o.y[:o.k], opt.Labels, opt.TopLabels)
	if err != nil {
		return nil, err
	}
	if err := finishLIME(&e.Explanation, p, bud, labels, cfg, names, opt.ClassNames, extend, start); err != nil {
		return nil, err
	}
	return e, nil
}

// textBlock draws rows lo..hi−1 of a text design as sampling block b into
// p and returns them row-major in rows (reused when large enough). Row 0
// (in the first block) keeps every feature; the block's other m rows hide
// 1 + ⌊(i+u)·D/m⌋ features for i = 0..m−1: stratified counts, uniform over
// 1..D, and a random subset of that size from the stream of the row's
// chunk.
func textBlock(p *problem, seed uint64, b, lo, hi int, rows []uint8) []uint8 {
	D := p.d
	if cap(rows) < (hi-lo)*D {
		rows = make([]uint8, (hi-lo)*D)
	}
	rows = rows[:(hi-lo)*D]
	first := lo
	if lo == 0 {
		first = 1
		for j := range D {
			rows[j] = 1
		}
	}
	off := first - lo
	m := hi - first
	u0 := subStream(seed, streamOther, blockIndex(0, b)).Float64()
	parallelChunks(m, chunkRows, func(c, a, f int) {
		r := subStream(seed, streamChunk, blockIndex(c, b))
		idx := make([]int, D)
		for i := a; i < f; i++ {
			hide := min(1+int((float64(i)+u0)*float64(D)/float64(m)), D)
			row := rows[(off+i)*D : (off+i+1)*D]
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
		}
	})
	p.growRows(hi)
	parallelChunks(hi-lo, 256, func(_, a, c int) {
		for i := lo + a; i < lo+c; i++ {
			row := rows[(i-lo)*D : (i-lo+1)*D]
			mask := p.masks[i*p.dw : (i+1)*p.dw]
			clear(mask)
			ones := 0
			for j, v := range row {
				mask[j>>6] |= uint64(v) << (j & 63)
				ones += int(v)
			}
			p.ones[i] = int32(ones)
		}
	})
	return rows
}
