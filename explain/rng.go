package explain

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"sync"
)

// Stream identifiers keep the sub-streams of one explanation apart: a
// column's stream and a chunk's stream never coincide.
const (
	streamColumn uint64 = 0x9e3779b97f4a7c15
	streamChunk  uint64 = 0xbf58476d1ce4e5b9
	streamOther  uint64 = 0x94d049bb133111eb
	// streamScramble seeds the scramble of a column's Sobol' coordinate.
	streamScramble uint64 = 0xd6e8feb86659fd93
)

// splitmix64 is a bijective mixer; it turns (kind, index) into a well-spread
// PCG sequence selector.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// rng is a PCG generator used directly (no interface call per number). The
// 32-bit draws use both halves of each 64-bit output.
type rng struct {
	pcg   rand.PCG
	spare uint64
	has   bool
	std   *rand.Rand // built on first use, over the same PCG
}

// NormFloat64 returns a standard normal number (math/rand/v2's ziggurat on
// this stream).
func (r *rng) NormFloat64() float64 {
	if r.std == nil {
		r.std = rand.New(&r.pcg)
	}
	return r.std.NormFloat64()
}

// uint32 returns 32 random bits.
func (r *rng) uint32() uint32 {
	if r.has {
		r.has = false
		return uint32(r.spare)
	}
	r.spare = r.pcg.Uint64()
	r.has = true
	return uint32(r.spare >> 32)
}

// unit32 returns a uniform number in [0, 1) with 32-bit resolution, enough
// for interpolating tables and choosing strata.
func (r *rng) unit32() float64 { return float64(r.uint32()) * 0x1p-32 }

// subStream returns the random stream number index of the given kind for
// seed. Each call builds its own generator, so concurrent explanations and
// parallel workers never share state, and which worker runs a chunk cannot
// change the numbers it draws.
func subStream(seed, kind, index uint64) *rng {
	r := &rng{}
	r.pcg.Seed(seed, splitmix64(kind^splitmix64(index)))
	return r
}

// blockIndex is the stream index of item j (a column, a chunk) in sampling
// block b of an adaptive budget. Block 0 uses j itself; later blocks never
// meet block 0's indices (j < 2³²).
func blockIndex(j, b int) uint64 { return uint64(j) | uint64(b)<<32 }

// Uint64 returns 64 random bits.
func (r *rng) Uint64() uint64 { return r.pcg.Uint64() }

// Float64 returns a uniform number in [0, 1).
func (r *rng) Float64() float64 { return float64(r.pcg.Uint64()>>11) * 0x1p-53 }

// IntN returns a number in [0, n) for 0 < n < 2³², by Lemire's
// multiply-shift on 32 random bits (bias below n/2³², immaterial here).
func (r *rng) IntN(n int) int {
	return int(uint64(r.uint32()) * uint64(n) >> 32)
}

// chunkRows is the fixed number of rows per deterministic work chunk. It does
// not depend on the number of cores, so results are bit-identical on any
// machine.
const chunkRows = 128

// parallelChunks runs fn(chunk, lo, hi) over [0, n) cut into chunks of size
// rows, spread over the available cores. Chunks are fixed by n and size
// only; fn must write only to its own chunk's outputs.
func parallelChunks(n, size int, fn func(chunk, lo, hi int)) {
	if n <= 0 {
		return
	}
	chunks := (n + size - 1) / size
	workers := min(runtime.GOMAXPROCS(0), chunks)
	if workers <= 1 {
		for c := range chunks {
			fn(c, c*size, min(n, (c+1)*size))
		}
		return
	}
	var next sync.Mutex
	c := 0
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				next.Lock()
				my := c
				c++
				next.Unlock()
				if my >= chunks {
					return
				}
				fn(my, my*size, min(n, (my+1)*size))
			}
		})
	}
	wg.Wait()
}

