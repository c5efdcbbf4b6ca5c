package onnx

import (
	"math"
	"slices"

	"github.com/glassbox-ml/glassbox/autograd"
	"github.com/glassbox-ml/glassbox/tensor"
)

// Resize and Upsample: nearest, (multi-)linear and cubic interpolation,
// one axis at a time as onnx's reference does. Along an axis every
// output position is a weighted sum of a few input positions (1 or 2 for
// nearest, 2 for linear, 4 for cubic); weightedAxis records that as one
// tape op whose backward spreads the gradient back with the same weights.

// resizeSpec is a Resize node's attributes.
type resizeSpec struct {
	mode        string // nearest, linear, cubic
	ctm         string // coordinate_transformation_mode
	nearestMode string // round_prefer_floor, round_prefer_ceil, floor, ceil, or "legacy"
	cubicA      float64
	exclude     bool
	extrap      float64
	axes        []int64
	legacy      bool // Upsample and Resize-10: scales only
	scalesAttr  []float32
}

func init() {
	register("Resize", []int{1, 2, 3}, compileResize)
	register("Upsample", []int{1}, compileResize)
}

func compileResize(c *compiler) kernel {
	s := &resizeSpec{mode: c.str("mode", "nearest"), ctm: "half_pixel", nearestMode: "round_prefer_floor", cubicA: -0.75}
	c.outputs(1)
	switch {
	case c.n.OpType == "Upsample" || c.opset < 11:
		s.legacy = true
		s.ctm, s.nearestMode = "asymmetric", "legacy"
		if c.n.OpType == "Upsample" && c.opset < 9 {
			c.inputs(1, 1)
			var ok bool
			if s.scalesAttr, ok = c.floats("scales"); !ok {
				c.bad("attribute scales is required")
			}
			if c.opset < 7 {
				c.unsupported("Upsample before opset 7 (height_scale/width_scale attributes)")
			}
		} else {
			c.inputs(2, 2)
		}
		if s.mode == "bilinear" {
			s.mode = "linear"
		}
	default:
		c.inputs(1, 4)
		s.ctm = c.str("coordinate_transformation_mode", "half_pixel")
		s.nearestMode = c.str("nearest_mode", "round_prefer_floor")
		s.cubicA = float64(c.float("cubic_coeff_a", -0.75))
		s.exclude = c.int("exclude_outside", 0) != 0
		s.extrap = float64(c.float("extrapolation_value", 0))
		if c.opset >= 18 {
			if c.int("antialias", 0) != 0 {
				c.unsupported("antialias=1")
			}
			s.axes, _ = c.ints("axes")
			if p := c.str("keep_aspect_ratio_policy", "stretch"); p != "stretch" {
				c.unsupported("keep_aspect_ratio_policy=%q (stretch is implemented)", p)
			}
		}
	}
	switch s.mode {
	case "nearest", "linear", "cubic":
	default:
		c.unsupported("mode %q (nearest, linear and cubic are implemented)", s.mode)
	}
	if s.legacy && s.mode == "cubic" {
		c.bad("mode cubic needs opset 11")
	}
	switch s.ctm {
	case "half_pixel", "asymmetric", "pytorch_half_pixel", "align_corners", "tf_half_pixel_for_nn", "tf_crop_and_resize":
	case "half_pixel_symmetric":
		if c.opset < 19 {
			c.bad("coordinate_transformation_mode half_pixel_symmetric needs opset 19")
		}
	default:
		c.unsupported("coordinate_transformation_mode %q", s.ctm)
	}
	switch s.nearestMode {
	case "round_prefer_floor", "round_prefer_ceil", "floor", "ceil", "legacy":
	default:
		c.unsupported("nearest_mode %q", s.nearestMode)
	}
	return func(e *env, x []*val) []*val { return runResize(e, s, x) }
}

