package tensor

import (
	"math"
	"strings"
	"testing"
)

func seq(shape ...int) *Tensor { return Arange(0, 1, Numel(shape)).Reshape(shape...) }

func wantData(t *testing.T, got *Tensor, shape []int, want []float32) {
	t.Helper()
	if !SameShape(got.Shape(), shape) {
		t.Fatalf("shape %v, want %v", got.Shape(), shape)
	}
	d := got.Data()
	for i := range want {
		if math.Abs(float64(d[i]-want[i])) > 1e-5 {
			t.Fatalf("data %v, want %v", d, want)
		}
	}
}

func TestBroadcastKnownAnswers(t *testing.T) {
	a := seq(2, 3) // [[0 1 2] [3 4 5]]
	wantData(t, Add(a, MustFromSlice([]float32{10, 20, 30}, 3)), []int{2, 3}, []float32{10, 21, 32, 13, 24, 35})
	wantData(t, Mul(a, MustFromSlice([]float32{2, -1}, 2, 1)), []int{2, 3}, []float32{0, 2, 4, -3, -4, -5})
	wantData(t, Sub(MustFromSlice([]float32{1, 2}, 2, 1), MustFromSlice([]float32{1, 2, 3}, 1, 3)), []int{2, 3}, []float32{0, -1, -2, 1, 0, -1})
	wantData(t, Div(a, Scalar(2)), []int{2, 3}, []float32{0, .5, 1, 1.5, 2, 2.5})
	// Non-contiguous operand: a transposed view broadcast against a column.
	wantData(t, Add(a.Transpose(), MustFromSlice([]float32{100, 200, 300}, 3, 1)), []int{3, 2}, []float32{100, 103, 201, 204, 302, 305})
	if _, ok := BroadcastShapes([]int{2, 3}, []int{4}); ok {
		t.Fatal("[2 3] and [4] must not broadcast")
	}
}

func TestViews(t *testing.T) {
	a := seq(2, 3, 4)
	tr := a.Transpose(2, 0, 1)
	if tr.IsContiguous() {
		t.Fatal("permuted view reported contiguous")
	}
	if got := tr.At(3, 1, 2); got != a.At(1, 2, 3) {
		t.Fatalf("transpose At = %v, want %v", got, a.At(1, 2, 3))
	}
	s := a.Slice(1, 1, 3)
	wantData(t, s.Row(0), []int{2, 4}, []float32{4, 5, 6, 7, 8, 9, 10, 11})
	// A view shares storage: writing through it changes the base.
	s.Set(-1, 0, 0, 0)
	if a.At(0, 1, 0) != -1 {
		t.Fatal("slice does not share storage")
	}
	r := a.Reshape(4, -1)
	if !SameShape(r.Shape(), []int{4, 6}) {
		t.Fatalf("reshape inferred %v", r.Shape())
	}
	// Reshape of a non-contiguous view copies the elements in logical order.
	rt := seq(2, 3).Transpose().Reshape(6)
	wantData(t, rt, []int{6}, []float32{0, 3, 1, 4, 2, 5})
	dst := New(3, 4)
	dst.Slice(1, 1, 3).Assign(MustFromSlice([]float32{1, 2, 3, 4, 5, 6}, 3, 2))
	wantData(t, dst, []int{3, 4}, []float32{0, 1, 2, 0, 0, 3, 4, 0, 0, 5, 6, 0})
}

