package kern

import (
	"sync"
)

// gemmTiny is plain loops for products too small to repay packing.
func gemmTiny(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sai, sap := lda, 1
	if transA {
		sai, sap = 1, lda
	}
	sbp, sbj := ldb, 1
	if transB {
		sbp, sbj = 1, ldb
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		for j := range row {
			var s float32
			ai, bj := i*sai, j*sbj
			for p := 0; p < k; p++ {
				s += a[ai+p*sap] * b[bj+p*sbp]
			}
			if beta == 0 {
				row[j] = alpha * s
			} else {
				row[j] = alpha*s + beta*row[j]
			}
		}
	}
}

// thinJob computes products with m ≤ 2 or n ≤ 2 (a row vector times a
// matrix, a matrix times a column vector) with the vector kernels, without
// packing: packing would touch as much memory as the product itself.
//
// axpy form (op(B) rows contiguous, m ≤ 2): C[i,:] = beta*C[i,:] +
// Σ_p alpha*op(A)[i,p]*op(B)[p,:], split over column ranges.
// dot form (otherwise): C[i,j] = alpha*dot(op(A)[i,:], op(B)[:,j]) +
// beta*C[i,j], split over (i, j) pairs; rows or columns that are not
// contiguous are gathered first.
type thinJob struct {
	jobBase
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
	axpy           bool
	bcols          []float32 // dot form, !transB: op(B) columns gathered, n×k
	total, chunk   int
	chunks         stealer
}

var thinJobs = sync.Pool{New: func() any { return new(thinJob) }}

func gemmThin(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, par bool) {
	t := thinJobs.Get().(*thinJob)
	// Fields are set one by one: the pooled job keeps its jobBase (whose
	// generation count must only grow, see parallel) and its stealer.
	t.transA, t.transB, t.m, t.n, t.k, t.alpha, t.beta = transA, transB, m, n, k, alpha, beta
	t.a, t.b, t.c, t.lda, t.ldb, t.ldc = a, b, c, lda, ldb, ldc
	t.axpy, t.bcols = false, nil
	var fb *fbuf
	if !transB && m <= 2 {
		t.axpy = true
		t.total = n
		t.chunk = n
		if par {
			// At least ~64k multiply-adds a chunk, twice what a hand-off
			// to another core costs (0.5 µs): a batch-1 GRU step's
			// 1×128·128×384 had been split in two and its sequence (64
			// of them) ran at 0.92–1.12× onnxruntime's speed over five
			// rounds; whole, 1.01–1.04×.
			t.chunk = max(64, (65536+k-1)/k, (n+4*Threads()-1)/(4*Threads()))
		}
	} else {
		if !transB {
			fb = bBufs.Get().(*fbuf)
			t.bcols = fb.get(n * k)
			for j := 0; j < n; j++ {
				col := t.bcols[j*k : j*k+k]
				for p := range col {
					col[p] = b[p*ldb+j]
				}
			}
		}
		t.total = m * n
		t.chunk = t.total
		if par {
			// at least ~32k multiply-adds per chunk
			t.chunk = max((32768+k-1)/k, (t.total+4*Threads()-1)/(4*Threads()))
		}
	}
	chunks := (t.total + t.chunk - 1) / t.chunk
	parallel(t, min(Threads()-1, chunks-1))
	if fb != nil {
		bBufs.Put(fb)
	}
	t.a, t.b, t.c, t.bcols = nil, nil, nil, nil
	thinJobs.Put(t)
}

func (t *thinJob) prepare(parts int) { t.chunks.init((t.total+t.chunk-1)/t.chunk, parts) }

func (t *thinJob) run(part int) {
	var fb *fbuf
	for {
		ch, ok := t.chunks.claim(part)
		if !ok {
			break
		}
		lo := ch * t.chunk
		hi := min(lo+t.chunk, t.total)
		if t.axpy {
			t.axpyCols(lo, hi)
			continue
		}
		if fb == nil && t.transA {
			fb = aBufs.Get().(*fbuf)
		}
		t.dots(lo, hi, fb)
	}
	if fb != nil {
		aBufs.Put(fb)
	}
}

func (t *thinJob) axpyCols(lo, hi int) {
	sai, sap := t.lda, 1
	if t.transA {
		sai, sap = 1, t.lda
	}
	for i := 0; i < t.m; i++ {
		row := t.c[i*t.ldc+lo : i*t.ldc+hi]
		switch t.beta {
		case 0:
			clear(row)
		case 1:
		default:
			Sscal(t.beta, row)
		}
		// All k rows of B in one pass with the row of C in registers
		// (a GRU's or LSTM's step on one sequence is such a product),
		// else row by row.
		var xs [256]float32
		if t.k <= len(xs) {
			x := xs[:t.k]
			for p := range x {
				x[p] = t.alpha * t.a[i*sai+p*sap]
			}
			if gemvRows(x, t.b[lo:], t.ldb, row) {
				continue
			}
		}
		for p := 0; p < t.k; p++ {
			o := p*t.ldb + lo
			Saxpy(t.alpha*t.a[i*sai+p*sap], t.b[o:o+hi-lo], row)
		}
	}
}

func (t *thinJob) dots(lo, hi int, fb *fbuf) {
	k := t.k
	var arow []float32
	lastI := -1
	for idx := lo; idx < hi; idx++ {
		i, j := idx/t.n, idx%t.n
		if i != lastI {
			lastI = i
			if t.transA {
				arow = fb.get(k)
				for p := range arow {
					arow[p] = t.a[p*t.lda+i]
				}
			} else {
				arow = t.a[i*t.lda : i*t.lda+k]
			}
		}
		var bcol []float32
		if t.transB {
			bcol = t.b[j*t.ldb : j*t.ldb+k]
		} else {
			bcol = t.bcols[j*k : j*k+k]
		}
		s := t.alpha * Sdot(arow, bcol)
		o := i*t.ldc + j
		if t.beta == 0 {
			t.c[o] = s
		} else {
			t.c[o] = s + t.beta*t.c[o]
		}
	}
}
