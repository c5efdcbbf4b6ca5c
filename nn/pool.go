package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
)

// poolArgs is the Spec of the window pooling layers.
type poolArgs struct {
	KH      int `json:"kh"`
	KW      int `json:"kw"`
	StrideH int `json:"stride_h"`
	StrideW int `json:"stride_w"`
	PadH    int `json:"pad_h"`
	PadW    int `json:"pad_w"`
}

func (a poolArgs) params() tensor.PoolParams {
	return tensor.PoolParams{KH: a.KH, KW: a.KW, StrideH: a.StrideH, StrideW: a.StrideW, PadH: a.PadH, PadW: a.PadW}
}

// newPoolParams validates a square window of the given size, stride (0 →
// the window size) and padding.
func newPoolParams(p tensor.PoolParams) (tensor.PoolParams, error) {
	if p.StrideH == 0 {
		p.StrideH = p.KH
	}
	if p.StrideW == 0 {
		p.StrideW = p.KW
	}
	switch {
	case !dimsOK(p.KH, p.KW):
		return p, fmt.Errorf("window %d×%d must be at least 1×1 and at most MaxDim = %d", p.KH, p.KW, MaxDim)
	case !dimsOK(p.StrideH, p.StrideW):
		return p, fmt.Errorf("stride %d×%d must be between 1 and MaxDim = %d", p.StrideH, p.StrideW, MaxDim)
	case p.PadH < 0 || p.PadW < 0 || p.PadH > p.KH/2 || p.PadW > p.KW/2:
		return p, fmt.Errorf("padding %d×%d must be between 0 and half the %d×%d window", p.PadH, p.PadW, p.KH, p.KW)
	}
	return p, nil
}

func mustPoolParams(typ string, p tensor.PoolParams) tensor.PoolParams {
	p, err := newPoolParams(p)
	if err != nil {
		panic(&tensor.ShapeError{Op: typ, Msg: err.Error()})
	}
	return p
}

func poolSpec(typ, name string, p tensor.PoolParams) Spec {
	return MakeSpec(typ, name, poolArgs{KH: p.KH, KW: p.KW, StrideH: p.StrideH, StrideW: p.StrideW, PadH: p.PadH, PadW: p.PadW})
}

// MaxPool2D keeps the largest value of each window: it shrinks the
// feature maps and makes detections tolerant to small shifts.
//
//	x: [batch, channels, h, w]; returns [batch, channels, h', w'] with
//	h' = (h + 2·PadH − KH)/StrideH + 1 and w' likewise.
//
// The gradient flows only to the maximum of each window.
type MaxPool2D struct {
	// Pool is the window; set it directly for non-square windows.
	Pool tensor.PoolParams
	name string
}

var (
	_ Module = (*MaxPool2D)(nil)
	_ Named  = (*MaxPool2D)(nil)
	_ Shaper = (*MaxPool2D)(nil)
)

// NewMaxPool2D returns a max-pooling layer over kernel×kernel windows
// moved by stride (0 means kernel: non-overlapping windows) with padding
// zeros on each side (at most kernel/2). Invalid sizes panic with a
// *tensor.ShapeError; Build returns them as errors.
//
//	pool := nn.NewMaxPool2D(2, 0, 0) // halves height and width
func NewMaxPool2D(kernel, stride, padding int) *MaxPool2D {
	return &MaxPool2D{Pool: mustPoolParams("maxpool2d", tensor.PoolParams{KH: kernel, KW: kernel, StrideH: stride, StrideW: stride, PadH: padding, PadW: padding})}
}

// Forward pools x: [batch, channels, h, w] → [batch, channels, h', w'].
func (l *MaxPool2D) Forward(c *Ctx, x *autograd.Var) *autograd.Var {
	if _, err := l.OutputShape(x.Shape()); err != nil {
		panic(err)
	}
	return c.Tape.MaxPool2D(x, l.Pool)
}

