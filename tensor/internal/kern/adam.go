package kern

import (
	"fmt"
	"math"
)

// AdamUpdate applies Adam's update to the weights w with gradient g and
// moments m, v (all len(w) long), in float32 as torch.optim.Adam does:
//
//	g' = g + l2·w;  m = b1·m + (1−b1)·g';  v = b2·v + (1−b2)·g'·g'
//	w -= stepSize·m / (√v · invSqrtBC2 + eps)
//
// where stepSize = lr/(1−β₁ᵗ) and invSqrtBC2 = 1/√(1−β₂ᵗ) carry the bias
// corrections. The vector kernel uses the Go loop's operations in its
// order, so both give the same bits. It panics if g, m or v is shorter
// than w.
func AdamUpdate(w, g, m, v []float32, b1, b2, l2, stepSize, invSqrtBC2, eps float32) {
	n := len(w)
	if len(g) < n || len(m) < n || len(v) < n {
		panic(fmt.Sprintf("kern.AdamUpdate: %d weights, gradient %d, moments %d and %d", n, len(g), len(m), len(v)))
	}
	if n == 0 {
		return
	}
	c := [8]float32{b1, 1 - b1, b2, 1 - b2, l2, stepSize, invSqrtBC2, eps}
	// Not split over the threads: on a 2-core Zen 4 two threads took 15%
	// (784×256 weights) to 70% (32k) longer than one (BenchmarkAdamUpdate).
	if adamAsm(w, g, m, v, &c) {
		return
	}
	adamGo(w, g[:n], m[:n], v[:n], &c)
}

func adamGo(w, g, m, v []float32, c *[8]float32) {
	b1, ob1, b2, ob2, l2, stepSize, invSqrtBC2, eps := c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]
	for j := range w {
		gj := g[j] + l2*w[j]
		mj := b1*m[j] + ob1*gj
		vj := b2*v[j] + ob2*gj*gj
		m[j], v[j] = mj, vj
		denom := float32(math.Sqrt(float64(vj)))*invSqrtBC2 + eps
		w[j] -= stepSize * mj / denom
	}
}
