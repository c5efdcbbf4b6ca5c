package predictor

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/glassbox-ml/glassbox/datasets"
	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/onnx"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Task is what a model predicts.
type Task string

const (
	// Classification: the outputs are class scores (logits); Predict
	// turns them into probabilities.
	Classification Task = "classification"
	// Regression: one output, a value in the target's units.
	Regression Task = "regression"
)

// Mode is the explain package's name for the task.
func (t Task) Mode() explain.Mode {
	if t == Regression {
		return explain.Regression
	}
	return explain.Classification
}

// Recipe is how a model was trained (see model.Recipe).
type Recipe = model.Recipe

// MaxInputValues bounds the number of values of one input (the product of
// InputShape) that a model file may declare: a crafted file cannot make
// Predict or the server allocate more than this per example (64 MiB of
// float32). It is model.MaxInputValues.
const MaxInputValues = model.MaxInputValues

// MaxActivationValues bounds what one forward pass of a model over one
// input may allocate, as nn.ActivationElements counts it: every layer's
// output and the scratch its computation needs, in float32 values (1<<26,
// 256 MiB). New refuses a model over it before running the model, so a
// small crafted file (a 1×1 convolution to thousands of channels, a huge
// sequence through a recurrent layer) cannot make it allocate gigabytes.
// A model with a layer that is not an nn.Shaper (a user's own) is sized
// up to that layer and then run as it is.
const MaxActivationValues = 1 << 26

// Predictor is a trained model ready for use. Build one with Load, Train
// or New; its fields may be read freely but are set by those calls.
type Predictor struct {
	// Module is the network. It sees inputs after preprocessing.
	Module nn.Module
	// Task says whether it classifies or regresses; Kind what one input
	// is; InputShape one input's shape without the batch axis ([d] for a
	// table, [C H W] for an image, [SeqLen] for text).
	Task       Task
	Kind       explain.InputKind
	InputShape []int
	// Outputs is the number of network outputs (classes, or 1).
	Outputs int
	// Classes names the outputs of a classifier; Features the columns of
	// a table.
	Classes  []string
	Features []string
	// Prep is every preprocessing step, applied by Predict, Explain and
	// Evaluate in one place.
	Prep Preprocessing
	// Recipe is how the model was trained (nil when unknown).
	Recipe *Recipe
	// Curves are the training run's per-epoch figures (nil when unknown).
	Curves []model.EpochFigures
	// Background holds training rows of a table in the data's own units,
	// [rows × d]: LIME samples from their statistics and Kernel SHAP draws
	// its background from them. LoadBackground fills it from the recipe.
	Background []float32
	// Extra is free-form metadata carried through Save.
	Extra map[string]string
}

// Preprocessing is how data in its own units becomes what the network
// sees. The zero value does nothing: a model saved by the library
// without preprocessing works everywhere as it is.
type Preprocessing struct {
	// Mean and Std standardise each input feature of a table:
	// x' = (x − Mean)/Std (fitted on the training split).
	Mean, Std []float32
	// PixelMean and PixelStd normalise each channel of an image.
	PixelMean, PixelStd []float32
	// TargetMean and TargetStd map a regression output back to the
	// target's units: y = out·TargetStd + TargetMean. TargetStd 0 means
	// no scaling.
	TargetMean, TargetStd float32
	// Vocab and SeqLen encode a text model's documents: token ids padded
	// or cut to SeqLen.
	Vocab  *datasets.Vocab
	SeqLen int
}

