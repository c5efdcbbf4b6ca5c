package kern

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The worker pool. Workers are started lazily, live for the life of the
// process and park on workCh when idle. A caller that wants help first
// reserves helper slots (never more than Threads()-1 in use at once, across
// all callers), hands its job to that many workers and runs the job itself
// too. Jobs split their work dynamically (atomic counters), so the caller
// never waits for a helper that has not started: when the caller runs out
// of work it closes the job, helpers that arrive later skip it, and the
// caller waits only for helpers that joined and are finishing a piece. On a
// machine busy with other processes a helper whose thread gets no CPU thus
// costs nothing.
//
// Nested calls are safe: a call made from inside a worker (or from a caller
// while every slot is taken) finds no free slot and runs on its own
// goroutine. workCh has room for every slot, so a hand-off never blocks.

const maxWorkers = 256

var (
	threads  atomic.Int32 // configured number of goroutines per call, ≥ 1
	busy     atomic.Int32 // helper slots currently reserved
	nWorkers atomic.Int32 // worker goroutines started
	startMu  sync.Mutex
	workCh   = make(chan handoff, maxWorkers)
)

func init() { threads.Store(int32(max(1, runtime.GOMAXPROCS(0)))) }

// Threads reports how many goroutines (the caller plus workers) one parallel
// call may use. The default is runtime.GOMAXPROCS(0) at start-up.
func Threads() int { return int(threads.Load()) }

// SetThreads sets how many goroutines one parallel call may use; n < 1 means
// 1 (everything runs on the calling goroutine), and n is capped at 257.
// It is safe to call at any time; calls already running keep the helpers
// they have.
func SetThreads(n int) {
	threads.Store(int32(min(max(n, 1), maxWorkers+1)))
}

// job is work that several goroutines run at once, cut into units that
// they claim one at a time; run returns when no work is left for the
// goroutine that called it.
type job interface {
	run()
	base() *jobBase
}

const (
	closedBit = 1 << 31
	countMask = closedBit - 1
)

// jobBase is embedded in every job. state packs the use's generation (high
// 32 bits), whether the caller has closed it, and how many helpers are in
// it; done carries the last helper's "finished" to a waiting caller; the
// first panic raised on a helper is kept to be raised again on the caller.
type jobBase struct {
	state  atomic.Uint64
	done   chan struct{}
	mu     sync.Mutex
	pvalue any
	pset   bool
}

func (b *jobBase) base() *jobBase { return b }

// join admits a helper to generation gen of the job unless it is closed
// or has moved on.
func (b *jobBase) join(gen uint32) bool {
	for {
		s := b.state.Load()
		if uint32(s>>32) != gen || s&closedBit != 0 {
			return false
		}
		if b.state.CompareAndSwap(s, s+1) {
			return true
		}
	}
}

// leave marks a helper finished and wakes the caller if it was the last
// one it waits for.
func (b *jobBase) leave() {
	s := b.state.Add(^uint64(0))
	if s&closedBit != 0 && s&countMask == 0 {
		b.done <- struct{}{}
	}
}

type handoff struct {
	j   job
	gen uint32
}

// idleSpin is how long a worker keeps polling for the next job after
// finishing one before it parks. Waking a parked goroutine on an idle core
// takes tens of microseconds (more in a VM), as long as a whole 128×256×128
// product; training calls kernels back to back, so a worker that is still
// polling picks the next job up within a microsecond. While polling it
// yields its P to any other runnable goroutine.
const idleSpin = 100 * time.Microsecond

func worker() {
	for {
		var h handoff
		select {
		case h = <-workCh:
		default:
			h = waitWork()
		}
		b := h.j.base()
		if b.join(h.gen) {
			runGuarded(h.j)
			b.leave()
		}
		busy.Add(-1)
	}
}

// waitWork polls workCh for up to idleSpin (unless the machine is
// oversubscribed), then blocks on it.
func waitWork() handoff {
	start := time.Now()
	for i := 0; ; i++ {
		if len(workCh) > 0 {
			select {
			case h := <-workCh:
				return h
			default:
			}
		}
		if i&63 == 63 && (time.Since(start) > idleSpin || contended()) {
			parked.Add(1)
			h := <-workCh
			parked.Add(-1)
			return h
		}
		runtime.Gosched()
	}
}

func runGuarded(j job) {
	defer func() {
		if p := recover(); p != nil {
			b := j.base()
			b.mu.Lock()
			if !b.pset {
				b.pvalue, b.pset = p, true
			}
			b.mu.Unlock()
		}
	}()
	j.run()
}

