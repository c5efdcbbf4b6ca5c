package tensor

import "github.com/glassbox-ml/glassbox/internal/kern"

// parallelFor splits [0, n) into chunks of at least grain items over the
// kernel package's worker pool and waits for all. Elementwise loops use it
// so large tensors keep every core busy while small ones stay on one.
func parallelFor(n, grain int, fn func(lo, hi int)) { kern.ParallelFor(n, grain, fn) }
