package autograd

import (
	"fmt"

	"github.com/glassbox-ml/glassbox/tensor"
)

// This file holds the fused recurrent operations.
//
// The cell ops (LSTMCell, GRUCell, RNNCell) apply one time step's gate
// nonlinearities and state update as a single tape record with a
// closed-form backward that reuses the saved activations, for code that
// steps a recurrence by hand (sampling text one character at a time).
//
// The sequence ops (LSTMSeq, GRUSeq, RNNSeq) run one layer's whole
// recurrence as a single record, the way cuDNN does and PyTorch's CPU path
// does not: the caller computes the input projection of every time step as
// one GEMM ([B·T, in]·[in, G·H]); each step then costs one GEMM h·W_hh
// ([B, H]·[H, G·H]) plus the same fused cell kernel the cell ops use. The
// backward walks the steps in reverse with one GEMM per step (dgates·W_hhᵀ)
// and then forms dW_hh for all steps at once as a single big GEMM
// ([H, B·T]·[B·T, G·H]) instead of T small ones, and the bias gradients as
// column sums. No per-step tape records, slices or gradient tensors are
// allocated.
//
// Gate layouts follow cuDNN and PyTorch: LSTM i, f, g, o; GRU r, z, n with
// n = tanh(x·W_in + b_in + r ⊙ (h·W_hn + b_hn)).

// The activations are tensor.TanhSlice and tensor.SigmoidSlice: a float32 rational
// approximation of tanh (absolute error ≤ 4e-7), σ(x) = ½ + ½·tanh(x/2),
// applied to whole slices sixteen at a time; float64 math.Exp and
// math.Tanh would take longer than the GEMMs.

// tanhSlice sets d[i] = tanh(s[i]); d and s may be the same slice.
func tanhSlice(d, s []float32) { tensor.TanhSlice(d, s) }

// sigmoidSlice sets d[i] = σ(s[i]); d and s may be the same slice.
func sigmoidSlice(d, s []float32) { tensor.SigmoidSlice(d, s) }

// recurrentProduct sets dst = h_{t−1}·W_hh for step t: the saved state of
// step t−1 in hs [B, T, H], or h0 at t = 0 (zeros when h0 is nil). W_hh is
// packed once per sequence (tensor.PackRight), not once per step.
func recurrentProduct(dst, hs, h0 *tensor.Tensor, whh *tensor.PackedMatrix, t int) {
	switch {
	case t > 0:
		tensor.MatMulPackedInto(dst, stepView(hs, t-1), whh, false)
	case h0 != nil:
		tensor.MatMulPackedInto(dst, h0, whh, false)
	default:
		dst.Fill(0)
	}
}

// valueOrNil is v's value, or nil for a nil Var (an absent initial state).
func valueOrNil(v *Var) *tensor.Tensor {
	if v == nil {
		return nil
	}
	return v.Value
}

// ---- row kernels: one batch row of one time step ----

// lstmRowForward turns one row of LSTM gate pre-activations a (4H: i, f,
// g, o) into activations in place and computes the new cell state c, its
// tanh tc and the output h from the previous cell state cPrev.
func lstmRowForward(a, cPrev, c, tc, h []float32) {
	n := len(c)
	sigmoidSlice(a[:2*n], a[:2*n]) // i, f
	tanhSlice(a[2*n:3*n], a[2*n:3*n])
	sigmoidSlice(a[3*n:4*n], a[3*n:4*n])
	ai, af, ag, ao := a[:n], a[n:2*n], a[2*n:3*n], a[3*n:4*n]
	cPrev, tc, h = cPrev[:n], tc[:n], h[:n]
	for j := range c {
		c[j] = af[j]*cPrev[j] + ai[j]*ag[j]
	}
	tanhSlice(tc, c)
	for j := range h {
		h[j] = ao[j] * tc[j]
	}
}

// lstmRowBackward is the closed-form backward of lstmRowForward for one
// row. a holds the saved activations, dh = dhRec + dhOut the gradient of
// h, dc the gradient of c on entry and of cPrev on return; da receives the
// gradient of the gate pre-activations.
func lstmRowBackward(a, cPrev, tc, dhRec, dhOut, dc, da []float32) {
	tensor.LSTMGateGrads(a, cPrev, tc, dhRec, dhOut, dc, da)
}

