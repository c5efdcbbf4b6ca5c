package tensor

import (
	"math"
	"testing"
)

// winoCases take the Winograd path: whole tiles, a last tile overhanging
// the output (30 = 7½ tiles, 14 = 3½), rows of tiles not a whole number of
// groups of four (44 = 11 tiles), images with so few tiles that a chunk
// spans several of them, and lone images.
var winoCases = []convCase{
	{"16x16", 2, 16, 16, 16, 16, 3, 3, ConvParams{PadH: 1, PadW: 1}, true},
	{"overhang 30x30", 1, 16, 30, 30, 24, 3, 3, ConvParams{PadH: 1, PadW: 1}, true},
	{"11 tiles a row", 3, 32, 20, 44, 16, 3, 3, ConvParams{PadH: 1, PadW: 1}, false},
	{"small images", 5, 16, 8, 16, 32, 3, 3, ConvParams{PadH: 1, PadW: 1}, true},
	{"one image 56", 1, 16, 56, 56, 16, 3, 3, ConvParams{PadH: 1, PadW: 1}, true},
	// One chunk for two or more cores: its stages are shared out.
	{"one image 14", 1, 24, 14, 14, 40, 3, 3, ConvParams{PadH: 1, PadW: 1}, true},
}

// withWino runs f with the Winograd path forced on where the vector
// transforms are missing (the Go transforms run then), and checks that
// every case really takes it.
func withWino(t *testing.T, f func()) {
	t.Helper()
	winoForce = true
	defer func() { winoForce = false }()
	for _, tc := range winoCases {
		g := convCheck("Conv2D", []int{tc.n, tc.c, tc.h, tc.w}, []int{tc.o, tc.c, 3, 3}, tc.p.norm())
		if !g.winoFits() {
			t.Fatalf("%s does not take the Winograd path", tc.name)
		}
	}
	f()
}

// winoClose checks got against the float64 definition: F(4×4, 3×3) is off
// by a few 1e-6 of the size of the terms a tile's outputs sum (scale, the
// same convolution of the absolute values; a corner output, with few
// terms of its own, shares its tile's rounding), far less than 1e-5 of
// the largest in its plane (hw outputs).
func winoClose(t *testing.T, what string, got []float32, want, scale []float64, hw int) {
	t.Helper()
	worst := 0.0
	for p0 := 0; p0 < len(want); p0 += hw {
		s := 0.0
		for _, v := range scale[p0 : p0+hw] {
			s = max(s, v)
		}
		for i := p0; i < p0+hw; i++ {
			d := math.Abs(float64(got[i]) - want[i])
			if !(d <= 1e-5*s) {
				t.Fatalf("%s[%d] = %v, want %v (terms' size up to %v)", what, i, got[i], want[i], s)
			}
			worst = max(worst, d/s)
		}
	}
	t.Logf("%s: largest error %.2g of the terms' size", what, worst)
}

func absT(x *Tensor) *Tensor {
	y := x.Clone()
	for i, v := range y.Data() {
		y.Data()[i] = float32(math.Abs(float64(v)))
	}
	return y
}

// The Winograd forward against the definition, with every epilogue: bias,
// rectifier, ReLU6's bound and a residual, the last bit for bit the
// convolution followed by the addition and activation (Conv2DAdd's
// promise on every path).
func TestWinogradForward(t *testing.T) {
	withWino(t, func() {
		for i, tc := range winoCases {
			t.Run(tc.name, func(t *testing.T) {
				x, w, b := tc.tensors(uint64(4000 + i))
				ref := convRef(x, w, b, tc.p)
				var ab *Tensor
				if b != nil {
					ab = absT(b)
				}
				scale := convRef(absT(x), absT(w), ab, tc.p)
				y := Conv2D(x, w, b, tc.p)
				winoClose(t, "y", y.Data(), ref, scale, tc.h*tc.w)
				y6 := Conv2DReLUMax(x, w, b, tc.p, 0.75)
				for j, v := range y.Data() {
					if want := min(max(v, 0), 0.75); !bitsEqual(y6.Data()[j:j+1], []float32{want}) {
						t.Fatalf("relu6 y[%d] = %v, want %v", j, y6.Data()[j], want)
					}
				}
				res := RandN(NewRNG(uint64(4100+i)), 0, 1, y.Shape()...)
				got := Conv2DAdd(x, w, b, res, tc.p, true, 0.5)
				for j, v := range y.Data() {
					v += res.Data()[j]
					v = min(max(v, 0), 0.5)
					if !bitsEqual(got.Data()[j:j+1], []float32{v}) {
						t.Fatalf("Conv2DAdd y[%d] = %v, want %v", j, got.Data()[j], v)
					}
				}
			})
		}
	})
}

