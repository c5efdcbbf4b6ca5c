package serve

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"net/http"
	"strconv"
	"strings"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/predictor"
	"github.com/glassbox-ml/glassbox/tensor"
)

// predictWire is a PredictRequest as the server reads it: "rows" stays
// raw JSON until parseRows reads it within the batch limits, so that a
// body of many tiny rows cannot expand into a slice per row.
type predictWire struct {
	Rows  json.RawMessage `json:"rows,omitempty"`
	CSV   string          `json:"csv,omitempty"`
	Image string          `json:"image,omitempty"`
	Text  string          `json:"text,omitempty"`
}

// explainWire is an ExplainRequest as the server reads it.
type explainWire struct {
	predictWire
	Method    string  `json:"method,omitempty"`
	Seed      *uint64 `json:"seed,omitempty"`
	Samples   int     `json:"samples,omitempty"`
	Label     *int    `json:"label,omitempty"`
	Hide      string  `json:"hide,omitempty"`
	HideValue float64 `json:"hide_value,omitempty"`
	Picture   *bool   `json:"picture,omitempty"`
	Rule      string  `json:"rule,omitempty"`
	Layer     string  `json:"layer,omitempty"`
	Neuron    *int    `json:"neuron,omitempty"`
	// Checks chooses the checks judged on the explanation: "default",
	// "all" (re-runs the method: randomisation, random logit,
	// robustness) or "none".
	Checks string `json:"checks,omitempty"`
}

func (w *predictWire) hasRows() bool {
	raw := bytes.TrimSpace(w.Rows)
	return len(raw) > 0 && !bytes.Equal(raw, []byte("null"))
}

// input turns a request's rows, CSV, image or text into a batch in the
// data's own units, taking what it allocates from the request's memory
// lease.
func (s *Server) input(ctx context.Context, l *lease, req *predictWire) (*tensor.Tensor, error) {
	given := 0
	for _, set := range []bool{req.hasRows(), req.CSV != "", req.Image != "", req.Text != ""} {
		if set {
			given++
		}
	}
	if given != 1 {
		if s.p.Kind == explain.Text {
			return nil, httpErrorf(http.StatusBadRequest, `send "text": the document to read (or "rows" of %d token ids); got %d inputs`, tensor.Numel(s.p.InputShape), given)
		}
		return nil, httpErrorf(http.StatusBadRequest, `send exactly one of "rows" (an array of rows of %d numbers), "csv" or "image" (base64 PNG/JPEG); got %d`, tensor.Numel(s.p.InputShape), given)
	}
	var x *tensor.Tensor
	var err error
	switch {
	case req.Text != "":
		x, err = s.text(ctx, l, req.Text)
	case req.Image != "":
		x, err = s.image(ctx, l, req.Image)
	case req.CSV != "":
		x, err = s.csv(ctx, l, req.CSV)
	default:
		x, err = s.rows(req.Rows)
	}
	if err != nil {
		var he *httpError
		if errors.As(err, &he) || ctx.Err() != nil {
			return nil, err
		}
		return nil, httpErrorf(http.StatusBadRequest, "%s", userWords(err.Error()))
	}
	if x.Dim(0) > s.opt.MaxBatch {
		return nil, s.tooManyRows(x.Dim(0))
	}
	return x, nil
}

func (s *Server) tooManyRows(n int) error {
	return httpErrorf(http.StatusRequestEntityTooLarge, "%d rows: at most %d per request on this server; split the batch", n, s.opt.MaxBatch)
}

// rows reads "rows" as parseRows does, into a batch for the model.
func (s *Server) rows(raw json.RawMessage) (*tensor.Tensor, error) {
	dim := tensor.Numel(s.p.InputShape)
	vals, n, err := parseRows(raw, dim, s.opt.MaxBatch, s.p.InputShape)
	if err != nil {
		return nil, err
	}
	return tensor.FromSlice(vals, append([]int{n}, s.p.InputShape...)...)
}

