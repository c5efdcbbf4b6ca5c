package check

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/glassbox-ml/glassbox/explain"
)

// Sparseness is the Gini index of |attr| (Chalasani et al. 2020): 0 when
// every feature gets the same share, towards 1 when one feature holds it
// all. An all-zero map has sparseness 0.
func Sparseness(attr []float64) float64 {
	n := len(attr)
	if n == 0 {
		return 0
	}
	a := make([]float64, n)
	var total float64
	for i, v := range attr {
		a[i] = math.Abs(v)
		total += a[i]
	}
	if total == 0 {
		return 0
	}
	slices.Sort(a)
	var s float64
	for i, v := range a {
		s += float64(2*(i+1)-n-1) * v
	}
	return s / (float64(n) * total)
}

// EffectiveComplexity is the share of features whose |attribution|
// exceeds eps times the largest (Nguyen & Martínez 2020 count them; the
// share makes maps of different sizes comparable).
func EffectiveComplexity(attr []float64, eps float64) float64 {
	if len(attr) == 0 {
		return 0
	}
	m := 0.0
	for _, v := range attr {
		m = math.Max(m, math.Abs(v))
	}
	if m == 0 {
		return 0
	}
	n := 0
	for _, v := range attr {
		if math.Abs(v) > eps*m {
			n++
		}
	}
	return float64(n) / float64(len(attr))
}

// PointingGame reports whether the feature of largest attribution lies
// inside the mask (nonzero values mark the inside).
func PointingGame(attr []float64, mask []float32) (bool, error) {
	if err := checkMask(attr, mask); err != nil {
		return false, err
	}
	best := 0
	for i, v := range attr {
		if v > attr[best] {
			best = i
		}
	}
	return mask[best] != 0, nil
}

// RelevanceMass is the share of the positive attribution that lies inside
// the mask (Arras et al. 2022), and the share of the features the mask
// covers (what a uniform map would score).
func RelevanceMass(attr []float64, mask []float32) (mass, area float64, err error) {
	if err := checkMask(attr, mask); err != nil {
		return 0, 0, err
	}
	var in, total float64
	inside := 0
	for i, v := range attr {
		if mask[i] != 0 {
			inside++
		}
		if v <= 0 {
			continue
		}
		total += v
		if mask[i] != 0 {
			in += v
		}
	}
	area = float64(inside) / float64(len(mask))
	if total == 0 {
		return 0, area, nil
	}
	return in / total, area, nil
}

func checkMask(attr []float64, mask []float32) error {
	if len(mask) != len(attr) {
		return fmt.Errorf("localisation: the mask has %d values, the attribution %d: give one value per pixel (H·W) or column", len(mask), len(attr))
	}
	for _, v := range mask {
		if v != 0 {
			return nil
		}
	}
	return fmt.Errorf("localisation: the mask is empty (all zeros): mark where the evidence should be with nonzero values")
}

// Faithfulness is the setting of FaithfulnessCorrelation.
type Faithfulness struct {
	// Runs is the number of random subsets (default 64), all evaluated in
	// one batch; Subset the features in each (default: an eighth of
	// them, at least 1).
	Runs, Subset int
	// Seed draws the subsets.
	Seed uint64
	// Baseline is the value a removed feature takes: one per input value
	// (nil: zero, black for images).
	Baseline []float32
	// Channels is the number of input values per attributed feature, at
	// stride Dim/Channels (C for an H·W map of a C×H×W image, 1 for a
	// table).
	Channels int
}

// FaithfulnessCorrelation is Bhatt et al.'s (2020) faithfulness
// correlation: for random subsets of the features, the Pearson
// correlation between the sum of their attributions and the drop of
// output label when they are set to the baseline. It costs one model call
// (a batch of opt.Runs inputs). A faithful attribution scores near 1; one
// unrelated to the model near 0.
func FaithfulnessCorrelation(ctx context.Context, predict explain.Func, x []float32, attr []float64, label int, opt Faithfulness) (float64, error) {
	n := len(attr)
	ch := max(opt.Channels, 1)
	if n == 0 || n*ch != len(x) {
		return 0, fmt.Errorf("faithfulness correlation: %d attributions × %d channels do not cover the %d input values", n, ch, len(x))
	}
	if opt.Baseline != nil && len(opt.Baseline) != len(x) {
		return 0, fmt.Errorf("faithfulness correlation: the baseline has %d values, the input %d", len(opt.Baseline), len(x))
	}
	runs, subset := opt.Runs, opt.Subset
	if runs <= 0 {
		runs = 64
	}
	if subset <= 0 {
		subset = max(1, n/8)
	}
	subset = min(subset, n)
	rng := rand.New(rand.NewPCG(opt.Seed, 0x6661697468))
	batch := make([]float32, (runs+1)*len(x))
	copy(batch, x)
	sums := make([]float64, runs)
	for r := range runs {
		row := batch[(r+1)*len(x) : (r+2)*len(x)]
		copy(row, x)
		for _, f := range rng.Perm(n)[:subset] {
			sums[r] += attr[f]
			for c := range ch {
				i := c*n + f
				row[i] = 0
				if opt.Baseline != nil {
					row[i] = opt.Baseline[i]
				}
			}
		}
	}
	out, err := predict(ctx, batch, runs+1)
	if err != nil {
		return 0, err
	}
	k := len(out) / (runs + 1)
	if label < 0 || label >= k {
		return 0, fmt.Errorf("faithfulness correlation: label %d, the model has %d outputs", label, k)
	}
	drops := make([]float64, runs)
	for r := range runs {
		drops[r] = float64(out[label] - out[(r+1)*k+label])
	}
	return Pearson(sums, drops), nil
}

