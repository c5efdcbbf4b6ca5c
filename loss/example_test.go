package loss_test

import (
	"fmt"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/loss"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Cross-entropy from logits: two rows, three classes, and the gradient
// softmax − onehot that training follows.
func ExampleCrossEntropy() {
	logits := autograd.Input(tensor.MustFromSlice([]float32{
		2, 0, 0,
		0, 0, 0,
	}, 2, 3))
	tp := autograd.NewTape()
	l := loss.CrossEntropy(tp, logits, []int{0, 2})
	if err := tp.Backward(l); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("loss %.4f\n", l.Value.Item())
	fmt.Printf("grad row 2 %.4f\n", logits.Grad.Row(1).Data())
	// Output:
	// loss 0.6691
	// grad row 2 [0.1667 0.1667 -0.3333]
}
