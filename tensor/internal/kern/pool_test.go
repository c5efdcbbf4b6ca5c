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
	waitHelpersFree(t)
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

// TestStealerOwnShareFirst checks the static split: alone, each part
// claims exactly its own contiguous share in order, then steals the rest
// starting with the next part.
func TestStealerOwnShareFirst(t *testing.T) {
	var s stealer
	s.init(10, 3) // shares [0,3) [3,6) [6,10)
	var got []int
	for {
		u, ok := s.claim(1)
		if !ok {
			break
		}
		got = append(got, u)
	}
	want := []int{3, 4, 5, 6, 7, 8, 9, 0, 1, 2}
	if len(got) != len(want) {
		t.Fatalf("part 1 alone claimed %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("part 1 alone claimed %v, want %v", got, want)
		}
	}
	s.init(4, 2)
	if u, _ := s.claim(0); u != 0 {
		t.Fatalf("after re-init part 0 claimed %d first, want 0", u)
	}
	if u, _ := s.claim(1); u != 2 {
		t.Fatalf("after re-init part 1 claimed %d first, want 2", u)
	}
}

// TestStealerClaimsOnce runs several claimers at once, some parts never
// showing up (a helper whose core is busy): every unit must be claimed
// exactly once.
func TestStealerClaimsOnce(t *testing.T) {
	for _, tc := range []struct{ n, parts, present int }{{1, 1, 1}, {0, 2, 2}, {7, 4, 4}, {1000, 4, 2}, {1000, 8, 1}, {3, 8, 3}} {
		var s stealer
		s.init(tc.n, tc.parts)
		counts := make([]int32, tc.n)
		var wg sync.WaitGroup
		for p := 0; p < tc.present; p++ {
			wg.Add(1)
			go func(part int) {
				defer wg.Done()
				for {
					u, ok := s.claim(part)
					if !ok {
						return
					}
					atomic.AddInt32(&counts[u], 1)
				}
			}(p)
		}
		wg.Wait()
		for u, c := range counts {
			if c != 1 {
				t.Fatalf("n=%d parts=%d present=%d: unit %d claimed %d times", tc.n, tc.parts, tc.present, u, c)
			}
		}
	}
}

// TestParallelForBlockedHelper: a helper stuck inside its first chunk must
// not keep the caller from finishing the helper's other chunks (the caller
// steals them); only the stuck chunk itself is waited for.
func TestParallelForBlockedHelper(t *testing.T) {
	saved := Threads()
	defer SetThreads(saved)
	SetThreads(2)
	waitHelpersFree(t)
	release := make(chan struct{})
	var done atomic.Int32
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		ParallelFor(8, 1, func(lo, hi int) {
			if lo == 4 { // the first chunk of the helper's share
				<-release
			}
			done.Add(int32(hi - lo))
		})
	}()
	// Everything but the stuck chunk gets done while it is stuck, whether
	// the helper got to it or the caller stole it.
	deadline := time.Now().Add(10 * time.Second)
	for done.Load() < 7 {
		if time.Now().After(deadline) {
			close(release)
			t.Fatalf("only %d of 7 free items done while one chunk was stuck", done.Load())
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	<-finished
	if done.Load() != 8 {
		t.Fatalf("done %d items, want 8", done.Load())
	}
}

// waitHelpersFree waits until no helper slot is reserved: helpers handed
// work by earlier tests that arrived after their caller had finished hold
// their slots until they run.
func waitHelpersFree(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for busy.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d helper slots still reserved after 5s", busy.Load())
		}
		time.Sleep(time.Millisecond)
	}
}

// TestParallelForFreesSlotsOnReturn: every helper slot a call reserved is
// free when it returns, even when the caller finished before its helper
// arrived, so the next call gets its helper (a late helper that kept its
// slot made back-to-back calls run alone).
func TestParallelForFreesSlotsOnReturn(t *testing.T) {
	saved := Threads()
	defer SetThreads(saved)
	SetThreads(2)
	waitHelpersFree(t)
	for i := 0; i < 2000; i++ {
		ParallelFor(2, 1, func(lo, hi int) {}) // over before a helper can join, often
		if b := busy.Load(); b != 0 {
			t.Fatalf("call %d returned with %d helper slots still reserved", i, b)
		}
	}
}
