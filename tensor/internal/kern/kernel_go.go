package kern

// goKernel is the portable micro-kernel: plain Go, a 2×4 register tile
// with k unrolled by four. The Go compiler keeps scalar float32 values in
// at most 15 registers on amd64; eight accumulators plus the loads fit
// without spilling, which made 2×4 the fastest tile measured (about 2.4×
// a 4×4 tile that spills).
var goKernel = &gemmKernel{
	name:   "purego 2x4",
	mr:     2,
	nr:     4,
	kc:     256,
	mc:     128,
	micro:  microGo2x4,
	usable: func() bool { return true },
}

// microGo2x4 is the pure-Go micro-kernel (see microFn). It expects packed A
// (rsa == 1, csa == 2) and falls back to a strided loop otherwise.
func microGo2x4(kc int, a []float32, rsa, csa int, b, c []float32, ldc int, alpha, beta float32) {
	if rsa != 1 || csa != 2 {
		microGoStrided(2, 4, kc, a, rsa, csa, b, c, ldc, alpha, beta)
		return
	}
	a = a[:2*kc]
	b = b[:4*kc]
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	p := 0
	for ; p+4 <= kc; p += 4 {
		ap := a[2*p : 2*p+8 : 2*p+8]
		bp := b[4*p : 4*p+16 : 4*p+16]
		a0, a1 := ap[0], ap[1]
		c00 += a0 * bp[0]
		c01 += a0 * bp[1]
		c02 += a0 * bp[2]
		c03 += a0 * bp[3]
		c10 += a1 * bp[0]
		c11 += a1 * bp[1]
		c12 += a1 * bp[2]
		c13 += a1 * bp[3]
		a0, a1 = ap[2], ap[3]
		c00 += a0 * bp[4]
		c01 += a0 * bp[5]
		c02 += a0 * bp[6]
		c03 += a0 * bp[7]
		c10 += a1 * bp[4]
		c11 += a1 * bp[5]
		c12 += a1 * bp[6]
		c13 += a1 * bp[7]
		a0, a1 = ap[4], ap[5]
		c00 += a0 * bp[8]
		c01 += a0 * bp[9]
		c02 += a0 * bp[10]
		c03 += a0 * bp[11]
		c10 += a1 * bp[8]
		c11 += a1 * bp[9]
		c12 += a1 * bp[10]
		c13 += a1 * bp[11]
		a0, a1 = ap[6], ap[7]
		c00 += a0 * bp[12]
		c01 += a0 * bp[13]
		c02 += a0 * bp[14]
		c03 += a0 * bp[15]
		c10 += a1 * bp[12]
		c11 += a1 * bp[13]
		c12 += a1 * bp[14]
		c13 += a1 * bp[15]
	}
	for ; p < kc; p++ {
		ap := a[2*p : 2*p+2 : 2*p+2]
		bp := b[4*p : 4*p+4 : 4*p+4]
		a0, a1 := ap[0], ap[1]
		c00 += a0 * bp[0]
		c01 += a0 * bp[1]
		c02 += a0 * bp[2]
		c03 += a0 * bp[3]
		c10 += a1 * bp[0]
		c11 += a1 * bp[1]
		c12 += a1 * bp[2]
		c13 += a1 * bp[3]
	}
	storeRow4(c[0:4:4], alpha, beta, c00, c01, c02, c03)
	storeRow4(c[ldc:ldc+4:ldc+4], alpha, beta, c10, c11, c12, c13)
}

func storeRow4(c []float32, alpha, beta float32, v0, v1, v2, v3 float32) {
	c = c[:4]
	if beta == 0 {
		c[0], c[1], c[2], c[3] = alpha*v0, alpha*v1, alpha*v2, alpha*v3
		return
	}
	c[0] = alpha*v0 + beta*c[0]
	c[1] = alpha*v1 + beta*c[1]
	c[2] = alpha*v2 + beta*c[2]
	c[3] = alpha*v3 + beta*c[3]
}

// microGoStrided is the reference micro-kernel for any mr×nr tile and any A
// strides; slow, used for odd layouts and as the tests' second opinion.
func microGoStrided(mr, nr, kc int, a []float32, rsa, csa int, b, c []float32, ldc int, alpha, beta float32) {
	for i := 0; i < mr; i++ {
		row := c[i*ldc : i*ldc+nr]
		for j := range row {
			var s float32
			for p := 0; p < kc; p++ {
				s += a[i*rsa+p*csa] * b[p*nr+j]
			}
			if beta == 0 {
				row[j] = alpha * s
			} else {
				row[j] = alpha*s + beta*row[j]
			}
		}
	}
}
