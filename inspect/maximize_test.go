package inspect

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// smallCNN is an untrained two-convolution net over 1×12×12 images.
func smallCNN(seed uint64) *nn.Sequential {
	rng := tensor.NewRNG(seed)
	return nn.NewSequential(
		nn.NewConv2D(1, 4, 3, rng, nn.ConvPadding(1)), nn.NewReLU(), nn.NewMaxPool2D(2, 0, 0),
		nn.NewConv2D(4, 6, 3, rng, nn.ConvPadding(1)), nn.NewReLU(),
		nn.NewFlatten(), nn.NewLinear(6*6*6, 3, rng))
}

func TestMaximizeRaisesTheActivation(t *testing.T) {
	ctx := context.Background()
	m := smallCNN(5)
	shape := []int{1, 12, 12}
	init := make([]float32, 144)
	r := rand.New(rand.NewPCG(9, 9))
	for i := range init {
		init[i] = 0.5 + 0.01*float32(r.NormFloat64())
	}
	// Set a gradient on a parameter: Maximize must leave it as it was.
	m.Layers[0].Params()[0].Grad = tensor.Full(7, m.Layers[0].Params()[0].Value.Shape()...)
	for _, c := range []struct{ layer, channel int }{{3, 2}, {0, 1}, {6, 0}} {
		before, err := ChannelActivation(ctx, m, init, shape, c.layer, c.channel, false)
		if err != nil {
			t.Fatal(err)
		}
		x, err := Maximize(ctx, m, shape, c.layer, c.channel, MaximizeOptions{Seed: 1, Init: init})
		if err != nil {
			t.Fatal(err)
		}
		after, err := ChannelActivation(ctx, m, x, shape, c.layer, c.channel, false)
		if err != nil {
			t.Fatal(err)
		}
		// No random input in the range comes close.
		best := math.Inf(-1)
		for k := 0; k < 50; k++ {
			u := make([]float32, 144)
			for i := range u {
				u[i] = r.Float32()
			}
			a, err := ChannelActivation(ctx, m, u, shape, c.layer, c.channel, false)
			if err != nil {
				t.Fatal(err)
			}
			best = math.Max(best, a)
		}
		t.Logf("layer %d channel %d: %.4f → %.4f; best of 50 random inputs %.4f", c.layer, c.channel, before, after, best)
		if after < before+0.3 || after <= best {
			t.Errorf("layer %d channel %d: activation %.4f → %.4f (best random input %.4f); gradient ascent should raise it well above both", c.layer, c.channel, before, after, best)
		}
		for i, v := range x {
			if v < 0 || v > 1 {
				t.Fatalf("value %d = %v outside the input range [0, 1]", i, v)
			}
		}
	}
	if g := m.Layers[0].Params()[0].Grad; g == nil || g.Data()[0] != 7 {
		t.Error("Maximize changed a parameter's gradient")
	}
	for _, p := range m.Params()[2:] {
		if p.Grad != nil {
			t.Fatalf("Maximize left a gradient on %s", p.Name)
		}
	}
}

// TestMaximizeReachesTheLinearOptimum uses a neuron that is linear in the
// input: the centre value of a first-layer convolution channel is
// b + Σ w·x over its 3×3 receptive field, so over inputs in [0, 1] its
// maximum puts 1 where the kernel weight is positive and 0 where it is
// negative, and leaves the pixels outside the field alone. Without
// regularisers gradient ascent must find exactly that.
func TestMaximizeReachesTheLinearOptimum(t *testing.T) {
	ctx := context.Background()
	m := smallCNN(8)
	shape := []int{1, 12, 12}
	conv := m.Layers[0].(*nn.Conv2D)
	for channel := 0; channel < 4; channel++ {
		w := conv.Weight.Value.Data()[channel*9 : (channel+1)*9]
		best := float64(conv.Bias.Value.Data()[channel])
		for _, v := range w {
			best += math.Max(float64(v), 0)
		}
		init := make([]float32, 144)
		for i := range init {
			init[i] = 0.25 + float32(i)/300
		}
		x, err := Maximize(ctx, m, shape, 0, channel, MaximizeOptions{Steps: 400, L2: -1, Blur: -1, Jitter: -1, Centre: true, Init: init})
		if err != nil {
			t.Fatal(err)
		}
		got, err := ChannelActivation(ctx, m, x, shape, 0, channel, true)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-best) > 1e-5 {
			t.Errorf("channel %d: maximum %.6f, want the linear optimum %.6f", channel, got, best)
		}
		// The centre of the 12×12 output is (6, 6); with padding 1 its
		// receptive field is rows and columns 5..7.
		for p := range x {
			y, xx := p/12, p%12
			want := init[p]
			if y >= 5 && y <= 7 && xx >= 5 && xx <= 7 {
				want = 0
				if w[(y-5)*3+xx-5] > 0 {
					want = 1
				}
			}
			if x[p] != want {
				t.Errorf("channel %d pixel (%d, %d) = %v, want %v", channel, y, xx, x[p], want)
			}
		}
	}
}

