package inspect

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// MaximizeOptions tunes [Maximize]. The zero value gives the defaults; a
// negative L2, Blur or Jitter turns that regulariser off.
type MaximizeOptions struct {
	// Steps is the number of gradient-ascent steps; 0 picks 200.
	Steps int
	// LR is the step size: each step moves the input by LR·(Max−Min) times
	// the gradient divided by its root mean square, so LR is a fraction of
	// the input range per step whatever the gradient's scale. 0 picks 0.05.
	LR float64
	// L2 pulls the input toward the middle of its range after every step,
	// x ← x − L2·(x − (Min+Max)/2) (Yosinski et al.'s L2 decay), so only
	// what the channel needs stands out. 0 picks 0.01.
	L2 float64
	// Blur mixes the input with a 3×3 binomial blur of itself after every
	// step, x ← (1−Blur)·x + Blur·blur(x) (Yosinski et al.'s Gaussian blur),
	// which damps the high-frequency patterns gradient ascent otherwise
	// produces. Image inputs ([C, H, W]) only. 0 picks 0.3.
	Blur float64
	// Jitter shifts the input by a random offset of up to Jitter pixels in
	// each direction before every forward pass (Olah et al.'s transformation
	// robustness), so the pattern must work wherever it sits. Image inputs
	// only. 0 picks 1.
	Jitter int
	// Seed draws the starting noise and the jitter offsets: the same seed
	// gives the same result.
	Seed uint64
	// Min and Max are the input range; values are clipped to it after
	// every step. Both zero picks [0, 1], glassbox's image range.
	Min, Max float32
	// Init, if not nil, is the starting input (one example); nil starts
	// from the middle of the range plus seeded noise of 1% of the range.
	Init []float32
	// Centre maximises the channel at the centre position only (one
	// neuron, as Yosinski et al. do) instead of its mean over all
	// positions: the result then shows the channel's receptive field, the
	// pattern it looks for at one place, rather than a texture that fills
	// the image. Layers with [K] outputs have no positions and ignore it.
	Centre bool
}

func (o MaximizeOptions) withDefaults() (MaximizeOptions, error) {
	if o.Steps == 0 {
		o.Steps = 200
	}
	if o.LR == 0 {
		o.LR = 0.05
	}
	if o.L2 == 0 {
		o.L2 = 0.01
	}
	if o.Blur == 0 {
		o.Blur = 0.3
	}
	if o.Jitter == 0 {
		o.Jitter = 1
	}
	if o.Min == 0 && o.Max == 0 {
		o.Max = 1
	}
	switch {
	case o.Steps < 0:
		return o, fmt.Errorf("inspect: maximize: Steps is %d; use at least 1 (0 picks 200)", o.Steps)
	case o.LR < 0 || math.IsNaN(o.LR) || math.IsInf(o.LR, 0):
		return o, fmt.Errorf("inspect: maximize: LR is %v; use a positive step (0 picks 0.05)", o.LR)
	case !(o.Max > o.Min) || math.IsInf(float64(o.Max-o.Min), 0):
		return o, fmt.Errorf("inspect: maximize: input range [%v, %v] is empty; set Min < Max", o.Min, o.Max)
	case o.L2 >= 1 || math.IsNaN(o.L2):
		return o, fmt.Errorf("inspect: maximize: L2 is %v; use a decay below 1 (0 picks 0.01, negative turns it off)", o.L2)
	case o.Blur > 1 || math.IsNaN(o.Blur):
		return o, fmt.Errorf("inspect: maximize: Blur is %v; use a strength up to 1 (0 picks 0.3, negative turns it off)", o.Blur)
	}
	return o, nil
}

// target returns the objective's value for layer output y ([1, ...]): the
// mean over positions of channel ch for a [1, C, H, W] output (or any rank
// ≥ 3, channels on axis 1), its value at the centre position with centre,
// or unit ch of a [1, K] output.
func target(tp *autograd.Tape, y *autograd.Var, ch int, centre bool) *autograd.Var {
	v := tp.Slice(y, 1, ch, ch+1)
	if centre {
		for axis := 2; axis < len(y.Shape()); axis++ {
			c := y.Shape()[axis] / 2
			v = tp.Slice(v, axis, c, c+1)
		}
	}
	return tp.Mean(v, false)
}

