package report

import (
	"slices"
	"testing"
)

func TestTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		n      int
		want   []float64
	}{
		{0.13, 0.97, 4, []float64{0, 0.25, 0.5, 0.75, 1}},
		{-23, 41, 4, []float64{-40, -20, 0, 20, 40, 60}},
		{5, 5, 2, []float64{5, 5.5, 6}},
	} {
		if got := Ticks(c.lo, c.hi, c.n); !slices.Equal(got, c.want) {
			t.Errorf("Ticks(%v, %v, %d) = %v, want %v", c.lo, c.hi, c.n, got, c.want)
		}
	}
	for v, want := range map[float64]string{0: "0", 0.25: "0.25", 20: "20", -1.5: "-1.5", 1e5: "1e+05"} {
		if got := TickLabel(v); got != want {
			t.Errorf("TickLabel(%v) = %q, want %q", v, got, want)
		}
	}
}
