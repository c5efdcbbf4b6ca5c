package kern

import (
	"fmt"
	"math"
)

// MaxFlat computes one plane of a max pooling laid out as DepthwiseFlat's
// convolution is: for i < len(dst), dst[i] = max_t src[offs[t] + i]. It
// reports whether any run it read held a NaN: the vector maximum does not
// carry a NaN the way the pooling's contract (a NaN wins) asks, so the
// caller then redoes the plane its scalar way. It panics when a tap reads
// past src or there are no taps.
func MaxFlat(dst, src []float32, offs []int32) (sawNaN bool) {
	n := len(dst)
	if len(offs) == 0 {
		panic("kern.MaxFlat: no taps")
	}
	if n == 0 {
		return false
	}
	for _, o := range offs {
		if o < 0 || int(o)+n > len(src) {
			panic(fmt.Sprintf("kern.MaxFlat: a tap at offset %d reads %d floats of %d", o, n, len(src)))
		}
	}
	if saw, ok := maxFlatAsm(dst, src, offs); ok {
		return saw
	}
	return maxFlatGo(dst, src, offs)
}

func maxFlatGo(dst, src []float32, offs []int32) (sawNaN bool) {
	for i := range dst {
		dst[i] = float32(math.Inf(-1))
	}
	for _, o := range offs {
		for i, v := range src[o:][:len(dst)] {
			if v != v {
				sawNaN = true
			}
			if v > dst[i] {
				dst[i] = v
			}
		}
	}
	return sawNaN
}
