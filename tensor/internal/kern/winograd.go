package kern

import (
	"fmt"
	"math/bits"
)

// Winograd F(4×4, 3×3) transforms (Lavin & Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2015, with the points 0, ±1, ±2 that
// oneDNN and NNPACK use): a 3×3 stride-1 convolution computes each 4×4
// block of its output from the 6×6 input patch under it as
// Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, 36 multiplications per channel instead of 144.
// Summed over the channels, the 36 element-wise products become 36 matrix
// products (filters × channels times channels × tiles), which the caller
// runs through the GEMM; these functions are the transforms on either side
// of them, with the tiles of one row of tiles on the vector lanes. The
// transforms are fixed sequences of additions and multiplications by
// small integers, each rounded on its own (never fused), in the same order
// on every path, so the vector kernels and the Go code agree bit for bit.

// WinoTile is the output block of one tile (4×4) and WinoPatch the input
// patch (6×6) it is computed from; WinoValues is the number of transform
// values per tile and channel, and of the products.
const (
	WinoTile   = 4
	WinoPatch  = 6
	WinoValues = 36
)

// WinoInput writes the input transform Bᵀ d B of len(goffs) groups of
// four tiles for nc channels: the patches of group g are rows 0..5,
// columns 4j..4j+5 (j = 0..3, the group's tiles) of the plane at
// src[ci·planeStride + goffs[g]:] (row stride srcStride), already
// zero-padded, and value ξ = 6i+j' of tile t = 4g+j goes to dst[ξ·xiStride
// + ci·cStride + t]. Groups come four at a time (len(goffs) is a multiple
// of 4), so the tiles of a row of patches need not be contiguous: a
// group may start anywhere (the next row of tiles, the next image). src
// must have WinoInputSlack floats after the last patch, which the vector
// kernel may read (and ignore).
func WinoInput(dst []float32, xiStride, cStride int, src []float32, goffs []int32, srcStride, planeStride, nc int) {
	ng := len(goffs)
	if nc <= 0 || ng == 0 {
		return
	}
	lo, hi := offsRange(goffs)
	last := (nc-1)*planeStride + int(hi) + 5*srcStride + 18
	if ng%4 != 0 || lo < 0 || xiStride < 0 || cStride < 0 || srcStride < 18 || planeStride < 0 || len(src) < last+WinoInputSlack || len(dst) < 35*xiStride+(nc-1)*cStride+4*ng {
		panic(fmt.Sprintf("kern.WinoInput: %d channels of %d groups of tiles (a multiple of 4, offsets %d to %d): src %d floats (row stride %d, plane stride %d), dst %d floats (strides %d, %d)", nc, ng, lo, hi, len(src), srcStride, planeStride, len(dst), xiStride, cStride))
	}
	if winoInputAsm(dst, xiStride, cStride, src, goffs, srcStride, planeStride, nc) {
		return
	}
	winoInputGo(dst, xiStride, cStride, src, goffs, srcStride, planeStride, nc)
}

// offsRange returns the smallest of the offsets (or 0, if all are larger)
// and the largest.
func offsRange(offs []int32) (lo, hi int32) {
	hi = -1
	for _, o := range offs {
		hi, lo = max(hi, o), min(lo, o)
	}
	return lo, hi
}

// WinoInputSlack is how many floats past the last patch WinoInput's vector
// kernel may read: its loads are whole vectors of 16.
const WinoInputSlack = 8

// winoB applies Bᵀ to six values:
//
//	t0 = 4d0 − 5d2 + d4        t3 = (d4 − d2) + 2(d3 − d1)
//	t1 = (d4 − 4d2) + (d3 − 4d1)  t4 = (d4 − d2) − 2(d3 − d1)
//	t2 = (d4 − 4d2) − (d3 − 4d1)  t5 = 4d1 − 5d3 + d5
//
// each product rounded on its own (the conversions keep them from being
// fused into FMAs), as the vector kernel computes them.
func winoB(d0, d1, d2, d3, d4, d5 float32) (t0, t1, t2, t3, t4, t5 float32) {
	t0 = float32(float32(4*d0)-float32(5*d2)) + d4
	a := d4 - float32(4*d2)
	b := d3 - float32(4*d1)
	t1, t2 = a+b, a-b
	c := d4 - d2
	e := float32(2 * (d3 - d1))
	t3, t4 = c+e, c-e
	t5 = float32(float32(4*d1)-float32(5*d3)) + d5
	return
}

