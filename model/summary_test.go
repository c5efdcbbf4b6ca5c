package model_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/model"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

func TestSummaryOfLeNetLikeModel(t *testing.T) {
	rng := tensor.NewRNG(1)
	m := nn.NewSequential(
		nn.NewConv2D(1, 6, 5, rng, nn.ConvPadding(2)), nn.NewReLU(), nn.NewMaxPool2D(2, 0, 0),
		nn.NewFlatten(), nn.NewLinear(6*14*14, 10, rng))
	rows, err := model.Summarize(m, []int{1, 28, 28})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 {
		t.Fatalf("%d rows", len(rows))
	}
	if !tensor.SameShape(rows[2].OutputShape, []int{1, 6, 14, 14}) || rows[0].Params != 6*25+6 || rows[4].Params != 1176*10+10 {
		t.Fatalf("rows %+v", rows)
	}
	s, err := model.Summary(m, []int{1, 28, 28})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s, "[N 6 14 14]") || !strings.Contains(s, "total parameters: 11926") {
		t.Fatalf("summary:\n%s", s)
	}
	if _, err := model.Summary(m, []int{3, 28, 28}); err == nil || !strings.Contains(err.Error(), "channels") {
		t.Fatalf("wrong input shape: %v", err)
	}
}

func ExampleSummary() {
	rng := tensor.NewRNG(1)
	m := nn.NewSequential(nn.NewLinear(4, 8, rng), nn.NewReLU(), nn.NewLinear(8, 3, rng))
	s, _ := model.Summary(m, []int{4})
	fmt.Print(s)
	// Output:
	// layer          type             output shape               params
	// ─────────────────────────────────────────────────────────────────
	// input                           [N 4]
	// linear0        linear           [N 8]                          40
	// relu1          relu             [N 8]                           0
	// linear2        linear           [N 3]                          27
	// ─────────────────────────────────────────────────────────────────
	// total parameters: 67 (0.3 KiB as float32)
}

// An input shape read from a file's meta is outside data: a negative
// dimension panicked in tensor.New before Summarize's recover, and a huge
// one allocated whatever it said. Both are errors now.
func TestSummarizeRefusesBadInputShapes(t *testing.T) {
	m := nn.NewSequential(nn.NewFlatten(), nn.NewLinear(4, 2, tensor.NewRNG(1)))
	for _, shape := range [][]int{{-4}, {0}, {2, -2}, {1 << 40}, {1 << 20, 1 << 20, 4}, {4, 1 << 62, 4}} {
		if _, err := model.Summarize(m, shape); err == nil || !strings.Contains(err.Error(), "input shape") {
			t.Errorf("shape %v: %v", shape, err)
		}
	}
	if _, err := model.Summarize(m, []int{model.MaxInputValues / 4, 4}); err == nil {
		t.Error("a shape within the limit but wrong for the model gave no error")
	}
}
