package tensor

// fillFloat sets every element of d to v by doubling copies (memmove's
// wide stores instead of one scalar store per element).
func fillFloat(d []float32, v float32) {
	if len(d) == 0 {
		return
	}
	d[0] = v
	for n := 1; n < len(d); n *= 2 {
		copy(d[n:], d[:n])
	}
}
