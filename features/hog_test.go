package features

import (
	"math"
	"testing"
)

// A vertical edge (dark left, light right) has horizontal gradients only:
// direction 0°, which lies half-way between the centres of bins 0 (10°)
// and 8 (170°), so each gets half the magnitude; cells away from the edge
// get nothing.
func TestCellHistogramsVerticalEdge(t *testing.T) {
	const h, w = 8, 8
	pix := make([]float32, h*w)
	for y := 0; y < h; y++ {
		for x := 4; x < w; x++ {
			pix[y*w+x] = 1
		}
	}
	// Cells of 4: the edge between columns 3 and 4 lies on the cell
	// border; columns 3 and 4 each see a difference of 1 on each of the
	// cell's 4 rows, shared half and half between bins 0 and 8. Borders
	// repeat the edge pixel, so they add nothing.
	hist, err := CellHistograms(pix, h, w, HOGOptions{Cell: 4, Bins: 9})
	if err != nil {
		t.Fatal(err)
	}
	var want [9]float64
	want[0], want[8] = 2, 2
	for cell := 0; cell < 4; cell++ {
		for b := 0; b < 9; b++ {
			if got := hist[cell*9+b]; math.Abs(got-want[b]) > 1e-9 {
				t.Errorf("cell %d bin %d = %v, want %v", cell, b, got, want[b])
			}
		}
	}
}

// A horizontal edge votes for 90°, the centre of bin 4 (80°..100°).
func TestCellHistogramsHorizontalEdge(t *testing.T) {
	const h, w = 6, 6
	pix := make([]float32, h*w)
	for y := 3; y < h; y++ {
		for x := 0; x < w; x++ {
			pix[y*w+x] = 1
		}
	}
	hist, err := CellHistograms(pix, h, w, HOGOptions{Cell: 6, Bins: 9})
	if err != nil {
		t.Fatal(err)
	}
	// Rows 2 and 3 each vote 1 per pixel, all for bin 4: 12.
	for b, v := range hist {
		want := 0.0
		if b == 4 {
			want = 12
		}
		if math.Abs(v-want) > 1e-9 {
			t.Errorf("bin %d = %v, want %v", b, v, want)
		}
	}
}

func TestHOGNormalisedBlocks(t *testing.T) {
	const h, w = 28, 28
	pix := make([]float32, h*w)
	for y := 4; y < 24; y++ { // a bar: a "1"
		pix[y*w+13], pix[y*w+14] = 1, 1
	}
	f, err := HOG(pix, h, w, HOGOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(f) != 324 {
		t.Fatalf("%d features, want 324 (3×3 blocks × 4 cells × 9 bins)", len(f))
	}
	for b := 0; b < 9; b++ {
		s := 0.0
		for _, v := range f[b*36 : (b+1)*36] {
			s += float64(v) * float64(v)
			if v < 0 || v > 1 {
				t.Fatalf("block %d has value %v outside [0, 1]", b, v)
			}
		}
		if s != 0 && math.Abs(s-1) > 1e-5 {
			t.Errorf("block %d has squared norm %v, want 1 (or 0 when blank)", b, s)
		}
	}
	// Doubling the contrast changes nothing: blocks are normalised.
	for i := range pix {
		pix[i] *= 2
	}
	g, _ := HOG(pix, h, w, HOGOptions{})
	for i := range f {
		if math.Abs(float64(f[i]-g[i])) > 1e-6 {
			t.Fatalf("feature %d changed with contrast: %v vs %v", i, f[i], g[i])
		}
	}
	if _, err := HOG(pix, h, w, HOGOptions{Cell: 20}); err == nil {
		t.Error("cells of 20 on 28×28 (one cell) make no 2×2 block; want an error")
	}
	if _, err := HOG(pix[:10], h, w, HOGOptions{}); err == nil {
		t.Error("10 pixels for 28×28: want an error")
	}
}