func TestReductions(t *testing.T) {
	a := seq(2, 3, 4)
	wantData(t, Sum(a, false), []int{}, []float32{276})
	wantData(t, Sum(a, false, 0), []int{3, 4}, []float32{12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34})
	wantData(t, Sum(a, true, 1), []int{2, 1, 4}, []float32{12, 15, 18, 21, 48, 51, 54, 57})
	wantData(t, Mean(a, false, -1), []int{2, 3}, []float32{1.5, 5.5, 9.5, 13.5, 17.5, 21.5})
	wantData(t, Var(MustFromSlice([]float32{1, 2, 3, 4}, 4), false), []int{}, []float32{1.25})
	m := MustFromSlice([]float32{1, 9, 3, 7, 2, 8}, 2, 3)
	wantData(t, Max(m, 1, false), []int{2}, []float32{9, 8})
	if got := ArgMax(m, 1); got[0] != 1 || got[1] != 2 {
		t.Fatalf("ArgMax rows = %v", got)
	}
	if got := ArgMax(m, 0); got[0] != 1 || got[1] != 0 || got[2] != 1 {
		t.Fatalf("ArgMax cols = %v", got)
	}
	wantData(t, SumTo(Ones(2, 3, 4), []int{3, 1}), []int{3, 1}, []float32{8, 8, 8})
}

func naiveMatMul(a, b *Tensor) []float64 {
	m, k, n := a.Dim(0), a.Dim(1), b.Dim(1)
	out := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				s += float64(a.At(i, p)) * float64(b.At(p, j))
			}
			out[i*n+j] = s
		}
	}
	return out
}

func TestMatMulOddShapes(t *testing.T) {
	rng := NewRNG(7)
	for _, s := range [][3]int{{1, 1, 1}, {7, 13, 5}, {37, 41, 43}, {1, 300, 3}, {200, 3, 7}, {64, 784, 33}} {
		m, k, n := s[0], s[1], s[2]
		a := RandN(rng, 0, 1, m, k)
		b := RandN(rng, 0, 1, k, n)
		check := func(name string, got *Tensor) {
			want := naiveMatMul(a, b)
			tol := 1e-4 * math.Sqrt(float64(k))
			for i, v := range got.Data() {
				if math.Abs(float64(v)-want[i]) > tol*(1+math.Abs(want[i])) {
					t.Fatalf("%s %v: element %d = %v, want %v", name, s, i, v, want[i])
				}
			}
		}
		check("plain", MatMul(a, b))
		// The same product through transposed views (no copy on the way in).
		check("transposed", MatMul(a.Transpose().Contiguous().Transpose(), b.Transpose().Contiguous().Transpose()))
	}
	// Batched with a shared right operand equals per-item products.
	a := RandN(rng, 0, 1, 3, 4, 5)
	b := RandN(rng, 0, 1, 5, 2)
	got := MatMul(a, b)
	for i := 0; i < 3; i++ {
		if !AllClose(got.Row(i).Contiguous(), MatMul(a.Row(i), b), 1e-5, 1e-5) {
			t.Fatalf("batch item %d differs", i)
		}
	}
}

func TestSoftmaxStable(t *testing.T) {
	x := MustFromSlice([]float32{1000, 1001, 1002, -1000, 0, 1000}, 2, 3)
	p := Softmax(x, -1)
	for r := 0; r < 2; r++ {
		var s float64
		for c := 0; c < 3; c++ {
			v := p.At(r, c)
			if math.IsNaN(float64(v)) {
				t.Fatal("softmax produced NaN on large logits")
			}
			s += float64(v)
		}
		if math.Abs(s-1) > 1e-6 {
			t.Fatalf("row %d sums to %v", r, s)
		}
	}
	lp := LogSoftmax(x, -1)
	if v := lp.At(1, 0); math.IsInf(float64(v), 0) || math.Abs(float64(v)+2000) > 1e-2 {
		t.Fatalf("log-softmax of a -2000 gap = %v, want ≈ -2000", v)
	}
	// Along a non-last axis.
	p0 := Softmax(x, 0)
	if s := p0.At(0, 1) + p0.At(1, 1); math.Abs(float64(s)-1) > 1e-6 {
		t.Fatalf("column sums to %v", s)
	}
}

