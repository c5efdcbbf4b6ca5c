package explain

import (
	"math"
	"math/rand/v2"
	"testing"
)

// gaussSolve solves a·x = b by Gaussian elimination with partial pivoting
// (a reference independent of the Cholesky code).
func gaussSolve(a []float64, b []float64, m int) []float64 {
	a = append([]float64(nil), a...)
	x := append([]float64(nil), b...)
	for c := range m {
		p := c
		for r := c + 1; r < m; r++ {
			if math.Abs(a[r*m+c]) > math.Abs(a[p*m+c]) {
				p = r
			}
		}
		for k := range m {
			a[c*m+k], a[p*m+k] = a[p*m+k], a[c*m+k]
		}
		x[c], x[p] = x[p], x[c]
		for r := c + 1; r < m; r++ {
			f := a[r*m+c] / a[c*m+c]
			for k := c; k < m; k++ {
				a[r*m+k] -= f * a[c*m+k]
			}
			x[r] -= f * x[c]
		}
	}
	for r := m - 1; r >= 0; r-- {
		for k := r + 1; k < m; k++ {
			x[r] -= a[r*m+k] * x[k]
		}
		x[r] /= a[r*m+r]
	}
	return x
}

func TestWeightedRidgeMatchesDirectSolution(t *testing.T) {
	// The surrogate equals the minimiser of Σ w_i (y_i − c − β·z_i)² + α|β|²
	// computed directly from the (d+1)×(d+1) normal equations with an
	// unpenalised intercept.
	r := rand.New(rand.NewPCG(1, 2))
	const n, d, alpha = 200, 4, 0.7
	p := &problem{n: n, d: d, k: 1, z: make([]float32, n*d), y: make([]float32, n), dist: make([]float64, n)}
	w := make([]float64, n)
	for i := range n {
		for j := range d {
			p.z[i*d+j] = float32(r.NormFloat64())
		}
		p.y[i] = float32(1 + 2*float64(p.z[i*d]) - float64(p.z[i*d+2]) + 0.3*r.NormFloat64())
		w[i] = r.Float64()
	}
	st := weightedStats(p, w, []int{0}, false)
	all := []int{0, 1, 2, 3}
	le := st.fitLabel(p, 0, 0, all, alpha, []string{"a", "b", "c", "d"})
	// Direct: unknowns (c, β0..β3).
	m := d + 1
	a := make([]float64, m*m)
	b := make([]float64, m)
	row := make([]float64, m)
	for i := range n {
		row[0] = 1
		for j := range d {
			row[j+1] = float64(p.z[i*d+j])
		}
		for u := range m {
			b[u] += w[i] * row[u] * float64(p.y[i])
			for v := range m {
				a[u*m+v] += w[i] * row[u] * row[v]
			}
		}
	}
	for j := 1; j < m; j++ {
		a[j*m+j] += alpha
	}
	x := gaussSolve(a, b, m)
	if math.Abs(le.Intercept-x[0]) > 1e-9 {
		t.Errorf("intercept %v, direct %v", le.Intercept, x[0])
	}
	got := weightsByFeature(&le, d)
	for j := range d {
		if math.Abs(got[j]-x[j+1]) > 1e-9 {
			t.Errorf("β%d = %v, direct %v", j, got[j], x[j+1])
		}
	}
	// Weighted R² from its definition.
	var sw, ybar float64
	for i := range n {
		sw += w[i]
		ybar += w[i] * float64(p.y[i])
	}
	ybar /= sw
	var sse, sst float64
	for i := range n {
		pred := x[0]
		for j := range d {
			pred += x[j+1] * float64(p.z[i*d+j])
		}
		sse += w[i] * (float64(p.y[i]) - pred) * (float64(p.y[i]) - pred)
		sst += w[i] * (float64(p.y[i]) - ybar) * (float64(p.y[i]) - ybar)
	}
	if want := 1 - sse/sst; math.Abs(le.Score-want) > 1e-9 {
		t.Errorf("score %v, weighted R² %v", le.Score, want)
	}
	// Local prediction is the surrogate at row 0.
	pred0 := x[0]
	for j := range d {
		pred0 += x[j+1] * float64(p.z[j])
	}
	if math.Abs(le.LocalPrediction-pred0) > 1e-9 || le.ModelPrediction != float64(p.y[0]) {
		t.Errorf("local %v (want %v), model %v (want %v)", le.LocalPrediction, pred0, le.ModelPrediction, p.y[0])
	}
}

func TestLOOScoreMatchesRefitting(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const n, d, alpha = 40, 3, 0.5
	p := &problem{n: n, d: d, k: 1, z: make([]float32, n*d), y: make([]float32, n)}
	w := make([]float64, n)
	for i := range n {
		for j := range d {
			p.z[i*d+j] = float32(r.NormFloat64())
		}
		p.y[i] = float32(float64(p.z[i*d])*float64(p.z[i*d+1]) + r.NormFloat64())
		w[i] = 0.2 + r.Float64()
	}
	all := []int{0, 1, 2}
	st := weightedStats(p, w, []int{0}, true)
	got := st.looScore(0, all, alpha)
	// Brute force: refit without row i (weight 0; intercept and means
	// refitted too), predict row i.
	var press float64
	for i := range n {
		wi := append([]float64(nil), w...)
		wi[i] = 0
		sti := weightedStats(p, wi, []int{0}, false)
		le := sti.fitLabel(p, 0, 0, all, alpha, []string{"a", "b", "c"})
		pred := le.Intercept
		for _, fw := range le.Weights {
			pred += fw.Weight * float64(p.z[i*d+fw.Feature])
		}
		e := float64(p.y[i]) - pred
		press += w[i] * e * e
	}
	want := 1 - press/st.syy[0]
	if math.Abs(got-want) > 1e-9 {
		t.Errorf("LOO R² %v, refitting gives %v", got, want)
	}
}

func TestBinaryCrossProductsMatchDense(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const n, d, k = 700, 9, 3
	p := &problem{n: n, d: d, k: k, z: make([]float32, n*d), y: make([]float32, n*k)}
	w := make([]float64, n)
	for i := range n {
		for j := range d {
			if r.Float64() < 0.3 {
				p.z[i*d+j] = 1
			}
		}
		for l := range k {
			p.y[i*k+l] = float32(r.NormFloat64())
		}
		w[i] = r.Float64()
	}
	w[3] = 0
	labels := []int{2, 0}
	dense := weightedStats(p, w, labels, false)
	p.binary = true
	sparse := weightedStats(p, w, labels, false)
	close := func(a, b float64) bool { return math.Abs(a-b) <= 1e-10*(1+math.Abs(a)) }
	for i := range dense.g {
		if !close(dense.g[i], sparse.g[i]) {
			t.Fatalf("G[%d]: dense %v, binary %v", i, dense.g[i], sparse.g[i])
		}
	}
	for l := range labels {
		for j := range d {
			if !close(dense.b[l][j], sparse.b[l][j]) {
				t.Fatalf("b[%d][%d]: dense %v, binary %v", l, j, dense.b[l][j], sparse.b[l][j])
			}
		}
		if !close(dense.syy[l], sparse.syy[l]) {
			t.Fatalf("syy[%d]: dense %v, binary %v", l, dense.syy[l], sparse.syy[l])
		}
	}
}
