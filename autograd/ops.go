package autograd

import (
	"math"
	"slices"

	"github.com/glassbox-ml/glassbox/tensor"
)

// Add returns a + b (broadcasting).
func (tp *Tape) Add(a, b *Var) *Var {
	return tp.record(tensor.Add(a.Value, b.Value), func(g *tensor.Tensor) {
		accum(a, g, false)
		accum(b, g, false)
	}, a, b)
}

// Sub returns a - b (broadcasting).
func (tp *Tape) Sub(a, b *Var) *Var {
	return tp.record(tensor.Sub(a.Value, b.Value), func(g *tensor.Tensor) {
		accum(a, g, false)
		if b.requiresGrad {
			accum(b, tensor.Neg(g), true)
		}
	}, a, b)
}

// Mul returns a * b elementwise (broadcasting).
func (tp *Tape) Mul(a, b *Var) *Var {
	return tp.record(tensor.Mul(a.Value, b.Value), func(g *tensor.Tensor) {
		if nonlinear2(a, b) {
			tp.unruled("product of two activations (mul)", a)
		}
		if a.requiresGrad {
			accum(a, tensor.Mul(g, b.Value), true)
		}
		if b.requiresGrad {
			accum(b, tensor.Mul(g, a.Value), true)
		}
	}, a, b)
}

// Div returns a / b elementwise (broadcasting).
func (tp *Tape) Div(a, b *Var) *Var {
	out := tensor.Div(a.Value, b.Value)
	return tp.record(out, func(g *tensor.Tensor) {
		tp.unruled("division by an activation (div)", b)
		if a.requiresGrad {
			accum(a, tensor.Div(g, b.Value), true)
		}
		if b.requiresGrad {
			// d(a/b)/db = -(a/b)/b
			accum(b, tensor.Neg(tensor.Div(tensor.Mul(g, out), b.Value)), true)
		}
	}, a, b)
}

// AddScalar returns a + s.
func (tp *Tape) AddScalar(a *Var, s float32) *Var {
	return tp.record(tensor.AddScalar(a.Value, s), func(g *tensor.Tensor) { accum(a, g, false) }, a)
}

// MulScalar returns a * s.
func (tp *Tape) MulScalar(a *Var, s float32) *Var {
	return tp.record(tensor.MulScalar(a.Value, s), func(g *tensor.Tensor) {
		accum(a, tensor.MulScalar(g, s), true)
	}, a)
}

// Neg returns -a.
func (tp *Tape) Neg(a *Var) *Var {
	return tp.record(tensor.Neg(a.Value), func(g *tensor.Tensor) { accum(a, tensor.Neg(g), true) }, a)
}

// MatMul returns the matrix product a·b (see tensor.MatMul for shapes).
func (tp *Tape) MatMul(a, b *Var) *Var {
	z := tensor.MatMul(a.Value, b.Value)
	return tp.record(z, func(g *tensor.Tensor) {
		if nonlinear2(a, b) {
			tp.unruled("product of two activations (matmul)", a)
		} else if r := tp.rule; r != nil && r.Linear != nil && b.fromInput {
			tp.unruled("product of a matrix and an activation (matmul, weights on the left)", b)
		}
		if a.requiresGrad {
			if r := tp.rule; r != nil && r.Linear != nil && !b.fromInput && b.Value.Rank() == 2 {
				accum(a, r.Linear(matMulOp(a.Value, b.Value, z), g), true)
			} else {
				accum(a, tensor.MatMul(g, swapLast(b.Value)), true)
			}
		}
		if b.requiresGrad {
			if len(b.Value.Shape()) == 2 && len(a.Value.Shape()) > 2 {
				// b was shared across the batch: fold the batch into rows.
				k := a.Value.Dim(-1)
				n := b.Value.Dim(-1)
				accum(b, tensor.MatMul(a.Value.Reshape(-1, k).Transpose(), g.Reshape(-1, n)), true)
			} else {
				accum(b, tensor.MatMul(swapLast(a.Value), g), true)
			}
		}
	}, a, b)
}

