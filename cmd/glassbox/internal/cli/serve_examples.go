package cli

import (
	"github.com/glassbox-ml/glassbox/predictor"
	"github.com/glassbox-ml/glassbox/tensor"
)

// maxServeExamples bounds the test inputs serve keeps for its page's "load
// a test row": enough to browse, little memory (500 MNIST digits: 1.5 MiB).
const maxServeExamples = 500

// serveExamples returns up to maxServeExamples inputs of the model's test
// split (the data it never saw) and their targets (nil unless there is one
// number per example), for serve.Options; nil without data (d nil): the
// page then offers a table's training rows, or nothing.
func serveExamples(d *predictor.Data) (rows, targets []float32) {
	if d == nil || d.Test == nil || d.Test.Len() == 0 {
		return nil, nil
	}
	n := min(d.Test.Len(), maxServeExamples)
	dx, dy := tensor.Numel(d.Test.XShape()), tensor.Numel(d.Test.YShape())
	rows, y := make([]float32, n*dx), make([]float32, n*dy)
	for i := range n {
		d.Test.Read(i, rows[i*dx:(i+1)*dx], y[i*dy:(i+1)*dy])
	}
	if dy == 1 {
		targets = y
	}
	return rows, targets
}
