package train

import (
	"fmt"
	"math"
	"strings"
)

// Task says how outputs are scored.
type Task int

const (
	// Classification: outputs are logits [batch, classes], targets class indices.
	Classification Task = iota
	// Regression: outputs and targets are real values of the same shape.
	Regression
)

// String names the task as the CLI and model files spell it.
func (t Task) String() string {
	if t == Regression {
		return "regression"
	}
	return "classification"
}

// Metrics accumulates predictions and summarises them.
type Metrics struct {
	Task    Task
	Classes int
	// Confusion[i][j] counts examples of true class i predicted as j.
	Confusion [][]int
	n         int
	lossN     int
	lossSum   float64
	// regression sums
	se, ae, ySum, ySq float64
}

// NewMetrics returns an empty accumulator; classes is ignored for
// regression.
func NewMetrics(task Task, classes int) *Metrics {
	m := &Metrics{Task: task, Classes: classes}
	if task == Classification {
		m.Confusion = make([][]int, classes)
		for i := range m.Confusion {
			m.Confusion[i] = make([]int, classes)
		}
	}
	return m
}

// AddLoss records a batch's mean loss weighted by its size.
func (m *Metrics) AddLoss(loss float64, n int) {
	m.lossSum += loss * float64(n)
	m.lossN += n
}

// AddClassification records predicted and true classes.
func (m *Metrics) AddClassification(pred, truth []int) error {
	for i, p := range pred {
		t := truth[i]
		if t < 0 || t >= m.Classes || p < 0 || p >= m.Classes {
			return fmt.Errorf("train: class %d or prediction %d outside [0, %d)", t, p, m.Classes)
		}
		m.Confusion[t][p]++
	}
	m.n += len(pred)
	return nil
}

// AddRegression records predicted and true values.
func (m *Metrics) AddRegression(pred, truth []float32) {
	for i, p := range pred {
		t := float64(truth[i])
		d := float64(p) - t
		m.se += d * d
		m.ae += math.Abs(d)
		m.ySum += t
		m.ySq += t * t
	}
	m.n += len(pred)
}

// Scale converts regression sums recorded in standardised units back to
// the target's units, for a target standardised with standard deviation
// std (R² is unchanged).
func (m *Metrics) Scale(std float64) {
	m.se *= std * std
	m.ae *= std
	m.ySum *= std
	m.ySq *= std * std
}

// N returns the number of examples recorded.
func (m *Metrics) N() int { return m.n }

// Loss returns the mean loss per example.
func (m *Metrics) Loss() float64 { return m.lossSum / math.Max(float64(m.lossN), 1) }

// Accuracy returns the fraction of correct predictions.
func (m *Metrics) Accuracy() float64 {
	c := 0
	for i := range m.Confusion {
		c += m.Confusion[i][i]
	}
	return float64(c) / math.Max(float64(m.n), 1)
}

// Precision returns per-class precision (NaN-free: 0 when never predicted).
func (m *Metrics) Precision() []float64 {
	out := make([]float64, m.Classes)
	for j := range out {
		col := 0
		for i := range m.Confusion {
			col += m.Confusion[i][j]
		}
		if col > 0 {
			out[j] = float64(m.Confusion[j][j]) / float64(col)
		}
	}
	return out
}

// Recall returns per-class recall (0 for a class with no examples).
func (m *Metrics) Recall() []float64 {
	out := make([]float64, m.Classes)
	for i := range out {
		row := 0
		for _, v := range m.Confusion[i] {
			row += v
		}
		if row > 0 {
			out[i] = float64(m.Confusion[i][i]) / float64(row)
		}
	}
	return out
}

// MSE returns the mean squared error.
func (m *Metrics) MSE() float64 { return m.se / math.Max(float64(m.n), 1) }

// MAE returns the mean absolute error.
func (m *Metrics) MAE() float64 { return m.ae / math.Max(float64(m.n), 1) }

// R2 returns the coefficient of determination 1 − SSE/SST.
func (m *Metrics) R2() float64 {
	n := float64(m.n)
	sst := m.ySq - m.ySum*m.ySum/n
	if sst <= 0 {
		return 0
	}
	return 1 - m.se/sst
}

// Summary returns the headline figures as a map (for JSON and history).
func (m *Metrics) Summary() map[string]float64 {
	out := map[string]float64{"loss": m.Loss()}
	if m.Task == Classification {
		out["accuracy"] = m.Accuracy()
	} else {
		out["mse"], out["mae"], out["r2"] = m.MSE(), m.MAE(), m.R2()
	}
	return out
}

// ConfusionString formats the confusion matrix with row = truth.
func (m *Metrics) ConfusionString(names []string) string {
	var b strings.Builder
	for i, row := range m.Confusion {
		name := fmt.Sprint(i)
		if i < len(names) {
			name = names[i]
		}
		fmt.Fprintf(&b, "%12s", name)
		for _, v := range row {
			fmt.Fprintf(&b, " %6d", v)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
