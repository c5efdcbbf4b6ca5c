package serve

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// memBudget is a weighted semaphore of bytes: the memory that request
// bodies, image decoding and explanations may hold at once. A request
// takes an estimate of what it will allocate before allocating it, and
// gives it back when done.
type memBudget struct {
	mu      sync.Mutex
	total   int64
	used    int64
	waiting int
	wake    chan struct{} // closed and replaced when bytes come back while someone waits
}

func newMemBudget(total int64) *memBudget {
	return &memBudget{total: total, wake: make(chan struct{})}
}

// take reserves n bytes (n ≤ total), waiting for them until ctx is done.
func (b *memBudget) take(ctx context.Context, n int64) bool {
	counted := false
	defer func() {
		if counted {
			b.mu.Lock()
			b.waiting--
			b.mu.Unlock()
		}
	}()
	for {
		b.mu.Lock()
		if b.used+n <= b.total {
			b.used += n
			b.mu.Unlock()
			return true
		}
		if !counted {
			b.waiting++
			counted = true
		}
		wake := b.wake
		b.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return false
		}
	}
}

// give returns n bytes.
func (b *memBudget) give(n int64) {
	b.mu.Lock()
	b.used -= n
	if b.waiting > 0 {
		close(b.wake)
		b.wake = make(chan struct{})
	}
	b.mu.Unlock()
}

// inUse is the bytes reserved now.
func (b *memBudget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// lease is one request's share of the memory budget: it grows as the
// request goes (body, decoding, explanation) and is given back whole when
// the request ends.
type lease struct {
	s    *Server
	held int64
}

// take reserves n more bytes for what (a phrase such as "decoding a
// 4000×4000 image"): 413 when the request would need more than the whole
// budget, 429 when other requests hold it past the queue wait.
func (l *lease) take(ctx context.Context, n int64, what string) error {
	if n <= 0 {
		return nil
	}
	b := l.s.mem
	if l.held+n > b.total {
		return httpErrorf(http.StatusRequestEntityTooLarge, "%s needs about %s of memory, more than this server's budget of %s for work in progress; send a smaller input",
			what, mib(l.held+n), mib(b.total))
	}
	wctx, cancel := context.WithTimeout(ctx, l.s.opt.QueueWait)
	defer cancel()
	if !b.take(wctx, n) {
		if err := ctx.Err(); err != nil {
			return err
		}
		return httpErrorf(http.StatusTooManyRequests, "the server is busy: its memory budget of %s is in use by other requests; retry in a moment", mib(b.total))
	}
	l.held += n
	return nil
}

// give returns n of the bytes held (after a phase such as decoding).
func (l *lease) give(n int64) {
	n = min(n, l.held)
	if n > 0 {
		l.s.mem.give(n)
		l.held -= n
	}
}

// done returns everything held.
func (l *lease) done() { l.give(l.held) }

// mib prints a byte count for people.
func mib(n int64) string {
	switch {
	case n >= 10<<30:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 10<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", (n+1023)>>10)
}

// acquireSlot takes a place in slots, waiting at most the queue wait:
// 429 past it.
func (s *Server) acquireSlot(ctx context.Context, slots chan struct{}, wait time.Duration, what string) (release func(), err error) {
	select {
	case slots <- struct{}{}:
		return func() { <-slots }, nil
	default:
	}
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case slots <- struct{}{}:
			return func() { <-slots }, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	return nil, httpErrorf(http.StatusTooManyRequests, "the server is busy: all %d %s slots are in use; retry in a moment", cap(slots), what)
}
