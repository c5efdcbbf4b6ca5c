package tensor

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// collect runs a garbage collection and waits until b has seen it.
func collect(t *testing.T, b *bigBuffers) {
	t.Helper()
	b.mu.Lock()
	before := b.cycle
	b.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		b.mu.Lock()
		seen := b.cycle
		b.mu.Unlock()
		if seen > before {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no collection reached the big-buffer cache in 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestBigBuffersSurviveCollections checks what sync.Pools could not give a
// batch-32 inference: a large recycled buffer is still there after
// collections (New hands it out again, zeroed), until it has waited
// bigIdleCycles of them unused.
func TestBigBuffersSurviveCollections(t *testing.T) {
	a := New(bigMin)
	for i := range a.data {
		a.data[i] = 7
	}
	addr := base(a)
	Recycle([]*Tensor{a}, nil)
	// Two collections (a sync.Pool would have dropped it by now) tell the
	// cache at most twice, fewer than bigIdleCycles.
	runtime.GC()
	runtime.GC()
	got := New(bigMin/2, 2)
	if base(got) != addr {
		t.Fatal("a recycled large buffer did not survive two collections")
	}
	for i, v := range got.data {
		if v != 0 {
			t.Fatalf("recycled large tensor not zeroed: [%d] = %v", i, v)
		}
	}

	// The collector does tell a cache.
	collect(t, newBigBuffers())
}

// TestBigBuffersIdle checks that a buffer nobody takes goes after
// bigIdleCycles collections, and that a buffer taken and put back starts
// waiting anew.
func TestBigBuffersIdle(t *testing.T) {
	b := &bigBuffers{free: map[int][]bigEntry{}} // told of collections by hand
	c := classUp(bigMin)
	b.put(c, make([]float32, classSize(c)))
	for range bigIdleCycles - 1 {
		b.collected()
	}
	d := b.take(c)
	if d == nil {
		t.Fatalf("the buffer was dropped before %d collections", bigIdleCycles)
	}
	b.put(c, d)
	for range bigIdleCycles - 1 {
		b.collected()
	}
	if b.held() == 0 {
		t.Fatal("a buffer put back was dropped by its first wait's count")
	}
	b.collected()
	if b.held() != 0 || b.take(c) != nil {
		t.Fatalf("the buffer is still held after %d collections", bigIdleCycles)
	}
}

// TestBigBuffersLimit checks that the cache keeps at most a quarter of
// the memory limit (and never more than bigLimit), dropping what would
// pass it, and that take returns only buffers of the class asked for.
func TestBigBuffersLimit(t *testing.T) {
	c := classUp(bigMin)
	size := int64(classSize(c)) * 4
	prev := debug.SetMemoryLimit(4 * 3 * size) // room for three buffers
	defer debug.SetMemoryLimit(prev)
	b := newBigBuffers()
	for range 5 {
		b.put(c, make([]float32, classSize(c)))
	}
	if got := b.held(); got != 3*size {
		t.Fatalf("held %d bytes under a limit of %d, want %d", got, 3*size, 3*size)
	}
	if b.take(c+1) != nil {
		t.Fatal("take handed out a buffer of another class")
	}
	for range 3 {
		if d := b.take(c); len(d) != classSize(c) {
			t.Fatalf("take gave %d floats, want %d", len(d), classSize(c))
		}
	}
	if b.take(c) != nil || b.held() != 0 {
		t.Fatal("the cache is not empty after taking all it held")
	}
}
