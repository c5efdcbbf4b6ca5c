package predictor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/onnx"
)

// camSource is a module that finds its own last convolution and probes
// any of its values for Grad-CAM (an imported ONNX graph).
type camSource interface {
	LastConv() (string, error)
	CAM(layer string) explain.CAMFunc
}

// MaxSidecarBytes bounds the sidecar JSON of an ONNX model.
const MaxSidecarBytes = 16 << 20

// SidecarPath is where LoadONNX looks for the metadata an ONNX file lacks:
// the file's name with .json instead of .onnx (resnet.onnx → resnet.json).
func SidecarPath(onnxPath string) string {
	return strings.TrimSuffix(onnxPath, filepath.Ext(onnxPath)) + ".json"
}

// LoadONNX opens a model trained elsewhere, saved as ONNX, as a Predictor.
// What ONNX does not record — the task, class and feature names, input
// normalisation — comes from meta, a JSON file in model.Meta's format
// ({"task": "classification", "classes": [...], "pixel_mean": [...],
// "pixel_std": [...], "input_shape": [3, 224, 224]}); meta "" reads
// SidecarPath(path) when it exists. The input shape defaults to the
// graph input's fixed dimensions after the batch axis.
func LoadONNX(path, meta string) (*Predictor, error) {
	om, err := onnx.ReadFile(path, onnx.ReadOptions{})
	if err != nil {
		return nil, err
	}
	var md model.Meta
	if meta == "" {
		if _, err := os.Stat(SidecarPath(path)); err == nil {
			meta = SidecarPath(path)
		}
	}
	if meta != "" {
		if err := readSidecar(meta, &md); err != nil {
			return nil, err
		}
	}
	// The same bound on a forward pass as for glassbox models: an ONNX
	// graph cannot be sized before it runs, so it is counted as it runs.
	// A predictor only runs and explains its model: Frozen packs the
	// filters once.
	mod, err := onnx.Import(om, onnx.ImportOptions{MaxActivationValues: MaxActivationValues, Frozen: true})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(md.InputShape) == 0 {
		if md.InputShape, err = graphInputShape(om); err != nil {
			return nil, fmt.Errorf("%s: %w; give \"input_shape\" in %s", path, err, SidecarPath(path))
		}
	}
	p, err := New(mod, md)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

func readSidecar(path string, md *model.Meta) error {
	raw, err := readLimited(path, MaxSidecarBytes)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(md); err != nil {
		return fmt.Errorf("%s: not a model description (the fields of glassbox's model.Meta: task, classes, input_shape, features, mean, std, pixel_mean, pixel_std, target_mean, target_std): %v", path, err)
	}
	return nil
}

// graphInputShape is the graph's single input's shape without the batch
// axis, when every other dimension is fixed.
func graphInputShape(om *onnx.Model) ([]int, error) {
	if om.Graph == nil {
		return nil, errors.New("the ONNX file has no graph")
	}
	init := map[string]bool{}
	for _, t := range om.Graph.Initializers {
		init[t.Name] = true
	}
	var ins []*onnx.ValueInfo
	for _, v := range om.Graph.Inputs {
		if !init[v.Name] {
			ins = append(ins, v)
		}
	}
	if len(ins) != 1 {
		return nil, fmt.Errorf("the graph has %d inputs; glassbox serves models with one", len(ins))
	}
	v := ins[0]
	if len(v.Shape) < 2 {
		return nil, fmt.Errorf("graph input %q has no batch axis and shape", v.Name)
	}
	shape := make([]int, 0, len(v.Shape)-1)
	for _, d := range v.Shape[1:] {
		if d.Value <= 0 {
			return nil, fmt.Errorf("graph input %q has a free dimension (%q) besides the batch axis", v.Name, d.Param)
		}
		shape = append(shape, int(d.Value))
	}
	return shape, nil
}
