package onnx

import (
	"slices"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
	"github.com/glassbox-ml/glassbox/zoo"
)

// Every zoo model exports, with every parameter written once as an
// initialiser and the operators its layers need.
func TestExportZooModelsStructure(t *testing.T) {
	for _, c := range []struct {
		name  string
		cfg   zoo.Config
		shape []int
		ops   []string
	}{
		{"linear", zoo.Config{InputShape: []int{4}, Outputs: 3}, []int{4}, []string{"Flatten", "Gemm"}},
		{"mlp", zoo.Config{InputShape: []int{4}, Outputs: 3}, []int{4}, []string{"Gemm", "Relu"}},
		{"deep", zoo.Config{InputShape: []int{4}, Outputs: 3}, []int{4}, []string{"BatchNormalization"}},
		{"perceptron", zoo.Config{InputShape: []int{4}, Outputs: 3}, []int{4}, []string{"Greater", "Cast"}},
		{"lenet", zoo.Config{InputShape: []int{1, 28, 28}, Outputs: 10}, []int{1, 28, 28}, []string{"Conv", "MaxPool"}},
		{"cnn", zoo.Config{InputShape: []int{3, 32, 32}, Outputs: 10}, []int{3, 32, 32}, []string{"Conv"}},
		{"lstm", zoo.Config{InputShape: []int{12}, Outputs: 2, Vocab: 50}, []int{12}, []string{"Gather", "LSTM", "Squeeze"}},
		{"gru", zoo.Config{InputShape: []int{12}, Outputs: 2, Vocab: 50}, []int{12}, []string{"GRU"}},
		{"rnn-lm", zoo.Config{InputShape: []int{12}, Outputs: 50, Vocab: 50}, []int{12}, []string{"RNN", "MatMul"}},
	} {
		m, err := zoo.New(c.name, c.cfg, tensor.NewRNG(1))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		om, err := Export(m, c.shape, ExportOptions{})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var ops []string
		for _, n := range om.Graph.Nodes {
			ops = append(ops, n.OpType)
		}
		for _, want := range c.ops {
			if !slices.Contains(ops, want) {
				t.Errorf("%s: no %s among %v", c.name, want, ops)
			}
		}
		var stored, params int
		for _, ini := range om.Graph.Initializers {
			if ini.DataType == Float {
				stored += len(ini.Floats)
			}
		}
		for _, p := range m.Params() {
			params += p.Value.Len()
		}
		if b, ok := m.(nn.Buffered); ok {
			for _, v := range b.Buffers() {
				params += v.Value.Len()
			}
		}
		// GRU and the constants of GELU/step add a few values; the
		// recurrent layers add a zero recurrent bias block.
		if stored < params {
			t.Errorf("%s: %d values stored, the model has %d", c.name, stored, params)
		}
		if last := om.Graph.Nodes[len(om.Graph.Nodes)-1]; last.Outputs[0] != "output" || om.Graph.Inputs[0].Name != "input" {
			t.Errorf("%s: graph %s → %s", c.name, om.Graph.Inputs[0].Name, last.Outputs[0])
		}
	}
	_, err := Export(nn.NewSequential(unknownLayer{}), []int{2}, ExportOptions{})
	if err == nil || !strings.Contains(err.Error(), "no ONNX form") {
		t.Fatalf("an unknown layer: %v", err)
	}
}

// unknownLayer is a user's layer Export cannot know.
type unknownLayer struct{}

func (unknownLayer) Forward(c *nn.Ctx, x *autograd.Var) *autograd.Var { return x }
func (unknownLayer) Params() []*autograd.Var                          { return nil }
func (unknownLayer) Spec() nn.Spec                                    { return nn.Spec{Type: "mine", Name: "mine0"} }

func TestSummaryOfAnExportedLeNet(t *testing.T) {
	m, err := zoo.New("lenet", zoo.Config{InputShape: []int{1, 28, 28}, Outputs: 10}, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	om, err := Export(m, []int{1, 28, 28}, ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := Summary(om)
	for _, want := range []string{"opset 13", "input  input", "FLOAT [batch 1 28 28]", "Conv×2", "Gemm×3", "61706 parameters"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
}
