//go:build !amd64 || purego

package kern

func allFiniteAsm(d []float32) (ok, done bool) { return false, false }
