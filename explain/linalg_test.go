package explain

import (
	"math"
	"math/rand/v2"
	"slices"
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
	p.z0 = p.z[:d]
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
	p.z0 = p.z[:d]
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

func TestBinaryStatsMatchDense(t *testing.T) {
	// A binary problem (column bitsets, weights by number of ones) gives
	// the same statistics as the same rows held densely, including a weight
	// class of weight 0 and rows past a 64-row word.
	r := rand.New(rand.NewPCG(5, 6))
	const n, d, k = 700, 9, 3
	p := newMaskProblem(d, func(c int) float64 { return math.Sqrt(float64(d - c)) })
	p.growRows(n)
	p.setInstanceRow()
	rows := make([]uint8, n*d)
	for j := range d {
		rows[j] = 1
	}
	for i := 1; i < n; i++ {
		for j := range d {
			if r.Float64() < 0.3 {
				rows[i*d+j] = 1
				p.masks[i] |= 1 << j
				p.ones[i]++
			}
		}
	}
	p.n, p.k = n, k
	p.y = make([]float32, n*k)
	for i := range p.y {
		p.y[i] = float32(r.NormFloat64())
	}
	labels := []int{2, 0}
	const width = 1.5
	wc := p.classWeights(width)
	wc[2] = 0 // rows with two ones carry no weight
	binary := binaryStats(p, wc, labels)
	q := p.dense()
	w := make([]float64, n)
	for i := range n {
		w[i] = wc[p.ones[i]]
		for j := range d {
			if got := q.z[i*d+j]; got != float32(rows[i*d+j]) {
				t.Fatalf("dense view row %d column %d is %v, want %v", i, j, got, rows[i*d+j])
			}
		}
	}
	dense := weightedStats(q, w, labels, false)
	close := func(a, b float64) bool { return math.Abs(a-b) <= 1e-10*(1+math.Abs(a)) }
	if !close(dense.sumW, binary.sumW) || !close(dense.ess, binary.ess) {
		t.Fatalf("Σw %v / %v, ESS %v / %v", dense.sumW, binary.sumW, dense.ess, binary.ess)
	}
	for i := range dense.g {
		if !close(dense.g[i], binary.g[i]) {
			t.Fatalf("G[%d]: dense %v, binary %v", i, dense.g[i], binary.g[i])
		}
	}
	for j := range d {
		if !close(dense.mu[j], binary.mu[j]) {
			t.Fatalf("μ[%d]: dense %v, binary %v", j, dense.mu[j], binary.mu[j])
		}
	}
	for l := range labels {
		for j := range d {
			if !close(dense.b[l][j], binary.b[l][j]) {
				t.Fatalf("b[%d][%d]: dense %v, binary %v", l, j, dense.b[l][j], binary.b[l][j])
			}
		}
		if !close(dense.syy[l], binary.syy[l]) || !close(dense.ybar[l], binary.ybar[l]) {
			t.Fatalf("label %d: syy %v / %v, ȳ %v / %v", l, dense.syy[l], binary.syy[l], dense.ybar[l], binary.ybar[l])
		}
	}
}

func TestTranspose64AndColumns(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	var a, orig [64]uint64
	for i := range a {
		a[i] = r.Uint64()
	}
	orig = a
	transpose64(&a)
	for row := range 64 {
		for col := range 64 {
			if got, want := a[col]>>row&1, orig[row]>>col&1; got != want {
				t.Fatalf("transposed bit (%d,%d) is %d, want %d", col, row, got, want)
			}
		}
	}
	// A binary problem of 150 features (three mask words per row) over
	// 200 rows: its column bitsets hold every bit of every row.
	const n, d = 200, 150
	p := newMaskProblem(d, func(int) float64 { return 0 })
	p.growRows(n)
	for i := range p.masks {
		p.masks[i] = r.Uint64()
		if i%p.dw == p.dw-1 {
			p.masks[i] &= 1<<(d-64*(p.dw-1)) - 1
		}
	}
	p.n = n
	cols, words := p.columns()
	if words != 4 || len(cols) != d*words {
		t.Fatalf("%d words per column, %d in all; want 4 and %d", words, len(cols), 4*d)
	}
	for i := range n {
		for j := range d {
			if got, want := cols[j*words+i/64]>>(i%64)&1, p.bit(i, j); got != want {
				t.Fatalf("column %d, row %d: %d, want %d", j, i, got, want)
			}
		}
	}
	for j := range d {
		if last := cols[j*words+words-1] >> (n % 64); last != 0 {
			t.Fatalf("column %d has bits past row %d", j, n)
		}
	}
}

// naiveMeat is Σ_i w_i² e_i² (z_i − μ)(z_i − μ)ᵀ over features f, from its
// definition on dense rows.
func naiveMeat(p *problem, w []float64, st *stats, l, label int, f []int, beta []float64) []float64 {
	m := len(f)
	meat := make([]float64, m*m)
	for i := range p.n {
		e := float64(p.y[i*p.k+label]) - st.ybar[l]
		for a, j := range f {
			e -= beta[a] * (float64(p.z[i*p.d+j]) - st.mu[j])
		}
		for a, ja := range f {
			for b, jb := range f {
				meat[a*m+b] += w[i] * w[i] * e * e * (float64(p.z[i*p.d+ja]) - st.mu[ja]) * (float64(p.z[i*p.d+jb]) - st.mu[jb])
			}
		}
	}
	return meat
}

func TestSandwichMeatMatchesDefinition(t *testing.T) {
	// The meat of the rank confidence, from dense rows and from a binary
	// problem's bits (by pattern for small surrogates, by pairs of columns
	// for large ones), equals its definition.
	r := rand.New(rand.NewPCG(9, 10))
	const n, d, k = 900, 20, 2
	p := newMaskProblem(d, func(c int) float64 { return math.Sqrt(float64(d - c)) })
	p.growRows(n)
	p.setInstanceRow()
	for i := 1; i < n; i++ {
		for j := range d {
			if r.Float64() < 0.4 {
				p.masks[i] |= 1 << j
				p.ones[i]++
			}
		}
	}
	p.n, p.k = n, k
	p.y = make([]float32, n*k)
	for i := range n {
		p.y[i*k+1] = float32(0.1*float64(p.ones[i]) + r.NormFloat64()*(1+float64(p.bit(i, 3))))
	}
	labels := []int{1}
	binary := p.stats(2.5, labels, false)
	q := p.dense()
	w := q.rowWeights(2.5)
	dense := weightedStats(q, w, labels, false)
	close := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*(1+math.Abs(a)) }
	for _, f := range [][]int{{0, 3, 7, 19}, {1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 15, 17}} {
		beta, _ := ridgeSolve(dense.g, d, dense.b[0], f, 1)
		want := naiveMeat(q, w, dense, 0, 1, f, beta)
		for name, st := range map[string]*stats{"dense": dense, "binary": binary} {
			prob := q
			if name == "binary" {
				prob = p
			}
			got := st.meat(prob, 0, 1, f, beta)
			for i := range want {
				if !close(got[i], want[i]) {
					t.Fatalf("%s meat over %d features, entry %d: %v, want %v", name, len(f), i, got[i], want[i])
				}
			}
		}
	}
}

