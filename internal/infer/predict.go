package infer

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/glassbox-ml/glassbox/datasets"
	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Prediction is one input's prediction, as predict and the server print it.
type Prediction struct {
	Probabilities []float32 `json:"probabilities,omitempty"`
	Class         *int      `json:"class,omitempty"`
	Label         string    `json:"label,omitempty"`
	Value         *float32  `json:"value,omitempty"`
}

// ReadInput reads a prediction input for a model: an image file resized
// to the model's input, or CSV rows of features (standardised as in
// training). It returns a batch [n, InputShape...].
func ReadInput(path string, meta model.Meta) (*tensor.Tensor, error) {
	if len(meta.InputShape) == 0 {
		return nil, fmt.Errorf("the model file does not record its input shape")
	}
	ext := strings.ToLower(filepath.Ext(path))
	if ext == ".png" || ext == ".jpg" || ext == ".jpeg" {
		if len(meta.InputShape) != 3 {
			return nil, fmt.Errorf("the model takes inputs of shape %v, not images", meta.InputShape)
		}
		c, h, w := meta.InputShape[0], meta.InputShape[1], meta.InputShape[2]
		pix, err := datasets.LoadImageFile(path, datasets.ImageOptions{Width: w, Height: h, Channels: c})
		if err != nil {
			return nil, err
		}
		return tensor.FromSlice(pix, 1, c, h, w)
	}
	var raw []byte
	var err error
	if path == "-" {
		raw, err = io.ReadAll(os.Stdin)
	} else {
		raw, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, err
	}
	return ParseRows(raw, meta)
}

// ParseRows parses CSV feature rows (with or without a header) for a model
// and applies its standardisation.
func ParseRows(raw []byte, meta model.Meta) (*tensor.Tensor, error) {
	tab, err := datasets.ReadCSV(bytes.NewReader(raw), datasets.CSVOptions{NoTarget: true, NoAutoCategorical: true})
	if err != nil {
		return nil, err
	}
	want := tensor.Numel(meta.InputShape)
	if tab.Cols != want {
		return nil, fmt.Errorf("input rows have %d features, the model takes %d (shape %v)", tab.Cols, want, meta.InputShape)
	}
	x := append([]float32(nil), tab.X...)
	if meta.Mean != nil {
		for i := range x {
			j := i % want
			x[i] = (x[i] - meta.Mean[j]) / meta.Std[j]
		}
	}
	return tensor.FromSlice(x, append([]int{tab.Rows}, meta.InputShape...)...)
}

// PredictRows runs the model on a batch and formats each row's prediction:
// softmax probabilities and the top class for classifiers, the value for
// regression.
func PredictRows(m nn.Module, meta model.Meta, x *tensor.Tensor) ([]Prediction, error) {
	out, err := nn.Predict(m, x)
	if err != nil {
		return nil, err
	}
	n := x.Dim(0)
	preds := make([]Prediction, n)
	if meta.Task == "regression" {
		d := out.Data()
		for i := range preds {
			v := d[i]
			if meta.TargetStd != 0 {
				v = v*meta.TargetStd + meta.TargetMean
			}
			preds[i].Value = &v
		}
		return preds, nil
	}
	probs := tensor.Softmax(out.Reshape(n, -1), -1)
	cls := tensor.ArgMax(probs, -1)
	for i := range preds {
		c := cls[i]
		preds[i].Class = &c
		preds[i].Probabilities = append([]float32(nil), probs.Row(i).Data()...)
		if c < len(meta.Classes) {
			preds[i].Label = meta.Classes[c]
		}
	}
	return preds, nil
}
