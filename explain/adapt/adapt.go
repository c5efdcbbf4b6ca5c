package adapt

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/nn"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Option tunes Func.
type Option func(*config)

type config struct {
	probs    bool
	maxBatch int
}

// Probs applies a softmax over each row of the model's outputs, turning a
// classifier's logits into the class probabilities LIME and Kernel SHAP
// expect. A model whose last layer already is a softmax is left alone.
func Probs() Option { return func(c *config) { c.probs = true } }

// MaxBatch caps how many inputs go through the model at once (default
// 128); explain may pass larger batches, which Func splits.
func MaxBatch(n int) Option { return func(c *config) { c.maxBatch = n } }

// Func wraps m as an explain.Func for inputs of shape inputShape (one
// example, without the batch axis: [1, 28, 28] for MNIST, [d] for a table).
// The model runs in inference mode (no dropout, BatchNorm running
// statistics) without recording gradients, in batches of at most MaxBatch
// rows. Outputs are flattened to n×k; shape errors inside the model are
// returned as errors. The returned Func is safe for concurrent use if m's
// Forward is (glassbox layers are, in inference mode).
func Func(m nn.Module, inputShape []int, opts ...Option) explain.Func {
	cfg := config{maxBatch: 128}
	for _, o := range opts {
		o(&cfg)
	}
	shape := slices.Clone(inputShape)
	return func(ctx context.Context, x []float32, n int) ([]float32, error) {
		const what = "adapt: predict"
		d, err := checkBatch(what, m, shape, x, n)
		if err != nil {
			return nil, err
		}
		if cfg.maxBatch < 1 {
			return nil, fmt.Errorf("%s: MaxBatch is %d; use at least 1", what, cfg.maxBatch)
		}
		soft := cfg.probs && !EndsInSoftmax(m)
		var out []float32
		k := 0
		for lo := 0; lo < n; lo += cfg.maxBatch {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			hi := min(lo+cfg.maxBatch, n)
			xt := tensor.MustFromSlice(x[lo*d:hi*d], append([]int{hi - lo}, shape...)...)
			var y *tensor.Tensor
			if err := tensor.Catch(func() {
				y = flatRows(m.Forward(nn.Eval(), autograd.Const(xt)).Value, hi-lo)
				if soft {
					y = tensor.Softmax(y, 1)
				}
			}); err != nil {
				return nil, fmt.Errorf("%s: input shape %v: %w", what, shape, err)
			}
			if k == 0 {
				k = y.Dim(1)
				out = make([]float32, 0, n*k)
			}
			out = append(out, y.Data()...)
		}
		return out, nil
	}
}