// New makes a Predictor of m described by meta (as model.Load returns
// them). It checks that the description is sound (a known task,
// preprocessing that fits the input shape, an input shape within
// MaxInputValues), that one forward pass stays within
// MaxActivationValues and that m runs on one input of that shape.
func New(m nn.Module, meta model.Meta) (*Predictor, error) {
	if m == nil {
		return nil, errors.New("predictor: the model is nil")
	}
	p := &Predictor{Module: m, Task: Task(meta.Task), InputShape: slices.Clone(meta.InputShape),
		Classes: meta.Classes, Features: meta.Features, Recipe: meta.Recipe, Curves: meta.Curves, Extra: meta.Extra,
		Prep: Preprocessing{Mean: meta.Mean, Std: meta.Std, PixelMean: meta.PixelMean, PixelStd: meta.PixelStd,
			TargetMean: meta.TargetMean, TargetStd: meta.TargetStd, SeqLen: meta.SeqLen}}
	if p.Task == "" {
		p.Task = Classification
	}
	if p.Task != Classification && p.Task != Regression {
		return nil, fmt.Errorf("predictor: task %q: want classification or regression", meta.Task)
	}
	if len(meta.Vocab) > 0 {
		p.Prep.Vocab = &datasets.Vocab{}
		if err := json.Unmarshal(meta.Vocab, p.Prep.Vocab); err != nil {
			return nil, fmt.Errorf("predictor: the model's vocabulary does not read: %v", err)
		}
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// validate checks p's description and finds Kind and Outputs by running
// the network once.
func (p *Predictor) validate() error {
	if err := p.checkShape(); err != nil {
		return err
	}
	if err := p.Prep.check(p.Kind, p.InputShape); err != nil {
		return err
	}
	// Size the forward pass before running it (up to a layer that cannot
	// be sized, which is then run as it is).
	in := append([]int{1}, p.InputShape...)
	if _, total, err := nn.ActivationElements(p.Module, in); total > MaxActivationValues {
		return fmt.Errorf("predictor: one forward pass of the model on its input shape %v needs about %d values of activations, over the limit of %d (predictor.MaxActivationValues)",
			p.InputShape, total, MaxActivationValues)
	} else if err != nil && !errors.Is(err, nn.ErrUnknownShape) {
		return fmt.Errorf("predictor: the model does not run on its input shape %v: %w", p.InputShape, err)
	}
	// A zero input: for text, token id 0 (padding) in every position.
	out, err := nn.Predict(p.Module, tensor.New(in...))
	if err != nil {
		return fmt.Errorf("predictor: the model does not run on its input shape %v: %w", p.InputShape, err)
	}
	p.Outputs = out.Len()
	if p.Outputs == 0 {
		return fmt.Errorf("predictor: the model has no outputs on its input shape %v", p.InputShape)
	}
	if p.Task == Regression && p.Outputs != 1 {
		return fmt.Errorf("predictor: a regression model must have 1 output, this one has %d", p.Outputs)
	}
	if len(p.Classes) > 0 && len(p.Classes) != p.Outputs {
		return fmt.Errorf("predictor: the model names %d classes but has %d outputs", len(p.Classes), p.Outputs)
	}
	if len(p.Features) > 0 && p.Kind == explain.Table && len(p.Features) != p.dim() {
		return fmt.Errorf("predictor: the model names %d features but takes %d", len(p.Features), p.dim())
	}
	return nil
}

// checkShape validates InputShape and derives Kind from it.
func (p *Predictor) checkShape() error {
	if len(p.InputShape) == 0 {
		return errors.New("predictor: the model does not record its input shape; save it with model.Meta.InputShape set")
	}
	n := int64(1)
	for _, d := range p.InputShape {
		if d <= 0 {
			return fmt.Errorf("predictor: input shape %v has a dimension ≤ 0", p.InputShape)
		}
		if int64(d) > MaxInputValues/n { // n·d > MaxInputValues, without overflow
			return fmt.Errorf("predictor: input shape %v holds more than %d values (predictor.MaxInputValues)", p.InputShape, MaxInputValues)
		}
		n *= int64(d)
	}
	switch {
	case p.Prep.Vocab != nil:
		p.Kind = explain.Text
		if len(p.InputShape) != 1 {
			return fmt.Errorf("predictor: a text model takes token sequences of shape [SeqLen], not %v", p.InputShape)
		}
	case len(p.InputShape) == 3:
		p.Kind = explain.Image
	default:
		p.Kind = explain.Table
	}
	return nil
}

// check validates the preprocessing against the input it applies to.
func (pr *Preprocessing) check(kind explain.InputKind, shape []int) error {
	d := 1
	for _, v := range shape {
		d *= v
	}
	if (pr.Mean == nil) != (pr.Std == nil) || len(pr.Mean) != len(pr.Std) {
		return fmt.Errorf("predictor: the model standardises with %d means and %d standard deviations; both or neither, one per feature", len(pr.Mean), len(pr.Std))
	}
	if pr.Mean != nil && len(pr.Mean) != d {
		return fmt.Errorf("predictor: the model standardises %d features, its input shape %v has %d", len(pr.Mean), shape, d)
	}
	if (pr.PixelMean == nil) != (pr.PixelStd == nil) || len(pr.PixelMean) != len(pr.PixelStd) {
		return fmt.Errorf("predictor: the model normalises pixels with %d means and %d standard deviations; both or neither, one per channel", len(pr.PixelMean), len(pr.PixelStd))
	}
	if pr.PixelMean != nil && (kind != explain.Image || len(pr.PixelMean) != shape[0]) {
		return fmt.Errorf("predictor: the model normalises %d channels, its input shape is %v", len(pr.PixelMean), shape)
	}
	for _, s := range [][]float32{pr.Std, pr.PixelStd} {
		for i, v := range s {
			if !(v > 0) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("predictor: standard deviation %d is %v; each must be a positive finite number", i, v)
			}
		}
	}
	for _, s := range [][]float32{pr.Mean, pr.PixelMean, {pr.TargetMean, pr.TargetStd}} {
		for i, v := range s {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("predictor: preprocessing value %d is %v; each must be finite", i, v)
			}
		}
	}
	if pr.TargetStd < 0 {
		return fmt.Errorf("predictor: target scale %v is negative", pr.TargetStd)
	}
	if kind == explain.Text && pr.SeqLen != shape[0] {
		return fmt.Errorf("predictor: the text model pads to %d tokens, its input shape is %v", pr.SeqLen, shape)
	}
	return nil
}