func TestJoinAndGather(t *testing.T) {
	a, b := seq(2, 2), Full(9, 2, 1)
	wantData(t, Concat(1, a, b), []int{2, 3}, []float32{0, 1, 9, 2, 3, 9})
	wantData(t, Stack(0, a, a), []int{2, 2, 2}, []float32{0, 1, 2, 3, 0, 1, 2, 3})
	emb := seq(4, 2)
	wantData(t, IndexSelect(emb, 0, []int{3, 0, 3}), []int{3, 2}, []float32{6, 7, 0, 1, 6, 7})
	g := New(4, 2)
	IndexAdd(g, 0, []int{3, 0, 3}, Ones(3, 2))
	wantData(t, g, []int{4, 2}, []float32{1, 1, 0, 0, 0, 0, 2, 2})
}

func TestShapeErrors(t *testing.T) {
	cases := map[string]func(){
		"[2 3] and [4]":        func() { Add(New(2, 3), New(4)) },
		"inner dimensions":     func() { MatMul(New(2, 3), New(4, 5)) },
		"axis 2 out of range":  func() { Sum(New(2, 3), false, 2) },
		"cannot reshape [2 3]": func() { New(2, 3).Reshape(4, 2) },
		"index 5 out of range": func() { IndexSelect(New(3, 2), 0, []int{5}) },
	}
	for want, fn := range cases {
		err := Catch(fn)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want error containing %q, got %v", want, err)
		}
	}
	if _, err := FromSlice(make([]float32, 5), 2, 3); err == nil || !strings.Contains(err.Error(), "needs 6 values, got 5") {
		t.Errorf("FromSlice length mismatch: %v", err)
	}
	// Catch must not swallow real bugs.
	defer func() {
		if recover() == nil {
			t.Fatal("Catch swallowed a non-shape panic")
		}
	}()
	_ = Catch(func() { panic("bug") })
}

func TestDeterministicRandom(t *testing.T) {
	a := RandN(NewRNG(42), 0, 1, 100)
	b := RandN(NewRNG(42), 0, 1, 100)
	c := RandN(NewRNG(43), 0, 1, 100)
	if !AllClose(a, b, 0, 0) {
		t.Fatal("same seed gave different numbers")
	}
	if AllClose(a, c, 0, 0) {
		t.Fatal("different seeds gave the same numbers")
	}
}

func TestParallelLargeElementwise(t *testing.T) {
	n := 1 << 18
	a := Arange(0, 1, n)
	got := Add(a, a).Data()
	for i := 0; i < n; i += 997 {
		if got[i] != float32(2*i) {
			t.Fatalf("element %d = %v", i, got[i])
		}
	}
}

// Products with an empty dimension: the right shapes, zeros where the
// inner dimension is empty, and no panic from the kernel.
func TestMatMulEmptyDimensions(t *testing.T) {
	for _, c := range [][3][]int{
		{{2, 3, 5}, {5, 0}, {2, 3, 0}},
		{{2, 0, 5}, {5, 4}, {2, 0, 4}},
		{{0, 3, 5}, {5, 4}, {0, 3, 4}},
		{{2, 3, 0}, {0, 4}, {2, 3, 4}},
		{{3, 0}, {0, 2}, {3, 2}},
		{{2, 3, 0}, {2, 0, 4}, {2, 3, 4}},
	} {
		var y *Tensor
		if err := Catch(func() { y = MatMul(Full(1, c[0]...), Full(1, c[1]...)) }); err != nil {
			t.Fatalf("%v · %v: %v", c[0], c[1], err)
		}
		if !SameShape(y.Shape(), c[2]) {
			t.Fatalf("%v · %v: shape %v, want %v", c[0], c[1], y.Shape(), c[2])
		}
		for _, v := range y.Data() {
			if v != 0 {
				t.Fatalf("%v · %v: %v, want zeros (an empty sum)", c[0], c[1], y.Data())
			}
		}
	}
}