// gruRowForward computes one row of a GRU step. x (3H) and hg (3H) are the
// input and recurrent projections without biases bx, bh; s (4H) receives
// r, z, n and hn = hg_n + bh_n for the backward; h the new state.
func gruRowForward(x, bx, hg, bh, hPrev, s, h []float32) {
	tensor.GRURowForward(x, bx, hg, bh, hPrev, s, h)
}

// gruRowBackward is the closed-form backward of gruRowForward. dh =
// dhRec + dhOut is the gradient of h; dx and dhg receive the gradients of
// the two projections (their biases get the same); dhRec is overwritten
// with the direct part of the gradient of hPrev, dh ⊙ z (the part through
// hg is dhg·W_hhᵀ, added by the caller).
func gruRowBackward(s, hPrev, dhRec, dhOut, dx, dhg []float32) {
	n := len(hPrev)
	sr, sz, sn, shn := s[:n], s[n:2*n], s[2*n:3*n], s[3*n:4*n]
	dxr, dxz, dxn := dx[:n], dx[n:2*n], dx[2*n:3*n]
	dhr, dhz, dhn := dhg[:n], dhg[n:2*n], dhg[2*n:3*n]
	dhRec, dhOut = dhRec[:n], dhOut[:n]
	for j := range hPrev {
		r, z, nn, hn := sr[j], sz[j], sn[j], shn[j]
		dh := dhRec[j] + dhOut[j]
		dpn := dh * (1 - z) * (1 - nn*nn)
		dpz := dh * (hPrev[j] - nn) * z * (1 - z)
		dpr := dpn * hn * r * (1 - r)
		dxr[j], dxz[j], dxn[j] = dpr, dpz, dpn
		dhr[j], dhz[j], dhn[j] = dpr, dpz, dpn*r
		dhRec[j] = dh * z
	}
}

// rnnRowForward computes h = tanh(x + b + hg) for one row.
func rnnRowForward(x, b, hg, h []float32) {
	x, b, hg = x[:len(h)], b[:len(h)], hg[:len(h)]
	for j := range h {
		h[j] = x[j] + b[j] + hg[j]
	}
	tanhSlice(h, h)
}

// rnnRowBackward writes the gradient of the pre-activation, (dhRec +
// dhOut) ⊙ (1 − h²), into dp.
func rnnRowBackward(h, dhRec, dhOut, dp []float32) {
	h, dhRec, dhOut = h[:len(dp)], dhRec[:len(dp)], dhOut[:len(dp)]
	for j := range dp {
		dp[j] = (dhRec[j] + dhOut[j]) * (1 - h[j]*h[j])
	}
}

// rowGrain is how many rows of width w one parallel chunk gets: enough
// that the hand-off to another core (a few µs) pays for itself.
func rowGrain(w int) int { return max(1, 4096/max(w, 1)) }

// forRows runs fn over the rows [0, b) of one time step, in parallel when
// the rows are wide enough.
func forRows(b, w int, fn func(lo, hi int)) { tensor.ParallelFor(b, rowGrain(w), fn) }

// colSums returns the column sums of the rows×cols matrix d (bias
// gradients). Up to 16 blocks of rows are summed in parallel into partial
// rows, which are then added up: each block streams through contiguous
// memory, where splitting the columns would stride across every row.
func colSums(d []float32, rows, cols int) *tensor.Tensor {
	out := tensor.New(cols)
	od := out.Data()
	blocks := min(rows, 16, max(1, rows*cols/16384))
	per := (rows + blocks - 1) / blocks
	partial := make([]float32, blocks*cols)
	tensor.ParallelFor(blocks, 1, func(lo, hi int) {
		for blk := lo; blk < hi; blk++ {
			acc := partial[blk*cols : (blk+1)*cols]
			for r := blk * per; r < min(rows, (blk+1)*per); r++ {
				row := d[r*cols : (r+1)*cols]
				for j, v := range row {
					acc[j] += v
				}
			}
		}
	})
	for blk := 0; blk < blocks; blk++ {
		for j, v := range partial[blk*cols : (blk+1)*cols] {
			od[j] += v
		}
	}
	return out
}

