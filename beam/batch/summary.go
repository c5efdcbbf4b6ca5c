package batch

import (
	"cmp"
	"slices"

	"github.com/glassbox-ml/glassbox/explain"
)

// Summary is the summaries output: one JSON object over all explained
// rows, whatever the sharding (sums are float64, so figures may differ in
// the last bits between runs that add them in another order).
type Summary struct {
	// Importance is each feature's mean |weight| over all rows (a row
	// whose explanation leaves a feature out counts 0 for it).
	Importance Importance `json:"importance"`
	// Classes is Importance over the rows of each explained class.
	Classes map[string]Importance `json:"classes"`
	// Quality counts the explanations whose quality figures are poor.
	Quality PoorShare `json:"quality"`
	// Pick is the SP-LIME pick of the most representative explanations.
	Pick Pick `json:"sp_lime"`
}

// Importance is the mean |weight| of each feature over Rows rows, largest
// first.
type Importance struct {
	Rows     int                 `json:"rows"`
	Features []FeatureImportance `json:"features"`
}

// FeatureImportance is one feature's mean |weight|.
type FeatureImportance struct {
	Feature       string  `json:"feature"`
	MeanAbsWeight float64 `json:"mean_abs_weight"`
}

// importanceAcc sums |weights| per feature.
type importanceAcc struct {
	Rows int
	Sum  map[string]float64
}

// importanceFn combines contributions into Importance.
type importanceFn struct{}

func (importanceFn) CreateAccumulator() importanceAcc {
	return importanceAcc{Sum: map[string]float64{}}
}

func (importanceFn) AddInput(a importanceAcc, c Contribution) importanceAcc {
	if c.ID == "" { // the empty contribution that makes an empty input summarise
		return a
	}
	if a.Sum == nil {
		a.Sum = map[string]float64{}
	}
	a.Rows++
	for i, k := range c.Keys {
		a.Sum[k] += abs(c.Weights[i])
	}
	return a
}

func (importanceFn) MergeAccumulators(a, b importanceAcc) importanceAcc {
	if a.Sum == nil {
		a.Sum = map[string]float64{}
	}
	a.Rows += b.Rows
	for k, v := range b.Sum {
		a.Sum[k] += v
	}
	return a
}

func (importanceFn) ExtractOutput(a importanceAcc) Importance {
	out := Importance{Rows: a.Rows, Features: []FeatureImportance{}}
	for k, v := range a.Sum {
		out.Features = append(out.Features, FeatureImportance{Feature: k, MeanAbsWeight: v / float64(a.Rows)})
	}
	slices.SortFunc(out.Features, func(x, y FeatureImportance) int {
		return cmp.Or(cmp.Compare(y.MeanAbsWeight, x.MeanAbsWeight), cmp.Compare(x.Feature, y.Feature))
	})
	return out
}

// ClassImportance is one class's Importance, on its way to Summary.Classes.
type ClassImportance struct {
	Class      string
	Importance Importance
}

// Classes is Importance per class (a map wrapped in a struct, as Beam
// coders want).
type Classes struct {
	ByClass map[string]Importance
}

// classesFn gathers the per-class importances into one map.
type classesFn struct{}

func (classesFn) CreateAccumulator() Classes { return Classes{ByClass: map[string]Importance{}} }

func (classesFn) AddInput(a Classes, c ClassImportance) Classes {
	if a.ByClass == nil {
		a.ByClass = map[string]Importance{}
	}
	if c.Class != "" {
		a.ByClass[c.Class] = c.Importance
	}
	return a
}

func (classesFn) MergeAccumulators(a, b Classes) Classes {
	if a.ByClass == nil {
		a.ByClass = map[string]Importance{}
	}
	for k, v := range b.ByClass {
		a.ByClass[k] = v
	}
	return a
}

// PoorShare counts the explanations whose quality figures are poor.
type PoorShare struct {
	Rows  int     `json:"rows"`
	Poor  int     `json:"poor"`
	Share float64 `json:"share"`
}

// poorFn combines contributions into PoorShare.
type poorFn struct{}

func (poorFn) CreateAccumulator() PoorShare { return PoorShare{} }

