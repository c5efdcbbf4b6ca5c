package onnx

import (
	"math"
	"testing"

	"github.com/glassbox-ml/glassbox/tensor"
)

// rnnRef runs ONNX's recurrent equations as the operator documentation
// writes them, in float64, for layout 0: X [T, B, I], W [D, G·H, I],
// R [D, G·H, H], B [D, 2·G·H] (nil: zeros), initial states [D, B, H]
// (nil: zeros), P [D, 3H] (nil: none). It returns Y [T, D, B, H], Y_h
// and Y_c [D, B, H].
func rnnRef(kind rnnKind, dirs []bool, lbr bool, X, W, R, Bias, H0, C0, P *tensor.Tensor) (y, yh, yc []float64) {
	T, Bn, In := X.Dim(0), X.Dim(1), X.Dim(2)
	G := map[rnnKind]int{kindLSTM: 4, kindGRU: 3, kindRNN: 1}[kind]
	H := W.Dim(1) / G
	D := len(dirs)
	y = make([]float64, T*D*Bn*H)
	yh = make([]float64, D*Bn*H)
	yc = make([]float64, D*Bn*H)
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	get := func(t *tensor.Tensor, idx ...int) float64 {
		if t == nil {
			return 0
		}
		return float64(t.At(idx...))
	}
	for d, rev := range dirs {
		for b := 0; b < Bn; b++ {
			h := make([]float64, H)
			c := make([]float64, H)
			for j := range h {
				h[j] = get(H0, d, b, j)
				c[j] = get(C0, d, b, j)
			}
			for s := 0; s < T; s++ {
				t := s
				if rev {
					t = T - 1 - s
				}
				// xw[g] = x·W[g]ᵀ + Wb[g]; hr[g] = h·R[g]ᵀ + Rb[g].
				xw := make([]float64, G*H)
				hr := make([]float64, G*H)
				for g := 0; g < G*H; g++ {
					xw[g] = get(Bias, d, g)
					hr[g] = get(Bias, d, G*H+g)
					for i := 0; i < In; i++ {
						xw[g] += float64(X.At(t, b, i)) * float64(W.At(d, g, i))
					}
					for i := 0; i < H; i++ {
						hr[g] += h[i] * float64(R.At(d, g, i))
					}
				}
				nh := make([]float64, H)
				switch kind {
				case kindLSTM: // gates i, o, f, c
					for j := 0; j < H; j++ {
						ig := sig(xw[j] + hr[j] + get(P, d, j)*c[j])
						fg := sig(xw[2*H+j] + hr[2*H+j] + get(P, d, 2*H+j)*c[j])
						cg := math.Tanh(xw[3*H+j] + hr[3*H+j])
						c[j] = fg*c[j] + ig*cg
						og := sig(xw[H+j] + hr[H+j] + get(P, d, H+j)*c[j])
						nh[j] = og * math.Tanh(c[j])
					}
				case kindGRU: // gates z, r, h
					r := make([]float64, H)
					for j := 0; j < H; j++ {
						r[j] = sig(xw[H+j] + hr[H+j])
					}
					for j := 0; j < H; j++ {
						z := sig(xw[j] + hr[j])
						var hh float64
						if lbr {
							hh = math.Tanh(xw[2*H+j] + r[j]*hr[2*H+j])
						} else {
							rh := get(Bias, d, G*H+2*H+j)
							for i := 0; i < H; i++ {
								rh += r[i] * h[i] * float64(R.At(d, 2*H+j, i))
							}
							hh = math.Tanh(xw[2*H+j] + rh)
						}
						nh[j] = (1-z)*hh + z*h[j]
					}
				default:
					for j := 0; j < H; j++ {
						nh[j] = math.Tanh(xw[j] + hr[j])
					}
				}
				h = nh
				for j := 0; j < H; j++ {
					y[((t*D+d)*Bn+b)*H+j] = h[j]
				}
			}
			for j := 0; j < H; j++ {
				yh[(d*Bn+b)*H+j] = h[j]
				yc[(d*Bn+b)*H+j] = c[j]
			}
		}
	}
	return y, yh, yc
}

