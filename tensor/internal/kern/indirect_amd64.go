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

//go:noescape
func packB8TRows(dst, src *float32, offs *int32, k8 int)

// packB16Rows packs a full 16-column panel of op(B) = Bᵀ whose stored rows
// start at b[offs[jj]] (see packBRows) with the AVX2 8×8 transposer; it
// reports false when it cannot.
func packB16Rows(d, b []float32, offs []int32, p0, kLen int) bool {
	if !hasAVX2FMA {
		return false
	}
	k8 := kLen / 8
	if k8 > 0 {
		_ = d[(8*k8-1)*16+15]
		packB8TRows(&d[0], &b[p0], &offs[0], k8)
		packB8TRows(&d[8], &b[p0], &offs[8], k8)
	}
	for p := 8 * k8; p < kLen; p++ {
		t := (*[16]float32)(d[p*16:])
		for jj := range t {
			t[jj] = b[int(offs[jj])+p0+p]
		}
	}
	return true
}
