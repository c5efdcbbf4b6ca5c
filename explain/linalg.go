package explain

import "math"

// cholesky factors the symmetric positive definite m×m matrix a (row-major)
// in place into its lower triangle L with a = L·Lᵀ. It reports false when a
// is not positive definite.
func cholesky(a []float64, m int) bool {
	for j := range m {
		s := a[j*m+j]
		for k := range j {
			s -= a[j*m+k] * a[j*m+k]
		}
		if !(s > 0) {
			return false
		}
		d := math.Sqrt(s)
		a[j*m+j] = d
		for i := j + 1; i < m; i++ {
			t := a[i*m+j]
			for k := range j {
				t -= a[i*m+k] * a[j*m+k]
			}
			a[i*m+j] = t / d
		}
	}
	return true
}

// cholSolve solves L·Lᵀ x = b in place (b becomes x) with the factor from
// cholesky.
func cholSolve(l []float64, m int, b []float64) {
	for i := range m {
		s := b[i]
		for k := range i {
			s -= l[i*m+k] * b[k]
		}
		b[i] = s / l[i*m+i]
	}
	for i := m - 1; i >= 0; i-- {
		s := b[i]
		for k := i + 1; k < m; k++ {
			s -= l[k*m+i] * b[k]
		}
		b[i] = s / l[i*m+i]
	}
}

// forwardSubst solves L y = b in place.
func forwardSubst(l []float64, m int, b []float64) {
	for i := range m {
		s := b[i]
		for k := range i {
			s -= l[i*m+k] * b[k]
		}
		b[i] = s / l[i*m+i]
	}
}

// ridgeSolve solves (G[S,S] + alpha·I) β = b[S] for the index set S of the
// d×d Gram matrix g. A tiny jitter is added when G[S,S] is singular and
// alpha is 0, so the solve never fails on duplicated or constant features.
// It returns β and the Cholesky factor (for leverages).
func ridgeSolve(g []float64, d int, b []float64, s []int, alpha float64) (beta, factor []float64) {
	m := len(s)
	if m == 0 {
		return nil, nil
	}
	a := make([]float64, m*m)
	trace := 0.0
	for _, si := range s {
		trace += g[si*d+si]
	}
	jitter := 0.0
	for {
		for i, si := range s {
			for j, sj := range s {
				a[i*m+j] = g[si*d+sj]
			}
			a[i*m+i] += alpha + jitter
		}
		if cholesky(a, m) {
			break
		}
		if jitter == 0 {
			jitter = 1e-10 * math.Max(trace/float64(m), 1)
		} else {
			jitter *= 100
		}
	}
	beta = make([]float64, m)
	for i, si := range s {
		beta[i] = b[si]
	}
	cholSolve(a, m, beta)
	return beta, a
}

// transpose64 transposes a 64×64 bit matrix in place: bit c of a[r]
// becomes bit r of a[c] (Hacker's Delight 7-3, in six rounds of block
// swaps).
func transpose64(a *[64]uint64) {
	m := uint64(0x00000000ffffffff)
	for j := 32; j != 0; j >>= 1 {
		for k := 0; k < 64; k = (k + j + 1) &^ j {
			t := (a[k]>>j ^ a[k+j]) & m
			a[k] ^= t << j
			a[k+j] ^= t
		}
		m ^= m << (j >> 1)
	}
}