// Helpers only pay when they have a core to themselves. With more runnable
// threads than cores (other processes at work) a polling helper takes CPU
// time from its own caller's thread, and a helper taken off the CPU while
// it holds a unit stalls the caller for a whole time slice: small parallel
// calls then run at half the serial speed. So callers sample how many
// threads the system has ready to run (at most every sampleEvery; on Linux
// from /proc/loadavg, elsewhere never), subtract their own (the caller and
// the workers not parked) and keep a moving average of the others. While
// the others would leave the caller and its helpers less than a core each,
// calls run serially and the workers park.
const sampleEvery = 5 * time.Millisecond

var (
	parked     atomic.Int32  // workers blocked waiting for work
	lastSample atomic.Int64  // Unix nanoseconds
	othersAvg  atomic.Uint64 // float64 bits: moving average of other runnable threads
	numCPU     = runtime.NumCPU()
)

// watchLoad turns the sampling on; tests that need helpers turn it off.
var watchLoad atomic.Bool

func init() { watchLoad.Store(true) }

// contended reports whether the machine is oversubscribed, sampling it if
// the last sample is stale.
func contended() bool {
	if !watchLoad.Load() {
		return false
	}
	now := time.Now().UnixNano()
	last := lastSample.Load()
	avg := math.Float64frombits(othersAvg.Load())
	if now-last > int64(sampleEvery) && lastSample.CompareAndSwap(last, now) {
		if n, ok := runnableThreads(); ok {
			ours := 1 + int(nWorkers.Load()-parked.Load())
			avg = 0.875*avg + 0.125*float64(max(0, n-ours))
			othersAvg.Store(math.Float64bits(avg))
		}
	}
	return avg > float64(max(0, numCPU-Threads()))+0.75
}

// reserve claims up to want helper slots and returns how many it got.
func reserve(want int) int {
	limit := int32(Threads() - 1)
	got := 0
	for got < want {
		b := busy.Load()
		if b >= limit {
			break
		}
		if busy.CompareAndSwap(b, b+1) {
			got++
		}
	}
	if got > 0 && nWorkers.Load() < limit {
		startMu.Lock()
		for nWorkers.Load() < limit {
			go worker()
			nWorkers.Add(1)
		}
		startMu.Unlock()
	}
	return got
}

// parallel runs j on the calling goroutine and on up to helpers workers,
// and returns when all of them are done with it. A panic on any of them is
// raised again here.
func parallel(j job, helpers int) {
	if helpers > 0 && !contended() {
		helpers = reserve(helpers)
	} else {
		helpers = 0
	}
	b := j.base()
	if b.done == nil {
		b.done = make(chan struct{}, 1)
	}
	gen := uint32(b.state.Load()>>32) + 1
	b.pset, b.pvalue = false, nil
	b.state.Store(uint64(gen) << 32)
	for i := 0; i < helpers; i++ {
		workCh <- handoff{j, gen}
	}
	func() {
		defer func() {
			if old := b.state.Or(closedBit); old&countMask != 0 {
				<-b.done
			}
		}()
		j.run()
	}()
	if b.pset {
		p := b.pvalue
		b.pvalue = nil
		panic(p)
	}
}

type forJob struct {
	jobBase
	fn       func(lo, hi int)
	n, chunk int
	next     atomic.Int64
}

func (f *forJob) run() {
	for {
		c := int(f.next.Add(1) - 1)
		lo := c * f.chunk
		if lo >= f.n {
			return
		}
		f.fn(lo, min(lo+f.chunk, f.n))
	}
}

var forJobs = sync.Pool{New: func() any { return new(forJob) }}

// ParallelFor calls fn on contiguous, disjoint ranges [lo, hi) that together
// cover [0, n), each at least grain items long (except when n < grain),
// spread over up to Threads() goroutines, and returns when all calls are
// done. fn must be safe to call concurrently; the number and order of the
// calls are unspecified. It runs fn(0, n) inline when n <= grain,
// Threads() == 1, or no worker is free (e.g. when called from inside
// another ParallelFor). A panic in fn is re-raised on the caller.
func ParallelFor(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	grain = max(grain, 1)
	t := Threads()
	if n <= grain || t == 1 || contended() {
		fn(0, n)
		return
	}
	// Up to 4 chunks per goroutine, so a goroutine slowed down by other
	// processes does not hold up the rest.
	chunks := min(n/grain, 4*t)
	if chunks <= 1 {
		fn(0, n)
		return
	}
	chunk := (n + chunks - 1) / chunks
	chunks = (n + chunk - 1) / chunk
	helpers := min(t-1, chunks-1)
	f := forJobs.Get().(*forJob)
	f.fn, f.n, f.chunk = fn, n, chunk
	f.next.Store(0)
	defer func() {
		f.fn = nil
		forJobs.Put(f)
	}()
	parallel(f, helpers)
}