// parseRows reads raw (valid JSON: the decoder checked it) as an array of
// at most maxRows rows of dim numbers each, every one finite in float32.
// It keeps at most dim values per row, so its memory is bounded by the
// limits whatever the body holds.
func parseRows(raw []byte, dim, maxRows int, shape []int) ([]float32, int, error) {
	sc := jsonScanner{b: raw}
	if sc.next() != '[' {
		return nil, 0, httpErrorf(http.StatusBadRequest, `field "rows": got %s, want an array of rows, each an array of %d numbers`, sc.kind(), dim)
	}
	sc.i++
	var vals []float32
	n := 0
	if sc.next() == ']' {
		return nil, 0, httpErrorf(http.StatusBadRequest, "no rows: send at least one row of %d values", dim)
	}
	for {
		if n == maxRows {
			return nil, 0, httpErrorf(http.StatusRequestEntityTooLarge, "more than %d rows: at most %d per request on this server; split the batch", maxRows, maxRows)
		}
		if sc.next() != '[' {
			return nil, 0, httpErrorf(http.StatusBadRequest, `row %d: got %s, want an array of %d numbers`, n, sc.kind(), dim)
		}
		sc.i++
		count := 0
		if sc.next() == ']' {
			sc.i++
		} else {
			for {
				c := sc.next()
				if c != '-' && (c < '0' || c > '9') {
					return nil, 0, httpErrorf(http.StatusBadRequest, "row %d, value %d: got %s, want a number", n, count, sc.kind())
				}
				tok := sc.number()
				v, err := strconv.ParseFloat(tok, 64)
				f := float32(v)
				if err != nil || f-f != 0 { // too large for float32 (or for float64)
					return nil, 0, httpErrorf(http.StatusBadRequest, "row %d, value %d: %s is too large (numbers up to about ±3.4e38)", n, count, tok)
				}
				if count < dim {
					vals = append(vals, f)
				}
				count++
				if sc.next() == ',' {
					sc.i++
					continue
				}
				sc.i++ // ']'
				break
			}
		}
		if count != dim {
			return nil, 0, httpErrorf(http.StatusBadRequest, "row %d has %d values, the model takes %d (shape %v)", n, count, dim, shape)
		}
		n++
		if sc.next() == ',' {
			sc.i++
			continue
		}
		break // ']': the decoder checked the array is well formed
	}
	return vals, n, nil
}

// jsonScanner walks valid JSON.
type jsonScanner struct {
	b []byte
	i int
}

// next skips white space and returns the next byte (0 at the end).
func (s *jsonScanner) next() byte {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return s.b[s.i]
		}
	}
	return 0
}

// number consumes a number token.
func (s *jsonScanner) number() string {
	start := s.i
	for s.i < len(s.b) && strings.IndexByte("+-.0123456789eE", s.b[s.i]) >= 0 {
		s.i++
	}
	return string(s.b[start:s.i])
}

// kind names the JSON value at the scanner the way a client thinks of it.
func (s *jsonScanner) kind() string {
	switch s.next() {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "true or false"
	case 'n':
		return "null"
	}
	return "a number"
}

// csvRowsFactor bounds what parsing one CSV value costs: a string header
// and its slot in the record (csv.Reader), the float32, and slack.
const csvBytesPerValue = 48

// csv parses CSV rows, refusing before parsing a text with more values
// than MaxBatch rows (and a header) can hold.
func (s *Server) csv(ctx context.Context, l *lease, text string) (*tensor.Tensor, error) {
	dim := int64(tensor.Numel(s.p.InputShape))
	values := int64(strings.Count(text, ",")) + int64(strings.Count(text, "\n")) + 1
	if limit := (int64(s.opt.MaxBatch) + 1) * (dim + 1); values > limit {
		return nil, httpErrorf(http.StatusRequestEntityTooLarge, "the CSV has more than %d values: at most %d rows of %d values per request on this server; split the batch", limit, s.opt.MaxBatch, dim)
	}
	if err := l.take(ctx, values*csvBytesPerValue+2*int64(len(text)), "parsing the CSV"); err != nil {
		return nil, err
	}
	return s.p.ParseCSV([]byte(text))
}

// maxTextWords bounds the words of one document sent to the server: text
// LIME's cost grows with them (every perturbed document is rebuilt).
const maxTextWords = 5000