// Explainer explains input x of s for output label, returning one
// attribution per feature and the model calls it took.
type Explainer func(ctx context.Context, s *explain.Subject, x []float32, label int) (attr []float64, calls int, err error)

// MethodExplainer is the registered method called name as an Explainer
// (run with opt and no checks of its own).
func MethodExplainer(name string, opt explain.Options) Explainer {
	return func(ctx context.Context, s *explain.Subject, x []float32, label int) ([]float64, int, error) {
		o := opt
		o.Label, o.Checks, o.Mask = explain.Class(label), explain.ChecksNone, nil
		res, err := explain.Run(ctx, name, s, x, o)
		if err != nil {
			return nil, 0, err
		}
		a := Attribution(s, res)
		if a == nil {
			return nil, res.ModelCalls, fmt.Errorf("%s gives no attribution per feature to compare", name)
		}
		return a, res.ModelCalls, nil
	}
}

// Attribution is res's attribution, one value per feature: the H·W map
// of an image method, the weight of each column of a table (zero for a
// column the method left out); nil when there is none (text).
func Attribution(s *explain.Subject, res *explain.Result) []float64 {
	switch s.Kind {
	case explain.Image:
		if res.Attribution == nil {
			return nil
		}
		out := make([]float64, len(res.Attribution))
		for i, v := range res.Attribution {
			out[i] = float64(v)
		}
		return out
	case explain.Table:
		out := make([]float64, s.Dim())
		for _, t := range res.Top {
			if t.Feature >= 0 && t.Feature < len(out) {
				out[t.Feature] = t.Weight
			}
		}
		return out
	}
	return nil
}

// Noise is the input noise of the robustness measures: each input value
// moves by Scale (times Scales[i] when given: a column's spread) drawn
// uniformly from [−1, 1] (Uniform, max-sensitivity) or from a standard
// normal (the Lipschitz estimate); Clamp keeps values in [0, 1] (pixels).
type Noise struct {
	Scale   float64
	Scales  []float64
	Uniform bool
	Clamp   bool
	Samples int
	Seed    uint64
}

func (n Noise) perturb(rng *rand.Rand, x []float32) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		d := rng.NormFloat64()
		if n.Uniform {
			d = 2*rng.Float64() - 1
		}
		d *= n.Scale
		if n.Scales != nil {
			d *= n.Scales[i%len(n.Scales)]
		}
		y := float64(v) + d
		if n.Clamp {
			y = math.Min(1, math.Max(0, y))
		}
		out[i] = float32(y)
	}
	return out
}

// Sensitivity is what the robustness measures found.
type Sensitivity struct {
	// MaxSensitivity is the largest ‖e(x') − e(x)‖ / ‖e(x)‖ over the noisy
	// copies x' (relative: scale-free, comparable across methods; 1 when
	// e(x) is all zeros and e(x') is not).
	MaxSensitivity float64
	// Lipschitz is the largest ‖e(x') − e(x)‖ / ‖x' − x‖.
	Lipschitz float64
	Calls     int
}

// Robustness explains noisy copies of x and measures how far the
// explanation moves (attr is e(x)): Yeh et al.'s max-sensitivity and
// Alvarez-Melis & Jaakkola's local Lipschitz estimate, both maxima over
// noise.Samples copies (default 8).
func Robustness(ctx context.Context, s *explain.Subject, e Explainer, x []float32, label int, attr []float64, noise Noise) (Sensitivity, error) {
	samples := noise.Samples
	if samples <= 0 {
		samples = 8
	}
	rng := rand.New(rand.NewPCG(noise.Seed, 0x726f62))
	norm := l2(attr)
	var out Sensitivity
	for range samples {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		xp := noise.perturb(rng, x)
		ap, calls, err := e(ctx, s, xp, label)
		out.Calls += calls
		if err != nil {
			return out, err
		}
		if len(ap) != len(attr) {
			return out, fmt.Errorf("robustness: the explanation of a noisy copy has %d values, of the input %d", len(ap), len(attr))
		}
		diff := make([]float64, len(ap))
		for i := range ap {
			diff[i] = ap[i] - attr[i]
		}
		dx := make([]float64, len(x))
		for i := range x {
			dx[i] = float64(xp[i] - x[i])
		}
		d := l2(diff)
		if dn := l2(dx); dn > 0 {
			out.Lipschitz = math.Max(out.Lipschitz, d/dn)
		}
		switch {
		case norm > 0:
			out.MaxSensitivity = math.Max(out.MaxSensitivity, d/norm)
		case d > 0:
			// An all-zero map that becomes nonzero nearby: the change is
			// the whole of the new map.
			out.MaxSensitivity = math.Max(out.MaxSensitivity, 1)
		}
	}
	return out, nil
}

func l2(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x * x
	}
	return math.Sqrt(s)
}
