package data

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/glassbox-ml/glassbox/tensor"
)

func toy(n, d int) *Tensors {
	x := tensor.Arange(0, 1, n*d).Reshape(n, d)
	y := tensor.Arange(0, 1, n)
	ds, err := NewTensors(x, y)
	if err != nil {
		panic(err)
	}
	return ds
}

func epochIndices(l *Loader, epoch int) [][]int {
	var out [][]int
	for b := range l.Batches(context.Background(), epoch) {
		out = append(out, slices.Clone(b.Index))
		// X rows and Y must belong to the same example.
		d := b.X.Shape()[1]
		for i, ix := range b.Index {
			if b.X.At(i, 0) != float32(ix*d) || b.Y.At(i) != float32(ix) {
				panic("batch rows do not match their indices")
			}
		}
	}
	return out
}

func TestSameSeedSameBatches(t *testing.T) {
	ds := toy(103, 3)
	mk := func(seed uint64) *Loader {
		l, err := NewLoader(ds, Options{BatchSize: 10, Shuffle: true, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	a, b := epochIndices(mk(7), 0), epochIndices(mk(7), 0)
	if !slices.EqualFunc(a, b, slices.Equal) {
		t.Fatal("same seed gave different batches")
	}
	if c := epochIndices(mk(7), 1); slices.EqualFunc(a, c, slices.Equal) {
		t.Fatal("epochs 0 and 1 have the same order")
	}
	if c := epochIndices(mk(8), 0); slices.EqualFunc(a, c, slices.Equal) {
		t.Fatal("different seeds gave the same order")
	}
	// Every example exactly once, last batch short.
	var all []int
	for _, bt := range a {
		all = append(all, bt...)
	}
	slices.Sort(all)
	for i, v := range all {
		if v != i {
			t.Fatalf("example %d missing or repeated", i)
		}
	}
	if len(a) != 11 || len(a[10]) != 3 {
		t.Fatalf("%d batches, last of %d", len(a), len(a[len(a)-1]))
	}
}

func TestDropLastAndNoPrefetch(t *testing.T) {
	l, _ := NewLoader(toy(25, 2), Options{BatchSize: 10, DropLast: true, Prefetch: -1})
	got := epochIndices(l, 0)
	if len(got) != 2 || l.Len() != 2 {
		t.Fatalf("drop-last gave %d batches", len(got))
	}
	if got[0][0] != 0 || got[1][9] != 19 {
		t.Fatal("unshuffled order changed")
	}
}

func TestEarlyBreakAndCancel(t *testing.T) {
	l, _ := NewLoader(toy(1000, 2), Options{BatchSize: 10})
	n := 0
	for range l.Batches(context.Background(), 0) {
		n++
		if n == 3 {
			break
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := 0
	for range l.Batches(ctx, 0) {
		m++
	}
	if m != 0 {
		t.Fatalf("cancelled loader produced %d batches", m)
	}
}

func TestSplitAndStandardizer(t *testing.T) {
	ds := toy(100, 2)
	tr, va, err := Split(ds, 0.2, 1)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Len() != 80 || va.Len() != 20 {
		t.Fatalf("split %d/%d", tr.Len(), va.Len())
	}
	seen := map[int]bool{}
	for _, i := range append(slices.Clone(tr.Indices), va.Indices...) {
		if seen[i] {
			t.Fatalf("index %d in both parts", i)
		}
		seen[i] = true
	}
	s, err := FitStandardizer(tr)
	if err != nil {
		t.Fatal(err)
	}
	x, _ := Materialize(tr)
	d := x.Data()
	s.Apply(d)
	var sum, sq float64
	for i := 0; i < len(d); i += 2 {
		sum += float64(d[i])
		sq += float64(d[i]) * float64(d[i])
	}
	n := float64(len(d) / 2)
	if math.Abs(sum/n) > 1e-4 || math.Abs(sq/n-1) > 1e-3 {
		t.Fatalf("standardised train feature: mean %v, var %v", sum/n, sq/n)
	}
	if _, _, err := Split(ds, 1.5, 1); err == nil {
		t.Fatal("fraction 1.5 accepted")
	}
	// Constant feature: no NaN.
	c, _ := FromSlices([]float32{5, 5, 5}, []int{1}, []float32{0, 1, 2})
	sc, _ := FitStandardizer(c)
	v := []float32{5}
	sc.Apply(v)
	if v[0] != 0 {
		t.Fatalf("constant feature standardised to %v", v[0])
	}
}

func TestEncodersAndErrors(t *testing.T) {
	oh, err := OneHot([]int{2, 0}, 3)
	if err != nil || oh.At(0, 2) != 1 || oh.At(1, 0) != 1 || oh.At(0, 0) != 0 {
		t.Fatalf("one-hot %v %v", oh, err)
	}
	if _, err := OneHot([]int{3}, 3); err == nil {
		t.Fatal("label 3 of 3 classes accepted")
	}
	var e LabelEncoder
	if got := e.Encode([]string{"b", "a", "b"}); !slices.Equal(got, []int{0, 1, 0}) || !slices.Equal(e.Classes, []string{"b", "a"}) {
		t.Fatalf("encode %v classes %v", got, e.Classes)
	}
	if _, err := FromSlices(make([]float32, 7), []int{2}, nil); err == nil {
		t.Fatal("7 values into pairs accepted")
	}
	if _, err := NewTensors(tensor.New(3, 2), tensor.New(4)); err == nil {
		t.Fatal("3 inputs with 4 targets accepted")
	}
}

func TestRandomShiftReproducible(t *testing.T) {
	x := tensor.RandU(tensor.NewRNG(1), 0, 1, 8, 1, 6, 6)
	ds, _ := NewTensors(x, tensor.New(8))
	run := func() []float32 {
		l, _ := NewLoader(ds, Options{BatchSize: 8, Seed: 3, Transforms: []Transform{RandomShift(2)}})
		var out []float32
		for b := range l.Batches(context.Background(), 0) {
			out = slices.Clone(b.X.Data())
		}
		return out
	}
	a, b := run(), run()
	if !slices.Equal(a, b) {
		t.Fatal("augmentation differs between runs with the same seed")
	}
	if slices.Equal(a, x.Data()) {
		t.Fatal("augmentation changed nothing")
	}
}

func BenchmarkLoaderMNISTShaped(b *testing.B) {
	x := tensor.RandU(tensor.NewRNG(1), 0, 1, 12000, 1, 28, 28)
	ds, _ := NewTensors(x, tensor.New(12000))
	l, _ := NewLoader(ds, Options{BatchSize: 128, Shuffle: true})
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		for range l.Batches(context.Background(), i) {
			n++
		}
	}
	b.ReportMetric(float64(n*128)/b.Elapsed().Seconds(), "samples/s")
}
