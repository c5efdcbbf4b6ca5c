package kern

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestWinogradTransformsMatchGo checks the vector transforms against the
// Go reference bit for bit, with every usable kernel active: rows of tiles
// with full steps of 16, tails, several channels at once, strided
// layouts, and every epilogue (bias, residual, rectifier with ±0 and NaN,
// bound). Floats outside what each call may write must stay as they were.
func TestWinogradTransformsMatchGo(t *testing.T) {
	withEachKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(51, 52))
		fill := func(d []float32) {
			for i := range d {
				switch rng.IntN(8) {
				case 0:
					d[i] = float32(math.Copysign(0, rng.NormFloat64()))
				case 1:
					d[i] = float32(rng.IntN(3) - 1)
				default:
					d[i] = float32(rng.NormFloat64())
				}
			}
		}
		for _, ng := range []int{4, 8, 12, 28} {
			nc := 1 + rng.IntN(3)
			srcStride := 18 + rng.IntN(40)
			planeStride := 6*srcStride + rng.IntN(5) + 40
			goffs := make([]int32, ng)
			for g := range goffs {
				goffs[g] = int32(rng.IntN(planeStride - 5*srcStride - 18))
			}
			src := make([]float32, (nc-1)*planeStride+planeStride+WinoInputSlack)
			fill(src)
			cStride := 4*ng + rng.IntN(4)
			xiStride := nc*cStride + rng.IntN(4)
			// check runs a transform and its Go reference on the same
			// (randomly filled) output.
			check := func(what string, asm, ref func(dst []float32)) {
				got, want := make([]float32, 36*xiStride), make([]float32, 36*xiStride)
				fill(got)
				copy(want, got)
				asm(got)
				ref(want)
				for i := range got {
					if !sameBits(got[i], want[i]) {
						t.Fatalf("%s ng %d nc %d: [%d] = %v, want %v", what, ng, nc, i, got[i], want[i])
					}
				}
			}
			check("input", func(d []float32) { WinoInput(d, xiStride, cStride, src, goffs, srcStride, planeStride, nc) },
				func(d []float32) { winoInputGo(d, xiStride, cStride, src, goffs, srcStride, planeStride, nc) })

			// The output gradient's transform reads 4×16 blocks.
			for g := range goffs {
				goffs[g] = int32(rng.IntN(planeStride - 3*srcStride - 16 + 1))
			}
			src2 := src[:(nc-1)*planeStride+planeStride]
			check("gradient input", func(d []float32) { WinoGradInput(d, xiStride, cStride, src2, goffs, srcStride, planeStride, nc) },
				func(d []float32) { winoGradInputGo(d, xiStride, cStride, src2, goffs, srcStride, planeStride, nc) })

			nk := 1 + rng.IntN(3)
			kStride := 4*ng + rng.IntN(4)
			xi := nk*kStride + rng.IntN(4)
			m := make([]float32, 36*xi)
			fill(m)
			m[rng.IntN(len(m))] = float32(math.NaN())
			for mode := 0; mode < 16; mode++ {
				// Groups side by side in a random order, with masks of
				// every kind: whole, short rows, short columns, none.
				dstStride := 16*ng + rng.IntN(8)
				dstPlane := 4*dstStride + rng.IntN(3)
				gm := make([]uint64, ng)
				perm := rng.Perm(ng)
				for g := range goffs {
					goffs[g] = int32(16 * perm[g])
					gm[g] = WinoGroupMask(rng.IntN(5), rng.IntN(17))
					if rng.IntN(3) == 0 {
						gm[g] = WinoGroupMask(4, 16) // the kernels' unmasked stores
					}
				}
				n := (nk-1)*dstPlane + dstPlane
				res := make([]float32, n)
				fill(res)
				bias := make([]float32, nk)
				fill(bias)
				var b, r []float32
				if mode&1 != 0 {
					b = bias
				}
				if mode&8 != 0 {
					r = res
				}
				relu := mode&2 != 0
				var bound float32
				if mode&4 != 0 {
					bound = 0.75
				}
				got, want := make([]float32, n), make([]float32, n)
				fill(got)
				copy(want, got)
				WinoOutput(got, goffs, gm, dstStride, dstPlane, m, xi, kStride, nk, b, r, relu, bound)
				winoOutputGo(want, goffs, gm, dstStride, dstPlane, m, xi, kStride, nk, b, r, relu, bound)
				for i := range got {
					if !sameBits(got[i], want[i]) {
						t.Fatalf("output ng %d nk %d mode %d: [%d] = %v, want %v", ng, nk, mode, i, got[i], want[i])
					}
				}
			}
		}
	})
}

