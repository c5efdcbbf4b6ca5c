package autograd

import (
	"fmt"
	"math"

	"github.com/glassbox-ml/glassbox/tensor"
)

// This file holds the fused loss operations: one tape record each, with a
// closed-form backward.

// SoftmaxCrossEntropy returns the mean cross-entropy between the softmax of
// logits and integer class targets, as one fused operation.
//
// logits: [N, K]; targets: N class indices in [0, K). classWeights is nil
// or has K non-negative entries; smoothing ε in [0, 1) mixes the one-hot
// target with the uniform distribution: q = (1−ε)·onehot + ε/K. With
// weights w the loss is PyTorch's
//
//	L = Σᵢ Σₖ wₖ·qᵢₖ·(−log pᵢₖ) / Σᵢ w_{yᵢ}
//
// which is the plain mean −log p_{i,yᵢ} when w = 1 and ε = 0. The backward
// is closed-form: dL/dzᵢⱼ = (pᵢⱼ·Σₖ wₖqᵢₖ − wⱼqᵢⱼ)/Σᵢ w_{yᵢ}, i.e.
// (softmax − onehot)/N in the plain case.
//
// A wrong target count, a target out of range, a weight vector of the
// wrong length or a bad ε panics with a *tensor.ShapeError naming it.
func (tp *Tape) SoftmaxCrossEntropy(logits *Var, targets []int, classWeights []float32, smoothing float64) *Var {
	const op = "cross_entropy"
	sh := logits.Value.Shape()
	if len(sh) != 2 {
		panic(&tensor.ShapeError{Op: op, Msg: fmt.Sprintf("logits must be [batch, classes], got %v (flatten extra axes first)", sh)})
	}
	n, k := sh[0], sh[1]
	if len(targets) != n {
		panic(&tensor.ShapeError{Op: op, Msg: fmt.Sprintf("%d targets for a batch of %d logits rows (shape %v); give one class index per row", len(targets), n, sh)})
	}
	if k == 0 {
		panic(&tensor.ShapeError{Op: op, Msg: fmt.Sprintf("logits of shape %v have no classes", sh)})
	}
	for i, t := range targets {
		if t < 0 || t >= k {
			panic(&tensor.ShapeError{Op: op, Msg: fmt.Sprintf("target %d (row %d) is out of range for %d classes [0, %d)", t, i, k, k)})
		}
	}
	if classWeights != nil && len(classWeights) != k {
		panic(&tensor.ShapeError{Op: op, Msg: fmt.Sprintf("%d class weights for %d classes; give one weight per class", len(classWeights), k)})
	}
	for c, w := range classWeights {
		if !(w >= 0) || math.IsInf(float64(w), 0) {
			panic(&tensor.ShapeError{Op: op, Msg: fmt.Sprintf("class weight %d is %v; weights must be finite and ≥ 0", c, w)})
		}
	}
	if !(smoothing >= 0 && smoothing < 1) {
		panic(&tensor.ShapeError{Op: op, Msg: fmt.Sprintf("label smoothing %v is outside [0, 1)", smoothing)})
	}
	weight := func(c int) float64 {
		if classWeights == nil {
			return 1
		}
		return float64(classWeights[c])
	}
	var sumW float64 // Σₖ wₖ
	for c := 0; c < k; c++ {
		sumW += weight(c)
	}
	var norm float64 // Σᵢ w_{yᵢ}
	for _, t := range targets {
		norm += weight(t)
	}
	if n > 0 && norm == 0 {
		panic(&tensor.ShapeError{Op: op, Msg: "the targets' class weights sum to 0, so the mean is undefined; give the present classes positive weights"})
	}
	eps := smoothing
	z := logits.Value.Data()
	keep := tp.Recording() && logits.requiresGrad
	var probs []float32
	if keep {
		probs = make([]float32, n*k)
	}
	// Rows are independent: each computes exp(z − max) once, for both the
	// log-sum-exp and (when training) the softmax kept for the backward,
	// and the per-row losses are summed in row order afterwards, so the
	// result does not depend on how the rows were split over cores.
	rowLoss := make([]float64, n)
	tensor.ParallelFor(n, max(1, 8192/k), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := z[i*k : (i+1)*k]
			m := row[0]
			for _, v := range row {
				m = max(m, v)
			}
			var s float64
			if keep {
				p := probs[i*k : (i+1)*k]
				for c, v := range row {
					e := math.Exp(float64(v - m))
					p[c] = float32(e)
					s += e
				}
				inv := float32(1 / s)
				for c := range p {
					p[c] *= inv
				}
			} else {
				for _, v := range row {
					s += math.Exp(float64(v - m))
				}
			}
			lse := float64(m) + math.Log(s) // log Σ exp(z)
			y := targets[i]
			// −log p_ik = lse − z_ik.
			li := (1 - eps) * weight(y) * (lse - float64(row[y]))
			if eps > 0 {
				var sm float64
				for c, v := range row {
					sm += weight(c) * (lse - float64(v))
				}
				li += eps / float64(k) * sm
			}
			rowLoss[i] = li
		}
	})
	var total float64
	for _, li := range rowLoss {
		total += li
	}
	var loss float32
	if n > 0 {
		loss = float32(total / norm)
	}
	return tp.record(tensor.Scalar(loss), func(g *tensor.Tensor) {
		scale := float64(g.Item()) / norm
		gx := tensor.New(n, k)
		gd := gx.Data()
		tensor.ParallelFor(n, max(1, 8192/k), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				y := targets[i]
				rowSum := (1-eps)*weight(y) + eps/float64(k)*sumW // Σₖ wₖqᵢₖ
				p := probs[i*k : (i+1)*k]
				o := gd[i*k : (i+1)*k]
				for c := range o {
					q := eps / float64(k)
					if c == y {
						q += 1 - eps
					}
					o[c] = float32(scale * (float64(p[c])*rowSum - weight(c)*q))
				}
			}
		})
		accum(logits, gx, true)
	}, logits)
}

