package data

import (
	"context"
	"testing"

	"github.com/glassbox-ml/glassbox/datasets"
)

func TestFromEmbeddedDatasets(t *testing.T) {
	ds, err := datasets.Load(context.Background(), "iris", datasets.Options{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	tab, err := FromTable(ds.Table)
	if err != nil {
		t.Fatal(err)
	}
	if tab.Len() != 150 || tab.XShape()[0] != 4 {
		t.Fatalf("iris as %d × %v", tab.Len(), tab.XShape())
	}
	mn, err := datasets.Load(context.Background(), "mnist-small", datasets.Options{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	im, err := FromImages(mn.Test)
	if err != nil {
		t.Fatal(err)
	}
	if im.Len() != 2000 || im.XShape()[1] != 28 {
		t.Fatalf("mnist-small test as %d × %v", im.Len(), im.XShape())
	}
	if _, err := FromSequences([]int{1, 2, 3}, 2, []int{0}); err == nil {
		t.Fatal("ragged sequences accepted")
	}
	sq, err := FromSequences([]int{1, 2, 3, 4}, 2, []int{0, 1})
	if err != nil || sq.X.At(1, 0) != 3 || sq.Y.At(1) != 1 {
		t.Fatalf("sequences: %v %v", sq, err)
	}
}
