//go:build amd64 && !purego

package kern

//go:noescape
func gruPass1AVX2(s, x, bx, hg, bh *float32, n int)

//go:noescape
func gruPass2AVX2(sn, shn, xn, bxn, hnn, bhn, sr *float32, n int)

//go:noescape
func gruPass3AVX2(h, sn, sz, hPrev *float32, n int)

// The passes of GRURowForward over the first len(dst) &^ 7 elements; each
// returns how many it did (the rest is the Go loop's).

func gruPass1Asm(s, x, bx, hg, bh []float32) int {
	n := len(s) &^ 7
	if !hasAVX2FMA || n == 0 {
		return 0
	}
	gruPass1AVX2(&s[0], &x[0], &bx[0], &hg[0], &bh[0], n)
	return n
}

func gruPass2Asm(sn, shn, xn, bxn, hnn, bhn, sr []float32) int {
	n := len(sn) &^ 7
	if !hasAVX2FMA || n == 0 {
		return 0
	}
	gruPass2AVX2(&sn[0], &shn[0], &xn[0], &bxn[0], &hnn[0], &bhn[0], &sr[0], n)
	return n
}

func gruPass3Asm(h, sn, sz, hPrev []float32) int {
	n := len(h) &^ 7
	if !hasAVX2FMA || n == 0 {
		return 0
	}
	gruPass3AVX2(&h[0], &sn[0], &sz[0], &hPrev[0], n)
	return n
}
