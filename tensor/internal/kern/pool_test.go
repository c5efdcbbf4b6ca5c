package kern

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestParallelForCoversRange checks every index is visited exactly once, by
// contiguous ranges of at least grain items (the last may be shorter).
func TestParallelForCoversRange(t *testing.T) {
	saved := Threads()
	defer SetThreads(saved)
	for _, threads := range []int{1, 2, 4} {
		SetThreads(threads)
		for _, tc := range []struct{ n, grain int }{{1, 1}, {10, 1}, {10, 3}, {1000, 7}, {1000, 1000}, {1001, 1000}, {5, 0}} {
			counts := make([]int32, tc.n)
			var mu sync.Mutex
			var ranges [][2]int
			ParallelFor(tc.n, tc.grain, func(lo, hi int) {
				mu.Lock()
				ranges = append(ranges, [2]int{lo, hi})
				mu.Unlock()
				for i := lo; i < hi; i++ {
					atomic.AddInt32(&counts[i], 1)
				}
			})
			for i, c := range counts {
				if c != 1 {
					t.Fatalf("threads=%d n=%d grain=%d: index %d visited %d times", threads, tc.n, tc.grain, i, c)
				}
			}
			sort.Slice(ranges, func(i, j int) bool { return ranges[i][0] < ranges[j][0] })
			for i, r := range ranges {
				if r[1] <= r[0] {
					t.Fatalf("n=%d grain=%d: empty range %v", tc.n, tc.grain, r)
				}
				if i < len(ranges)-1 && r[1]-r[0] < max(tc.grain, 1) {
					t.Fatalf("n=%d grain=%d: range %v shorter than grain", tc.n, tc.grain, r)
				}
			}
			if tc.n <= max(tc.grain, 1) && len(ranges) != 1 {
				t.Fatalf("n=%d grain=%d: %d calls, want 1 (inline)", tc.n, tc.grain, len(ranges))
			}
		}
	}
}

func TestParallelForZero(t *testing.T) {
	called := false
	ParallelFor(0, 1, func(lo, hi int) { called = true })
	if called {
		t.Fatal("fn called for n = 0")
	}
}

// TestParallelForUsesWorkers checks that with two threads the work really
// is shared when both goroutines are free: the body blocks until two calls
// are in flight at once.
func TestParallelForUsesWorkers(t *testing.T) {
	saved := Threads()
	defer SetThreads(saved)
	SetThreads(2)
	// Helpers handed work by earlier tests that arrived after their caller
	// had finished still hold their slots until they run; wait for them.
	deadline := time.Now().Add(5 * time.Second)
	for busy.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d helper slots still reserved after 5s", busy.Load())
		}
		time.Sleep(time.Millisecond)
	}
	watchLoad.Store(false) // on a loaded test machine helpers would be switched off
	defer watchLoad.Store(true)
	var inFlight atomic.Int32
	met := make(chan struct{})
	var once sync.Once
	var timedOut atomic.Bool
	ParallelFor(2, 1, func(lo, hi int) {
		if inFlight.Add(1) == 2 {
			once.Do(func() { close(met) })
		}
		// A bounded wait: if ParallelFor ran the chunks one after the
		// other, an unbounded one would hang the test binary.
		select {
		case <-met:
		case <-time.After(10 * time.Second):
			timedOut.Store(true)
		}
	})
	if timedOut.Load() {
		t.Fatal("the two chunks of ParallelFor(2, 1) never ran at the same time")
	}
}

// TestParallelForNested runs ParallelFor inside ParallelFor at several
// depths; everything must finish and every index be visited once.
func TestParallelForNested(t *testing.T) {
	saved := Threads()
	defer SetThreads(saved)
	SetThreads(3)
	var total atomic.Int64
	ParallelFor(8, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			ParallelFor(16, 2, func(lo2, hi2 int) {
				ParallelFor(hi2-lo2, 1, func(a, b int) { total.Add(int64(b - a)) })
			})
		}
	})
	if got := total.Load(); got != 8*16 {
		t.Fatalf("nested ParallelFor visited %d items, want %d", got, 8*16)
	}
}

// TestParallelForPanic checks a panic in any chunk (on a worker or on the
// caller) reaches the caller, and the pool still works afterwards.
func TestParallelForPanic(t *testing.T) {
	saved := Threads()
	defer SetThreads(saved)
	SetThreads(2)
	for round := 0; round < 3; round++ {
		func() {
			defer func() {
				p := recover()
				if p == nil || !strings.Contains(p.(string), "boom") {
					t.Fatalf("round %d: recovered %v, want the body's panic", round, p)
				}
			}()
			ParallelFor(100, 1, func(lo, hi int) {
				if lo <= 50 && 50 < hi {
					panic("boom at 50")
				}
			})
		}()
	}
	var n atomic.Int64
	ParallelFor(100, 1, func(lo, hi int) { n.Add(int64(hi - lo)) })
	if n.Load() != 100 {
		t.Fatalf("after panics: visited %d, want 100", n.Load())
	}
}

func TestSetThreads(t *testing.T) {
	saved := Threads()
	defer SetThreads(saved)
	SetThreads(0)
	if Threads() != 1 {
		t.Fatalf("SetThreads(0): Threads() = %d, want 1", Threads())
	}
	SetThreads(5)
	if Threads() != 5 {
		t.Fatalf("SetThreads(5): Threads() = %d, want 5", Threads())
	}
}
