package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
)

// BatchNorm normalises each feature (BatchNorm1D) or channel
// (BatchNorm2D) to zero mean and unit variance, then scales and shifts it
// by learned γ ("NAME/weight") and β ("NAME/bias"):
//
//	y = γ·(x − μ)/√(σ² + Eps) + β
//
//	BatchNorm1D: x [batch, features] (or [batch, features, length])
//	BatchNorm2D: x [batch, channels, h, w]
//	returns the input's shape
//
// In training mode μ and σ² are the statistics of the current batch (over
// the batch and any spatial axes), and the running estimates
// ("NAME/running_mean", "NAME/running_var", saved as buffers) move toward
// them by Momentum: r ← (1−Momentum)·r + Momentum·batch (the variance
// estimate unbiased, as in PyTorch). In evaluation mode the running
// estimates are used, so a single example is normalised the same way as in
// a batch.
//
// The whole normalisation is one fused autograd operation with a
// closed-form backward, dx = γ/(M·σ)·(M·g − Σg − x̂·Σ(g·x̂)) over the M
// values of each channel.
type BatchNorm struct {
	// Weight (γ) and Bias (β) are [features].
	Weight, Bias *autograd.Var
	// RunningMean and RunningVar are [features] buffers (not trained).
	RunningMean, RunningVar *autograd.Var

	Features int
	// Momentum of the running statistics (default 0.1) and Eps added to
	// the variance (default 1e-5). Set them before training.
	Momentum, Eps float64

	spatial bool // BatchNorm2D
	name    string
}

var (
	_ Module   = (*BatchNorm)(nil)
	_ Named    = (*BatchNorm)(nil)
	_ Buffered = (*BatchNorm)(nil)
	_ Shaper   = (*BatchNorm)(nil)
)

type batchNormArgs struct {
	Features int     `json:"features"`
	Momentum float64 `json:"momentum"`
	Eps      float64 `json:"eps"`
}

// NewBatchNorm1D normalises the features of [batch, features] inputs.
func NewBatchNorm1D(features int) *BatchNorm {
	return mustBatchNorm(batchNormArgs{Features: features, Momentum: 0.1, Eps: 1e-5}, false)
}

// NewBatchNorm2D normalises the channels of [batch, channels, h, w] inputs.
func NewBatchNorm2D(channels int) *BatchNorm {
	return mustBatchNorm(batchNormArgs{Features: channels, Momentum: 0.1, Eps: 1e-5}, true)
}

func mustBatchNorm(a batchNormArgs, spatial bool) *BatchNorm {
	l, err := newBatchNorm(a, spatial)
	if err != nil {
		panic(&tensor.ShapeError{Op: batchNormType(spatial), Msg: err.Error()})
	}
	return l
}

func batchNormType(spatial bool) string {
	if spatial {
		return "batchnorm2d"
	}
	return "batchnorm1d"
}

func (a batchNormArgs) validate() error {
	switch {
	case !dimsOK(a.Features):
		return fmt.Errorf("features %d must be between 1 and MaxDim = %d", a.Features, MaxDim)
	case !(a.Momentum >= 0 && a.Momentum <= 1):
		return fmt.Errorf("momentum %v must be in [0, 1]", a.Momentum)
	case !(a.Eps > 0):
		return fmt.Errorf("eps %v must be > 0", a.Eps)
	}
	return nil
}

func newBatchNorm(a batchNormArgs, spatial bool) (*BatchNorm, error) {
	if err := a.validate(); err != nil {
		return nil, err
	}
	f := a.Features
	l := &BatchNorm{
		Weight:      autograd.Param(tensor.Ones(f), "weight"),
		Bias:        autograd.Param(tensor.New(f), "bias"),
		RunningMean: autograd.Const(tensor.New(f)),
		RunningVar:  autograd.Const(tensor.Ones(f)),
		Features:    f, Momentum: a.Momentum, Eps: a.Eps, spatial: spatial,
	}
	l.SetName("")
	return l, nil
}

