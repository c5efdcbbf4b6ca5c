package explain

import (
	"context"
	"fmt"
)

func init() { Register(deepLIFTMethod{}) }

// deepLIFTMethod is DeepLIFT with the Rescale rule (Shrikumar et al.
// 2017): back-propagation where each nonlinearity passes back Δy/Δx
// between the input and a reference input instead of its derivative, so
// the attributions (x − ref) ⊙ multipliers add up to f(x) − f(ref) exactly.
type deepLIFTMethod struct{}

func (deepLIFTMethod) Info() MethodInfo {
	return MethodInfo{Name: "deeplift", Title: "DeepLIFT",
		Summary: "differences from a reference input (the training mean, or a black image) propagated back with the Rescale rule; they add up to the output's change",
		Inputs:  []InputKind{Image, Table}, Needs: NeedsRules}
}

func (deepLIFTMethod) Explain(ctx context.Context, s *Subject, x []float32, opt Options, res *Result) error {
	ref := defaultBaseline(s)
	if len(ref) != len(x) {
		return fmt.Errorf("deeplift: the baseline has %d values, the input %d", len(ref), len(x))
	}
	v, fx, fref, err := deepLIFT(ctx, s, x, func(_ int, dst []float32) { copy(dst, ref) }, 1, res.Label)
	if err != nil {
		return err
	}
	recordCompleteness(res, v, float64(fx[res.Label])-fref, float64(fx[res.Label]), "a layer outside the Rescale rule's reach changed the output (float32 rounding accounts for about 1e-6)")
	return finishValues(s, res, "deeplift", v, fx)
}

// deepLIFTChunk is how many references one rule-gradient call takes:
// the batch holds each twice (input and reference).
const deepLIFTChunk = 32

// deepLIFT runs the Rescale rule for n references (ref writes reference r
// into a buffer) against x, deepLIFTChunk at a time, and returns the
// attributions averaged over them, the scores at x and the mean score of
// the references for label.
func deepLIFT(ctx context.Context, s *Subject, x []float32, ref func(r int, dst []float32), n, label int) (attr []float32, fx []float32, fref float64, err error) {
	d := len(x)
	acc := make([]float64, d)
	chunk := min(n, deepLIFTChunk)
	xs := make([]float32, chunk*d)
	for r := range chunk {
		copy(xs[r*d:], x)
	}
	refs := make([]float32, chunk*d)
	for lo := 0; lo < n; lo += chunk {
		m := min(chunk, n-lo)
		for r := range m {
			ref(lo+r, refs[r*d:(r+1)*d])
		}
		out, mult, err := ruleCall(ctx, s, xs[:m*d], m, label, BackwardRule{Kind: RuleRescale}, refs[:m*d])
		if err != nil {
			return nil, nil, 0, err
		}
		k := len(out) / (2 * m)
		for r := range m {
			for i := range d {
				acc[i] += float64(x[i]-refs[r*d+i]) * float64(mult[r*d+i])
			}
			fref += float64(out[(m+r)*k+label])
		}
		if fx == nil {
			fx = out[:k]
		}
	}
	attr = make([]float32, d)
	for i, a := range acc {
		attr[i] = float32(a / float64(n))
	}
	return attr, fx, fref / float64(n), nil
}
