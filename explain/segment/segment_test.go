package segment

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// segmenters are the content-aware entry points with default options.
var segmenters = []struct {
	name string
	fn   func(pix []float32, c, h, w int) (*Segmentation, error)
}{
	{"Quickshift", func(p []float32, c, h, w int) (*Segmentation, error) {
		return Quickshift(p, c, h, w, QuickshiftOptions{})
	}},
	{"SLIC", func(p []float32, c, h, w int) (*Segmentation, error) {
		return SLIC(p, c, h, w, SLICOptions{})
	}},
	{"Auto", Auto},
}

func TestSyntheticDigitCounts(t *testing.T) {
	for _, img := range []struct {
		name string
		pix  []float32
	}{{"seven", digit7(28, 28)}, {"ring", ring(28, 28)}} {
		for _, sg := range segmenters {
			s, err := sg.fn(img.pix, 1, 28, 28)
			if err != nil {
				t.Fatalf("%s on %s: %v", sg.name, img.name, err)
			}
			checkValid(t, s, 28, 28)
			if s.N < 10 || s.N > 60 {
				t.Errorf("%s on a 28×28 %s gave %d segments; want 10..60\n%s", sg.name, img.name, s.N, render(s))
			}
		}
	}
}

func TestMNISTCounts(t *testing.T) {
	imgs := mnistImages(t, 12)
	for k, img := range imgs {
		for _, sg := range segmenters {
			s, err := sg.fn(img, 1, 28, 28)
			if err != nil {
				t.Fatalf("%s on MNIST test digit %d: %v", sg.name, k, err)
			}
			checkValid(t, s, 28, 28)
			if s.N < 10 || s.N > 60 {
				t.Errorf("%s on MNIST test digit %d gave %d segments; want 10..60\n%s", sg.name, k, s.N, render(s))
			}
		}
	}
}

// inkPurity is the fraction of pixels whose segment's majority class (ink
// v > 0.5 or background) is their own class.
func inkPurity(s *Segmentation, pix []float32) float64 {
	ink := make([]int, s.N)
	for i, l := range s.Labels {
		if pix[i] > 0.5 {
			ink[l]++
		}
	}
	sizes := s.Sizes()
	agree := 0
	for i, l := range s.Labels {
		if (pix[i] > 0.5) == (2*ink[l] > sizes[l]) {
			agree++
		}
	}
	return float64(agree) / float64(len(pix))
}

// Content-aware segments follow the stroke: their ink/background purity
// beats a content-blind grid with about as many cells.
func TestSegmentsFollowStroke(t *testing.T) {
	imgs := append(mnistImages(t, 8), digit7(28, 28), ring(28, 28))
	grid, err := Grid(28, 28, 4, 4) // 49 cells
	if err != nil {
		t.Fatal(err)
	}
	for k, img := range imgs {
		g := inkPurity(grid, img)
		for _, sg := range segmenters {
			s, err := sg.fn(img, 1, 28, 28)
			if err != nil {
				t.Fatal(err)
			}
			if p := inkPurity(s, img); p < 0.93 || p <= g {
				t.Errorf("image %d: %s ink/background purity %.3f; want ≥ 0.93 and above the 4×4 grid's %.3f\n%s",
					k, sg.name, p, g, render(s))
			}
		}
	}
}

// twoColour draws two flat colours split by a curved edge; colourA reports
// which side pixel i is on.
func twoColour(c, h, w int) (pix []float32, colourA func(i int) bool) {
	hw := h * w
	a := func(i int) bool {
		y, x := float64(i/w), float64(i%w)
		return x < 0.45*float64(w)+0.2*float64(w)*math.Sin(3*y/float64(h))
	}
	pix = make([]float32, c*hw)
	ca, cb := []float32{0.9, 0.2, 0.1}, []float32{0.1, 0.3, 0.8}
	if c == 1 {
		ca, cb = []float32{0.2}, []float32{0.8}
	}
	for i := 0; i < hw; i++ {
		col := cb
		if a(i) {
			col = ca
		}
		for ch := 0; ch < c; ch++ {
			pix[ch*hw+i] = col[ch]
		}
	}
	return pix, a
}

