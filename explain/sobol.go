package explain

import "math/bits"

// sobolDim is one coordinate of a scrambled Sobol' sequence: its 32
// direction numbers after a random linear matrix scramble, and a random
// digital shift (Matoušek's LMS + shift, a randomised quasi-Monte Carlo
// rule). Every point of a scrambled sequence is uniform on [0, 1), and the
// points are spread more evenly than independent draws: each block of 2^m
// consecutive points puts its share in every elementary interval of the
// coordinate and, with the Joe–Kuo direction numbers, of most pairs of
// coordinates. Averages of functions with low-order interactions (a
// surrogate's sufficient statistics) then vary less from seed to seed than
// with independent draws.
type sobolDim struct {
	v     [32]uint32
	shift uint32
}

// newSobolDim returns coordinate j (< sobolDims) of the Sobol' sequence,
// scrambled with bits from r.
func newSobolDim(j int, r *rng) sobolDim {
	var m [33]uint32 // m[k], k = 1..32: the odd integers m_k < 2^k
	init := sobolInit[j]
	poly := uint32(init[0])
	s := bits.Len32(poly) - 1
	if s == 0 {
		for k := 1; k <= 32; k++ {
			m[k] = 1
		}
	} else {
		for k := 1; k <= s; k++ {
			m[k] = uint32(init[k])
		}
		// Bratley and Fox's recurrence: m_k = 2a₁m_{k−1} ⊕ … ⊕
		// 2^{s−1}a_{s−1}m_{k−s+1} ⊕ 2^s m_{k−s} ⊕ m_{k−s}.
		for k := s + 1; k <= 32; k++ {
			x := m[k-s] ^ m[k-s]<<s
			for i := 1; i < s; i++ {
				if poly>>(s-i)&1 == 1 {
					x ^= m[k-i] << i
				}
			}
			m[k] = x
		}
	}
	// The scramble: output digit l (bit 32−l) is the parity of the input
	// digits selected by row l of a random lower-triangular matrix with a
	// unit diagonal (digit l and random digits above it).
	var rows [32]uint32
	for l := range rows {
		bit := uint32(1) << (31 - l)
		above := ^(bit<<1 - 1) // the more significant digits
		rows[l] = bit | uint32(r.Uint64())&above
	}
	d := sobolDim{shift: uint32(r.Uint64())}
	for k := 1; k <= 32; k++ {
		v := m[k] << (32 - k)
		var sv uint32
		for l, row := range rows {
			sv |= uint32(bits.OnesCount32(v&row)&1) << (31 - l)
		}
		d.v[k-1] = sv
	}
	return d
}

// at returns point i of the coordinate (Gray-code order: the point is the
// XOR of the directions of the bits set in i ⊕ i>>1). The sequence has 2³²
// points; past them the directions are reused (index bits mod 32), which
// keeps every point uniform but no longer spread evenly.
func (d *sobolDim) at(i uint64) uint32 {
	x := d.shift
	for g := i ^ i>>1; g != 0; g &= g - 1 {
		x ^= d.v[bits.TrailingZeros64(g)&31]
	}
	return x
}

// fill writes points start..start+len(out)−1 of the coordinate into out
// as numbers in (0, 1): each is its 32 digits plus half a unit in the last
// place, so it is never 0 or 1.
func (d *sobolDim) fill(start uint64, out []float64) {
	if len(out) == 0 {
		return
	}
	x := d.at(start)
	for i := range out {
		if i > 0 {
			// Consecutive points in Gray-code order differ by one
			// direction: the lowest set bit of the index.
			x ^= d.v[bits.TrailingZeros64(start+uint64(i))&31]
		}
		out[i] = (float64(x) + 0.5) * 0x1p-32
	}
}