// pipeline runs prepare(i) one step ahead of use(i) for i = 0..n−1:
// prepare(i+1) runs on its own goroutine while use(i) runs, so drawing and
// painting the next batch of perturbations overlaps the model's work on
// this one (a model seldom keeps every core busy). prepare(n), the tail,
// runs beside use(n−1). prepare(i+1) and use(i) must touch different
// buffers; prepare calls run one after another.
func pipeline(n int, prepare func(i int), use func(i int) error) error {
	if n <= 0 {
		return nil
	}
	prepare(0)
	for i := range n {
		var wg sync.WaitGroup
		wg.Go(func() { prepare(i + 1) })
		err := use(i)
		wg.Wait()
		if err != nil {
			return err
		}
	}
	return nil
}

// normQuantile is the standard normal inverse CDF Φ⁻¹(p) for p in (0, 1).
func normQuantile(p float64) float64 {
	return math.Sqrt2 * math.Erfinv(2*p-1)
}

// normCDF is the standard normal CDF Φ(x).
func normCDF(x float64) float64 {
	return 0.5 * math.Erfc(-x/math.Sqrt2)
}

// wyrand is Wang Yi's 64-bit generator: a Weyl sequence mixed by one
// 64×64→128-bit multiply. Its state advances by an addition, so draws do
// not wait on each other as PCG's 128-bit multiply does; the samplers use
// it, seeded from their PCG stream, for the millions of draws of their
// permutations.
type wyrand struct{ s uint64 }

func (w *wyrand) next() uint64 {
	w.s += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(w.s, w.s^0xe7037ed1a0b428db)
	return hi ^ lo
}

// shuffleF32 permutes s uniformly at random (Fisher–Yates) with a wyrand
// stream seeded from r, taking two indices from each 64-bit draw (Lemire's
// multiply-shift on 32 bits; bias below len(s)/2³²).
func shuffleF32(r *rng, s []float32) {
	w := wyrand{r.Uint64()}
	i := len(s) - 1
	for ; i >= 2; i -= 2 {
		x := w.next()
		j := int((x >> 32) * uint64(i+1) >> 32)
		s[i], s[j] = s[j], s[i]
		k := int((x & 0xffffffff) * uint64(i) >> 32)
		s[i-1], s[k] = s[k], s[i-1]
	}
	if i == 1 {
		j := int((w.next() >> 32) * 2 >> 32)
		s[1], s[j] = s[j], s[1]
	}
}

// shuffle permutes s in place with r (Fisher–Yates).
func shuffle[T any](r *rng, s []T) {
	for i := len(s) - 1; i > 0; i-- {
		j := r.IntN(i + 1)
		s[i], s[j] = s[j], s[i]
	}
}

// Scratch buffers of the samplers, reused across explanations so that a
// stream of explanations does not fault in and clear fresh memory each
// time. A buffer comes back with stale contents.
var (
	f32Pool sync.Pool // *[]float32
	u32Pool sync.Pool // *[]uint32
)

// poolSize rounds a buffer length up to a multiple of 16Ki elements, so
// buffers of nearby sizes (the blocks of one explanation, the explanations
// of one model) can stand in for each other.
func poolSize(n int) int { return (n + 1<<14 - 1) &^ (1<<14 - 1) }

// getF32 returns a []float32 of length n, reused when a free one is large
// enough.
func getF32(n int) []float32 {
	if b, ok := f32Pool.Get().(*[]float32); ok {
		if cap(*b) >= n {
			return (*b)[:n]
		}
		f32Pool.Put(b)
	}
	return make([]float32, n, poolSize(n))
}

// putF32 returns b for reuse (nil is ignored).
func putF32(b []float32) {
	if cap(b) > 0 {
		f32Pool.Put(&b)
	}
}

// getU32 returns a []uint32 of length n, reused when a free one is large
// enough.
func getU32(n int) []uint32 {
	if b, ok := u32Pool.Get().(*[]uint32); ok {
		if cap(*b) >= n {
			return (*b)[:n]
		}
		u32Pool.Put(b)
	}
	return make([]uint32, n, poolSize(n))
}

// putU32 returns b for reuse (nil is ignored).
func putU32(b []uint32) {
	if cap(b) > 0 {
		u32Pool.Put(&b)
	}
}
