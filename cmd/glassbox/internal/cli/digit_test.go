package cli

import (
	"context"
	"image/png"
	"os"
	"testing"

	"github.com/glassbox-ml/glassbox/datasets"
)

// writeTestDigit writes the first embedded MNIST test digit (a 7) as PNG.
func writeTestDigit(t *testing.T, path string) {
	t.Helper()
	ds, err := datasets.Load(context.Background(), "mnist-small", datasets.Options{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, ds.Test.ToImage(0)); err != nil {
		t.Fatal(err)
	}
}