// OutputShape is [batch, channels, h', w'] for an input [batch, channels,
// h, w] (see the type's comment for h' and w').
func (l *MaxPool2D) OutputShape(in []int) ([]int, error) {
	return poolShape(spatialOp("maxpool2d", l.name), "MaxPool2D", in, l.Pool)
}

// allocates counts the output and the argmax index of every output
// element (int32, the size of a float32).
func (l *MaxPool2D) allocates(_, out []int) int64 { return satMul(2, Elements(out...)) }

// poolShape is the output shape of a window pooling layer, or the error
// its Forward panics with: the layer's own check (op), then the tensor
// package's (tensorOp), for windows set directly in the Pool field.
func poolShape(op, tensorOp string, in []int, p tensor.PoolParams) ([]int, error) {
	if err := spatialInputErr(op, in, -1, p.KH, p.KW, p.PadH, p.PadW, "window"); err != nil {
		return nil, err
	}
	if p.StrideH == 0 {
		p.StrideH = p.KH
	}
	if p.StrideW == 0 {
		p.StrideW = p.KW
	}
	if p.KH < 1 || p.KW < 1 || p.StrideH < 1 || p.StrideW < 1 || p.PadH < 0 || p.PadW < 0 {
		return nil, shapeErr(tensorOp, "window %d×%d, stride %d×%d, padding %d×%d: sizes and strides must be ≥ 1, padding ≥ 0", p.KH, p.KW, p.StrideH, p.StrideW, p.PadH, p.PadW)
	}
	if 2*p.PadH > p.KH || 2*p.PadW > p.KW {
		return nil, shapeErr(tensorOp, "padding %d×%d is more than half the %d×%d window", p.PadH, p.PadW, p.KH, p.KW)
	}
	return []int{in[0], in[1], tensor.ConvOutSize(in[2], p.KH, p.StrideH, p.PadH), tensor.ConvOutSize(in[3], p.KW, p.StrideW, p.PadW)}, nil
}

// Params returns nothing: pooling has no parameters.
func (l *MaxPool2D) Params() []*autograd.Var { return nil }

// Spec describes the layer for saving; Build rebuilds it.
func (l *MaxPool2D) Spec() Spec { return poolSpec("maxpool2d", l.name, l.Pool) }

// LayerName returns the layer's name.
func (l *MaxPool2D) LayerName() string { return l.name }

// SetName names the layer (it has no parameters to rename).
func (l *MaxPool2D) SetName(name string) { l.name = name }

// AvgPool2D averages each window. Windows that overlap the padding
// average only the real pixels they cover (PyTorch's
// count_include_pad=False).
//
//	x: [batch, channels, h, w]; returns [batch, channels, h', w'] with
//	h' = (h + 2·PadH − KH)/StrideH + 1 and w' likewise.
type AvgPool2D struct {
	// Pool is the window; set it directly for non-square windows.
	Pool tensor.PoolParams
	name string
}

var (
	_ Module = (*AvgPool2D)(nil)
	_ Named  = (*AvgPool2D)(nil)
	_ Shaper = (*AvgPool2D)(nil)
)

// NewAvgPool2D returns an average-pooling layer over kernel×kernel windows
// moved by stride (0 means kernel) with padding zeros on each side (at
// most kernel/2, not counted in the averages). Invalid sizes panic with a
// *tensor.ShapeError; Build returns them as errors.
func NewAvgPool2D(kernel, stride, padding int) *AvgPool2D {
	return &AvgPool2D{Pool: mustPoolParams("avgpool2d", tensor.PoolParams{KH: kernel, KW: kernel, StrideH: stride, StrideW: stride, PadH: padding, PadW: padding})}
}

// Forward pools x: [batch, channels, h, w] → [batch, channels, h', w'].
func (l *AvgPool2D) Forward(c *Ctx, x *autograd.Var) *autograd.Var {
	if _, err := l.OutputShape(x.Shape()); err != nil {
		panic(err)
	}
	return c.Tape.AvgPool2D(x, l.Pool)
}

