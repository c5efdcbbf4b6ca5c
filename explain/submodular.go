package explain

import (
	"context"
	"fmt"
	"math"
)

// Pick is the result of submodular pick.
type Pick struct {
	// Indices of the chosen explanations, in the order greedy chose them.
	Indices []int `json:"indices"`
	// Coverage after each choice: Σ_j Importance[j] over the features that
	// some chosen explanation uses.
	Coverage []float64 `json:"coverage"`
	// Importance of each feature: sqrt(Σ_i |W_ij|) over all explanations.
	Importance []float64 `json:"importance"`
	// Candidates are the instance indices that were explained (SPLime only).
	Candidates []int `json:"candidates,omitempty"`
}

// SubmodularPick chooses up to budget of the explanations (SP-LIME, Ribeiro
// et al. 2016) so that together they cover the globally important features:
// it greedily adds the explanation with the largest gain in coverage, ties to
// the lower index, which is within 1−1/e of the best possible coverage.
// weights[i] are explanation i's feature weights; features are indexed
// 0..numFeatures−1.
func SubmodularPick(weights [][]FeatureWeight, numFeatures, budget int) (*Pick, error) {
	if len(weights) == 0 {
		return nil, fmt.Errorf("submodular pick: no explanations to pick from")
	}
	if numFeatures < 1 {
		return nil, fmt.Errorf("submodular pick: numFeatures is %d; it must be the size of the feature space", numFeatures)
	}
	if budget < 1 {
		return nil, fmt.Errorf("submodular pick: budget is %d; pick at least 1 explanation", budget)
	}
	imp := make([]float64, numFeatures)
	for i, ws := range weights {
		for _, fw := range ws {
			if fw.Feature < 0 || fw.Feature >= numFeatures {
				return nil, fmt.Errorf("submodular pick: explanation %d names feature %d, outside 0..%d", i, fw.Feature, numFeatures-1)
			}
			imp[fw.Feature] += math.Abs(fw.Weight)
		}
	}
	for j := range imp {
		imp[j] = math.Sqrt(imp[j])
	}
	p := &Pick{Importance: imp}
	covered := make([]bool, numFeatures)
	chosen := make([]bool, len(weights))
	total := 0.0
	for range min(budget, len(weights)) {
		best, bestGain := -1, -1.0
		for i, ws := range weights {
			if chosen[i] {
				continue
			}
			gain := 0.0
			seen := map[int]bool{}
			for _, fw := range ws {
				if fw.Weight != 0 && !covered[fw.Feature] && !seen[fw.Feature] {
					gain += imp[fw.Feature]
					seen[fw.Feature] = true
				}
			}
			if gain > bestGain {
				best, bestGain = i, gain
			}
		}
		chosen[best] = true
		for _, fw := range weights[best] {
			if fw.Weight != 0 {
				covered[fw.Feature] = true
			}
		}
		total += bestGain
		p.Indices = append(p.Indices, best)
		p.Coverage = append(p.Coverage, total)
	}
	return p, nil
}

// SPLime runs SP-LIME end to end: it draws sampleSize of the candidates
// instances at random from seed (all of them when sampleSize ≤ 0 or ≥
// candidates), explains each with explain(ctx, instance, seed of that
// instance), and picks budget of them with SubmodularPick. Instance seeds are
// derived from seed and the instance index, so the result does not depend
// on the order of evaluation.
func SPLime(ctx context.Context, explain func(ctx context.Context, instance int, seed uint64) ([]FeatureWeight, error), candidates, sampleSize, numFeatures, budget int, seed uint64) (*Pick, error) {
	if explain == nil {
		return nil, fmt.Errorf("sp-lime: explain function is nil")
	}
	if candidates < 1 {
		return nil, fmt.Errorf("sp-lime: %d candidate instances; need at least 1", candidates)
	}
	idx := make([]int, candidates)
	for i := range idx {
		idx[i] = i
	}
	if sampleSize > 0 && sampleSize < candidates {
		shuffle(subStream(seed, streamOther, 2), idx)
		idx = idx[:sampleSize]
	}
	ws := make([][]FeatureWeight, len(idx))
	for a, i := range idx {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		w, err := explain(ctx, i, splitmix64(seed^splitmix64(uint64(i)+streamOther)))
		if err != nil {
			return nil, fmt.Errorf("sp-lime: explaining instance %d: %w", i, err)
		}
		ws[a] = w
	}
	p, err := SubmodularPick(ws, numFeatures, budget)
	if err != nil {
		return nil, fmt.Errorf("sp-lime: %w", err)
	}
	for a, at := range p.Indices {
		p.Indices[a] = idx[at]
	}
	p.Candidates = idx
	return p, nil
}