func (poorFn) AddInput(a PoorShare, c Contribution) PoorShare {
	if c.ID == "" {
		return a
	}
	a.Rows++
	if c.Poor {
		a.Poor++
	}
	return a
}

func (poorFn) MergeAccumulators(a, b PoorShare) PoorShare {
	a.Rows += b.Rows
	a.Poor += b.Poor
	return a
}

func (poorFn) ExtractOutput(a PoorShare) PoorShare {
	if a.Rows > 0 {
		a.Share = float64(a.Poor) / float64(a.Rows)
	}
	return a
}

// Pick is an SP-LIME pick (explain.SubmodularPick) over the explained
// rows: the ids of the explanations that together cover the globally
// important features, in the order greedy chose them.
type Pick struct {
	// Candidates is how many rows the pick chose from: all rows, or the
	// PickCandidates whose ids hash lowest.
	Candidates int       `json:"candidates"`
	IDs        []string  `json:"ids"`
	Coverage   []float64 `json:"coverage"`
	// Importance is SP-LIME's global importance, sqrt(Σ|weight|) over the
	// candidates, per feature.
	Importance map[string]float64 `json:"importance"`
}

// pickAcc holds the candidates of the pick: the rows whose ids hash
// lowest, so that which rows take part depends only on their ids, not on
// the sharding (a bottom-k sample).
type pickAcc struct {
	Cands []Contribution
}

// pickFn combines contributions into an SP-LIME Pick of Budget rows among
// at most Candidates.
type pickFn struct {
	Budget, Candidates int
}

func pickRank(id string) uint64 { return explain.RowSeed(0, id) }

func byRank(x, y Contribution) int {
	return cmp.Or(cmp.Compare(pickRank(x.ID), pickRank(y.ID)), cmp.Compare(x.ID, y.ID))
}

func (f pickFn) CreateAccumulator() pickAcc { return pickAcc{} }

func (f pickFn) AddInput(a pickAcc, c Contribution) pickAcc {
	if c.ID == "" {
		return a
	}
	a.Cands = append(a.Cands, c)
	if len(a.Cands) > 2*f.Candidates {
		a = f.trim(a)
	}
	return a
}

func (f pickFn) trim(a pickAcc) pickAcc {
	slices.SortFunc(a.Cands, byRank)
	a.Cands = a.Cands[:min(len(a.Cands), f.Candidates)]
	return a
}

func (f pickFn) MergeAccumulators(a, b pickAcc) pickAcc {
	a.Cands = append(a.Cands, b.Cands...)
	return f.trim(a)
}

func (f pickFn) ExtractOutput(a pickAcc) Pick {
	return SPLimePick(f.trim(a).Cands, f.Budget)
}

// SPLimePick runs explain.SubmodularPick over the contributions, in order
// of id, with features numbered in the order of their sorted keys.
func SPLimePick(cands []Contribution, budget int) Pick {
	cands = slices.Clone(cands)
	slices.SortFunc(cands, func(x, y Contribution) int { return cmp.Compare(x.ID, y.ID) })
	pick := Pick{Candidates: len(cands), IDs: []string{}, Coverage: []float64{}, Importance: map[string]float64{}}
	var keys []string
	for _, c := range cands {
		keys = append(keys, c.Keys...)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	if len(cands) == 0 || len(keys) == 0 {
		return pick
	}
	index := make(map[string]int, len(keys))
	for i, k := range keys {
		index[k] = i
	}
	ws := make([][]explain.FeatureWeight, len(cands))
	for i, c := range cands {
		for j, k := range c.Keys {
			ws[i] = append(ws[i], explain.FeatureWeight{Feature: index[k], Name: k, Weight: c.Weights[j]})
		}
	}
	p, err := explain.SubmodularPick(ws, len(keys), budget)
	if err != nil { // only for a budget below 1, which the options refuse
		return pick
	}
	for _, i := range p.Indices {
		pick.IDs = append(pick.IDs, cands[i].ID)
	}
	pick.Coverage = p.Coverage
	for i, v := range p.Importance {
		pick.Importance[keys[i]] = v
	}
	return pick
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}
