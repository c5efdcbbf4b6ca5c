package tensor

import (
	"fmt"
	"testing"

	"github.com/glassbox-ml/glassbox/tensor/internal/kern"
)

// TestExpandDepthwiseMatchesTwoConvs checks the fused expansion and
// depthwise layers against the two convolutions it stands for, bit for
// bit: strides 1 and 2, odd sizes, with and without biases and bounds,
// one image spread over the cores in blocks of channels and a batch,
// filters prepared or not. Where the fused kernels do not run (no vector
// kernels: purego) it must say so by returning nil.
func TestExpandDepthwiseMatchesTwoConvs(t *testing.T) {
	cases := []struct {
		n, c, h, w, ce, stride int
		bias                   bool
		hi1, hi2               float32
	}{
		{1, 16, 30, 30, 48, 1, true, 6, 6},
		{1, 16, 56, 56, 96, 2, true, 6, 6},
		{3, 8, 17, 13, 30, 2, false, 0, 0},
		{2, 24, 14, 14, 144, 1, true, 6, 0},
		{1, 5, 7, 9, 7, 1, false, 0, 6},
	}
	for i, tc := range cases {
		name := fmt.Sprintf("n%d c%d %dx%d ce%d s%d", tc.n, tc.c, tc.h, tc.w, tc.ce, tc.stride)
		rng := NewRNG(uint64(70 + i))
		x := RandN(rng, 0, 1, tc.n, tc.c, tc.h, tc.w)
		we := RandN(rng, 0, 0.3, tc.ce, tc.c, 1, 1)
		wd := RandN(rng, 0, 0.3, tc.ce, 1, 3, 3)
		var be, bd *Tensor
		if tc.bias {
			be, bd = RandN(rng, 0, 0.5, tc.ce), RandN(rng, 0, 0.5, tc.ce)
		}
		pe := ConvParams{}
		pd := ConvParams{StrideH: tc.stride, StrideW: tc.stride, PadH: 1, PadW: 1, Groups: tc.ce}
		conv := func(x, w, b *Tensor, p ConvParams, hi float32) *Tensor {
			if hi > 0 {
				return Conv2DReLUMax(x, w, b, p, hi)
			}
			return Conv2DReLU(x, w, b, p)
		}
		want := conv(conv(x, we, be, pe, tc.hi1), wd, bd, pd, tc.hi2)
		for _, form := range []string{"plain", "prepared", "views"} {
			prepared := form == "prepared"
			pe := pe
			x, we, wd := x, we, wd
			if prepared {
				pe.Prepared = PrepareConvFilters(we, 1)
			}
			if form == "views" {
				// The same values as views at an offset into larger buffers.
				x = Concat(0, RandN(rng, 0, 1, 1, tc.c, tc.h, tc.w), x).Slice(0, 1, tc.n+1)
				we = Concat(0, RandN(rng, 0, 1, 2, tc.c, 1, 1), we).Slice(0, 2, tc.ce+2)
				wd = Concat(0, RandN(rng, 0, 1, 3, 1, 3, 3), wd).Slice(0, 3, tc.ce+3)
			}
			got := ExpandDepthwise(x, we, be, pe, true, tc.hi1, wd, bd, pd, true, tc.hi2)
			if got == nil {
				if kern.IndirectFast() && kern.DepthwiseSmallFast(tc.w, tc.stride) {
					t.Fatalf("%s %s: refused where the kernels run", name, form)
				}
				continue
			}
			if !SameShape(got.Shape(), want.Shape()) {
				t.Fatalf("%s: shape %v, want %v", name, got.Shape(), want.Shape())
			}
			if !bitsEqual(got.Data(), want.Data()) {
				for j := range got.Data() {
					if got.Data()[j] != want.Data()[j] {
						t.Fatalf("%s %s: element %d = %v, want %v", name, form, j, got.Data()[j], want.Data()[j])
					}
				}
			}
		}
	}
}

// TestExpandDepthwiseRefuses checks the shapes and parameters the fused
// kernel leaves to the two convolutions.
func TestExpandDepthwiseRefuses(t *testing.T) {
	rng := NewRNG(90)
	x := RandN(rng, 0, 1, 1, 4, 10, 10)
	we := RandN(rng, 0, 1, 8, 4, 1, 1)
	wd := RandN(rng, 0, 1, 8, 1, 3, 3)
	pd := ConvParams{StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, Groups: 8}
	for name, call := range map[string]func() *Tensor{
		"3x3 expansion": func() *Tensor {
			return ExpandDepthwise(x, RandN(rng, 0, 1, 8, 4, 3, 3), nil, ConvParams{PadH: 1, PadW: 1}, true, 6, wd, nil, pd, true, 6)
		},
		"strided expansion": func() *Tensor {
			return ExpandDepthwise(x, we, nil, ConvParams{StrideH: 2, StrideW: 2}, true, 6, wd, nil, pd, true, 6)
		},
		"5x5 depthwise": func() *Tensor {
			p := pd
			p.PadH, p.PadW = 2, 2
			return ExpandDepthwise(x, we, nil, ConvParams{}, true, 6, RandN(rng, 0, 1, 8, 1, 5, 5), nil, p, true, 6)
		},
		"stride 3": func() *Tensor {
			p := pd
			p.StrideH, p.StrideW = 3, 3
			return ExpandDepthwise(x, we, nil, ConvParams{}, true, 6, wd, nil, p, true, 6)
		},
		"not depthwise": func() *Tensor {
			p := pd
			p.Groups = 4
			return ExpandDepthwise(x, we, nil, ConvParams{}, true, 6, RandN(rng, 0, 1, 8, 2, 3, 3), nil, p, true, 6)
		},
		"channels differ": func() *Tensor {
			return ExpandDepthwise(x, we, nil, ConvParams{}, true, 6, RandN(rng, 0, 1, 6, 1, 3, 3), nil, ConvParams{StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, Groups: 6}, true, 6)
		},
		"bias length": func() *Tensor {
			return ExpandDepthwise(x, we, RandN(rng, 0, 1, 7), ConvParams{}, true, 6, wd, nil, pd, true, 6)
		},
	} {
		if y := call(); y != nil {
			t.Errorf("%s: fused, want nil", name)
		}
	}
}
