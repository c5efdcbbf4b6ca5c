//go:build !amd64 || purego

package kern

func gruPass1Asm(s, x, bx, hg, bh []float32) int               { return 0 }
func gruPass2Asm(sn, shn, xn, bxn, hnn, bhn, sr []float32) int { return 0 }
func gruPass3Asm(h, sn, sz, hPrev []float32) int               { return 0 }
