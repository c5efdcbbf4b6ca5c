package data

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/glassbox-ml/glassbox/tensor"
)

// Standardizer rescales each input feature to zero mean and unit variance
// using statistics fitted on training data only (fitting on validation or
// test data would leak them into training).
type Standardizer struct {
	Mean, Std []float32
}

// FitStandardizer computes per-feature mean and standard deviation over
// ds. Features with zero variance get Std 1, so they pass through centred
// instead of becoming NaN.
func FitStandardizer(ds Dataset) (*Standardizer, error) {
	n := ds.Len()
	if n == 0 {
		return nil, fmt.Errorf("data: cannot fit a standardizer on an empty data set")
	}
	px, py := tensor.Numel(ds.XShape()), tensor.Numel(ds.YShape())
	x, y := make([]float32, px), make([]float32, py)
	sum := make([]float64, px)
	sq := make([]float64, px)
	for i := 0; i < n; i++ {
		ds.Read(i, x, y)
		for j, v := range x {
			sum[j] += float64(v)
			sq[j] += float64(v) * float64(v)
		}
	}
	s := &Standardizer{Mean: make([]float32, px), Std: make([]float32, px)}
	for j := range sum {
		m := sum[j] / float64(n)
		v := sq[j]/float64(n) - m*m
		s.Mean[j] = float32(m)
		if v <= 1e-12 {
			s.Std[j] = 1
		} else {
			s.Std[j] = float32(math.Sqrt(v))
		}
	}
	return s, nil
}

// Apply standardises rows of features in place (len(x) a multiple of the
// feature count).
func (s *Standardizer) Apply(x []float32) {
	p := len(s.Mean)
	for i := range x {
		j := i % p
		x[i] = (x[i] - s.Mean[j]) / s.Std[j]
	}
}

// Invert maps standardised rows back to the data's own units, in place:
// the inverse of Apply.
func (s *Standardizer) Invert(x []float32) {
	p := len(s.Mean)
	for i := range x {
		j := i % p
		x[i] = x[i]*s.Std[j] + s.Mean[j]
	}
}

// Transform returns the standardizer as a batch transform.
func (s *Standardizer) Transform() Transform {
	return func(b *Batch, _ *rand.Rand) { s.Apply(b.X.Data()) }
}

// OneHot encodes class indices as rows of a [len(labels), k] tensor.
func OneHot(labels []int, k int) (*tensor.Tensor, error) {
	out := tensor.New(len(labels), k)
	d := out.Data()
	for i, c := range labels {
		if c < 0 || c >= k {
			return nil, fmt.Errorf("data: label %d at position %d is outside [0, %d)", c, i, k)
		}
		d[i*k+c] = 1
	}
	return out, nil
}

// LabelEncoder maps string labels to class indices in order of first
// appearance, keeping the names.
type LabelEncoder struct {
	Classes []string
	index   map[string]int
}

// Encode returns the indices of labels, adding unseen names as new classes.
func (e *LabelEncoder) Encode(labels []string) []int {
	if e.index == nil {
		e.index = map[string]int{}
		for i, c := range e.Classes {
			e.index[c] = i
		}
	}
	out := make([]int, len(labels))
	for i, l := range labels {
		c, ok := e.index[l]
		if !ok {
			c = len(e.Classes)
			e.Classes = append(e.Classes, l)
			e.index[l] = c
		}
		out[i] = c
	}
	return out
}

// RandomShift returns an augmentation that moves each image of a
// [batch, channels, h, w] batch by up to maxShift pixels in each direction,
// filling the uncovered border with zeros.
func RandomShift(maxShift int) Transform {
	return func(b *Batch, rng *rand.Rand) {
		sh := b.X.Shape()
		if len(sh) != 4 || maxShift <= 0 {
			return
		}
		c, h, w := sh[1], sh[2], sh[3]
		d := b.X.Data()
		tmp := make([]float32, c*h*w)
		for i := 0; i < sh[0]; i++ {
			dy := rng.IntN(2*maxShift+1) - maxShift
			dx := rng.IntN(2*maxShift+1) - maxShift
			img := d[i*c*h*w : (i+1)*c*h*w]
			copy(tmp, img)
			clear(img)
			for ch := 0; ch < c; ch++ {
				for y := 0; y < h; y++ {
					sy := y - dy
					if sy < 0 || sy >= h {
						continue
					}
					for x := 0; x < w; x++ {
						sx := x - dx
						if sx >= 0 && sx < w {
							img[(ch*h+y)*w+x] = tmp[(ch*h+sy)*w+sx]
						}
					}
				}
			}
		}
	}
}
