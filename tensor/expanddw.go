package tensor

import "github.com/glassbox-ml/glassbox/tensor/internal/kern"

// ExpandDepthwise computes, for inference, an inverted-residual block's
// expansion and depthwise layers as one operation:
//
//	z = act1(Conv2D(x, we, be, pe))   // 1×1 expansion: [n, ce, h, w]
//	y = act2(Conv2D(z, wd, bd, pd))   // 3×3 depthwise, stride 1 or 2
//
// where actI rectifies when reluI and then bounds above by hiI when
// hiI > 0 (MobileNet's ReLU6), with the bits of those two calls (and of
// Conv2DReLUMax's). Computed apart, a 112×112 expansion to 96 channels
// writes 4.8 MB that the depthwise layer then reads back, both from
// memory; here a core computes a block of z's channels (whole panels of
// the packed filters, about half a mebibyte), runs their depthwise
// planes at once while they are in its cache, and moves on: z never
// exists whole. No gradient is kept.
//
// It returns nil, having done nothing, where the fused kernels do not
// apply: other shapes or parameters (a 1×1 expansion of stride 1, no
// padding, one group; a 3×3 depthwise filter per channel, padding 1,
// stride 1 or 2), or a CPU without the vector kernels. Callers then run
// the two convolutions, which also report any shape error.
func ExpandDepthwise(x, we, be *Tensor, pe ConvParams, relu1 bool, hi1 float32, wd, bd *Tensor, pd ConvParams, relu2 bool, hi2 float32) *Tensor {
	xs, es, ds := x.shape, we.shape, wd.shape
	if len(xs) != 4 || len(es) != 4 || len(ds) != 4 || !kern.IndirectFast() {
		return nil
	}
	pe, pd = pe.norm(), pd.norm()
	n, c, h, w := xs[0], xs[1], xs[2], xs[3]
	ce := es[0]
	s := pd.StrideH
	switch {
	case es[1] != c || es[2] != 1 || es[3] != 1 || pe.StrideH != 1 || pe.StrideW != 1 || pe.PadH != 0 || pe.PadW != 0 || pe.Groups != 1:
		return nil
	case ds[0] != ce || ds[1] != 1 || ds[2] != 3 || ds[3] != 3 || pd.Groups != ce || pd.PadH != 1 || pd.PadW != 1 || pd.StrideW != s || s < 1 || s > 2:
		return nil
	case be != nil && be.Len() != ce || bd != nil && bd.Len() != ce:
		return nil
	case n < 1 || c < 1 || h < 1 || !kern.DepthwiseSmallFast(w, s):
		return nil
	}
	ge := convCheck("ExpandDepthwise", xs, es, pe)
	pl := cachedPlan(ge, 0, true)
	// Data, not the storage: any of them may be a view (an offset into
	// a larger buffer, or strided).
	xd, wed, wdd := x.Data(), we.Data(), wd.Data()
	var packed []*kern.IndirectA
	if f := pe.prepared(we, 1); f != nil {
		packed = f.forward(&pl, wed)
	} else {
		packed = pl.packFilters(wed)
		defer releaseAll(packed)
	}
	pa := packed[0]

	hw := h * w
	oh, ow := ConvOutSize(h, 3, s, 1), ConvOutSize(w, 3, s, 1)
	ohw := oh * ow
	// Blocks of z's channels: whole panels of the packed filters, about
	// zBlockBytes of z a block, and at least four blocks per core when
	// the batch alone does not keep them busy (a 14×14 layer's 576
	// channels fit one block).
	limit := max(1, zBlockBytes/(hw*4))
	if want := (4*Threads() + n - 1) / n; want > 1 {
		limit = min(limit, (ce+want-1)/want)
	}
	starts := append(pa.PanelStarts(), ce)
	var blocks []int // block b is channels [blocks[b], blocks[b+1])
	maxRows := 0
	for i := 0; i < len(starts)-1; {
		j := i + 1
		for j < len(starts)-1 && starts[j+1]-starts[i] <= limit {
			j++
		}
		blocks = append(blocks, starts[i])
		maxRows = max(maxRows, starts[j]-starts[i])
		i = j
	}
	blocks = append(blocks, ce)
	nb := len(blocks) - 1

	var b1, b2 []float32
	switch {
	case be != nil:
		b1 = be.Data()
	case relu1 || hi1 > 0:
		b1 = make([]float32, ce) // the tiles rectify and bound only after a bias
	}
	if bd != nil {
		b2 = bd.Data()
	} else {
		b2 = make([]float32, ce)
	}
	dw := kern.DepthwiseSmall3x3
	if s == 2 {
		dw = kern.DepthwiseStride2x3x3
	}
	y := newUninit(n, ce, oh, ow) // every element is written
	parallelFor(n*nb, 1, func(lo, hi int) {
		zb := getCols(maxRows * hw)
		defer putCols(zb)
		for u := lo; u < hi; u++ {
			i, b := u/nb, u%nb
			c0, c1 := blocks[b], blocks[b+1]
			z := (*zb)[:(c1-c0)*hw]
			var bz []float32
			if b1 != nil {
				bz = b1[c0:c1]
			}
			kern.SgemmIndirectBPackedRows(pa, c0, c1, hw, xd[i*c*hw:(i+1)*c*hw], pl.taps, z, hw, bz, relu1, hi1)
			if !dw(y.data[(i*ce+c0)*ohw:(i*ce+c1)*ohw], z, w, h, c1-c0, wdd[c0*9:c1*9], b2[c0:c1], relu2, hi2) {
				panic("tensor: ExpandDepthwise: the depthwise kernel refused what DepthwiseSmallFast accepted")
			}
		}
	})
	return y
}

// zBlockBytes is about how much of the expansion's output one block of
// channels holds: with the depthwise layer's output it stays in a core's
// L2 (half a mebibyte of the 1 MiB of a Zen 4 core's).
const zBlockBytes = 512 << 10