// Forward normalises x (see the type's comment for shapes).
func (l *BatchNorm) Forward(c *Ctx, x *autograd.Var) *autograd.Var {
	op := layerOpName(batchNormType(l.spatial), l.name)
	sh := x.Shape()
	if _, err := l.OutputShape(sh); err != nil {
		panic(err)
	}
	g := bnGeom{n: sh[0], c: sh[1], inner: tensor.Numel(sh[2:])}
	if c.Training {
		if g.n*g.inner < 2 {
			panic(&tensor.ShapeError{Op: op, Msg: fmt.Sprintf("training needs more than one value per channel, got input %v; use a batch larger than 1", sh)})
		}
		return l.trainForward(c.Tape, x, g)
	}
	return l.evalForward(c.Tape, x, g)
}

// OutputShape is the input's shape, which must be [batch, features] or
// [batch, features, length] (BatchNorm1D) or [batch, channels, h, w]
// (BatchNorm2D).
func (l *BatchNorm) OutputShape(in []int) ([]int, error) {
	op := layerOpName(batchNormType(l.spatial), l.name)
	if l.spatial && len(in) != 4 {
		return nil, shapeErr(op, "input must be [batch, %d, height, width], got %v", l.Features, in)
	}
	if !l.spatial && len(in) != 2 && len(in) != 3 {
		return nil, shapeErr(op, "input must be [batch, %d] (or [batch, %d, length]), got %v", l.Features, l.Features, in)
	}
	if in[1] != l.Features {
		what := "features"
		if l.spatial {
			what = "channels"
		}
		return nil, shapeErr(op, "input has %d %s (shape %v), layer expects %d", in[1], what, in, l.Features)
	}
	return sameShape(in), nil
}

// bnGeom views a contiguous input as [n, c, inner].
type bnGeom struct{ n, c, inner int }

// at returns the contiguous run of channel ch in example i.
func (g bnGeom) at(d []float32, i, ch int) []float32 {
	off := (i*g.c + ch) * g.inner
	return d[off : off+g.inner]
}

// bnParallel splits channels over the cores when the work is large;
// channels are independent, so the result does not depend on the split.
func bnParallel(channels, work int, fn func(c0, c1 int)) {
	workers := min(runtime.GOMAXPROCS(0), channels)
	if workers <= 1 || work < 1<<15 {
		fn(0, channels)
		return
	}
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			fn(lo, hi)
		}(w*channels/workers, (w+1)*channels/workers)
	}
	fn(0, channels/workers)
	wg.Wait()
}

// bnSums returns Σ(v−k) and Σ(v−k)² over d, accumulated in float64 in
// four independent lanes (so the adds pipeline).
func bnSums(d []float32, k float32) (s1, s2 float64) {
	var a0, a1, a2, a3, b0, b1, b2, b3 float64
	i := 0
	for ; i+4 <= len(d); i += 4 {
		v0, v1, v2, v3 := float64(d[i]-k), float64(d[i+1]-k), float64(d[i+2]-k), float64(d[i+3]-k)
		a0, a1, a2, a3 = a0+v0, a1+v1, a2+v2, a3+v3
		b0, b1, b2, b3 = b0+v0*v0, b1+v1*v1, b2+v2*v2, b3+v3*v3
	}
	for ; i < len(d); i++ {
		v := float64(d[i] - k)
		a0 += v
		b0 += v * v
	}
	return a0 + a1 + a2 + a3, b0 + b1 + b2 + b3
}

// bnGradSums returns Σg and Σg·(x−μ) over a channel run, four lanes.
func bnGradSums(x, g []float32, mu float32) (sg, sgx float64) {
	g = g[:len(x)]
	var a0, a1, a2, a3, b0, b1, b2, b3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		g0, g1, g2, g3 := float64(g[i]), float64(g[i+1]), float64(g[i+2]), float64(g[i+3])
		a0, a1, a2, a3 = a0+g0, a1+g1, a2+g2, a3+g3
		b0 += g0 * float64(x[i]-mu)
		b1 += g1 * float64(x[i+1]-mu)
		b2 += g2 * float64(x[i+2]-mu)
		b3 += g3 * float64(x[i+3]-mu)
	}
	for ; i < len(x); i++ {
		a0 += float64(g[i])
		b0 += float64(g[i]) * float64(x[i]-mu)
	}
	return a0 + a1 + a2 + a3, b0 + b1 + b2 + b3
}

