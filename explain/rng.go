package explain

import (
	"math"
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

// normQuantile is the standard normal inverse CDF Φ⁻¹(p) for p in (0, 1).
func normQuantile(p float64) float64 {
	return math.Sqrt2 * math.Erfinv(2*p-1)
}

// normCDF is the standard normal CDF Φ(x).
func normCDF(x float64) float64 {
	return 0.5 * math.Erfc(-x/math.Sqrt2)
}

// shuffle permutes s in place with r (Fisher–Yates).
func shuffle[T any](r *rng, s []T) {
	for i := len(s) - 1; i > 0; i-- {
		j := r.IntN(i + 1)
		s[i], s[j] = s[j], s[i]
	}
}
