// Package tensor holds glassbox's float32 N-dimensional arrays: shapes and
// strides, cheap views (reshape, transpose, slice), seeded creation,
// broadcasting elementwise arithmetic, reductions along axes, matrix
// products, softmax, gather/concat and the convolution helpers
// (im2col/col2im, pooling).
//
// Storage is row-major float32. A Tensor may be a view that shares storage
// with another; operations never modify their inputs and always return a
// new contiguous Tensor unless their name ends in "Into" or "InPlace".
//
// # Error policy
//
// Functions that take user-controlled data from outside the program (the
// constructors from slices) return errors. Operations on tensors whose
// shapes do not fit together (Add of [2 3] and [4], MatMul of [2 3]×[4 5],
// an axis out of range) are programmer errors inside a computation: they
// panic with a *ShapeError that names the operation and the shapes. Code at
// the edge of glassbox (training, prediction, explanation, loading, the
// CLI) runs such computations under Catch, which turns that panic into an
// ordinary error, so a user never sees a crash for a wrong shape.
//
// The hot kernels (GEMM, parallel loops, vector kernels) live in
// tensor/internal/kern, which the Go toolchain lets no package outside
// tensor import: this package is the only seam between them and everything
// above. Besides the Tensor operations it exports a small backend interface
// on raw float32 slices (ParallelFor, Threads, KernelName, Sgemm,
// ReLUGradSlice, TanhSlice, SigmoidSlice) for autograd's fused ops and the
// benchmarks. A GPU backend would replace the implementations behind these
// functions without changing the layers, the training loop or the
// explanation methods.
//
// New draws large tensors from size-class pools that Recycle fills with
// tensors their owner knows dead (the autograd tape at the end of a
// training step, an imported graph after a value's last reader), so a loop
// that allocates the same tensors every step reuses warm memory instead of
// asking the garbage collector and the OS for fresh pages each time.
package tensor