// winoA applies Aᵀ to six values:
//
//	o0 = (m0 + p) + r    o2 = p + 4r
//	o1 = q + 2s          o3 = (q + 8s) + m5
//
// with p = m1+m2, q = m1−m2, r = m3+m4, s = m3−m4.
func winoA(m0, m1, m2, m3, m4, m5 float32) (o0, o1, o2, o3 float32) {
	p, q := m1+m2, m1-m2
	r, s := m3+m4, m3-m4
	o0 = m0 + p + r
	o1 = q + float32(2*s)
	o2 = p + float32(4*r)
	o3 = q + float32(8*s) + m5
	return
}

// winoInputGo is WinoInput in Go, the reference the vector kernel matches
// bit for bit: Bᵀ along each row of the patch, then down each column.
func winoInputGo(dst []float32, xiStride, cStride int, src []float32, goffs []int32, srcStride, planeStride, nc int) {
	winoTilesGo(dst, xiStride, cStride, src, goffs, srcStride, planeStride, nc, 6, func(d []float32) (t [6]float32) {
		t[0], t[1], t[2], t[3], t[4], t[5] = winoB(d[0], d[1], d[2], d[3], d[4], d[5])
		return t
	})
}

// winoTilesGo applies tr (n values in, six out) along each of the first n
// rows of every tile's patch (columns 4j..4j+n−1 of its group's), then down
// each of the six columns that gives, storing value ξ = 6i+j' of tile t
// at dst[ξ·xiStride + ci·cStride + t].
func winoTilesGo(dst []float32, xiStride, cStride int, src []float32, goffs []int32, srcStride, planeStride, nc, n int, tr func([]float32) [6]float32) {
	var t [6][6]float32
	col := make([]float32, n)
	for ci := 0; ci < nc; ci++ {
		out := dst[ci*cStride:]
		for g, o := range goffs {
			plane := src[ci*planeStride+int(o):]
			for j := 0; j < 4; j++ {
				tile := 4*g + j
				for r := 0; r < n; r++ {
					t[r] = tr(plane[r*srcStride+4*j:][:n])
				}
				for c := 0; c < 6; c++ {
					for r := range col {
						col[r] = t[r][c]
					}
					for i, x := range tr(col) {
						out[(6*i+c)*xiStride+tile] = x
					}
				}
			}
		}
	}
}

// WinoOutput writes the output transform Aᵀ m A of len(goffs) groups of
// four tiles for nk output channels: value ξ of tile t = 4g+j in channel k
// is m[ξ·xiStride + k·kStride + t], and the 4×4 block it gives goes to
// rows 0..3, columns 4j..4j+3 of the plane at dst[k·dstPlane + goffs[g]:]
// (row stride dstStride) — those of the group's rows and 16 columns that
// gmask[g] selects (bit 16a + c: row a, column c), so tiles that overhang
// the output or pad a row of tiles to a whole group write nothing there —
// with bias[k] added (bias nil: none), then res (nil: none; laid out as
// dst) added, then rectified when relu, then bounded above by bound when
// bound > 0: the order and rules of the direct convolution's epilogue
// (AddBias, Conv2DAdd, Conv2DReLUMax). len(goffs) is a multiple of 4.
func WinoOutput(dst []float32, goffs []int32, gmask []uint64, dstStride, dstPlane int, m []float32, xiStride, kStride, nk int, bias, res []float32, relu bool, bound float32) {
	ng := len(goffs)
	if nk <= 0 || ng == 0 {
		return
	}
	last := 0 // one past the last float written in channel 0
	bad := ng%4 != 0 || len(gmask) != ng || dstStride < 0 || dstPlane < 0 || xiStride < 0 || kStride < 0
	for g := 0; g < ng && !bad; g++ {
		mk := gmask[g]
		if mk == 0 {
			continue
		}
		if goffs[g] < 0 {
			bad = true
		}
		a := (63 - bits.LeadingZeros64(mk)) / 16
		c := 16 - bits.LeadingZeros16(uint16(mk>>(16*a)))
		last = max(last, int(goffs[g])+a*dstStride+c)
	}
	if n := (nk-1)*dstPlane + last; bad || len(dst) < n || (res != nil && len(res) < n) ||
		len(m) < 35*xiStride+(nk-1)*kStride+4*ng || (bias != nil && len(bias) < nk) {
		panic(fmt.Sprintf("kern.WinoOutput: %d channels of %d groups of tiles (a multiple of 4; %d masks): dst %d floats (row stride %d, plane %d), m %d floats (strides %d, %d), %d biases", nk, ng, len(gmask), len(dst), dstStride, dstPlane, len(m), xiStride, kStride, len(bias)))
	}
	if winoOutputAsm(dst, goffs, gmask, dstStride, dstPlane, m, xiStride, kStride, nk, bias, res, relu, bound) {
		return
	}
	winoOutputGo(dst, goffs, gmask, dstStride, dstPlane, m, xiStride, kStride, nk, bias, res, relu, bound)
}

