package kern

import (
	"fmt"
	"math"
	"sync"
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
	// Large tensors are cut into runs of whole 16-float vectors that the
	// threads update side by side: each weight's update reads and writes
	// only its own four values, so the bits do not depend on the split,
	// and the one serial pass over an MLP's first layer (784×256 weights,
	// 3 MB of state) was a tenth of its training step.
	if n >= adamParallelMin && Threads() > 1 {
		a := adamCalls.Get().(*adamCall)
		a.w, a.g, a.m, a.v, a.c = w, g[:n], m[:n], v[:n], c
		ParallelFor((n+15)/16, adamParallelMin/64, a.fn)
		*a = adamCall{fn: a.fn}
		adamCalls.Put(a)
		return
	}
	adamRun(w, g[:n], m[:n], v[:n], &c)
}

// adamCall carries one parallel AdamUpdate's arguments to its chunks; the
// calls are pooled with their method value bound once, so that an
// optimiser's step allocates nothing.
type adamCall struct {
	w, g, m, v []float32
	c          [8]float32
	fn         func(lo, hi int)
}

var adamCalls = sync.Pool{New: func() any {
	a := new(adamCall)
	a.fn = a.chunk
	return a
}}

// chunk updates the vectors [lo, hi) of 16 weights.
func (a *adamCall) chunk(lo, hi int) {
	lo, hi = lo*16, min(hi*16, len(a.w))
	adamRun(a.w[lo:hi], a.g[lo:hi], a.m[lo:hi], a.v[lo:hi], &a.c)
}

// adamParallelMin is the size from which AdamUpdate uses the threads: 32k
// weights (512 KB of weights, gradients and moments) take about 10 µs.
const adamParallelMin = 1 << 15

func adamRun(w, g, m, v []float32, c *[8]float32) {
	if !adamAsm(w, g, m, v, c) {
		adamGo(w, g, m, v, c)
	}
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
