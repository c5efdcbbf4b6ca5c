// Package autograd is glassbox's reverse-mode automatic differentiation: a
// define-by-run tape that records each operation as it runs and replays
// the records backwards to compute gradients.
//
// A Tape is explicit and owned by one goroutine: there is no global
// recording state, so several explanations or predictions can run in
// parallel, each on its own tape. A nil *Tape (or one made by NoGrad) runs
// the same operations without recording anything, for inference.
//
// Leaves are Vars made with Param (trainable weights: their gradients
// accumulate across steps until ZeroGrad), Input (a value whose gradient
// you want, such as an image being explained) or Const (no gradient).
//
//	tp := autograd.NewTape()
//	y := tp.MatMul(x, w)
//	loss := tp.Mean(tp.Square(tp.Sub(y, target)))
//	tp.Backward(loss)   // w.Grad and x.Grad (if x is an Input) now hold dLoss/d·
//	tp.Release()        // the step's memory back for the next (or Reset to keep it)
//
// Shape errors follow the tensor package's policy: they panic with a
// *tensor.ShapeError, which callers at the edge turn into an error with
// tensor.Catch.
package autograd