// text encodes a document for a text model, taking its token rows and
// the tokenised copy from the memory budget first.
func (s *Server) text(ctx context.Context, l *lease, doc string) (*tensor.Tensor, error) {
	if s.p.Kind != explain.Text {
		return nil, httpErrorf(http.StatusBadRequest, `field "text": the model takes %s inputs of shape %v, not text`, s.p.Kind, s.p.InputShape)
	}
	if n := len(strings.Fields(doc)); n > maxTextWords {
		return nil, httpErrorf(http.StatusRequestEntityTooLarge, `field "text": %d words; at most %d per request on this server`, n, maxTextWords)
	}
	if err := l.take(ctx, 4*int64(len(doc))+16*int64(tensor.Numel(s.p.InputShape)), "encoding the text"); err != nil {
		return nil, err
	}
	return s.p.EncodeText([]string{doc})
}

// image decodes a base64 PNG or JPEG, taking its decoded size from the
// memory budget first: the header says how large the image is, and a
// small file can declare a huge one.
func (s *Server) image(ctx context.Context, l *lease, b64 string) (*tensor.Tensor, error) {
	if s.p.Kind != explain.Image {
		return nil, httpErrorf(http.StatusBadRequest, "the model takes inputs of shape %v, not images: send rows of %d features", s.p.InputShape, tensor.Numel(s.p.InputShape))
	}
	if strings.HasPrefix(b64, "data:") {
		_, b64, _ = strings.Cut(b64, ",")
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		var ce base64.CorruptInputError
		if errors.As(err, &ce) {
			return nil, httpErrorf(http.StatusBadRequest, `field "image": not valid base64 (at character %d); send the file's bytes in standard base64`, int64(ce))
		}
		return nil, httpErrorf(http.StatusBadRequest, `field "image": not valid base64`)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(raw))
	switch {
	case errors.Is(err, image.ErrFormat):
		return nil, httpErrorf(http.StatusBadRequest, "image: not a PNG or JPEG file; send a PNG or JPEG")
	case err != nil:
		return nil, httpErrorf(http.StatusBadRequest, "image: cannot read the header: %s; send a PNG or JPEG", userWords(err.Error()))
	case format != "png" && format != "jpeg":
		return nil, httpErrorf(http.StatusBadRequest, "image: %s is not accepted, send a PNG or JPEG", format)
	case cfg.Width <= 0 || cfg.Height <= 0:
		return nil, httpErrorf(http.StatusBadRequest, "image: the header says %d×%d pixels; send a non-empty image", cfg.Width, cfg.Height)
	case int64(cfg.Width)*int64(cfg.Height) > predictor.MaxImagePixels:
		return nil, httpErrorf(http.StatusRequestEntityTooLarge, "image: %d×%d pixels is more than this server's limit of %d pixels; scale it down", cfg.Width, cfg.Height, predictor.MaxImagePixels)
	}
	cost := decodeCost(raw, cfg, format, s.p.InputShape[0])
	if err := l.take(ctx, cost, fmt.Sprintf("decoding a %d×%d %s", cfg.Width, cfg.Height, strings.ToUpper(format))); err != nil {
		return nil, err
	}
	defer l.give(cost) // the decoded image is garbage once resized
	x, err := s.p.DecodeImage(raw)
	if err != nil {
		return nil, httpErrorf(http.StatusBadRequest, "%s", userWords(err.Error()))
	}
	return x, nil
}

// userWords rewrites a library's error text for an HTTP client: it drops
// the Go package prefixes ("png: ", "csv: ", …) that say where in the
// code the error arose, not what is wrong with the request, and names the
// budget by its JSON field.
// It also drops the advice that names the library's own options (say,
// "declare the column in CSVOptions.Categorical"), which a client of the
// server cannot set.
func userWords(msg string) string {
	parts := strings.Split(libPrefixes.Replace(msg), "; ")
	kept := parts[:1]
	for _, p := range parts[1:] {
		if !strings.Contains(p, "Options") && !strings.Contains(p, "datasets.") {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, "; ")
}

var libPrefixes = strings.NewReplacer(
	"the png: ", "the PNG: ",
	"the jpeg: ", "the JPEG: ",
	"png: invalid format: ", "",
	"png: unsupported feature: ", "unsupported: ",
	"jpeg: invalid format: ", "",
	"jpeg: unsupported feature: ", "unsupported: ",
	"png: ", "",
	"jpeg: ", "",
	"csv: ", "",
	"strconv.ParseFloat: ", "",
	"strconv.ParseInt: ", "",
	"explain: ", "",
	"json: ", "",
	"zlib: ", "",
	"flate: ", "",
	"Samples is ", "samples ",
	"Steps is ", "samples (integration steps) ",
)
