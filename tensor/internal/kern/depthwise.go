package kern

import "fmt"

// DepthwiseRows computes one plane of a depthwise (one filter per
// channel) convolution whose input has been laid out so that every tap is
// a unit-stride run: for r < rows and i < cols,
//
//	dst[r·ldd + i] = b + Σ_t w[t]·src[r·lds + offs[t] + i]
//
// summed from b in tap order, rectified (max(v, 0), +0 for −0, a NaN
// kept) when relu. The caller pads the plane and, for a column stride s,
// splits each padded row into its s phases (columns ≡ q mod s), so the
// taps of a strided filter are unit-stride too. It panics when offs and w
// differ in length or a row does not fit.
func DepthwiseRows(dst []float32, ldd int, src []float32, lds int, offs []int32, w []float32, b float32, rows, cols int, relu bool) {
	if len(offs) != len(w) {
		panic(fmt.Sprintf("kern.DepthwiseRows: %d offsets for %d weights", len(offs), len(w)))
	}
	checkRows("DepthwiseRows", len(dst), ldd, rows, cols)
	if rows == 0 || cols == 0 {
		return
	}
	for _, o := range offs {
		if o < 0 {
			panic(fmt.Sprintf("kern.DepthwiseRows: negative offset %d", o))
		}
		checkRows("DepthwiseRows", len(src)-int(o), lds, rows, cols)
	}
	if len(w) == 0 {
		for r := 0; r < rows; r++ {
			row := dst[r*ldd : r*ldd+cols]
			for i := range row {
				row[i] = b
			}
			if relu {
				addBias(row, row, 0, true)
			}
		}
		return
	}
	if depthwiseRowsAsm(dst, ldd, src, lds, offs, w, b, rows, cols, relu) {
		return
	}
	depthwiseRowsGo(dst, ldd, src, lds, offs, w, b, rows, cols, relu)
}

func depthwiseRowsGo(dst []float32, ldd int, src []float32, lds int, offs []int32, w []float32, b float32, rows, cols int, relu bool) {
	for r := 0; r < rows; r++ {
		row := dst[r*ldd : r*ldd+cols]
		for i := range row {
			row[i] = b
		}
		for t, o := range offs {
			in := src[r*lds+int(o):][:cols]
			wt := w[t]
			for i, v := range in {
				row[i] += wt * v
			}
		}
		if relu {
			addBias(row, row, 0, true)
		}
	}
}