// The three transforms compute a 3×3 convolution: a known answer for one
// channel in and out (filter transform ⊙ input transform, then the output
// transform), against the direct sums in float64.
func TestWinogradComputesConvolution(t *testing.T) {
	rng := rand.New(rand.NewPCG(53, 54))
	const h, w = 8, 14 // output size: 2×4 tiles, the last column overhanging
	th, tw := (h+3)/4, (w+3)/4
	wp := 4*tw + 2
	x := make([]float32, (4*th+2)*wp+WinoInputSlack) // zero-padded by one
	for y := 1; y <= h; y++ {
		for c := 1; c <= w; c++ {
			x[y*wp+c] = float32(rng.NormFloat64())
		}
	}
	g := make([]float32, 9)
	for i := range g {
		g[i] = float32(rng.NormFloat64())
	}
	u := make([]float32, WinoValues)
	WinoFilter(u, g, 1, 1)
	// One group of four tiles per row of tiles, padded to four groups.
	goffs := make([]int32, 4)
	gm := make([]uint64, 4)
	for ty := 0; ty < th; ty++ {
		goffs[ty] = int32(4 * ty * wp)
		gm[ty] = WinoGroupMask(min(4, h-4*ty), w)
	}
	T := 16
	v := make([]float32, WinoValues*T)
	WinoInput(v, T, 0, x, goffs, wp, 0, 1)
	for xi := 0; xi < WinoValues; xi++ {
		for t := 0; t < T; t++ {
			v[xi*T+t] *= u[xi]
		}
	}
	out := make([]float32, h*w)
	bias := []float32{0.25}
	oo := make([]int32, 4)
	for ty := 0; ty < th; ty++ {
		oo[ty] = int32(4 * ty * w)
	}
	WinoOutput(out, oo, gm, w, 0, v, T, 0, 1, bias, nil, false, 0)
	var worst float64
	for y := 0; y < h; y++ {
		for c := 0; c < w; c++ {
			want, scale := 0.25, 0.25
			for ki := 0; ki < 3; ki++ {
				for kj := 0; kj < 3; kj++ {
					p := float64(g[ki*3+kj]) * float64(x[(y+ki)*wp+c+kj])
					want += p
					scale += math.Abs(p)
				}
			}
			// F(4×4, 3×3) in float32 loses about five bits to the
			// transforms: errors of a few 1e-6 of the terms' size.
			if got := float64(out[y*w+c]); math.Abs(got-want) > 1e-5*scale {
				t.Fatalf("(%d, %d) = %v, want %v (terms' size %v)", y, c, got, want, scale)
			}
			worst = max(worst, math.Abs(float64(out[y*w+c])-want)/scale)
		}
	}
	t.Logf("largest error %.2g of the terms' size", worst)
}

// The weight gradient's transforms compute the correlation of an input
// with an output gradient: Σ over tiles of (A dy Aᵀ) ⊙ (Bᵀ x B), then
// Gᵀ · G, against the direct sums in float64 (one channel each way).
func TestWinogradComputesWeightGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(55, 56))
	const h, w = 8, 14 // the last column of tiles overhangs
	th, tw := (h+3)/4, (w+3)/4
	wp := 4*tw + 2
	x := make([]float32, (4*th+2)*wp+WinoInputSlack) // zero-padded by one
	for y := 1; y <= h; y++ {
		for c := 1; c <= w; c++ {
			x[y*wp+c] = float32(rng.NormFloat64())
		}
	}
	dyw := 4 * tw
	dy := make([]float32, 4*th*dyw) // zero past the output
	for y := 0; y < h; y++ {
		for c := 0; c < w; c++ {
			dy[y*dyw+c] = float32(rng.NormFloat64())
		}
	}
	gin, gdy := make([]int32, 4), make([]int32, 4)
	for ty := 0; ty < th; ty++ {
		gin[ty], gdy[ty] = int32(4*ty*wp), int32(4*ty*dyw)
	}
	const T = 16
	v, e := make([]float32, WinoValues*T), make([]float32, WinoValues*T)
	WinoInput(v, T, 0, x, gin, wp, 0, 1)
	WinoGradInput(e, T, 0, dy, gdy, dyw, 0, 1)
	m := make([]float32, WinoValues)
	for xi := range m {
		var s float64
		for t := 0; t < th*tw; t++ {
			s += float64(v[xi*T+t]) * float64(e[xi*T+t])
		}
		m[xi] = float32(s)
	}
	dw := make([]float32, 9)
	WinoFilterGrad(dw, m, 1, 1)
	for u := 0; u < 3; u++ {
		for q := 0; q < 3; q++ {
			var want, scale float64
			for y := 0; y < h; y++ {
				for c := 0; c < w; c++ {
					p := float64(dy[y*dyw+c]) * float64(x[(y+u)*wp+c+q])
					want += p
					scale += math.Abs(p)
				}
			}
			if got := float64(dw[u*3+q]); math.Abs(got-want) > 1e-5*scale {
				t.Fatalf("dw(%d, %d) = %v, want %v (terms' size %v)", u, q, got, want, scale)
			}
		}
	}
}

// Short slices are a programmer error the transforms report by panicking,
// not by reading or writing out of bounds.
func TestWinogradBounds(t *testing.T) {
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Fatalf("%s: no panic", name)
			}
		}()
		f()
	}
	src := make([]float32, 6*18)
	four := make([]int32, 4)
	whole := []uint64{WinoGroupMask(4, 16), 0, 0, 0}
	mustPanic("input without slack", func() { WinoInput(make([]float32, 36*16), 16, 16, src, four, 18, 0, 1) })
	mustPanic("input groups not by four", func() {
		WinoInput(make([]float32, 36*16), 16, 16, make([]float32, 200), four[:3], 18, 0, 1)
	})
	mustPanic("output short m", func() {
		WinoOutput(make([]float32, 64), four, whole, 16, 0, make([]float32, 35*16), 16, 0, 1, nil, nil, false, 0)
	})
	mustPanic("output short dst", func() {
		WinoOutput(make([]float32, 63), four, whole, 16, 0, make([]float32, 36*16), 16, 0, 1, nil, nil, false, 0)
	})
	mustPanic("filter short", func() { WinoFilter(make([]float32, 36), make([]float32, 8), 1, 1) })
	mustPanic("gradient input short", func() { WinoGradInput(make([]float32, 36*16), 16, 16, make([]float32, 60), four, 16, 0, 1) })
	mustPanic("filter gradient short", func() { WinoFilterGrad(make([]float32, 8), make([]float32, 36), 1, 1) })
}