// ---- shape checks ----

func recShapeErr(op, format string, args ...any) {
	panic(&tensor.ShapeError{Op: op, Msg: fmt.Sprintf(format, args...)})
}

func checkShape(op, what string, v *Var, want ...int) {
	if v == nil {
		return
	}
	if !tensor.SameShape(v.Value.Shape(), want) {
		recShapeErr(op, "%s has shape %v, want %v", what, v.Value.Shape(), want)
	}
}

// needsGrad reports whether a record on tp with these parents will keep a
// backward, so the forward must save its activations.
func needsGrad(tp *Tape, parents ...*Var) bool {
	if !tp.Recording() {
		return false
	}
	for _, p := range parents {
		if p != nil && p.requiresGrad {
			return true
		}
	}
	return false
}

// auxOutput records a second output of the multi-output op main. Its
// gradient is stored in *slot for main's backward (which runs later, as
// main was recorded first); main gets a zero gradient if it had none, so
// its backward runs even when only this output was used.
func (tp *Tape) auxOutput(main *Var, value *tensor.Tensor, slot **tensor.Tensor) *Var {
	return tp.record(value, func(g *tensor.Tensor) {
		*slot = g
		if main.Grad == nil {
			main.Grad = tensor.New(main.Value.Shape()...)
		}
	}, main)
}

// dataOrZeros returns v's contiguous data, or n zeros when v is nil.
func dataOrZeros(v *Var, n int) []float32 {
	if v == nil {
		return make([]float32, n)
	}
	return v.Value.Contiguous().Data()
}

// gradOrZeros returns g's data, or n zeros when g is nil, as a fresh slice
// the caller may modify.
func gradOrZeros(g *tensor.Tensor, n int) []float32 {
	out := make([]float32, n)
	if g != nil {
		copy(out, g.Data())
	}
	return out
}

// stepView returns time step t of the batch-first [B, T, N] tensor x as a
// strided [B, N] matrix view, which GEMM reads without a copy.
func stepView(x *tensor.Tensor, t int) *tensor.Tensor { return x.Select(1, t) }

// prevStates returns the [B·T, H] matrix whose row (b, t) is h_{t−1} of
// batch row b (h0 at t = 0): the left operand of dW_hh = Σₜ h_{t−1}ᵀ·dgₜ.
func prevStates(hs []float32, h0 []float32, b, t, h int) *tensor.Tensor {
	out := tensor.New(b*t, h)
	od := out.Data()
	for i := 0; i < b; i++ {
		dst := od[i*t*h : (i+1)*t*h]
		copy(dst[:h], h0[i*h:(i+1)*h])
		copy(dst[h:], hs[i*t*h:(i*t+t-1)*h])
	}
	return out
}

// ---- cell ops ----