func TestTwoColourEdge(t *testing.T) {
	for _, c := range []int{1, 3} {
		for _, size := range [][2]int{{40, 48}, {28, 28}, {120, 96}} {
			h, w := size[0], size[1]
			pix, isA := twoColour(c, h, w)
			for _, sg := range segmenters {
				s, err := sg.fn(pix, c, h, w)
				if err != nil {
					t.Fatal(err)
				}
				checkValid(t, s, h, w)
				side := make([]int, s.N) // 0 unseen, 1 A, 2 B
				for i, l := range s.Labels {
					v := 2
					if isA(i) {
						v = 1
					}
					if side[l] == 0 {
						side[l] = v
					} else if side[l] != v {
						t.Fatalf("%s, %d channels, %d×%d: segment %d straddles the colour edge (pixel (%d, %d))\n%s",
							sg.name, c, h, w, l, i/w, i%w, render(s))
					}
				}
				if s.N < 2 {
					t.Errorf("%s, %d channels, %d×%d: %d segment(s); want the two colours apart", sg.name, c, h, w, s.N)
				}
			}
		}
	}
}

func TestDeterministic(t *testing.T) {
	imgs := [][]float32{digit7(28, 28), mnistImages(t, 1)[0]}
	for _, img := range imgs {
		for _, sg := range segmenters {
			a, err := sg.fn(img, 1, 28, 28)
			if err != nil {
				t.Fatal(err)
			}
			b, err := sg.fn(slices.Clone(img), 1, 28, 28)
			if err != nil {
				t.Fatal(err)
			}
			if a.N != b.N || !slices.Equal(a.Labels, b.Labels) {
				t.Errorf("%s gave different labels on the same image", sg.name)
			}
		}
	}
	sc := scene(64, 80)
	a, _ := Quickshift(sc, 3, 64, 80, QuickshiftOptions{})
	b, _ := Quickshift(sc, 3, 64, 80, QuickshiftOptions{})
	if !slices.Equal(a.Labels, b.Labels) {
		t.Error("Quickshift gave different labels on the same RGB image")
	}
}

func TestLargeImageCounts(t *testing.T) {
	sc := scene(224, 224)
	g := digit7(224, 224)
	for _, tc := range []struct {
		name   string
		pix    []float32
		c      int
		lo, hi int
	}{
		{"Auto RGB scene", sc, 3, 66, 120},
		{"Auto grey seven", g, 1, 66, 120},
		{"Quickshift RGB scene", sc, 3, 8, 128},
		{"Quickshift grey seven", g, 1, 20, 128},
	} {
		var s *Segmentation
		var err error
		if strings.HasPrefix(tc.name, "Auto") {
			s, err = Auto(tc.pix, tc.c, 224, 224)
		} else {
			s, err = Quickshift(tc.pix, tc.c, 224, 224, QuickshiftOptions{})
		}
		if err != nil {
			t.Fatal(err)
		}
		checkValid(t, s, 224, 224)
		if s.N < tc.lo || s.N > tc.hi {
			t.Errorf("%s 224×224: %d segments; want %d..%d", tc.name, s.N, tc.lo, tc.hi)
		}
		// The default minimum size bounds how small a segment can be.
		if strings.HasPrefix(tc.name, "Quickshift") {
			if m := slices.Min(s.Sizes()); m < 224*224/128 {
				t.Errorf("%s: smallest segment has %d pixels; want ≥ %d (default MinSize)", tc.name, m, 224*224/128)
			}
		}
	}
}

func TestSLICFollowsNSegments(t *testing.T) {
	sc := scene(96, 128)
	for _, n := range []int{8, 30, 100, 300} {
		s, err := SLIC(sc, 3, 96, 128, SLICOptions{NSegments: n})
		if err != nil {
			t.Fatal(err)
		}
		checkValid(t, s, 96, 128)
		if s.N < n/2 || s.N > 2*n {
			t.Errorf("SLIC NSegments=%d gave %d segments; want %d..%d", n, s.N, n/2, 2*n)
		}
	}
	// Higher compactness gives more regular (squarer) segments: a smaller
	// total boundary length.
	border := func(s *Segmentation) int {
		n := 0
		for _, b := range s.Boundaries() {
			if b {
				n++
			}
		}
		return n
	}
	loose, _ := SLIC(sc, 3, 96, 128, SLICOptions{NSegments: 60, Compactness: 1})
	tight, _ := SLIC(sc, 3, 96, 128, SLICOptions{NSegments: 60, Compactness: 40})
	t.Logf("boundary pixels: compactness 40: %d, compactness 1: %d", border(tight), border(loose))
	if border(tight) >= border(loose) {
		t.Errorf("Compactness 40 boundary %d px, Compactness 2 %d px; want the compact one shorter", border(tight), border(loose))
	}
}

