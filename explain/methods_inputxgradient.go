package explain

import "context"

func init() { Register(inputXGradientMethod{}) }

// inputXGradientMethod is Input×Gradient (Shrikumar et al. 2016): each
// input value times the output's gradient with respect to it; for a
// linear model, exactly each feature's term w_i·x_i.
type inputXGradientMethod struct{}

func (inputXGradientMethod) Info() MethodInfo {
	return MethodInfo{Name: "inputxgradient", Title: "Input × Gradient",
		Summary: "each input value times the gradient of the explained score with respect to it (a linear model's w·x terms)",
		Inputs:  []InputKind{Image, Table}, Needs: NeedsGradient}
}

func (inputXGradientMethod) Explain(ctx context.Context, s *Subject, x []float32, opt Options, res *Result) error {
	e, err := Saliency(ctx, s.Gradient, x, res.Label, SaliencyOptions{Signed: true, TimesInput: true})
	if err != nil {
		return err
	}
	res.Warnings = e.Warnings
	return finishValues(s, res, "inputxgradient", e.Values, e.Outputs)
}
