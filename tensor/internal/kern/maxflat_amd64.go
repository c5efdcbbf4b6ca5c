//go:build amd64 && !purego

package kern

//go:noescape
func maxFlatAVX512(dst, src *float32, offs *int32, ntaps, n int) (sawNaN bool)

//go:noescape
func maxFlatAVX2(dst, src *float32, offs *int32, ntaps, n int, mask *int32) (sawNaN bool)

func maxFlatAsm(dst, src []float32, offs []int32) (sawNaN, ok bool) {
	switch {
	case indWide():
		return maxFlatAVX512(&dst[0], &src[0], &offs[0], len(offs), len(dst)), true
	case hasAVX2FMA:
		return maxFlatAVX2(&dst[0], &src[0], &offs[0], len(offs), len(dst), &tailMask[8-len(dst)%8]), true
	}
	return false, false
}

// MaxFlatFast reports whether MaxFlat runs an assembly kernel here.
func MaxFlatFast() bool { return indWide() || hasAVX2FMA }