// channelTarget runs x through layers up to layer and returns what is
// maximised for channel (see target), or an error when the layer's output
// has no channel axis or channel is out of its range.
func channelTarget(c *nn.Ctx, layers []nn.Module, x *autograd.Var, layer, channel int, centre bool) (*autograd.Var, error) {
	y := forward(c, layers, x, layer, nil)
	shape := y.Shape()
	if len(shape) < 2 {
		return nil, fmt.Errorf("inspect: layer %d (%s) returns shape %v, with no channel or unit axis to maximise", layer, LayerName(layers[layer], layer), shape[1:])
	}
	if k := shape[1]; channel < 0 || channel >= k {
		return nil, fmt.Errorf("inspect: channel %d is out of range: layer %d (%s) has %d channels (use 0..%d)", channel, layer, LayerName(layers[layer], layer), k, k-1)
	}
	return target(c.Tape, y, channel, centre), nil
}

// ChannelActivation runs the input x (shape inputShape) through m up to
// layer and returns what [Maximize] maximises: the mean of channel over its
// positions for a [C, H, W] output (its value at the centre position
// [H/2, W/2] with centre), or the value of unit channel for a [K] output.
func ChannelActivation(ctx context.Context, m nn.Module, x []float32, inputShape []int, layer, channel int, centre bool) (float64, error) {
	layers, err := Layers(m)
	if err != nil {
		return 0, err
	}
	if err := checkLayer(layers, layer, false); err != nil {
		return 0, err
	}
	if _, err := checkShape(inputShape, len(x), 1); err != nil {
		return 0, err
	}
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	in := tensor.MustFromSlice(slices.Clone(x), append([]int{1}, inputShape...)...)
	var val float64
	var inner error
	err = tensor.Catch(func() {
		obj, err := channelTarget(nn.Eval(), layers, autograd.Const(in), layer, channel, centre)
		if err != nil {
			inner = err
			return
		}
		val = float64(obj.Value.Item())
	})
	if err != nil {
		return 0, fmt.Errorf("inspect: running input of shape %v through the model: %w", inputShape, err)
	}
	return val, inner
}

