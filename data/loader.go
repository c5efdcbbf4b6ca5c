package data

import (
	"context"
	"fmt"
	"iter"
	"math/rand/v2"

	"github.com/glassbox-ml/glassbox/tensor"
)

// Batch is a group of examples stacked along a new first axis.
type Batch struct {
	// X is [batch, XShape...], Y is [batch, YShape...].
	X, Y *tensor.Tensor
	// Index holds the data set indices of the examples, in batch order.
	Index []int
	// Epoch and Step say where the batch falls in training.
	Epoch, Step int
}

// Labels returns Y's values as class indices (for classification targets).
func (b *Batch) Labels() []int {
	d := b.Y.Data()
	out := make([]int, len(d))
	for i, v := range d {
		out[i] = int(v)
	}
	return out
}

// Transform changes a batch in place before it is handed out (augmentation,
// normalisation). rng is derived from the loader's seed, the epoch and the
// batch number, so transforms are reproducible too.
type Transform func(b *Batch, rng *rand.Rand)

// Options configure a Loader.
type Options struct {
	// BatchSize is the number of examples per batch (default 32).
	BatchSize int
	// Shuffle reorders the examples every epoch, from Seed and the epoch.
	Shuffle bool
	// Seed drives shuffling and the transforms' random numbers.
	Seed uint64
	// DropLast drops a final batch smaller than BatchSize.
	DropLast bool
	// Transforms run on each batch in order.
	Transforms []Transform
	// Prefetch is how many batches are prepared ahead in a background
	// goroutine (default 2; negative disables prefetching).
	Prefetch int
}

// Loader hands out batches of a Dataset.
type Loader struct {
	ds   Dataset
	opts Options
}

// NewLoader checks the options and returns a loader over ds.
func NewLoader(ds Dataset, opts Options) (*Loader, error) {
	if opts.BatchSize == 0 {
		opts.BatchSize = 32
	}
	if opts.BatchSize < 0 {
		return nil, fmt.Errorf("data: batch size %d must be positive", opts.BatchSize)
	}
	if opts.Prefetch == 0 {
		opts.Prefetch = 2
	}
	if ds.Len() == 0 {
		return nil, fmt.Errorf("data: the data set is empty")
	}
	return &Loader{ds: ds, opts: opts}, nil
}

// Dataset returns the loader's data set.
func (l *Loader) Dataset() Dataset { return l.ds }

// Options returns the loader's options (with defaults filled in).
func (l *Loader) Options() Options { return l.opts }

// Len returns the number of batches per epoch.
func (l *Loader) Len() int {
	n, b := l.ds.Len(), l.opts.BatchSize
	if l.opts.DropLast {
		return n / b
	}
	return (n + b - 1) / b
}

// Order returns the example order of an epoch: a seeded permutation when
// shuffling, else 0..n-1.
func (l *Loader) Order(epoch int) []int {
	n := l.ds.Len()
	if !l.opts.Shuffle {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	return rand.New(rand.NewPCG(l.opts.Seed, 0x5eed0000+uint64(epoch))).Perm(n)
}

// Batches iterates over one epoch's batches. A Batch's tensors are reused
// by later batches: use them before the next iteration, or Clone them.
// The iteration stops early when ctx is cancelled.
func (l *Loader) Batches(ctx context.Context, epoch int) iter.Seq[*Batch] {
	return func(yield func(*Batch) bool) {
		order := l.Order(epoch)
		nb := l.Len()
		if l.opts.Prefetch < 0 {
			buf := l.newBatch()
			for s := 0; s < nb; s++ {
				if ctx.Err() != nil {
					return
				}
				b := l.fill(buf, order, epoch, s)
				if !yield(b) {
					return
				}
			}
			return
		}
		// A ring of Prefetch+2 buffers: the ones queued in the channel, the
		// one being filled and the one the consumer holds.
		ring := make([]*Batch, l.opts.Prefetch+2)
		for i := range ring {
			ring[i] = l.newBatch()
		}
		ch := make(chan *Batch, l.opts.Prefetch)
		done := make(chan struct{})
		defer close(done)
		go func() {
			defer close(ch)
			for s := 0; s < nb; s++ {
				if ctx.Err() != nil {
					return
				}
				b := l.fill(ring[s%len(ring)], order, epoch, s)
				select {
				case ch <- b:
				case <-done:
					return
				case <-ctx.Done():
					return
				}
			}
		}()
		for b := range ch {
			// A select with both cases ready picks at random, so a batch may
			// still arrive after cancellation: the consumer checks too.
			if ctx.Err() != nil || !yield(b) {
				return
			}
		}
	}
}

func (l *Loader) newBatch() *Batch {
	bs := l.opts.BatchSize
	return &Batch{
		X:     tensor.New(append([]int{bs}, l.ds.XShape()...)...),
		Y:     tensor.New(append([]int{bs}, l.ds.YShape()...)...),
		Index: make([]int, bs),
	}
}

// fill reads batch s of an epoch into buf (resized for a short last batch).
func (l *Loader) fill(buf *Batch, order []int, epoch, s int) *Batch {
	bs := l.opts.BatchSize
	lo := s * bs
	hi := min(lo+bs, len(order))
	n := hi - lo
	px := tensor.Numel(l.ds.XShape())
	py := tensor.Numel(l.ds.YShape())
	b := buf
	if n != bs {
		b = &Batch{
			X: buf.X.Slice(0, 0, n).Contiguous(),
			Y: buf.Y.Slice(0, 0, n).Contiguous(),
		}
	}
	b.Index = append(buf.Index[:0], order[lo:hi]...)
	b.Epoch, b.Step = epoch, s
	xd, yd := b.X.Data(), b.Y.Data()
	for i := 0; i < n; i++ {
		l.ds.Read(order[lo+i], xd[i*px:(i+1)*px], yd[i*py:(i+1)*py])
	}
	if len(l.opts.Transforms) > 0 {
		rng := rand.New(rand.NewPCG(l.opts.Seed^0xa11ce, uint64(epoch)<<32|uint64(s)))
		for _, t := range l.opts.Transforms {
			t(b, rng)
		}
	}
	return b
}
