package train_test

import (
	"fmt"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/loss"
	"github.com/glassbox-ml/glassbox/optim"
	"github.com/glassbox-ml/glassbox/tensor"
	"github.com/glassbox-ml/glassbox/train"
)

// A training loop of one's own that reuses memory as train.Fit does: the
// tape's activations go back after each step (Release) and the
// parameters' gradients just before the next backward pass (RecycleGrads),
// as PyTorch reuses .grad.
func ExampleRecycleGrads() {
	x := autograd.Const(tensor.MustFromSlice([]float32{-2, -1, 0, 1, 2, 3}, 6, 1))
	y := autograd.Const(tensor.MustFromSlice([]float32{-3, -1, 1, 3, 5, 7}, 6, 1))
	w := autograd.Param(tensor.New(1, 1), "w")
	b := autograd.Param(tensor.New(1), "b")
	params := []*autograd.Var{w, b}
	opt, err := optim.NewAdam(params, 0.05)
	if err != nil {
		fmt.Println(err)
		return
	}
	tp := autograd.NewTape()
	for range 1000 {
		l := loss.MSE(tp, tp.Add(tp.MatMul(x, w), b), y)
		train.RecycleGrads(params) // in place of opt.ZeroGrad: nothing reads last step's gradients now
		if err := tp.Backward(l); err != nil {
			fmt.Println(err)
			return
		}
		tp.Release()
		if err := opt.Step(); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Printf("w = %.2f, b = %.2f\n", w.Value.Item(), b.Value.Item())
	// Output: w = 2.00, b = 1.00
}
