package kern

// BiasRows finishes rows rows of cols floats of c (row stride ldc) in
// place, as a convolution's or linear layer's epilogue: row r gets
// bias[r] added (no bias when bias is nil), then the rectifier when relu
// (max(v, 0), +0 for −0, a NaN kept), then the bound when bound > 0
// (min(v, bound), a NaN kept), in one pass over the block while it is in
// cache. It panics if a row does not fit or bias is short.
func BiasRows(c []float32, ldc, rows, cols int, bias []float32, relu bool, bound float32) {
	checkRows("BiasRows", len(c), ldc, rows, cols)
	if bias != nil && len(bias) < rows {
		panic("kern.BiasRows: fewer biases than rows")
	}
	if rows == 0 || cols == 0 || bias == nil && !relu && !(bound > 0) {
		return
	}
	if biasRowsAsm(c, ldc, rows, cols, bias, relu, bound) {
		return
	}
	biasRowsGo(c, ldc, rows, cols, bias, relu, bound)
}

func biasRowsGo(c []float32, ldc, rows, cols int, bias []float32, relu bool, bound float32) {
	for r := 0; r < rows; r++ {
		row := c[r*ldc : r*ldc+cols]
		if bias != nil || relu {
			var b float32
			if bias != nil {
				b = bias[r]
			}
			if bias == nil {
				reluInPlace(row)
			} else {
				addBiasGo(row, row, b, relu)
			}
		}
		if bound > 0 {
			clampMaxGo(row, bound)
		}
	}
}

// reluInPlace is the rectifier alone: max(v, 0), +0 for −0, a NaN kept,
// with no bias added.
func reluInPlace(d []float32) {
	for i, v := range d {
		if v > 0 || v != v {
			continue
		}
		d[i] = 0
	}
}
