package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Conv2D is a 2-D convolution layer: Out filters of In/Groups × KH × KW
// slide over the input with the given stride and zero padding, plus one
// bias per output channel.
//
//	x: [batch, in, h, w]; returns [batch, out, h', w'] with
//	h' = (h + 2·PadH − KH)/StrideH + 1 and w' likewise.
//
// Weights are He-initialised (normal, std √(2/fan_in), fan_in =
// In/Groups·KH·KW), which keeps activations at a steady scale through ReLU
// layers; the bias starts at zero. Parameters are named "NAME/weight" and
// "NAME/bias".
type Conv2D struct {
	// Weight is [out, in/groups, kh, kw].
	Weight *autograd.Var
	// Bias is [out], or nil when built with ConvNoBias.
	Bias *autograd.Var

	In, Out, KH, KW int
	// Conv holds the stride, padding and groups (zero strides/groups are
	// normalised to 1 at construction).
	Conv tensor.ConvParams

	name string
}

var (
	_ Module = (*Conv2D)(nil)
	_ Named  = (*Conv2D)(nil)
	_ Shaper = (*Conv2D)(nil)
)

// conv2DArgs is Conv2D's Spec: everything needed to rebuild it.
type conv2DArgs struct {
	In      int  `json:"in"`
	Out     int  `json:"out"`
	KH      int  `json:"kh"`
	KW      int  `json:"kw"`
	StrideH int  `json:"stride_h"`
	StrideW int  `json:"stride_w"`
	PadH    int  `json:"pad_h"`
	PadW    int  `json:"pad_w"`
	Groups  int  `json:"groups"`
	Bias    bool `json:"bias"`
}

// ConvOption sets an optional knob of NewConv2D.
type ConvOption func(*conv2DArgs)

// ConvStride sets the same stride along height and width (default 1).
func ConvStride(s int) ConvOption { return func(a *conv2DArgs) { a.StrideH, a.StrideW = s, s } }

// ConvStrideHW sets the strides along height and width separately.
func ConvStrideHW(sh, sw int) ConvOption {
	return func(a *conv2DArgs) { a.StrideH, a.StrideW = sh, sw }
}

// ConvPadding pads every side with p zeros (default 0). For an odd kernel
// k and stride 1, p = k/2 keeps the spatial size ("same" padding).
func ConvPadding(p int) ConvOption { return func(a *conv2DArgs) { a.PadH, a.PadW = p, p } }

// ConvPaddingHW sets the zero padding of the top/bottom and left/right
// edges separately.
func ConvPaddingHW(ph, pw int) ConvOption { return func(a *conv2DArgs) { a.PadH, a.PadW = ph, pw } }

// ConvGroups splits the channels into g independent convolutions (both
// in and out must be multiples of g; g = in = out is depthwise).
func ConvGroups(g int) ConvOption { return func(a *conv2DArgs) { a.Groups = g } }

// ConvKernelHW makes the kernel kh × kw instead of square.
func ConvKernelHW(kh, kw int) ConvOption { return func(a *conv2DArgs) { a.KH, a.KW = kh, kw } }

// ConvNoBias leaves out the bias (as before a BatchNorm).
func ConvNoBias() ConvOption { return func(a *conv2DArgs) { a.Bias = false } }

// NewConv2D returns a convolution from in to out channels with a square
// kernel×kernel filter, stride 1, no padding and a bias unless options say
// otherwise, He-initialised from rng. Invalid sizes (outside [1, MaxDim],
// channels not divisible by the groups) panic with a *tensor.ShapeError
// naming them; Build returns them as errors.
//
//	conv := nn.NewConv2D(1, 6, 5, rng, nn.ConvPadding(2))   // LeNet-5 conv1
func NewConv2D(in, out, kernel int, rng *rand.Rand, opts ...ConvOption) *Conv2D {
	a := conv2DArgs{In: in, Out: out, KH: kernel, KW: kernel, StrideH: 1, StrideW: 1, Groups: 1, Bias: true}
	for _, o := range opts {
		o(&a)
	}
	l, err := newConv2D(a, rng)
	if err != nil {
		panic(&tensor.ShapeError{Op: "conv2d", Msg: err.Error()})
	}
	return l
}

