package model

import (
	"fmt"
	"strings"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// LayerSummary is one row of a model summary.
type LayerSummary struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	OutputShape []int  `json:"output_shape"`
	Params      int    `json:"params"`
}

// MaxInputValues bounds the number of values of one input (the product of
// an input shape without the batch axis) that a model file's meta may
// declare and that Summarize allocates: 64 MiB of float32.
const MaxInputValues = 1 << 24

// checkInputShape checks that every dimension of one input's shape is
// positive and that their product, computed without overflow, is at most
// MaxInputValues.
func checkInputShape(shape []int) error {
	n := 1
	for _, d := range shape {
		if d <= 0 {
			return fmt.Errorf("input shape %v has a dimension ≤ 0", shape)
		}
		if d > MaxInputValues/n {
			return fmt.Errorf("input shape %v holds more than %d values (model.MaxInputValues)", shape, MaxInputValues)
		}
		n *= d
	}
	return nil
}

// Summarize runs one example of shape inputShape (without the batch axis)
// through m and lists each layer of a Sequential model (or m as a whole)
// with its output shape and parameter count, as Keras's model.summary()
// does. Token-id inputs are fed as zeros, which every vocabulary holds.
// An input shape with a dimension ≤ 0 or more than MaxInputValues values
// is an error.
func Summarize(m nn.Module, inputShape []int) ([]LayerSummary, error) {
	if err := checkInputShape(inputShape); err != nil {
		return nil, fmt.Errorf("model summary: %v", err)
	}
	layers := []nn.Module{m}
	if s, ok := m.(*nn.Sequential); ok {
		layers = s.Layers
	}
	x := autograd.Const(tensor.New(append([]int{1}, inputShape...)...))
	var rows []LayerSummary
	err := tensor.Catch(func() {
		c := nn.Eval()
		for _, l := range layers {
			x = l.Forward(c, x)
			name := ""
			if n, ok := l.(nn.Named); ok {
				name = n.LayerName()
			}
			rows = append(rows, LayerSummary{Name: name, Type: l.Spec().Type, OutputShape: append([]int(nil), x.Shape()...), Params: nn.NumParams(l)})
		}
	})
	if err != nil {
		return nil, fmt.Errorf("model summary with input %v: %w", inputShape, err)
	}
	return rows, nil
}

// Summary formats Summarize as a table: layer, type, output shape (batch
// axis shown as "N"), parameters, and the total.
func Summary(m nn.Module, inputShape []int) (string, error) {
	rows, err := Summarize(m, inputShape)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-14s %-16s %-22s %10s\n", "layer", "type", "output shape", "params")
	fmt.Fprintf(&b, "%s\n", strings.Repeat("─", 65))
	fmt.Fprintf(&b, "%-14s %-16s %s\n", "input", "", shapeString(append([]int{1}, inputShape...)))
	total := 0
	for _, r := range rows {
		fmt.Fprintf(&b, "%-14s %-16s %-22s %10d\n", r.Name, r.Type, shapeString(r.OutputShape), r.Params)
		total += r.Params
	}
	fmt.Fprintf(&b, "%s\n", strings.Repeat("─", 65))
	fmt.Fprintf(&b, "total parameters: %d (%.1f KiB as float32)\n", total, float64(total)*4/1024)
	return b.String(), nil
}

func shapeString(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	if len(parts) > 0 {
		parts[0] = "N"
	}
	return "[" + strings.Join(parts, " ") + "]"
}