func runResize(e *env, s *resizeSpec, x []*val) []*val {
	d := x[0].dims()
	r := len(d)
	axes := make([]int, r)
	for i := range axes {
		axes[i] = i
	}
	if s.axes != nil {
		axes = normAxes(s.axes, r, "axes")
	}
	var scales []float64
	var sizes []int
	var roi []float64
	switch {
	case s.scalesAttr != nil:
		scales = appendF64(nil, s.scalesAttr)
	case s.legacy:
		scales = appendF64(nil, x[1].floats())
	default:
		if len(x) > 1 && x[1] != nil && x[1].numel() > 0 {
			roi = appendF64(nil, x[1].floats())
		}
		if len(x) > 2 && x[2] != nil && x[2].numel() > 0 {
			scales = appendF64(nil, x[2].floats())
		}
		if len(x) > 3 && x[3] != nil && x[3].numel() > 0 {
			if scales != nil {
				fail("scales and sizes are both given")
			}
			sizes = toInts(x[3].asInts("sizes"))
		}
	}
	if scales == nil && sizes == nil {
		fail("neither scales nor sizes is given")
	}
	n := len(axes)
	if (scales != nil && len(scales) != n) || (sizes != nil && len(sizes) != n) {
		fail("scales %v / sizes %v must have one entry per axis (%d)", scales, sizes, n)
	}
	if roi != nil && len(roi) != 2*n {
		fail("roi %v must have %d entries", roi, 2*n)
	}
	if s.ctm == "tf_crop_and_resize" && roi == nil {
		fail("coordinate_transformation_mode tf_crop_and_resize needs roi")
	}
	v := x[0]
	isInt := v.v == nil
	out := v
	for i, a := range axes {
		var scale float64
		var size int
		if sizes != nil {
			size = sizes[i]
			if size < 0 {
				fail("sizes %v must not be negative", sizes)
			}
			scale = float64(size) / float64(d[a])
		} else {
			scale = scales[i]
			if !(scale > 0) {
				fail("scales %v must be positive", scales)
			}
			size = int(scale * float64(d[a]))
		}
		var ro [2]float64
		if roi != nil {
			ro = [2]float64{roi[i], roi[i+n]}
		}
		if size == d[a] && scale == 1 && s.ctm != "tf_crop_and_resize" {
			continue
		}
		if s.nearestMode == "legacy" && s.mode == "nearest" && scale < 1 {
			unsupportedAt("nearest downsampling before opset 11 (its rounding differs between runtimes)")
		}
		checkNumel(slices.Concat(d[:a], []int{size}, d[a+1:]), "resized shape")
		idx, w, fill := resizeTaps(d[a], size, scale, s, ro)
		out = floatVal(weightedAxis(e.tp, out.asVar(), a, size, idx, w, fill, s.extrap), v.dt)
	}
	if out == v {
		return []*val{v}
	}
	if isInt {
		// Integer images (uint8): round the interpolated values back.
		f := out.v.Value.Data()
		ints := make([]int64, len(f))
		for i, q := range f {
			ints[i] = wrapInt(int64(math.RoundToEven(float64(q))), v.dt)
		}
		return []*val{intVal(ints, out.dims(), v.dt)}
	}
	return []*val{out}
}

