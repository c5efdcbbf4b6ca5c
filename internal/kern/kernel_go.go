package kern

// goKernel is the portable micro-kernel: plain Go, a 4×4 register tile of
// scalar accumulators (as many as amd64's 15 usable float registers hold
// without spilling the loads).
var goKernel = &gemmKernel{
	name:   "purego 4x4",
	mr:     4,
	nr:     4,
	kc:     256,
	mc:     128,
	micro:  microGo4x4,
	usable: func() bool { return true },
}

// microGo4x4 is the pure-Go micro-kernel (see microFn). It expects packed A
// (rsa == 1, csa == 4) and falls back to a strided loop otherwise.
func microGo4x4(kc int, a []float32, rsa, csa int, b, c []float32, ldc int, alpha, beta float32) {
	if rsa != 1 || csa != 4 {
		microGoStrided(4, 4, kc, a, rsa, csa, b, c, ldc, alpha, beta)
		return
	}
	a = a[:4*kc]
	b = b[:4*kc]
	var c00, c01, c02, c03 float32
	var c10, c11, c12, c13 float32
	var c20, c21, c22, c23 float32
	var c30, c31, c32, c33 float32
	for p := 0; p < len(a); p += 4 {
		ap := a[p : p+4 : p+4]
		bp := b[p : p+4 : p+4]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		a0 := ap[0]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		a1 := ap[1]
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a2 := ap[2]
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		a3 := ap[3]
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	storeRow4(c[0:4:4], alpha, beta, c00, c01, c02, c03)
	storeRow4(c[ldc:ldc+4:ldc+4], alpha, beta, c10, c11, c12, c13)
	storeRow4(c[2*ldc:2*ldc+4:2*ldc+4], alpha, beta, c20, c21, c22, c23)
	storeRow4(c[3*ldc:3*ldc+4:3*ldc+4], alpha, beta, c30, c31, c32, c33)
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