// matMulOp describes z = x·w, w a constant matrix, for Rule.Linear.
func matMulOp(x, w, z *tensor.Tensor) *LinearOp {
	return &LinearOp{Kind: "matmul", X: x, Z: z, W: w,
		Forward: func(w, b *tensor.Tensor) *tensor.Tensor {
			y := tensor.MatMul(x, w)
			if b != nil {
				y = tensor.Add(y, b)
			}
			return y
		},
		Backward: func(w, g *tensor.Tensor) *tensor.Tensor { return tensor.MatMul(g, swapLast(w)) },
	}
}

// swapLast transposes the last two axes (a view).
func swapLast(t *tensor.Tensor) *tensor.Tensor {
	r := t.Rank()
	perm := make([]int, r)
	for i := range perm {
		perm[i] = i
	}
	perm[r-1], perm[r-2] = r-2, r-1
	return t.Transpose(perm...)
}

// unaryGrad records an elementwise function whose derivative is computed
// from the input x and output y by dfn, writing g·f'(x) into gx.
func (tp *Tape) unaryGrad(kind string, a *Var, y *tensor.Tensor, dfn func(gx, g, x, y []float32)) *Var {
	return tp.record(y, func(g *tensor.Tensor) {
		gx := tensor.New(a.Value.Shape()...)
		dfn(gx.Data(), g.Data(), a.Value.Data(), y.Data())
		if r := tp.rule; r != nil {
			switch kind {
			case "relu", "leakyrelu", "sigmoid", "tanh", "gelu":
				if r.Activation != nil && (r.Activations == nil || slices.Contains(r.Activations, kind)) {
					gx = r.Activation(kind, a.Value, y, g, gx)
				} else {
					tp.unruled(kind, a)
				}
			default:
				tp.unruled(kind, a)
			}
		}
		accum(a, gx, true)
	}, a)
}

// ReLU returns max(a, 0).
func (tp *Tape) ReLU(a *Var) *Var {
	return tp.unaryGrad("relu", a, tensor.ReLU(a.Value), func(gx, g, _, y []float32) {
		// Branch-free (a branch mispredicts on half the elements): y =
		// max(x, 0) is +0 or positive, so the sign bit of −bits(y) is set
		// exactly where y > 0; tensor.ReLUGradSlice does this eight at a time.
		tensor.ReLUGradSlice(gx[:len(y)], g, y)
	})
}

// LeakyReLU returns a where a > 0 and slope·a elsewhere.
func (tp *Tape) LeakyReLU(a *Var, slope float32) *Var {
	return tp.unaryGrad("leakyrelu", a, tensor.LeakyReLU(a.Value, slope), func(gx, g, x, _ []float32) {
		for i, v := range x {
			if v > 0 {
				gx[i] = g[i]
			} else {
				gx[i] = slope * g[i]
			}
		}
	})
}

// Sigmoid returns 1/(1+e^-a).
func (tp *Tape) Sigmoid(a *Var) *Var {
	return tp.unaryGrad("sigmoid", a, tensor.Sigmoid(a.Value), func(gx, g, _, y []float32) {
		for i, s := range y {
			gx[i] = g[i] * s * (1 - s)
		}
	})
}

// Tanh returns tanh(a).
func (tp *Tape) Tanh(a *Var) *Var {
	return tp.unaryGrad("tanh", a, tensor.Tanh(a.Value), func(gx, g, _, y []float32) {
		for i, t := range y {
			gx[i] = g[i] * (1 - t*t)
		}
	})
}

// GELU returns a·Φ(a).
func (tp *Tape) GELU(a *Var) *Var {
	return tp.unaryGrad("gelu", a, tensor.GELU(a.Value), func(gx, g, x, _ []float32) {
		for i, v := range x {
			z := float64(v)
			cdf := 0.5 * (1 + math.Erf(z/math.Sqrt2))
			pdf := math.Exp(-0.5*z*z) / math.Sqrt(2*math.Pi)
			gx[i] = g[i] * float32(cdf+z*pdf)
		}
	})
}

