package explain

import (
	"context"
	"math"
	"testing"
)

// sobolPoints returns points 0..n−1 of coordinate j scrambled from seed,
// drawn in two pieces (the second from an odd offset) to exercise fill's
// start.
func sobolPoints(j int, seed uint64, n int) []float64 {
	s := newSobolDim(j, subStream(seed, streamScramble, uint64(j)))
	u := make([]float64, n)
	s.fill(0, u[:n/3])
	s.fill(uint64(n/3), u[n/3:])
	return u
}

func TestSobolCoordinateStratifiesEveryDyadicInterval(t *testing.T) {
	// Each coordinate of a (scrambled) Sobol' sequence is a (0,1)-sequence:
	// its first 2^m points fall one into each interval [i/2^m, (i+1)/2^m).
	const n = 1 << 10
	for _, seed := range []uint64{1, 2, 99} {
		for _, j := range []int{0, 1, 2, 7, 29, 300, sobolDims - 1} {
			u := sobolPoints(j, seed, n)
			seen := make([]bool, n)
			for i, v := range u {
				if !(v > 0 && v < 1) {
					t.Fatalf("seed %d, coordinate %d, point %d is %v, outside (0, 1)", seed, j, i, v)
				}
				c := int(v * n)
				if seen[c] {
					t.Fatalf("seed %d, coordinate %d: two of the first %d points in [%d/%d, %d/%d)", seed, j, n, c, n, c+1, n)
				}
				seen[c] = true
			}
		}
	}
}

func TestSobolPairIsANet(t *testing.T) {
	// Coordinates 0 and 1 form a (0,m,2)-net: 2¹⁰ points put exactly one
	// point in each 32×32 cell (and in each 2×512, 4×256, … rectangle),
	// scramble or not; independent draws leave about a third of the cells
	// empty.
	const n = 1 << 10
	for _, seed := range []uint64{1, 5} {
		u, v := sobolPoints(0, seed, n), sobolPoints(1, seed, n)
		for a := 0; a <= 10; a++ {
			rows, cols := 1<<a, n>>a
			cells := make([]int, n)
			for i := range n {
				cells[int(u[i]*float64(rows))*cols+int(v[i]*float64(cols))]++
			}
			for c, k := range cells {
				if k != 1 {
					t.Fatalf("seed %d, %d×%d grid: cell %d holds %d points, want 1", seed, rows, cols, c, k)
				}
			}
		}
	}
}

func TestSobolScrambleDependsOnTheSeedOnly(t *testing.T) {
	a, b, c := sobolPoints(3, 7, 64), sobolPoints(3, 7, 64), sobolPoints(3, 8, 64)
	same, differ := true, 0
	for i := range a {
		same = same && a[i] == b[i]
		if a[i] != c[i] {
			differ++
		}
	}
	if !same {
		t.Error("one seed gave two different scrambles")
	}
	if differ < 60 {
		t.Errorf("seeds 7 and 8 share %d of 64 points; the scramble should move nearly all", 64-differ)
	}
}

func TestTabularQuasiRandomMarginals(t *testing.T) {
	// A continuous column is drawn as N(x, std²) through the inverse CDF of
	// Sobol' points: over 4096 rows the sample mean and variance are within
	// a small fraction of what independent draws would give (their
	// standard errors are std/64 for the mean and 2.2% for the variance).
	const n, d = 2000, 3
	train := gaussianData(n, d, 4, []float64{1, 2, 0.5})
	ex, err := NewTabular(train, d, TabularConfig{Discretizer: DiscretizeNone, Mode: Regression})
	if err != nil {
		t.Fatal(err)
	}
	x := []float32{0.3, -1, 2.5}
	for _, seed := range []uint64{1, 2, 3} {
		spy := &spyModel{d: d, f: linearModel([]float64{1, 1, 1}, 0)}
		if _, err := ex.Explain(context.Background(), spy.call, x, TabularOptions{LIMEOptions: LIMEOptions{Seed: seed, Samples: 4097}}); err != nil {
			t.Fatal(err)
		}
		rows := spy.rows[1:] // after the instance
		for j := range d {
			var s, ss float64
			for _, r := range rows {
				s += float64(r[j])
			}
			m := s / float64(len(rows))
			for _, r := range rows {
				ss += (float64(r[j]) - m) * (float64(r[j]) - m)
			}
			sd := ex.cols[j].std
			ratio := ss / float64(len(rows)) / (sd * sd)
			if math.Abs(m-float64(x[j])) > 0.003*sd || math.Abs(ratio-1) > 0.01 {
				t.Errorf("seed %d, column %d: mean %.5f (want %.5f ± %.5f), variance / std² %.5f (want 1 ± 0.01)", seed, j, m, x[j], 0.003*sd, ratio)
			}
		}
	}
}

func TestSobolFillMatchesAtPastTwoToThe32(t *testing.T) {
	// fill steps by one direction per point; at computes each point
	// afresh. They agree, also across the 2³² points of the sequence
	// (where the directions are reused), and no index panics.
	s := newSobolDim(5, subStream(3, streamScramble, 5))
	for _, start := range []uint64{0, 1000, 1<<32 - 3, 1 << 40} {
		u := make([]float64, 8)
		s.fill(start, u)
		for i, v := range u {
			if want := (float64(s.at(start+uint64(i))) + 0.5) * 0x1p-32; v != want {
				t.Errorf("point %d: fill gives %v, at gives %v", start+uint64(i), v, want)
			}
		}
	}
}

func TestTabularWideTableSamplesColumnsPastTheSobolDimensions(t *testing.T) {
	// Columns past the first sobolDims keep the Latin hypercube; both kinds
	// draw each quartile bin a quarter of the time.
	const n, d = 400, sobolDims + 8
	train := gaussianData(n, d, 6, nil)
	ex, err := NewTabular(train, d, TabularConfig{Mode: Regression})
	if err != nil {
		t.Fatal(err)
	}
	// The design alone (no surrogate fit over 520 columns): the instance
	// and 1023 rows, then one more row.
	g := ex.newDesign(train[:d], 2, false)
	defer g.release()
	in := make([]float32, 1025*d)
	g.block(0, 1024, in[:1024*d])
	g.block(1024, 1025, in[1024*d:])
	var rows [][]float32
	for i := 1; i < 1025; i++ {
		rows = append(rows, in[i*d:(i+1)*d])
	}
	for _, j := range []int{0, sobolDims - 1, sobolDims, d - 1} {
		counts := make([]int, 4)
		for _, r := range rows {
			counts[binOf(ex.cols[j].edges, float64(r[j]))]++
		}
		for b, c := range counts {
			if c < 254 || c > 258 {
				t.Errorf("column %d: quartile bin %d drawn %d times in 1024, want 256 ± 2", j, b, c)
			}
		}
	}
}
