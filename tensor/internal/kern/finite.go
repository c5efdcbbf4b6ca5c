package kern

// AllFinite reports whether d holds no NaN and no ±Inf. An optimiser asks
// it of every gradient before every step (a single NaN would otherwise
// spread through the weights), so it runs at memory speed: x − x is 0 for
// every finite x and NaN for NaN and ±Inf, and a sum of those stays NaN
// once it is, so one branch-free pass of subtractions and adds answers.
func AllFinite(d []float32) bool {
	if len(d) == 0 {
		return true
	}
	if ok, done := allFiniteAsm(d); done {
		return ok
	}
	return allFiniteGo(d)
}

func allFiniteGo(d []float32) bool {
	var a0, a1, a2, a3 float32
	i := 0
	for ; i+4 <= len(d); i += 4 {
		a0 += d[i] - d[i]
		a1 += d[i+1] - d[i+1]
		a2 += d[i+2] - d[i+2]
		a3 += d[i+3] - d[i+3]
	}
	for ; i < len(d); i++ {
		a0 += d[i] - d[i]
	}
	return a0+a1+a2+a3 == 0
}
