package inspect

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// PCA is a principal component analysis of n points in d dimensions.
type PCA struct {
	// Mean is the points' mean (d values).
	Mean []float64
	// Components are the top principal directions, unit vectors of d values,
	// by decreasing variance. Each is signed so that its largest-magnitude
	// coordinate is positive, so the result does not depend on the start.
	Components [][]float64
	// Variance is the variance of the points along each component
	// (eigenvalues of the sample covariance, divisor n−1).
	Variance []float64
	// Total is the total variance: the trace of the sample covariance.
	Total float64
	// Iterations is how many subspace iterations were needed.
	Iterations int
}

// ExplainedRatio returns Variance[i]/Total for each component (the share of
// the points' spread that each direction keeps); zeros when Total is 0.
func (p *PCA) ExplainedRatio() []float64 {
	out := make([]float64, len(p.Variance))
	if p.Total > 0 {
		for i, v := range p.Variance {
			out[i] = v / p.Total
		}
	}
	return out
}

// Transform projects one point (d values) onto the components.
func (p *PCA) Transform(x []float64) []float64 {
	out := make([]float64, len(p.Components))
	for i, c := range p.Components {
		s := 0.0
		for j, v := range c {
			s += (x[j] - p.Mean[j]) * v
		}
		out[i] = s
	}
	return out
}

// pcaTol is the relative residual ‖Cq − λq‖ ≤ pcaTol·λ₁ at which a
// component counts as converged; pcaMaxIter bounds the iterations.
const (
	pcaTol     = 1e-9
	pcaMaxIter = 1000
)