// The gradients through Winograd against the definition: the input
// gradient (the flipped filters' convolution of the output gradient,
// masked by a ReLU's output when there is one) and the weight gradient
// (its adjoint: the tiles' transforms multiplied and summed), to a few
// 1e-6 of the size of their terms; the bias gradient; and dw is the same
// bits whether or not dx is asked for.
func TestWinogradInputGrad(t *testing.T) {
	withWino(t, func() {
		for i, tc := range winoCases {
			t.Run(tc.name, func(t *testing.T) {
				x, w, b := tc.tensors(uint64(4200 + i))
				y := Conv2DReLU(x, w, b, tc.p)
				dy := RandN(NewRNG(uint64(4300+i)), 0, 1, y.Shape()...)
				masked := dy.Clone()
				for j, v := range y.Data() {
					if !(v > 0) {
						masked.Data()[j] = 0
					}
				}
				rx, rw, rb := convRefBackward(x, w, masked, tc.p)
				sx, sw, _ := convRefBackward(absT(x), absT(w), absT(masked), tc.p)
				dx := Conv2DInputGrad(x, w, y, dy, tc.p)
				winoClose(t, "dx", dx.Data(), rx, sx, tc.h*tc.w)
				bx, bw, bb := Conv2DReLUBackward(x, w, y, dy, tc.p, true)
				if !bitsEqual(bx.Data(), dx.Data()) {
					t.Fatal("dx differs between Conv2DInputGrad and Conv2DReLUBackward")
				}
				winoClose(t, "dw", bw.Data(), rw, sw, 9)
				closeTo(t, "db", bb.Data(), rb)
				_, nw, _ := Conv2DReLUBackward(x, w, y, dy, tc.p, false)
				if !bitsEqual(nw.Data(), bw.Data()) {
					t.Fatal("dw differs between needDX true and false")
				}
			})
		}
	})
}

