// Package loss holds glassbox's training objectives as functions on
// autograd Vars: regression losses (MSE, MAE, Huber) and classification
// losses computed from logits (CrossEntropy with class weights and label
// smoothing, BCEWithLogits). Every loss returns a scalar Var with mean
// reduction, ready for Tape.Backward.
//
// Shapes are checked: predictions and targets of different shapes (the
// classic [N, 1] against [N] mistake, which would silently broadcast to
// [N, N]), a target count that differs from the batch, or a class index
// out of range panic with a *tensor.ShapeError naming them; the training
// loop and the CLI turn it into an error with tensor.Catch.
package loss