// Grad wraps m as an explain.GradFunc for inputs of shape inputShape (one
// example, without the batch axis). It runs m in inference mode on a
// recording tape (nn.EvalGrad) with the batch as an autograd.Input,
// applies a softmax first when probs is set (unless m already ends in
// one), and back-propagates the sum over the batch of output[label]: since
// examples do not interact in inference mode, row i of the gradient is
// ∂output_i[label]/∂x_i.
//
// Back-propagation also reaches the parameters; their gradients are set
// aside before and restored after, so an explanation never disturbs a
// training step's accumulated gradients. Gradient calls on the same module
// are serialised; do not run them while the module trains.
func Grad(m nn.Module, inputShape []int, probs bool) explain.GradFunc {
	shape := slices.Clone(inputShape)
	return func(ctx context.Context, x []float32, n int, label int) (out, grad []float32, err error) {
		const what = "adapt: gradient"
		d, err := checkBatch(what, m, shape, x, n)
		if err != nil {
			return nil, nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		soft := probs && !EndsInSoftmax(m)
		defer lockParams(m)()
		in := autograd.Input(tensor.MustFromSlice(x[:n*d], append([]int{n}, shape...)...))
		var inner error
		if err := tensor.Catch(func() {
			c := nn.EvalGrad()
			y := flatRowsVar(c.Tape, m.Forward(c, in), n)
			if soft {
				y = c.Tape.Softmax(y, 1)
			}
			k := y.Value.Dim(1)
			if label < 0 || label >= k {
				inner = fmt.Errorf("%s: label %d out of range: the model returns %d outputs (labels 0..%d)", what, label, k, k-1)
				return
			}
			out = slices.Clone(y.Value.Data())
			inner = backwardLabel(c.Tape, y, label)
		}); err != nil {
			return nil, nil, fmt.Errorf("%s: input shape %v: %w", what, shape, err)
		}
		if inner != nil {
			return nil, nil, inner
		}
		if in.Grad == nil {
			return out, make([]float32, n*d), nil
		}
		return out, slices.Clone(in.Grad.Data()), nil
	}
}

// backwardLabel back-propagates Σ_i y[i, label].
func backwardLabel(tp *autograd.Tape, y *autograd.Var, label int) error {
	s := tp.Sum(tp.Slice(y, 1, label, label+1), false)
	if !s.RequiresGrad() {
		return nil // the output does not depend on anything differentiable
	}
	if err := tp.Backward(s); err != nil {
		return fmt.Errorf("adapt: back-propagating output %d: %w", label, err)
	}
	return nil
}

// checkBatch validates n inputs of inputShape held in x and returns the
// per-example size.
func checkBatch(what string, m nn.Module, shape []int, x []float32, n int) (int, error) {
	if m == nil {
		return 0, fmt.Errorf("%s: model is nil", what)
	}
	if len(shape) == 0 {
		return 0, fmt.Errorf("%s: input shape is empty; give one example's shape without the batch axis, e.g. [1 28 28] or [13]", what)
	}
	for _, s := range shape {
		if s < 1 {
			return 0, fmt.Errorf("%s: input shape %v has a non-positive size", what, shape)
		}
	}
	if n < 1 {
		return 0, fmt.Errorf("%s: batch of %d inputs; need at least 1", what, n)
	}
	d := tensor.Numel(shape)
	if len(x) != n*d {
		return 0, fmt.Errorf("%s: got %d values for %d inputs of shape %v; want %d×%d = %d", what, len(x), n, shape, n, d, n*d)
	}
	return d, nil
}

// flatRows reshapes model outputs [n, …] to [n, k].
func flatRows(y *tensor.Tensor, n int) *tensor.Tensor {
	if y.Rank() == 0 || y.Dim(0) != n {
		panic(&tensor.ShapeError{Op: "adapt", Msg: fmt.Sprintf("model returned shape %v for a batch of %d; outputs must be [batch, k]", y.Shape(), n)})
	}
	if y.Rank() == 2 {
		return y
	}
	return y.Contiguous().Reshape(n, y.Len()/max(n, 1))
}

func flatRowsVar(tp *autograd.Tape, y *autograd.Var, n int) *autograd.Var {
	v := y.Value
	if v.Rank() == 0 || v.Dim(0) != n {
		panic(&tensor.ShapeError{Op: "adapt", Msg: fmt.Sprintf("model returned shape %v for a batch of %d; outputs must be [batch, k]", v.Shape(), n)})
	}
	if v.Rank() == 2 {
		return y
	}
	return tp.Reshape(y, n, v.Len()/n)
}

// EndsInSoftmax reports whether m's last layer (through nested
// Sequentials) is a softmax.
func EndsInSoftmax(m nn.Module) bool {
	for {
		s, ok := m.(*nn.Sequential)
		if !ok {
			return m.Spec().Type == "softmax"
		}
		if len(s.Layers) == 0 {
			return false
		}
		m = s.Layers[len(s.Layers)-1]
	}
}

var (
	paramLocks    sync.Map // module (pointer) → *sync.Mutex
	fallbackMutex sync.Mutex
)

// lockParams serialises gradient calls on m and sets its parameters'
// gradients aside; the returned function restores them and unlocks.
func lockParams(m nn.Module) func() {
	mu := &fallbackMutex
	if reflect.TypeOf(m).Kind() == reflect.Pointer {
		v, _ := paramLocks.LoadOrStore(m, new(sync.Mutex))
		mu = v.(*sync.Mutex)
	}
	mu.Lock()
	ps := m.Params()
	saved := make([]*tensor.Tensor, len(ps))
	for i, p := range ps {
		saved[i], p.Grad = p.Grad, nil
	}
	// Explanations want gradients with respect to the input (or a
	// layer's activations), never the parameters': frozen, the backward
	// pass skips the weight gradients, half of its work.
	thaw := autograd.Freeze(ps)
	return func() {
		thaw()
		for i, p := range ps {
			p.Grad = saved[i]
		}
		mu.Unlock()
	}
}
