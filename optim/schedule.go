package optim

import "math"

// Schedule gives the learning rate for a step (counted from 0). Use it as
// o.SetLR(s.LR(step)) before each o.Step().
type Schedule interface {
	LR(step int) float64
}

// Constant is a fixed learning rate.
type Constant float64

// LR returns the constant.
func (c Constant) LR(int) float64 { return float64(c) }

// StepDecay multiplies Base by Gamma every Every steps:
// lr = Base·Gamma^⌊step/Every⌋.
type StepDecay struct {
	Base  float64
	Every int
	Gamma float64
}

// LR returns the decayed rate.
func (s StepDecay) LR(step int) float64 {
	if s.Every <= 0 {
		return s.Base
	}
	return s.Base * math.Pow(s.Gamma, float64(max(step, 0)/s.Every))
}

// Cosine anneals from Base to Min over Steps steps along half a cosine and
// stays at Min afterwards: lr = Min + (Base−Min)·(1 + cos(π·step/Steps))/2.
type Cosine struct {
	Base, Min float64
	Steps     int
}

// LR returns the annealed rate.
func (c Cosine) LR(step int) float64 {
	if c.Steps <= 0 || step >= c.Steps {
		if c.Steps <= 0 {
			return c.Base
		}
		return c.Min
	}
	p := float64(max(step, 0)) / float64(c.Steps)
	return c.Min + (c.Base-c.Min)*(1+math.Cos(math.Pi*p))/2
}

// Warmup ramps the rate linearly over its first Steps steps, from
// Then.LR(0)/Steps at step 0 up to Then.LR(0) at step Steps−1, then follows
// Then shifted to start after the warm-up: lr(step) = Then.LR(step−Steps).
type Warmup struct {
	Steps int
	Then  Schedule
}

// LR returns the warmed-up rate.
func (w Warmup) LR(step int) float64 {
	if step < w.Steps {
		return w.Then.LR(0) * float64(max(step, 0)+1) / float64(w.Steps)
	}
	return w.Then.LR(step - max(w.Steps, 0))
}
