package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/internal/atomicfile"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// FormatVersion is written into every file's metadata.
const FormatVersion = "1"

// Meta is what a model file says about the model besides its weights.
type Meta struct {
	// Task is "classification" or "regression".
	Task string `json:"task,omitempty"`
	// Classes names the output classes, in output order.
	Classes []string `json:"classes,omitempty"`
	// InputShape is one example's shape, without the batch axis
	// (e.g. [1 28 28] for MNIST).
	InputShape []int `json:"input_shape,omitempty"`
	// Features names the input columns of a tabular model.
	Features []string `json:"features,omitempty"`
	// Mean and Std, when set, standardise each input feature before the
	// model sees it: x' = (x − Mean)/Std, fitted on the training data.
	Mean []float32 `json:"mean,omitempty"`
	Std  []float32 `json:"std,omitempty"`
	// TargetMean and TargetStd, for regression, say how the model's output
	// maps back to the target's units: y = out·TargetStd + TargetMean.
	TargetMean float32 `json:"target_mean,omitempty"`
	TargetStd  float32 `json:"target_std,omitempty"`
	// PixelMean and PixelStd, when set, normalise each channel of an image
	// model's input (pixels in [0, 1]) before the model sees it:
	// x' = (x − PixelMean[c])/PixelStd[c], as torchvision's Normalize.
	PixelMean []float32 `json:"pixel_mean,omitempty"`
	PixelStd  []float32 `json:"pixel_std,omitempty"`
	// Vocab is a text model's vocabulary (datasets.Vocab as JSON) and
	// SeqLen the sequence length its inputs are padded to.
	Vocab  json.RawMessage `json:"vocab,omitempty"`
	SeqLen int             `json:"seq_len,omitempty"`
	// Recipe says how the model was trained: its data, splits, seed and
	// schedule. Nil for a model saved without one.
	Recipe *Recipe `json:"recipe,omitempty"`
	// Curves are the training run's per-epoch figures, so a report on the
	// saved model can draw its training curves. Nil when unknown.
	Curves []EpochFigures `json:"curves,omitempty"`
	// Extra holds free-form string metadata.
	Extra map[string]string `json:"extra,omitempty"`
}

// EpochFigures are one epoch's figures: metric name → value on the
// training split (averaged over the epoch) and on the validation split.
type EpochFigures struct {
	Epoch int                `json:"epoch"`
	Train map[string]float64 `json:"train,omitempty"`
	Val   map[string]float64 `json:"val,omitempty"`
}

// Recipe is how a model was trained, recorded so that evaluation,
// explanation and inspection reuse the model's own data splits and
// training rows without the user retyping them.
type Recipe struct {
	// Data is the data SPEC (mnist-small, iris, csv:PATH?target=COL, …).
	Data string `json:"data"`
	// Seed is the base seed; the split, validation, initialisation,
	// shuffling and dropout streams are derived from it (see
	// predictor.Seeds).
	Seed uint64 `json:"seed"`
	// TestFraction is the share held out for testing when the data comes
	// in one piece (tables, image folders); ValFraction the share of the
	// remaining training part held out for validation (negative: none).
	TestFraction float64 `json:"test_fraction,omitempty"`
	ValFraction  float64 `json:"val_fraction,omitempty"`
	// Model is the model SPEC (a zoo name or an architecture file) and
	// Hidden its width override (0: the model's default).
	Model  string `json:"model,omitempty"`
	Hidden int    `json:"hidden,omitempty"`
	// Optimizer, LR, Batch, Epochs, Schedule ("constant" or "cosine"),
	// Patience (0: no early stopping) and Clip (negative: none; 0 in a
	// recipe given to predictor.Train: the model's default) are the training
	// schedule; EpochsRun how many epochs ran before it stopped.
	Optimizer string  `json:"optimizer,omitempty"`
	LR        float64 `json:"lr,omitempty"`
	Batch     int     `json:"batch,omitempty"`
	Epochs    int     `json:"epochs,omitempty"`
	EpochsRun int     `json:"epochs_run,omitempty"`
	Schedule  string  `json:"schedule,omitempty"`
	Patience  int     `json:"patience,omitempty"`
	Clip      float64 `json:"clip,omitempty"`
	// Shift is the random-shift augmentation of image inputs in pixels
	// (0: the model's default, negative: none).
	Shift int `json:"shift,omitempty"`
}

// State returns every saved tensor of m by name: parameters and buffers.
func State(m nn.Module) (map[string]*autograd.Var, []string, error) {
	vars := m.Params()
	if b, ok := m.(nn.Buffered); ok {
		vars = append(vars, b.Buffers()...)
	}
	state := map[string]*autograd.Var{}
	var names []string
	for _, v := range vars {
		if v.Name == "" {
			return nil, nil, fmt.Errorf("model: a parameter of shape %v has no name", v.Value.Shape())
		}
		if _, dup := state[v.Name]; dup {
			return nil, nil, fmt.Errorf("model: two tensors are named %q; give the layers unique names", v.Name)
		}
		state[v.Name] = v
		names = append(names, v.Name)
	}
	return state, names, nil
}

// Save writes m with its architecture and meta to path, atomically: a
// crash mid-write leaves the previous file intact.
func Save(path string, m nn.Module, meta Meta) error {
	tensors, md, err := encode(m, meta)
	if err != nil {
		return err
	}
	return WriteTensors(path, tensors, md)
}