// LSTMCell applies one LSTM step to pre-computed gate pre-activations as a
// single fused operation:
//
//	i, f, g, o = σ(gᵢ), σ(g_f), tanh(g_g), σ(g_o)
//	c = f ⊙ cPrev + i ⊙ g
//	h = o ⊙ tanh(c)
//
// gates: [B, 4H] = x·W_ih + h_prev·W_hh + b in the order i, f, g, o;
// cPrev: [B, H] or nil for a zero state. Returns h and c, both [B, H]. The
// backward is closed-form from the saved activations. Wrong shapes panic
// with a *tensor.ShapeError.
func (tp *Tape) LSTMCell(gates, cPrev *Var) (h, c *Var) {
	const op = "LSTMCell"
	gs := gates.Value.Shape()
	if len(gs) != 2 || gs[1]%4 != 0 || gs[1] == 0 {
		recShapeErr(op, "gates have shape %v, want [batch, 4·hidden] (i, f, g, o)", gs)
	}
	bsz, hsz := gs[0], gs[1]/4
	checkShape(op, "cPrev", cPrev, bsz, hsz)
	acts := gates.Value.Clone()
	ad := acts.Data()
	cp := dataOrZeros(cPrev, bsz*hsz)
	cv, tcv, hv := tensor.New(bsz, hsz), tensor.New(bsz, hsz), tensor.New(bsz, hsz)
	cd, tcd, hd := cv.Data(), tcv.Data(), hv.Data()
	forRows(bsz, 4*hsz, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			r := b * hsz
			lstmRowForward(ad[4*r:4*(r+hsz)], cp[r:r+hsz], cd[r:r+hsz], tcd[r:r+hsz], hd[r:r+hsz])
		}
	})
	var dcOut *tensor.Tensor
	h = tp.record(hv, func(g *tensor.Tensor) {
		tp.unruled("recurrent cell", onInput)
		gd := g.Data()
		dc := gradOrZeros(dcOut, bsz*hsz)
		dgates := tensor.New(bsz, 4*hsz)
		dgd := dgates.Data()
		zero := make([]float32, hsz)
		forRows(bsz, 4*hsz, func(lo, hi int) {
			for b := lo; b < hi; b++ {
				r := b * hsz
				lstmRowBackward(ad[4*r:4*(r+hsz)], cp[r:r+hsz], tcd[r:r+hsz], zero, gd[r:r+hsz], dc[r:r+hsz], dgd[4*r:4*(r+hsz)])
			}
		})
		accum(gates, dgates, true)
		if cPrev != nil && cPrev.requiresGrad {
			accum(cPrev, tensor.MustFromSlice(dc, bsz, hsz), true)
		}
	}, gates, cPrev)
	c = tp.auxOutput(h, cv, &dcOut)
	return h, c
}

// GRUCell applies one GRU step (PyTorch's formulation) as a single fused
// operation:
//
//	r = σ(x_r + h_r), z = σ(x_z + h_z)
//	n = tanh(x_n + r ⊙ h_n)
//	h = (1 − z) ⊙ n + z ⊙ hPrev
//
// xg: [B, 3H] = x·W_ih + b_ih and hg: [B, 3H] = hPrev·W_hh + b_hh, both in
// the order r, z, n; hPrev: [B, H] or nil for a zero state. Returns h
// [B, H]. The backward is closed-form from the saved r, z, n and h_n.
func (tp *Tape) GRUCell(xg, hg, hPrev *Var) *Var {
	const op = "GRUCell"
	xs := xg.Value.Shape()
	if len(xs) != 2 || xs[1]%3 != 0 || xs[1] == 0 {
		recShapeErr(op, "xg has shape %v, want [batch, 3·hidden] (r, z, n)", xs)
	}
	bsz, hsz := xs[0], xs[1]/3
	checkShape(op, "hg", hg, bsz, 3*hsz)
	checkShape(op, "hPrev", hPrev, bsz, hsz)
	xd := xg.Value.Contiguous().Data()
	hgd := hg.Value.Contiguous().Data()
	hp := dataOrZeros(hPrev, bsz*hsz)
	zero := make([]float32, 3*hsz)
	s := make([]float32, bsz*4*hsz)
	hv := tensor.New(bsz, hsz)
	hd := hv.Data()
	forRows(bsz, 4*hsz, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			r := b * hsz
			gruRowForward(xd[3*r:3*(r+hsz)], zero, hgd[3*r:3*(r+hsz)], zero, hp[r:r+hsz], s[4*r:4*(r+hsz)], hd[r:r+hsz])
		}
	})
	return tp.record(hv, func(g *tensor.Tensor) {
		tp.unruled("recurrent cell", onInput)
		gd := g.Data()
		dxv, dhgv := tensor.New(bsz, 3*hsz), tensor.New(bsz, 3*hsz)
		dx, dhg := dxv.Data(), dhgv.Data()
		dh := make([]float32, bsz*hsz)
		forRows(bsz, 4*hsz, func(lo, hi int) {
			for b := lo; b < hi; b++ {
				r := b * hsz
				gruRowBackward(s[4*r:4*(r+hsz)], hp[r:r+hsz], dh[r:r+hsz], gd[r:r+hsz], dx[3*r:3*(r+hsz)], dhg[3*r:3*(r+hsz)])
			}
		})
		accum(xg, dxv, true)
		accum(hg, dhgv, true)
		if hPrev != nil && hPrev.requiresGrad {
			accum(hPrev, tensor.MustFromSlice(dh, bsz, hsz), true)
		}
	}, xg, hg, hPrev)
}

