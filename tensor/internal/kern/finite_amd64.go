//go:build amd64 && !purego

package kern

//go:noescape
func allFiniteAVX512(d *float32, n int, mask uint64) (ok bool)

//go:noescape
func allFiniteAVX2(d *float32, n int) (ok bool)

// allFiniteAsm runs AllFinite's pass with the active kernel's vectors:
// AVX-512 to the end (the last n mod 16 through a mask), AVX2 over whole
// groups of 8 with the rest in Go.
func allFiniteAsm(d []float32) (ok, done bool) {
	n := len(d)
	switch {
	case indWide():
		return allFiniteAVX512(&d[0], n, uint64(1)<<(n&15)-1), true
	case indAVX2():
		n8 := n &^ 7
		if n8 > 0 && !allFiniteAVX2(&d[0], n8) {
			return false, true
		}
		return allFiniteGo(d[n8:]), true
	}
	return false, false
}