// encode returns m's tensors by name and the metadata describing it.
func encode(m nn.Module, meta Meta) (map[string]*tensor.Tensor, map[string]string, error) {
	state, _, err := State(m)
	if err != nil {
		return nil, nil, err
	}
	arch, err := json.Marshal(m.Spec())
	if err != nil {
		return nil, nil, fmt.Errorf("model: architecture does not marshal: %v", err)
	}
	metaJSON, err := json.Marshal(meta)
	if err != nil {
		return nil, nil, fmt.Errorf("model: metadata does not marshal: %v", err)
	}
	md := map[string]string{
		"format":                "glassbox",
		"glassbox.version":      FormatVersion,
		"glassbox.architecture": string(arch),
		"glassbox.meta":         string(metaJSON),
	}
	tensors := make(map[string]*tensor.Tensor, len(state))
	for n, v := range state {
		tensors[n] = v.Value
	}
	return tensors, md, nil
}

// writeAtomic writes through a temporary file in the same folder and
// renames it over path only after a successful sync.
func writeAtomic(path string, fill func(io.Writer) error) error {
	if err := atomicfile.Write(path, fill); err != nil {
		return fmt.Errorf("model: %w", err)
	}
	return nil
}

// Load reads a .gbx file, rebuilds its architecture and fills in the
// weights. Every tensor's name, dtype and shape is checked against the
// architecture; a mismatch or a corrupt file is an error, never a panic.
func Load(path string) (nn.Module, Meta, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, Meta{}, fmt.Errorf("model: %v", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, Meta{}, err
	}
	m, meta, err := Read(f, st.Size())
	if err != nil {
		return nil, Meta{}, fmt.Errorf("model %s: %w", path, err)
	}
	return m, meta, nil
}

// Read is Load from a reader of known size. What it allocates for the
// file is bounded before it happens: the header by MaxHeaderBytes (parsing
// it costs a small multiple of its length), the tensor data by the bytes r
// actually delivers, never by what size claims, and the tensors, which
// may not share bytes, by the data. The model itself is built from the
// architecture the header names with nn.BuildLimited, which refuses an
// architecture asking for more values than the file's tensors hold before
// allocating any, and must then hold exactly the file's tensors.
func Read(r io.Reader, size int64) (nn.Module, Meta, error) {
	h, body, err := readFile(r, size)
	if err != nil {
		return nil, Meta{}, err
	}
	archJSON, ok := h.metadata["glassbox.architecture"]
	if !ok {
		return nil, Meta{}, errors.New("not a glassbox model: the safetensors metadata has no glassbox.architecture (weights only?)")
	}
	var spec nn.Spec
	if err := json.Unmarshal([]byte(archJSON), &spec); err != nil {
		return nil, Meta{}, fmt.Errorf("bad architecture JSON: %v", err)
	}
	var meta Meta
	if s, ok := h.metadata["glassbox.meta"]; ok {
		if err := json.Unmarshal([]byte(s), &meta); err != nil {
			return nil, Meta{}, fmt.Errorf("bad glassbox.meta: %v", err)
		}
	}
	// The architecture may ask for no more values than the file's own
	// tensors hold (checked to fit in its data): a crafted architecture
	// cannot make glassbox allocate more than the file's size.
	budget, err := tensorElements(h)
	if err != nil {
		return nil, Meta{}, err
	}
	var m nn.Module
	if err := tensor.Catch(func() { m, err = nn.BuildLimited(spec, tensor.NewRNG(0), budget) }); err != nil {
		return nil, Meta{}, fmt.Errorf("rebuilding architecture: %v", err)
	}
	if err != nil {
		return nil, Meta{}, fmt.Errorf("rebuilding architecture: %v", err)
	}
	if err := fill(m, h, body); err != nil {
		return nil, Meta{}, err
	}
	return m, meta, nil
}

// LoadWeights fills an existing module's tensors from a safetensors file
// (for example a checkpoint of the same architecture).
func LoadWeights(path string, m nn.Module) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("model: %v", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	h, body, err := readFile(f, st.Size())
	if err != nil {
		return fmt.Errorf("model %s: %w", path, err)
	}
	if err := fill(m, h, body); err != nil {
		return fmt.Errorf("model %s: %w", path, err)
	}
	return nil
}

// fill copies the file's tensors into m, checking that the sets of names
// agree and each dtype and shape matches the architecture (readFile has
// checked every byte range).
func fill(m nn.Module, h *header, body []byte) error {
	state, names, err := State(m)
	if err != nil {
		return err
	}
	for name := range h.tensors {
		if _, ok := state[name]; !ok {
			return fmt.Errorf("file has tensor %q that the architecture does not (expected: %v)", name, names)
		}
	}
	for _, name := range names {
		th, ok := h.tensors[name]
		if !ok {
			return fmt.Errorf("file lacks tensor %q that the architecture needs (a checkpoint from another architecture?)", name)
		}
		v := state[name].Value
		if th.DType != "F32" {
			return fmt.Errorf("tensor %q has dtype %s; glassbox models store F32", name, th.DType)
		}
		if !tensor.SameShape(th.Shape, v.Shape()) {
			return fmt.Errorf("tensor %q has shape %v in the file, the architecture expects %v", name, th.Shape, v.Shape())
		}
		if err := decodeInto(v.Data(), th, body); err != nil {
			return fmt.Errorf("tensor %q: %v", name, err)
		}
	}
	return nil
}