// RNNCell applies one vanilla (Elman) RNN step, h = tanh(xg + hg), as a
// single fused operation. xg: [B, H] = x·W_ih + b; hg: [B, H] =
// hPrev·W_hh, or nil for a zero state. Returns h [B, H].
func (tp *Tape) RNNCell(xg, hg *Var) *Var {
	const op = "RNNCell"
	xs := xg.Value.Shape()
	if len(xs) != 2 {
		recShapeErr(op, "xg has shape %v, want [batch, hidden]", xs)
	}
	bsz, hsz := xs[0], xs[1]
	checkShape(op, "hg", hg, bsz, hsz)
	xd := xg.Value.Contiguous().Data()
	hgd := dataOrZeros(hg, bsz*hsz)
	zero := make([]float32, hsz)
	hv := tensor.New(bsz, hsz)
	hd := hv.Data()
	forRows(bsz, hsz, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			r := b * hsz
			rnnRowForward(xd[r:r+hsz], zero, hgd[r:r+hsz], hd[r:r+hsz])
		}
	})
	return tp.record(hv, func(g *tensor.Tensor) {
		tp.unruled("recurrent cell", onInput)
		gd := g.Data()
		dpv := tensor.New(bsz, hsz)
		dp := dpv.Data()
		forRows(bsz, hsz, func(lo, hi int) {
			for b := lo; b < hi; b++ {
				r := b * hsz
				rnnRowBackward(hd[r:r+hsz], zero, gd[r:r+hsz], dp[r:r+hsz])
			}
		})
		accum(xg, dpv, hg == nil || !hg.requiresGrad)
		accum(hg, dpv, false)
	}, xg, hg)
}

// ---- sequence ops ----

// seqDims checks the operands common to the sequence ops and returns batch,
// time steps and hidden size. gates is the number of gate blocks (4 LSTM,
// 3 GRU, 1 RNN).
func seqDims(op string, gates int, xproj, whh *Var) (bsz, steps, hsz int) {
	xs := xproj.Value.Shape()
	ws := whh.Value.Shape()
	if len(ws) != 2 || ws[1] != gates*ws[0] || ws[0] == 0 {
		recShapeErr(op, "whh has shape %v, want [hidden, %d·hidden]", ws, gates)
	}
	hsz = ws[0]
	if len(xs) != 3 || xs[2] != gates*hsz {
		recShapeErr(op, "xproj has shape %v, want [batch, steps, %d] (%d·hidden)", xs, gates*hsz, gates)
	}
	if xs[1] == 0 {
		recShapeErr(op, "xproj has shape %v: the sequence is empty", xs)
	}
	return xs[0], xs[1], hsz
}

