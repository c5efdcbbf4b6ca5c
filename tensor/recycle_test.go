package tensor

import (
	"math"
	"testing"
	"unsafe"
)

func TestSizeClasses(t *testing.T) {
	prev := 0
	for c := 0; c < 4*40; c++ {
		s := classSize(c)
		if s < prev {
			t.Fatalf("class %d size %d below class %d's %d", c, s, c-1, prev)
		}
		if s > prev && classDown(s) != c {
			t.Fatalf("classDown(%d) = %d, want %d", s, classDown(s), c)
		}
		prev = s
	}
	for n := 1; n < 1<<20; n = n*5/4 + 1 {
		up, down := classUp(n), classDown(n)
		if classSize(up) < n || classSize(down) > n {
			t.Fatalf("n=%d: classUp %d (size %d), classDown %d (size %d)", n, up, classSize(up), down, classSize(down))
		}
		if n >= recycleMin && float64(classSize(up)) > 1.25*float64(n) {
			t.Fatalf("n=%d: class size %d wastes more than a fifth", n, classSize(up))
		}
	}
}

func base(t *Tensor) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(t.data))) }

// reused reports whether a New of t's shape, after Recycle(dead, keep),
// gets t's memory back. sync.Pool may drop a Put (it does at random under
// the race detector), so a reuse is looked for over several tries.
func reusedAfter(t *Tensor, dead, keep func() []*Tensor) bool {
	for try := 0; try < 20; try++ {
		Recycle(dead(), keep())
		n := New(t.Shape()...)
		if base(n) == base(t) {
			return true
		}
	}
	return false
}

func TestRecycleReusesAndZeroes(t *testing.T) {
	a := New(64, 100)
	for i := range a.data {
		a.data[i] = 7
	}
	addr := base(a)
	var got *Tensor
	for try := 0; try < 20 && got == nil; try++ {
		Recycle([]*Tensor{a}, nil)
		if n := New(80, 80); base(n) == addr { // same class, another shape
			got = n
		}
	}
	if got == nil {
		t.Fatal("a recycled buffer was never handed out again")
	}
	for i, v := range got.data {
		if v != 0 {
			t.Fatalf("recycled tensor not zeroed: [%d] = %v", i, v)
		}
	}
}

func TestRecycleKeepsWhatOverlapsKeep(t *testing.T) {
	buf := New(64, 100)
	// A kept view (a parameter that is a view of an op's output, say) holds
	// the buffer even though its owner is dead.
	view := buf.Reshape(100, 64)
	if reusedAfter(buf, func() []*Tensor { return []*Tensor{buf} }, func() []*Tensor { return []*Tensor{view} }) {
		t.Fatal("storage shared with a kept view was handed out")
	}
	// A kept view that starts inside the storage (resliced data).
	row := buf.Slice(0, 10, 64).Contiguous()
	if reusedAfter(buf, func() []*Tensor { return []*Tensor{buf} }, func() []*Tensor { return []*Tensor{row} }) {
		t.Fatal("storage shared with a kept tensor through a resliced view was handed out")
	}
	// The owner kept, its view dead.
	if reusedAfter(buf, func() []*Tensor { return []*Tensor{view, buf} }, func() []*Tensor { return []*Tensor{buf} }) {
		t.Fatal("a kept tensor's storage was handed out")
	}
	// Control: with nothing kept the same buffer does come back.
	if !reusedAfter(buf, func() []*Tensor { return []*Tensor{view, buf} }, func() []*Tensor { return nil }) {
		t.Fatal("a dead buffer was never reused")
	}
}

func TestRecycleLeavesPartialViews(t *testing.T) {
	whole := New(64, 100)
	part := whole.Slice(0, 10, 64).Contiguous() // only a view is dead
	if base(part) == base(whole) {
		t.Fatal("test needs a view that starts inside the buffer")
	}
	for try := 0; try < 20; try++ {
		Recycle([]*Tensor{part}, nil)
		if n := New(54, 100); base(n) == base(part) {
			t.Fatal("the tail of a buffer was handed out while only a view of it was dead")
		}
	}
}

func TestRecycleHandsBackOnce(t *testing.T) {
	a := New(64, 100)
	v1, v2 := a.Reshape(6400), a.Reshape(100, 64)
	Recycle([]*Tensor{v1, a, v2, a}, nil)
	seen := map[uintptr]bool{}
	for i := 0; i < 8; i++ {
		n := New(64, 100)
		if seen[base(n)] {
			t.Fatal("one buffer handed out twice after views of it were recycled together")
		}
		seen[base(n)] = true
	}
}

func TestRecycleIgnoresSmallAndNil(t *testing.T) {
	small := New(10)
	Recycle([]*Tensor{nil, small, Scalar(1)}, []*Tensor{nil})
	small.data[0] = 3 // still ours
	if New(10).data[0] != 0 {
		t.Fatal("small tensor storage reused")
	}
}

// MoveReshape passes an owner's storage to the reshaped tensor, which
// Recycle then hands back; a view's storage stays out of reach; and a
// reshape of a non-contiguous tensor owns the copy it made.
func TestMoveReshapeAndReshapeCopyOwn(t *testing.T) {
	a := New(64, 128)
	r := MoveReshape(a, 128, 64)
	if !r.owner || a.owner {
		t.Fatalf("ownership after MoveReshape: result %v, source %v; want true, false", r.owner, a.owner)
	}
	v := a.Slice(0, 0, 32)
	if MoveReshape(v, 32*128).owner {
		t.Fatal("a view's storage was handed to the reshaped tensor")
	}
	if c := a.Transpose().Reshape(64 * 128); !c.owner {
		t.Fatal("the copy a reshape of a transposed tensor made is not owned")
	}
	if c := a.Reshape(64 * 128); c.owner {
		t.Fatal("a reshape sharing its source's storage claims to own it")
	}
	addr := base(r)
	var got bool
	for try := 0; try < 20 && !got; try++ {
		Recycle([]*Tensor{r}, nil)
		got = base(New(64, 128)) == addr
	}
	if !got {
		t.Fatal("the moved storage was never handed out again")
	}
}

// MatMul (and MatMulPacked, with MatMul's bits) writes every output over
// recycled memory (it is not zeroed first): plain, with the batch folded
// into the rows, batched, and an empty inner dimension, each over storage
// full of NaNs.
func TestMatMulOverwritesRecycledMemory(t *testing.T) {
	rng := NewRNG(11)
	cases := [][2][]int{
		{{96, 70}, {70, 64}},
		{{3, 40, 50}, {50, 48}},
		{{2, 64, 30}, {2, 30, 40}},
		{{80, 0}, {0, 64}},
	}
	for _, c := range cases {
		a, b := RandN(rng, 0, 1, c[0]...), RandN(rng, 0, 1, c[1]...)
		want := MatMul(a, b).Clone()
		for try := 0; try < 2; try++ {
			junk := New(want.Shape()...)
			for j := range junk.data {
				junk.data[j] = float32(math.NaN())
			}
			Recycle([]*Tensor{junk}, nil)
			if got := MatMul(a, b); !bitsEqual(got.Data(), want.Data()) {
				t.Fatalf("%v · %v: output over recycled NaNs differs", c[0], c[1])
			}
			if len(c[0]) == 2 && len(c[1]) == 2 {
				pb := PackRight(b)
				got := MatMulPacked(a, pb)
				pb.Release()
				if !bitsEqual(got.Data(), want.Data()) {
					t.Fatalf("%v · packed %v: output over recycled NaNs differs from MatMul's", c[0], c[1])
				}
			}
		}
	}
}