// resizeTaps computes, for each of the out positions along an axis of in,
// k input indices (clamped to the axis: the reference pads by repeating
// the edge) and weights; fill marks positions that take the
// extrapolation value (tf_crop_and_resize outside the roi).
func resizeTaps(in, out int, scale float64, s *resizeSpec, roi [2]float64) (idx []int32, w []float64, fill []bool) {
	k := map[string]int{"nearest": 2, "linear": 2, "cubic": 4}[s.mode]
	idx = make([]int32, out*k)
	w = make([]float64, out*k)
	fill = make([]bool, out)
	outW := scale * float64(in) // the reference's output_width (a float)
	L := float64(in)
	for o := 0; o < out; o++ {
		xo := float64(o)
		var xs float64
		switch s.ctm {
		case "align_corners":
			if outW == 1 {
				xs = 0
			} else {
				xs = xo * (L - 1) / (outW - 1)
			}
		case "asymmetric":
			xs = xo / scale
		case "tf_half_pixel_for_nn":
			xs = (xo + 0.5) / scale
		case "pytorch_half_pixel":
			if outW == 1 {
				xs = -0.5
			} else {
				xs = (xo+0.5)/scale - 0.5
			}
		case "half_pixel_symmetric":
			adj := float64(out) / outW
			center := L / 2
			xs = center*(1-adj) + (xo+0.5)/scale - 0.5
		case "tf_crop_and_resize":
			if outW == 1 {
				xs = (roi[1] - roi[0]) * (L - 1) / 2
			} else {
				xs = xo * (roi[1] - roi[0]) * (L - 1) / (outW - 1)
			}
			xs += roi[0] * (L - 1)
			if xs < 0 || xs > L-1 {
				fill[o] = true
				continue
			}
		default: // half_pixel
			xs = (xo+0.5)/scale - 0.5
		}
		i0 := math.Floor(xs)
		ratio := xs - i0
		if ratio == 0 { // the reference keeps the ratio in (0, 1]
			ratio = 1
			i0--
		}
		var coeffs []float64
		first := int(i0) // index of coeffs[0]
		switch s.mode {
		case "nearest":
			switch {
			case s.nearestMode == "legacy": // floor
				coeffs = []float64{1, 0}
				if ratio == 1 {
					coeffs = []float64{0, 1}
				}
			case ratio == 1:
				coeffs = []float64{0, 1}
			case s.nearestMode == "round_prefer_floor":
				coeffs = []float64{b2f(ratio <= 0.5), b2f(ratio > 0.5)}
			case s.nearestMode == "round_prefer_ceil":
				coeffs = []float64{b2f(ratio < 0.5), b2f(ratio >= 0.5)}
			case s.nearestMode == "floor":
				coeffs = []float64{1, 0}
			default: // ceil
				coeffs = []float64{0, 1}
			}
		case "linear":
			coeffs = []float64{1 - ratio, ratio}
		case "cubic":
			a, r := s.cubicA, ratio
			coeffs = []float64{
				((a*(r+1)-5*a)*(r+1)+8*a)*(r+1) - 4*a,
				((a+2)*r-(a+3))*r*r + 1,
				((a+2)*(1-r)-(a+3))*(1-r)*(1-r) + 1,
				((a*((1-r)+1)-5*a)*((1-r)+1)+8*a)*((1-r)+1) - 4*a,
			}
			first--
		}
		if s.exclude {
			var sum float64
			for j := range coeffs {
				if p := first + j; p < 0 || p >= in {
					coeffs[j] = 0
				}
				sum += coeffs[j]
			}
			for j := range coeffs {
				coeffs[j] /= sum
			}
		}
		for j, c := range coeffs {
			p := min(max(first+j, 0), in-1)
			idx[o*k+j] = int32(p)
			w[o*k+j] = c
		}
	}
	return idx, w, fill
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// weightedAxis records out[..., o, ...] = Σⱼ w[o·k+j]·x[..., idx[o·k+j], ...]
// along axis (size out), or the constant extrap where fill[o].
func weightedAxis(tp *autograd.Tape, x *autograd.Var, axis, size int, idx []int32, w []float64, fill []bool, extrap float64) *autograd.Var {
	d := x.Value.Shape()
	k := len(idx) / max(size, 1)
	outer := tensor.Numel(d[:axis])
	inner := tensor.Numel(d[axis+1:])
	in := d[axis]
	shape := slices.Clone(d)
	shape[axis] = size
	xd := x.Value.Data()
	y := tensor.New(shape...)
	yd := y.Data()
	for a := 0; a < outer; a++ {
		for o := 0; o < size; o++ {
			dst := yd[(a*size+o)*inner : (a*size+o+1)*inner]
			if fill[o] {
				for i := range dst {
					dst[i] = float32(extrap)
				}
				continue
			}
			for j := 0; j < k; j++ {
				wt := w[o*k+j]
				if wt == 0 {
					continue
				}
				src := xd[(a*in+int(idx[o*k+j]))*inner:]
				for i := range dst {
					dst[i] += float32(wt * float64(src[i]))
				}
			}
		}
	}
	return tp.Custom(y, func(g *tensor.Tensor) []*tensor.Tensor {
		gx := tensor.New(d...)
		gxd, gd := gx.Data(), g.Data()
		for a := 0; a < outer; a++ {
			for o := 0; o < size; o++ {
				if fill[o] {
					continue
				}
				src := gd[(a*size+o)*inner : (a*size+o+1)*inner]
				for j := 0; j < k; j++ {
					wt := float32(w[o*k+j])
					if wt == 0 {
						continue
					}
					dst := gxd[(a*in+int(idx[o*k+j]))*inner:]
					for i, v := range src {
						dst[i] += wt * v
					}
				}
			}
		}
		return []*tensor.Tensor{gx}
	}, x)
}
