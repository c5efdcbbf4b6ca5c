package tensor

import "math/rand/v2"

// NewRNG returns a deterministic random source for the given seed. glassbox
// has no global random state: every function that draws random numbers
// takes one of these, so one seed gives the same numbers on every run.
func NewRNG(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// RandN returns a tensor of normal samples with the given mean and standard
// deviation drawn from rng.
func RandN(rng *rand.Rand, mean, std float32, shape ...int) *Tensor {
	t := New(shape...)
	for i := range t.data {
		t.data[i] = mean + std*float32(rng.NormFloat64())
	}
	return t
}

// RandU returns a tensor of uniform samples in [lo, hi) drawn from rng.
func RandU(rng *rand.Rand, lo, hi float32, shape ...int) *Tensor {
	t := New(shape...)
	for i := range t.data {
		t.data[i] = lo + (hi-lo)*rng.Float32()
	}
	return t
}
