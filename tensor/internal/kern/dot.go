package kern

import "fmt"

// SgemmDotImages computes, for i < m and t < n,
//
//	C[i·ldc + t] = beta·C[i·ldc + t] + Σ_{j<nimg} Σ_{p<k} a[j·astep + i·lda + p] · src[j·sstep + offs[t] + p]
//
// (beta == 0 overwrites C): a product A·Bᵀ whose k-long rows of B are runs
// of src at the offsets offs, summed over nimg images that each shift A by
// astep and src by sstep. It is the weight gradient of a stride-1
// convolution read straight from the padded images, dy·colsᵀ, without
// packing either operand: with few filters and a long spatial k, packing
// for a GEMM costs as much as the product (each packed float would be used
// only m or n times).
//
// With the AVX-512 kernel it computes 4×4 blocks of dot products, each
// kept in 16 lanes (lane p mod 16, images and then p in order) and the
// lanes added in a fixed tree; so do the other paths (the Go code with a
// separate multiply and add), hence results are the same run to run and
// for any split of the work, but not bit-equal to Sgemm's. It runs on the
// calling goroutine. It panics (a programmer error) on a negative
// dimension, too few offsets, or a run, row or C out of range.
func SgemmDotImages(m, n, k, nimg int, a []float32, lda, astep int, src []float32, offs []int32, sstep int, beta float32, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 || nimg < 0 || lda < 0 || astep < 0 || sstep < 0 {
		panic(fmt.Sprintf("kern.SgemmDotImages: negative argument m=%d n=%d k=%d nimg=%d lda=%d astep=%d sstep=%d", m, n, k, nimg, lda, astep, sstep))
	}
	if len(offs) < n {
		panic(fmt.Sprintf("kern.SgemmDotImages: %d offsets for %d rows of B", len(offs), n))
	}
	checkMat("C", m, n, c, ldc, false)
	if m == 0 || n == 0 {
		return
	}
	if nimg > 0 && k > 0 {
		last := (nimg - 1) * astep
		if need := last + (m-1)*lda + k; need > len(a) {
			panic(fmt.Sprintf("kern.SgemmDotImages: A needs %d floats, has %d", need, len(a)))
		}
		for t, o := range offs[:n] {
			if o < 0 || (nimg-1)*sstep+int(o)+k > len(src) {
				panic(fmt.Sprintf("kern.SgemmDotImages: run %d at offset %d of image %d passes the %d floats of src", t, o, nimg-1, len(src)))
			}
		}
	}
	var out [16]float32
	for i0 := 0; i0 < m; i0 += 4 {
		for t0 := 0; t0 < n; t0 += 4 {
			// A last block short of rows or runs is moved back to end at
			// m (n) and only its new entries are kept; with fewer than
			// four in all, the Go code does it.
			bi, bt := min(i0, max(0, m-4)), min(t0, max(0, n-4))
			if nimg == 0 || k == 0 {
				clear(out[:])
			} else if m < 4 || n < 4 || !dotBlock(k, nimg, a[bi*lda:], lda, astep, src, offs[bt:bt+4], sstep, &out) {
				dotBlockGo(k, nimg, a, bi, min(4, m-bi), lda, astep, src, offs[bt:bt+min(4, n-bt)], sstep, &out)
			}
			for i := i0; i < min(i0+4, m); i++ {
				row := c[i*ldc:]
				for t := t0; t < min(t0+4, n); t++ {
					v := out[4*(i-bi)+t-bt]
					if beta == 0 {
						row[t] = v
					} else {
						row[t] = beta*row[t] + v
					}
				}
			}
		}
	}
}

// dotBlockGo is the block of dot products in Go, lane by lane as the
// assembly sums them: rows rows (≤ 4) of A from row i0, len(offs) (≤ 4)
// runs; out[4·i+t] for the block's row i and run t.
func dotBlockGo(k, nimg int, a []float32, i0, rows, lda, astep int, src []float32, offs []int32, sstep int, out *[16]float32) {
	for i := 0; i < rows; i++ {
		for t, o := range offs {
			var lanes [16]float32
			for j := 0; j < nimg; j++ {
				ar := a[j*astep+(i0+i)*lda:][:k]
				br := src[j*sstep+int(o):][:k]
				for p, v := range ar {
					lanes[p&15] += v * br[p]
				}
			}
			out[4*i+t] = sumLanes(&lanes)
		}
	}
}

// sumLanes adds 16 lanes in the assembly's tree: halves, then 128-bit
// blocks, then pairs, then neighbours.
func sumLanes(l *[16]float32) float32 {
	var h [8]float32
	for i := range h {
		h[i] = l[i] + l[i+8]
	}
	var q [4]float32
	for i := range q {
		q[i] = h[i] + h[i+4]
	}
	return (q[0] + q[2]) + (q[1] + q[3])
}
