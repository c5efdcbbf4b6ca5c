package tensor

import "github.com/glassbox-ml/glassbox/tensor/internal/kern"

// gemm and gemmSerial are the seam to the CPU kernels: every matrix product
// in glassbox goes through them. A GPU backend would swap these (and the
// convolution helpers) without any layer noticing.
var (
	gemm       = kern.Sgemm
	gemmSerial = kern.SgemmSerial
	// gemmIndirect multiplies by a matrix whose rows are runs of a padded
	// image: the implicit im2col of stride-1 convolutions.
	gemmIndirect       = kern.SgemmIndirectB
	gemmIndirectSerial = kern.SgemmIndirectBSerial
	// gemmIndirectT multiplies by the transpose of such a matrix (the
	// weight gradient, dy·colsᵀ).
	gemmIndirectT       = kern.SgemmIndirectBT
	gemmIndirectTSerial = kern.SgemmIndirectBTSerial
)
