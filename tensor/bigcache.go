package tensor

import (
	"runtime"
	"runtime/debug"
	"sync"
)

// Large buffers survive garbage collections.
//
// A sync.Pool empties itself over two collections, and a batch of 32
// images through MobileNetV2 allocates a gigabyte before its first
// buffers come back: the collections that allocation triggers flush the
// pools mid-run, and the next run faults every page in again. On a VM a
// fresh page costs about a microsecond (a 154 MB activation took 36 ms to
// fault in against 5 ms to write), so an inference that missed the pools
// ran three times slower than one that hit them. Buffers of bigMin floats
// and more therefore go to bigCache instead, a free list the collector does
// not empty. It holds at most bigLimit bytes (less under a lower
// debug.SetMemoryLimit), and a buffer nobody took for bigIdleCycles
// collections is let go, so an idle program (the runtime collects at least
// every two minutes) hands the memory back within minutes, as malloc's
// trimming would. onnxruntime's arena keeps its memory for the session's
// life; this keeps it only while it is used.

const (
	bigMin        = 1 << 18 // floats (1 MiB): below this sync.Pools do well
	bigLimit      = 1 << 30 // bytes kept at most
	bigIdleCycles = 4       // collections a buffer may wait before it is dropped
)

var bigCache = newBigBuffers()

// bigBuffers is a free list of large float buffers by size class.
type bigBuffers struct {
	mu    sync.Mutex
	free  map[int][]bigEntry // by class; the most recently put last
	bytes int64
	cycle uint64 // garbage collections seen
}

type bigEntry struct {
	data  []float32
	cycle uint64 // when it was put
}

func newBigBuffers() *bigBuffers {
	b := &bigBuffers{free: map[int][]bigEntry{}}
	watchCollections(b)
	return b
}

// take returns a buffer of class c, or nil.
func (b *bigBuffers) take(c int) []float32 {
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.free[c]
	if len(l) == 0 {
		return nil
	}
	e := l[len(l)-1]
	l[len(l)-1] = bigEntry{}
	b.free[c] = l[:len(l)-1]
	b.bytes -= int64(cap(e.data)) * 4
	return e.data
}

// put keeps d (of class c) unless that would pass the limit.
func (b *bigBuffers) put(c int, d []float32) {
	size := int64(cap(d)) * 4
	limit := int64(bigLimit)
	if m := debug.SetMemoryLimit(-1); m/4 < limit {
		limit = m / 4
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bytes+size > limit {
		return // the collector has it
	}
	b.free[c] = append(b.free[c], bigEntry{d, b.cycle})
	b.bytes += size
}

// collected drops the buffers that waited bigIdleCycles collections.
func (b *bigBuffers) collected() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cycle++
	for c, l := range b.free {
		kept := l[:0]
		for _, e := range l {
			if b.cycle-e.cycle < bigIdleCycles {
				kept = append(kept, e)
			} else {
				b.bytes -= int64(cap(e.data)) * 4
			}
		}
		clear(l[len(kept):])
		if len(kept) == 0 {
			delete(b.free, c)
		} else {
			b.free[c] = kept
		}
	}
}

// held reports the bytes kept.
func (b *bigBuffers) held() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.bytes
}

// gcSentinel is garbage from birth; its cleanup runs after each
// collection that finds it, tells b, and plants the next one.
type gcSentinel struct{ _ *int }

func watchCollections(b *bigBuffers) {
	s := new(gcSentinel)
	runtime.AddCleanup(s, func(b *bigBuffers) {
		b.collected()
		watchCollections(b)
	}, b)
}
