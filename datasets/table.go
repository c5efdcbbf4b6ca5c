package datasets

import (
	"fmt"
	"math"
)

// Table is a table of numeric features with one target column.
type Table struct {
	Features []string  // Cols feature names, in column order
	Rows     int       // number of rows (examples)
	Cols     int       // number of feature columns
	X        []float32 // Rows*Cols feature values, row-major: X[r*Cols+c]
	Target   string    // name of the target column ("" if the table has none)
	// Y holds Rows target values: for classification the class index (0,
	// 1, ...) as a float32, for regression the value. Nil if the table has no
	// target.
	Y []float32
	// Classes names the target classes, in code order (Y == i means
	// Classes[i]); nil for regression.
	Classes []string
	// Categorical maps a feature column to its category names; the column
	// holds codes 0, 1, ... into that list. Nil or empty when every feature
	// is numeric.
	Categorical map[int][]string
}

// Row returns the Cols features of row i (a view, not a copy). It panics if
// i is out of range (a programmer error).
func (t *Table) Row(i int) []float32 {
	if i < 0 || i >= t.Rows {
		panic(fmt.Sprintf("datasets: row %d out of range [0,%d)", i, t.Rows))
	}
	return t.X[i*t.Cols : (i+1)*t.Cols : (i+1)*t.Cols]
}

// IsClassification reports whether the target is a class (Classes is set).
func (t *Table) IsClassification() bool { return t.Classes != nil }

// Labels returns the class index of every row, or nil for a regression
// table or one without a target.
func (t *Table) Labels() []int {
	if t.Classes == nil || t.Y == nil {
		return nil
	}
	out := make([]int, len(t.Y))
	for i, y := range t.Y {
		out[i] = int(y)
	}
	return out
}

// Validate checks that the sizes agree, values are finite, class codes are
// in range and categorical columns hold valid codes.
func (t *Table) Validate() error {
	if t.Rows < 0 || t.Cols < 0 || len(t.X) != t.Rows*t.Cols {
		return fmt.Errorf("table: %d values for %d rows × %d columns", len(t.X), t.Rows, t.Cols)
	}
	if len(t.Features) != t.Cols {
		return fmt.Errorf("table: %d feature names for %d columns", len(t.Features), t.Cols)
	}
	if t.Y != nil && len(t.Y) != t.Rows {
		return fmt.Errorf("table: %d target values for %d rows", len(t.Y), t.Rows)
	}
	for i, v := range t.X {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("table: value at row %d, column %q is %v", i/t.Cols, t.Features[i%t.Cols], v)
		}
	}
	for i, y := range t.Y {
		if math.IsNaN(float64(y)) || math.IsInf(float64(y), 0) {
			return fmt.Errorf("table: target of row %d is %v", i, y)
		}
		if t.Classes != nil && (y != float32(int(y)) || int(y) < 0 || int(y) >= len(t.Classes)) {
			return fmt.Errorf("table: target of row %d is %v, want a class index in [0,%d)", i, y, len(t.Classes))
		}
	}
	for c, names := range t.Categorical {
		if c < 0 || c >= t.Cols {
			return fmt.Errorf("table: categorical column %d out of range [0,%d)", c, t.Cols)
		}
		for r := range t.Rows {
			v := t.X[r*t.Cols+c]
			if v != float32(int(v)) || int(v) < 0 || int(v) >= len(names) {
				return fmt.Errorf("table: row %d, categorical column %q holds %v, want a code in [0,%d)", r, t.Features[c], v, len(names))
			}
		}
	}
	return nil
}

// AsImages views each row as a c×h×w image (layout [c][y][x]) with pixel
// values divided by maxValue, e.g. the "digits" table (8×8, grey levels
// 0–16): t.AsImages(1, 8, 8, 16). The table must be a classification table
// with c*h*w columns and values in [0,maxValue].
func (t *Table) AsImages(c, h, w int, maxValue float32) (*Images, error) {
	if c*h*w != t.Cols || c <= 0 || h <= 0 || w <= 0 {
		return nil, fmt.Errorf("table: %d columns cannot be viewed as %d×%d×%d images (want c*h*w == %d)", t.Cols, c, h, w, t.Cols)
	}
	if t.Classes == nil {
		return nil, fmt.Errorf("table: target %q is not a class; images need class labels", t.Target)
	}
	if !(maxValue > 0) {
		return nil, fmt.Errorf("table: maxValue %v, want > 0", maxValue)
	}
	im := &Images{N: t.Rows, C: c, H: h, W: w, Classes: t.Classes, Labels: t.Labels(),
		Pixels: make([]float32, len(t.X))}
	for i, v := range t.X {
		p := v / maxValue
		if !(p >= 0 && p <= 1) {
			return nil, fmt.Errorf("table: value %v at row %d, column %q is outside [0,%v]", v, i/t.Cols, t.Features[i%t.Cols], maxValue)
		}
		im.Pixels[i] = p
	}
	return im, nil
}