// WinoGroupMask returns the gmask entry of a group whose first rows rows
// (0..4) and first cols columns (0..16) lie in the output.
func WinoGroupMask(rows, cols int) uint64 {
	if rows <= 0 || cols <= 0 {
		return 0
	}
	row := uint64(1)<<min(cols, 16) - 1
	var mk uint64
	for a := 0; a < min(rows, 4); a++ {
		mk |= row << (16 * a)
	}
	return mk
}

// winoOutputGo is WinoOutput in Go, the reference the vector kernel
// matches bit for bit: Aᵀ along each row of the transform, then down each
// column, then the epilogue.
func winoOutputGo(dst []float32, goffs []int32, gmask []uint64, dstStride, dstPlane int, m []float32, xiStride, kStride, nk int, bias, res []float32, relu bool, bound float32) {
	var s [6][4]float32
	for k := 0; k < nk; k++ {
		mk := m[k*kStride:]
		for g, o := range goffs {
			for j := 0; j < 4; j++ {
				tile := 4*g + j
				for i := 0; i < 6; i++ {
					v := func(c int) float32 { return mk[(6*i+c)*xiStride+tile] }
					s[i][0], s[i][1], s[i][2], s[i][3] = winoA(v(0), v(1), v(2), v(3), v(4), v(5))
				}
				for c := 0; c < 4; c++ {
					var y [4]float32
					y[0], y[1], y[2], y[3] = winoA(s[0][c], s[1][c], s[2][c], s[3][c], s[4][c], s[5][c])
					for a := 0; a < 4; a++ {
						if gmask[g]>>(16*a+4*j+c)&1 == 0 {
							continue
						}
						at := k*dstPlane + int(o) + a*dstStride + 4*j + c
						v := y[a]
						if bias != nil {
							v += bias[k]
						}
						if res != nil {
							v += res[at]
						}
						if relu {
							v = max(v, 0)
						}
						if bound > 0 {
							v = min(v, bound)
						}
						dst[at] = v
					}
				}
			}
		}
	}
}

// WinoGradInput writes the output gradient's transform A e Aᵀ for the
// weight gradient: the 4×4 blocks of len(goffs) groups of four tiles for
// nc channels — block j of group g is rows 0..3, columns 4j..4j+3 of the
// plane at src[ci·planeStride + goffs[g]:] (row stride srcStride), zero
// where it overhangs the output — with value ξ = 6i+j' of tile t = 4g+j
// going to dst[ξ·xiStride + ci·cStride + t]. A is Aᵀ's transpose (the
// adjoint of WinoOutput's transform), so Σ over tiles of this times
// WinoInput's transform of the input, element by element, is the weight
// gradient transformed by G (see WinoFilterGrad). len(goffs) is a
// multiple of 4; src needs no slack.
func WinoGradInput(dst []float32, xiStride, cStride int, src []float32, goffs []int32, srcStride, planeStride, nc int) {
	ng := len(goffs)
	if nc <= 0 || ng == 0 {
		return
	}
	lo, hi := offsRange(goffs)
	last := (nc-1)*planeStride + int(hi) + 3*srcStride + 16
	if ng%4 != 0 || lo < 0 || xiStride < 0 || cStride < 0 || srcStride < 16 || planeStride < 0 || len(src) < last || len(dst) < 35*xiStride+(nc-1)*cStride+4*ng {
		panic(fmt.Sprintf("kern.WinoGradInput: %d channels of %d groups of tiles (a multiple of 4, offsets %d to %d): src %d floats (row stride %d, plane stride %d), dst %d floats (strides %d, %d)", nc, ng, lo, hi, len(src), srcStride, planeStride, len(dst), xiStride, cStride))
	}
	if winoGradInputAsm(dst, xiStride, cStride, src, goffs, srcStride, planeStride, nc) {
		return
	}
	winoGradInputGo(dst, xiStride, cStride, src, goffs, srcStride, planeStride, nc)
}