func (l *BatchNorm) trainForward(tp *autograd.Tape, x *autograd.Var, g bnGeom) *autograd.Var {
	xd := x.Value.Data()
	y := tensor.New(x.Shape()...)
	yd := y.Data()
	gamma, beta := l.Weight.Value.Data(), l.Bias.Value.Data()
	m := float64(g.n * g.inner)
	mean := make([]float64, g.c)
	invstd := make([]float64, g.c)
	variance := make([]float64, g.c)
	bnParallel(g.c, len(xd), func(c0, c1 int) {
		for ch := c0; ch < c1; ch++ {
			// One pass over the channel, shifted by its first value so the
			// sum of squares does not cancel catastrophically.
			shift0 := g.at(xd, 0, ch)[0]
			var s1, s2 float64
			for i := 0; i < g.n; i++ {
				a, b := bnSums(g.at(xd, i, ch), shift0)
				s1 += a
				s2 += b
			}
			mu := float64(shift0) + s1/m
			vr := max(s2/m-(s1/m)*(s1/m), 0)
			is := 1 / math.Sqrt(vr+l.Eps)
			mean[ch], invstd[ch], variance[ch] = mu, is, vr
			scale := float32(is * float64(gamma[ch]))
			shift := float32(float64(beta[ch]) - mu*is*float64(gamma[ch]))
			for i := 0; i < g.n; i++ {
				src, dst := g.at(xd, i, ch), g.at(yd, i, ch)
				for k, v := range src {
					dst[k] = v*scale + shift
				}
			}
		}
	})
	// Running statistics (the variance estimate unbiased).
	rm, rv := l.RunningMean.Value.Data(), l.RunningVar.Value.Data()
	mom := l.Momentum
	for ch := range rm {
		rm[ch] = float32((1-mom)*float64(rm[ch]) + mom*mean[ch])
		rv[ch] = float32((1-mom)*float64(rv[ch]) + mom*variance[ch]*m/(m-1))
	}
	gammaAt := l.Weight.Value.Clone().Data() // γ as used in this forward
	return tp.Custom(y, func(gy *tensor.Tensor) []*tensor.Tensor {
		gd := gy.Data()
		dgamma, dbeta := tensor.New(g.c), tensor.New(g.c)
		dgd, dbd := dgamma.Data(), dbeta.Data()
		var gx *tensor.Tensor
		var gxd []float32
		if x.RequiresGrad() {
			gx = tensor.New(x.Shape()...)
			gxd = gx.Data()
		}
		bnParallel(g.c, len(xd), func(c0, c1 int) {
			for ch := c0; ch < c1; ch++ {
				mu, is := mean[ch], invstd[ch]
				var sg, sgx float64
				for i := 0; i < g.n; i++ {
					a, b := bnGradSums(g.at(xd, i, ch), g.at(gd, i, ch), float32(mu))
					sg += a
					sgx += b
				}
				sgx *= is
				dbd[ch], dgd[ch] = float32(sg), float32(sgx)
				if gxd == nil {
					continue
				}
				// dx = γ·is/M · (M·g − Σg − x̂·Σ(g·x̂))
				k0 := float64(gammaAt[ch]) * is / m
				a := float32(k0 * m)
				b := float32(-k0 * sg)
				cx := float32(-k0 * sgx * is) // multiplies (x − μ)
				muf := float32(mu)
				for i := 0; i < g.n; i++ {
					xs, gs, out := g.at(xd, i, ch), g.at(gd, i, ch), g.at(gxd, i, ch)
					for k, v := range xs {
						out[k] = a*gs[k] + b + cx*(v-muf)
					}
				}
			}
		})
		return []*tensor.Tensor{gx, dgamma, dbeta}
	}, x, l.Weight, l.Bias)
}

