package check

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/glassbox-ml/glassbox/explain"
)

// Randomisation is what the model-parameter randomisation test found:
// the similarity of the explanation of the randomised model to the
// original's, after each step.
type Randomisation struct {
	// Layers[i] is how many layers from the top were randomised at step i
	// (cascading) or which layer alone (independent, counted from 0 at
	// the top).
	Layers []int
	// Spearman is the rank correlation of the signed maps at each step;
	// SSIM their structural similarity (images only, else nil).
	Spearman []float64
	SSIM     []float64
	Calls    int
}

// Mean is the mean Spearman similarity over the steps: the area under the
// randomisation curve, divided by its length.
func (r Randomisation) Mean() float64 {
	if len(r.Spearman) == 0 {
		return 0
	}
	var s float64
	for _, v := range r.Spearman {
		s += v
	}
	return s / float64(len(r.Spearman))
}

// Peak is the highest Spearman similarity over the steps and the step it
// was found at: the statistic the verdict judges. A map that follows the
// model changes as soon as the top layers are random (Adebayo et al.
// 2018, Fig. 2: the gradient's map already differs after the logits are
// randomised, guided backprop's still matches); the mean over the cascade
// lets the dissimilar maps of the deep steps hide a map that survived the
// first ones (the demo LeNet: guided backprop 0.92 with the top layer
// random but a mean of 0.62; Grad-CAM 0.89 and a mean of 0.40). In a
// model of two layers the first step is left out: with only the output
// layer random every input still reaches the output through the trained
// first layer, and a faithful map of that model still points where that
// layer reads (integrated gradients 0.84 on the planted table), so only
// the whole random model tells.
func (r Randomisation) Peak() (float64, int) {
	first := 0
	if len(r.Spearman) == 2 {
		first = 1
	}
	best, at := 0.0, -1
	for i := first; i < len(r.Spearman); i++ {
		if v := r.Spearman[i]; at < 0 || v > best {
			best, at = v, i
		}
	}
	return best, at
}

// MaxRandomSteps bounds the steps of the randomisation test (each re-runs
// the method): a deeper model is randomised over its top MaxRandomSteps−1
// layers one by one, and then whole.
const MaxRandomSteps = 6

// ModelRandomisation runs the model-parameter randomisation test of
// Adebayo et al. (2018) on s (which needs Randomized): explain x for
// label on models whose parameters are randomised, from the top layer
// down (cascading: the top 1, 2, … layers) or one layer at a time
// (independent), and compare each map with attr, the original's. A map
// that stays similar when the model's weights are random does not show
// what the model learnt.
func ModelRandomisation(ctx context.Context, s *explain.Subject, e Explainer, x []float32, label int, attr []float64, cascading bool, seed uint64) (Randomisation, error) {
	var out Randomisation
	if s.Randomized == nil || s.RandomLayers < 1 {
		return out, fmt.Errorf("model randomisation: this model cannot be randomised (it has no parameter layers glassbox can reach)")
	}
	for _, step := range randomSteps(s.RandomLayers) {
		layers := []int{step - 1}
		if cascading {
			layers = make([]int, step)
			for i := range layers {
				layers[i] = i
			}
		}
		rs, err := s.Randomized(layers, seed)
		if err != nil {
			return out, err
		}
		a, calls, err := e(ctx, rs, x, label)
		out.Calls += calls
		if err != nil {
			return out, err
		}
		if cascading {
			out.Layers = append(out.Layers, step)
		} else {
			out.Layers = append(out.Layers, step-1)
		}
		out.Spearman = append(out.Spearman, Spearman(attr, a))
		if s.Kind == explain.Image {
			out.SSIM = append(out.SSIM, SSIM(attr, a, s.Shape[1], s.Shape[2]))
		}
	}
	return out, nil
}

// randomSteps are the depths (1 = the top layer) the test visits.
func randomSteps(layers int) []int {
	var steps []int
	for k := 1; k <= layers && k < MaxRandomSteps; k++ {
		steps = append(steps, k)
	}
	if layers >= MaxRandomSteps {
		steps = append(steps, layers)
	}
	return steps
}

// RandomLogit is the random-logit test (Sixt et al. 2020): explain x for a
// class other than label, drawn with seed, and return the Spearman
// similarity of that map to attr, and the class drawn. A map that hardly
// changes with the class explains none of them.
func RandomLogit(ctx context.Context, s *explain.Subject, e Explainer, x []float32, label int, attr []float64, seed uint64) (sim float64, other, calls int, err error) {
	if s.Outputs < 2 {
		return 0, 0, 0, fmt.Errorf("random logit: the model has %d output; the test needs another class", s.Outputs)
	}
	other = rand.New(rand.NewPCG(seed, 0x6c6f676974)).IntN(s.Outputs - 1)
	if other >= label {
		other++
	}
	a, calls, err := e(ctx, s, x, other)
	if err != nil {
		return 0, other, calls, err
	}
	return Spearman(attr, a), other, calls, nil
}