func TestRecurrent(t *testing.T) {
	rng := tensor.NewRNG(10)
	const T, B, In, H = 4, 2, 3, 3
	var cases []opCase
	for _, kind := range []rnnKind{kindLSTM, kindGRU, kindRNN} {
		op := map[rnnKind]string{kindLSTM: "LSTM", kindGRU: "GRU", kindRNN: "RNN"}[kind]
		G := map[rnnKind]int{kindLSTM: 4, kindGRU: 3, kindRNN: 1}[kind]
		for _, dir := range []string{"forward", "reverse", "bidirectional"} {
			dirs := map[string][]bool{"forward": {false}, "reverse": {true}, "bidirectional": {false, true}}[dir]
			D := len(dirs)
			for _, lbr := range []bool{true, false} {
				if kind != kindGRU && !lbr {
					continue
				}
				X := randT(rng, T, B, In)
				W := tensor.MulScalar(randT(rng, D, G*H, In), 0.8)
				R := tensor.MulScalar(randT(rng, D, G*H, H), 0.8)
				Bias := tensor.MulScalar(randT(rng, D, 2*G*H), 0.5)
				H0 := randT(rng, D, B, H)
				in := []arg{F(X), F(W), F(R), F(Bias), omitted(), F(H0)}
				var C0 *tensor.Tensor
				outs := 2
				if kind == kindLSTM {
					C0 = randT(rng, D, B, H)
					in = append(in, F(C0))
					outs = 3
				}
				y, _, _ := rnnRef(kind, dirs, lbr, X, W, R, Bias, H0, C0, nil)
				at := []*Attribute{tInt("hidden_size", H), tStr("direction", dir)}
				name := op + "_" + dir
				if kind == kindGRU {
					l := int64(0)
					if lbr {
						l = 1
						name += "_lbr"
					}
					at = append(at, tInt("linear_before_reset", l))
				}
				cases = append(cases, opCase{name: name, op: op, at: at, in: in, outs: outs, want64: y, shape: []int{T, D, B, H}, grad: true, tol: 1e-4})
			}
		}
	}
	// No bias, no initial state, and LSTM peepholes (step by step).
	X := randT(rng, T, B, In)
	W, R := randT(rng, 1, 4*H, In), randT(rng, 1, 4*H, H)
	P := randT(rng, 1, 3*H)
	y, _, _ := rnnRef(kindLSTM, []bool{false}, false, X, W, R, nil, nil, nil, nil)
	yp, _, _ := rnnRef(kindLSTM, []bool{false}, false, X, W, R, nil, nil, nil, P)
	cases = append(cases,
		opCase{name: "LSTM_plain", op: "LSTM", at: []*Attribute{tInt("hidden_size", H)}, in: []arg{F(X), F(W), F(R)}, want64: y, shape: []int{T, 1, B, H}, grad: true, tol: 1e-4},
		opCase{name: "LSTM_peepholes", op: "LSTM", at: []*Attribute{tInt("hidden_size", H)}, in: []arg{F(X), F(W), F(R), omitted(), omitted(), omitted(), omitted(), F(P)}, want64: yp, shape: []int{T, 1, B, H}, grad: true, tol: 1e-4},
	)
	runCases(t, cases)
}

// TestRecurrentOutputs checks Y_h, Y_c and layout 1 (batch first).
func TestRecurrentOutputs(t *testing.T) {
	rng := tensor.NewRNG(11)
	const T, B, In, H = 3, 2, 2, 2
	X := randT(rng, T, B, In)
	W, R, Bias := randT(rng, 2, 4*H, In), randT(rng, 2, 4*H, H), randT(rng, 2, 8*H)
	y, yh, yc := rnnRef(kindLSTM, []bool{false, true}, false, X, W, R, Bias, nil, nil, nil)
	// layout 1: X [B, T, I], Y [B, T, D, H], Y_h [B, D, H].
	xb := X.Transpose(1, 0, 2).Contiguous()
	for _, layout := range []int64{0, 1} {
		x := X
		if layout == 1 {
			x = xb
		}
		m := newModel(14).input("x", Float).floatInit("W", W).floatInit("R", R).floatInit("B", Bias).
			node("LSTM", []string{"x", "W", "R", "B"}, []string{"y", "yh", "yc"}, tInt("hidden_size", H), tStr("direction", "bidirectional"), tInt("layout", layout)).
			output("y", "yh", "yc").m
		mod := mustImport(t, m, ImportOptions{AllInputs: true})
		got, err := mod.Eval(map[string]*Tensor{"x": floatTensor("x", x)})
		if err != nil {
			t.Fatal(err)
		}
		wy, wh, wc := y, yh, yc
		if layout == 1 {
			wy = permute(y, []int{T, 2, B, H}, []int{2, 0, 1, 3})
			wh = permute(yh, []int{2, B, H}, []int{1, 0, 2})
			wc = permute(yc, []int{2, B, H}, []int{1, 0, 2})
		}
		for name, want := range map[string][]float64{"y": wy, "yh": wh, "yc": wc} {
			if i, ok := close64(got[name].Floats, want, 1e-4); !ok {
				t.Errorf("layout %d, %s: element %d: got %v, want %v", layout, name, i, got[name].Floats, want)
			}
		}
	}
}

// permute transposes row-major data of shape by perm.
func permute(v []float64, shape, perm []int) []float64 {
	t := tensor.New(shape...)
	for i, x := range v {
		t.Data()[i] = float32(x)
	}
	return f64s(t.Transpose(perm...).Contiguous())
}
