package serve

import (
	"fmt"
	"math"
	"net/http"
	"strconv"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/predictor"
	"github.com/glassbox-ml/glassbox/tensor"
)

// FeatureStat is one table column's range over the model's training rows
// (Predictor.Background), in the data's own units: the page shows it next
// to the column's field and bounds its slider with it.
type FeatureStat struct {
	Name string  `json:"name"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// featureStats summarises the columns of the rows (n × len(names)); nil
// when there are no rows.
func featureStats(rows []float32, names []string, dim int) []FeatureStat {
	if dim == 0 || len(rows) < dim {
		return nil
	}
	n := len(rows) / dim
	stats := make([]FeatureStat, dim)
	for j := range dim {
		st := FeatureStat{Name: fmt.Sprintf("x%d", j), Min: math.Inf(1), Max: math.Inf(-1)}
		if j < len(names) {
			st.Name = names[j]
		}
		var sum float64
		for i := range n {
			v := float64(rows[i*dim+j])
			st.Min, st.Max = math.Min(st.Min, v), math.Max(st.Max, v)
			sum += v
		}
		st.Mean = sum / float64(n)
		stats[j] = st
	}
	return stats
}

// Example is the answer of GET /v1/example?index=I: one of the inputs the
// server offers to load.
type Example struct {
	Index int `json:"index"`
	// Count is how many examples there are (indices 0 to Count-1).
	Count int `json:"count"`
	// Source says where they come from: "test split" (Options.Examples)
	// or "training rows" (a table model's Background).
	Source string `json:"source"`
	// Input is the example in the data's own units: a table row, or an
	// image's C·H·W pixels in [0, 1].
	Input []float32 `json:"input"`
	// Target is its true class index or value, when known; Label names
	// the class.
	Target *float64 `json:"target,omitempty"`
	Label  string   `json:"label,omitempty"`
}

// examples returns the rows the server offers, their targets (nil when
// unknown) and where they come from.
func (s *Server) examples() (rows, targets []float32, source string) {
	if len(s.opt.Examples) > 0 {
		return s.opt.Examples, s.opt.ExampleTargets, "test split"
	}
	if s.p.Kind == explain.Table && len(s.p.Background) > 0 {
		return s.p.Background, nil, "training rows"
	}
	return nil, nil, ""
}

// exampleCount is the number of examples the page may ask for.
func (s *Server) exampleCount() int {
	rows, _, _ := s.examples()
	return len(rows) / max(1, tensor.Numel(s.p.InputShape))
}

// checkExamples checks Options.Examples and ExampleTargets against the
// model's input size.
func checkExamples(opts Options, dim int) error {
	if len(opts.Examples)%dim != 0 {
		return fmt.Errorf("serve: Options.Examples holds %d values, not a whole number of inputs of %d values", len(opts.Examples), dim)
	}
	if n := len(opts.Examples) / dim; opts.ExampleTargets != nil && len(opts.ExampleTargets) != n {
		return fmt.Errorf("serve: Options.ExampleTargets holds %d targets for %d examples; give one per example or none", len(opts.ExampleTargets), n)
	}
	return nil
}

func (s *Server) example(w http.ResponseWriter, r *http.Request) error {
	rows, targets, source := s.examples()
	dim := tensor.Numel(s.p.InputShape)
	n := len(rows) / max(1, dim)
	if n == 0 {
		return httpErrorf(http.StatusNotFound, "this server holds no examples; start it with the model's data (glassbox serve --data SPEC) to offer test inputs")
	}
	q := r.URL.Query().Get("index")
	i, err := strconv.Atoi(q)
	if err != nil || i < 0 || i >= n {
		return httpErrorf(http.StatusBadRequest, "index %q: want an integer from 0 to %d, e.g. /v1/example?index=0", q, n-1)
	}
	ex := Example{Index: i, Count: n, Source: source, Input: rows[i*dim : (i+1)*dim]}
	if targets != nil {
		t := float64(targets[i])
		ex.Target = &t
		if c := int(t); s.p.Task == predictor.Classification && float64(c) == t && c >= 0 && c < len(s.p.Classes) {
			ex.Label = s.p.Classes[c]
		}
	}
	return writeJSON(w, http.StatusOK, ex)
}