// Load reads a model file and makes it a Predictor: a glassbox .gbx file,
// or an ONNX file (.onnx; see LoadONNX, whose sidecar JSON it reads when
// present).
func Load(path string) (*Predictor, error) {
	if strings.EqualFold(filepath.Ext(path), ".onnx") {
		return LoadONNX(path, "")
	}
	m, meta, err := model.Load(path)
	if err != nil {
		return nil, err
	}
	p, err := New(m, meta)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	return p, nil
}

// Meta is the file description of p, as Save writes it.
func (p *Predictor) Meta() (model.Meta, error) {
	meta := model.Meta{Task: string(p.Task), Classes: p.Classes, InputShape: p.InputShape, Features: p.Features,
		Mean: p.Prep.Mean, Std: p.Prep.Std, PixelMean: p.Prep.PixelMean, PixelStd: p.Prep.PixelStd,
		TargetMean: p.Prep.TargetMean, TargetStd: p.Prep.TargetStd, SeqLen: p.Prep.SeqLen,
		Recipe: p.Recipe, Curves: p.Curves, Extra: p.Extra}
	if p.Prep.Vocab != nil {
		b, err := json.Marshal(p.Prep.Vocab)
		if err != nil {
			return model.Meta{}, fmt.Errorf("predictor: the vocabulary does not marshal: %v", err)
		}
		meta.Vocab = b
	}
	return meta, nil
}

// Save writes p as a .gbx file (atomically). A predictor of an imported
// ONNX graph is saved as ONNX instead (see onnx.WriteFile), with its
// description in the sidecar JSON.
func (p *Predictor) Save(path string) error {
	meta, err := p.Meta()
	if err != nil {
		return err
	}
	if _, ok := p.Module.(*onnx.Module); ok {
		return fmt.Errorf("%s: this model was imported from ONNX; write it back with onnx.WriteFile (its graph and weights) and its description as %s", path, SidecarPath(path))
	}
	return model.Save(path, p.Module, meta)
}

// dim is the number of values of one input.
func (p *Predictor) dim() int { return tensor.Numel(p.InputShape) }

// ClassName names output i ("" when the model names none).
func (p *Predictor) ClassName(i int) string {
	if i >= 0 && i < len(p.Classes) {
		return p.Classes[i]
	}
	return ""
}
