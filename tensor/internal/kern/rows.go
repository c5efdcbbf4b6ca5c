package kern

import "fmt"

// AddBiasRows sets, for each of rows rows, dst[r·dstStride : r·dstStride+cols]
// to src[r·srcStride : r·srcStride+cols] + b, rectified (max(v, 0), +0 for
// −0, a NaN kept) when relu: AddBias over a plane whose rows sit at
// different strides in dst and src, in one call (a convolution copying
// its padded-width result out). It panics if a row does not fit.
func AddBiasRows(dst []float32, dstStride int, src []float32, srcStride, rows, cols int, b float32, relu bool) {
	checkRows("AddBiasRows", len(dst), dstStride, rows, cols)
	checkRows("AddBiasRows", len(src), srcStride, rows, cols)
	if rows == 0 || cols == 0 {
		return
	}
	if addBiasRowsAsm(dst, dstStride, src, srcStride, rows, cols, b, relu) {
		return
	}
	for r := 0; r < rows; r++ {
		addBias(dst[r*dstStride:r*dstStride+cols], src[r*srcStride:], b, relu)
	}
}

// CopyRows copies rows rows of cols floats from src (row stride
// srcStride) to dst (row stride dstStride), bits unchanged: a plane copied
// into or out of a padded layout in one call, where a copy per row costs
// more in calls than in bytes for MobileNet's 7- to 112-wide planes. It
// panics if a row does not fit.
func CopyRows(dst []float32, dstStride int, src []float32, srcStride, rows, cols int) {
	checkRows("CopyRows", len(dst), dstStride, rows, cols)
	checkRows("CopyRows", len(src), srcStride, rows, cols)
	if rows == 0 || cols == 0 {
		return
	}
	// SpreadRows's kernel without a mask is a strided copy; the sum it
	// also returns is dropped.
	if _, ok := spreadRowsAsm(dst, dstStride, src, nil, srcStride, rows, cols); ok {
		return
	}
	for r := 0; r < rows; r++ {
		copy(dst[r*dstStride:r*dstStride+cols], src[r*srcStride:])
	}
}

// SpreadRows copies rows rows of cols floats from g (row stride srcStride)
// to dst (row stride dstStride), each masked by ReLUGrad's rule with the
// rectifier output y (same layout as g) unless y is nil, and returns the
// sum of what it wrote, in a fixed order (per 16-float lane over the rows,
// then the lanes pairwise; the same order on every path): the output
// gradient of a convolution spread to its padded width, with the bias
// gradient's share. It panics if a row does not fit.
func SpreadRows(dst []float32, dstStride int, g, y []float32, srcStride, rows, cols int) float32 {
	checkRows("SpreadRows", len(dst), dstStride, rows, cols)
	checkRows("SpreadRows", len(g), srcStride, rows, cols)
	if y != nil {
		checkRows("SpreadRows", len(y), srcStride, rows, cols)
	}
	if rows == 0 || cols == 0 {
		return 0
	}
	if s, ok := spreadRowsAsm(dst, dstStride, g, y, srcStride, rows, cols); ok {
		return s
	}
	return spreadRowsGo(dst, dstStride, g, y, srcStride, rows, cols)
}

// spreadRowsGo is SpreadRows in Go, summing in the kernel's order.
func spreadRowsGo(dst []float32, dstStride int, g, y []float32, srcStride, rows, cols int) float32 {
	var lanes [16]float32
	for r := 0; r < rows; r++ {
		d := dst[r*dstStride : r*dstStride+cols]
		if y != nil {
			reluGrad(d, g[r*srcStride:], y[r*srcStride:])
		} else {
			copy(d, g[r*srcStride:])
		}
		for i, v := range d {
			lanes[i&15] += v
		}
	}
	return sumLanes(&lanes)
}

func checkRows(op string, n, stride, rows, cols int) {
	if rows < 0 || cols < 0 || stride < 0 || rows > 0 && cols > 0 && (cols > stride && rows > 1 || (rows-1)*stride+cols > n) {
		panic(fmt.Sprintf("kern.%s: %d rows of %d at stride %d do not fit in %d floats", op, rows, cols, stride, n))
	}
}
