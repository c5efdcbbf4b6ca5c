package kern

import "fmt"

// GRURowForward turns one batch row of one GRU step's projections into the
// new state: with n = len(h), x and bx the input projection and its bias,
// hg and bh the recurrent projection and its bias (3n each, gates r, z,
// n), it sets
//
//	r, z = σ(x + bx + hg + bh)            (s[:n], s[n:2n])
//	hn   = hg_n + bh_n                     (s[3n:4n], kept for the backward)
//	n    = tanh(x_n + bx_n + r·hn)         (s[2n:3n])
//	h    = n + z·(hPrev − n)
//
// each sum in that order, one rounding per operation, so the vector
// passes (AVX2, eight lanes) and the Go loops give the same bits around
// the shared σ and tanh. It panics when a slice is short.
func GRURowForward(x, bx, hg, bh, hPrev, s, h []float32) {
	n := len(h)
	if len(x) < 3*n || len(bx) < 3*n || len(hg) < 3*n || len(bh) < 3*n || len(hPrev) < n || len(s) < 4*n {
		panic(fmt.Sprintf("kern.GRURowForward: slices too short for %d units", n))
	}
	x, bx, hg, bh, s, hPrev = x[:3*n], bx[:3*n], hg[:3*n], bh[:3*n], s[:4*n], hPrev[:n]
	done := gruPass1Asm(s[:2*n], x, bx, hg, bh)
	for j := done; j < 2*n; j++ {
		s[j] = x[j] + bx[j] + hg[j] + bh[j]
	}
	Sigmoid(s[:2*n], s[:2*n]) // r, z
	sr, sz, sn, shn := s[:n], s[n:2*n], s[2*n:3*n], s[3*n:4*n]
	xn, bxn, hnn, bhn := x[2*n:], bx[2*n:], hg[2*n:], bh[2*n:]
	done = gruPass2Asm(sn, shn, xn, bxn, hnn, bhn, sr)
	for j := done; j < n; j++ {
		hn := hnn[j] + bhn[j]
		shn[j] = hn
		sn[j] = xn[j] + bxn[j] + sr[j]*hn
	}
	Tanh(sn, sn)
	done = gruPass3Asm(h, sn, sz, hPrev)
	for j := done; j < n; j++ {
		h[j] = sn[j] + sz[j]*(hPrev[j]-sn[j])
	}
}
