package loss

import (
	"fmt"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
)

// sameShape panics with a *tensor.ShapeError when pred and target differ.
func sameShape(op string, pred, target *autograd.Var) {
	ps, ts := pred.Value.Shape(), target.Value.Shape()
	if !tensor.SameShape(ps, ts) {
		panic(&tensor.ShapeError{Op: op, Msg: fmt.Sprintf("predictions have shape %v but targets have shape %v; reshape the targets to match", ps, ts)})
	}
}

// MSE returns the mean squared error mean((pred − target)²).
// pred and target: the same shape, e.g. [batch, outputs].
func MSE(tp *autograd.Tape, pred, target *autograd.Var) *autograd.Var {
	sameShape("mse", pred, target)
	return tp.Mean(tp.Square(tp.Sub(pred, target)), false)
}

// MAE returns the mean absolute error mean(|pred − target|) (gradient
// sign(pred − target), 0 where they are equal).
func MAE(tp *autograd.Tape, pred, target *autograd.Var) *autograd.Var {
	sameShape("mae", pred, target)
	return tp.Mean(tp.Abs(tp.Sub(pred, target)), false)
}

// Huber returns the mean Huber loss with threshold delta > 0: for each
// residual d = pred − target, ½d² when |d| ≤ δ and δ·(|d| − ½δ) beyond,
// quadratic near the target and linear (robust to outliers) far from it.
func Huber(tp *autograd.Tape, pred, target *autograd.Var, delta float64) *autograd.Var {
	sameShape("huber", pred, target)
	if !(delta > 0) {
		panic(&tensor.ShapeError{Op: "huber", Msg: fmt.Sprintf("delta is %v; it must be > 0 (1 is the usual choice)", delta)})
	}
	d := float32(delta)
	a := tp.Abs(tp.Sub(pred, target))
	// small = min(|r|, δ) = −max(−|r|, −δ); loss = ½·small² + δ·(|r| − small).
	small := tp.Neg(tp.Maximum(tp.Neg(a), autograd.Const(tensor.Scalar(-d))))
	quad := tp.MulScalar(tp.Square(small), 0.5)
	lin := tp.MulScalar(tp.Sub(a, small), d)
	return tp.Mean(tp.Add(quad, lin), false)
}

// CEOption adjusts CrossEntropy.
type CEOption func(*ceConfig)

type ceConfig struct {
	weights   []float32
	smoothing float64
}

// ClassWeights weighs each class's term (one weight ≥ 0 per class), for
// imbalanced data; the mean divides by the summed weights of the targets.
func ClassWeights(w []float32) CEOption { return func(c *ceConfig) { c.weights = w } }

// LabelSmoothing mixes the one-hot targets with the uniform distribution:
// q = (1−ε)·onehot + ε/K, with ε in [0, 1).
func LabelSmoothing(eps float64) CEOption { return func(c *ceConfig) { c.smoothing = eps } }

// CrossEntropy returns the mean cross-entropy of softmax(logits) against
// integer class targets, computed from the logits in one fused, stable
// operation (log-softmax + negative log-likelihood; its gradient is
// softmax − onehot).
//
// logits: [batch, classes]; targets: one class index per row.
// With ClassWeights w and LabelSmoothing ε the loss is
// Σᵢ Σₖ wₖ·qᵢₖ·(−log pᵢₖ) / Σᵢ w_{yᵢ} (PyTorch's definition).
// A target count other than the batch size or a class index out of range
// panics with a *tensor.ShapeError naming them.
func CrossEntropy(tp *autograd.Tape, logits *autograd.Var, targets []int, opts ...CEOption) *autograd.Var {
	var c ceConfig
	for _, o := range opts {
		o(&c)
	}
	return tp.SoftmaxCrossEntropy(logits, targets, c.weights, c.smoothing)
}

// BCEWithLogits returns the mean binary cross-entropy of sigmoid(logits)
// against targets in [0, 1] of the same shape, in the stable form
// max(x, 0) − x·y + log1p(exp(−|x|)). Feed it the raw scores of the last
// Linear layer, not probabilities.
func BCEWithLogits(tp *autograd.Tape, logits, targets *autograd.Var) *autograd.Var {
	return tp.BCEWithLogits(logits, targets)
}
