package tensor

import (
	"runtime"
	"sync"
)

// parallelFor splits [0, n) into chunks of at least grain items and runs fn
// on them concurrently, waiting for all. Elementwise loops use it so that
// large tensors keep both cores busy while small ones stay on one.
func parallelFor(n, grain int, fn func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if workers <= 1 || n <= grain {
		fn(0, n)
		return
	}
	chunks := min(workers, (n+grain-1)/grain)
	step := (n + chunks - 1) / chunks
	var wg sync.WaitGroup
	for lo := step; lo < n; lo += step {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			fn(lo, hi)
		}(lo, min(lo+step, n))
	}
	fn(0, min(step, n))
	wg.Wait()
}