// Exp returns e^a.
func (tp *Tape) Exp(a *Var) *Var {
	return tp.unaryGrad("exp", a, tensor.Exp(a.Value), func(gx, g, _, y []float32) {
		for i, e := range y {
			gx[i] = g[i] * e
		}
	})
}

// Log returns ln(a).
func (tp *Tape) Log(a *Var) *Var {
	return tp.unaryGrad("log", a, tensor.Log(a.Value), func(gx, g, x, _ []float32) {
		for i, v := range x {
			gx[i] = g[i] / v
		}
	})
}

// Sqrt returns √a.
func (tp *Tape) Sqrt(a *Var) *Var {
	return tp.unaryGrad("sqrt", a, tensor.Sqrt(a.Value), func(gx, g, _, y []float32) {
		for i, s := range y {
			gx[i] = g[i] * 0.5 / s
		}
	})
}

// Square returns a².
func (tp *Tape) Square(a *Var) *Var {
	return tp.unaryGrad("square", a, tensor.Square(a.Value), func(gx, g, x, _ []float32) {
		for i, v := range x {
			gx[i] = 2 * v * g[i]
		}
	})
}

// Abs returns |a| (gradient sign(a), 0 at 0).
func (tp *Tape) Abs(a *Var) *Var {
	return tp.unaryGrad("abs", a, tensor.Abs(a.Value), func(gx, g, x, _ []float32) {
		for i, v := range x {
			switch {
			case v > 0:
				gx[i] = g[i]
			case v < 0:
				gx[i] = -g[i]
			}
		}
	})
}

// Sum adds along axes (all when none); keepDims keeps them as size 1.
func (tp *Tape) Sum(a *Var, keepDims bool, axes ...int) *Var {
	return tp.record(tensor.Sum(a.Value, keepDims, axes...), func(g *tensor.Tensor) {
		accum(a, expandGrad(g, a.Value, keepDims, axes), true)
	}, a)
}

// Mean averages along axes (all when none).
func (tp *Tape) Mean(a *Var, keepDims bool, axes ...int) *Var {
	out := tensor.Mean(a.Value, keepDims, axes...)
	scale := float32(out.Len()) / float32(max(a.Value.Len(), 1))
	return tp.record(out, func(g *tensor.Tensor) {
		accum(a, tensor.MulScalar(expandGrad(g, a.Value, keepDims, axes), scale), true)
	}, a)
}

// expandGrad broadcasts the gradient of a reduction back to x's shape.
func expandGrad(g, x *tensor.Tensor, keepDims bool, axes []int) *tensor.Tensor {
	shape := x.Shape()
	if !keepDims {
		ks := make([]int, len(shape))
		copy(ks, shape)
		if len(axes) == 0 {
			for i := range ks {
				ks[i] = 1
			}
		}
		for _, ax := range axes {
			if ax < 0 {
				ax += len(shape)
			}
			ks[ax] = 1
		}
		g = g.Reshape(ks...)
	}
	return tensor.Add(tensor.New(shape...), g)
}

// Reshape returns a with a new shape (same elements).
func (tp *Tape) Reshape(a *Var, shape ...int) *Var {
	return tp.record(a.Value.Reshape(shape...), func(g *tensor.Tensor) {
		accum(a, g.Reshape(a.Value.Shape()...), false)
	}, a)
}

// Transpose permutes axes (reverses them when perm is empty).
func (tp *Tape) Transpose(a *Var, perm ...int) *Var {
	out := a.Value.Transpose(perm...)
	r := a.Value.Rank()
	if len(perm) == 0 {
		perm = make([]int, r)
		for i := range perm {
			perm[i] = r - 1 - i
		}
	}
	inv := make([]int, r)
	for i, p := range perm {
		if p < 0 {
			p += r
		}
		inv[p] = i
	}
	return tp.record(out, func(g *tensor.Tensor) {
		accum(a, g.Transpose(inv...).Contiguous(), true)
	}, a)
}

