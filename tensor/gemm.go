package tensor

// gemm and gemmSerial are the seam to the CPU kernels: every matrix product
// in glassbox goes through them. A GPU backend would swap these (and the
// convolution helpers) without any layer noticing.
var (
	gemm       = refGemm
	gemmSerial = refGemm
)

// refGemm is a plain reference GEMM, used until internal/kern lands.
func refGemm(ta, tb bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
		} else if beta != 1 {
			for j := range row {
				row[j] *= beta
			}
		}
		for p := 0; p < k; p++ {
			var av float32
			if ta {
				av = a[p*lda+i]
			} else {
				av = a[i*lda+p]
			}
			av *= alpha
			if tb {
				for j := range row {
					row[j] += av * b[j*ldb+p]
				}
			} else {
				br := b[p*ldb : p*ldb+n]
				for j := range row {
					row[j] += av * br[j]
				}
			}
		}
	}
}
