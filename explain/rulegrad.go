package explain

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// RuleKind names a modified back-propagation (see BackwardRule).
type RuleKind string

const (
	// RuleGuided is guided backprop's: a ReLU passes back only positive
	// gradients, and only where its input was positive.
	RuleGuided RuleKind = "guided"
	// RuleDeconv is deconvolution's: a ReLU passes back the positive part
	// of its output's gradient whatever its input.
	RuleDeconv RuleKind = "deconv"
	// RuleRescale is DeepLIFT's Rescale rule: each nonlinearity passes
	// back Δy/Δx between the input and a reference input instead of its
	// derivative (max pooling routes Δy to the windows' maxima).
	RuleRescale RuleKind = "rescale"
	// RuleLRP is layer-wise relevance propagation with LRP's rules for
	// dense and convolutional layers.
	RuleLRP RuleKind = "lrp"
)

// BackwardRule chooses the modified back-propagation of a RuleGradFunc.
type BackwardRule struct {
	Kind RuleKind
	// For RuleLRP: the rule of dense layers (Dense) and of convolutions
	// (Conv), each LRPEpsilon, LRPGamma or LRPZPlus, with the ε
	// stabiliser and the γ of the γ rule.
	Dense, Conv    LRPRule
	Epsilon, Gamma float64
}

// LRPRule is one of LRP's rules for a linear layer z = Wx + b.
type LRPRule string

const (
	// LRPEpsilon: R_x = x ⊙ Wᵀ(R_z / (z + ε·sign z)); with a small ε it
	// conserves relevance up to what the biases take.
	LRPEpsilon LRPRule = "epsilon"
	// LRPGamma: the same with W + γW⁺ and b + γb⁺, favouring positive
	// evidence (Montavon et al. 2019).
	LRPGamma LRPRule = "gamma"
	// LRPZPlus: only the positive weights, no bias (z⁺ rule, for
	// non-negative inputs such as ReLU outputs and pixels).
	LRPZPlus LRPRule = "zplus"
)

// RuleGradFunc is a GradFunc whose back-propagation follows rule. It
// returns the n×k scores at x (for RuleRescale 2n×k: then those of the
// references) and, per input value, the modified
// gradient of output label: for RuleGuided and RuleDeconv the modified
// gradient; for RuleRescale the multipliers m, the attributions being
// (x − ref) ⊙ m, where ref holds n reference inputs paired with x's rows;
// for RuleLRP the relevance of each input value itself (in the output's
// units). A model with operations the rule does not cover returns an error
// naming them.
type RuleGradFunc func(ctx context.Context, x []float32, n, label int, rule BackwardRule, ref []float32) (out, grad []float32, err error)

// Default LRP parameters: ε as small as float32 allows without dividing by
// zero (Zennit's), γ as Montavon et al. recommend for lower layers.
const (
	DefaultLRPEpsilon = 1e-6
	DefaultLRPGamma   = 0.25
)

// LRPRules are the rule names Options.Rule takes for LRP.
var LRPRules = []string{"composite", "epsilon", "gamma", "zplus"}

// ParseLRPRule reads Options.Rule for LRP: "" or "composite" (ε for dense
// layers, z⁺ for convolutions: Zennit's EpsilonPlus composite), "epsilon",
// "gamma" or "zplus" for every layer, optionally with its parameter
// ("epsilon=0.25", "gamma=0.5").
func ParseLRPRule(s string) (BackwardRule, error) {
	r := BackwardRule{Kind: RuleLRP, Dense: LRPEpsilon, Conv: LRPZPlus, Epsilon: DefaultLRPEpsilon, Gamma: DefaultLRPGamma}
	name, param, hasParam := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "=")
	var v float64
	if hasParam {
		var err error
		if v, err = strconv.ParseFloat(param, 64); err != nil || !(v >= 0 && v <= 1e6) {
			return r, fmt.Errorf("lrp rule %q: the parameter must be a number from 0 to 1e6, e.g. epsilon=0.25 or gamma=0.25", s)
		}
	}
	switch name {
	case "", "composite":
		if hasParam {
			return r, fmt.Errorf("lrp rule %q: the composite rule takes no parameter; use epsilon=… or gamma=… for one rule everywhere", s)
		}
	case "epsilon":
		r.Dense, r.Conv = LRPEpsilon, LRPEpsilon
		if hasParam {
			r.Epsilon = v
		}
	case "gamma":
		r.Dense, r.Conv = LRPGamma, LRPGamma
		if hasParam {
			r.Gamma = v
		}
	case "zplus":
		if hasParam {
			return r, fmt.Errorf("lrp rule %q: the z⁺ rule takes no parameter", s)
		}
		r.Dense, r.Conv = LRPZPlus, LRPZPlus
	default:
		msg := fmt.Sprintf("unknown LRP rule %q (known: %s)", s, strings.Join(LRPRules, ", "))
		if near := Closest(name, LRPRules); near != "" {
			msg += fmt.Sprintf("; did you mean %q?", near)
		}
		return r, fmt.Errorf("%s", msg)
	}
	return r, nil
}

// String names the rule as ParseLRPRule reads it.
func (r BackwardRule) String() string {
	if r.Kind != RuleLRP {
		return string(r.Kind)
	}
	switch {
	case r.Dense == LRPEpsilon && r.Conv == LRPZPlus:
		return "composite"
	case r.Dense == r.Conv && r.Dense == LRPEpsilon:
		return fmt.Sprintf("epsilon=%g", r.Epsilon)
	case r.Dense == r.Conv && r.Dense == LRPGamma:
		return fmt.Sprintf("gamma=%g", r.Gamma)
	}
	return fmt.Sprintf("dense %s, conv %s", r.Dense, r.Conv)
}