func (l *BatchNorm) evalForward(tp *autograd.Tape, x *autograd.Var, g bnGeom) *autograd.Var {
	xd := x.Value.Data()
	y := tensor.New(x.Shape()...)
	yd := y.Data()
	gamma, beta := l.Weight.Value.Data(), l.Bias.Value.Data()
	rm, rv := l.RunningMean.Value.Data(), l.RunningVar.Value.Data()
	mean := make([]float32, g.c)
	invstd := make([]float64, g.c)
	scale := make([]float32, g.c)
	for ch := range scale {
		invstd[ch] = 1 / math.Sqrt(float64(rv[ch])+l.Eps)
		mean[ch] = rm[ch]
		scale[ch] = float32(invstd[ch] * float64(gamma[ch]))
	}
	bnParallel(g.c, len(xd), func(c0, c1 int) {
		for ch := c0; ch < c1; ch++ {
			s := scale[ch]
			shift := float32(float64(beta[ch]) - float64(rm[ch])*invstd[ch]*float64(gamma[ch]))
			for i := 0; i < g.n; i++ {
				src, dst := g.at(xd, i, ch), g.at(yd, i, ch)
				for k, v := range src {
					dst[k] = v*s + shift
				}
			}
		}
	})
	// In inference mode the layer is affine per channel: rules keep its
	// ordinary gradient.
	return tp.Affine(y, nil, func(gy *tensor.Tensor) []*tensor.Tensor {
		gd := gy.Data()
		dgamma, dbeta := tensor.New(g.c), tensor.New(g.c)
		dgd, dbd := dgamma.Data(), dbeta.Data()
		var gxd []float32
		var gx *tensor.Tensor
		if x.RequiresGrad() {
			gx = tensor.New(x.Shape()...)
			gxd = gx.Data()
		}
		bnParallel(g.c, len(xd), func(c0, c1 int) {
			for ch := c0; ch < c1; ch++ {
				var sg, sgx float64
				for i := 0; i < g.n; i++ {
					gs := g.at(gd, i, ch)
					a, b := bnGradSums(g.at(xd, i, ch), gs, mean[ch])
					sg += a
					sgx += b
					if gxd != nil {
						out := g.at(gxd, i, ch)
						for k, gv := range gs {
							out[k] = gv * scale[ch]
						}
					}
				}
				dbd[ch], dgd[ch] = float32(sg), float32(sgx*invstd[ch])
			}
		})
		return []*tensor.Tensor{gx, dgamma, dbeta}
	}, x, l.Weight, l.Bias)
}

// Params returns γ and β.
func (l *BatchNorm) Params() []*autograd.Var { return []*autograd.Var{l.Weight, l.Bias} }

// Buffers returns the running mean and variance.
func (l *BatchNorm) Buffers() []*autograd.Var {
	return []*autograd.Var{l.RunningMean, l.RunningVar}
}

// Spec describes the layer for saving; Build rebuilds it.
func (l *BatchNorm) Spec() Spec {
	return MakeSpec(batchNormType(l.spatial), l.name, batchNormArgs{Features: l.Features, Momentum: l.Momentum, Eps: l.Eps})
}

// LayerName returns the layer's name ("" until named).
func (l *BatchNorm) LayerName() string { return l.name }

// SetName names the layer, its parameters and its buffers.
func (l *BatchNorm) SetName(name string) {
	l.name = name
	l.Weight.Name = layerParamName(name, "weight")
	l.Bias.Name = layerParamName(name, "bias")
	l.RunningMean.Name = layerParamName(name, "running_mean")
	l.RunningVar.Name = layerParamName(name, "running_var")
}

// batchNormSpecArgs decodes and validates the args of a batch norm Spec.
func batchNormSpecArgs(s Spec) (batchNormArgs, error) {
	a := batchNormArgs{Momentum: 0.1, Eps: 1e-5}
	if err := s.UnmarshalArgs(&a); err != nil {
		return a, err
	}
	if err := a.validate(); err != nil {
		return a, fmt.Errorf("nn: %s %q: %v", s.Type, s.Name, err)
	}
	return a, nil
}

func init() {
	for _, spatial := range []bool{false, true} {
		RegisterSized(batchNormType(spatial), func(s Spec, _ *rand.Rand) (Module, error) {
			a, err := batchNormSpecArgs(s)
			if err != nil {
				return nil, err
			}
			l, err := newBatchNorm(a, spatial)
			if err != nil {
				return nil, fmt.Errorf("nn: %s %q: %v", s.Type, s.Name, err)
			}
			l.SetName(s.Name)
			return l, nil
		}, func(s Spec) (int64, error) {
			a, err := batchNormSpecArgs(s)
			return Elements(4, a.Features), err // γ, β, running mean and variance
		})
	}
}
