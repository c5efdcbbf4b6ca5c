package predictor

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // the formats DecodeImage accepts
	_ "image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/glassbox-ml/glassbox/datasets"
	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/tensor"
)

// MaxImagePixels bounds the width·height of an image DecodeImage accepts
// (before it is resized to the model's input), so that a small compressed
// file cannot ask for gigabytes once decoded.
const MaxImagePixels = 1 << 24

// MaxInputBytes bounds a CSV input file or stream ReadFile reads.
const MaxInputBytes = 256 << 20

// Inputs are in the data's own units throughout: every reader below
// returns a batch [n, InputShape...] of raw values, and Predict and
// Explain apply the preprocessing.

// ReadFile reads inputs for the model from a file: an image (.png, .jpg,
// .jpeg) resized to the model's input, CSV rows of features (with or
// without a header line), or for a text model documents, one a line; "-"
// reads standard input.
func (p *Predictor) ReadFile(path string) (*tensor.Tensor, error) {
	ext := strings.ToLower(filepath.Ext(path))
	if ext == ".png" || ext == ".jpg" || ext == ".jpeg" {
		raw, err := readLimited(path, MaxInputBytes)
		if err != nil {
			return nil, err
		}
		return p.DecodeImage(raw)
	}
	if p.Kind == explain.Image {
		return nil, fmt.Errorf("%s: the model takes images; give a .png or .jpg file", path)
	}
	if p.Kind == explain.Text {
		docs, err := ReadText(path)
		if err != nil {
			return nil, err
		}
		return p.EncodeText(docs)
	}
	raw, err := readLimited(path, MaxInputBytes)
	if err != nil {
		return nil, err
	}
	return p.ParseCSV(raw)
}

func readLimited(path string, limit int64) ([]byte, error) {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	raw, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(raw)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes; split it", path, limit)
	}
	return raw, nil
}

// DecodeImage reads an in-memory PNG or JPEG for an image model: resized
// to the model's input and converted to its channels, pixels in [0, 1].
// It returns a batch [1, C, H, W]. Other formats, images over
// MaxImagePixels and models that do not take images are errors naming
// the problem.
func (p *Predictor) DecodeImage(raw []byte) (*tensor.Tensor, error) {
	if p.Kind != explain.Image {
		return nil, fmt.Errorf("the model takes inputs of shape %v, not images: send rows of %d features", p.InputShape, p.dim())
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("image: cannot read the header: %v (send a PNG or JPEG)", err)
	}
	if format != "png" && format != "jpeg" {
		return nil, fmt.Errorf("image: %s is not accepted, send a PNG or JPEG", format)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxImagePixels {
		return nil, fmt.Errorf("image: size %dx%d is empty or larger than %d pixels; scale it down", cfg.Width, cfg.Height, MaxImagePixels)
	}
	img, _, err := image.Decode(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("image: cannot decode the %s: %v", format, err)
	}
	c, h, w := p.InputShape[0], p.InputShape[1], p.InputShape[2]
	pix, err := datasets.ImagePixels(img, c, h, w, datasets.Bilinear)
	if err != nil {
		return nil, err
	}
	return tensor.FromSlice(pix, 1, c, h, w)
}

// ParseCSV parses CSV rows of features (with or without a header line)
// into a batch [n, InputShape...].
func (p *Predictor) ParseCSV(raw []byte) (*tensor.Tensor, error) {
	tab, err := datasets.ReadCSV(bytes.NewReader(raw), datasets.CSVOptions{NoTarget: true, NoAutoCategorical: true})
	var ve *datasets.ValueError
	switch {
	case errors.As(err, &ve) && ve.Missing:
		return nil, fmt.Errorf("CSV line %d, column %q: the value is missing (%q); every feature needs a number", ve.Line, ve.Column, ve.Value)
	case errors.As(err, &ve):
		return nil, fmt.Errorf("CSV line %d, column %q: %q is not a number; every feature needs a number", ve.Line, ve.Column, ve.Value)
	case err != nil:
		return nil, fmt.Errorf("reading CSV rows: %s", strings.TrimPrefix(err.Error(), "csv: "))
	}
	if tab.Cols != p.dim() {
		return nil, fmt.Errorf("the rows have %d features, the model takes %d (shape %v)", tab.Cols, p.dim(), p.InputShape)
	}
	return tensor.FromSlice(tab.X, append([]int{tab.Rows}, p.InputShape...)...)
}

// Rows turns rows of values (as a JSON request carries them) into a batch
// [n, InputShape...]. Every row must have the model's number of values,
// each finite in float32.
func (p *Predictor) Rows(rows [][]float64) (*tensor.Tensor, error) {
	if len(rows) == 0 {
		return nil, fmt.Errorf("no rows: send at least one row of %d values", p.dim())
	}
	want := p.dim()
	for i, r := range rows {
		if len(r) != want {
			return nil, fmt.Errorf("row %d has %d values, the model takes %d (shape %v)", i, len(r), want, p.InputShape)
		}
	}
	x := make([]float32, 0, len(rows)*want)
	for i, r := range rows {
		for j, v := range r {
			f := float32(v)
			if math.IsInf(float64(f), 0) || math.IsNaN(v) {
				return nil, fmt.Errorf("row %d, value %d: %g is not a finite float32", i, j, v)
			}
			x = append(x, f)
		}
	}
	return tensor.FromSlice(x, append([]int{len(rows)}, p.InputShape...)...)
}

// EncodeText turns documents into token-id rows [n, SeqLen] for a text
// model, with its own vocabulary, as in training: the last SeqLen tokens
// kept, padding in front.
func (p *Predictor) EncodeText(docs []string) (*tensor.Tensor, error) {
	if p.Prep.Vocab == nil {
		return nil, fmt.Errorf("the model takes inputs of shape %v, not text", p.InputShape)
	}
	ids, _, err := p.Prep.Vocab.Sequences(docs, p.Prep.SeqLen, textSeq)
	if err != nil {
		return nil, err
	}
	x := make([]float32, len(ids))
	for i, id := range ids {
		x[i] = float32(id)
	}
	return tensor.FromSlice(x, len(docs), p.Prep.SeqLen)
}
