package optim_test

import (
	"fmt"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/loss"
	"github.com/glassbox-ml/glassbox/optim"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Fit y = 2x + 1 with Adam and a cosine schedule: gradient descent finds
// the parameters.
func ExampleAdam() {
	x := autograd.Const(tensor.MustFromSlice([]float32{-2, -1, 0, 1, 2, 3}, 6, 1))
	y := autograd.Const(tensor.MustFromSlice([]float32{-3, -1, 1, 3, 5, 7}, 6, 1))
	w := autograd.Param(tensor.New(1, 1), "w")
	b := autograd.Param(tensor.New(1), "b")

	opt, err := optim.NewAdam([]*autograd.Var{w, b}, 0.1)
	if err != nil {
		fmt.Println(err)
		return
	}
	sched := optim.Cosine{Base: 0.1, Min: 0.001, Steps: 500}
	for step := range 500 {
		opt.SetLR(sched.LR(step))
		tp := autograd.NewTape()
		l := loss.MSE(tp, tp.Add(tp.MatMul(x, w), b), y)
		opt.ZeroGrad()
		if err := tp.Backward(l); err != nil {
			fmt.Println(err)
			return
		}
		if err := opt.Step(); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Printf("w = %.2f, b = %.2f\n", w.Value.Item(), b.Value.Item())
	// Output: w = 2.00, b = 1.00
}
