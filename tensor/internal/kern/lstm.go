package kern

import "fmt"

// LSTMGateGrads is the closed-form backward of one LSTM cell for one row
// of n = len(dc) units. a holds the saved gate activations [i | f | g | o]
// (4n), cPrev the previous cell state, tc = tanh(c); dh = dhRec + dhOut is
// the gradient of h, dc the gradient of c on entry and of cPrev on
// return; da (4n) receives the gradients of the gate pre-activations:
//
//	dct = dc + dh·o·(1 − tc²)
//	do = dh·tc·o·(1 − o)   di = dct·g·i·(1 − i)
//	df = dct·cPrev·f·(1 − f)   dg = dct·i·(1 − g²)   dc ← dct·f
//
// The vector kernel computes each value with the same operations in the
// same order as the Go loop (no fused multiply-adds), so both give the
// same bits. It panics if a slice is shorter than the row needs.
func LSTMGateGrads(a, cPrev, tc, dhRec, dhOut, dc, da []float32) {
	n := len(dc)
	if len(a) < 4*n || len(da) < 4*n || len(cPrev) < n || len(tc) < n || len(dhRec) < n || len(dhOut) < n {
		panic(fmt.Sprintf("kern.LSTMGateGrads: %d units need a, da ≥ %d and the rest ≥ %d floats; have a %d, da %d, cPrev %d, tc %d, dhRec %d, dhOut %d",
			n, 4*n, n, len(a), len(da), len(cPrev), len(tc), len(dhRec), len(dhOut)))
	}
	if n == 0 || lstmGateGradsAsm(a, cPrev, tc, dhRec, dhOut, dc, da) {
		return
	}
	lstmGateGradsGo(a, cPrev, tc, dhRec, dhOut, dc, da, 0)
}

// lstmGateGradsGo is LSTMGateGrads in Go for the units from from on (the
// AVX2 kernel leaves it the last n mod 8).
func lstmGateGradsGo(a, cPrev, tc, dhRec, dhOut, dc, da []float32, from int) {
	n := len(dc)
	ai, af, ag, ao := a[:n], a[n:2*n], a[2*n:3*n], a[3*n:4*n]
	di, df, dg, do := da[:n], da[n:2*n], da[2*n:3*n], da[3*n:4*n]
	cPrev, tc, dhRec, dhOut = cPrev[:n], tc[:n], dhRec[:n], dhOut[:n]
	for j := from; j < n; j++ {
		i, f, g, o, t := ai[j], af[j], ag[j], ao[j], tc[j]
		dh := dhRec[j] + dhOut[j]
		dct := dc[j] + dh*o*(1-t*t)
		do[j] = dh * t * o * (1 - o)
		di[j] = dct * g * i * (1 - i)
		df[j] = dct * cPrev[j] * f * (1 - f)
		dg[j] = dct * i * (1 - g*g)
		dc[j] = dct * f
	}
}
