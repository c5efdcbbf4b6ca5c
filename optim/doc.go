// Package optim updates parameters from their gradients: SGD (with
// momentum or Nesterov momentum), Adam, AdamW (decoupled weight decay) and
// RMSProp behind one small Optimizer interface; learning-rate schedules
// (step decay, cosine, linear warm-up) behind Schedule; and gradient-norm
// clipping.
//
// The update rules follow PyTorch's torch.optim so results can be compared
// number for number. Optimizer state (moment estimates, step counts) is
// allocated once when the optimizer is built, Step allocates nothing, and
// State/LoadState capture and restore it so a resumed run continues
// bit-identically. Parameters whose Grad is nil (not reached by the last
// Backward) are skipped; a NaN or infinite gradient makes Step return an
// error naming the parameter, before any weight is touched.
package optim
