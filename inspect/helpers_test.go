package inspect

import (
	"context"
	"image"
	"image/color"
	"testing"

	"github.com/glassbox-ml/glassbox/data"
	"github.com/glassbox-ml/glassbox/datasets"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/optim"
	"github.com/glassbox-ml/glassbox/train"
)

func rgbaAt(img image.Image, x, y int) color.RGBA {
	return color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
}

// digitsSplit loads the embedded 8×8 digits table, split 80/20 with seed 1
// and standardised on the training part.
func digitsSplit(t *testing.T) (tr, te *data.Tensors) {
	t.Helper()
	ds, err := datasets.Load(context.Background(), "digits", datasets.Options{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	all, err := data.FromTable(ds.Table)
	if err != nil {
		t.Fatal(err)
	}
	a, b, err := data.Split(all, 0.2, 1)
	if err != nil {
		t.Fatal(err)
	}
	st, err := data.FitStandardizer(a)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*data.Tensors, 2)
	for i, part := range []data.Dataset{a, b} {
		x, y := data.Materialize(part)
		st.Apply(x.Data())
		if out[i], err = data.NewTensors(x, y); err != nil {
			t.Fatal(err)
		}
	}
	return out[0], out[1]
}

// fit trains m for a classification task with Adam, quietly.
func fit(t *testing.T, m nn.Module, ds data.Dataset, classes, epochs int, lr float64) {
	t.Helper()
	opt, err := optim.NewAdam(m.Params(), lr)
	if err != nil {
		t.Fatal(err)
	}
	l, err := data.NewLoader(ds, data.Options{BatchSize: 32, Shuffle: true, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := train.Fit(context.Background(), m, l, train.Config{Epochs: epochs, Optimizer: opt, Classes: classes, Seed: 1, Quiet: true}); err != nil {
		t.Fatal(err)
	}
}
