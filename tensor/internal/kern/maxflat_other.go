//go:build !amd64 || purego

package kern

func maxFlatAsm(dst, src []float32, offs []int32) (sawNaN, ok bool) { return false, false }

// MaxFlatFast reports whether MaxFlat runs an assembly kernel here: never
// without amd64 assembly.
func MaxFlatFast() bool { return false }
