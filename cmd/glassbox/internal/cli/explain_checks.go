package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/explain/check"
	"github.com/glassbox-ml/glassbox/predictor"
	"github.com/glassbox-ml/glassbox/tensor"
)

// autoMethod is --method's value that asks the advisor to choose.
const autoMethod = "auto"

// adviseInputs is how many rows of the input --method auto scores the
// methods on.
const adviseInputs = 3

// advise runs the method advisor on up to adviseInputs rows of x, the
// explained row first (only it when opt has a mask), after loading the
// training rows the table methods sample from.
func advise(ctx context.Context, p *predictor.Predictor, x *tensor.Tensor, row int, dataSpec string, opt explain.Options) (*check.Advice, error) {
	if p.Kind == explain.Table {
		if err := p.LoadBackground(ctx, dataSpec); err != nil {
			return nil, fmt.Errorf("--method auto scores LIME and Kernel SHAP too, which need the model's training rows: %w", err)
		}
	}
	inputs := [][]float32{x.Row(row).Contiguous().Data()}
	// A --mask marks the explained row only: the other rows join without one.
	for r := 0; r < x.Dim(0) && len(inputs) < adviseInputs && opt.Mask == nil; r++ {
		if r != row {
			inputs = append(inputs, x.Row(r).Contiguous().Data())
		}
	}
	return check.Advise(ctx, p.Subject(), inputs, opt)
}

// printChecks writes an explanation's checks and its verdict in words.
func printChecks(w io.Writer, res *explain.Result) {
	for _, c := range res.Checks {
		fmt.Fprintf(w, "  check %-24s %-9s %8.3g  %s", c.Name, c.Verdict, c.Value, c.Words)
		if c.ModelCalls > 0 {
			fmt.Fprintf(w, " [%d model calls]", c.ModelCalls)
		}
		fmt.Fprintln(w)
	}
	for _, why := range res.NotChecked {
		fmt.Fprintf(w, "  not checked: %s\n", why)
	}
	if res.Verdict != nil {
		fmt.Fprintf(w, "verdict (%s): %s\n", res.Verdict.Level, res.Verdict.Words)
	}
}

// readMask reads --mask: for an image model a picture of the input's size
// whose bright pixels (above one half in any channel) mark where the
// evidence should be; for a table a CSV row with a nonzero value in each
// column that should matter. It returns one value per feature.
func readMask(p *predictor.Predictor, path string) ([]float32, error) {
	m, err := p.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--mask: %w", err)
	}
	row := m.Row(0).Contiguous().Data()
	if p.Kind != explain.Image {
		return row, nil
	}
	c, h, w := p.InputShape[0], p.InputShape[1], p.InputShape[2]
	out := make([]float32, h*w)
	for ch := range c {
		for i := range out {
			if row[ch*h*w+i] > 0.5 {
				out[i] = 1
			}
		}
	}
	return out, nil
}
