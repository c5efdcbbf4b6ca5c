package kern

import "fmt"

// DepthwiseFlat computes one plane of a depthwise (one filter per
// channel) convolution whose input has been laid out so that every tap is
// a unit-stride run over the whole plane: for i < len(dst),
//
//	dst[i] = b + Σ_t w[t]·src[offs[t] + i]
//
// summed from b in tap order, rectified (max(v, 0), +0 for −0, a NaN
// kept) when relu, then bounded above by bound (a NaN kept) when bound >
// 0, as ReLU6 is. The caller splits the padded plane into its stride
// phases and lays the output out at the phases' row pitch, so an output
// row's last entries are junk the caller drops; in exchange the product
// is one long run whatever the plane's width, which keeps eight
// independent sums in flight (a row at a time left a 7- or 14-wide plane
// one sum, waiting out the FMA latency at every tap). It panics when offs
// and w differ in length or a tap reads past src.
func DepthwiseFlat(dst, src []float32, offs []int32, w []float32, b float32, relu bool, bound float32) {
	if len(offs) != len(w) {
		panic(fmt.Sprintf("kern.DepthwiseFlat: %d offsets for %d weights", len(offs), len(w)))
	}
	n := len(dst)
	if n == 0 {
		return
	}
	for _, o := range offs {
		if o < 0 || int(o)+n > len(src) {
			panic(fmt.Sprintf("kern.DepthwiseFlat: a tap at offset %d reads %d floats of %d", o, n, len(src)))
		}
	}
	if len(w) == 0 {
		for i := range dst {
			dst[i] = b
		}
		if relu {
			addBias(dst, dst, 0, true)
		}
		if bound > 0 {
			clampMax(dst, bound)
		}
		return
	}
	if depthwiseFlatAsm(dst, src, offs, w, b, relu, bound) {
		return
	}
	depthwiseFlatGo(dst, src, offs, w, b, relu, bound)
}

func depthwiseFlatGo(dst, src []float32, offs []int32, w []float32, b float32, relu bool, bound float32) {
	for i := range dst {
		dst[i] = b
	}
	for t, o := range offs {
		wt := w[t]
		for i, v := range src[o:][:len(dst)] {
			dst[i] += wt * v
		}
	}
	if relu {
		addBias(dst, dst, 0, true)
	}
	if bound > 0 {
		clampMaxGo(dst, bound)
	}
}

// Deinterleave2Rows splits the pairs of rows rows of cols floats of src
// (row stride srcStride): row r's even[r·dstStride + j] = src[r·srcStride
// + 2j] for j < (cols+1)/2, and odd[r·dstStride + j] = src[r·srcStride +
// 2j + 1] for j < cols/2. It is the column split of a stride-2 layer's
// input, a plane in one call. It panics if a row does not fit.
func Deinterleave2Rows(even, odd []float32, dstStride int, src []float32, srcStride, rows, cols int) {
	checkRows("Deinterleave2Rows", len(src), srcStride, rows, cols)
	checkRows("Deinterleave2Rows", len(even), dstStride, rows, (cols+1)/2)
	checkRows("Deinterleave2Rows", len(odd), dstStride, rows, cols/2)
	if rows == 0 || cols == 0 {
		return
	}
	if cols == 1 {
		CopyRows(even, dstStride, src, srcStride, rows, 1)
		return
	}
	if deinterleave2RowsAsm(even, odd, dstStride, src, srcStride, rows, cols) {
		return
	}
	deinterleave2RowsGo(even, odd, dstStride, src, srcStride, rows, cols)
}

func deinterleave2RowsGo(even, odd []float32, dstStride int, src []float32, srcStride, rows, cols int) {
	for r := 0; r < rows; r++ {
		in := src[r*srcStride : r*srcStride+cols]
		ev, od := even[r*dstStride:], odd[r*dstStride:]
		for j := 0; j < cols/2; j++ {
			ev[j], od[j] = in[2*j], in[2*j+1]
		}
		if cols%2 == 1 {
			ev[cols/2] = in[cols-1]
		}
	}
}
