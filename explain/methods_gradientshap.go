package explain

import (
	"context"
	"fmt"
	"math"
)

func init() { Register(gradientSHAPMethod{}) }

// gradientSHAPMethod is GradientSHAP (Lundberg & Lee 2017, as Captum's):
// the expected gradient × (x − reference) over references drawn from a
// background and points drawn uniformly on the path between them and x —
// integrated gradients averaged over the background, estimated by
// sampling.
type gradientSHAPMethod struct{}

// gradientSHAPSamples is the default number of (reference, point) draws.
const gradientSHAPSamples = 200

func (gradientSHAPMethod) Info() MethodInfo {
	return MethodInfo{Name: "gradientshap", Title: "GradientSHAP",
		Summary: "gradients at random points between the input and references drawn from the training rows (images: black and noise images), times the input's difference from them",
		Inputs:  []InputKind{Image, Table}, Needs: NeedsGradient | NeedsBackground,
		Budget: "sampled points", DefaultBudget: "200"}
}

func (gradientSHAPMethod) Explain(ctx context.Context, s *Subject, x []float32, opt Options, res *Result) error {
	samples := opt.Samples
	if samples == 0 {
		samples = gradientSHAPSamples
	}
	fill, rows, err := references(s, deepLIFTSHAPReferences, opt.Seed)
	if err != nil {
		return err
	}
	d := len(x)
	pool := make([]float32, rows*d)
	for r := range rows {
		fill(r, pool[r*d:(r+1)*d])
	}
	const batch = 64
	sum := make([]float64, d)
	sumSq := make([]float64, d)
	diffs := make([]float32, batch*d)
	buf := make([]float32, batch*d)
	for lo := 0; lo < samples; lo += batch {
		hi := min(lo+batch, samples)
		for r := lo; r < hi; r++ {
			// Draw r's reference and point from its own stream, so the
			// result is the same whatever the batching.
			rng := subStream(opt.Seed, streamGradSHAP, uint64(r))
			ref := pool[int(rng.unit32()*float64(rows))*d:][:d]
			alpha := rng.unit32()
			row, diff := buf[(r-lo)*d:][:d], diffs[(r-lo)*d:][:d]
			for i := range d {
				diff[i] = x[i] - ref[i]
				row[i] = float32(float64(ref[i]) + alpha*float64(diff[i]))
			}
		}
		o, g, err := s.Gradient(ctx, buf[:(hi-lo)*d], hi-lo, res.Label)
		if err != nil {
			return err
		}
		if len(g) != (hi-lo)*d || len(o)%(hi-lo) != 0 {
			return fmt.Errorf("gradientshap: the model returned %d gradient values and %d outputs for %d inputs of %d values", len(g), len(o), hi-lo, d)
		}
		for j := range (hi - lo) * d {
			a := float64(g[j]) * float64(diffs[j])
			sum[j%d] += a
			sumSq[j%d] += a * a
		}
	}
	v := make([]float32, d)
	n := float64(samples)
	var meanNorm, errNorm float64
	for i := range d {
		m := sum[i] / n
		v[i] = float32(m)
		meanNorm += m * m
		if samples > 1 {
			errNorm += math.Max(0, (sumSq[i]-n*m*m)/(n-1)) / n
		}
	}
	if meanNorm > 0 {
		res.Quality["relative_std_err"] = math.Sqrt(errNorm / meanNorm)
	}
	res.Samples = samples
	// The scores at x itself, for the record (one more gradient call).
	fx, _, err := s.Gradient(ctx, x, 1, res.Label)
	if err != nil {
		return err
	}
	return finishValues(s, res, "gradientshap", v, fx)
}
