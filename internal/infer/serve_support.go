package infer

import (
	"bytes"
	"fmt"
	"image"
	_ "image/jpeg" // the formats DecodeImage accepts
	_ "image/png"
	"math"

	"github.com/glassbox-ml/glassbox/datasets"
	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/tensor"
)

// MaxImagePixels bounds the width·height of an image DecodeImage accepts,
// so that a small compressed file cannot ask for gigabytes once decoded.
const MaxImagePixels = 1 << 26

// DecodeImage reads an in-memory PNG or JPEG (as an HTTP request carries
// it) for an image model: the image is resized to the model's input and
// converted to its channels, like ReadInput does for image files. It
// returns a batch [1, C, H, W]. Other formats, sizes over MaxImagePixels
// and models that do not take images are errors naming the problem.
func DecodeImage(raw []byte, meta model.Meta) (*tensor.Tensor, error) {
	if len(meta.InputShape) != 3 {
		return nil, fmt.Errorf("the model takes inputs of shape %v, not images: send rows of %d features", meta.InputShape, tensor.Numel(meta.InputShape))
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("image: cannot read the header: %v (send a PNG or JPEG)", err)
	}
	if format != "png" && format != "jpeg" {
		return nil, fmt.Errorf("image: %s is not accepted, send a PNG or JPEG", format)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxImagePixels {
		return nil, fmt.Errorf("image: size %dx%d is empty or larger than %d pixels", cfg.Width, cfg.Height, MaxImagePixels)
	}
	img, _, err := image.Decode(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("image: cannot decode the %s: %v", format, err)
	}
	c, h, w := meta.InputShape[0], meta.InputShape[1], meta.InputShape[2]
	pix, err := datasets.ImagePixels(img, c, h, w, datasets.Bilinear)
	if err != nil {
		return nil, err
	}
	return tensor.FromSlice(pix, 1, c, h, w)
}

// Rows turns feature rows in the data's own units (as a JSON request
// carries them) into a batch [n, InputShape...], standardised as in
// training, like ParseRows does for CSV. Every row must have the model's
// number of features; values must be finite in float32.
func Rows(rows [][]float64, meta model.Meta) (*tensor.Tensor, error) {
	if len(meta.InputShape) == 0 {
		return nil, fmt.Errorf("the model file does not record its input shape")
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("no rows: send at least one row of %d features", tensor.Numel(meta.InputShape))
	}
	want := tensor.Numel(meta.InputShape)
	x := make([]float32, 0, len(rows)*want)
	for i, r := range rows {
		if len(r) != want {
			return nil, fmt.Errorf("row %d has %d features, the model takes %d (shape %v)", i, len(r), want, meta.InputShape)
		}
		for j, v := range r {
			f := float32(v)
			if math.IsInf(float64(f), 0) || math.IsNaN(v) {
				return nil, fmt.Errorf("row %d, feature %d: %g is outside the float32 range", i, j, v)
			}
			x = append(x, f)
		}
	}
	standardize(x, meta)
	return tensor.FromSlice(x, append([]int{len(rows)}, meta.InputShape...)...)
}
