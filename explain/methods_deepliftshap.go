package explain

import "context"

func init() { Register(deepLIFTSHAPMethod{}) }

// deepLIFTSHAPMethod is DeepLIFT SHAP (Lundberg & Lee 2017): DeepLIFT
// averaged over references drawn from a background, approximating SHAP
// values; they add up to f(x) minus the references' mean output.
type deepLIFTSHAPMethod struct{}

// deepLIFTSHAPReferences is the default number of references.
const deepLIFTSHAPReferences = 50

func (deepLIFTSHAPMethod) Info() MethodInfo {
	return MethodInfo{Name: "deepliftshap", Title: "DeepLIFT SHAP",
		Summary: "DeepLIFT averaged over references drawn from the training rows (images: black and random-noise images); they add up to the output minus the references' mean",
		Inputs:  []InputKind{Image, Table}, Needs: NeedsRules | NeedsBackground,
		Budget: "references", DefaultBudget: "50 (all training rows when fewer)"}
}

func (deepLIFTSHAPMethod) Explain(ctx context.Context, s *Subject, x []float32, opt Options, res *Result) error {
	n := opt.Samples
	if n == 0 {
		n = deepLIFTSHAPReferences
	}
	refs, n, err := references(s, n, opt.Seed)
	if err != nil {
		return err
	}
	v, fx, fref, err := deepLIFT(ctx, s, x, refs, n, res.Label)
	if err != nil {
		return err
	}
	res.Samples = n
	recordCompleteness(res, v, float64(fx[res.Label])-fref, float64(fx[res.Label]), "a layer outside the Rescale rule's reach changed the output")
	return finishValues(s, res, "deepliftshap", v, fx)
}
