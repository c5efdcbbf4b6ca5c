package cli

import (
	"context"

	"github.com/glassbox-ml/glassbox/datasets"
	"github.com/glassbox-ml/glassbox/nn"
)

// demoExplained is one explained test digit.
type demoExplained struct {
	Index       int     `json:"index"`
	Truth       int     `json:"truth"`
	Predicted   int     `json:"predicted"`
	Probability float64 `json:"probability"`
	Segments    int     `json:"segments"`
	LimeR2      float64 `json:"lime_r2"`
	IGResidual  float64 `json:"ig_completeness_residual"`
	Picture     string  `json:"picture"`
}

// demoExplain explains a few test digits; filled in once the gradient
// adapters land.
func demoExplain(ctx context.Context, env *Env, dir string, m nn.Module, res demoResult, test *datasets.Images, seed uint64) ([]demoExplained, string, error) {
	return nil, "", nil
}
