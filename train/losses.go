package train

import (
	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/data"
	"github.com/glassbox-ml/glassbox/loss"
)

// CrossEntropyLoss is the default classification loss: softmax cross-entropy
// from logits [batch, classes] against the batch's class indices.
func CrossEntropyLoss(tp *autograd.Tape, out *autograd.Var, b *data.Batch) *autograd.Var {
	return loss.CrossEntropy(tp, out, b.Labels())
}

// MSELoss is the default regression loss: mean squared error against the
// batch's targets (reshaped to the output's shape).
func MSELoss(tp *autograd.Tape, out *autograd.Var, b *data.Batch) *autograd.Var {
	return loss.MSE(tp, out, autograd.Const(b.Y.Reshape(out.Value.Shape()...)))
}