func (a *conv2DArgs) validate() error {
	if a.StrideH == 0 {
		a.StrideH = 1
	}
	if a.StrideW == 0 {
		a.StrideW = 1
	}
	if a.Groups == 0 {
		a.Groups = 1
	}
	switch {
	case !dimsOK(a.In, a.Out):
		return fmt.Errorf("channels in=%d out=%d must be between 1 and MaxDim = %d", a.In, a.Out, MaxDim)
	case !dimsOK(a.KH, a.KW):
		return fmt.Errorf("kernel %d×%d must be at least 1×1 and at most MaxDim = %d", a.KH, a.KW, MaxDim)
	case !dimsOK(a.StrideH, a.StrideW):
		return fmt.Errorf("stride %d×%d must be between 1 and MaxDim = %d", a.StrideH, a.StrideW, MaxDim)
	case a.PadH < 0 || a.PadW < 0 || a.PadH >= a.KH || a.PadW >= a.KW:
		// Padding by the whole kernel or more only adds outputs that see
		// nothing but zeros; refusing it also stops a crafted file from
		// making the first forward pass allocate a huge output.
		return fmt.Errorf("padding %d×%d must be between 0 and the kernel's size minus one (%d×%d)", a.PadH, a.PadW, a.KH-1, a.KW-1)
	case a.Groups < 1 || a.In%a.Groups != 0 || a.Out%a.Groups != 0:
		return fmt.Errorf("groups=%d must divide in=%d and out=%d", a.Groups, a.In, a.Out)
	}
	return nil
}

// elements counts the weight [out, in/groups, kh, kw] and the bias; a
// must be valid.
func (a conv2DArgs) elements() int64 {
	n := Elements(a.Out, a.In/a.Groups, a.KH, a.KW)
	if a.Bias {
		n = satAdd(n, int64(a.Out))
	}
	return n
}

func newConv2D(a conv2DArgs, rng *rand.Rand) (*Conv2D, error) {
	if err := a.validate(); err != nil {
		return nil, err
	}
	fanIn := a.In / a.Groups * a.KH * a.KW
	l := &Conv2D{
		Weight: autograd.Param(HeNormal(rng, fanIn, a.Out, a.In/a.Groups, a.KH, a.KW), "weight"),
		In:     a.In, Out: a.Out, KH: a.KH, KW: a.KW,
		Conv: tensor.ConvParams{StrideH: a.StrideH, StrideW: a.StrideW, PadH: a.PadH, PadW: a.PadW, Groups: a.Groups},
	}
	if a.Bias {
		l.Bias = autograd.Param(tensor.New(a.Out), "bias")
	}
	return l, nil
}

// spatialOp is the ShapeError Op of a layer: its type and, when named, its
// name (`conv2d "conv1"`).
func spatialOp(typ, name string) string {
	if name == "" {
		return typ
	}
	return fmt.Sprintf("%s %q", typ, name)
}

// spatialInputErr returns a *tensor.ShapeError unless shape is [batch,
// channels, h, w] with the wanted channels (want < 0: any) and at least
// the minimum spatial size (after padding) the layer's window needs.
func spatialInputErr(op string, shape []int, want, kh, kw, ph, pw int, window string) error {
	if len(shape) != 4 {
		return shapeErr(op, "input must be [batch, channels, height, width], got %v", shape)
	}
	if want >= 0 && shape[1] != want {
		return shapeErr(op, "input has %d channels, layer expects %d", shape[1], want)
	}
	if shape[2]+2*ph < kh || shape[3]+2*pw < kw {
		return shapeErr(op, "input %d×%d (padding %d×%d) is smaller than the %d×%d %s; use a larger input or a smaller %s",
			shape[2], shape[3], ph, pw, kh, kw, window, window)
	}
	return nil
}

// Forward convolves x: [batch, in, h, w] → [batch, out, h', w'].
func (l *Conv2D) Forward(c *Ctx, x *autograd.Var) *autograd.Var {
	l.checkInput(x)
	return c.Tape.Conv2D(x, l.Weight, l.Bias, l.Conv)
}

// forwardReLU is Forward followed by a ReLU, fused (see Sequential).
func (l *Conv2D) forwardReLU(c *Ctx, x *autograd.Var) *autograd.Var {
	l.checkInput(x)
	return c.Tape.Conv2DReLU(x, l.Weight, l.Bias, l.Conv)
}

func (l *Conv2D) checkInput(x *autograd.Var) {
	if _, err := l.OutputShape(x.Shape()); err != nil {
		panic(err)
	}
}

