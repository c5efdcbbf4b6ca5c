// Package layering holds no code. Its test reads the imports of every
// package in the module with go/build and fails when one crosses the
// kernel seam: only tensor may reach the kernels (tensor/internal/kern),
// and the layers just above it import only downward.
package layering
