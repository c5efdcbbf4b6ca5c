package explain

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"
)

// Stability measures how much an explanation depends on its random seed:
// it runs explain once per seed and returns the mean, over all pairs of
// seeds, of the Jaccard index of their top-k feature sets (by |weight|).
// 1 means every seed names the same k features.
//
// explain typically wraps one method on one instance, e.g.
//
//	func(ctx context.Context, seed uint64) ([]FeatureWeight, error) {
//		e, err := tab.Explain(ctx, model, x, TabularOptions{Seed: seed})
//		if err != nil {
//			return nil, err
//		}
//		return e.Labels[0].Weights, nil
//	}
//
// Explanations run one after another, so the model need not be safe for
// concurrent use.
func Stability(ctx context.Context, explain func(ctx context.Context, seed uint64) ([]FeatureWeight, error), seeds []uint64, k int) (float64, error) {
	if explain == nil {
		return 0, fmt.Errorf("stability: explain function is nil")
	}
	if len(seeds) < 2 {
		return 0, fmt.Errorf("stability: %d seeds; need at least 2 to compare", len(seeds))
	}
	if k < 1 {
		return 0, fmt.Errorf("stability: k is %d; compare the top k ≥ 1 features", k)
	}
	sets := make([][]int, len(seeds))
	for i, s := range seeds {
		w, err := explain(ctx, s)
		if err != nil {
			return 0, fmt.Errorf("stability: seed %d: %w", s, err)
		}
		sets[i] = topK(w, k)
	}
	var sum float64
	pairs := 0
	for a := range sets {
		for b := a + 1; b < len(sets); b++ {
			sum += jaccard(sets[a], sets[b])
			pairs++
		}
	}
	return sum / float64(pairs), nil
}

// topK returns the (sorted) feature indices of the k largest |weights|,
// ties broken by feature index.
func topK(w []FeatureWeight, k int) []int {
	s := slices.Clone(w)
	slices.SortStableFunc(s, func(a, b FeatureWeight) int {
		if c := cmp.Compare(math.Abs(b.Weight), math.Abs(a.Weight)); c != 0 {
			return c
		}
		return cmp.Compare(a.Feature, b.Feature)
	})
	out := make([]int, 0, k)
	for _, fw := range s[:min(k, len(s))] {
		out = append(out, fw.Feature)
	}
	slices.Sort(out)
	return out
}

// jaccard is |A∩B| / |A∪B| of two sorted sets (1 for two empty sets).
func jaccard(a, b []int) float64 {
	inter, i, j := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			inter++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	union := len(a) + len(b) - inter
	if union == 0 {
		return 1
	}
	return float64(inter) / float64(union)
}

// Curves are the deletion and insertion curves of a pixel attribution
// (Petsiuk et al. 2018, RISE): the model's output for the label as the most
// important pixels are removed (set to 0) from the image, or inserted into a
// blurred copy of it, at Fractions of the pixels. A faithful attribution
// has a small DeletionAUC and a large InsertionAUC.
type Curves struct {
	Label        int       `json:"label"`
	Fractions    []float64 `json:"fractions"`
	Deletion     []float64 `json:"deletion"`
	Insertion    []float64 `json:"insertion"`
	DeletionAUC  float64   `json:"deletion_auc"`
	InsertionAUC float64   `json:"insertion_auc"`
	Timing       Timing    `json:"timing"`
}

// DeletionInsertion computes the deletion and insertion curves of attr, an
// H·W row-major per-pixel attribution of model's output label for the
// channel-first C×H×W image pix, at steps+1 evenly spaced fractions of the
// pixels (ties in attr are taken in pixel order). Images are evaluated in
// batches of 256.
func DeletionInsertion(ctx context.Context, model Func, pix []float32, c, h, w int, attr []float32, label, steps int) (*Curves, error) {
	start := time.Now()
	const what = "deletion/insertion"
	if model == nil {
		return nil, fmt.Errorf("%s: model is nil", what)
	}
	if err := checkImage(what, pix, c, h, w); err != nil {
		return nil, err
	}
	hw := h * w
	if len(attr) != hw {
		return nil, fmt.Errorf("%s: attribution has %d values, want one per pixel: H×W = %d×%d = %d", what, len(attr), h, w, hw)
	}
	if steps < 1 {
		return nil, fmt.Errorf("%s: steps is %d; use at least 1 (e.g. 50)", what, steps)
	}
	if label < 0 {
		return nil, fmt.Errorf("%s: label %d is negative", what, label)
	}
	order := make([]int, hw)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(attr[b], attr[a]) })
	rank := make([]int32, hw) // position of each pixel in the order
	for r, p := range order {
		rank[p] = int32(r)
	}
	blurred := make([]float32, c*hw)
	sigma := math.Max(1, float64(min(h, w))/8)
	for ch := range c {
		gaussianBlur(pix[ch*hw:(ch+1)*hw], blurred[ch*hw:(ch+1)*hw], h, w, sigma)
	}
	cv := &Curves{Label: label, Fractions: make([]float64, steps+1)}
	counts := make([]int, steps+1)
	for s := range cv.Fractions {
		cv.Fractions[s] = float64(s) / float64(steps)
		counts[s] = int(math.Round(float64(s) * float64(hw) / float64(steps)))
	}
	// Rows 0..steps are deletion, steps+1..2·steps+1 insertion.
	total := 2 * (steps + 1)
	const batch = 256
	dim := c * hw
	buf := make([]float32, min(batch, total)*dim)
	o := outputs{what: what, timing: &cv.Timing}
	for lo := 0; lo < total; lo += batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi := min(lo+batch, total)
		parallelChunks(hi-lo, 4, func(_, a, b int) {
			for i := a; i < b; i++ {
				row, out := lo+i, buf[i*dim:(i+1)*dim]
				del := row <= steps
				cnt := int32(counts[row%(steps+1)])
				for ch := range c {
					src, bl := pix[ch*hw:(ch+1)*hw], blurred[ch*hw:(ch+1)*hw]
					dst := out[ch*hw : (ch+1)*hw]
					for p := range hw {
						top := rank[p] < cnt
						switch {
						case del && top:
							dst[p] = 0
						case del:
							dst[p] = src[p]
						case top:
							dst[p] = src[p]
						default:
							dst[p] = bl[p]
						}
					}
				}
			}
		})
		if err := o.add(hi-lo, lo, func() ([]float32, error) { return model(ctx, buf[:(hi-lo)*dim], hi-lo) }); err != nil {
			return nil, err
		}
	}
	if label >= o.k {
		return nil, fmt.Errorf("%s: label %d out of range: the model returns %d outputs", what, label, o.k)
	}
	cv.Deletion = make([]float64, steps+1)
	cv.Insertion = make([]float64, steps+1)
	for s := range steps + 1 {
		cv.Deletion[s] = float64(o.y[s*o.k+label])
		cv.Insertion[s] = float64(o.y[(steps+1+s)*o.k+label])
	}
	cv.DeletionAUC = trapezoid(cv.Fractions, cv.Deletion)
	cv.InsertionAUC = trapezoid(cv.Fractions, cv.Insertion)
	cv.Timing.Total = time.Since(start)
	return cv, nil
}

func trapezoid(x, y []float64) float64 {
	a := 0.0
	for i := 1; i < len(x); i++ {
		a += (x[i] - x[i-1]) * (y[i] + y[i-1]) / 2
	}
	return a
}