// FitPCA finds the top k principal components of the n×d row-major points
// x in float64 by subspace iteration: a block of k+6 vectors is multiplied
// by the covariance C = XcᵀXc/(n−1) (without forming it: Xcᵀ(Xc·Q), O(n·d)
// per vector), re-orthonormalised by modified Gram–Schmidt (twice), and
// rotated by the eigenvectors of the small projected matrix QᵀCQ
// (Rayleigh–Ritz, Jacobi rotations), until every wanted component's
// residual ‖Cq − λq‖ falls below 1e-9·λ₁. The start block is fixed, so the
// result is deterministic. k is capped at d; components beyond the data's
// rank have zero variance. It is an error for n < 2, d < 1, k < 1 or a
// non-finite value.
func FitPCA(x []float64, n, d, k int) (*PCA, error) {
	switch {
	case n < 2:
		return nil, fmt.Errorf("inspect: PCA needs at least 2 points, got %d", n)
	case d < 1:
		return nil, fmt.Errorf("inspect: PCA needs at least 1 dimension, got %d", d)
	case k < 1:
		return nil, fmt.Errorf("inspect: PCA needs at least 1 component, got %d", k)
	case len(x) != n*d:
		return nil, fmt.Errorf("inspect: PCA got %d values for %d points of %d dimensions; want %d", len(x), n, d, n*d)
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("inspect: PCA: value %d (point %d, dimension %d) is %v", i, i/d, i%d, v)
		}
	}
	k = min(k, d)
	mean := make([]float64, d)
	for r := 0; r < n; r++ {
		row := x[r*d : (r+1)*d]
		for j, v := range row {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	xc := make([]float64, n*d)
	total := 0.0
	for r := 0; r < n; r++ {
		for j := 0; j < d; j++ {
			v := x[r*d+j] - mean[j]
			xc[r*d+j] = v
			total += v * v
		}
	}
	total /= float64(n - 1)
	res := &PCA{Mean: mean, Total: total}
	if total == 0 {
		// Every point is the same: any orthonormal directions will do.
		for i := 0; i < k; i++ {
			c := make([]float64, d)
			c[i] = 1
			res.Components = append(res.Components, c)
			res.Variance = append(res.Variance, 0)
		}
		return res, nil
	}
	b := min(k+6, d)
	rng := rand.New(rand.NewPCG(0x9e3779b97f4a7c15, uint64(d)))
	q := make([][]float64, b)
	for i := range q {
		q[i] = make([]float64, d)
		for j := range q[i] {
			q[i][j] = rng.NormFloat64()
		}
	}
	orthonormalize(q, rng)
	y := make([][]float64, b)
	for i := range y {
		y[i] = make([]float64, d)
	}
	z := make([]float64, n)
	var lambda []float64
	for it := 1; ; it++ {
		// Y = C·Q.
		for i := range q {
			covMul(y[i], q[i], xc, z, n, d)
		}
		// Rayleigh–Ritz: B = QᵀCQ = QᵀY, B = W·diag(λ)·Wᵀ; rotate Q and Y.
		bm := make([][]float64, b)
		for i := range bm {
			bm[i] = make([]float64, b)
			for j := range bm[i] {
				bm[i][j] = dot(q[i], y[j])
			}
		}
		for i := range bm { // symmetrise rounding
			for j := 0; j < i; j++ {
				s := (bm[i][j] + bm[j][i]) / 2
				bm[i][j], bm[j][i] = s, s
			}
		}
		var wv [][]float64
		lambda, wv = jacobiEigen(bm)
		q = rotate(q, wv)
		y = rotate(y, wv)
		converged := true
		for i := 0; i < k; i++ {
			r := 0.0
			for j := 0; j < d; j++ {
				e := y[i][j] - lambda[i]*q[i][j]
				r += e * e
			}
			if math.Sqrt(r) > pcaTol*lambda[0] {
				converged = false
				break
			}
		}
		if converged || it >= pcaMaxIter {
			res.Iterations = it
			break
		}
		for i := range q {
			copy(q[i], y[i])
		}
		orthonormalize(q, rng)
	}
	for i := 0; i < k; i++ {
		c := q[i]
		big := 0
		for j := range c {
			if math.Abs(c[j]) > math.Abs(c[big]) {
				big = j
			}
		}
		if c[big] < 0 {
			for j := range c {
				c[j] = -c[j]
			}
		}
		res.Components = append(res.Components, c)
		res.Variance = append(res.Variance, math.Max(lambda[i], 0))
	}
	return res, nil
}

// covMul sets dst = Xcᵀ(Xc·v)/(n−1), using z (n values) as scratch.
func covMul(dst, v, xc, z []float64, n, d int) {
	for r := 0; r < n; r++ {
		z[r] = dot(xc[r*d:(r+1)*d], v)
	}
	clear(dst)
	for r := 0; r < n; r++ {
		axpy(dst, z[r], xc[r*d:(r+1)*d])
	}
	s := 1 / float64(n-1)
	for j := range dst {
		dst[j] *= s
	}
}

func dot(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// axpy sets y += a·x.
func axpy(y []float64, a float64, x []float64) {
	x = x[:len(y)]
	for i := range y {
		y[i] += a * x[i]
	}
}

// orthonormalize makes the vectors of q orthonormal in place by modified
// Gram–Schmidt, run twice ("twice is enough", Giraud et al. 2005). A vector
// that vanishes against the others (the data has lower rank than the
// block) is replaced by a random one from rng and orthogonalised again.
func orthonormalize(q [][]float64, rng *rand.Rand) {
	for i := range q {
		orig := math.Sqrt(dot(q[i], q[i]))
		for attempt := 0; ; attempt++ {
			for pass := 0; pass < 2; pass++ {
				for j := 0; j < i; j++ {
					axpy(q[i], -dot(q[j], q[i]), q[j])
				}
			}
			nrm := math.Sqrt(dot(q[i], q[i]))
			if nrm > 1e-10*orig && nrm > 0 || attempt == 3 {
				for j := range q[i] {
					q[i][j] /= nrm
				}
				break
			}
			for j := range q[i] {
				q[i][j] = rng.NormFloat64()
			}
			orig = math.Sqrt(dot(q[i], q[i]))
		}
	}
}

// rotate returns the vectors Σ_j v[j]·w[j][i] for each column i of w.
func rotate(v [][]float64, w [][]float64) [][]float64 {
	out := make([][]float64, len(v))
	for i := range out {
		out[i] = make([]float64, len(v[0]))
		for j := range v {
			if c := w[j][i]; c != 0 {
				axpy(out[i], c, v[j])
			}
		}
	}
	return out
}

// jacobiEigen diagonalises the symmetric matrix a (destroyed) by cyclic
// Jacobi rotations and returns its eigenvalues in decreasing order and the
// matching eigenvectors as the columns of w (w[row][col]).
func jacobiEigen(a [][]float64) ([]float64, [][]float64) {
	n := len(a)
	w := make([][]float64, n)
	for i := range w {
		w[i] = make([]float64, n)
		w[i][i] = 1
	}
	for sweep := 0; sweep < 100; sweep++ {
		off, diag := 0.0, 0.0
		for i := 0; i < n; i++ {
			diag += a[i][i] * a[i][i]
			for j := i + 1; j < n; j++ {
				off += a[i][j] * a[i][j]
			}
		}
		if off <= 1e-30*diag || off == 0 {
			break
		}
		for p := 0; p < n; p++ {
			for r := p + 1; r < n; r++ {
				if a[p][r] == 0 {
					continue
				}
				theta := (a[r][r] - a[p][p]) / (2 * a[p][r])
				t := 1 / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				if theta < 0 {
					t = -t
				}
				c := 1 / math.Sqrt(t*t+1)
				s := t * c
				for k := 0; k < n; k++ { // A ← A·J
					akp, akr := a[k][p], a[k][r]
					a[k][p], a[k][r] = c*akp-s*akr, s*akp+c*akr
				}
				for k := 0; k < n; k++ { // A ← Jᵀ·A
					apk, ark := a[p][k], a[r][k]
					a[p][k], a[r][k] = c*apk-s*ark, s*apk+c*ark
				}
				for k := 0; k < n; k++ {
					wkp, wkr := w[k][p], w[k][r]
					w[k][p], w[k][r] = c*wkp-s*wkr, s*wkp+c*wkr
				}
			}
		}
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(x, y int) bool { return a[idx[x]][idx[x]] > a[idx[y]][idx[y]] })
	vals := make([]float64, n)
	vecs := make([][]float64, n)
	for i := range vecs {
		vecs[i] = make([]float64, n)
	}
	for c, j := range idx {
		vals[c] = a[j][j]
		for r := 0; r < n; r++ {
			vecs[r][c] = w[r][j]
		}
	}
	return vals, vecs
}