func TestQuickshiftKernelSizeControlsCount(t *testing.T) {
	sc := scene(64, 64)
	small, err := Quickshift(sc, 3, 64, 64, QuickshiftOptions{KernelSize: 1, MinSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	large, err := Quickshift(sc, 3, 64, 64, QuickshiftOptions{KernelSize: 3, MinSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	checkValid(t, small, 64, 64)
	checkValid(t, large, 64, 64)
	if large.N >= small.N {
		t.Errorf("KernelSize 3 gave %d segments, KernelSize 1 gave %d; want fewer with the larger kernel", large.N, small.N)
	}
	// MinSize is honoured.
	for _, ms := range []int{10, 60} {
		s, _ := Quickshift(sc, 3, 64, 64, QuickshiftOptions{MinSize: ms})
		if m := slices.Min(s.Sizes()); m < ms {
			t.Errorf("MinSize %d: smallest segment has %d pixels", ms, m)
		}
	}
}

// Values outside [0, 1] are rescaled by the image's own range, so a digit
// stored as 0..4 segments exactly like the same digit as 0..1.
func TestValueRangeInvariance(t *testing.T) {
	unit := digit7(28, 28)
	scaled := make([]float32, len(unit))
	for i, v := range unit {
		unit[i] = float32(math.Round(float64(v)*4)) / 4 // exact in float32 at both scales
		scaled[i] = unit[i] * 4
	}
	for _, sg := range segmenters {
		a, _ := sg.fn(unit, 1, 28, 28)
		b, err := sg.fn(scaled, 1, 28, 28)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a.Labels, b.Labels) {
			t.Errorf("%s: image in [0,4] segments differently from the same image in [0,1]", sg.name)
		}
	}
}

func TestErrors(t *testing.T) {
	good := make([]float32, 28*28)
	nan := slices.Clone(good)
	nan[30] = float32(math.NaN())
	cases := []struct {
		name string
		err  error
		want string
	}{}
	add := func(name string, err error, want string) {
		cases = append(cases, struct {
			name string
			err  error
			want string
		}{name, err, want})
	}
	for _, sg := range segmenters {
		_, err := sg.fn(good, 2, 28, 14)
		add(sg.name+" channels", err, "2 channels; want 1 (grey) or 3 (RGB)")
		_, err = sg.fn(good[:700], 1, 28, 28)
		add(sg.name+" length", err, "len(pix) = 700, want c*h*w = 1*28*28 = 784")
		_, err = sg.fn(good[:28], 1, 1, 28)
		add(sg.name+" height", err, "image is 1×28")
		_, err = sg.fn(nan, 1, 28, 28)
		add(sg.name+" NaN", err, "pixel (channel 0, y 1, x 2) is NaN")
	}
	_, err := Quickshift(good, 1, 28, 28, QuickshiftOptions{KernelSize: -1})
	add("KernelSize", err, "KernelSize = -1")
	_, err = Quickshift(good, 1, 28, 28, QuickshiftOptions{Ratio: math.Inf(1)})
	add("Ratio", err, "Ratio = +Inf")
	_, err = Quickshift(good, 1, 28, 28, QuickshiftOptions{MaxDist: -2})
	add("MaxDist", err, "MaxDist = -2")
	_, err = Quickshift(good, 1, 28, 28, QuickshiftOptions{MinSize: -1})
	add("MinSize", err, "MinSize = -1")
	_, err = SLIC(good, 1, 28, 28, SLICOptions{NSegments: 785})
	add("NSegments", err, "NSegments = 785; want 0 (auto) or 1..784")
	_, err = SLIC(good, 1, 28, 28, SLICOptions{Compactness: -1})
	add("Compactness", err, "Compactness = -1")
	_, err = SLIC(good, 1, 28, 28, SLICOptions{MinSizeFactor: 2})
	add("MinSizeFactor", err, "MinSizeFactor = 2")
	_, err = Grid(10, 10, 0, 3)
	add("Grid cell", err, "cell size 0×3")
	_, err = Grid(0, 10, 2, 2)
	add("Grid size", err, "image size 0×10")
	_, err = FromLabels(3, 3, []int{1, 2})
	add("FromLabels", err, "2 labels, want h*w = 3*3 = 9")
	_, err = (&Segmentation{H: 2, W: 2, N: 1, Labels: []int{0, 0, 0, 0}}).Means(make([]float32, 4), 3)
	add("Means", err, "len(pix) = 4, want c*H*W = 3*2*2 = 12")
	for _, tc := range cases {
		if tc.err == nil {
			t.Errorf("%s: no error; want one containing %q", tc.name, tc.want)
		} else if !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: error %q; want it to contain %q", tc.name, tc.err, tc.want)
		}
	}
}

func TestGrid(t *testing.T) {
	s, err := Grid(5, 7, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []int{
		0, 0, 0, 1, 1, 1, 2,
		0, 0, 0, 1, 1, 1, 2,
		3, 3, 3, 4, 4, 4, 5,
		3, 3, 3, 4, 4, 4, 5,
		6, 6, 6, 7, 7, 7, 8,
	}
	if s.N != 9 || !slices.Equal(s.Labels, want) {
		t.Errorf("Grid(5, 7, 2, 3) = N %d, labels %v; want 9, %v", s.N, s.Labels, want)
	}
	if got := s.Sizes(); !slices.Equal(got, []int{6, 6, 2, 6, 6, 2, 3, 3, 1}) {
		t.Errorf("Sizes = %v", got)
	}
	checkValid(t, s, 5, 7)
	one, _ := Grid(4, 4, 10, 10)
	if one.N != 1 {
		t.Errorf("cells larger than the image: N = %d; want 1", one.N)
	}
}

func TestFromLabelsAndValidate(t *testing.T) {
	// Label 7 appears in two separate places; label 3 is one region.
	labels := []int{
		7, 7, 3, 3,
		3, 3, 3, 7,
		3, 3, 3, 7,
	}
	s, err := FromLabels(3, 4, labels)
	if err != nil {
		t.Fatal(err)
	}
	want := []int{
		0, 0, 1, 1,
		1, 1, 1, 2,
		1, 1, 1, 2,
	}
	if s.N != 3 || !slices.Equal(s.Labels, want) {
		t.Errorf("FromLabels = N %d %v; want 3 %v", s.N, s.Labels, want)
	}
	if err := s.Validate(); err != nil {
		t.Errorf("Validate on FromLabels output: %v", err)
	}
	bad := []struct {
		s    Segmentation
		want string
	}{
		{Segmentation{H: 3, W: 4, N: 2, Labels: []int{0, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0}}, "segment 0 is not connected"},
		{Segmentation{H: 1, W: 3, N: 3, Labels: []int{0, 0, 2}}, "segment id 1 has no pixels"},
		{Segmentation{H: 1, W: 3, N: 2, Labels: []int{0, 2, 1}}, "label 2 at pixel (0, 1) is out of range [0, 2)"},
		{Segmentation{H: 2, W: 3, N: 1, Labels: []int{0, 0, 0}}, "has 3 labels, want H*W = 2*3 = 6"},
	}
	for _, b := range bad {
		err := b.s.Validate()
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("Validate(%v) = %v; want error containing %q", b.s.Labels, err, b.want)
		}
	}
}

func TestMaskBoundariesMeans(t *testing.T) {
	s := &Segmentation{H: 2, W: 3, N: 2, Labels: []int{0, 0, 1, 0, 1, 1}}
	if got := s.Mask(1); !slices.Equal(got, []bool{false, false, true, false, true, true}) {
		t.Errorf("Mask(1) = %v", got)
	}
	// Every pixel touching the other segment, on both sides of the edge.
	if got := s.Boundaries(); !slices.Equal(got, []bool{false, true, true, true, true, false}) {
		t.Errorf("Boundaries = %v", got)
	}
	pix := []float32{
		1, 2, 3, 4, 5, 6, // channel 0
		10, 20, 30, 40, 50, 60, // channel 1
	}
	m, err := s.Means(pix, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Segment 0: pixels 0, 1, 3; segment 1: pixels 2, 4, 5.
	want := []float32{7.0 / 3, 70.0 / 3, 14.0 / 3, 140.0 / 3}
	for i := range want {
		if math.Abs(float64(m[i]-want[i])) > 1e-5 {
			t.Fatalf("Means = %v; want %v", m, want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("Mask(2) on 2 segments did not panic")
		}
	}()
	s.Mask(2)
}

// A one-pixel piece joins the neighbour whose colour is closest, not the one
// it shares most border with.
func TestMergeSmallPicksClosestColour(t *testing.T) {
	// 3×5: left block colour 0 (label 0), right block colour 100 (label 2);
	// pixel (1,2) label 1 with colour 90 touches both.
	h, w := 3, 5
	labels := []int{
		0, 0, 0, 2, 2,
		0, 0, 1, 2, 2,
		0, 0, 0, 2, 2,
	}
	feat := []float64{
		0, 0, 0, 100, 100,
		0, 0, 90, 100, 100,
		0, 0, 0, 100, 100,
	}
	s := connectAndMerge(labels, h, w, feat, 1, 2)
	if s.N != 2 || s.Labels[7] != s.Labels[8] {
		t.Errorf("merged labels %v (N %d); want the colour-90 pixel with the colour-100 block", s.Labels, s.N)
	}
}
