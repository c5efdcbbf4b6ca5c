//go:build !amd64 || purego

package kern

func indTile(rows, k int, a, src []float32, offs []int32, c []float32, ldc int) bool { return false }

func packB16Rows(d, b []float32, offs []int32, p0, kLen int) bool { return false }
