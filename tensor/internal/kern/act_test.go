package kern

import (
	"math"
	"testing"
)

// actInputs covers every lane of the vector loop and the scalar tail,
// with the values the rectifier must get right: ±0, NaN, ±Inf, the
// smallest subnormal.
func actInputs(n int) []float32 {
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, 1.5, -2.25}
	x := make([]float32, n)
	for i := range x {
		if i%3 == 0 {
			x[i] = special[(i/3)%len(special)]
		} else {
			x[i] = float32(i%11) - 5.5
		}
	}
	return x
}

func sameBits(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }

func TestAddBiasMatchesGo(t *testing.T) {
	for _, n := range []int{1, 7, 8, 9, 31, 64, 133} {
		src := actInputs(n)
		for _, b := range []float32{0, float32(math.Copysign(0, -1)), 0.75, -1} {
			for _, relu := range []bool{false, true} {
				got := make([]float32, n)
				AddBias(got, src, b, relu)
				for i, v := range src {
					want := v + b
					if relu {
						want = max(v+b, 0)
					}
					if !sameBits(got[i], want) {
						t.Fatalf("n=%d b=%v relu=%v: dst[%d] = %v (bits %#x), want %v (bits %#x) for src %v",
							n, b, relu, i, got[i], math.Float32bits(got[i]), want, math.Float32bits(want), v)
					}
				}
			}
		}
	}
}

func TestReLUGradMatchesGo(t *testing.T) {
	for _, n := range []int{1, 8, 15, 64, 101} {
		y := actInputs(n)
		g := make([]float32, n)
		for i := range g {
			g[i] = float32(i) + 0.5
		}
		got := make([]float32, n)
		ReLUGrad(got, g, y)
		for i := range y {
			pass := y[i] > 0 || math.IsNaN(float64(y[i])) || (y[i] == 0 && math.Signbit(float64(y[i])))
			want := float32(0)
			if pass {
				want = g[i]
			}
			if !sameBits(got[i], want) {
				t.Fatalf("n=%d: dst[%d] = %v, want %v (y = %v)", n, i, got[i], want, y[i])
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Fatal("short y: no panic")
		}
	}()
	ReLUGrad(make([]float32, 4), make([]float32, 4), make([]float32, 3))
}

// TestTanhSigmoidAccuracy checks the approximations against float64 over
// [−22, 22] (4M points, every lane and the tail), their saturation,
// symmetry, tiny arguments and NaN.
func TestTanhSigmoidAccuracy(t *testing.T) {
	const n = 4000003
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(i-n/2) * 1.1e-5
	}
	th, sg := make([]float32, n), make([]float32, n)
	Tanh(th, x)
	Sigmoid(sg, x)
	var maxSig, maxTanh, maxTanhRel float64
	for i, v := range x {
		xd := float64(v)
		maxSig = max(maxSig, math.Abs(float64(sg[i])-1/(1+math.Exp(-xd))))
		want := math.Tanh(xd)
		maxTanh = max(maxTanh, math.Abs(float64(th[i])-want))
		if v != 0 && math.Abs(want) < 0.9 {
			maxTanhRel = max(maxTanhRel, math.Abs(float64(th[i])-want)/math.Abs(want))
		}
	}
	if maxSig > 3e-7 {
		t.Errorf("Sigmoid: max absolute error %.3g, want ≤ 3e-7", maxSig)
	}
	if maxTanh > 4e-7 || maxTanhRel > 4e-7 {
		t.Errorf("Tanh: max absolute error %.3g, relative (|tanh| < 0.9) %.3g; want ≤ 4e-7", maxTanh, maxTanhRel)
	}
	nan := float32(math.NaN())
	in := []float32{-200, 200, 0, -0.3, 0.3, 1e-20, nan, float32(math.Inf(1)), float32(math.Inf(-1)), 2, 3, 0.5, -7, 7.9, 8, -8}
	tv, sv := make([]float32, len(in)), make([]float32, len(in))
	Tanh(tv, in) // 16 values: all in the vector loop
	Sigmoid(sv, in)
	for i, c := range []struct {
		got, want float32
	}{{tv[0], -1}, {tv[1], 1}, {tv[2], 0}, {sv[0], 0}, {sv[1], 1}, {sv[2], 0.5}, {tv[3], -tv[4]}, {tv[7], 1}, {tv[8], -1}} {
		if c.got != c.want {
			t.Errorf("case %d: got %v, want %v", i, c.got, c.want)
		}
	}
	if r := float64(tv[5]) / 1e-20; math.Abs(r-1) > 1e-6 {
		t.Errorf("Tanh(1e-20) = %v: tiny values must keep their relative precision", tv[5])
	}
	if !math.IsNaN(float64(tv[6])) || !math.IsNaN(float64(sv[6])) {
		t.Errorf("NaN in: Tanh %v, Sigmoid %v, want NaN", tv[6], sv[6])
	}
	// In place, and the vector loop agrees with the scalar tail.
	d := append([]float32(nil), in...)
	Tanh(d, d)
	for i := range d {
		if g := tanhGo(in[i]); !(math.Abs(float64(d[i]-g)) <= 2e-7 || math.IsNaN(float64(g)) && math.IsNaN(float64(d[i]))) {
			t.Errorf("Tanh(%v) in place = %v, scalar %v", in[i], d[i], g)
		}
	}
}

func TestClampMaxMatchesGo(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, n := range []int{0, 1, 7, 8, 9, 16, 33, 100} {
		d := make([]float32, n)
		for i := range d {
			d[i] = float32((i*7919)%97-48) / 4 // −12 … 12
		}
		if n > 3 {
			d[1], d[2], d[3] = nan, inf, float32(math.Copysign(0, -1))
		}
		want := append([]float32(nil), d...)
		clampMaxGo(want, 6)
		ClampMax(d, 6)
		for i := range d {
			if math.Float32bits(d[i]) != math.Float32bits(want[i]) && !(d[i] != d[i] && want[i] != want[i]) {
				t.Fatalf("n=%d: [%d] = %v, want %v", n, i, d[i], want[i])
			}
		}
		if n > 3 && (d[1] == d[1] || d[2] != 6) {
			t.Fatalf("n=%d: NaN → %v, +Inf → %v; want NaN and 6", n, d[1], d[2])
		}
	}
}
