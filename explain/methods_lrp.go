package explain

import "context"

func init() { Register(lrpMethod{}) }

// lrpMethod is layer-wise relevance propagation (Bach et al. 2015): the
// explained score is handed back layer by layer as relevance, each dense
// or convolutional layer sharing it among its inputs by an LRP rule (ε,
// γ or z⁺; by default ε for dense layers and z⁺ for convolutions, Zennit's
// EpsilonPlus composite), activations and pooling passing it on.
type lrpMethod struct{}

func (lrpMethod) Info() MethodInfo {
	return MethodInfo{Name: "lrp", Title: "LRP",
		Summary: "the score handed back layer by layer as relevance by LRP's rules (--rule composite, epsilon, gamma or zplus); ε conserves it up to what biases take",
		Inputs:  []InputKind{Image, Table}, Needs: NeedsRules}
}

func (lrpMethod) Explain(ctx context.Context, s *Subject, x []float32, opt Options, res *Result) error {
	rule, err := ParseLRPRule(opt.Rule)
	if err != nil {
		return err
	}
	out, rel, err := ruleCall(ctx, s, x, 1, res.Label, rule, nil)
	if err != nil {
		return err
	}
	recordCompleteness(res, rel, float64(out[res.Label]), float64(out[res.Label]), "LRP conserves relevance only up to what the layers' biases (and the γ and z⁺ rules' changed weights) take")
	if err := finishValues(s, res, "lrp", rel, out); err != nil {
		return err
	}
	res.Details = &LRPExplanation{Attribution: *res.Details.(*Attribution), Rule: rule.String()}
	return nil
}

// LRPExplanation is an LRP attribution (relevance per input value) with
// the rule that made it.
type LRPExplanation struct {
	Attribution
	Rule string `json:"rule"`
}
