package inspect

import (
	"context"
	"github.com/glassbox-ml/glassbox/report"
	"image/color"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/data"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// TestProjectSeparatesDigitsAtTheLastHiddenLayer trains a small MLP on the
// 8×8 digits and checks the textbook picture: in the raw pixels the ten
// classes overlap, in the last hidden layer they fall apart.
func TestProjectSeparatesDigitsAtTheLastHiddenLayer(t *testing.T) {
	ctx := context.Background()
	tr, te := digitsSplit(t)
	rng := tensor.NewRNG(1)
	m := nn.NewSequential(nn.NewLinear(64, 32, rng), nn.NewReLU(), nn.NewLinear(32, 16, rng), nn.NewReLU(), nn.NewLinear(16, 10, rng))
	fit(t, m, tr, 10, 15, 3e-3)
	hidden, err := LastHidden(m)
	if err != nil || hidden != 3 {
		t.Fatalf("LastHidden = %d, %v; want 3 (the second ReLU)", hidden, err)
	}
	in, err := ProjectDataset(ctx, m, InputLayer, te, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	hid, err := ProjectDataset(ctx, m, hidden, te, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*Projection{in, hid} {
		t.Logf("%s (%d dims): explained %.3f %.3f, silhouette %.3f, centroid accuracy %.3f",
			p.Name, p.Dim, p.Explained[0], p.Explained[1], p.Separation.Silhouette, p.Separation.CentroidAccuracy)
		if len(p.Points) != te.Len() || len(p.Labels) != te.Len() || p.Separation.Classes != 10 {
			t.Fatalf("%s: %d points, %d labels, %d classes for %d examples", p.Name, len(p.Points), len(p.Labels), p.Separation.Classes, te.Len())
		}
		if e := p.Explained; e[0] < e[1] || e[1] <= 0 || e[0]+e[1] > 1 {
			t.Errorf("%s: explained variance ratios %v", p.Name, e)
		}
	}
	if in.Dim != 64 || hid.Dim != 16 || hid.Name != "relu3" || in.Layer != InputLayer {
		t.Errorf("projections of %q (%d dims) and %q (%d dims)", in.Name, in.Dim, hid.Name, hid.Dim)
	}
	if hid.Separation.Silhouette < in.Separation.Silhouette+0.1 {
		t.Errorf("silhouette %.3f at the last hidden layer, %.3f at the input: training should separate the classes", hid.Separation.Silhouette, in.Separation.Silhouette)
	}
	if hid.Separation.CentroidAccuracy < in.Separation.CentroidAccuracy+0.1 {
		t.Errorf("nearest-centroid accuracy %.3f at the last hidden layer, %.3f at the input", hid.Separation.CentroidAccuracy, in.Separation.CentroidAccuracy)
	}
	// Projecting the same examples given as slices gives the same picture.
	xs := make([][]float32, 50)
	labels := make([]int, 50)
	y := make([]float32, 1)
	for i := range xs {
		xs[i] = make([]float32, 64)
		te.Read(i, xs[i], y)
		labels[i] = int(y[0])
	}
	p, err := Project(ctx, m, hidden, xs, []int{64}, labels)
	if err != nil {
		t.Fatal(err)
	}
	q, err := ProjectDataset(ctx, m, hidden, te, 50, 10)
	if err != nil {
		t.Fatal(err)
	}
	for i := range p.Points {
		if p.Points[i] != q.Points[i] || p.Labels[i] != q.Labels[i] {
			t.Fatalf("point %d: %v (class %d) from slices, %v (class %d) from the data set", i, p.Points[i], p.Labels[i], q.Points[i], q.Labels[i])
		}
	}
}

func TestProjectErrors(t *testing.T) {
	ctx := context.Background()
	rng := tensor.NewRNG(1)
	m := nn.NewSequential(nn.NewLinear(3, 4, rng), nn.NewReLU(), nn.NewLinear(4, 2, rng))
	xs := [][]float32{{1, 2, 3}, {4, 5, 6}, {7, 8, 10}}
	for _, c := range []struct {
		m      nn.Module
		layer  int
		xs     [][]float32
		shape  []int
		labels []int
		want   string
	}{
		{m, 3, xs, []int{3}, nil, "layer 3 is out of range: the model has 3 layers (use -1..2): 0 linear0 (linear), 1 relu1 (relu), 2 linear2 (linear)"},
		{m, -2, xs, []int{3}, nil, "layer -2 is out of range"},
		{m, 0, xs[:1], []int{3}, nil, "at least 2 inputs, got 1"},
		{m, 0, [][]float32{{1, 2, 3}, {1, 2}}, []int{3}, nil, "input 1 has 2 values; inputs of shape [3] have 3"},
		{m, 0, xs, []int{4}, nil, "got 3 input values for 1 example(s) of shape [4]"},
		{m, 0, xs, []int{3}, []int{0, 1}, "2 labels for 3 inputs"},
		{m, 0, xs, []int{3}, []int{0, -1, 1}, "label -1 of input 1 is negative"},
		{nn.NewLinear(3, 2, rng), 0, xs, []int{3}, nil, "not a Sequential"},
		{nn.NewSequential(nn.NewLinear(2, 2, rng)), 0, xs, []int{3}, nil, "linear"},
	} {
		_, err := Project(ctx, c.m, c.layer, c.xs, c.shape, c.labels)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Project(layer %d) error %v, want %q", c.layer, err, c.want)
		}
	}
	ds, _ := data.FromSlices([]float32{1, 2, 3, 4, 5, 6}, []int{3}, []float32{0, 2.5})
	if _, err := ProjectDataset(ctx, m, 0, ds, 0, 3); err == nil || !strings.Contains(err.Error(), "example 1 has target 2.5, not a class index in 0..2") {
		t.Errorf("fractional class: %v", err)
	}
	if _, err := LastHidden(nn.NewSequential(nn.NewLinear(3, 2, rng), nn.NewReLU())); err == nil || !strings.Contains(err.Error(), "no hidden layer") {
		t.Errorf("LastHidden of a one-layer model: %v", err)
	}
}

func TestSeparateKnownAnswers(t *testing.T) {
	// Two tight clusters far apart: silhouette near 1, every point nearest
	// its own centroid.
	pts := [][2]float64{{0, 0}, {0, 1}, {1, 0}, {100, 100}, {100, 101}, {101, 100}}
	s := Separate(pts, []int{0, 0, 0, 1, 1, 1})
	// a = mean distance within (1, 1, √2 over two neighbours), b ≈ 141.
	if s == nil || s.Silhouette < 0.99 || s.CentroidAccuracy != 1 || s.Classes != 2 {
		t.Errorf("separated clusters: %+v", s)
	}
	// The same points with labels that mix both clusters: each centroid
	// lies between them, one nearer each cluster, and a third of the
	// points sit nearer the other class's centroid.
	s = Separate(pts, []int{0, 1, 0, 1, 0, 1})
	if s.Silhouette >= 0 || math.Abs(s.CentroidAccuracy-4.0/6) > 1e-12 {
		t.Errorf("mixed labels: %+v, want silhouette < 0 and accuracy 4/6", s)
	}
	// Exact silhouette of three points on a line, classes {0, 0, 1}:
	// points 0 and 1 at 0 and 1, point 2 at 3.
	s = Separate([][2]float64{{0, 0}, {1, 0}, {3, 0}}, []int{0, 0, 1})
	want := ((3.0-1)/3 + (2.0-1)/2 + 0) / 3 // point 2 is alone: 0
	if math.Abs(s.Silhouette-want) > 1e-12 || s.CentroidAccuracy != 1 {
		t.Errorf("line: silhouette %v, want %v (%+v)", s.Silhouette, want, s)
	}
	if Separate(pts, []int{2, 2, 2, 2, 2, 2}) != nil {
		t.Error("one class has no separation score")
	}
}

func TestScatterPlot(t *testing.T) {
	p := &Projection{Layer: 4, Name: "relu4", Type: "relu", Dim: 16,
		Points:    [][2]float64{{-1, -1}, {-1.2, -0.8}, {1, 1}, {1.1, 0.9}, {0, 3}},
		Labels:    []int{0, 0, 1, 1, 3},
		Explained: [2]float64{0.6, 0.3}}
	p.Separation = Separate(p.Points, p.Labels)
	img := ScatterPlot(p, []string{"cat", "dog"})
	count := map[color.RGBA]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			count[rgbaAt(img, x, y)]++
		}
	}
	// Each class's colour shows: dots (discs of radius 2: 21 pixels) plus a
	// legend square.
	sq := report.TextHeight(2) * report.TextHeight(2)
	for _, c := range []struct{ class, dots int }{{0, 2}, {1, 2}, {3, 1}} {
		if got, want := count[ClassColor(c.class)], c.dots*21+sq; got != want {
			t.Errorf("class %d colour on %d pixels, want %d (%d dots and a legend square)", c.class, got, want, c.dots)
		}
	}
	if count[ClassColor(2)] != 0 {
		t.Error("class 2 has no points but is drawn")
	}
	// Unlabelled: no class colours at all.
	p.Labels, p.Separation = nil, nil
	img = ScatterPlot(p, nil)
	b = img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if c := rgbaAt(img, x, y); c == ClassColor(0) || c == ClassColor(1) {
				t.Fatalf("unlabelled plot uses class colour %v at (%d, %d)", c, x, y)
			}
		}
	}
}

// Two planted clusters far apart in 50 dimensions are separable (probe
// accuracy 1); labels that ignore the data score near chance (½).
func TestCentroidProbe(t *testing.T) {
	const n, d = 400, 50
	rng := rand.New(rand.NewPCG(3, 4))
	rep := make([]float64, n*d)
	labels := make([]int, n)
	for i := range n {
		labels[i] = rng.IntN(2)
		for j := range d {
			rep[i*d+j] = rng.NormFloat64()
			if j == 7 {
				rep[i*d+j] += 8 * float64(labels[i])
			}
		}
	}
	if a := CentroidProbe(rep, n, d, labels); a < 0.99 {
		t.Errorf("planted clusters: probe accuracy %v, want ≥ 0.99", a)
	}
	for i := range n {
		rep[i*d+7] = rng.NormFloat64() // the signal gone: pure noise
	}
	if a := CentroidProbe(rep, n, d, labels); a < 0.35 || a > 0.65 {
		t.Errorf("noise: probe accuracy %v, want near 0.5", a)
	}
	if CentroidProbe(rep, 1, d, labels) != 0 {
		t.Error("one vector: want 0")
	}
}