// LSTMSeq runs an LSTM layer's recurrence over a whole batch-first
// sequence as one fused operation (see the comment at the top of this
// file for the GEMM schedule).
//
//	xproj: [B, T, 4H] input projections x_t·W_ih (no bias), gates i, f, g, o
//	whh:   [H, 4H]   recurrent weights (h_{t−1}·whh)
//	bias:  [4H]      or nil
//	h0,c0: [B, H]    initial state, or nil for zeros
//
// It returns the hidden states hs [B, T, H] and the final state hT, cT
// [B, H]. Gradients reach every operand that requires one. Inference (a
// tape that does not record) keeps only two steps of cell state.
func (tp *Tape) LSTMSeq(xproj, whh, bias, h0, c0 *Var) (hs, hT, cT *Var) {
	const op = "LSTMSeq"
	bsz, steps, hsz := seqDims(op, 4, xproj, whh)
	checkShape(op, "bias", bias, 4*hsz)
	checkShape(op, "h0", h0, bsz, hsz)
	checkShape(op, "c0", c0, bsz, hsz)
	g4 := 4 * hsz
	save := needsGrad(tp, xproj, whh, bias, h0, c0)
	slots := steps
	if !save {
		slots = min(steps, 2)
	}
	xd := xproj.Value.Contiguous().Data()
	bd := dataOrZeros(bias, g4)
	h0d := dataOrZeros(h0, bsz*hsz)
	c0d := dataOrZeros(c0, bsz*hsz)
	acts := tensor.New(slots, bsz, g4) // gate activations, time-major
	cs := make([]float32, slots*bsz*hsz)
	tcs := make([]float32, slots*bsz*hsz)
	hsv := tensor.New(bsz, steps, hsz)
	hd := hsv.Data()
	h0v := valueOrNil(h0)
	whhP := tensor.PackRight(whh.Value)
	defer whhP.Release()
	for t := 0; t < steps; t++ {
		st := t % slots
		at := acts.Row(st)
		recurrentProduct(at, hsv, h0v, whhP, t)
		ad := at.Data()
		var cPrev []float32
		if t > 0 {
			cPrev = cs[((t-1)%slots)*bsz*hsz:]
		} else {
			cPrev = c0d
		}
		cur := st * bsz * hsz
		forRows(bsz, g4, func(lo, hi int) {
			for b := lo; b < hi; b++ {
				a := ad[b*g4 : (b+1)*g4]
				x := xd[(b*steps+t)*g4 : (b*steps+t+1)*g4]
				bd := bd[:len(a)]
				for j := range a {
					a[j] += x[j] + bd[j]
				}
				r := b * hsz
				lstmRowForward(a, cPrev[r:r+hsz], cs[cur+r:cur+r+hsz], tcs[cur+r:cur+r+hsz], hd[(b*steps+t)*hsz:(b*steps+t+1)*hsz])
			}
		})
	}
	last := ((steps - 1) % slots) * bsz * hsz
	hTv := stepView(hsv, steps-1).Clone()
	cTv := tensor.MustFromSlice(append([]float32(nil), cs[last:last+bsz*hsz]...), bsz, hsz)
	var dhT, dcT *tensor.Tensor
	hs = tp.record(hsv, func(g *tensor.Tensor) {
		tp.unruled("recurrent layer", onInput)
		gd := g.Data()
		dh := gradOrZeros(dhT, bsz*hsz)
		dc := gradOrZeros(dcT, bsz*hsz)
		dhm := tensor.MustFromSlice(dh, bsz, hsz)
		dxv := tensor.New(bsz, steps, g4)
		dx := dxv.Data()
		whhT := tensor.PackRight(whh.Value.Transpose())
		defer whhT.Release()
		needH0 := (h0 != nil && h0.requiresGrad)
		for t := steps - 1; t >= 0; t-- {
			at := acts.Row(t).Data()
			var cPrev []float32
			if t > 0 {
				cPrev = cs[(t-1)*bsz*hsz:]
			} else {
				cPrev = c0d
			}
			cur := t * bsz * hsz
			forRows(bsz, g4, func(lo, hi int) {
				for b := lo; b < hi; b++ {
					r := b * hsz
					o := b*steps + t
					lstmRowBackward(at[b*g4:(b+1)*g4], cPrev[r:r+hsz], tcs[cur+r:cur+r+hsz], dh[r:r+hsz], gd[o*hsz:(o+1)*hsz], dc[r:r+hsz], dx[o*g4:(o+1)*g4])
				}
			})
			if t > 0 || needH0 {
				tensor.MatMulPackedInto(dhm, stepView(dxv, t), whhT, false)
			}
		}
		dx2 := dxv.Reshape(bsz*steps, g4)
		if whh.requiresGrad {
			accum(whh, tensor.MatMul(prevStates(hd, h0d, bsz, steps, hsz).Transpose(), dx2), true)
		}
		if bias != nil && bias.requiresGrad {
			accum(bias, colSums(dx, bsz*steps, g4), true)
		}
		if needH0 {
			accum(h0, dhm, true)
		}
		if c0 != nil && c0.requiresGrad {
			accum(c0, tensor.MustFromSlice(dc, bsz, hsz), true)
		}
		accum(xproj, dxv, true)
	}, xproj, whh, bias, h0, c0)
	hT = tp.auxOutput(hs, hTv, &dhT)
	cT = tp.auxOutput(hs, cTv, &dcT)
	return hs, hT, cT
}

