package kern

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The worker pool. Workers are started lazily, live for the life of the
// process and park on workCh when idle. A caller that wants help first
// reserves helper slots (never more than Threads()-1 in use at once, across
// all callers), hands its job to that many workers and runs the job itself
// too.
//
// A job's work is a list of units (chunks of a loop, blocks of a matrix
// product) split statically: with P participants (the caller is part 0,
// helpers are parts 1..P-1 in the order they arrive), part p owns the
// p-th contiguous 1/P of the units and does them in order. A participant
// that has finished its own share steals the units left in the others'
// (see stealer). So when every core is free the work divides evenly with
// no contention on a shared counter, and when a core is busy with other
// work its helper only delays the units it has not started: the others
// take them. The caller never waits for a helper that has not started:
// when the caller runs out of work it closes the job, helpers that arrive
// later skip it, and the caller waits only for helpers that joined and are
// finishing a unit. Which participant does a unit never changes what the
// unit computes, so results do not depend on timing.
//
// Nothing here samples the machine's load: an earlier heuristic that ran
// calls serially while /proc/loadavg showed other runnable threads misfired
// on an idle machine and serialised a whole benchmark. Work stealing makes
// it unnecessary.
//
// Every slot a call reserved is free again when the call returns: a helper
// that joined frees its slot before it leaves the job (so before the
// caller can return), and the caller frees the slots of the helpers it
// handed the job to that never joined; such a helper, arriving late, finds
// the job closed and goes back to waiting without touching the slots. A
// late helper that freed its own slot only when it got round to it made
// the caller's next call find no slot free and run alone: half the
// parallel calls of a batch-1 inference, which runs them back to back.
//
// Nested calls are safe: a call made from inside a worker (or from a caller
// while every slot is taken) finds no free slot and runs on its own
// goroutine. A hand-off a late helper has not yet taken out of workCh
// holds no slot any more, so workCh may hold more entries than there are
// slots; but a free slot means a worker outside any job, taking entries
// out, so they do not pile up, and workCh has room for four times every
// slot: a hand-off does not block.

const maxWorkers = 256

var (
	threads  atomic.Int32 // configured number of goroutines per call, ≥ 1
	busy     atomic.Int32 // helper slots currently reserved
	nWorkers atomic.Int32 // worker goroutines started
	startMu  sync.Mutex
	workCh   = make(chan handoff, 4*maxWorkers)
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
// they claim one at a time (see stealer). prepare is called once, before
// any participant runs, with their number; run(part) returns when no work
// is left for participant part (0 is the caller).
type job interface {
	prepare(parts int)
	run(part int)
	base() *jobBase
}

// A job's state packs, from the top: the use's generation (32 bits), the
// closed bit, the helpers admitted to this use in all (15 bits) and those
// in it now (15 bits).
const (
	closedBit  = 1 << 31
	admitShift = 15
	admitOne   = 1 << admitShift
	admitMask  = (1<<15 - 1) << admitShift
	countMask  = 1<<15 - 1
)

// jobBase is embedded in every job. state packs the use's generation (high
// 32 bits), whether the caller has closed it, and how many helpers are in
// it; done carries the last helper's "finished" to a waiting caller; the
// first panic raised on a helper is kept to be raised again on the caller;
// joined numbers the helpers of a use as they arrive (their parts).
type jobBase struct {
	state  atomic.Uint64
	joined atomic.Int32
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
		if b.state.CompareAndSwap(s, s+admitOne+1) {
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
// takes tens of microseconds, and on the 2-core VM of the benchmarks
// often more than 200 µs: as long as a whole 128×256×128 product, or a
// batch-1 ResNet layer's share. Training calls kernels back to back, and
// an inference's layers leave gaps of up to a few hundred microseconds
// (padding, pooling, the graph's own work) between parallel calls; a
// worker still polling picks the next job up within microseconds. 100 µs
// was too short for the latter: 2 ms made a batch-1 ResNet-18 4% faster
// (15.1 → 14.5 ms, three alternated runs). While polling it yields its P
// to any other runnable goroutine; like onnxruntime's and OpenMP's
// spinning workers, it keeps a core busy for that long after the work.
const idleSpin = 2 * time.Millisecond

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
			runGuarded(h.j, int(b.joined.Add(1)))
			busy.Add(-1) // before the caller can return
			b.leave()
		}
		// Not admitted: the caller freed the slot when it closed the job.
	}
}

