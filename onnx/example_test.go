package onnx_test

import (
	"fmt"

	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/onnx"
	"github.com/glassbox-ml/glassbox/tensor"
)

// An ONNX graph imported as a module: here a two-input linear layer with a
// ReLU, built in code (onnx.ReadFile opens a file the same way). Frozen,
// as the CLI and the server import models that are only run and
// explained: weights prepared for the kernels are kept between calls.
func ExampleImport() {
	m := &onnx.Model{
		IRVersion: 8,
		Opsets:    map[string]int64{"": 13},
		Graph: &onnx.Graph{
			Name:   "tiny",
			Inputs: []*onnx.ValueInfo{{Name: "x", ElemType: onnx.Float, Shape: []onnx.Dim{{Param: "N"}, {Value: 2}}}},
			Initializers: []*onnx.Tensor{
				{Name: "w", DataType: onnx.Float, Dims: []int64{2, 2}, Floats: []float32{1, -1, 2, 1}},
				{Name: "b", DataType: onnx.Float, Dims: []int64{2}, Floats: []float32{0, -5}},
			},
			Nodes: []*onnx.Node{
				{Name: "fc", OpType: "Gemm", Inputs: []string{"x", "w", "b"}, Outputs: []string{"z"}},
				{Name: "act", OpType: "Relu", Inputs: []string{"z"}, Outputs: []string{"y"}},
			},
			Outputs: []*onnx.ValueInfo{{Name: "y", ElemType: onnx.Float}},
		},
	}
	mod, err := onnx.Import(m, onnx.ImportOptions{Frozen: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	y, err := nn.Predict(mod, tensor.MustFromSlice([]float32{1, 2, 3, 4}, 2, 2))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(y.Shape(), y.Data())
	// Output: [2 2] [5 0 11 0]
}
