package predictor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/datasets"
	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Layer IG on the embedding of a recurrent text model: per-token
// attributions named by the words, padding left out, adding up to the
// change of the score from the all-padding input; unknown layers get a
// "did you mean"; neuron methods do not apply to token ids.
func TestLayerIGOnTextModel(t *testing.T) {
	ctx := context.Background()
	v, err := datasets.BuildVocab([]string{"a good film", "a bad film", "a dull plot"}, datasets.VocabOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rng := tensor.NewRNG(1)
	m := nn.NewSequential(nn.NewEmbedding(v.Size(), 8, rng), nn.NewGRU(8, 6, rng), nn.NewLinear(6, 2, rng))
	p := &Predictor{Module: m, Task: Classification, Kind: explain.Text, InputShape: []int{6}, Outputs: 2,
		Classes: []string{"neg", "pos"}, Prep: Preprocessing{Vocab: v, SeqLen: 6}}
	x, err := p.EncodeText([]string{"a good film"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Explain(ctx, "layerig", x.Data(), explain.Options{Label: explain.Class(1)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Layer != "embedding0" || len(res.Top) != 3 || res.Quality["completeness_residual"] > 1e-3 {
		t.Fatalf("layer %q, top %+v, quality %v", res.Layer, res.Top, res.Quality)
	}
	for _, f := range res.Top {
		if !strings.Contains("a good film", strings.Fields(f.Name)[0]) {
			t.Fatalf("token %q is not a word of the document", f.Name)
		}
	}
	if _, err := p.Explain(ctx, "layerig", x.Data(), explain.Options{Layer: "gru"}); err == nil || !strings.Contains(err.Error(), `did you mean "gru1"`) {
		t.Fatalf("unknown layer: %v", err)
	}
	// A client's absurd layer name is not echoed whole.
	if _, err := p.Explain(ctx, "layerig", x.Data(), explain.Options{Layer: strings.Repeat("x", 100000)}); err == nil || len(err.Error()) > 400 {
		t.Fatalf("a 100 kB layer name: error of %d bytes", len(err.Error()))
	}
	if _, err := p.Explain(ctx, "neuronig", x.Data(), explain.Options{}); err == nil {
		t.Fatal("neuron IG on token ids succeeded")
	}
}

// Neuron IG through the preprocessing of a table model adds up to the
// unit's change between the input and the training mean, in raw units.
func TestNeuronIGThroughStandardisation(t *testing.T) {
	rng := tensor.NewRNG(2)
	m := nn.NewSequential(nn.NewLinear(3, 5, rng), nn.NewTanh(), nn.NewLinear(5, 2, rng))
	p := &Predictor{Module: m, Task: Classification, Kind: explain.Table, InputShape: []int{3}, Outputs: 2,
		Prep: Preprocessing{Mean: []float32{10, -5, 100}, Std: []float32{2, 0.5, 20}}}
	x := []float32{13, -4, 80}
	res, err := p.Explain(context.Background(), "neuronig", x, explain.Options{Layer: "tanh1", Neuron: explain.Class(3), Samples: 64})
	if err != nil {
		t.Fatal(err)
	}
	e := res.Details.(*explain.NeuronAttribution)
	if *res.Unit != 3 || e.Completeness.Relative > 1e-4 || e.Completeness.Delta == 0 {
		t.Fatalf("unit %d, completeness %+v", *res.Unit, e.Completeness)
	}
}

// TCAV's examples: a text model reads a list of words or phrases, one a
// line, as token-id rows padded in front (as EncodeText pads); a folder that is not images is refused.
func TestReadExamples(t *testing.T) {
	v, err := datasets.BuildVocab([]string{"a good film", "a bad film", "a dull plot"}, datasets.VocabOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := &Predictor{Task: Classification, Kind: explain.Text, InputShape: []int{4}, Prep: Preprocessing{Vocab: v, SeqLen: 4}}
	dir := t.TempDir()
	words := filepath.Join(dir, "dull.txt")
	os.WriteFile(words, []byte("dull\n\n dull plot \nbad\n"), 0o644)
	x, err := p.ReadExamples(words)
	if err != nil {
		t.Fatal(err)
	}
	if len(x) != 3*4 || x[3] != float32(v.ID("dull")) || x[6] != float32(v.ID("dull")) || x[7] != float32(v.ID("plot")) || x[11] != float32(v.ID("bad")) || x[0] != 0 {
		t.Fatalf("examples %v", x)
	}
	if _, err := p.ReadExamples(dir); err == nil || !strings.Contains(err.Error(), "folder") {
		t.Fatalf("a folder for a text model: %v", err)
	}
	img := &Predictor{Task: Classification, Kind: explain.Image, InputShape: []int{1, 4, 4}}
	if _, err := img.ReadExamples(dir); err == nil || !strings.Contains(err.Error(), "no .png") {
		t.Fatalf("a folder without images: %v", err)
	}
}