// waitWork polls workCh for up to idleSpin, then blocks on it.
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
		if i&63 == 63 && time.Since(start) > idleSpin {
			return <-workCh
		}
		runtime.Gosched()
	}
}

// doneSpin is how long a caller polls for its last helper to finish
// before it blocks. Blocking parked the caller's goroutine; the helper's
// "done" then made it runnable on the helper's own P, and the next
// hand-off found the worker and the caller sharing one P while the other
// sat idle, to be woken through the OS: a recurrent layer's 128 small
// parallel calls per sequence (GRU, batch 32, 64 steps) ran 1.5× slower on
// two threads than on one on a 2-core Zen 4. The helpers run the same
// work as the caller, so they are usually microseconds from done.
const doneSpin = 200 * time.Microsecond

// waitDone waits for the done signal of b's last helper: polled for up to
// doneSpin, yielding the P to any other runnable goroutine, then blocking.
func waitDone(b *jobBase) {
	start := time.Now()
	for i := 0; len(b.done) == 0; i++ {
		if i&63 == 63 && time.Since(start) > doneSpin {
			break
		}
		runtime.Gosched()
	}
	<-b.done
}

func runGuarded(j job, part int) {
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
	j.run(part)
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
	if helpers > 0 {
		helpers = reserve(helpers)
	}
	j.prepare(helpers + 1)
	if helpers == 0 {
		j.run(0)
		return
	}
	b := j.base()
	if b.done == nil {
		b.done = make(chan struct{}, 1)
	}
	gen := uint32(b.state.Load()>>32) + 1
	b.pset, b.pvalue = false, nil
	b.joined.Store(0)
	b.state.Store(uint64(gen) << 32)
	for i := 0; i < helpers; i++ {
		workCh <- handoff{j, gen}
	}
	func() {
		defer func() {
			old := b.state.Or(closedBit)
			// The slots of the helpers that never joined are the
			// caller's to free; those that did free their own.
			busy.Add(-int32(helpers - int(old&admitMask>>admitShift)))
			if old&countMask != 0 {
				waitDone(b)
			}
		}()
		j.run(0)
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
	chunks   stealer
}

func (f *forJob) prepare(parts int) { f.chunks.init((f.n+f.chunk-1)/f.chunk, parts) }

func (f *forJob) run(part int) {
	for {
		c, ok := f.chunks.claim(part)
		if !ok {
			return
		}
		lo := c * f.chunk
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
	if n <= grain || t == 1 {
		fn(0, n)
		return
	}
	// Up to 4 chunks per goroutine, so that when a goroutine is slowed down
	// by other processes the rest can take over its last chunks.
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
	defer func() {
		f.fn = nil
		forJobs.Put(f)
	}()
	parallel(f, helpers)
}

// stealer hands out the units [0, n) of a job to parts participants: part
// p owns [p·n/parts, (p+1)·n/parts) and claims its own units in order
// first, then the units left in the other parts (the next part first). A
// unit is claimed exactly once. Each part's cursor sits on its own cache
// line, so the owners of different parts do not contend until one steals.
type stealer struct {
	n, parts int
	next     []paddedCursor
}

type paddedCursor struct {
	v atomic.Int64
	_ [56]byte
}

// init resets s for n units and parts participants (parts ≥ 1). It must
// not run concurrently with claim.
func (s *stealer) init(n, parts int) {
	s.n, s.parts = n, parts
	if len(s.next) < parts {
		s.next = make([]paddedCursor, parts)
	}
	for p := 0; p < parts; p++ {
		s.next[p].v.Store(int64(s.start(p)))
	}
}

// start is the first unit of part p; start(parts) == n.
func (s *stealer) start(p int) int { return int(int64(p) * int64(s.n) / int64(s.parts)) }

// claim returns the next unit for participant part (its own first), or
// false when every unit has been claimed.
func (s *stealer) claim(part int) (int, bool) {
	for q := 0; q < s.parts; q++ {
		r := part + q
		if r >= s.parts {
			r -= s.parts
		}
		end := int64(s.start(r + 1))
		c := &s.next[r].v
		if c.Load() >= end {
			continue
		}
		if i := c.Add(1) - 1; i < end {
			return int(i), true
		}
	}
	return 0, false
}
