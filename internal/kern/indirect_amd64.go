//go:build amd64 && !purego

package kern

//go:noescape
func sgemmInd6x16(kc int, a *float32, src *float32, offs *int32, c *float32, ldc uintptr)

//go:noescape
func sgemmInd4x16(kc int, a *float32, src *float32, offs *int32, c *float32, ldc uintptr)

//go:noescape
func sgemmInd2x16(kc int, a *float32, src *float32, offs *int32, c *float32, ldc uintptr)

// indTile computes the rows×16 tile c = a·B (rows 6, 4 or 2; a a packed
// micro-panel, B's row p the 16 floats at src[offs[p]:]) and reports
// whether an assembly kernel did it.
func indTile(rows, k int, a, src []float32, offs []int32, c []float32, ldc int) bool {
	if !hasAVX2FMA {
		return false
	}
	switch rows {
	case 6:
		sgemmInd6x16(k, &a[0], &src[0], &offs[0], &c[0], uintptr(ldc*4))
	case 4:
		sgemmInd4x16(k, &a[0], &src[0], &offs[0], &c[0], uintptr(ldc*4))
	case 2:
		sgemmInd2x16(k, &a[0], &src[0], &offs[0], &c[0], uintptr(ldc*4))
	default:
		return false
	}
	return true
}
