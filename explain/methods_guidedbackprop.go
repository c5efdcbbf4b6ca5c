package explain

import "context"

func init() {
	Register(ruleMapMethod{rule: RuleGuided, info: MethodInfo{Name: "guidedbackprop", Title: "Guided backprop",
		Summary: "the gradient with every ReLU passing back only positive signals, and only where it was active (Springenberg et al. 2015)",
		Inputs:  []InputKind{Image, Table}, Needs: NeedsRules}})
}

// ruleMapMethod is a map of one modified gradient: guided backprop or
// deconvolution.
type ruleMapMethod struct {
	rule RuleKind
	info MethodInfo
}

func (m ruleMapMethod) Info() MethodInfo { return m.info }

func (m ruleMapMethod) Explain(ctx context.Context, s *Subject, x []float32, opt Options, res *Result) error {
	out, grad, err := ruleCall(ctx, s, x, 1, res.Label, BackwardRule{Kind: m.rule}, nil)
	if err != nil {
		return err
	}
	return finishValues(s, res, m.info.Name, grad, out)
}
