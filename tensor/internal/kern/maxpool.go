package kern

import "fmt"

// MaxPool2x2 pools one plane in [h, w] (row stride w) with 2×2 windows at
// stride 2 into out [oh, ow], writing into arg the position (row·w +
// column) of each window's maximum, the first in row-major order among
// equals, with +0 above −0, as Go's max orders them. It reports false,
// leaving the work to the caller, when no vector kernel runs here or a
// window holds a NaN (whose position rule the caller's code implements;
// out and arg are then partly written). It panics (a programmer error) if
// the plane is smaller than the windows need.
func MaxPool2x2(out []float32, arg []int32, in []float32, w, oh, ow int) bool {
	if oh < 0 || ow < 0 || 2*ow > w || len(out) < oh*ow || len(arg) < oh*ow || len(in) < 2*oh*w {
		panic(fmt.Sprintf("kern.MaxPool2x2: %d×%d windows over rows of %d need in ≥ %d, out and arg ≥ %d floats; have %d, %d, %d", oh, ow, w, 2*oh*w, oh*ow, len(in), len(out), len(arg)))
	}
	if oh == 0 || ow == 0 {
		return true
	}
	return maxPool2x2Asm(out, arg, in, w, oh, ow)
}

// MaxPool2x2Backward writes the gradient of MaxPool2x2 on one plane: for
// every window, dy[oy·ow+ox] at the input position arg names and 0 at
// its three other positions, in rows [0, 2·oh) and columns [0, 2·ow) of
// dx [·, w] (the rest of dx is left alone). It reports false, having
// done nothing, when no vector kernel runs here. Positions in arg must
// lie in their windows, as MaxPool2x2 writes them. It panics if a slice
// is too short.
func MaxPool2x2Backward(dx, dy []float32, arg []int32, w, oh, ow int) bool {
	if oh < 0 || ow < 0 || 2*ow > w || len(dy) < oh*ow || len(arg) < oh*ow || len(dx) < 2*oh*w {
		panic(fmt.Sprintf("kern.MaxPool2x2Backward: %d×%d windows over rows of %d need dx ≥ %d, dy and arg ≥ %d; have %d, %d, %d", oh, ow, w, 2*oh*w, oh*ow, len(dx), len(dy), len(arg)))
	}
	if oh == 0 || ow == 0 {
		return true
	}
	return maxPool2x2BackAsm(dx, dy, arg, w, oh, ow)
}