// Maximize synthesises the input that most excites one channel of one
// layer of the Sequential m (activation maximisation; Erhan et al. 2009,
// Yosinski et al. 2015, Olah et al. 2017): starting from noise (or
// o.Init), it climbs the gradient of [ChannelActivation] with respect to
// the input, with the regularisers that make the result look like
// something rather than adversarial noise: L2 decay toward the middle of
// the range, a light blur and random jitter for images, and clipping to
// the input range [o.Min, o.Max]. The model runs in inference mode
// (nn.EvalGrad); its parameters' gradients are set aside and restored, but
// do not run it while the same model trains. For a [K]-output layer,
// channel is a unit: maximising an output unit draws what the model takes
// for that class. The result has inputShape's size; the same options give
// bit-identical results.
func Maximize(ctx context.Context, m nn.Module, inputShape []int, layer, channel int, o MaximizeOptions) ([]float32, error) {
	layers, err := Layers(m)
	if err != nil {
		return nil, err
	}
	if err := checkLayer(layers, layer, false); err != nil {
		return nil, err
	}
	d, err := checkShape(inputShape, tensor.Numel(inputShape), 1)
	if err != nil {
		return nil, err
	}
	if o, err = o.withDefaults(); err != nil {
		return nil, err
	}
	if _, ok := layers[0].(*nn.Embedding); ok {
		return nil, fmt.Errorf("inspect: maximize: the model starts with an embedding of token ids, which does not depend differentiably on the input; gradient ascent needs image or table inputs")
	}
	lo, hi := o.Min, o.Max
	span := float64(hi - lo)
	mid := (lo + hi) / 2
	rng := rand.New(rand.NewPCG(o.Seed, 0x1a5eb0c5))
	x := make([]float32, d)
	if o.Init != nil {
		if len(o.Init) != d {
			return nil, fmt.Errorf("inspect: maximize: Init has %d values; inputs of shape %v have %d", len(o.Init), inputShape, d)
		}
		copy(x, o.Init)
	} else {
		for i := range x {
			x[i] = mid + float32(0.01*span*rng.NormFloat64())
		}
	}
	clip(x, lo, hi)
	image := len(inputShape) == 3
	c, h, w := 1, 1, d
	if image {
		c, h, w = inputShape[0], inputShape[1], inputShape[2]
	}
	jitter := 0
	if image && o.Jitter > 0 {
		jitter = min(o.Jitter, h-1, w-1)
	}
	// Parameters' gradients are set aside, then left nil between steps so
	// they do not pile up, and restored at the end.
	ps := m.Params()
	saved := make([]*tensor.Tensor, len(ps))
	for i, p := range ps {
		saved[i], p.Grad = p.Grad, nil
	}
	defer func() {
		for i, p := range ps {
			p.Grad = saved[i]
		}
	}()
	shifted := make([]float32, d)
	grad := make([]float32, d)
	blurred := make([]float32, d)
	for step := 0; step < o.Steps; step++ {
		if err := ctxErr(ctx); err != nil {
			return nil, err
		}
		dy, dx := 0, 0
		if jitter > 0 {
			dy, dx = rng.IntN(2*jitter+1)-jitter, rng.IntN(2*jitter+1)-jitter
		}
		roll(shifted, x, c, h, w, dy, dx)
		in := autograd.Input(tensor.MustFromSlice(slices.Clone(shifted), append([]int{1}, inputShape...)...))
		var inner error
		err := tensor.Catch(func() {
			ctxt := nn.EvalGrad()
			obj, err := channelTarget(ctxt, layers, in, layer, channel, o.Centre)
			if err != nil {
				inner = err
				return
			}
			if !obj.RequiresGrad() {
				inner = fmt.Errorf("inspect: maximize: layer %d (%s) does not depend differentiably on the input (token-id inputs cannot be optimised)", layer, LayerName(layers[layer], layer))
				return
			}
			inner = ctxt.Tape.Backward(obj)
		})
		for _, p := range ps {
			p.Grad = nil
		}
		if err != nil {
			return nil, fmt.Errorf("inspect: maximize: input of shape %v: %w", inputShape, err)
		}
		if inner != nil {
			return nil, inner
		}
		if in.Grad == nil {
			return nil, fmt.Errorf("inspect: maximize: layer %d (%s) does not depend differentiably on the input", layer, LayerName(layers[layer], layer))
		}
		roll(grad, in.Grad.Contiguous().Data(), c, h, w, -dy, -dx)
		var ss float64
		for _, g := range grad {
			ss += float64(g) * float64(g)
		}
		if rms := math.Sqrt(ss / float64(d)); rms > 0 && !math.IsInf(rms, 0) {
			f := float32(o.LR * span / rms)
			for i, g := range grad {
				x[i] += f * g
			}
		}
		if o.L2 > 0 {
			k := float32(o.L2)
			for i := range x {
				x[i] -= k * (x[i] - mid)
			}
		}
		if image && o.Blur > 0 {
			blur3(blurred, x, c, h, w)
			b := float32(o.Blur)
			for i := range x {
				x[i] += b * (blurred[i] - x[i])
			}
		}
		clip(x, lo, hi)
	}
	return x, nil
}

func clip(x []float32, lo, hi float32) {
	for i, v := range x {
		if v < lo || v != v {
			x[i] = lo
		} else if v > hi {
			x[i] = hi
		}
	}
}

// roll writes src (c planes of h×w) shifted by dy rows and dx columns,
// cyclically, into dst: dst[y][x] = src[y−dy][x−dx].
func roll(dst, src []float32, c, h, w, dy, dx int) {
	if dy == 0 && dx == 0 {
		copy(dst, src)
		return
	}
	for p := 0; p < c; p++ {
		s, t := src[p*h*w:(p+1)*h*w], dst[p*h*w:(p+1)*h*w]
		for y := 0; y < h; y++ {
			sy := ((y-dy)%h + h) % h
			for x := 0; x < w; x++ {
				sx := ((x-dx)%w + w) % w
				t[y*w+x] = s[sy*w+sx]
			}
		}
	}
}

// blur3 writes a 3×3 binomial blur ([1 2 1]ᵀ[1 2 1]/16) of each plane of
// src into dst, with edges replicated.
func blur3(dst, src []float32, c, h, w int) {
	at := func(s []float32, y, x int) float32 {
		y = min(max(y, 0), h-1)
		x = min(max(x, 0), w-1)
		return s[y*w+x]
	}
	for p := 0; p < c; p++ {
		s, t := src[p*h*w:(p+1)*h*w], dst[p*h*w:(p+1)*h*w]
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				v := 4 * s[y*w+x]
				v += 2 * (at(s, y-1, x) + at(s, y+1, x) + at(s, y, x-1) + at(s, y, x+1))
				v += at(s, y-1, x-1) + at(s, y-1, x+1) + at(s, y+1, x-1) + at(s, y+1, x+1)
				t[y*w+x] = v / 16
			}
		}
	}
}
