// Command tables is classification with softmax on two tables: iris (3
// classes) and breast cancer (2 classes). An MLP is trained on 80% of each
// (standardised with training statistics) and the held-out accuracy, a
// confusion matrix and one example's class probabilities (which sum to 1)
// are printed.
//
//	go run ./examples/tables
package main

import (
	"context"
	"fmt"
	"log"

	"github.com/glassbox-ml/glassbox/data"
	"github.com/glassbox-ml/glassbox/datasets"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/optim"
	"github.com/glassbox-ml/glassbox/tensor"
	"github.com/glassbox-ml/glassbox/train"
)

func main() {
	ctx := context.Background()
	for _, name := range []string{"iris", "breast-cancer"} {
		ds, err := datasets.Load(ctx, name, datasets.Options{})
		if err != nil {
			log.Fatal(err)
		}
		tab := ds.Table
		all, _ := data.FromTable(tab)
		trIdx, teIdx, _ := data.Split(all, 0.2, 7)
		st, _ := data.FitStandardizer(trIdx)
		tr, te := scaled(trIdx, st), scaled(teIdx, st)
		rng := tensor.NewRNG(1)
		k := len(tab.Classes)
		m := nn.NewSequential(nn.NewLinear(tab.Cols, 32, rng), nn.NewReLU(), nn.NewLinear(32, k, rng))
		tl, _ := data.NewLoader(tr, data.Options{BatchSize: 16, Shuffle: true, Seed: 1})
		vl, _ := data.NewLoader(te, data.Options{BatchSize: 256})
		opt, _ := optim.NewAdam(m.Params(), 5e-3)
		h, err := train.Fit(ctx, m, tl, train.Config{Epochs: 40, Optimizer: opt, Classes: k, Val: vl, Quiet: true})
		if err != nil {
			log.Fatal(err)
		}
		met, _ := train.Evaluate(ctx, m, vl, train.Classification, k, nil)
		fmt.Printf("%s: %d features, classes %v\n  held-out accuracy %.1f%% (train %.1f%%)\n", name, tab.Cols, tab.Classes,
			100*h.Last().Val["accuracy"], 100*h.Last().Train["accuracy"])
		fmt.Print(met.ConfusionString(tab.Classes))
		x, _ := data.Materialize(te)
		logits, _ := nn.Predict(m, x.Slice(0, 0, 1))
		probs := tensor.Softmax(logits, -1).Data()
		var sum float32
		for _, p := range probs {
			sum += p
		}
		fmt.Printf("  first held-out row: probabilities %.3f (sum %.6f)\n", probs, sum)
	}
}

func scaled(part data.Dataset, st *data.Standardizer) *data.Tensors {
	x, y := data.Materialize(part)
	st.Apply(x.Data())
	t, _ := data.NewTensors(x, y)
	return t
}