// OutputShape is [batch, out, h', w'] for an input [batch, in, h, w]
// (see the type's comment for h' and w').
func (l *Conv2D) OutputShape(in []int) ([]int, error) {
	p := l.Conv
	if err := spatialInputErr(spatialOp("conv2d", l.name), in, l.In, l.KH, l.KW, p.PadH, p.PadW, "kernel"); err != nil {
		return nil, err
	}
	return []int{in[0], l.Out, tensor.ConvOutSize(in[2], l.KH, p.StrideH, p.PadH), tensor.ConvOutSize(in[3], l.KW, p.StrideW, p.PadW)}, nil
}

// allocates counts the output and the scratch of tensor.Conv2D, once per
// concurrent block of images (at most 16), its pooled buffers rounded up
// to a power of two: for a 1×1, stride-1, unpadded convolution (a plain
// matrix product) the packed image; for other stride-1 ones the padded
// image, a wide block of output rows and the packed weights; otherwise
// the unfolded image (im2col) and its packed copy.
func (l *Conv2D) allocates(in, out []int) int64 {
	p := l.Conv
	sh, sw, groups := max(p.StrideH, 1), max(p.StrideW, 1), max(p.Groups, 1)
	cg, og := l.In/groups, l.Out/groups
	oh, ow := out[2], out[3]
	var scratch int64
	switch {
	case l.KH == 1 && l.KW == 1 && sh == 1 && sw == 1 && p.PadH == 0 && p.PadW == 0:
		scratch = gemmOperand(cg, in[2]*in[3])
	case sh == 1 && sw == 1:
		wp := in[3] + 2*p.PadW
		scratch = satAdd(pow2Ceil(satAdd(Elements(cg, in[2]+2*p.PadH, wp), int64(l.KW))), pow2Ceil(Elements(og, oh, wp)))
		scratch = satAdd(scratch, Elements(og+5, cg, l.KH, l.KW))
	default:
		cols := Elements(cg, l.KH, l.KW, oh, ow)
		scratch = satAdd(pow2Ceil(cols), satAdd(cols, Elements(cg, l.KH, l.KW, 32)))
	}
	return satAdd(Elements(out...), satMul(scratch, int64(min(max(in[0], 1), 16))))
}

// Params returns the weight and, if present, the bias.
func (l *Conv2D) Params() []*autograd.Var {
	if l.Bias == nil {
		return []*autograd.Var{l.Weight}
	}
	return []*autograd.Var{l.Weight, l.Bias}
}

// Spec describes the layer for saving; Build rebuilds it.
func (l *Conv2D) Spec() Spec {
	p := l.Conv
	return MakeSpec("conv2d", l.name, conv2DArgs{
		In: l.In, Out: l.Out, KH: l.KH, KW: l.KW,
		StrideH: max(p.StrideH, 1), StrideW: max(p.StrideW, 1), PadH: p.PadH, PadW: p.PadW, Groups: max(p.Groups, 1),
		Bias: l.Bias != nil,
	})
}

// LayerName returns the layer's name ("" until named).
func (l *Conv2D) LayerName() string { return l.name }

// SetName names the layer and its parameters ("NAME/weight", "NAME/bias").
func (l *Conv2D) SetName(name string) {
	l.name = name
	l.Weight.Name = spatialParamName(name, "weight")
	if l.Bias != nil {
		l.Bias.Name = spatialParamName(name, "bias")
	}
}

func spatialParamName(layer, p string) string {
	if layer == "" {
		return p
	}
	return layer + "/" + p
}

// conv2DSpecArgs decodes and validates the args of a "conv2d" Spec.
func conv2DSpecArgs(s Spec) (conv2DArgs, error) {
	a := conv2DArgs{Bias: true}
	if err := s.UnmarshalArgs(&a); err != nil {
		return a, err
	}
	if err := a.validate(); err != nil {
		return a, fmt.Errorf("nn: conv2d %q: %v", s.Name, err)
	}
	return a, nil
}

func init() {
	RegisterSized("conv2d", func(s Spec, rng *rand.Rand) (Module, error) {
		a, err := conv2DSpecArgs(s)
		if err != nil {
			return nil, err
		}
		l, err := newConv2D(a, rng)
		if err != nil {
			return nil, fmt.Errorf("nn: conv2d %q: %v", s.Name, err)
		}
		l.SetName(s.Name)
		return l, nil
	}, func(s Spec) (int64, error) {
		a, err := conv2DSpecArgs(s)
		if err != nil {
			return 0, err
		}
		return a.elements(), nil
	})
}
