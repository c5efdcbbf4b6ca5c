package main

import (
	"sync"
	"time"
)

// peakLoop is a register-only FMA loop and the flops of one iteration.
type peakLoop struct {
	name  string
	run   func(iters int)
	flops float64
}

// peak is a measured FMA peak in GFLOP/s for one loop at 1 and at the
// benchmark's thread count.
type peak struct {
	name       string
	one, multi float64
}

// measurePeaks times every FMA loop the CPU can run on 1 and on threads
// goroutines (one loop each, started together), best of three tries of
// about 50 ms: the most this CPU does with the instructions of each
// kernel, the denominator of the "% of peak" figures. The benchmark does
// this every round and keeps the best (bestPeaks).
func measurePeaks(threads int) []peak {
	var out []peak
	for _, l := range peakLoops() {
		// Calibrate: iterations for about 50 ms on one goroutine.
		iters := 1 << 16
		for {
			t := time.Now()
			l.run(iters)
			if dt := time.Since(t); dt > 20*time.Millisecond {
				iters = int(float64(iters) * float64(50*time.Millisecond) / float64(dt))
				break
			}
			iters *= 4
		}
		p := peak{name: l.name}
		p.one = bestRate(l, iters, 1)
		p.multi = p.one
		if threads > 1 {
			p.multi = bestRate(l, iters, threads)
		}
		out = append(out, p)
	}
	return out
}

func bestRate(l peakLoop, iters, goroutines int) float64 {
	best := 0.0
	for try := 0; try < 3; try++ {
		var wg sync.WaitGroup
		t := time.Now()
		for g := 0; g < goroutines; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				l.run(iters)
			}()
		}
		wg.Wait()
		rate := l.flops * float64(iters) * float64(goroutines) / time.Since(t).Seconds() / 1e9
		best = max(best, rate)
	}
	return best
}

// bestPeaks merges two measurements of the same loops, keeping the higher
// figure of each: a peak is what the CPU can do, and other work on a
// shared machine only ever lowers a measurement.
func bestPeaks(old, cur []peak) []peak {
	if old == nil {
		return cur
	}
	for i := range cur {
		for _, o := range old {
			if o.name == cur[i].name {
				cur[i].one = max(cur[i].one, o.one)
				cur[i].multi = max(cur[i].multi, o.multi)
			}
		}
	}
	return cur
}

// peakFor returns the multi-thread peak of the loop named name, or 0.
func peakFor(peaks []peak, name string) float64 {
	for _, p := range peaks {
		if p.name == name {
			return p.multi
		}
	}
	return 0
}