// Each tile is computed alone, in a fixed order: an image gives the same
// bits alone as in a batch (where its tiles share chunks with other
// images'), on one core as on all, run after run; and prepared filters
// the same bits as filters transformed at each call.
func TestWinogradDeterministic(t *testing.T) {
	withWino(t, func() {
		for i, tc := range winoCases {
			x, w, b := tc.tensors(uint64(4400 + i))
			y := Conv2D(x, w, b, tc.p)
			dy := RandN(NewRNG(uint64(4500+i)), 0, 1, y.Shape()...)
			dx := Conv2DInputGrad(x, w, nil, dy, tc.p)
			if again := Conv2D(x, w, b, tc.p); !bitsEqual(again.Data(), y.Data()) {
				t.Fatalf("%s: a second run differs", tc.name)
			}
			_, dw, _ := Conv2DBackward(x, w, dy, tc.p, false)
			if _, again, _ := Conv2DBackward(x, w, dy, tc.p, false); !bitsEqual(again.Data(), dw.Data()) {
				t.Fatalf("%s: a second weight gradient differs", tc.name)
			}
			threads := Threads()
			SetThreads(1)
			one := Conv2D(x, w, b, tc.p)
			oneDX := Conv2DInputGrad(x, w, nil, dy, tc.p)
			_, oneDW, _ := Conv2DBackward(x, w, dy, tc.p, false)
			SetThreads(threads)
			if !bitsEqual(one.Data(), y.Data()) || !bitsEqual(oneDX.Data(), dx.Data()) || !bitsEqual(oneDW.Data(), dw.Data()) {
				t.Fatalf("%s: one core differs from all", tc.name)
			}
			per := x.Len() / tc.n
			out := y.Len() / tc.n
			for j := 0; j < tc.n; j++ {
				xi, err := FromSlice(x.Data()[j*per:(j+1)*per], 1, tc.c, tc.h, tc.w)
				if err != nil {
					t.Fatal(err)
				}
				yi := Conv2D(xi, w, b, tc.p)
				if !bitsEqual(yi.Data(), y.Data()[j*out:(j+1)*out]) {
					t.Fatalf("%s: image %d alone differs from the batch", tc.name, j)
				}
			}
			pp := tc.p
			pp.Prepared = PrepareConvFilters(w, 1)
			if got := Conv2D(x, w, b, pp); !bitsEqual(got.Data(), y.Data()) {
				t.Fatalf("%s: prepared filters differ", tc.name)
			}
			if got := Conv2DInputGrad(x, w, nil, dy, pp); !bitsEqual(got.Data(), dx.Data()) {
				t.Fatalf("%s: prepared flipped filters differ", tc.name)
			}
			pp.Prepared.Release()
		}
	})
}

// ConvParams.Exact keeps a layer Winograd would take on the direct sums:
// the same bits as with Winograd off, forward and gradients.
func TestWinogradExact(t *testing.T) {
	withWino(t, func() {
		tc := winoCases[0]
		x, w, b := tc.tensors(4600)
		p := tc.p
		p.Exact = true
		y := Conv2D(x, w, b, p)
		dy := RandN(NewRNG(4601), 0, 1, y.Shape()...)
		dx, dw, _ := Conv2DBackward(x, w, dy, p, true)
		if wy := Conv2D(x, w, b, tc.p); bitsEqual(wy.Data(), y.Data()) {
			t.Fatal("Winograd and the exact sums gave the same bits: the test shows nothing")
		}
		winoOff = true
		defer func() { winoOff = false }()
		if want := Conv2D(x, w, b, tc.p); !bitsEqual(y.Data(), want.Data()) {
			t.Fatal("Exact forward differs from the direct path")
		}
		wx, ww, _ := Conv2DBackward(x, w, dy, tc.p, true)
		if !bitsEqual(dx.Data(), wx.Data()) || !bitsEqual(dw.Data(), ww.Data()) {
			t.Fatal("Exact gradients differ from the direct path's")
		}
	})
}

// The weight gradient of a block cut into many chunks of rows of tiles
// (one row of tiles each, a chunk's rows of tiles then spanning no image
// boundary, or several with images of one row) sums them into the same
// answer, to the same few 1e-6 of its terms' size.
func TestWinogradWeightGradChunks(t *testing.T) {
	withWino(t, func() {
		prev := winoGradChunkBytes
		defer func() { winoGradChunkBytes = prev }()
		winoGradChunkBytes = 1 // the smallest chunk: 32 tiles
		for i, tc := range winoCases {
			x, w, _ := tc.tensors(uint64(4700 + i))
			y := Conv2D(x, w, nil, tc.p)
			dy := RandN(NewRNG(uint64(4800+i)), 0, 1, y.Shape()...)
			_, rw, rb := convRefBackward(x, w, dy, tc.p)
			_, sw, _ := convRefBackward(absT(x), absT(w), absT(dy), tc.p)
			_, dw, db := Conv2DBackward(x, w, dy, tc.p, false)
			winoClose(t, tc.name+" dw", dw.Data(), rw, sw, 9)
			closeTo(t, tc.name+" db", db.Data(), rb)
		}
	})
}