// Slice restricts a to [lo, hi) along axis.
func (tp *Tape) Slice(a *Var, axis, lo, hi int) *Var {
	return tp.record(a.Value.Slice(axis, lo, hi), func(g *tensor.Tensor) {
		if !a.requiresGrad {
			return
		}
		full := tensor.New(a.Value.Shape()...)
		full.Slice(axis, lo, hi).Assign(g)
		accum(a, full, true)
	}, a)
}

// Concat joins vars along axis.
func (tp *Tape) Concat(axis int, vs ...*Var) *Var {
	ts := make([]*tensor.Tensor, len(vs))
	for i, v := range vs {
		ts[i] = v.Value
	}
	out := tensor.Concat(axis, ts...)
	return tp.record(out, func(g *tensor.Tensor) {
		pos := 0
		for _, v := range vs {
			w := v.Value.Dim(axis)
			if v.requiresGrad {
				accum(v, g.Slice(axis, pos, pos+w).Contiguous(), false)
			}
			pos += w
		}
	}, vs...)
}

// Stack joins same-shaped vars along a new axis.
func (tp *Tape) Stack(axis int, vs ...*Var) *Var {
	parts := make([]*Var, len(vs))
	for i, v := range vs {
		sh := v.Value.Shape()
		ax := axis
		if ax < 0 {
			ax += len(sh) + 1
		}
		ns := append(append(append([]int(nil), sh[:ax]...), 1), sh[ax:]...)
		parts[i] = tp.Reshape(v, ns...)
	}
	return tp.Concat(axis, parts...)
}

// IndexSelect picks entries of a along axis (embedding lookup on axis 0).
func (tp *Tape) IndexSelect(a *Var, axis int, idx []int) *Var {
	return tp.record(tensor.IndexSelect(a.Value, axis, idx), func(g *tensor.Tensor) {
		gx := tensor.New(a.Value.Shape()...)
		tensor.IndexAdd(gx, axis, idx, g)
		accum(a, gx, true)
	}, a)
}

// Softmax normalises along axis.
func (tp *Tape) Softmax(a *Var, axis int) *Var {
	y := tensor.Softmax(a.Value, axis)
	return tp.record(y, func(g *tensor.Tensor) {
		tp.unruled("softmax", a)
		// dx = y ⊙ (g − Σ g⊙y)
		s := tensor.Sum(tensor.Mul(g, y), true, axis)
		accum(a, tensor.Mul(y, tensor.Sub(g, s)), true)
	}, a)
}

// LogSoftmax returns log-probabilities along axis.
func (tp *Tape) LogSoftmax(a *Var, axis int) *Var {
	y := tensor.LogSoftmax(a.Value, axis)
	return tp.record(y, func(g *tensor.Tensor) {
		tp.unruled("log-softmax", a)
		// dx = g − softmax ⊙ Σ g
		s := tensor.Sum(g, true, axis)
		accum(a, tensor.Sub(g, tensor.Mul(tensor.Exp(y), s)), true)
	}, a)
}

// Maximum returns the elementwise max (gradient to the larger; ties to a).
func (tp *Tape) Maximum(a, b *Var) *Var {
	out := tensor.Maximum(a.Value, b.Value)
	return tp.record(out, func(g *tensor.Tensor) {
		if nonlinear2(a, b) {
			tp.unruled("maximum of two activations", a)
		}
		ma := tensor.GreaterEqual(a.Value, b.Value)
		if a.requiresGrad {
			accum(a, tensor.Mul(g, ma), true)
		}
		if b.requiresGrad {
			accum(b, tensor.Mul(g, tensor.AddScalar(tensor.Neg(ma), 1)), true)
		}
	}, a, b)
}

// Dropout zeroes each element with probability p and scales the rest by
// 1/(1-p) (inverted dropout). mask must come from the caller's seeded RNG.
func (tp *Tape) Dropout(a *Var, mask *tensor.Tensor) *Var {
	return tp.record(tensor.Mul(a.Value, mask), func(g *tensor.Tensor) {
		accum(a, tensor.Mul(g, mask), true)
	}, a)
}
