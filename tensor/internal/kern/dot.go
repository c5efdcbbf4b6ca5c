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
// lanes added in a fixed tree; with the AVX2 kernel 4×3 blocks in 8 lanes
// (lane p mod 8); the Go code (blocks under the kernel's size, or no
// kernel) uses the 16 lanes with a separate multiply and add. An entry's
// value depends only on its operands and the path, hence results are the
// same run to run on a machine, but differ slightly between kernels and
// from Sgemm's. It runs on the
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
	// Blocks of br rows by bc runs: the assembly kernel's (dotShape), or
	// 4×4 in Go where there is none.
	br, bc := dotShape()
	if br == 0 {
		br, bc = 4, 4
	}
	var out [16]float32
	for i0 := 0; i0 < m; i0 += br {
		for t0 := 0; t0 < n; t0 += bc {
			// A last block short of rows or runs is moved back to end at
			// m (n) and only its new entries are kept; with fewer than
			// a block's in all, the Go code does it.
			bi, bt := min(i0, max(0, m-br)), min(t0, max(0, n-bc))
			if nimg == 0 || k == 0 {
				clear(out[:])
			} else if m < br || n < bc || !dotBlock(k, nimg, a[bi*lda:], lda, astep, src, offs[bt:bt+bc], sstep, &out) {
				dotBlockGo(k, nimg, a, bi, min(br, m-bi), lda, astep, src, offs[bt:bt+min(bc, n-bt)], sstep, &out)
			}
			for i := i0; i < min(i0+br, m); i++ {
				row := c[i*ldc:]
				for t := t0; t < min(t0+bc, n); t++ {
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
