package inspect

import (
	"context"
	"fmt"
	"math"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/data"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Projection is a layer's hidden representation of many inputs, projected
// to two dimensions by PCA.
type Projection struct {
	// Layer is the layer's index, or InputLayer (-1) for the input itself.
	Layer int `json:"layer"`
	// Name and Type name the layer ("relu10", "relu"; "input" for the input).
	Name string `json:"name"`
	Type string `json:"type"`
	// Dim is the representation's dimension (the layer's output size).
	Dim int `json:"dim"`
	// Points are the inputs' coordinates along the first two principal
	// components, one pair per input.
	Points [][2]float64 `json:"points"`
	// Labels are the inputs' classes (nil when unlabelled).
	Labels []int `json:"labels,omitempty"`
	// Explained is the share of the representation's variance that each of
	// the two components keeps.
	Explained [2]float64 `json:"explained"`
	// Separation scores how well the classes separate in the 2-D picture;
	// nil without labels or with a single class.
	Separation *Separation `json:"separation,omitempty"`
}

// Separation measures how well classes separate among 2-D points.
type Separation struct {
	// Silhouette is the mean silhouette (Rousseeuw 1987) of the points in
	// Euclidean distance: for each point, (b−a)/max(a, b) with a its mean
	// distance to its own class and b the least mean distance to another
	// class (0 for a point alone in its class). It lies in [−1, 1]; higher
	// is better separated, 0 means overlapping classes.
	Silhouette float64 `json:"silhouette"`
	// CentroidAccuracy is the share of points whose nearest class centroid
	// (in the 2-D picture) is their own class's.
	CentroidAccuracy float64 `json:"centroid_accuracy"`
	// Classes is the number of classes present.
	Classes int `json:"classes"`
	// Probe is the held-out accuracy of a nearest-class-mean classifier in
	// the full representation (not the 2-D picture): class means from the
	// even-numbered inputs, scored on the odd-numbered ones ([CentroidProbe]).
	// Nearest-mean is a linear classifier, so this is a cheap linear probe
	// (Alain & Bengio 2016): how linearly separable the layer has made the
	// classes. Chance is about 1/Classes. Set by [Project]; 0 from [Separate].
	Probe float64 `json:"probe_accuracy"`
}

// projectBatch is how many inputs go through the model at once.
const projectBatch = 256

// Project runs the inputs xs (each of shape inputShape, without the batch
// axis) through the Sequential m up to layer, in inference mode, flattens
// that layer's output for each input into a vector and projects the
// vectors onto their first two principal components ([FitPCA]). layer may
// be InputLayer (-1) to project the inputs themselves, the baseline a
// hidden layer is compared with. labels, if not nil, gives each input's
// class (≥ 0) and adds a [Separation] score. It is an error for fewer than
// two inputs, a model that is not a Sequential, a layer out of range or
// inputs of the wrong size.
func Project(ctx context.Context, m nn.Module, layer int, xs [][]float32, inputShape []int, labels []int) (*Projection, error) {
	layers, err := Layers(m)
	if err != nil {
		return nil, err
	}
	if err := checkLayer(layers, layer, true); err != nil {
		return nil, err
	}
	if len(xs) < 2 {
		return nil, fmt.Errorf("inspect: a projection needs at least 2 inputs, got %d", len(xs))
	}
	d, err := checkShape(inputShape, len(xs[0]), 1)
	if err != nil {
		return nil, err
	}
	for i, x := range xs {
		if len(x) != d {
			return nil, fmt.Errorf("inspect: input %d has %d values; inputs of shape %v have %d", i, len(x), inputShape, d)
		}
	}
	if labels != nil && len(labels) != len(xs) {
		return nil, fmt.Errorf("inspect: %d labels for %d inputs", len(labels), len(xs))
	}
	for i, l := range labels {
		if l < 0 {
			return nil, fmt.Errorf("inspect: label %d of input %d is negative; classes are numbered from 0", l, i)
		}
	}
	n := len(xs)
	p := &Projection{Layer: layer, Name: "input", Type: "input"}
	if layer != InputLayer {
		p.Name, p.Type = LayerName(layers[layer], layer), layers[layer].Spec().Type
	}
	var rep []float64
	batch := make([]float32, 0, projectBatch*d)
	for lo := 0; lo < n; lo += projectBatch {
		if err := ctxErr(ctx); err != nil {
			return nil, err
		}
		hi := min(lo+projectBatch, n)
		batch = batch[:0]
		for _, x := range xs[lo:hi] {
			batch = append(batch, x...)
		}
		var out []float32
		if layer == InputLayer {
			out = batch
		} else {
			in := tensor.MustFromSlice(batch, append([]int{hi - lo}, inputShape...)...)
			if err := tensor.Catch(func() {
				y := forward(nn.Eval(), layers, autograd.Const(in), layer, nil)
				out = y.Value.Contiguous().Data()
			}); err != nil {
				return nil, fmt.Errorf("inspect: running inputs of shape %v through the model: %w", inputShape, err)
			}
			if len(out)%(hi-lo) != 0 {
				return nil, fmt.Errorf("inspect: layer %d (%s) returned %d values for a batch of %d", layer, p.Name, len(out), hi-lo)
			}
		}
		if rep == nil {
			p.Dim = len(out) / (hi - lo)
			rep = make([]float64, 0, n*p.Dim)
		} else if len(out) != (hi-lo)*p.Dim {
			return nil, fmt.Errorf("inspect: layer %d (%s) returned %d values per input, then %d", layer, p.Name, p.Dim, len(out)/(hi-lo))
		}
		for _, v := range out {
			rep = append(rep, float64(v))
		}
	}
	pca, err := FitPCA(rep, n, p.Dim, 2)
	if err != nil {
		return nil, fmt.Errorf("inspect: layer %d (%s): %w", layer, p.Name, err)
	}
	ratio := pca.ExplainedRatio()
	p.Points = make([][2]float64, n)
	for i := 0; i < n; i++ {
		c := pca.Transform(rep[i*p.Dim : (i+1)*p.Dim])
		p.Points[i][0] = c[0]
		if len(c) > 1 {
			p.Points[i][1] = c[1]
		}
	}
	p.Explained[0] = ratio[0]
	if len(ratio) > 1 {
		p.Explained[1] = ratio[1]
	}
	if labels != nil {
		p.Labels = append([]int(nil), labels...)
		p.Separation = Separate(p.Points, p.Labels)
		if p.Separation != nil {
			p.Separation.Probe = CentroidProbe(rep, n, p.Dim, p.Labels)
		}
	}
	return p, nil
}

// ProjectDataset is [Project] over the first n examples of ds (all of them
// when n ≤ 0 or n ≥ ds.Len()). With classes > 0 each example's target must
// be a class index in [0, classes) and labels the points; with classes = 0
// the points are unlabelled (regression).
func ProjectDataset(ctx context.Context, m nn.Module, layer int, ds data.Dataset, n, classes int) (*Projection, error) {
	if ds == nil {
		return nil, fmt.Errorf("inspect: the data set is nil")
	}
	if n <= 0 || n > ds.Len() {
		n = ds.Len()
	}
	xd, yd := tensor.Numel(ds.XShape()), tensor.Numel(ds.YShape())
	if classes > 0 && yd != 1 {
		return nil, fmt.Errorf("inspect: targets of shape %v are not one class index per example; pass classes = 0 for unlabelled points", ds.YShape())
	}
	xs := make([][]float32, n)
	var labels []int
	if classes > 0 {
		labels = make([]int, n)
	}
	y := make([]float32, yd)
	for i := range xs {
		xs[i] = make([]float32, xd)
		ds.Read(i, xs[i], y)
		if classes > 0 {
			l := int(y[0])
			if float32(l) != y[0] || l < 0 || l >= classes {
				return nil, fmt.Errorf("inspect: example %d has target %v, not a class index in 0..%d", i, y[0], classes-1)
			}
			labels[i] = l
		}
	}
	return Project(ctx, m, layer, xs, ds.XShape(), labels)
}

// Separate scores how well the labelled 2-D points' classes separate (see
// [Separation]); nil when fewer than two classes are present.
func Separate(points [][2]float64, labels []int) *Separation {
	k := 0
	for _, l := range labels {
		k = max(k, l+1)
	}
	count := make([]int, k)
	cent := make([][2]float64, k)
	for i, l := range labels {
		count[l]++
		cent[l][0] += points[i][0]
		cent[l][1] += points[i][1]
	}
	present := 0
	for c := range cent {
		if count[c] > 0 {
			present++
			cent[c][0] /= float64(count[c])
			cent[c][1] /= float64(count[c])
		}
	}
	if present < 2 {
		return nil
	}
	correct := 0
	for i, l := range labels {
		best, bd := -1, math.Inf(1)
		for c := range cent {
			if count[c] == 0 {
				continue
			}
			if dd := dist2(points[i], cent[c]); dd < bd {
				best, bd = c, dd
			}
		}
		if best == l {
			correct++
		}
	}
	sum := make([]float64, k)
	sil := 0.0
	for i, l := range labels {
		clear(sum)
		for j := range labels {
			if j != i {
				sum[labels[j]] += math.Sqrt(dist2(points[i], points[j]))
			}
		}
		if count[l] < 2 {
			continue // a point alone in its class scores 0
		}
		a := sum[l] / float64(count[l]-1)
		b := math.Inf(1)
		for c := range sum {
			if c != l && count[c] > 0 {
				b = math.Min(b, sum[c]/float64(count[c]))
			}
		}
		if den := math.Max(a, b); den > 0 {
			sil += (b - a) / den
		}
	}
	n := float64(len(labels))
	return &Separation{Silhouette: sil / n, CentroidAccuracy: float64(correct) / n, Classes: present}
}

func dist2(a, b [2]float64) float64 {
	dx, dy := a[0]-b[0], a[1]-b[1]
	return dx*dx + dy*dy
}

// CentroidProbe measures how linearly separable labelled vectors are:
// rep holds n vectors of dimension d (row-major); the class means are
// taken over the even-numbered vectors and each odd-numbered vector is
// assigned the class of the nearest mean (Euclidean). It returns the share
// assigned their own class, or 0 when fewer than two vectors or no
// held-out vector's class has a mean.
func CentroidProbe(rep []float64, n, d int, labels []int) float64 {
	if n < 2 || len(rep) < n*d || len(labels) < n {
		return 0
	}
	k := 0
	for _, l := range labels[:n] {
		k = max(k, l+1)
	}
	mean := make([]float64, k*d)
	count := make([]int, k)
	for i := 0; i < n; i += 2 {
		l := labels[i]
		count[l]++
		for j, v := range rep[i*d : (i+1)*d] {
			mean[l*d+j] += v
		}
	}
	for c := range count {
		for j := range d {
			mean[c*d+j] /= float64(max(count[c], 1))
		}
	}
	correct, scored := 0, 0
	for i := 1; i < n; i += 2 {
		best, bd := -1, math.Inf(1)
		x := rep[i*d : (i+1)*d]
		for c := range count {
			if count[c] == 0 {
				continue
			}
			dd := 0.0
			for j, v := range x {
				e := v - mean[c*d+j]
				dd += e * e
			}
			if dd < bd {
				best, bd = c, dd
			}
		}
		scored++
		if best == labels[i] {
			correct++
		}
	}
	if scored == 0 {
		return 0
	}
	return float64(correct) / float64(scored)
}
