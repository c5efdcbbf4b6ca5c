package segment_test

import (
	"fmt"

	"github.com/glassbox-ml/glassbox/explain/segment"
)

// A 6×8 grey image: dark left half, bright right half.
func twoTone() []float32 {
	pix := make([]float32, 6*8)
	for y := 0; y < 6; y++ {
		for x := 4; x < 8; x++ {
			pix[y*8+x] = 1
		}
	}
	return pix
}

func ExampleSLIC() {
	s, err := segment.SLIC(twoTone(), 1, 6, 8, segment.SLICOptions{NSegments: 2})
	if err != nil {
		panic(err)
	}
	fmt.Println(s.N, s.Sizes())
	for y := 0; y < s.H; y++ {
		fmt.Println(s.Labels[y*s.W : (y+1)*s.W])
	}
	// Output:
	// 2 [24 24]
	// [0 0 0 0 1 1 1 1]
	// [0 0 0 0 1 1 1 1]
	// [0 0 0 0 1 1 1 1]
	// [0 0 0 0 1 1 1 1]
	// [0 0 0 0 1 1 1 1]
	// [0 0 0 0 1 1 1 1]
}

func ExampleQuickshift() {
	s, err := segment.Quickshift(twoTone(), 1, 6, 8, segment.QuickshiftOptions{KernelSize: 1, Cell: 9})
	if err != nil {
		panic(err)
	}
	fmt.Println(s.N)
	fmt.Println(s.Labels[:8])
	// Output:
	// 2
	// [0 0 0 0 1 1 1 1]
}

func ExampleAuto() {
	// A 28×28 grey image, e.g. an MNIST digit, channel-first in [0, 1].
	pix := make([]float32, 28*28)
	for y := 6; y < 22; y++ {
		pix[y*28+13], pix[y*28+14] = 1, 1 // a vertical stroke: a "1"
	}
	s, err := segment.Auto(pix, 1, 28, 28)
	if err != nil {
		panic(err)
	}
	fmt.Println("target", segment.AutoTarget(28, 28), "got", s.N)
	// Output:
	// target 49 got 49
}

func ExampleGrid() {
	s, _ := segment.Grid(4, 6, 2, 3)
	fmt.Println(s.N, s.Labels)
	// Output:
	// 4 [0 0 0 1 1 1 0 0 0 1 1 1 2 2 2 3 3 3 2 2 2 3 3 3]
}
