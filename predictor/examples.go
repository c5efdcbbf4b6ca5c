package predictor

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/glassbox-ml/glassbox/explain"
)

// MaxExamples bounds how many examples ReadExamples reads (a concept's
// examples are tens to hundreds; activations of each are kept).
const MaxExamples = 10_000

// ReadExamples reads a set of inputs for the model, rows in the data's own
// units back to back (TCAV's concept and random examples): every .png,
// .jpg and .jpeg in a folder for an image model, a .txt file of
// documents (one a line; a list of words or phrases) for a text model, or
// what ReadFile reads (CSV rows, one image).
func (p *Predictor) ReadExamples(path string) ([]float32, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		x, err := p.ReadFile(path)
		if err != nil {
			return nil, err
		}
		return x.Data(), nil
	}
	if p.Kind != explain.Image {
		return nil, fmt.Errorf("%s is a folder; a %s model reads its examples from one file (CSV rows, or text lines)", path, p.Kind)
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".png", ".jpg", ".jpeg":
			if !e.IsDir() {
				files = append(files, filepath.Join(path, e.Name()))
			}
		}
	}
	sort.Strings(files)
	switch {
	case len(files) == 0:
		return nil, fmt.Errorf("%s holds no .png or .jpg images", path)
	case len(files) > MaxExamples:
		return nil, fmt.Errorf("%s holds %d images; give at most %d examples", path, len(files), MaxExamples)
	}
	var out []float32
	for _, f := range files {
		x, err := p.ReadFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, x.Data()...)
	}
	return out, nil
}
