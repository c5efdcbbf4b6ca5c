package predictor

import (
	"context"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// An input shape whose product overflows must be refused. checkShape
// multiplied before comparing with MaxInputValues, so [4, 2⁶², 4]
// (product 2⁶⁴, which wraps to 0) passed, New accepted a model with 0
// outputs, and Predict then panicked on the empty output row.
func TestNewRefusesOverflowingInputShapes(t *testing.T) {
	for _, shape := range [][]int{{4, 1 << 62, 4}, {1 << 32, 1 << 32, 4}, {2, 1 << 62, 1 << 62, 4}, {MaxInputValues, 2}} {
		p, err := New(nn.NewLinear(4, 3, tensor.NewRNG(1)), model.Meta{InputShape: shape})
		if err == nil {
			_, perr := p.Predict(context.Background(), tensor.New(1, 1, 1, 4))
			t.Fatalf("shape %v accepted with %d outputs (Predict: %v)", shape, p.Outputs, perr)
		}
		if !strings.Contains(err.Error(), "MaxInputValues") {
			t.Errorf("shape %v: %v", shape, err)
		}
	}
}

// empty is a module whose output holds no values.
type empty struct{}

func (empty) Forward(c *nn.Ctx, x *autograd.Var) *autograd.Var {
	return autograd.Const(tensor.New(x.Value.Dim(0), 0))
}
func (empty) Params() []*autograd.Var { return nil }
func (empty) Spec() nn.Spec           { return nn.MakeSpec("flatten", "", nil) }

// A model without outputs has nothing to predict: Predict would index an
// empty row (softmax reads v[0]). New refuses it.
func TestNewRefusesModelsWithoutOutputs(t *testing.T) {
	_, err := New(empty{}, model.Meta{InputShape: []int{3}})
	if err == nil || !strings.Contains(err.Error(), "no outputs") {
		t.Fatalf("want an error about no outputs, got %v", err)
	}
}
