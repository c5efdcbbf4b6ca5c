package predictor_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/data"
	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/optim"
	"github.com/glassbox-ml/glassbox/predictor"
	"github.com/glassbox-ml/glassbox/tensor"
	"github.com/glassbox-ml/glassbox/train"
)

// The whole path, one step a line: tensors, a tape that differentiates,
// a Sequential network, a loader, the fit loop, a saved file, and the
// predictor that predicts and explains in the data's own units.
func Example() {
	ctx := context.Background()

	// A tape records operations and differentiates them: d(Σx²)/dx = 2x.
	tp := autograd.NewTape()
	v := autograd.Input(tensor.MustFromSlice([]float32{1, 2, 3}, 3))
	if err := tp.Backward(tp.Sum(tp.Mul(v, v), false)); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("gradient of Σx²:", v.Grad.Data())

	// Loans: approve (class 1) when income − debt > 20, in thousands.
	rng := tensor.NewRNG(1)
	const n = 400
	xs, ys := make([]float32, 2*n), make([]float32, n)
	for i := range n {
		income, debt := 20+80*rng.Float32(), 40*rng.Float32()
		xs[2*i], xs[2*i+1] = income, debt
		if income-debt > 20 {
			ys[i] = 1
		}
	}
	// Standardise as the network will see it, and remember how.
	mean, std := []float32{60, 20}, []float32{23, 11.5}
	zs := append([]float32(nil), xs...)
	(&data.Standardizer{Mean: mean, Std: std}).Apply(zs)
	ds, err := data.NewTensors(tensor.MustFromSlice(zs, n, 2), tensor.MustFromSlice(ys, n))
	if err != nil {
		fmt.Println(err)
		return
	}
	loader, err := data.NewLoader(ds, data.Options{BatchSize: 32, Shuffle: true, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	net := nn.NewSequential(nn.NewLinear(2, 16, rng), nn.NewReLU(), nn.NewLinear(16, 2, rng))
	opt, err := optim.NewAdam(net.Params(), 0.02)
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := train.Fit(ctx, net, loader, train.Config{Epochs: 30, Optimizer: opt, Classes: 2, Quiet: true}); err != nil {
		fmt.Println(err)
		return
	}

	// Save with what the network needs to be used: task, classes, input
	// shape and the standardisation; load it back as a predictor.
	dir, _ := os.MkdirTemp("", "glassbox-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "loans.gbx")
	meta := model.Meta{Task: "classification", Classes: []string{"no", "yes"}, InputShape: []int{2},
		Features: []string{"income", "debt"}, Mean: mean, Std: std}
	if err := model.Save(path, net, meta); err != nil {
		fmt.Println(err)
		return
	}
	p, err := predictor.Load(path)
	if err != nil {
		fmt.Println(err)
		return
	}

	// Predict and explain in the data's own units (thousands), not the
	// standardised ones. Integrated gradients compare the applicant with
	// the average one (the standardisation's mean).
	applicant := []float32{90, 30} // debt above the average: it counts against
	preds, err := p.Predict(ctx, tensor.MustFromSlice(applicant, 1, 2))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("decision:", preds[0].Label)
	res, err := p.Explain(ctx, "ig", applicant, explain.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("integrated gradients: %s %s, %s %s; completeness within 1%%: %v\n",
		res.Top[0].Name, sign(res.Top[0].Weight), res.Top[1].Name, sign(res.Top[1].Weight), res.Quality["completeness_residual"] < 0.01)
	// Output:
	// gradient of Σx²: [2 4 6]
	// decision: yes
	// integrated gradients: income raises, debt lowers; completeness within 1%: true
}

func sign(w float64) string {
	if w > 0 {
		return "raises"
	}
	return "lowers"
}

// Train from a recipe: the data SPEC, its splits and seed, the model and
// the schedule, all recorded in the predictor (and so in its file), so
// that evaluation and explanations reuse the model's own splits.
func ExampleTrain() {
	ctx := context.Background()
	t, err := predictor.Train(ctx, predictor.Recipe{Data: "iris", Model: "linear", Epochs: 40, Batch: 16, LR: 0.05, Seed: 1},
		predictor.TrainOptions{Quiet: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d training, %d validation, %d test rows\n", t.Data.Train.Len(), t.Data.Val.Len(), t.Data.Test.Len())
	fmt.Println("test accuracy ≥ 0.9:", t.Test.Accuracy() >= 0.9)

	// LIME and Kernel SHAP sample from the model's own training rows.
	if err := t.LoadBackground(ctx, ""); err != nil {
		fmt.Println(err)
		return
	}
	flower := []float32{6.7, 3.0, 5.2, 2.3} // sepal and petal length and width, cm
	res, err := t.Explain(ctx, "kernelshap", flower, explain.Options{Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.LabelName, "| Shapley values add up:", res.Quality["sum_error"] < 1e-6)
	// Output:
	// 108 training, 12 validation, 30 test rows
	// test accuracy ≥ 0.9: true
	// virginica | Shapley values add up: true
}
