package cli

import (
	"context"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/data"
	"github.com/glassbox-ml/glassbox/inspect"
	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/optim"
	"github.com/glassbox-ml/glassbox/predictor"
	"github.com/glassbox-ml/glassbox/report"
	"github.com/glassbox-ml/glassbox/tensor"
	"github.com/glassbox-ml/glassbox/train"
)

// tinyDigitCNN trains a two-convolution net on 3,000 embedded MNIST digits
// for two epochs (about a second) and saves it in dir.
func tinyDigitCNN(t *testing.T, dir string) (string, *predictor.Data) {
	t.Helper()
	ctx := context.Background()
	p, err := predictor.LoadData(ctx, predictor.Recipe{Data: "mnist-small", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	rng := tensor.NewRNG(1)
	m := nn.NewSequential(
		nn.NewConv2D(1, 4, 5, rng, nn.ConvPadding(2)), nn.NewReLU(), nn.NewMaxPool2D(2, 0, 0),
		nn.NewConv2D(4, 8, 3, rng), nn.NewReLU(), nn.NewMaxPool2D(2, 0, 0),
		nn.NewFlatten(), nn.NewLinear(8*6*6, 32, rng), nn.NewReLU(), nn.NewLinear(32, 10, rng))
	idx := make([]int, 3000)
	for i := range idx {
		idx[i] = i
	}
	opt, err := optim.NewAdam(m.Params(), 3e-3)
	if err != nil {
		t.Fatal(err)
	}
	l, err := data.NewLoader(&data.Subset{Base: p.Train, Indices: idx}, data.Options{BatchSize: 32, Shuffle: true, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := train.Fit(ctx, m, l, train.Config{Epochs: 2, Optimizer: opt, Classes: 10, Seed: 1, Quiet: true}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "tiny.gbx")
	meta := model.Meta{Task: "classification", Classes: p.Classes, InputShape: p.InputShape,
		Recipe: &model.Recipe{Data: "mnist-small", Seed: 1}}
	if err := model.Save(file, m, meta); err != nil {
		t.Fatal(err)
	}
	return file, p
}

func TestInspectImageModel(t *testing.T) {
	dir := t.TempDir()
	mdl, p := tinyDigitCNN(t, dir)
	out := filepath.Join(dir, "inspect")
	code, stdout, stderr := run(t, "inspect", "--model", mdl, "--data", "mnist-small", "--out", out, "--json", "--channels", "4", "--steps", "60")
	if code != 0 {
		t.Fatalf("inspect exit %d: %s", code, stderr)
	}
	var res inspectResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("inspect --json printed %q: %v", stdout, err)
	}
	names := []string{"summary.txt", "filters-conv2d0.png", "filters-conv2d3.png", "activations.png",
		"representation-input.png", "representation-relu8.png", "maximise-conv2d3.png"}
	if len(res.Files) != len(names) {
		t.Errorf("files %v, want %v", res.Files, names)
	}
	for _, n := range names {
		path := filepath.Join(out, n)
		if !slices.Contains(res.Files, path) {
			t.Errorf("%s is not listed in %v", n, res.Files)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(n, ".png") {
			img, err := png.Decode(f)
			if err != nil || img.Bounds().Dx() < 50 || img.Bounds().Dy() < 50 {
				t.Errorf("%s: %v, %v", n, err, img)
			}
		}
		f.Close()
	}
	sum, _ := os.ReadFile(filepath.Join(out, "summary.txt"))
	if !strings.Contains(string(sum), "conv2d3") || !strings.Contains(string(sum), "total parameters") {
		t.Errorf("summary.txt:\n%s", sum)
	}
	if res.Layers != 10 || len(res.Representations) != 2 {
		t.Fatalf("result %+v", res)
	}
	in, hid := res.Representations[0], res.Representations[1]
	if in.Layer != -1 || in.Dim != 784 || in.Points != 1000 || hid.Layer != 8 || hid.Dim != 32 || hid.Points != 1000 {
		t.Errorf("representations %+v and %+v", in, hid)
	}
	if in.Scores == nil || hid.Scores == nil || hid.Scores.Silhouette <= in.Scores.Silhouette || hid.Scores.CentroidAccuracy <= in.Scores.CentroidAccuracy {
		t.Errorf("separation at the input %+v, at the last hidden layer %+v: training should separate the digits", in.Scores, hid.Scores)
	}
	mx := res.Maximised
	if mx == nil || mx.Layer != 3 || len(mx.Channels) != 4 || len(mx.FinalCentre) != 4 {
		t.Fatalf("maximised %+v", mx)
	}
	for i := range mx.Channels {
		if mx.Final[i] <= mx.Grey[i] || mx.FinalCentre[i] <= mx.GreyCentre[i] {
			t.Errorf("channel %d: %v → %v (centre %v → %v): the synthetic input should excite it more than grey", i, mx.Grey[i], mx.Final[i], mx.GreyCentre[i], mx.FinalCentre[i])
		}
	}

	// An image file as --input, without --data: the activation maps of
	// that image, and the representations of the model's own test split
	// (its recipe says which data it was trained on).
	x := make([]float32, 784)
	p.Test.Read(3, x, make([]float32, 1))
	pic, _ := inspect.InputPicture(x, []int{1, 28, 28}, 1)
	digit := filepath.Join(dir, "digit.png")
	if err := report.WritePNG(digit, pic); err != nil {
		t.Fatal(err)
	}
	out2 := filepath.Join(dir, "one")
	code, stdout, stderr = run(t, "inspect", "--model", mdl, "--input", digit, "--out", out2, "--channels", "0")
	if code != 0 {
		t.Fatalf("inspect --input exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(out2, "activations.png")); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(filepath.Join(out2, "representation-input.png")); err != nil {
		t.Errorf("no representation plot from the model's own data: %v", err)
	}
	if !strings.Contains(stdout, "wrote "+filepath.Join(out2, "activations.png")) {
		t.Errorf("text output %q", stdout)
	}
}

func TestInspectTableAndErrors(t *testing.T) {
	dir := t.TempDir()
	mdl := filepath.Join(dir, "wine.gbx")
	if code, _, stderr := run(t, "train", "--data", "wine", "--model", "mlp", "--hidden", "16", "--epochs", "30", "--batch", "16", "--lr", "0.01", "--out", mdl, "--quiet"); code != 0 {
		t.Fatalf("train: %s", stderr)
	}
	out := filepath.Join(dir, "wine")
	code, stdout, stderr := run(t, "inspect", "--model", mdl, "--data", "wine", "--out", out)
	if code != 0 {
		t.Fatalf("inspect exit %d: %s", code, stderr)
	}
	// A table model has no filters and nothing to maximise; its 13
	// chemical measurements against its last hidden layer.
	for _, n := range []string{"summary.txt", "activations.png", "representation-input.png", "representation-relu4.png"} {
		if _, err := os.Stat(filepath.Join(out, n)); err != nil {
			t.Error(err)
		}
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 4 {
		t.Errorf("%d files in %s, want 4", len(entries), out)
	}
	if !strings.Contains(stdout, "13 dims") || !strings.Contains(stdout, "classes separate") {
		t.Errorf("text output:\n%s", stdout)
	}

	// A model that is not a Sequential: the summary and a warning.
	lin := filepath.Join(dir, "bare.gbx")
	if err := model.Save(lin, nn.NewLinear(13, 3, tensor.NewRNG(1)), model.Meta{Task: "classification", InputShape: []int{13}}); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = run(t, "inspect", "--model", lin, "--data", "wine", "--out", filepath.Join(dir, "bare"), "--json")
	var res inspectResult
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil || len(res.Files) != 1 || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "not a Sequential") {
		t.Errorf("bare Linear: exit %d, %q, %q", code, stdout, stderr)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--model", mdl}, 2, "--model and --out are required"},
		{[]string{"--model", mdl, "--out", out, "--samples", "1"}, 2, "at least 2 examples"},
		{[]string{"--model", mdl, "--out", out, "--data", "iris"}, 1, "the model takes inputs of shape [13], iris has [4]"},
		{[]string{"--model", filepath.Join(dir, "missing.gbx"), "--out", out}, 1, "missing.gbx"},
	} {
		code, _, stderr := run(t, append([]string{"inspect"}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("inspect %v: exit %d, %q; want exit %d and %q", c.args, code, stderr, c.code, c.want)
		}
	}
}