// TestIndexSelectOfView checks IndexSelect on a non-contiguous view (a
// transposed tensor, as an imported sequence model takes its last step
// from) against the same selection from the view's contiguous copy, on
// every axis, with repeated and out-of-order indices; and that a bad index
// still panics.
func TestIndexSelectOfView(t *testing.T) {
	x := RandN(NewRNG(3), 0, 1, 4, 5, 6)
	v := x.Transpose() // [6, 5, 4], not contiguous
	if v.IsContiguous() {
		t.Fatal("the test needs a non-contiguous view")
	}
	c := v.Contiguous()
	for axis := 0; axis < 3; axis++ {
		idx := []int{v.Dim(axis) - 1, 0, 1, 0}
		got, want := IndexSelect(v, axis, idx), IndexSelect(c, axis, idx)
		if !SameShape(got.Shape(), want.Shape()) || !bitsEqual(got.Data(), want.Data()) {
			t.Fatalf("axis %d: IndexSelect of the view differs from that of its copy", axis)
		}
	}
	defer func() {
		if recover() == nil {
			t.Fatal("an index past the axis did not panic")
		}
	}()
	IndexSelect(v, 1, []int{5})
}

// TestSelect checks Select against the same view made by moving the axis
// to the front and taking a row, on every axis of 2- to 5-D tensors.
func TestSelect(t *testing.T) {
	rng := NewRNG(5)
	for _, shape := range [][]int{{3, 4}, {2, 5, 3}, {2, 3, 4, 5}, {2, 1, 3, 2, 2}} {
		x := RandN(rng, 0, 1, shape...)
		for a := range shape {
			perm := []int{a}
			for j := range shape {
				if j != a {
					perm = append(perm, j)
				}
			}
			for i := 0; i < shape[a]; i++ {
				want := x.Transpose(perm...).Row(i)
				for _, axis := range []int{a, a - len(shape)} {
					got := x.Select(axis, i)
					if !SameShape(got.Shape(), want.Shape()) || !bitsEqual(got.Data(), want.Data()) {
						t.Fatalf("shape %v axis %d index %d: %v, want %v", shape, axis, i, got.Shape(), want.Shape())
					}
				}
			}
		}
	}
	// A view of a view: a time step of a transposed sequence.
	seq := RandN(rng, 0, 1, 4, 3, 2).Transpose(1, 0, 2)
	if got, want := seq.Select(1, 2), seq.Transpose(1, 0, 2).Row(2); !bitsEqual(got.Data(), want.Data()) {
		t.Fatal("Select of a transposed view differs")
	}
	if err := Catch(func() { RandN(rng, 0, 1, 2, 3).Select(1, 3) }); err == nil {
		t.Fatal("an index out of range was accepted")
	}
	if err := Catch(func() { RandN(rng, 0, 1, 2, 3).Select(2, 0) }); err == nil {
		t.Fatal("an axis out of range was accepted")
	}
}

// Contiguous copies strided views element for element: permutations that
// keep the last axis in place (whole rows copied as blocks) and ones that
// move it.
func TestContiguousOfViews(t *testing.T) {
	x := Arange(0, 1, 2*3*4*5).Reshape(2, 3, 4, 5)
	for _, perm := range [][]int{{1, 0, 2, 3}, {2, 0, 1, 3}, {0, 1, 3, 2}, {3, 2, 1, 0}} {
		v := x.Transpose(perm...)
		c := v.Contiguous()
		if !c.IsContiguous() || !SameShape(c.Shape(), v.Shape()) {
			t.Fatalf("perm %v: shape %v contiguous %v", perm, c.Shape(), c.IsContiguous())
		}
		sh := v.Shape()
		i := 0
		for a := 0; a < sh[0]; a++ {
			for b := 0; b < sh[1]; b++ {
				for cc := 0; cc < sh[2]; cc++ {
					for d := 0; d < sh[3]; d++ {
						idx := make([]int, 4)
						got := []int{a, b, cc, d}
						for j, p := range perm {
							idx[p] = got[j]
						}
						if want := x.At(idx...); c.Data()[i] != want {
							t.Fatalf("perm %v: element %v = %v, want %v", perm, got, c.Data()[i], want)
						}
						i++
					}
				}
			}
		}
	}
}
