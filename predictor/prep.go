package predictor

import (
	"github.com/glassbox-ml/glassbox/data"
)

// ToModel turns inputs in the data's own units into what the network
// sees, in place: x holds whole inputs, one after another. It is the one
// place where features are standardised and pixels normalised.
func (p *Predictor) ToModel(x []float32) {
	pr := &p.Prep
	if pr.Mean != nil {
		(&data.Standardizer{Mean: pr.Mean, Std: pr.Std}).Apply(x)
	}
	if pr.PixelMean != nil {
		hw := p.InputShape[1] * p.InputShape[2]
		c := len(pr.PixelMean)
		for i := range x {
			ch := (i / hw) % c
			x[i] = (x[i] - pr.PixelMean[ch]) / pr.PixelStd[ch]
		}
	}
}

// FromModel is the inverse of ToModel, in place.
func (p *Predictor) FromModel(x []float32) {
	pr := &p.Prep
	if pr.Mean != nil {
		(&data.Standardizer{Mean: pr.Mean, Std: pr.Std}).Invert(x)
	}
	if pr.PixelMean != nil {
		hw := p.InputShape[1] * p.InputShape[2]
		c := len(pr.PixelMean)
		for i := range x {
			ch := (i / hw) % c
			x[i] = x[i]*pr.PixelStd[ch] + pr.PixelMean[ch]
		}
	}
}

// TargetFromModel maps network outputs of a regression model to the
// target's units, in place; classifiers' outputs are left alone.
func (p *Predictor) TargetFromModel(y []float32) {
	if p.Task != Regression || p.Prep.TargetStd == 0 {
		return
	}
	for i, v := range y {
		y[i] = v*p.Prep.TargetStd + p.Prep.TargetMean
	}
}

// TargetToModel maps regression targets in their own units to what the
// network is trained to output, in place.
func (p *Predictor) TargetToModel(y []float32) {
	if p.Task != Regression || p.Prep.TargetStd == 0 {
		return
	}
	for i, v := range y {
		y[i] = (v - p.Prep.TargetMean) / p.Prep.TargetStd
	}
}

// targetScale is how much one unit of the network's output is in the
// target's units.
func (p *Predictor) targetScale() float64 {
	if p.Task != Regression || p.Prep.TargetStd == 0 {
		return 1
	}
	return float64(p.Prep.TargetStd)
}

// Prepared returns ds (in the data's own units) as the network sees it:
// inputs through ToModel, regression targets through TargetToModel. Reads
// are converted as they happen; ds is not copied.
func (p *Predictor) Prepared(ds data.Dataset) data.Dataset {
	if p.Prep.Mean == nil && p.Prep.PixelMean == nil && (p.Task != Regression || p.Prep.TargetStd == 0) {
		return ds
	}
	return &prepared{base: ds, p: p}
}

// prepared is a Dataset whose reads go through the predictor's
// preprocessing.
type prepared struct {
	base data.Dataset
	p    *Predictor
}

func (d *prepared) Len() int      { return d.base.Len() }
func (d *prepared) XShape() []int { return d.base.XShape() }
func (d *prepared) YShape() []int { return d.base.YShape() }
func (d *prepared) Read(i int, x, y []float32) {
	d.base.Read(i, x, y)
	d.p.ToModel(x)
	d.p.TargetToModel(y)
}
