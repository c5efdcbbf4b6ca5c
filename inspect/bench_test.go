package inspect

import (
	"context"
	"testing"

	"github.com/glassbox-ml/glassbox/datasets"
)

// BenchmarkFitPCAMNIST projects 1,000 MNIST test digits (784 dimensions) to
// two components, as glassbox inspect does for the input.
func BenchmarkFitPCAMNIST(b *testing.B) {
	ds, err := datasets.Load(context.Background(), "mnist-small", datasets.Options{Offline: true})
	if err != nil {
		b.Fatal(err)
	}
	const n, d = 1000, 784
	x := make([]float64, n*d)
	for i := range x {
		x[i] = float64(ds.Test.Pixels[i])
	}
	var it int
	for b.Loop() {
		p, err := FitPCA(x, n, d, 2)
		if err != nil {
			b.Fatal(err)
		}
		it = p.Iterations
	}
	b.ReportMetric(float64(it), "iterations")
}
