package explain_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/glassbox-ml/glassbox/explain"
)

// A loan model approves applicants with high income and low debt and
// ignores age. Tabular LIME explains one decision: which conditions on the
// applicant's features drove it, how well the local surrogate fits, and
// whether its prediction at the applicant matches the model's. The default
// kernel width fits loosely and says so; AutoKernelWidth picks a narrower
// kernel that fits better.
func ExampleTabular_Explain() {
	r := rand.New(rand.NewPCG(1, 2))
	const n, d = 500, 3
	train := make([]float32, n*d) // income (k$), debt ratio, age
	for i := range n {
		train[i*d] = float32(40 + 15*r.NormFloat64())
		train[i*d+1] = float32(0.3 + 0.1*r.NormFloat64())
		train[i*d+2] = float32(45 + 12*r.NormFloat64())
	}
	model := func(_ context.Context, x []float32, rows int) ([]float32, error) {
		out := make([]float32, 2*rows)
		for i := range rows {
			s := 0.1*(float64(x[i*d])-40) - 20*(float64(x[i*d+1])-0.3)
			p := 1 / (1 + math.Exp(-s))
			out[2*i], out[2*i+1] = float32(1-p), float32(p)
		}
		return out, nil
	}
	ex, err := explain.NewTabular(train, d, explain.TabularConfig{
		FeatureNames: []string{"income", "debt", "age"},
		ClassNames:   []string{"reject", "approve"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	applicant := []float32{55, 0.22, 33}
	for _, auto := range []bool{false, true} {
		e, err := ex.Explain(context.Background(), model, applicant, explain.TabularOptions{LIMEOptions: explain.LIMEOptions{Seed: 7, NumFeatures: 3, AutoKernelWidth: auto}})
		if err != nil {
			fmt.Println(err)
			return
		}
		le := e.Labels[0]
		fmt.Printf("kernel width %.2f: %s: model %.2f, surrogate %.2f, weighted R² %.2f\n", e.KernelWidth, le.Name, le.ModelPrediction, le.LocalPrediction, le.Score)
		for _, fw := range le.Weights {
			fmt.Printf("  %-18s %+.2f\n", fw.Name, math.Round(fw.Weight*100)/100+0) // +0 turns -0 into 0
		}
		for _, w := range e.Quality.Warnings {
			fmt.Println("  warning:", w)
		}
	}
	// Output:
	// kernel width 1.30: approve: model 0.96, surrogate 1.11, weighted R² 0.56
	//   debt <= 0.2344     +0.45
	//   income > 52.27     +0.36
	//   age <= 37.29       +0.00
	//   warning: label 1: the surrogate predicts 1.111 at the instance where the model gives 0.9569; read its weights with care, or try AutoKernelWidth
	// kernel width 0.65: approve: model 0.96, surrogate 1.05, weighted R² 0.58
	//   debt <= 0.2344     +0.40
	//   income > 52.27     +0.31
	//   age <= 37.29       +0.00
}

// Kernel SHAP on a linear model gives w_i·(x_i − E[x_i]) exactly, and the
// attributions add up to f(x) − E[f(background)].
func ExampleKernelSHAP_Explain() {
	background := []float32{ // 4 rows of 3 features
		0, 1, 2,
		2, 1, 0,
		1, 3, 1,
		1, -1, 1,
	}
	model := func(_ context.Context, x []float32, n int) ([]float32, error) {
		out := make([]float32, n)
		for i := range n {
			out[i] = 2*x[3*i] - x[3*i+1] + 0.5*x[3*i+2]
		}
		return out, nil
	}
	ks, err := explain.NewKernelSHAP(background, 3, []string{"a", "b", "c"})
	if err != nil {
		fmt.Println(err)
		return
	}
	e, err := ks.Explain(context.Background(), model, []float32{3, 0, 1}, explain.KernelSHAPOptions{Mode: explain.Regression})
	if err != nil {
		fmt.Println(err)
		return
	}
	l := e.Labels[0]
	sum := 0.0
	for j, v := range l.Values {
		fmt.Printf("%s %+.3f\n", e.FeatureNames[j], v)
		sum += v
	}
	fmt.Printf("exact %v: f(x) %.2f = E[f] %.2f + Σφ %.2f\n", e.Exact, l.ModelOutput, l.BaseValue, sum)
	// Output:
	// a +4.000
	// b +1.000
	// c +0.000
	// exact true: f(x) 6.50 = E[f] 1.50 + Σφ 5.00
}

// Text LIME finds the words a sentiment model reads.
func ExampleExplainText() {
	model := func(_ context.Context, docs []string) ([]float32, error) {
		out := make([]float32, 2*len(docs))
		for i, doc := range docs {
			s := -1.0
			for _, w := range strings.Fields(doc) {
				switch strings.Trim(w, ",.!") {
				case "wonderful":
					s += 2
				case "boring":
					s -= 2
				}
			}
			p := 1 / (1 + math.Exp(-s))
			out[2*i], out[2*i+1] = float32(1-p), float32(p)
		}
		return out, nil
	}
	e, err := explain.ExplainText(context.Background(), model, "A wonderful cast, a boring plot, a wonderful score.",
		explain.TextOptions{LIMEOptions: explain.LIMEOptions{Seed: 1, NumFeatures: 2}, ClassNames: []string{"negative", "positive"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, fw := range e.Labels[0].Weights {
		fmt.Printf("%s for %s: %+.2f\n", fw.Name, e.Labels[0].Name, fw.Weight)
	}
	// Output:
	// wonderful for positive: +0.68
	// boring for positive: -0.22
}