// GRUSeq runs a GRU layer's recurrence over a whole batch-first sequence
// as one fused operation (PyTorch's formulation, gates r, z, n).
//
//	xproj: [B, T, 3H] input projections x_t·W_ih (no bias)
//	whh:   [H, 3H]   recurrent weights
//	bih:   [3H]      input bias, or nil
//	bhh:   [3H]      recurrent bias (b_hn sits inside r ⊙ (·)), or nil
//	h0:    [B, H]    initial state, or nil for zeros
//
// It returns hs [B, T, H] and the final state hT [B, H].
func (tp *Tape) GRUSeq(xproj, whh, bih, bhh, h0 *Var) (hs, hT *Var) {
	const op = "GRUSeq"
	bsz, steps, hsz := seqDims(op, 3, xproj, whh)
	checkShape(op, "bih", bih, 3*hsz)
	checkShape(op, "bhh", bhh, 3*hsz)
	checkShape(op, "h0", h0, bsz, hsz)
	g3, g4 := 3*hsz, 4*hsz
	save := needsGrad(tp, xproj, whh, bih, bhh, h0)
	slots := steps
	if !save {
		slots = 1
	}
	xd := xproj.Value.Contiguous().Data()
	bxd := dataOrZeros(bih, g3)
	bhd := dataOrZeros(bhh, g3)
	h0d := dataOrZeros(h0, bsz*hsz)
	sv := make([]float32, slots*bsz*g4) // r, z, n, hn per step, time-major
	hg := tensor.New(bsz, g3)
	hgd := hg.Data()
	hsv := tensor.New(bsz, steps, hsz)
	hd := hsv.Data()
	whhP := tensor.PackRight(whh.Value)
	defer whhP.Release()
	for t := 0; t < steps; t++ {
		recurrentProduct(hg, hsv, valueOrNil(h0), whhP, t)
		s := sv[(t%slots)*bsz*g4:]
		forRows(bsz, g4, func(lo, hi int) {
			for b := lo; b < hi; b++ {
				o := b*steps + t
				var hPrev []float32
				if t > 0 {
					hPrev = hd[(o-1)*hsz : o*hsz]
				} else {
					hPrev = h0d[b*hsz : (b+1)*hsz]
				}
				gruRowForward(xd[o*g3:(o+1)*g3], bxd, hgd[b*g3:(b+1)*g3], bhd, hPrev, s[b*g4:(b+1)*g4], hd[o*hsz:(o+1)*hsz])
			}
		})
	}
	hTv := stepView(hsv, steps-1).Clone()
	var dhT *tensor.Tensor
	hs = tp.record(hsv, func(g *tensor.Tensor) {
		tp.unruled("recurrent layer", onInput)
		gd := g.Data()
		dh := gradOrZeros(dhT, bsz*hsz)
		dhm := tensor.MustFromSlice(dh, bsz, hsz)
		dxv := tensor.New(bsz, steps, g3)
		dhgv := tensor.New(bsz, steps, g3)
		dx, dhg := dxv.Data(), dhgv.Data()
		whhT := tensor.PackRight(whh.Value.Transpose())
		defer whhT.Release()
		needH0 := h0 != nil && h0.requiresGrad
		for t := steps - 1; t >= 0; t-- {
			s := sv[t*bsz*g4:]
			forRows(bsz, g4, func(lo, hi int) {
				for b := lo; b < hi; b++ {
					o := b*steps + t
					var hPrev []float32
					if t > 0 {
						hPrev = hd[(o-1)*hsz : o*hsz]
					} else {
						hPrev = h0d[b*hsz : (b+1)*hsz]
					}
					gruRowBackward(s[b*g4:(b+1)*g4], hPrev, dh[b*hsz:(b+1)*hsz], gd[o*hsz:(o+1)*hsz], dx[o*g3:(o+1)*g3], dhg[o*g3:(o+1)*g3])
				}
			})
			if t > 0 || needH0 {
				tensor.MatMulPackedInto(dhm, stepView(dhgv, t), whhT, true)
			}
		}
		if whh.requiresGrad {
			accum(whh, tensor.MatMul(prevStates(hd, h0d, bsz, steps, hsz).Transpose(), dhgv.Reshape(bsz*steps, g3)), true)
		}
		if bih != nil && bih.requiresGrad {
			accum(bih, colSums(dx, bsz*steps, g3), true)
		}
		if bhh != nil && bhh.requiresGrad {
			accum(bhh, colSums(dhg, bsz*steps, g3), true)
		}
		if needH0 {
			accum(h0, dhm, true)
		}
		accum(xproj, dxv, true)
	}, xproj, whh, bih, bhh, h0)
	hT = tp.auxOutput(hs, hTv, &dhT)
	return hs, hT
}

