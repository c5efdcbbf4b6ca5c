package explain

import (
	"context"
	"fmt"
	"math"
)

func init() { Register(shapleySamplingMethod{}) }

// ShapleySamplingExplanation is a Shapley value sampling result: each
// player's mean marginal contribution over random orderings, with its
// standard error.
type ShapleySamplingExplanation struct {
	Method string   `json:"method"`
	Label  int      `json:"label"`
	Names  []string `json:"names"`
	// Values are the estimated Shapley values; StdErrors their standard
	// errors over the permutations (the sampling error: the exact values
	// lie within about two of them).
	Values    []float64 `json:"values"`
	StdErrors []float64 `json:"std_errors"`
	// Permutations is the number of orderings walked; References the
	// number of reference inputs they started from, in turn.
	Permutations int `json:"permutations"`
	References   int `json:"references"`
	// ModelOutput is f(x); BaseValue the mean of f over the references.
	// The values add up to ModelOutput − BaseValue, exactly when each
	// reference began equally many orderings.
	ModelOutput float64 `json:"model_output"`
	BaseValue   float64 `json:"base_value"`
}

// SumError is |Σ values − (f(x) − E f(references))|.
func (e *ShapleySamplingExplanation) SumError() float64 {
	var s float64
	for _, v := range e.Values {
		s += v
	}
	return math.Abs(s - (e.ModelOutput - e.BaseValue))
}

// shapleySampling estimates the Shapley values of players p for output
// label at x (Castro et al. 2009, as Captum's ShapleyValueSampling): each
// of perms random orderings starts from a reference (refs taken in turn)
// and adds the players one by one in that order; a player's value is the
// mean change of the output when it joins. Ordering i is drawn from its
// own random stream, so the result does not depend on batching.
func shapleySampling(ctx context.Context, f Func, x []float32, label int, p players, refs [][]float32, perms int, seed uint64) (*ShapleySamplingExplanation, error) {
	const what = "shapley sampling"
	dim, n, R := len(x), len(p.groups), len(refs)
	e := &ShapleySamplingExplanation{Method: "shapleysampling", Label: label, Names: p.names,
		Values: make([]float64, n), StdErrors: make([]float64, n), Permutations: perms, References: R}
	orders := make([][]int, perms)
	for i := range orders {
		o := make([]int, n)
		for j := range o {
			o[j] = j
		}
		shuffle(subStream(seed, streamOther, uint64(i)), o)
		orders[i] = o
	}
	// The model sees, per ordering, n+1 inputs: the reference, then one
	// more player switched to x's values each time. Then each reference
	// once, for the base value, and x.
	walk := n + 1
	total := perms*walk + R + 1
	sum, sumSq := make([]float64, n), make([]float64, n)
	var prev, base float64
	err := evalRows(ctx, f, what, total, dim, label, func(i int, row []float32) {
		switch {
		case i >= perms*walk+R:
			copy(row, x)
		case i >= perms*walk:
			copy(row, refs[i-perms*walk])
		default:
			o, k := i/walk, i%walk
			copy(row, refs[o%R])
			for _, g := range orders[o][:k] {
				for _, j := range p.groups[g] {
					row[j] = x[j]
				}
			}
		}
	}, func(i int, out []float32) {
		y := float64(out[label])
		switch {
		case i >= perms*walk+R:
			e.ModelOutput = y
		case i >= perms*walk:
			base += y
		default:
			o, k := i/walk, i%walk
			if k > 0 {
				g := orders[o][k-1]
				d := y - prev
				sum[g] += d
				sumSq[g] += d * d
			}
			prev = y
		}
	})
	if err != nil {
		return nil, err
	}
	e.BaseValue = base / float64(R)
	P := float64(perms)
	for g := range n {
		m := sum[g] / P
		e.Values[g] = m
		if perms > 1 {
			e.StdErrors[g] = math.Sqrt(max(0, (sumSq[g]-P*m*m)/(P-1)) / P)
		}
	}
	return e, nil
}

// shapleySamplingMethod registers Shapley value sampling.
type shapleySamplingMethod struct{}

// shapleyReferences is how many training rows the orderings of a table
// start from, in turn.
const shapleyReferences = 50

func (shapleySamplingMethod) Info() MethodInfo {
	return MethodInfo{Name: "shapleysampling", Title: "Shapley value sampling",
		Summary: "Shapley values of the features (columns, or superpixels) as mean marginal contributions over random orderings, each with its standard error",
		Inputs:  []InputKind{Table, Image}, Needs: NeedsBackground,
		Budget: "random orderings", DefaultBudget: "200 (tables), 10 (images: each is a pass over every superpixel)"}
}

func (shapleySamplingMethod) Explain(ctx context.Context, s *Subject, x []float32, opt Options, res *Result) error {
	var p players
	var refs [][]float32
	perms := opt.Samples
	if s.Kind == Image {
		var hidden []float32
		var err error
		if p, hidden, err = superpixelPlayers(s, x); err != nil {
			return err
		}
		refs = [][]float32{hidden}
		if perms == 0 {
			perms = 10
		}
	} else {
		d := s.Dim()
		var err error
		if p, err = columnPlayers(d, s.FeatureNames, nil); err != nil {
			return err
		}
		rows := BackgroundRows(s.Background, d, shapleyReferences, opt.Seed)
		for r := 0; r < len(rows)/d; r++ {
			refs = append(refs, rows[r*d:(r+1)*d])
		}
		if perms == 0 {
			perms = 200
		}
	}
	if perms < 2 {
		return fmt.Errorf("shapleysampling: %d ordering gives no standard error; ask for at least 2 (--samples)", perms)
	}
	e, err := shapleySampling(ctx, s.Predict, x, res.Label, p, refs, perms, opt.Seed)
	if err != nil {
		return err
	}
	res.Details, res.Samples = e, perms
	setPlayerResult(res, s, p, e.Values)
	res.Quality["sum_error"] = e.SumError()
	var worst float64
	for _, se := range e.StdErrors {
		worst = max(worst, se)
	}
	res.Quality["max_std_error"] = worst
	return nil
}

// ShapleyValueSampling estimates the Shapley values of the columns (or
// groups of columns; nil: one per column) of table row x for model output
// label, over perms random orderings that start from the rows of
// references ([rows × d], taken in turn; one row is a single baseline).
func ShapleyValueSampling(ctx context.Context, model Func, x, references []float32, label int, groups [][]int, names []string, perms int, seed uint64) (*ShapleySamplingExplanation, error) {
	d := len(x)
	if model == nil || d == 0 || len(references) < d || len(references)%d != 0 || label < 0 || perms < 2 {
		return nil, fmt.Errorf("shapley sampling: want a model, a row, reference rows of the row's %d values, a label ≥ 0 and at least 2 orderings (got %d reference values, label %d, %d orderings)", d, len(references), label, perms)
	}
	p, err := columnPlayers(d, names, groups)
	if err != nil {
		return nil, fmt.Errorf("shapley sampling: %w", err)
	}
	refs := make([][]float32, len(references)/d)
	for r := range refs {
		refs[r] = references[r*d : (r+1)*d]
	}
	return shapleySampling(ctx, model, x, label, p, refs, perms, seed)
}
