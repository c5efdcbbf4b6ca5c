package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestAddBiasRowsAndSpreadRows checks the plane kernels against the row
// loops they replace, bit for bit (values, the sum's order, NaN and ±0
// handling), for widths with and without a masked tail, and that nothing
// between rows or after the last is written.
func TestAddBiasRowsAndSpreadRows(t *testing.T) { withEachKernel(t, testAddBiasRowsAndSpreadRows) }

func testAddBiasRowsAndSpreadRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, cols := range []int{1, 5, 8, 14, 16, 24, 28, 33} {
		for _, relu := range []bool{false, true} {
			name := fmt.Sprintf("cols%d_relu%v", cols, relu)
			rows, sStride, dStride := 4, cols+3, cols+5
			src := make([]float32, rows*sStride)
			y := make([]float32, rows*sStride)
			for i := range src {
				src[i] = float32(rng.NormFloat64())
				y[i] = float32(rng.NormFloat64())
			}
			src[1], y[2] = float32(math.NaN()), float32(math.Copysign(0, -1))
			src[3] = float32(math.Copysign(0, -1))
			const sentinel = 12345
			dst := make([]float32, rows*dStride)
			for i := range dst {
				dst[i] = sentinel
			}
			want := append([]float32(nil), dst...)
			AddBiasRows(dst, dStride, src, sStride, rows, cols, 0.25, relu)
			for r := 0; r < rows; r++ {
				addBiasGo(want[r*dStride:r*dStride+cols], src[r*sStride:], 0.25, relu)
			}
			same(t, name+" AddBiasRows", dst, want)

			var ym []float32
			if relu {
				ym = y
			}
			for i := range dst {
				dst[i], want[i] = sentinel, sentinel
			}
			got := SpreadRows(dst, dStride, src, ym, sStride, rows, cols)
			wantSum := spreadRowsGo(want, dStride, src, ym, sStride, rows, cols)
			same(t, name+" SpreadRows", dst, want)
			if math.Float32bits(got) != math.Float32bits(wantSum) && !(got != got && wantSum != wantSum) {
				t.Fatalf("%s: SpreadRows sum %v, Go order %v", name, got, wantSum)
			}
		}
	}
}

// withEachKernel runs f as a subtest with every usable GEMM kernel active,
// so the plane kernels' AVX-512 and AVX2 versions and the Go loops are
// all checked where the CPU has them; with -test.short (the AVX-512
// emulator) only the kernel in use, as forEachKernel does.
func withEachKernel(t *testing.T, f func(t *testing.T)) {
	saved := active
	defer func() { active = saved }()
	for _, kr := range kernels {
		if !kr.usable() || testing.Short() && kr != saved {
			continue
		}
		active = kr
		t.Run(strings.ReplaceAll(kr.name, " ", "_"), f)
	}
}

func same(t *testing.T, name string, got, want []float32) {
	t.Helper()
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
			t.Fatalf("%s: element %d = %v, want %v", name, i, got[i], want[i])
		}
	}
}

func TestRowsErrors(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("AddBiasRows with rows past dst did not panic")
		}
	}()
	AddBiasRows(make([]float32, 10), 4, make([]float32, 40), 10, 3, 4, 0, false)
}

// TestCopyRows checks the strided plane copy for widths around the
// vector steps and their masked tails: bits unchanged (a NaN's payload
// and −0 included), nothing written between or after the rows, on every
// path against the Go loop.
func TestCopyRows(t *testing.T) {
	const rows, sentinel = 3, 777
	for cols := 0; cols <= 40; cols++ {
		srcStride, dstStride := cols+5, cols+2
		src := make([]float32, rows*srcStride)
		for i := range src {
			src[i] = float32(i) - 10.5
		}
		if len(src) > 1 {
			src[0] = math.Float32frombits(0x7fc00123) // a NaN with a payload
			src[1] = float32(math.Copysign(0, -1))
		}
		dst := make([]float32, rows*dstStride+3)
		for i := range dst {
			dst[i] = sentinel
		}
		CopyRows(dst, dstStride, src, srcStride, rows, cols)
		for i := range dst {
			r, j := i/dstStride, i%dstStride
			want := float32(sentinel)
			if r < rows && j < cols {
				want = src[r*srcStride+j]
			}
			if math.Float32bits(dst[i]) != math.Float32bits(want) {
				t.Fatalf("cols %d: row %d column %d = %v, want %v", cols, r, j, dst[i], want)
			}
		}
	}
}
