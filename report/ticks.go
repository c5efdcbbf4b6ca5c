package report

import (
	"fmt"
	"math"
	"strings"
)

// Ticks returns round axis values about (hi−lo)/n apart — a step of 1, 2,
// 2.5 or 5 times a power of ten — from the largest multiple of the step at
// or below lo to the smallest at or above hi, so they cover the range.
// An empty or inverted range counts as [lo, lo+1].
func Ticks(lo, hi float64, n int) []float64 {
	if !(hi > lo) {
		hi = lo + 1
	}
	raw := (hi - lo) / float64(max(n, 1))
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	first, last := math.Floor(lo/step+1e-9), math.Ceil(hi/step-1e-9)
	for k := first; k <= last; k++ {
		out = append(out, k*step)
	}
	return out
}

// TickLabel writes an axis value briefly: integers above 10 without
// decimals, small values with up to three, very large or small ones in
// exponent form.
func TickLabel(v float64) string {
	if v == 0 {
		return "0"
	}
	a := math.Abs(v)
	switch {
	case a >= 1e4 || a < 1e-3:
		return fmt.Sprintf("%.0e", v)
	case a >= 10:
		return fmt.Sprintf("%.0f", v)
	default:
		return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", v), "0"), ".")
	}
}