// winoAT applies A (Aᵀ transposed) to four values:
//
//	f0 = e0    f1 = p + q    f2 = p − q    f5 = e3
//	f3 = r + 2s            f4 = r − 2s
//
// with p = e0+e2, q = e1+e3, r = e0+4e2, s = e1+4e3.
func winoAT(e0, e1, e2, e3 float32) (f0, f1, f2, f3, f4, f5 float32) {
	p, q := e0+e2, e1+e3
	r := e0 + float32(4*e2)
	s := float32(2 * (e1 + float32(4*e3)))
	return e0, p + q, p - q, r + s, r - s, e3
}

// winoGradInputGo is WinoGradInput in Go, the reference the vector kernel
// matches bit for bit: A along each row of the block, then down each
// column.
func winoGradInputGo(dst []float32, xiStride, cStride int, src []float32, goffs []int32, srcStride, planeStride, nc int) {
	winoTilesGo(dst, xiStride, cStride, src, goffs, srcStride, planeStride, nc, 4, func(e []float32) (f [6]float32) {
		f[0], f[1], f[2], f[3], f[4], f[5] = winoAT(e[0], e[1], e[2], e[3])
		return f
	})
}

// WinoFilterGrad writes the weight gradient of k·c 3×3 filters from the
// sums over tiles of the products of WinoGradInput's and WinoInput's
// transforms (36 matrices, m[ξ·k·c + ki·c + ci]): dw = Gᵀ m G (the adjoint
// of WinoFilter's transform), in float64, rounded once.
func WinoFilterGrad(dw, m []float32, k, c int) {
	if len(dw) < k*c*9 || len(m) < WinoValues*k*c {
		panic(fmt.Sprintf("kern.WinoFilterGrad: %d×%d filters need %d floats in and %d out; have %d, %d", k, c, WinoValues*k*c, k*c*9, len(m), len(dw)))
	}
	kc := k * c
	var t [6][3]float64
	for f := 0; f < kc; f++ {
		for i := 0; i < 6; i++ {
			for v := 0; v < 3; v++ {
				var s float64
				for j := 0; j < 6; j++ {
					s += float64(m[(6*i+j)*kc+f]) * winoG[j][v]
				}
				t[i][v] = s
			}
		}
		for u := 0; u < 3; u++ {
			for v := 0; v < 3; v++ {
				var s float64
				for i := 0; i < 6; i++ {
					s += winoG[i][u] * t[i][v]
				}
				dw[f*9+u*3+v] = float32(s)
			}
		}
	}
}

// winoG is G of F(4×4, 3×3), exactly in float64 where binary allows.
var winoG = [6][3]float64{
	{1.0 / 4, 0, 0},
	{-1.0 / 6, -1.0 / 6, -1.0 / 6},
	{-1.0 / 6, 1.0 / 6, -1.0 / 6},
	{1.0 / 24, 1.0 / 12, 1.0 / 6},
	{1.0 / 24, -1.0 / 12, 1.0 / 6},
	{0, 0, 1},
}

// WinoFilter writes the filter transform G g Gᵀ of the 3×3 filters g
// (k·c of them, filter (ki, ci) at g[(ki·c+ci)·9:]) as 36 matrices
// u[ξ·k·c + ki·c + ci], one per transform value: the A operands of the 36
// products. It is computed in float64 and rounded once: G's sixths and
// twenty-fourths are not exact in binary.
func WinoFilter(u, g []float32, k, c int) {
	if len(g) < k*c*9 || len(u) < WinoValues*k*c {
		panic(fmt.Sprintf("kern.WinoFilter: %d×%d filters need %d floats in and %d out; have %d, %d", k, c, k*c*9, WinoValues*k*c, len(g), len(u)))
	}
	G := &winoG
	kc := k * c
	var t [6][3]float64
	for f := 0; f < kc; f++ {
		w := g[f*9 : f*9+9]
		for i := 0; i < 6; i++ {
			for j := 0; j < 3; j++ {
				t[i][j] = G[i][0]*float64(w[j]) + G[i][1]*float64(w[3+j]) + G[i][2]*float64(w[6+j])
			}
		}
		for i := 0; i < 6; i++ {
			for j := 0; j < 6; j++ {
				u[(6*i+j)*kc+f] = float32(t[i][0]*G[j][0] + t[i][1]*G[j][1] + t[i][2]*G[j][2])
			}
		}
	}
}