func TestRankConfidenceMatchesDirectSandwich(t *testing.T) {
	// z = min over a in the top k, b outside, of (|β_a| − |β_b|)/SE with
	// the sandwich covariance solved directly.
	r := rand.New(rand.NewPCG(11, 12))
	const n, d, alpha = 400, 5, 0.8
	p := &problem{n: n, d: d, k: 1, z: make([]float32, n*d), y: make([]float32, n), dist: make([]float64, n)}
	for i := range n {
		s := 0.0
		for j := range d {
			p.z[i*d+j] = float32(r.NormFloat64())
			s += []float64{2, -1.5, 1.2, -1.1, 0.2}[j] * float64(p.z[i*d+j])
		}
		p.y[i] = float32(s + r.NormFloat64()*(1+math.Abs(float64(p.z[i*d]))))
		p.dist[i] = r.Float64()
	}
	p.z0 = p.z[:d]
	q := *p
	w := q.rowWeights(1)
	st := weightedStats(p, w, []int{0}, false)
	f := []int{0, 1, 2, 3, 4}
	beta, factor := ridgeSolve(st.g, d, st.b[0], f, alpha)
	got := st.rankConfidence(p, 0, 0, f, beta, factor, 2)
	// Direct: V = A⁻¹ M A⁻¹ column by column with Gaussian elimination.
	a := make([]float64, d*d)
	for i := range d {
		for j := range d {
			a[i*d+j] = st.g[i*d+j]
		}
		a[i*d+i] += alpha
	}
	meat := naiveMeat(p, w, st, 0, 0, f, beta)
	x := make([]float64, d*d) // A⁻¹ M
	for c := range d {
		col := make([]float64, d)
		for i := range d {
			col[i] = meat[i*d+c]
		}
		sol := gaussSolve(slices.Clone(a), col, d)
		for i := range d {
			x[i*d+c] = sol[i]
		}
	}
	v := make([]float64, d*d) // (A⁻¹ (A⁻¹ M)ᵀ)ᵀ
	for rr := range d {
		sol := gaussSolve(slices.Clone(a), slices.Clone(x[rr*d:(rr+1)*d]), d)
		copy(v[rr*d:], sol)
	}
	// Top 2 by |β| are features 0 and 1.
	want := math.Inf(1)
	for _, ta := range []int{0, 1} {
		for _, ob := range []int{2, 3, 4} {
			sa, sb := math.Copysign(1, beta[ta]), math.Copysign(1, beta[ob])
			se := math.Sqrt(v[ta*d+ta] + v[ob*d+ob] - 2*sa*sb*v[ta*d+ob])
			want = math.Min(want, (math.Abs(beta[ta])-math.Abs(beta[ob]))/se)
		}
	}
	if math.Abs(got-want) > 1e-9*want {
		t.Errorf("rank confidence %v, direct sandwich %v", got, want)
	}
	if want < 1 || want > maxRankZ {
		t.Errorf("z = %v: the test's weights should be separated but not by more than the cap", want)
	}
}