// OutputShape is [batch, channels, h', w'] for an input [batch, channels,
// h, w] (see the type's comment for h' and w').
func (l *AvgPool2D) OutputShape(in []int) ([]int, error) {
	return poolShape(spatialOp("avgpool2d", l.name), "AvgPool2D", in, l.Pool)
}

// Params returns nothing: pooling has no parameters.
func (l *AvgPool2D) Params() []*autograd.Var { return nil }

// Spec describes the layer for saving; Build rebuilds it.
func (l *AvgPool2D) Spec() Spec { return poolSpec("avgpool2d", l.name, l.Pool) }

// LayerName returns the layer's name.
func (l *AvgPool2D) LayerName() string { return l.name }

// SetName names the layer.
func (l *AvgPool2D) SetName(name string) { l.name = name }

// GlobalAvgPool2D averages each channel over its whole feature map, the
// usual head of a modern CNN before the classifier.
//
//	x: [batch, channels, h, w]; returns [batch, channels]
type GlobalAvgPool2D struct {
	name string
}

var (
	_ Module = (*GlobalAvgPool2D)(nil)
	_ Named  = (*GlobalAvgPool2D)(nil)
	_ Shaper = (*GlobalAvgPool2D)(nil)
)

// NewGlobalAvgPool2D returns a global average-pooling layer.
func NewGlobalAvgPool2D() *GlobalAvgPool2D { return &GlobalAvgPool2D{} }

// Forward averages x: [batch, channels, h, w] → [batch, channels].
func (l *GlobalAvgPool2D) Forward(c *Ctx, x *autograd.Var) *autograd.Var {
	if _, err := l.OutputShape(x.Shape()); err != nil {
		panic(err)
	}
	return c.Tape.GlobalAvgPool2D(x)
}

// OutputShape is [batch, channels] for an input [batch, channels, h, w].
func (l *GlobalAvgPool2D) OutputShape(in []int) ([]int, error) {
	if err := spatialInputErr(spatialOp("globalavgpool2d", l.name), in, -1, 1, 1, 0, 0, "window"); err != nil {
		return nil, err
	}
	return []int{in[0], in[1]}, nil
}

// Params returns nothing.
func (l *GlobalAvgPool2D) Params() []*autograd.Var { return nil }

// Spec describes the layer for saving.
func (l *GlobalAvgPool2D) Spec() Spec { return MakeSpec("globalavgpool2d", l.name, nil) }

// LayerName returns the layer's name.
func (l *GlobalAvgPool2D) LayerName() string { return l.name }

// SetName names the layer.
func (l *GlobalAvgPool2D) SetName(name string) { l.name = name }

// poolSpecParams decodes and validates the args of a window pooling Spec.
func poolSpecParams(s Spec) (tensor.PoolParams, error) {
	var a poolArgs
	if err := s.UnmarshalArgs(&a); err != nil {
		return tensor.PoolParams{}, err
	}
	p, err := newPoolParams(a.params())
	if err != nil {
		return p, fmt.Errorf("nn: %s %q: %v", s.Type, s.Name, err)
	}
	return p, nil
}

func init() {
	buildPool := func(typ string, mk func(p tensor.PoolParams, name string) Module) {
		RegisterSized(typ, func(s Spec, _ *rand.Rand) (Module, error) {
			p, err := poolSpecParams(s)
			if err != nil {
				return nil, err
			}
			return mk(p, s.Name), nil
		}, func(s Spec) (int64, error) {
			_, err := poolSpecParams(s)
			return 0, err
		})
	}
	buildPool("maxpool2d", func(p tensor.PoolParams, name string) Module { return &MaxPool2D{Pool: p, name: name} })
	buildPool("avgpool2d", func(p tensor.PoolParams, name string) Module { return &AvgPool2D{Pool: p, name: name} })
	RegisterSized("globalavgpool2d", func(s Spec, _ *rand.Rand) (Module, error) {
		return &GlobalAvgPool2D{name: s.Name}, nil
	}, noElements)
}
