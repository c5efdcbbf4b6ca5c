package explain

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
)

// gaussianData makes n rows of d features with per-column scales.
func gaussianData(n, d int, seed uint64, scales []float64) []float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	x := make([]float32, n*d)
	for i := range n {
		for j := range d {
			s := 1.0
			if scales != nil {
				s = scales[j]
			}
			x[i*d+j] = float32(r.NormFloat64()*s + float64(j%3))
		}
	}
	return x
}

// linearModel returns f(x) = w·x + b as a regression Func.
func linearModel(w []float64, b float64) Func {
	d := len(w)
	return func(_ context.Context, x []float32, n int) ([]float32, error) {
		out := make([]float32, n)
		for i := range n {
			s := b
			for j := range d {
				s += w[j] * float64(x[i*d+j])
			}
			out[i] = float32(s)
		}
		return out, nil
	}
}

// logisticModel returns two-class probabilities of sigmoid(w·x + b).
func logisticModel(w []float64, b float64) Func {
	d := len(w)
	return func(_ context.Context, x []float32, n int) ([]float32, error) {
		out := make([]float32, 2*n)
		for i := range n {
			s := b
			for j := range d {
				s += w[j] * float64(x[i*d+j])
			}
			p := 1 / (1 + math.Exp(-s))
			out[2*i], out[2*i+1] = float32(1-p), float32(p)
		}
		return out, nil
	}
}

// mlpModel is a fixed random two-layer tanh network with a sigmoid output
// (two class probabilities), a stand-in for a trained tabular MLP.
func mlpModel(d, hidden int, seed uint64) Func {
	r := rand.New(rand.NewPCG(seed, 11))
	w1 := make([]float64, hidden*d)
	b1 := make([]float64, hidden)
	w2 := make([]float64, hidden)
	for i := range w1 {
		w1[i] = r.NormFloat64() / math.Sqrt(float64(d))
	}
	for i := range hidden {
		b1[i] = 0.1 * r.NormFloat64()
		w2[i] = r.NormFloat64() * 2 / math.Sqrt(float64(hidden))
	}
	return func(_ context.Context, x []float32, n int) ([]float32, error) {
		out := make([]float32, 2*n)
		h := make([]float64, hidden)
		for i := range n {
			row := x[i*d : (i+1)*d]
			s := 0.0
			for k := range hidden {
				a := b1[k]
				wk := w1[k*d : (k+1)*d]
				for j, v := range row {
					a += wk[j] * float64(v)
				}
				h[k] = math.Tanh(a)
				s += w2[k] * h[k]
			}
			p := 1 / (1 + math.Exp(-s))
			out[2*i], out[2*i+1] = float32(1-p), float32(p)
		}
		return out, nil
	}
}

// ranks returns the average ranks of v (1-based).
func ranks(v []float64) []float64 {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case v[a] < v[b]:
			return -1
		case v[a] > v[b]:
			return 1
		}
		return 0
	})
	r := make([]float64, len(v))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && v[idx[j+1]] == v[idx[i]] {
			j++
		}
		for k := i; k <= j; k++ {
			r[idx[k]] = float64(i+j)/2 + 1
		}
		i = j + 1
	}
	return r
}

// spearman is the Spearman rank correlation of a and b.
func spearman(a, b []float64) float64 {
	ra, rb := ranks(a), ranks(b)
	var ma, mb float64
	for i := range ra {
		ma += ra[i]
		mb += rb[i]
	}
	ma /= float64(len(ra))
	mb /= float64(len(rb))
	var sab, saa, sbb float64
	for i := range ra {
		sab += (ra[i] - ma) * (rb[i] - mb)
		saa += (ra[i] - ma) * (ra[i] - ma)
		sbb += (rb[i] - mb) * (rb[i] - mb)
	}
	return sab / math.Sqrt(saa*sbb)
}

// weightsByFeature spreads a label's weights into a dense vector.
func weightsByFeature(le *LabelExplanation, d int) []float64 {
	w := make([]float64, d)
	for _, fw := range le.Weights {
		w[fw.Feature] = fw.Weight
	}
	return w
}
