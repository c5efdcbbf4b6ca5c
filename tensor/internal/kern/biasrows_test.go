package kern

import (
	"fmt"
	"math"
	"testing"
)

// TestBiasRows checks the in-place epilogue for widths around the vector
// steps and their masked tails, with every combination of bias, rectifier
// and bound: against the definition and the Go loop (bit for bit: the
// operations are the same single roundings), nothing written between or
// after the rows, a NaN kept and −0 made +0 by the rectifier, and −0
// kept when nothing but a bound applies.
func TestBiasRows(t *testing.T) {
	const rows, sentinel = 3, 777
	vals := []float32{float32(math.NaN()), float32(math.Copysign(0, -1)), -3, 7, 0.25, -0.5, 2.5}
	for cols := 0; cols <= 40; cols++ {
		for mode := 0; mode < 8; mode++ {
			var bias []float32
			if mode&1 != 0 {
				bias = []float32{0.5, -0.25, 0}
			}
			relu, bound := mode&2 != 0, float32(0)
			if mode&4 != 0 {
				bound = 2
			}
			name := fmt.Sprintf("cols %d bias %v relu %v bound %v", cols, bias != nil, relu, bound)
			ldc := cols + 3
			c := make([]float32, rows*ldc+2)
			for i := range c {
				c[i] = sentinel
			}
			for r := 0; r < rows; r++ {
				for j := 0; j < cols; j++ {
					c[r*ldc+j] = vals[(r+j)%len(vals)]
				}
			}
			orig := append([]float32(nil), c...)
			goC := append([]float32(nil), c...)
			BiasRows(c, ldc, rows, cols, bias, relu, bound)
			biasRowsGo(goC, ldc, rows, cols, bias, relu, bound)
			for i := range c {
				r, j := i/ldc, i%ldc
				want := orig[i]
				if r < rows && j < cols {
					if bias != nil {
						want += bias[r]
					}
					if relu {
						want = max(want, 0)
					}
					if bound > 0 && want > bound {
						want = bound
					}
				}
				if math.Float32bits(c[i]) != math.Float32bits(want) && !(want != want && c[i] != c[i]) {
					t.Fatalf("%s: [%d, %d] = %v, want %v", name, r, j, c[i], want)
				}
				if math.Float32bits(goC[i]) != math.Float32bits(c[i]) && !(goC[i] != goC[i] && c[i] != c[i]) {
					t.Fatalf("%s: [%d, %d] = %v in Go, %v here", name, r, j, goC[i], c[i])
				}
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("BiasRows with fewer biases than rows did not panic")
		}
	}()
	BiasRows(make([]float32, 8), 4, 2, 4, []float32{1}, false, 0)
}