func TestMaximizeDeterministic(t *testing.T) {
	ctx := context.Background()
	m := smallCNN(6)
	shape := []int{1, 12, 12}
	run := func(seed uint64) []float32 {
		x, err := Maximize(ctx, m, shape, 3, 0, MaximizeOptions{Seed: seed, Steps: 40})
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	a, b, c := run(1), run(1), run(2)
	if !slices.Equal(a, b) {
		t.Error("the same seed gave different inputs")
	}
	if slices.Equal(a, c) {
		t.Error("different seeds gave the same input")
	}
}

func TestMaximizeErrors(t *testing.T) {
	ctx := context.Background()
	m := smallCNN(7)
	shape := []int{1, 12, 12}
	for _, c := range []struct {
		m              nn.Module
		layer, channel int
		o              MaximizeOptions
		want           string
	}{
		{m, 3, 6, MaximizeOptions{}, "channel 6 is out of range: layer 3 (conv2d3) has 6 channels (use 0..5)"},
		{m, 3, -1, MaximizeOptions{}, "channel -1 is out of range"},
		{m, 7, 0, MaximizeOptions{}, "layer 7 is out of range: the model has 7 layers"},
		{m, 3, 0, MaximizeOptions{Steps: -1}, "Steps is -1"},
		{m, 3, 0, MaximizeOptions{Min: 1, Max: -1}, "input range [1, -1] is empty"},
		{m, 3, 0, MaximizeOptions{Init: make([]float32, 3)}, "Init has 3 values; inputs of shape [1 12 12] have 144"},
		{nn.NewLinear(2, 2, tensor.NewRNG(1)), 0, 0, MaximizeOptions{}, "not a Sequential"},
		{nn.NewSequential(nn.NewEmbedding(10, 4, tensor.NewRNG(1))), 0, 0, MaximizeOptions{Min: 0, Max: 9}, "starts with an embedding of token ids"},
	} {
		s := shape
		if _, ok := c.m.(*nn.Sequential); ok && c.m.(*nn.Sequential).Layers[0].Spec().Type == "embedding" {
			s = []int{5}
		}
		_, err := Maximize(ctx, c.m, s, c.layer, c.channel, c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Maximize(layer %d, channel %d) error %v, want %q", c.layer, c.channel, err, c.want)
		}
	}
}

func TestRollAndBlur(t *testing.T) {
	src := []float32{1, 2, 3, 4, 5, 6} // 2×3
	dst := make([]float32, 6)
	roll(dst, src, 1, 2, 3, 1, -1)
	// dst[y][x] = src[y−1][x+1], cyclically.
	if want := []float32{5, 6, 4, 2, 3, 1}; !slices.Equal(dst, want) {
		t.Errorf("roll = %v, want %v", dst, want)
	}
	back := make([]float32, 6)
	roll(back, dst, 1, 2, 3, -1, 1)
	if !slices.Equal(back, src) {
		t.Errorf("roll back = %v", back)
	}
	// A constant plane is unchanged; an impulse spreads 4:2:1 over 16.
	c := []float32{3, 3, 3, 3, 3, 3, 3, 3, 3}
	blur3(dst[:0:0], nil, 0, 3, 3)
	out := make([]float32, 9)
	blur3(out, c, 1, 3, 3)
	if !slices.Equal(out, c) {
		t.Errorf("blur of a constant = %v", out)
	}
	imp := []float32{0, 0, 0, 0, 16, 0, 0, 0, 0}
	blur3(out, imp, 1, 3, 3)
	if want := []float32{1, 2, 1, 2, 4, 2, 1, 2, 1}; !slices.Equal(out, want) {
		t.Errorf("blur of an impulse = %v, want %v", out, want)
	}
}
