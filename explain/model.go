package explain

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"
)

// Func is a black-box batch model: x holds n inputs of dim float32 features
// each, row-major; it returns n×k outputs, row-major (class probabilities for
// classification, k=1 value for regression). explain calls it from one
// goroutine at a time and never keeps x after it returns, so the model may
// read x in place.
type Func func(ctx context.Context, x []float32, n int) ([]float32, error)

// TextFunc is Func for text models: it returns len(docs)×k outputs.
type TextFunc func(ctx context.Context, docs []string) ([]float32, error)

// Mode says what the model's outputs are.
type Mode string

const (
	// Classification: outputs are class probabilities; explanations are
	// per class.
	Classification Mode = "classification"
	// Regression: outputs are values (usually k=1).
	Regression Mode = "regression"
)

// Timing records where an explanation spent its time. Model is the time
// inside the model's calls; everything else (sampling, masking, distances,
// the surrogate fit) is overhead.
type Timing struct {
	Total      time.Duration `json:"total_ns"`
	Model      time.Duration `json:"model_ns"`
	ModelCalls int           `json:"model_calls"`
	ModelRows  int           `json:"model_rows"`
}

// Overhead is the time spent outside the model.
func (t Timing) Overhead() time.Duration { return t.Total - t.Model }

// OverheadShare is Overhead as a fraction of Total (0 when Total is 0).
func (t Timing) OverheadShare() float64 {
	if t.Total <= 0 {
		return 0
	}
	return float64(t.Overhead()) / float64(t.Total)
}

// outputs accumulates model outputs batch by batch, checking their count,
// width and finiteness, and timing the calls.
type outputs struct {
	what   string // e.g. "lime tabular" for messages
	y      []float32
	k      int
	timing *Timing
}

// add runs call (which returns the outputs for rows [lo, lo+rows)) and
// appends its result.
func (o *outputs) add(rows, lo int, call func() ([]float32, error)) error {
	start := time.Now()
	out, err := call()
	o.timing.Model += time.Since(start)
	o.timing.ModelCalls++
	o.timing.ModelRows += rows
	if err != nil {
		return fmt.Errorf("%s: model failed on a batch of %d perturbed inputs (rows %d..%d): %w", o.what, rows, lo, lo+rows-1, err)
	}
	if len(out) == 0 || len(out)%rows != 0 {
		return fmt.Errorf("%s: model returned %d values for a batch of %d inputs; want a multiple of %d (n×k outputs, row-major)", o.what, len(out), rows, rows)
	}
	k := len(out) / rows
	if o.k == 0 {
		o.k = k
	} else if k != o.k {
		return fmt.Errorf("%s: model returned %d outputs per input for rows %d.., %d for earlier rows; it must return the same k every call", o.what, k, lo, o.k)
	}
	for i, v := range out {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("%s: model returned %v for perturbed input %d, output %d; the model must return finite values", o.what, v, lo+i/k, i%k)
		}
	}
	o.y = append(o.y, out...)
	return nil
}

// pickLabels resolves which outputs to explain: the requested labels, or
// the top `top` outputs of the instance's prediction (row0), or output 0 for
// regression.
func pickLabels(what string, mode Mode, row0 []float32, labels []int, top int) ([]int, error) {
	k := len(row0)
	if len(labels) > 0 {
		seen := map[int]bool{}
		for _, l := range labels {
			if l < 0 || l >= k {
				return nil, fmt.Errorf("%s: label %d out of range: the model returns %d outputs (labels 0..%d)", what, l, k, k-1)
			}
			if seen[l] {
				return nil, fmt.Errorf("%s: label %d requested twice", what, l)
			}
			seen[l] = true
		}
		return append([]int(nil), labels...), nil
	}
	if mode == Regression {
		return []int{0}, nil
	}
	if top <= 0 {
		top = 1
	}
	top = min(top, k)
	order := make([]int, k)
	for i := range order {
		order[i] = i
	}
	// Descending output; the stable sort keeps ties in label order.
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(row0[b], row0[a]) })
	return append([]int(nil), order[:top]...), nil
}
