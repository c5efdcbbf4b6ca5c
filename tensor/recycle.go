package tensor

import (
	"math/bits"
	"slices"
	"sync"
	"unsafe"
)

// Storage recycling.
//
// A training step allocates the same large tensors every time (activations,
// their gradients), and frees them all at its end. Left to the garbage
// collector, a small live heap (a LeNet's weights are a quarter of a
// megabyte) makes the collector run every step and its scavenger hand the
// freed pages back to the OS, which the next step then faults in and zeroes
// again: on a 2-core machine that cost more than the arithmetic (LeNet
// trained 1.5× faster with GOGC=400). PyTorch on the CPU gets the reuse from
// malloc's free lists. Here the owner of a step's tensors, the autograd
// tape, says when they are dead (Recycle), and New draws from what was
// handed back before it asks the runtime.
//
// Buffers are kept in sync.Pools, one per size class, so they are shared
// between goroutines without a lock and the collector still drops them when
// nobody asks for them; buffers of a mebibyte and more go to bigCache
// (bigcache.go), which keeps them across collections.

// recycleMin is the smallest buffer worth recycling (16 KiB): the runtime's
// small-object allocator is cheap below it.
const recycleMin = 4096

// Size classes: four per power of two (2^k, 1.25·2^k, 1.5·2^k, 1.75·2^k),
// so a recycled buffer wastes at most a fifth of its capacity.
const classSteps = 4

var recyclePools [4 * 64]sync.Pool

// classUp is the smallest class whose size is at least n; classDown the
// largest whose size is at most n.
func classUp(n int) int {
	c := classDown(n)
	for classSize(c) < n {
		c++
	}
	return c
}

func classDown(n int) int {
	k := bits.Len(uint(n)) - 1 // 2^k <= n < 2^(k+1)
	step := (n - 1<<k) >> max(k-2, 0)
	if k < 2 {
		step = 0
	}
	return k*classSteps + step
}

func classSize(c int) int {
	k, step := c/classSteps, c%classSteps
	if k < 2 {
		return 1 << k
	}
	return 1<<k + step<<(k-2)
}

// newData returns n zeroed float32s, recycled when a buffer of the right
// class is waiting.
func newData(n int) []float32 {
	if n < recycleMin {
		return make([]float32, n)
	}
	d, recycled := takeData(n)
	if recycled {
		clear(d)
	}
	return d
}

// newDataUninit is newData without zeroing what was recycled.
func newDataUninit(n int) []float32 {
	d, _ := takeData(n)
	return d
}

// takeData returns n floats, recycled (contents unspecified) or fresh
// (zero).
func takeData(n int) (d []float32, recycled bool) {
	if n < recycleMin {
		return make([]float32, n), false
	}
	c := classUp(n)
	if classSize(c) >= bigMin {
		if d := bigCache.take(c); d != nil {
			return d[:n], true
		}
		return make([]float32, n, classSize(c)), false
	}
	if b, ok := recyclePools[c].Get().(*[]float32); ok {
		d := (*b)[:n]
		boxes.Put(b)
		return d, true
	}
	return make([]float32, n, classSize(c)), false
}

// boxes holds the *[]float32 headers the pools store, so a Put does not
// allocate one each time.
var boxes = sync.Pool{New: func() any { return new([]float32) }}

// Recycle hands the storage of dead tensors back, so later tensors reuse
// it instead of fresh memory. Every tensor in dead must be unreachable to
// everything but the caller's bookkeeping: nothing may read or write any of
// them afterwards, nor any view of their storage, because a later New
// returns the same memory. Storage that overlaps any tensor in keep is left
// alone (the caller's way to protect what may share memory with a dead
// tensor, such as parameters and inputs a view was taken of); so is storage
// of which only views are in dead, not the tensor New made it for, since
// the rest of it may be alive.
// Several views of one buffer in dead hand it back once.
//
// The autograd tape's Release is the caller this exists for.
func Recycle(dead, keep []*Tensor) { RecycleOrHold(dead, keep) }

// RecycleOrHold is Recycle, and returns the owners in dead (tensors New
// made, not views) it left only because a tensor in keep shares their
// storage: a caller that knows when those views die (an inference's value
// table, where a Transpose's output outlives the tensor it views) hands
// them to a later call then, instead of losing the buffer to the
// collector.
func RecycleOrHold(dead, keep []*Tensor) (held []*Tensor) {
	spanOf := func(t *Tensor) (span, bool) {
		if t == nil || cap(t.data) == 0 {
			return span{}, false
		}
		lo := uintptr(unsafe.Pointer(unsafe.SliceData(t.data)))
		return span{lo, lo + uintptr(cap(t.data))*4}, true
	}
	type cand struct {
		s     span
		data  []float32
		owner bool
		t     *Tensor
	}
	var cands []cand
	for _, t := range dead {
		if t == nil || cap(t.data) < recycleMin {
			continue
		}
		s, _ := spanOf(t)
		cands = append(cands, cand{s, t.data, t.owner, t})
	}
	if len(cands) == 0 {
		return nil
	}
	var kept []span
	for _, t := range keep {
		if s, ok := spanOf(t); ok {
			kept = append(kept, s)
		}
	}
	slices.SortFunc(cands, func(a, b cand) int {
		switch {
		case a.s.lo != b.s.lo:
			if a.s.lo < b.s.lo {
				return -1
			}
			return 1
		case a.s.hi > b.s.hi: // the widest view of a start first
			return -1
		case a.s.hi < b.s.hi:
			return 1
		case a.owner != b.owner: // the owner before its equal views
			if a.owner {
				return -1
			}
			return 1
		}
		return 0
	})
	slices.SortFunc(kept, func(a, b span) int {
		if a.lo < b.lo {
			return -1
		} else if a.lo > b.lo {
			return 1
		}
		return 0
	})
	// Group overlapping candidates; a group goes back only when its first
	// member is the buffer's owner (New's tensor, not a view into it), which
	// then spans the group, and no kept tensor touches it.
	for i := 0; i < len(cands); {
		g := cands[i].s
		j := i + 1
		for j < len(cands) && cands[j].s.lo < g.hi {
			g.hi = max(g.hi, cands[j].s.hi)
			j++
		}
		whole := cands[i]
		if whole.owner && whole.s == g && overlapsAny(kept, g.lo, g.hi) {
			held = append(held, whole.t)
		}
		if whole.owner && whole.s == g && !overlapsAny(kept, g.lo, g.hi) {
			c := classDown(cap(whole.data))
			if classSize(c) >= bigMin {
				bigCache.put(c, whole.data[:classSize(c)])
				i = j
				continue
			}
			b := boxes.Get().(*[]float32)
			*b = whole.data[:classSize(c)]
			recyclePools[c].Put(b)
		}
		i = j
	}
	return held
}

// span is the address range [lo, hi) of a buffer's capacity.
type span struct{ lo, hi uintptr }

// overlapsAny reports whether [lo, hi) meets any span of sorted (by lo).
func overlapsAny(sorted []span, lo, hi uintptr) bool {
	for _, s := range sorted {
		if s.lo >= hi {
			return false
		}
		if s.hi > lo {
			return true
		}
	}
	return false
}
