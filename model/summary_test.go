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