// RNNSeq runs a vanilla (Elman, tanh) RNN layer's recurrence over a whole
// batch-first sequence as one fused operation: h_t = tanh(x_t·W_ih + b +
// h_{t−1}·W_hh).
//
//	xproj: [B, T, H] input projections x_t·W_ih (no bias)
//	whh:   [H, H]   recurrent weights
//	bias:  [H]      or nil
//	h0:    [B, H]   initial state, or nil for zeros
//
// It returns hs [B, T, H] and the final state hT [B, H].
func (tp *Tape) RNNSeq(xproj, whh, bias, h0 *Var) (hs, hT *Var) {
	const op = "RNNSeq"
	bsz, steps, hsz := seqDims(op, 1, xproj, whh)
	checkShape(op, "bias", bias, hsz)
	checkShape(op, "h0", h0, bsz, hsz)
	xd := xproj.Value.Contiguous().Data()
	bd := dataOrZeros(bias, hsz)
	h0d := dataOrZeros(h0, bsz*hsz)
	hg := tensor.New(bsz, hsz)
	hgd := hg.Data()
	hsv := tensor.New(bsz, steps, hsz)
	hd := hsv.Data()
	whhP := tensor.PackRight(whh.Value)
	defer whhP.Release()
	for t := 0; t < steps; t++ {
		recurrentProduct(hg, hsv, valueOrNil(h0), whhP, t)
		forRows(bsz, hsz, func(lo, hi int) {
			for b := lo; b < hi; b++ {
				o := b*steps + t
				rnnRowForward(xd[o*hsz:(o+1)*hsz], bd, hgd[b*hsz:(b+1)*hsz], hd[o*hsz:(o+1)*hsz])
			}
		})
	}
	hTv := stepView(hsv, steps-1).Clone()
	var dhT *tensor.Tensor
	hs = tp.record(hsv, func(g *tensor.Tensor) {
		tp.unruled("recurrent layer", onInput)
		gd := g.Data()
		dh := gradOrZeros(dhT, bsz*hsz)
		dhm := tensor.MustFromSlice(dh, bsz, hsz)
		dxv := tensor.New(bsz, steps, hsz)
		dx := dxv.Data()
		whhT := tensor.PackRight(whh.Value.Transpose())
		defer whhT.Release()
		needH0 := h0 != nil && h0.requiresGrad
		for t := steps - 1; t >= 0; t-- {
			forRows(bsz, hsz, func(lo, hi int) {
				for b := lo; b < hi; b++ {
					o := b*steps + t
					rnnRowBackward(hd[o*hsz:(o+1)*hsz], dh[b*hsz:(b+1)*hsz], gd[o*hsz:(o+1)*hsz], dx[o*hsz:(o+1)*hsz])
				}
			})
			if t > 0 || needH0 {
				tensor.MatMulPackedInto(dhm, stepView(dxv, t), whhT, false)
			}
		}
		if whh.requiresGrad {
			accum(whh, tensor.MatMul(prevStates(hd, h0d, bsz, steps, hsz).Transpose(), dxv.Reshape(bsz*steps, hsz)), true)
		}
		if bias != nil && bias.requiresGrad {
			accum(bias, colSums(dx, bsz*steps, hsz), true)
		}
		if needH0 {
			accum(h0, dhm, true)
		}
		accum(xproj, dxv, true)
	}, xproj, whh, bias, h0)
	hT = tp.auxOutput(hs, hTv, &dhT)
	return hs, hT
}
