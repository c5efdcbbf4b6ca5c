package kern_test

import (
	"fmt"

	"github.com/glassbox-ml/glassbox/tensor/internal/kern"
)

func ExampleSgemm() {
	// C (2×2) = A (2×3) · B (3×2), all row-major.
	a := []float32{
		1, 2, 3,
		4, 5, 6,
	}
	b := []float32{
		7, 8,
		9, 10,
		11, 12,
	}
	c := make([]float32, 4)
	kern.Sgemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2)
	fmt.Println(c)

	// Aᵀ·A (3×3) without forming Aᵀ: A is stored 2×3, op(A) = Aᵀ is 3×2.
	g := make([]float32, 9)
	kern.Sgemm(true, false, 3, 3, 2, 1, a, 3, a, 3, 0, g, 3)
	fmt.Println(g)
	// Output:
	// [58 64 139 154]
	// [17 22 27 22 29 36 27 36 45]
}

func ExampleParallelFor() {
	x := make([]float32, 1000)
	kern.ParallelFor(len(x), 256, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			x[i] = float32(i) * 2
		}
	})
	fmt.Println(x[0], x[500], x[999])
	// Output: 0 1000 1998
}

func ExampleSaxpy() {
	x := []float32{1, 2, 3}
	y := []float32{10, 20, 30}
	kern.Saxpy(2, x, y)
	fmt.Println(y, kern.Sdot(x, x))
	// Output: [12 24 36] 14
}
