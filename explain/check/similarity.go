package check

import (
	"math"
	"slices"
)

// Pearson is the correlation of a and b (0 when either is constant: no
// linear relation can be read from it).
func Pearson(a, b []float64) float64 {
	n := min(len(a), len(b))
	if n < 2 {
		return 0
	}
	var ma, mb float64
	for i := range n {
		ma += a[i]
		mb += b[i]
	}
	ma /= float64(n)
	mb /= float64(n)
	var sab, saa, sbb float64
	for i := range n {
		da, db := a[i]-ma, b[i]-mb
		sab += da * db
		saa += da * da
		sbb += db * db
	}
	if saa <= 0 || sbb <= 0 {
		return 0
	}
	return sab / math.Sqrt(saa*sbb)
}

// Spearman is the rank correlation of a and b: Pearson of their ranks,
// ties sharing their mean rank.
func Spearman(a, b []float64) float64 {
	if len(a) != len(b) {
		return 0
	}
	// Two identical maps (constant ones included) are as similar as can be.
	if slices.Equal(a, b) {
		return 1
	}
	return Pearson(ranks(a), ranks(b))
}

// ranks returns each value's rank (0-based), tied values the mean of
// their ranks.
func ranks(v []float64) []float64 {
	order := make([]int, len(v))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int {
		switch {
		case v[i] < v[j]:
			return -1
		case v[i] > v[j]:
			return 1
		}
		return 0
	})
	r := make([]float64, len(v))
	for lo := 0; lo < len(order); {
		hi := lo + 1
		for hi < len(order) && v[order[hi]] == v[order[lo]] {
			hi++
		}
		mean := float64(lo+hi-1) / 2
		for _, i := range order[lo:hi] {
			r[i] = mean
		}
		lo = hi
	}
	return r
}

// SSIM is the structural similarity (Wang et al. 2004) of two H×W maps,
// each first scaled by its largest |value| so that the comparison is of
// shapes, not scales: the mean over 7×7 windows of the SSIM of the
// windows, with the usual constants for a dynamic range of 1 (the maps
// lie in [−1, 1], range 2).
func SSIM(a, b []float64, h, w int) float64 {
	if len(a) != h*w || len(b) != h*w || h*w == 0 {
		return 0
	}
	a, b = scaledByMax(a), scaledByMax(b)
	const (
		rng = 2.0
		c1  = (0.01 * rng) * (0.01 * rng)
		c2  = (0.03 * rng) * (0.03 * rng)
	)
	win := min(7, h, w)
	var sum float64
	count := 0
	for y := 0; y+win <= h; y++ {
		for x := 0; x+win <= w; x++ {
			var ma, mb float64
			for dy := range win {
				for dx := range win {
					p := (y+dy)*w + x + dx
					ma += a[p]
					mb += b[p]
				}
			}
			m := float64(win * win)
			ma /= m
			mb /= m
			var va, vb, cov float64
			for dy := range win {
				for dx := range win {
					p := (y+dy)*w + x + dx
					da, db := a[p]-ma, b[p]-mb
					va += da * da
					vb += db * db
					cov += da * db
				}
			}
			va /= m - 1
			vb /= m - 1
			cov /= m - 1
			sum += (2*ma*mb + c1) * (2*cov + c2) / ((ma*ma + mb*mb + c1) * (va + vb + c2))
			count++
		}
	}
	return sum / float64(count)
}

// scaledByMax returns v divided by its largest |value| (v itself when it
// is all zeros).
func scaledByMax(v []float64) []float64 {
	m := 0.0
	for _, x := range v {
		m = math.Max(m, math.Abs(x))
	}
	if m == 0 {
		return v
	}
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x / m
	}
	return out
}
