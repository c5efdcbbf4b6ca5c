package inspect

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func norm(v []float64) float64 { return math.Sqrt(dot(v, v)) }

// unit returns v/|v|.
func unit(v []float64) []float64 {
	n := norm(v)
	out := make([]float64, len(v))
	for i := range v {
		out[i] = v[i] / n
	}
	return out
}

func TestFitPCARecoversAPlane(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, d = 300, 7
	// An orthonormal pair u, v spanning a plane in 7-D, and an offset.
	u := make([]float64, d)
	v := make([]float64, d)
	off := make([]float64, d)
	for j := range u {
		u[j], v[j], off[j] = rng.NormFloat64(), rng.NormFloat64(), 5*rng.NormFloat64()
	}
	u = unit(u)
	axpy(v, -dot(u, v), u)
	v = unit(v)
	x := make([]float64, n*d)
	a := make([]float64, n)
	b := make([]float64, n)
	for i := 0; i < n; i++ {
		a[i], b[i] = 3*rng.NormFloat64(), rng.NormFloat64()+0.5*a[i]
		for j := 0; j < d; j++ {
			x[i*d+j] = off[j] + a[i]*u[j] + b[i]*v[j]
		}
	}
	p, err := FitPCA(x, n, d, 2)
	if err != nil {
		t.Fatal(err)
	}
	r := p.ExplainedRatio()
	if s := r[0] + r[1]; math.Abs(s-1) > 1e-9 || r[0] < r[1] {
		t.Errorf("explained ratios %v: two components of points on a plane should keep all the variance", r)
	}
	// The components lie in the plane and are orthonormal.
	for i, c := range p.Components {
		if in := math.Hypot(dot(c, u), dot(c, v)); math.Abs(in-1) > 1e-9 {
			t.Errorf("component %d has length %v inside the plane, want 1", i, in)
		}
	}
	if o := dot(p.Components[0], p.Components[1]); math.Abs(o) > 1e-9 {
		t.Errorf("components not orthogonal: %v", o)
	}
	// The variances are the eigenvalues of the 2×2 sample covariance of
	// the plane coordinates (a, b), in closed form.
	ma, mb := mean(a), mean(b)
	var saa, sbb, sab float64
	for i := range a {
		saa += (a[i] - ma) * (a[i] - ma)
		sbb += (b[i] - mb) * (b[i] - mb)
		sab += (a[i] - ma) * (b[i] - mb)
	}
	saa, sbb, sab = saa/(n-1), sbb/(n-1), sab/(n-1)
	tr, det := saa+sbb, saa*sbb-sab*sab
	l1 := tr/2 + math.Sqrt(tr*tr/4-det)
	l2 := tr/2 - math.Sqrt(tr*tr/4-det)
	if math.Abs(p.Variance[0]-l1) > 1e-9*l1 || math.Abs(p.Variance[1]-l2) > 1e-9*l1 {
		t.Errorf("variances %v, want %v and %v", p.Variance, l1, l2)
	}
	if math.Abs(p.Total-tr) > 1e-9*tr {
		t.Errorf("total variance %v, want %v", p.Total, tr)
	}
	// The mean is recovered, and a point projects to its plane coordinates
	// in the principal basis.
	for j := range off {
		if want := off[j] + ma*u[j] + mb*v[j]; math.Abs(p.Mean[j]-want) > 1e-9 {
			t.Fatalf("mean[%d] = %v, want %v", j, p.Mean[j], want)
		}
	}
	c := p.Transform(x[:d])
	if got, want := math.Hypot(c[0], c[1]), math.Hypot(a[0]-ma, b[0]-mb); math.Abs(got-want) > 1e-9 {
		t.Errorf("point 0 at distance %v from the mean in the projection, %v in the plane", got, want)
	}
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// TestFitPCAAgainstFullEigen compares subspace iteration with a full Jacobi
// eigendecomposition of the explicitly formed covariance matrix.
func TestFitPCAAgainstFullEigen(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n, d, k = 200, 15, 4
	x := make([]float64, n*d)
	for i := 0; i < n; i++ {
		f := rng.NormFloat64()
		for j := 0; j < d; j++ {
			// Correlated columns with a decaying spread.
			x[i*d+j] = rng.NormFloat64()*math.Pow(0.8, float64(j)) + f*float64(j%3)
		}
	}
	p, err := FitPCA(x, n, d, k)
	if err != nil {
		t.Fatal(err)
	}
	cov := make([][]float64, d)
	for a := range cov {
		cov[a] = make([]float64, d)
		for b := range cov[a] {
			for i := 0; i < n; i++ {
				cov[a][b] += (x[i*d+a] - p.Mean[a]) * (x[i*d+b] - p.Mean[b])
			}
			cov[a][b] /= n - 1
		}
	}
	vals, vecs := jacobiEigen(cov)
	for i := 0; i < k; i++ {
		if math.Abs(p.Variance[i]-vals[i]) > 1e-8*vals[0] {
			t.Errorf("variance %d: %v, full eigendecomposition %v", i, p.Variance[i], vals[i])
		}
		col := make([]float64, d)
		for r := range col {
			col[r] = vecs[r][i]
		}
		if c := math.Abs(dot(col, p.Components[i])); math.Abs(c-1) > 1e-6 {
			t.Errorf("component %d: |cos| %v with the eigenvector", i, c)
		}
	}
	// Deterministic, and signed by the largest coordinate.
	q, _ := FitPCA(x, n, d, k)
	for i := range p.Components {
		big := 0
		for j, v := range p.Components[i] {
			if q.Components[i][j] != v {
				t.Fatalf("component %d differs between runs", i)
			}
			if math.Abs(v) > math.Abs(p.Components[i][big]) {
				big = j
			}
		}
		if p.Components[i][big] < 0 {
			t.Errorf("component %d's largest coordinate is negative", i)
		}
	}
}

func TestFitPCAEdgeCases(t *testing.T) {
	// One dimension: one component, all the variance.
	p, err := FitPCA([]float64{1, 2, 3, 4}, 4, 1, 2)
	if err != nil || len(p.Components) != 1 || math.Abs(p.ExplainedRatio()[0]-1) > 1e-12 {
		t.Fatalf("1-D PCA: %+v, %v", p, err)
	}
	// Identical points: zero variance, no NaN.
	p, err = FitPCA([]float64{1, 1, 1, 1, 1, 1}, 3, 2, 2)
	if err != nil || p.Total != 0 || p.ExplainedRatio()[0] != 0 {
		t.Fatalf("constant points: %+v, %v", p, err)
	}
	for _, c := range []struct {
		x       []float64
		n, d, k int
		want    string
	}{
		{[]float64{1, 2}, 1, 2, 2, "at least 2 points"},
		{[]float64{1, 2, 3}, 2, 2, 2, "got 3 values for 2 points of 2 dimensions"},
		{[]float64{1, math.NaN(), 3, 4}, 2, 2, 2, "is NaN"},
		{[]float64{1, 2, 3, 4}, 2, 2, 0, "at least 1 component"},
	} {
		if _, err := FitPCA(c.x, c.n, c.d, c.k); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("FitPCA error %v, want %q", err, c.want)
		}
	}
}