// BCEWithLogits returns the mean binary cross-entropy between sigmoid(x)
// and targets y in [0, 1], computed from the logits x in the stable form
//
//	ℓ = max(x, 0) − x·y + log1p(exp(−|x|))
//
// which never takes the log of 0 or overflows exp. logits and targets must
// have the same shape (a mismatch panics with a *tensor.ShapeError naming
// both). Gradients: dℓ/dx = (σ(x) − y)/n, dℓ/dy = −x/n.
func (tp *Tape) BCEWithLogits(logits, targets *Var) *Var {
	xs, ys := logits.Value.Shape(), targets.Value.Shape()
	if !tensor.SameShape(xs, ys) {
		panic(&tensor.ShapeError{Op: "binary_cross_entropy", Msg: fmt.Sprintf("logits have shape %v but targets have shape %v; they must match (reshape the targets)", xs, ys)})
	}
	x := logits.Value.Data()
	y := targets.Value.Data()
	n := len(x)
	var total float64
	for i, v := range x {
		xv, yv := float64(v), float64(y[i])
		total += math.Max(xv, 0) - xv*yv + math.Log1p(math.Exp(-math.Abs(xv)))
	}
	var loss float32
	if n > 0 {
		loss = float32(total / float64(n))
	}
	return tp.record(tensor.Scalar(loss), func(g *tensor.Tensor) {
		scale := float64(g.Item()) / float64(n)
		if logits.requiresGrad {
			gx := tensor.New(xs...)
			gd := gx.Data()
			for i, v := range x {
				xv := float64(v)
				var s float64
				if xv >= 0 {
					s = 1 / (1 + math.Exp(-xv))
				} else {
					e := math.Exp(xv)
					s = e / (1 + e)
				}
				gd[i] = float32(scale * (s - float64(y[i])))
			}
			accum(logits, gx, true)
		}
		if targets.requiresGrad {
			gy := tensor.New(ys...)
			gd := gy.Data()
			for i, v := range x {
				gd[i] = float32(-scale * float64(v))
			}
			accum(targets, gy, true)
		}
	}, logits, targets)
}
