//go:build !amd64 || purego

package kern

func archKernels() []*gemmKernel { return nil }

func saxpy(alpha float32, x, y []float32) { saxpyGo(alpha, x, y) }
func sdot(x, y []float32) float32         { return sdotGo(x, y) }
func sscal(alpha float32, x []float32)    { sscalGo(alpha, x) }
func vecName() string                     { return "purego" }

func packB16(d, b []float32, ldb int, transB bool, j, p0, kLen int) bool { return false }

func packA6(d, a []float32, lda, i, p0, kLen int) bool { return false }

func packA12(d, a []float32, lda, i, p0, kLen int) bool { return false }

func packB32(d, b []float32, ldb int, transB bool, j, p0, kLen int) bool { return false }

func gemvRows(x, b []float32, ldb int, y []float32) bool { return false }

func hasGemv() bool { return false }
