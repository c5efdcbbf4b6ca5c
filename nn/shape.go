package nn

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/glassbox-ml/glassbox/tensor"
)

// Shape inference: what a forward pass would produce and allocate,
// worked out from the input's shape alone. A model file's architecture
// decides how large the activations of its first forward pass are, so a
// loader asks ActivationElements before running it.

// Shaper is implemented by modules that can tell the shape of their
// output from the shape of their input without computing (or allocating)
// it. Every layer of this package implements it, and so does Sequential
// when all its layers do.
type Shaper interface {
	// OutputShape returns the shape of Forward's output for an input of
	// shape in, batch axis included (the shape of the Var that Forward
	// receives). For an input shape Forward refuses it returns the error
	// Forward panics with: a *tensor.ShapeError with the same words. It
	// checks shapes only: an error that depends on the input's values (an
	// Embedding's ids) or on the mode (BatchNorm training on one value
	// per channel) is Forward's alone. It neither modifies in nor returns
	// a slice that aliases it.
	OutputShape(in []int) ([]int, error)
}

// ErrUnknownShape is wrapped by the error of OutputShape and
// ActivationElements when a module on the way does not implement
// Shaper (a user's own layer): its output shape is unknown until it runs.
var ErrUnknownShape = errors.New("does not implement nn.Shaper, so its output shape is unknown before it runs")

// allocator is implemented by the built-in layers whose forward pass in
// evaluation mode allocates something else than one new output tensor:
// allocates returns the float32 elements it allocates for an input of
// shape in with output out (in already accepted by OutputShape), its
// scratch included; 0 for a layer that returns a view of its input.
// Without it a layer counts as allocating its output.
type allocator interface {
	allocates(in, out []int) int64
}

// OutputShape returns the shape of m's output for an input of shape in
// (batch axis included), without running m: m.OutputShape(in) when m is
// a Shaper, an error wrapping ErrUnknownShape otherwise. A negative size
// in in is an error.
func OutputShape(m Module, in []int) ([]int, error) {
	if err := checkInShape(in); err != nil {
		return nil, err
	}
	s, ok := m.(Shaper)
	if !ok {
		return nil, unknownShape(m)
	}
	return s.OutputShape(in)
}

// ActivationElements works out, without allocating anything, how many
// float32 elements a forward pass of m in evaluation mode allocates for
// an input of shape in (batch axis included; the input itself is not
// counted). It walks Sequentials, nested ones too, layer by layer as
// Sequential.Forward runs them (a Conv2D followed by a ReLU is one fused
// operation, with no separate ReLU output). total is the sum over the
// layers of their output and the scratch their computation needs (the
// unfolded image of a convolution, a recurrent layer's gate projections
// and hidden states, max pooling's argmax indices); a layer whose output
// is a view of its input (Flatten, Dropout in evaluation) adds nothing.
// The matrix products' packed copies of their operands count as scratch
// too; what does not count is a constant of the machine rather than of
// the input: the few small objects of every operation and the panel
// buffers each goroutine of a parallel matrix product keeps (at most
// 256 KiB each). peak is the most of them alive at once: the largest sum
// of one layer's input, scratch and output. Both are estimates from above
// that saturate at math.MaxInt64 instead of overflowing.
//
// When in does not fit a layer, the error is the one Forward would panic
// with (and the counts are 0). When a module on the way does not
// implement Shaper, the error wraps ErrUnknownShape, peak and total count
// the layers before it, and the caller decides (run it, or refuse it).
func ActivationElements(m Module, in []int) (peak, total int64, err error) {
	if err := checkInShape(in); err != nil {
		return 0, 0, err
	}
	var a activations
	if _, err := a.walk(m, in); err != nil {
		if errors.Is(err, ErrUnknownShape) {
			return a.peak, a.total, err
		}
		return 0, 0, err
	}
	return a.peak, a.total, nil
}

// activations accumulates ActivationElements' counts.
type activations struct{ peak, total int64 }

// walk returns m's output shape for in and adds what m allocates to a
// (a nil a counts nothing: Sequential.OutputShape).
func (a *activations) walk(m Module, in []int) ([]int, error) {
	if s, ok := m.(*Sequential); ok {
		return s.walk(a, in)
	}
	sh, ok := m.(Shaper)
	if !ok {
		return nil, unknownShape(m)
	}
	out, err := sh.OutputShape(in)
	if err != nil {
		return nil, err
	}
	if a != nil {
		n := Elements(out...)
		if al, ok := m.(allocator); ok {
			n = al.allocates(in, out)
		}
		a.total = satAdd(a.total, n)
		a.peak = max(a.peak, satAdd(Elements(in...), n))
	}
	return out, nil
}

// walk follows Forward: layer by layer, a Conv2D and the ReLU after it
// fused.
func (s *Sequential) walk(a *activations, in []int) ([]int, error) {
	x := in
	for i := 0; i < len(s.Layers); i++ {
		out, err := a.walk(s.Layers[i], x)
		if errors.Is(err, ErrUnknownShape) {
			return nil, fmt.Errorf("sequential layer %d: %w", i, err)
		}
		if err != nil {
			return nil, err
		}
		if _, ok := s.Layers[i].(*Conv2D); ok && i+1 < len(s.Layers) {
			if _, relu := s.Layers[i+1].(*ReLU); relu {
				i++ // the rectifier runs inside the convolution's output
			}
		}
		x = out
	}
	return slices.Clone(x), nil
}

// OutputShape chains the layers' output shapes; a layer that is not a
// Shaper makes the result unknown (an error wrapping ErrUnknownShape).
func (s *Sequential) OutputShape(in []int) ([]int, error) { return s.walk(nil, in) }

func unknownShape(m Module) error {
	return fmt.Errorf("nn: %s (%T) %w", m.Spec().Type, m, ErrUnknownShape)
}

// checkInShape refuses a shape no tensor can have.
func checkInShape(in []int) error {
	for _, d := range in {
		if d < 0 {
			return fmt.Errorf("nn: input shape %v has a negative size", in)
		}
	}
	return nil
}

// sameShape is the OutputShape of the layers that keep their input's
// shape.
func sameShape(in []int) []int { return slices.Clone(in) }

// pow2Ceil rounds n up to a power of two, as the scratch buffer pools of
// the tensor package size what they allocate (saturating).
func pow2Ceil(n int64) int64 {
	if n <= 1 {
		return n
	}
	if n > math.MaxInt64/2+1 {
		return math.MaxInt64
	}
	p := int64(1)
	for p < n {
		p <<= 1
	}
	return p
}

// gemmOperand is what the matrix-product kernels may allocate for a right
// operand of k×n: a packed copy, its columns padded to whole panels.
func gemmOperand(k, n int) int64 { return Elements(k, n+32) }

// stepOverhead is the bookkeeping of one time step of a recurrent layer
// (tensor views, closures), in float32 elements: about 1 KiB.
const stepOverhead = 256

// shapeErr returns a *tensor.ShapeError as an error.
func shapeErr(op, format string, args ...any) error {
	return &tensor.ShapeError{Op: op, Msg: fmt.Sprintf(format, args...)}
}
