package tensor

import (
	"math/bits"
	"runtime"
	"sync"

	"github.com/glassbox-ml/glassbox/tensor/internal/kern"
)

// ConvParams are the stride, zero padding and channel groups of a 2-D
// convolution. The zero value is a stride-1, unpadded, ungrouped
// convolution: a stride or group count of 0 means 1.
type ConvParams struct {
	StrideH, StrideW int
	PadH, PadW       int
	// Groups splits the input and output channels into Groups independent
	// convolutions (Groups = channels is a depthwise convolution).
	Groups int
	// Prepared, when it holds the filters w the convolution is called
	// with (the same *Tensor), supplies them packed for the GEMM kernels
	// once for every call, instead of each call packing them again. For
	// filters that no longer change: see PrepareConvFilters.
	Prepared *ConvFilters `json:"-"`
	// Exact asks for the direct sums: no Winograd (whose output is a few
	// 1e-6 of its terms' size off them, about thirty times the direct
	// sum's rounding). Gradient explanations set it (autograd does, for
	// frozen filters on a tape that records: Tape.ExactIfFrozen): a
	// rectifier unit that sits that close to zero would flip, and with it
	// the gradient, against other frameworks'. Predictions leave it off.
	Exact bool `json:"-"`
}

// ConvFilters are a convolution's filters packed once for the GEMM
// kernels, on first use, for every later call with them: a model that is
// only run (inference, explanations) repacks 47 MB of ResNet-18 weights at
// every call otherwise, as onnxruntime does not. The filters must not
// change while it is in use; Release it when they do or when done.
type ConvFilters struct {
	w      *Tensor
	groups int
	mu     sync.Mutex
	fwd    []*kern.IndirectA // the forward's filters, per group
	flip   []*kern.IndirectA // the input gradient's flipped filters, per group
	pix    []*kern.PixW      // the pixel-major forward's filters, per group
	// The Winograd transforms of the filters, forward and flipped.
	wino, winoFlip *winoFilters
}

// PrepareConvFilters returns w ([out, in/groups, kh, kw]) to be packed on
// first use by the convolutions whose ConvParams.Prepared it is set as.
func PrepareConvFilters(w *Tensor, groups int) *ConvFilters {
	return &ConvFilters{w: w, groups: max(groups, 1)}
}

// Release frees the packings; the next use packs them again.
func (f *ConvFilters) Release() {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	releaseAll(f.fwd)
	releaseAll(f.flip)
	f.wino.release()
	f.winoFlip.release()
	f.fwd, f.flip, f.pix, f.wino, f.winoFlip = nil, nil, nil, nil, nil
}

// prepared returns p.Prepared when it was made for w and pl's groups.
func (p ConvParams) prepared(w *Tensor, groups int) *ConvFilters {
	if f := p.Prepared; f != nil && f.w == w && f.groups == groups {
		return f
	}
	return nil
}

// forward returns the forward's packed filters, packing them once.
func (f *ConvFilters) forward(pl *convPlan, wd []float32) []*kern.IndirectA {
	return f.once(&f.fwd, func() []*kern.IndirectA { return pl.packFilters(wd) })
}

// flipped returns the input gradient's packed flipped filters, once.
func (f *ConvFilters) flipped(pl *convPlan, wd []float32) []*kern.IndirectA {
	return f.once(&f.flip, func() []*kern.IndirectA { return pl.packFlipped(wd) })
}

// pixels returns the pixel-major forward's packed filters, once.
func (f *ConvFilters) pixels(pl *convPlan, wd []float32) []*kern.PixW {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pix == nil {
		f.pix = pl.packPixels(wd)
	}
	return f.pix
}

// winograd returns the Winograd transform of the filters (flipped: the
// input gradient's), made once.
func (f *ConvFilters) winograd(pl *convPlan, wd []float32, flipped bool) *winoFilters {
	f.mu.Lock()
	defer f.mu.Unlock()
	if flipped {
		if f.winoFlip == nil {
			f.winoFlip = pl.flippedWinoFilters(wd)
		}
		return f.winoFlip
	}
	if f.wino == nil {
		f.wino = newWinoFilters(wd, pl.o, pl.c)
	}
	return f.wino
}

// once returns *slot, filled by pack the first time.
func (f *ConvFilters) once(slot *[]*kern.IndirectA, pack func() []*kern.IndirectA) []*kern.IndirectA {
	f.mu.Lock()
	defer f.mu.Unlock()
	if *slot == nil {
		*slot = pack()
	}
	return *slot
}

// norm returns p with zero strides and groups replaced by 1.
func (p ConvParams) norm() ConvParams {
	if p.StrideH == 0 {
		p.StrideH = 1
	}
	if p.StrideW == 0 {
		p.StrideW = 1
	}
	if p.Groups == 0 {
		p.Groups = 1
	}
	return p
}

// ConvOutSize returns the output length of a convolution or pooling window
// of size k sliding with the given stride over in elements padded by pad
// on both sides: (in + 2·pad − k)/stride + 1, rounded down. It is ≤ 0 when
// the window does not fit.
func ConvOutSize(in, k, stride, pad int) int {
	if stride <= 0 {
		stride = 1
	}
	n := in + 2*pad - k
	if n < 0 {
		return 0
	}
	return n/stride + 1
}

// convGeom is a validated convolution problem.
type convGeom struct {
	n, c, h, w     int // input
	o, kh, kw      int // weights
	oh, ow         int // output
	g, cg, og, ckk int // groups, channels per group in/out, cg·kh·kw
	p              ConvParams
}

func (g *convGeom) ohw() int { return g.oh * g.ow }

// onebyone reports a 1×1, stride-1, unpadded convolution: its im2col matrix
// is the input itself, so no copy is needed.
func (g *convGeom) onebyone() bool {
	return g.kh == 1 && g.kw == 1 && g.p.StrideH == 1 && g.p.StrideW == 1 && g.p.PadH == 0 && g.p.PadW == 0
}

func convCheck(op string, xs, ws []int, p ConvParams) convGeom {
	p = p.norm()
	if len(xs) != 4 {
		shapeErr(op, "input must be [batch, channels, height, width], got %v", xs)
	}
	if len(ws) != 4 {
		shapeErr(op, "weight must be [out, in/groups, kh, kw], got %v", ws)
	}
	if p.StrideH < 0 || p.StrideW < 0 || p.PadH < 0 || p.PadW < 0 || p.Groups < 0 {
		shapeErr(op, "strides, padding and groups must not be negative, got %+v", p)
	}
	g := convGeom{n: xs[0], c: xs[1], h: xs[2], w: xs[3], o: ws[0], kh: ws[2], kw: ws[3], g: p.Groups, p: p}
	if g.c%g.g != 0 || g.o%g.g != 0 {
		shapeErr(op, "%d input and %d output channels do not split into %d groups", g.c, g.o, g.g)
	}
	g.cg, g.og = g.c/g.g, g.o/g.g
	if ws[1] != g.cg {
		shapeErr(op, "input has %d channels (%d per group, %d groups) but weight %v expects %d per group", g.c, g.cg, g.g, ws, ws[1])
	}
	if g.kh < 1 || g.kw < 1 {
		shapeErr(op, "kernel %d×%d must be at least 1×1", g.kh, g.kw)
	}
	g.oh = ConvOutSize(g.h, g.kh, p.StrideH, p.PadH)
	g.ow = ConvOutSize(g.w, g.kw, p.StrideW, p.PadW)
	if g.oh < 1 || g.ow < 1 {
		shapeErr(op, "input %d×%d padded by %d×%d is smaller than the %d×%d kernel", g.h, g.w, p.PadH, p.PadW, g.kh, g.kw)
	}
	g.ckk = g.cg * g.kh * g.kw
	return g
}

// colPools recycle scratch buffers (unfolded images, partial gradients)
// across calls and goroutines, one pool per power-of-two capacity so a
// small buffer never stands in for a large one.
var colPools [48]sync.Pool

func getCols(n int) *[]float32 {
	if n > MaxElements {
		shapeErr("convolution", "a scratch buffer of %d values is more than tensor.MaxElements (%d): the layer's input, padding and kernel are too large", n, MaxElements)
	}
	c := bits.Len(uint(max(n, 1) - 1))
	if b, ok := colPools[c].Get().(*[]float32); ok {
		*b = (*b)[:n]
		return b
	}
	b := make([]float32, n, 1<<c)
	return &b
}

func putCols(b *[]float32) {
	c := bits.Len(uint(cap(*b) - 1))
	if cap(*b) == 1<<c {
		colPools[c].Put(b)
	}
}

// Im2Col unfolds one image src [c, h, w] into the matrix dst
// [c·kh·kw, oh·ow]: row (ci, ki, kj) holds, for every output position, the
// input pixel that kernel tap (ki, kj) of channel ci sees there (zero in
// the padding). A convolution is then weights [out, c·kh·kw] · dst. Only
// the strides and padding of p are used; oh and ow follow ConvOutSize.
// dst must hold c·kh·kw·oh·ow elements and is fully overwritten.
func Im2Col(dst, src []float32, c, h, w, kh, kw int, p ConvParams) {
	p = p.norm()
	sh, sw, ph, pw := p.StrideH, p.StrideW, p.PadH, p.PadW
	oh, ow := ConvOutSize(h, kh, sh, ph), ConvOutSize(w, kw, sw, pw)
	if c*kh*kw*oh*ow == 0 {
		return
	}
	_ = dst[c*kh*kw*oh*ow-1]
	_ = src[c*h*w-1]
	r := 0
	for ci := 0; ci < c; ci++ {
		plane := src[ci*h*w : (ci+1)*h*w]
		for ki := 0; ki < kh; ki++ {
			for kj := 0; kj < kw; kj++ {
				row := dst[r*oh*ow : (r+1)*oh*ow]
				r++
				// Output columns whose input column is inside the image:
				// ox·sw − pw + kj ∈ [0, w).
				lo, hi := validRange(ow, w, sw, pw, kj)
				for oy := 0; oy < oh; oy++ {
					out := row[oy*ow : (oy+1)*ow]
					iy := oy*sh - ph + ki
					if iy < 0 || iy >= h || lo >= hi {
						clear(out)
						continue
					}
					clear(out[:lo])
					clear(out[hi:])
					in := plane[iy*w : (iy+1)*w]
					if sw == 1 {
						copy(out[lo:hi], in[lo-pw+kj:])
						continue
					}
					ix := lo*sw - pw + kj
					for ox := lo; ox < hi; ox++ {
						out[ox] = in[ix]
						ix += sw
					}
				}
			}
		}
	}
}

// validRange returns the output columns [lo, hi) whose input column
// ox·s − pad + k lies in [0, w).
func validRange(ow, w, s, pad, k int) (lo, hi int) {
	// ox·s ≥ pad − k  ⇔  ox ≥ ceil((pad − k)/s)
	if d := pad - k; d > 0 {
		lo = (d + s - 1) / s
	}
	// ox·s ≤ w − 1 + pad − k  ⇔  ox ≤ floor((w − 1 + pad − k)/s)
	if d := w - 1 + pad - k; d < 0 {
		hi = 0
	} else {
		hi = min(ow, d/s+1)
	}
	lo = min(lo, ow)
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

// Col2Im is the adjoint of Im2Col: it adds every entry of cols
// [c·kh·kw, oh·ow] back onto the input pixel it was copied from, into dst
// [c, h, w] (entries that came from padding are dropped). dst is
// accumulated into, not overwritten. The sum order is fixed, so results are
// bit-identical run to run.
func Col2Im(dst, cols []float32, c, h, w, kh, kw int, p ConvParams) {
	p = p.norm()
	sh, sw, ph, pw := p.StrideH, p.StrideW, p.PadH, p.PadW
	oh, ow := ConvOutSize(h, kh, sh, ph), ConvOutSize(w, kw, sw, pw)
	if c*kh*kw*oh*ow == 0 {
		return
	}
	_ = cols[c*kh*kw*oh*ow-1]
	_ = dst[c*h*w-1]
	r := 0
	for ci := 0; ci < c; ci++ {
		plane := dst[ci*h*w : (ci+1)*h*w]
		for ki := 0; ki < kh; ki++ {
			for kj := 0; kj < kw; kj++ {
				row := cols[r*oh*ow : (r+1)*oh*ow]
				r++
				lo, hi := validRange(ow, w, sw, pw, kj)
				if lo >= hi {
					continue
				}
				for oy := 0; oy < oh; oy++ {
					iy := oy*sh - ph + ki
					if iy < 0 || iy >= h {
						continue
					}
					src := row[oy*ow+lo : oy*ow+hi]
					in := plane[iy*w : (iy+1)*w]
					ix := lo*sw - pw + kj
					if sw == 1 {
						in = in[ix : ix+len(src)]
						for j, v := range src {
							in[j] += v
						}
						continue
					}
					for _, v := range src {
						in[ix] += v
						ix += sw
					}
				}
			}
		}
	}
}

// convSerialGemm decides whether the batch is split across cores (each
// GEMM on one goroutine) or the blocks run one after another with the GEMM
// itself parallel: a batch smaller than the worker count (a single image
// being explained) would leave cores idle otherwise. Either way every
// output element is summed in the same order (the GEMM kernels guarantee
// it for serial and parallel calls), so the choice never changes results.
func convSerialGemm(n int) bool { return n >= runtime.GOMAXPROCS(0) }

// convBlocks is the fixed partition of a batch of n images: block k holds
// images [k·n/blocks, (k+1)·n/blocks). Blocks are the unit of parallel
// work and each has its own partial weight gradient, summed in block
// order; the partition depends only on the shapes (at most 16 blocks, and
// at most about 16 MiB of partial gradients of wlen floats), never on the
// core count or timing, so results are bit-identical everywhere.
func convBlocks(n, wlen int) int {
	const maxBlocks, budget = 16, 4 << 20 // floats
	return max(1, min(n, maxBlocks, budget/max(1, wlen)))
}

// forBlocks runs fn over blocks [0, n): split across cores when serial is
// true, otherwise on the calling goroutine.
func forBlocks(n int, serial bool, fn func(lo, hi int)) {
	if serial {
		parallelFor(n, 1, fn)
		return
	}
	fn(0, n)
}

// convMode is how one group of a batch of images is lowered to GEMM.
type convMode int

const (
	// modeDirect: a 1×1, stride-1, unpadded convolution is a GEMM on the
	// input as it is.
	modeDirect convMode = iota
	// modeWide: stride 1 (and the forward of any stride, on images split
	// into their stride phases). Each image is zero-padded once to hp×wp and the
	// output is computed on the padded width (wp columns per output row,
	// the last kw−1 of them discarded). Then row (c, ki, kj) of the
	// im2col matrix is one contiguous run of the padded image, starting at
	// c·hp·wp + ki·wp + kj: the indirect GEMMs read those rows from the
	// padded image (forward and weight gradient) and the input gradient is
	// the flipped convolution of the padded dy, so nothing is unfolded
	// except for the transposed weight gradient (dwT) and paddings wider
	// than the kernel (col2im).
	modeWide
	// modeIm2Col: any stride; one Im2Col and GEMM per image (the
	// backward of strided convolutions: their forward runs in modeWide on
	// phase-split images, see usePhases).
	modeIm2Col
)

// convPlan extends a convGeom with how it is computed.
type convPlan struct {
	convGeom
	mode convMode
	// padded (modeWide) holds scratch buffers for one padded (or
	// phase-split) image group whose padding and slack are zero: only the
	// kernels read them, so the border stays clean and a forward copies
	// in the image alone (see cleanPadded). Shared by the plan's copies.
	padded     *sync.Pool
	hp, wp     int // padded image (modeWide)
	wide       int // columns per image in modeWide: oh·wp
	blocks, nb int // batch partition; images per GEMM (modeWide)
	// dwT: the weight gradient is computed transposed, dwᵀ = cols·dyᵀ
	// ([ckk, og] per group), which the GEMM runs faster when og is one
	// 16-wide panel or the unfolded rows are fewer than the filters.
	dwT bool
	// dotDW (modeWide): the weight gradient is one block of dot products
	// per group, dy·colsᵀ with the rows of cols read from the padded
	// images and summed over the nb images of a GEMM (kern.SgemmDotImages),
	// instead of a packed GEMM per image.
	dotDW bool
	// rowOut (modeWide): the forward writes each output row in place with
	// bias and rectifier (kern.SgemmIndirectRows) instead of computing on
	// the padded width and copying out — where a row fills the kernel's
	// tiles (32 columns with AVX-512, 16 with AVX2) at least as well as
	// the padded width would (the copy-out was a sixth of a CIFAR step;
	// kern.IndirectRowsFast) and the batch is split across cores.
	rowOut bool
	// dxRows: the input gradient's flipped convolution writes dx's rows
	// in place the same way (on the geometry of dx and the padded dy).
	dxRows bool
	// taps (modeWide) is where row (c, ki, kj) of the unfolded input
	// starts in one image's padded group, c·hp·wp + ki·wp + kj: the row
	// offsets of the indirect GEMM, which reads the rows from the padded
	// image instead of an unfolded copy.
	taps []int32
	// The input gradient of a stride-1 convolution is itself a stride-1
	// convolution: of dy padded by kh−1−PadH, kw−1−PadW (dpH, dpW) to
	// dhp×dwp, with the filters flipped and their channel axes swapped.
	// flipDX says it is used (the padding is at most kernel−1); dtaps are
	// its tap offsets into one image's padded dy, dwide its columns.
	flipDX   bool
	dpH, dpW int
	dhp, dwp int
	dwide    int
	dtaps    []int32
	// phases (forward of a strided convolution in modeWide): each
	// channel is laid out as the depthwise path lays out its planes (see
	// depthwise.go), split into its stride phases, so every filter tap is
	// again one run at a fixed offset and the output comes out at the
	// phases' pitch. hp·wp is then the phase-split plane and wp its pitch.
	phases *depthwise
}

// wideColumns is about how many GEMM columns modeWide pads at once (nb
// images): a few thousand keep the padded images and, where it is still
// written (dwT), the unfolded matrix near the L2 cache.
const wideColumns = 2048

// planKey identifies a cached plan: the geometry (without the packed
// filters, which plans never use), the partial-gradient length the batch
// partition was bounded by, and whether a strided forward's phases were
// tried.
type planKey struct {
	g      convGeom
	wlen   int
	phases bool
}

// plans caches plans by planKey: building one (its tap offsets, a
// strided layer's phase layout) took 15–90 µs of a 0.8 ms batch-1 layer.
// A plan is read-only once built, so callers share its slices. The cache
// is emptied when it reaches maxPlans (shapes a server never sees again).
var plans struct {
	sync.Mutex
	m map[planKey]*convPlan
}

const maxPlans = 512

// cachedPlan returns the plan of g (with usePhases applied when phases),
// built once.
func cachedPlan(g convGeom, wlen int, phases bool) convPlan {
	g.p.Prepared = nil
	key := planKey{g, wlen, phases}
	plans.Lock()
	pl, ok := plans.m[key]
	plans.Unlock()
	if ok {
		return *pl
	}
	built := newConvPlan(g, wlen)
	if phases {
		built.usePhases()
	}
	plans.Lock()
	if plans.m == nil || len(plans.m) >= maxPlans {
		plans.m = map[planKey]*convPlan{}
	}
	plans.m[key] = &built
	plans.Unlock()
	return built
}

func newConvPlan(g convGeom, wlen int) convPlan {
	pl := convPlan{convGeom: g, blocks: convBlocks(g.n, wlen), nb: 1}
	// With an assembly dot kernel (AVX-512 or AVX2) the weight gradient of a stride-1
	// convolution is read straight from the padded images (see
	// backwardWide), never transposed.
	pl.dotDW = kern.DotImagesFast()
	pl.dwT = !pl.dotDW && (g.og == 16 || g.ckk < g.og)
	switch {
	case g.onebyone():
		pl.mode = modeDirect
		// Row (c) of the "unfolded" input is channel c of the image.
		pl.taps = tapOffsets(g.cg, 1, 1, g.h, g.w)
	case g.p.StrideH == 1 && g.p.StrideW == 1:
		pl.mode = modeWide
		pl.padded = new(sync.Pool)
		pl.hp, pl.wp = g.h+2*g.p.PadH, g.w+2*g.p.PadW
		pl.wide = g.oh * pl.wp
		pl.setWideBatch()
		pl.taps = tapOffsets(g.cg, g.kh, g.kw, pl.hp, pl.wp)
		pl.rowOut = kern.IndirectRowsFast(g.ow, pl.wp)
		if g.p.PadH <= g.kh-1 && g.p.PadW <= g.kw-1 {
			pl.flipDX = true
			pl.dpH, pl.dpW = g.kh-1-g.p.PadH, g.kw-1-g.p.PadW
			pl.dhp, pl.dwp = g.oh+2*pl.dpH, g.ow+2*pl.dpW
			pl.dwide = g.h * pl.dwp
			pl.dtaps = tapOffsets(g.og, g.kh, g.kw, pl.dhp, pl.dwp)
			pl.dxRows = kern.IndirectRowsFast(g.w, pl.dwp)
		}
	default:
		pl.mode = modeIm2Col
	}
	return pl
}

// setWideBatch sets nb, the images per GEMM in modeWide, from pl.wide:
// as many of a block's images as keep the padded columns near
// wideColumns (and their unfolded rows within a mebibyte of floats), the
// block split into equal GEMMs.
func (pl *convPlan) setWideBatch() {
	per := max(1, (pl.n+pl.blocks-1)/pl.blocks)
	nb := max(1, min(per, wideColumns/pl.wide, (1<<20)/max(1, pl.ckk*pl.wide)))
	parts := (per + nb - 1) / nb
	pl.nb = (per + parts - 1) / parts
}

// tapOffsets returns c·hp·wp + ki·wp + kj for every (c, ki, kj) in order:
// where each row of a stride-1 unfolding starts in a padded image.
func tapOffsets(c, kh, kw, hp, wp int) []int32 {
	offs := make([]int32, 0, c*kh*kw)
	for ch := 0; ch < c; ch++ {
		for ki := 0; ki < kh; ki++ {
			for kj := 0; kj < kw; kj++ {
				offs = append(offs, int32(ch*hp*wp+ki*wp+kj))
			}
		}
	}
	return offs
}

// block returns the images of block k.
func (pl *convPlan) block(k int) (lo, hi int) {
	return k * pl.n / pl.blocks, (k + 1) * pl.n / pl.blocks
}

// padLen is the length of the padded-image buffer of nb images of one
// group, with slack: the last unfolded row runs past the final image into
// columns that are discarded (kw−1 floats at stride 1, up to a pitch
// with phases).
func (pl *convPlan) padLen(nb int) int {
	if pl.phases != nil {
		return nb*pl.cg*pl.hp*pl.wp + pl.wp
	}
	return nb*pl.cg*pl.hp*pl.wp + pl.kw
}

// usePhases turns a strided convolution's forward from modeIm2Col into
// modeWide on phase-split images: the indirect GEMM then reads every tap
// where it lies instead of an unfolded copy (a ResNet stem's 7×7/2 unfolds
// 147 rows of 12544 columns, 7 MB per image). The backward keeps im2col.
func (pl *convPlan) usePhases() {
	if pl.mode != modeIm2Col || !pl.phasesFit() {
		return
	}
	d := newDepthwise(pl.convGeom)
	if !kern.IndirectRowsFast(pl.ow, d.we) {
		// A pitch of whole tiles (at most a quarter more columns) lets the
		// GEMM write the output rows in place, with no copy out.
		for _, tile := range []int{16, 32} {
			if p := (pl.ow + tile - 1) / tile * tile; p <= d.we+d.we/4 && kern.IndirectRowsFast(pl.ow, p) {
				d = newPhases(pl.convGeom, p)
				break
			}
		}
	}
	pl.mode, pl.phases = modeWide, d
	pl.padded = new(sync.Pool) // one image's phases, padding kept zero (fill never writes it)
	pl.hp, pl.wp = pl.p.StrideH*pl.p.StrideW*d.hph, d.we
	pl.wide = pl.oh * pl.wp
	pl.setWideBatch()
	pl.taps = make([]int32, 0, pl.ckk)
	for c := 0; c < pl.cg; c++ {
		for _, o := range d.offs {
			pl.taps = append(pl.taps, int32(c*d.plane)+o)
		}
	}
	pl.rowOut = kern.IndirectRowsFast(pl.ow, pl.wp)
}

// phasesFit reports whether one image's group, padded and split into its
// stride phases, is not much larger than its unfolding (ckk·oh·ow floats)
// or is small anyway. The padded plane is about StrideH·StrideW times the
// output's, whatever the padding: with a stride of 40 and padding of
// 20000 (a crafted file) it held 1.6·10⁹ floats for an output of 10⁶,
// where the unfolding the layer falls back to stays within its output's
// bounds.
func (g *convGeom) phasesFit() bool {
	plane := int64(g.h+2*g.p.PadH) * int64(g.w+2*g.p.PadW)
	return int64(g.cg)*plane <= max(int64(g.ckk)*int64(g.oh)*int64(g.ow), 1<<20)
}

// subsampled returns, for each of the planes h×w planes of x, its pixels
// at rows 0, sh, 2·sh, … and columns 0, sw, 2·sw, … (oh×ow of them), as a
// flat tensor of planes·oh·ow values.
func subsampled(x []float32, planes, h, w, sh, sw, oh, ow int) *Tensor {
	xs := newUninit(planes * oh * ow)
	parallelFor(planes, max(1, (1<<14)/max(1, h*w)), func(lo, hi int) {
		var odd *[]float32
		if sw == 2 {
			odd = getCols(oh * ow)
			defer putCols(odd)
		}
		for pl := lo; pl < hi; pl++ {
			src, dst := x[pl*h*w:][:h*w], xs.data[pl*oh*ow:][:oh*ow]
			if sw == 2 {
				// Even columns in one vector pass per plane; the odd
				// ones go to scratch.
				kern.Deinterleave2Rows(dst, *odd, ow, src, sh*w, oh, 2*ow-1)
				continue
			}
			for r := 0; r < oh; r++ {
				row := src[r*sh*w:]
				for j := range ow {
					dst[r*ow+j] = row[j*sw]
				}
			}
		}
	})
	return xs
}

// padPlane writes one channel src (h×w) into dst zero padded to hp×wp.
func (pl *convPlan) padPlane(dst, src []float32) {
	// One clear and one strided copy: per-row copies and clears cost more
	// in calls than in bytes on ResNet's 7- to 56-wide rows.
	clear(dst)
	kern.CopyRows(dst[pl.p.PadH*pl.wp+pl.p.PadW:], pl.wp, src, pl.w, pl.h, pl.w)
}

// cleanPadded returns a buffer for one padded image group (padLen(1))
// whose padding and slack are zero: from pl.padded, or new. Clearing a
// whole padded plane before copying the image in had written most of it
// twice, before every 3×3 layer of a batch-1 inference.
func (pl *convPlan) cleanPadded() *[]float32 {
	if b, ok := pl.padded.Get().(*[]float32); ok {
		return b
	}
	b := make([]float32, pl.padLen(1))
	return &b
}

// copyInterior copies channels [c0, c1) of group gi of image i into the
// interior of the clean padded buffer xp (cleanPadded), leaving its zeros
// alone.
func (pl *convPlan) copyInterior(xp, x []float32, i, gi, c0, c1 int) {
	hw, hpwp := pl.h*pl.w, pl.hp*pl.wp
	for c := c0; c < c1; c++ {
		kern.CopyRows(xp[c*hpwp+pl.p.PadH*pl.wp+pl.p.PadW:], pl.wp, x[((i*pl.g+gi)*pl.cg+c)*hw:][:hw], pl.w, pl.h, pl.w)
	}
}

// padImages writes images [i0, i0+nb) of group gi of x into xp, zero
// padded to hp×wp (or split into phases), followed by zero slack.
func (pl *convPlan) padImages(xp, x []float32, i0, nb, gi int) {
	plane := pl.paddedPlane()
	for j := 0; j < nb; j++ {
		for c := 0; c < pl.cg; c++ {
			pl.padChannel(xp[(j*pl.cg+c)*plane:][:plane], x, i0+j, gi, c)
		}
	}
	clear(xp[nb*pl.cg*plane : pl.padLen(nb)])
}

// padImageParallel is padImages for image i alone, its channels shared
// out over the cores (the forward of one image runs on all of them, and a
// serial copy before each layer had held the other core idle).
func (pl *convPlan) padImageParallel(xp, x []float32, i, gi int) {
	plane := pl.paddedPlane()
	clear(xp[pl.cg*plane : pl.padLen(1)])
	parallelFor(pl.cg, 1, func(c0, c1 int) {
		for c := c0; c < c1; c++ {
			pl.padChannel(xp[c*plane:][:plane], x, i, gi, c)
		}
	})
}

// fillCleanParallel writes image i's group gi into xp, a buffer from
// cleanPadded, as padImageParallel does but without clearing anything:
// the padding, the phases' junk and the slack are zero already, and
// neither the copy nor the phase split writes there.
func (pl *convPlan) fillCleanParallel(xp, x []float32, i, gi int) {
	plane := pl.paddedPlane()
	hw := pl.h * pl.w
	parallelFor(pl.cg, 1, func(c0, c1 int) {
		for c := c0; c < c1; c++ {
			dst := xp[c*plane:][:plane]
			src := x[((i*pl.g+gi)*pl.cg+c)*hw:][:hw]
			if pl.phases != nil {
				pl.phases.fill(dst, src)
				continue
			}
			kern.CopyRows(dst[pl.p.PadH*pl.wp+pl.p.PadW:], pl.wp, src, pl.w, pl.h, pl.w)
		}
	})
}

// paddedPlane is the length of one channel's padded (or phase-split)
// plane in padImages' layout.
func (pl *convPlan) paddedPlane() int {
	if pl.phases != nil {
		return pl.phases.plane
	}
	return pl.hp * pl.wp
}

// padChannel writes channel c of group gi of image i into dst, one
// padded (or phase-split) plane: its padding zero, the image copied in.
func (pl *convPlan) padChannel(dst, x []float32, i, gi, c int) {
	hw := pl.h * pl.w
	src := x[((i*pl.g+gi)*pl.cg+c)*hw:][:hw]
	if pl.phases != nil {
		clear(dst) // the padding, which fill leaves alone
		pl.phases.fill(dst, src)
		return
	}
	pl.padPlane(dst, src)
}

// wideCols unfolds nb padded images into cols [ckk, nb·wide].
func (pl *convPlan) wideCols(cols, xp []float32, nb int) {
	hpwp, L := pl.hp*pl.wp, pl.wide
	ld := nb * L
	r := 0
	for c := 0; c < pl.cg; c++ {
		for ki := 0; ki < pl.kh; ki++ {
			for kj := 0; kj < pl.kw; kj++ {
				row := cols[r*ld:][:ld]
				off := c*hpwp + ki*pl.wp + kj
				for j := 0; j < nb; j++ {
					copy(row[j*L:(j+1)*L], xp[j*pl.cg*hpwp+off:])
				}
				r++
			}
		}
	}
}

// wideColsAdjoint adds dcols [ckk, nb·wide] back onto the padded images
// dxp (zeroed by the caller): the adjoint of wideCols.
func (pl *convPlan) wideColsAdjoint(dxp, dcols []float32, nb int) {
	hpwp, L := pl.hp*pl.wp, pl.wide
	ld := nb * L
	r := 0
	for c := 0; c < pl.cg; c++ {
		for ki := 0; ki < pl.kh; ki++ {
			for kj := 0; kj < pl.kw; kj++ {
				row := dcols[r*ld:][:ld]
				off := c*hpwp + ki*pl.wp + kj
				for j := 0; j < nb; j++ {
					kern.Saxpy(1, row[j*L:(j+1)*L], dxp[j*pl.cg*hpwp+off:])
				}
				r++
			}
		}
	}
}

// Conv2D returns the 2-D cross-correlation of x with the filters w plus
// the bias b (nil for none), as deep-learning frameworks define
// convolution.
//
//	x: [batch, channels, h, w]
//	w: [out, channels/groups, kh, kw]
//	b: [out] or nil
//	returns [batch, out, oh, ow] with oh = (h + 2·PadH − kh)/StrideH + 1
//	(and likewise ow)
//
// The weight matrix [out, channels/groups·kh·kw] multiplies the unfolded
// input (im2col) in one GEMM per image and group, the batch split in
// blocks across cores. Stride-1 convolutions pad each image once and
// never write the unfolded matrix: the indirect GEMM reads its rows, runs
// of the padded image, in place. A 1×1, stride-1, unpadded convolution
// multiplies the input directly. Shapes that do not fit panic with a
// *ShapeError.
func Conv2D(x, w, b *Tensor, p ConvParams) *Tensor {
	return conv2D("Conv2D", x, w, b, p, false, 0, nil)
}

// Conv2DReLU returns max(Conv2D(x, w, b, p), 0), bit for bit, in one pass:
// the rectifier is applied while the result is copied out of the GEMM
// instead of in a second sweep over the output (a conv-ReLU pair is the
// commonest block of a CNN, and the sweep cost a tenth of a training step).
func Conv2DReLU(x, w, b *Tensor, p ConvParams) *Tensor {
	return conv2D("Conv2DReLU", x, w, b, p, true, 0, nil)
}

// Conv2DReLUMax is min(Conv2DReLU(x, w, b, p), hi) for hi > 0 (ReLU6 with
// hi = 6, as MobileNets use it), the bound applied to each image's output
// while it is still in cache rather than in a pass over the whole batch
// afterwards. Its gradient is Conv2DBackward's of dy masked where
// 0 < y < hi.
func Conv2DReLUMax(x, w, b *Tensor, p ConvParams, hi float32) *Tensor {
	if !(hi > 0) {
		shapeErr("Conv2DReLUMax", "upper bound %v must be positive", hi)
	}
	return conv2D("Conv2DReLUMax", x, w, b, p, true, hi, nil)
}

// Conv2DAdd returns Conv2D(x, w, b, p) + res, rectified when relu and
// bounded above by bound when bound > 0 (ReLU6): a residual block's
// convolution, shortcut addition and activation in one pass where the
// convolution runs pixel-major (the residual added as each tile is
// stored), with the same bits as the three operations one after
// another. res must have the output's shape. It has no gradient: a
// model whose gradient is taken runs the three operations.
func Conv2DAdd(x, w, b, res *Tensor, p ConvParams, relu bool, bound float32) *Tensor {
	if res == nil {
		shapeErr("Conv2DAdd", "no residual")
	}
	return conv2D("Conv2DAdd", x, w, b, p, relu, bound, res)
}

// addAct sets y = y + res, rectified when relu and bounded by bound when
// bound > 0, in place, and returns y.
func addAct(y *Tensor, res []float32, relu bool, bound float32) *Tensor {
	yd := y.data
	parallelFor(len(yd), 1<<14, func(lo, hi int) {
		// y + 1·res rounds once, as the sum does.
		kern.Saxpy(1, res[lo:hi], yd[lo:hi])
		kern.BiasRows(yd[lo:hi], hi-lo, 1, hi-lo, nil, relu, bound)
	})
	return y
}

// clampMax sets d[i] = min(d[i], hi) (a NaN stays).
func clampMax(d []float32, hi float32) { kern.ClampMax(d, hi) }

// conv2D is the forward of every convolution: rectified when relu, then
// bounded above by bound when bound > 0.
func conv2D(op string, x, w, b *Tensor, p ConvParams, relu bool, bound float32, res *Tensor) *Tensor {
	g := convCheck(op, x.shape, w.shape, p)
	if b != nil && (b.Len() != g.o) {
		shapeErr(op, "bias has shape %v, want [%d] (one per output channel)", b.shape, g.o)
	}
	var rd []float32
	if res != nil {
		if !SameShape(res.shape, []int{g.n, g.o, g.oh, g.ow}) {
			shapeErr(op, "residual has shape %v, want the output's %v", res.shape, []int{g.n, g.o, g.oh, g.ow})
		}
		rd = res.Data()
	}
	if g.isDepthwise() && g.phasesFit() {
		if rd != nil {
			return addAct(depthwiseForward(g, x, w, b, false, 0), rd, relu, bound)
		}
		return depthwiseForward(g, x, w, b, relu, bound)
	}
	if g.kh == 1 && g.kw == 1 && g.p.PadH == 0 && g.p.PadW == 0 && (g.p.StrideH > 1 || g.p.StrideW > 1) {
		// A strided 1×1 convolution (ResNet's downsampling shortcuts)
		// reads only the pixels at multiples of the strides: taken out
		// first, it is the plain product of a 1×1 convolution. Split into
		// phases, it had copied the whole input for a quarter of it.
		xs := subsampled(x.Data(), g.n*g.c, g.h, g.w, g.p.StrideH, g.p.StrideW, g.oh, g.ow)
		defer Recycle([]*Tensor{xs}, nil)
		p1 := p
		p1.StrideH, p1.StrideW = 1, 1
		return conv2D(op, xs.Reshape(g.n, g.c, g.oh, g.ow), w, b, p1, relu, bound, res)
	}
	// The forward keeps no partial weight gradients, so its batch
	// partition need not shrink for large filters (it had put a whole
	// batch of ResNet's last stage on one core); any partition gives
	// the same results, each image being computed alone.
	pl := cachedPlan(g, 0, true)
	xd, wd := x.Data(), w.Data()
	var bd []float32
	if b != nil {
		bd = b.Data()
	}
	y := newUninit(g.n, g.o, g.oh, g.ow) // every element is written
	if g.winoFits() {
		wf, done := pl.winoFiltersFor(p, w, false)
		defer done()
		winoConv(y.data, xd, nil, g.n, g.c, g.o, g.h, g.w, wf, bd, rd, relu, bound)
		return y
	}
	serial := convSerialGemm(g.n)
	if pl.usePixels() {
		var pws []*kern.PixW
		if f := p.prepared(w, g.g); f != nil {
			pws = f.pixels(&pl, wd)
		} else {
			pws = pl.packPixels(wd)
		}
		pl.forwardPixels(y.data, xd, bd, rd, pws, serial, relu, bound)
		return y
	}
	if rd != nil {
		// The other paths apply the activation as they write: the
		// residual goes in after, with it.
		Recycle([]*Tensor{y}, nil)
		return addAct(conv2D(op, x, w, b, p, false, 0, nil), rd, relu, bound)
	}
	// The filters are packed for the indirect GEMM once per call, shared
	// by every image and core.
	var packed []*kern.IndirectA
	if pl.mode == modeWide || pl.fewColumns() {
		if f := p.prepared(w, g.g); f != nil {
			packed = f.forward(&pl, wd)
		} else {
			packed = pl.packFilters(wd)
			defer releaseAll(packed)
		}
	}
	if pl.fewColumns() {
		ohw := g.ohw()
		one := func(i int, par bool) {
			yi := y.data[i*g.o*ohw : (i+1)*g.o*ohw]
			xi := xd[i*g.c*ohw : (i+1)*g.c*ohw]
			if bd != nil {
				// Bias, rectifier and bound as the tiles are stored: a
				// pass over the output afterwards had been a third of a
				// 1×1 layer of 32 channels onto 16 at 112×112.
				kern.SgemmIndirectBPackedBias(packed[0], ohw, xi, pl.taps, yi, ohw, bd, relu, bound, par)
				return
			}
			kern.SgemmIndirectBPacked(packed[0], ohw, xi, pl.taps, yi, ohw, par)
			kern.BiasRows(yi, ohw, g.o, ohw, bd, relu, bound)
		}
		if !serial {
			// A batch too small to fill the cores: image after image,
			// each product shared out over them.
			for i := 0; i < g.n; i++ {
				one(i, true)
			}
			return y
		}
		forBlocks(pl.blocks, true, func(lo, hi int) {
			for k := lo; k < hi; k++ {
				i0, i1 := pl.block(k)
				for i := i0; i < i1; i++ {
					one(i, false)
				}
			}
		})
		return y
	}
	if pl.mode == modeWide && pl.rowOut && !serial && g.n == 1 {
		// One image (an explanation, a batch-1 prediction): its output
		// rows are spread over the cores, written in place.
		// Its padded (or phase-split) copy goes into a buffer whose
		// padding is zero already: clearing it first had been 15% of
		// MobileNetV2's stem.
		xp := pl.cleanPadded()
		defer pl.padded.Put(xp)
		pl.forwardRowsParallel(y.data, xd, bd, *xp, packed, relu, bound)
		return y
	}
	forBlocks(pl.blocks, serial, func(lo, hi int) {
		var xp, yw, cols *[]float32
		switch pl.mode {
		case modeWide:
			xp, yw = getCols(pl.padLen(pl.nb)), getCols(g.og*pl.wide)
			defer putCols(xp)
			defer putCols(yw)
		case modeIm2Col:
			cols = getCols(g.ckk * g.ohw())
			defer putCols(cols)
		}
		for k := lo; k < hi; k++ {
			i0, i1 := pl.block(k)
			if pl.mode == modeWide {
				for s := i0; s < i1; s += pl.nb {
					if pl.rowOut && serial {
						pl.forwardRows(y.data, xd, bd, s, min(pl.nb, i1-s), *xp, packed, relu, bound)
						continue
					}
					pl.forwardWide(y.data, xd, bd, s, min(pl.nb, i1-s), *xp, *yw, packed, !serial, relu, bound)
				}
				continue
			}
			for i := i0; i < i1; i++ {
				var c []float32
				if cols != nil {
					c = *cols
				}
				pl.forwardImage(y.data, xd, wd, bd, i, c, serial, relu, bound)
			}
		}
	})
	return y
}

// packFilters packs each group's filters w ([og, ckk] per group) for the
// indirect GEMM; release them with releaseAll.
func (pl *convPlan) packFilters(w []float32) []*kern.IndirectA {
	packed := make([]*kern.IndirectA, pl.g)
	for gi := range packed {
		packed[gi] = kern.PackIndirectA(pl.og, pl.ckk, w[gi*pl.og*pl.ckk:], pl.ckk, true)
	}
	return packed
}

// packPixels packs each group's filters for the pixel-major forward.
func (pl *convPlan) packPixels(w []float32) []*kern.PixW {
	pws := make([]*kern.PixW, pl.g)
	for gi := range pws {
		pws[gi] = kern.PackPixW(pl.og, pl.ckk, w[gi*pl.og*pl.ckk:], pl.ckk)
	}
	return pws
}

// usePixels reports whether the forward of a modeWide convolution runs
// pixel-major (kern.SgemmPixelsRows: output channels on the vector
// lanes, a row's pixels in tiles of up to 12) rather than with pixels on
// the lanes: where it fills its lanes better. Its lanes are the filters
// in panels of 32, less the cost of turning each tile around into the
// planes (about as much as 40 steps of its k loop: 7% of a 3×3 layer over
// 64 channels, 21% of ResNet's 7×7 stem over 3); the indirect GEMM's are the row's pixels in
// tiles of 32 (in place) or the padded width's (copied out). ResNet's
// rows of 56, 28, 14 and 7 pixels fill 88, 88, 44 and 22% of the rows'
// tiles; its 64 to 512 filters fill every panel. Both compute each
// output as the same chain of FMAs, so the choice changes no result.
func (pl *convPlan) usePixels() bool {
	if pixelsOff || !kern.PixelsFast(pl.ohw()) {
		return false
	}
	pix := float64(pl.og) / float64((pl.og+31)/32*32) * float64(pl.ckk) / float64(pl.ckk+40)
	var cur float64
	switch {
	case pl.mode == modeDirect:
		// A 1×1 layer on few pixels (MobileNet's projections over 384
		// to 960 channels onto 14×14 and 7×7) fills the indirect GEMM's
		// 32-pixel tiles with its whole plane: 196 of 224, 49 of 64. With
		// fewer channels a tile's k loop is too short to pay for its
		// turnaround (MobileNet's last layer, 320 channels onto 1280
		// planes of 7×7: 0.205 → 0.229 ms when its tiles stopped at
		// the rows' ends; with runs of 12 across them, 320 and fewer
		// channels were still no faster).
		if !pl.fewColumns() || pl.ckk < 384 {
			return false
		}
		cur = float64(pl.ohw()) / float64((pl.ohw()+31)/32*32)
	case pl.mode != modeWide:
		return false
	case pl.rowOut:
		cur = float64(pl.ow) / float64((pl.ow+31)/32*32)
	default:
		cur = float64(pl.ow) / float64(pl.wp) * float64(pl.wide) / float64((pl.wide+31)/32*32) * 0.95
	}
	return pix > cur
}

// pixelsOff turns the pixel-major forward off (tests compare the paths).
var pixelsOff bool

// pixRows is how many output rows the pixel-major forward computes for
// each panel of filters in turn: rows whose share of the padded (or
// phase-split) image, about 256 KiB, stays in L2 while every panel passes
// over it.
//
// One image's units (row blocks × panels) are shared out over the cores,
// so there are at least eight of them where the rows allow: ResNet's
// last stage has 7 rows and 16 panels, a MobileNet projection onto 7×7
// 7 rows and 5 panels.
func (pl *convPlan) pixRows() int {
	plane := int64(pl.hp) * int64(pl.wp)
	if pl.mode == modeDirect {
		plane = int64(pl.h) * int64(pl.w)
	}
	rb := max(1, int(int64(pl.oh)*(1<<16)/max(1, int64(pl.cg)*plane)))
	panels := (pl.og + 31) / 32
	if want := (8 + panels - 1) / panels; (pl.oh+rb-1)/rb < want {
		rb = max(1, pl.oh/want)
	}
	return rb
}

// readsInPlace reports a forward that reads its input where it lies, with
// no padded copy: a 1×1 layer's (modeDirect), or a stride-1 layer's
// without padding, whose padded image is the input itself (it had been
// copied into a clean buffer of the same size: 10–17% of a 3×3 layer at
// batch 1 on this Zen 4, alone).
func (pl *convPlan) readsInPlace() bool {
	return pl.mode == modeDirect || pl.mode == modeWide && pl.phases == nil && pl.p.PadH == 0 && pl.p.PadW == 0
}

// forwardPixels is the pixel-major forward (see usePixels): each image's
// groups padded, then rows of pixels times panels of filters written in
// place with the epilogue. A batch gives each core its images; fewer
// images than cores (batch 1) share their row blocks and panels out.
func (pl *convPlan) forwardPixels(y, x, bias, res []float32, pws []*kern.PixW, serial, relu bool, bound float32) {
	ohw, rb := pl.ohw(), pl.pixRows()
	nrb := (pl.oh + rb - 1) / rb
	srcStride := pl.wp
	inPlace := pl.readsInPlace()
	image := func(xp []float32, i, gi int, units func(n int, fn func(lo, hi int))) {
		switch {
		case inPlace:
			xp = x[(i*pl.g+gi)*pl.cg*pl.h*pl.w:][:pl.cg*pl.h*pl.w]
		case pl.padded != nil && pl.phases == nil:
			if serial {
				pl.copyInterior(xp, x, i, gi, 0, pl.cg)
			} else {
				// One image on all the cores: the copy too.
				units(pl.cg, func(lo, hi int) { pl.copyInterior(xp, x, i, gi, lo, hi) })
			}
		case serial:
			pl.padImages(xp, x, i, 1, gi)
		default:
			pl.padImageParallel(xp, x, i, gi)
		}
		pw := pws[gi]
		np := pw.Panels()
		var bg []float32
		if bias != nil {
			bg = bias[gi*pl.og : (gi+1)*pl.og]
		}
		yo := y[(i*pl.o+gi*pl.og)*ohw:][:pl.og*ohw]
		var ro []float32
		if res != nil {
			ro = res[(i*pl.o+gi*pl.og)*ohw:][:pl.og*ohw]
		}
		if pl.mode == modeDirect {
			// A 1×1 unpadded layer's plane is one run of pixels, so its
			// tiles of 12 need not stop at the ends of rows: a 14×14
			// plane had run as 28 tiles of 7 (each turned around into the
			// planes like a full one), now 17 of 11 or 12. The units are
			// as many runs of pixels as there would be row blocks.
			chunks := max(1, nrb)
			units(chunks*np, func(lo, hi int) {
				for u := lo; u < hi; u++ {
					b, p := u/np, u%np
					x0, x1 := b*ohw/chunks, (b+1)*ohw/chunks
					var rs []float32
					if ro != nil {
						rs = ro[x0:]
					}
					kern.SgemmPixelsRowsAdd(pw, p, p+1, xp[x0:], pl.taps, 0, 1, x1-x0, 0, bg, rs, relu, bound, yo[x0:], ohw, 0)
				}
			})
			return
		}
		units(nrb*np, func(lo, hi int) {
			for u := lo; u < hi; u++ {
				// Row blocks of equal size: blocks of 17, 17, 17 and
				// 5 rows had left a core idle while the other finished
				// a long one.
				b, p := u/np, u%np
				r0, r1 := b*pl.oh/nrb, (b+1)*pl.oh/nrb
				kern.SgemmPixelsRowsAdd(pw, p, p+1, xp, pl.taps, r0, r1, pl.ow, srcStride, bg, ro, relu, bound, yo, ohw, pl.ow)
			}
		})
	}
	units := func(n int, fn func(lo, hi int)) { fn(0, n) }
	if !serial {
		// Too few images for the cores: each image's units shared out.
		units = func(n int, fn func(lo, hi int)) { parallelFor(n, 1, fn) }
	}
	forBlocks(pl.blocks, serial, func(lo, hi int) {
		var xp []float32
		switch {
		case inPlace:
		case pl.padded != nil && pl.phases == nil:
			b := pl.cleanPadded()
			defer pl.padded.Put(b)
			xp = *b
		default:
			b := getCols(pl.padLen(1))
			defer putCols(b)
			xp = *b
		}
		i0, _ := pl.block(lo)
		_, i1 := pl.block(hi - 1)
		for i := i0; i < i1; i++ {
			for gi := 0; gi < pl.g; gi++ {
				image(xp, i, gi, units)
			}
		}
	})
}

// packFlipped packs each group's flipped filters (flipFilters) for the
// input gradient's indirect GEMM.
func (pl *convPlan) packFlipped(w []float32) []*kern.IndirectA {
	wlen := pl.g * pl.og * pl.ckk
	fb := getCols(wlen)
	defer putCols(fb)
	pl.flipFilters((*fb)[:wlen], w)
	packed := make([]*kern.IndirectA, pl.g)
	kk := pl.og * pl.kh * pl.kw
	for gi := range packed {
		packed[gi] = kern.PackIndirectA(pl.cg, kk, (*fb)[gi*pl.og*pl.ckk:], kk, true)
	}
	return packed
}

func releaseAll(ps []*kern.IndirectA) {
	for _, p := range ps {
		p.Release()
	}
}

type gemmIndirectTFn = func(m, n, k int, alpha float32, a []float32, lda int, src []float32, offs []int32, beta float32, c []float32, ldc int)

type gemmIndirectFn = func(m, n, k int, a []float32, lda int, src []float32, offs []int32, c []float32, ldc int)

type gemmFn = func(ta, tb bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

// fewColumns reports a modeDirect convolution (1×1, stride 1, unpadded,
// one group) on planes of few pixels (MobileNet's and ResNet's last
// stages, 7×7 and 14×14): a product of many filters with few columns,
// whose packed filters are most of its memory traffic; or with few
// filters (32 or fewer: MobileNet's projections onto 16 to 32 channels of
// 28×28 to 112×112), whose GEMM packed every column of the input for a
// row panel or two (alternated on one image, 8–14% faster this way; with
// 96 or 144 filters 4–20% slower). It runs as the
// indirect GEMM with one run per input channel, the filters packed once
// (once for the model's life when Prepared) and the cores sharing out
// row panels, instead of packing them again for every image. A batch
// that already keeps every core busy with its own images takes the same
// product, each core on its own images, where the input has 128 channels
// or more: the plain GEMM per image packed 0.1 to 1.2 MB of filters for
// every image (batch 32 on a Zen 4, alternated: 20–40% faster on
// MobileNetV2's 7×7 and 14×14 layers and its 144→24 projection on 56×56).
// Over fewer channels the plain GEMM stays (96→576 on 14×14 8% and
// 32→16 on 112×112 30% slower as the indirect one).
func (pl *convPlan) fewColumns() bool {
	return pl.mode == modeDirect && pl.g == 1 && (pl.ohw() <= 256 || pl.og <= 32) && kern.IndirectFast() && (!convSerialGemm(pl.n) || pl.ckk >= 128)
}

// forwardImage computes image i in modeDirect or modeIm2Col (a strided
// layer whose phase-split images would not fit, see phasesFit): each
// group's product with its epilogue (gemmFinish), on the cores unless
// serial (the batch already is).
func (pl *convPlan) forwardImage(y, x, w, bias []float32, i int, cols []float32, serial, relu bool, bound float32) {
	ohw := pl.ohw()
	yi := y[i*pl.o*ohw : (i+1)*pl.o*ohw]
	ghw := pl.cg * pl.h * pl.w
	for gi := 0; gi < pl.g; gi++ {
		bm := x[(i*pl.g+gi)*ghw:][:ghw]
		if pl.mode == modeIm2Col {
			pl.im2col(cols, bm, !serial)
			bm = cols
		}
		var bg []float32
		if bias != nil {
			bg = bias[gi*pl.og : (gi+1)*pl.og]
		}
		gemmFinish(yi[gi*pl.og*ohw:][:pl.og*ohw], w[gi*pl.og*pl.ckk:][:pl.og*pl.ckk], bm, bg, pl.og, ohw, pl.ckk, serial, relu, bound)
	}
}

// im2col unfolds one group of one image into cols (Im2Col), its channels
// split over the cores when par: an image alone (batch 1) would
// otherwise unfold on one core while the other waits for the GEMM.
func (pl *convPlan) im2col(cols, xg []float32, par bool) {
	if !par || pl.cg == 1 {
		Im2Col(cols, xg, pl.cg, pl.h, pl.w, pl.kh, pl.kw, pl.p)
		return
	}
	rows := pl.kh * pl.kw * pl.ohw() // of cols, per channel
	hw := pl.h * pl.w
	parallelFor(pl.cg, max(1, (1<<15)/max(1, rows)), func(c0, c1 int) {
		Im2Col(cols[c0*rows:c1*rows], xg[c0*hw:c1*hw], c1-c0, pl.h, pl.w, pl.kh, pl.kw, pl.p)
	})
}

// gemmFinish sets c ([m, n]) to a·b (a [m, k], b [k, n]) plus the
// epilogue (kern.BiasRows: bias, rectifier, bound), a column block of c
// at a time: each block's epilogue runs right after its product, while
// the block is in cache, where a pass over the whole output afterwards
// read it back from memory (a 1×1 expansion's output is megabytes:
// MobileNetV2's first writes 4.8 MB per image). The blocks, of about
// gemmBlockFloats, follow from the shape alone, never from the number of
// cores, so every element is summed the same way wherever it runs; unless
// serial they are spread over the cores.
func gemmFinish(c, a, b, bias []float32, m, n, k int, serial, relu bool, bound float32) {
	nc := n
	if int64(m)*int64(n)*int64(k) >= gemmSplitMNK {
		nc = min(n, max(64, gemmBlockFloats/max(1, m)/32*32))
	}
	cb := (n + nc - 1) / nc
	if cb == 1 {
		// Too few columns to split: one product (its packed b shared by
		// the cores), then the epilogue over a c small enough to be in
		// cache still.
		if serial {
			gemmSerial(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
		} else {
			gemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
		}
		kern.BiasRows(c, n, m, n, bias, relu, bound)
		return
	}
	run := func(lo, hi int) {
		for blk := lo; blk < hi; blk++ {
			j0 := blk * nc
			nn := min(nc, n-j0)
			gemmSerial(false, false, m, nn, k, 1, a, k, b[j0:], n, 0, c[j0:], n)
			kern.BiasRows(c[j0:], n, m, nn, bias, relu, bound)
		}
	}
	if serial {
		run(0, cb)
		return
	}
	parallelFor(cb, 1, run)
}

// gemmSplitMNK is the product size (m·n·k) from which gemmFinish splits
// c into blocks; gemmBlockFloats is about how many floats of c a block
// holds (64 KiB: with its share of b it stays in a core's L2).
const (
	gemmSplitMNK    = 1 << 18
	gemmBlockFloats = 1 << 14
)

// forwardWide computes images [i0, i0+nb) in modeWide with the indirect
// GEMM: each group of each image is one product of the packed weights
// [og, ckk] with the unfolded rows read straight from the padded image
// (pl.taps), on the padded width (on several cores when par); the valid
// columns are copied out with the bias added (and rectified when relu).
func (pl *convPlan) forwardWide(y, x, bias []float32, i0, nb int, xp, yw []float32, packed []*kern.IndirectA, par, relu bool, hi float32) {
	L, ohw, img := pl.wide, pl.ohw(), pl.cg*pl.hp*pl.wp
	for gi := 0; gi < pl.g; gi++ {
		pl.padImages(xp, x, i0, nb, gi)
		for j := 0; j < nb; j++ {
			kern.SgemmIndirectBPacked(packed[gi], L, xp[j*img:], pl.taps, yw, L, par)
			for o := 0; o < pl.og; o++ {
				oc := gi*pl.og + o
				var b float32
				if bias != nil {
					b = bias[oc]
				}
				kern.AddBiasRows(y[((i0+j)*pl.o+oc)*ohw:][:ohw], pl.ow, yw[o*L:][:L], pl.wp, pl.oh, pl.ow, b, relu)
			}
			if hi > 0 {
				clampMax(y[((i0+j)*pl.o+gi*pl.og)*ohw:][:pl.og*ohw], hi)
			}
		}
	}
}

// forwardRows computes images [i0, i0+nb) as forwardWide does, with each
// output row written in place by the indirect GEMM (bias and rectifier
// applied as it stores): no padded-width result to copy out.
func (pl *convPlan) forwardRows(y, x, bias []float32, i0, nb int, xp []float32, packed []*kern.IndirectA, relu bool, hi float32) {
	ohw, img := pl.ohw(), pl.cg*pl.hp*pl.wp
	for gi := 0; gi < pl.g; gi++ {
		pl.padImages(xp, x, i0, nb, gi)
		var bg []float32
		if bias != nil {
			bg = bias[gi*pl.og : (gi+1)*pl.og]
		}
		for j := 0; j < nb; j++ {
			yo := y[((i0+j)*pl.o+gi*pl.og)*ohw:][:pl.og*ohw]
			kern.SgemmIndirectRowsPacked(packed[gi], xp[j*img:], pl.taps, pl.oh, pl.ow, pl.wp, bg, relu, hi, yo, ohw, pl.ow)
		}
	}
}

// forwardRowsParallel is forwardRows for a batch of one image, its output
// rows split over the cores (each row is computed as forwardRows computes
// it, so the split changes no result).
func (pl *convPlan) forwardRowsParallel(y, x, bias, xp []float32, packed []*kern.IndirectA, relu bool, hi float32) {
	ohw := pl.ohw()
	for gi := 0; gi < pl.g; gi++ {
		pl.fillCleanParallel(xp, x, 0, gi)
		var bg []float32
		if bias != nil {
			bg = bias[gi*pl.og : (gi+1)*pl.og]
		}
		yo := y[gi*pl.og*ohw:][:pl.og*ohw]
		pa := packed[gi]
		parallelFor(pl.oh, max(1, pl.oh/(4*runtime.GOMAXPROCS(0))), func(r0, r1 int) {
			kern.SgemmIndirectRowsPacked(pa, xp[r0*pl.wp:], pl.taps, r1-r0, pl.ow, pl.wp, bg, relu, hi, yo[r0*pl.ow:], ohw, pl.ow)
		})
	}
}

// Conv2DBackward returns the gradients of a Conv2D(x, w, b, p) whose output
// gradient is dy: dx (only when needDX, else nil; [batch, channels, h, w]),
// dw ([out, channels/groups, kh, kw]) and db ([out]). It is the
// im2col/GEMM dual of the forward pass: dw = Σ dy·colsᵀ, dx = Col2Im(wᵀ·dy).
//
// The batch is cut into a fixed number of blocks (see the forward) whose
// partial dw are summed in block order, so the result does not depend on
// scheduling or on the number of cores.
func Conv2DBackward(x, w, dy *Tensor, p ConvParams, needDX bool) (dx, dw, db *Tensor) {
	return conv2DBackward("Conv2DBackward", x, w, nil, dy, p, needDX, true)
}

// Conv2DReLUBackward returns the gradients of y = Conv2DReLU(x, w, b, p)
// whose output gradient is dy, as Conv2DBackward does: the gradient passes
// where y > 0. The mask is applied while dy is read, with no masked copy
// of dy in the common stride-1 case.
func Conv2DReLUBackward(x, w, y, dy *Tensor, p ConvParams, needDX bool) (dx, dw, db *Tensor) {
	return conv2DBackward("Conv2DReLUBackward", x, w, y, dy, p, needDX, true)
}

// Conv2DInputGrad returns only the input gradient dx of Conv2D(x, w, b, p)
// (y nil) or of Conv2DReLU (y its output, whose positive entries pass dy),
// as Conv2DBackward computes it, without the weight and bias gradients: an
// explanation's gradient with respect to the input needs no parameter
// gradient, which costs as much again.
func Conv2DInputGrad(x, w, y, dy *Tensor, p ConvParams) *Tensor {
	dx, _, _ := conv2DBackward("Conv2DInputGrad", x, w, y, dy, p, true, false)
	return dx
}

// conv2DBackward is Conv2DBackward with an optional ReLU output y whose
// positive entries mask dy; without needDW, dw and db are nil and not
// computed.
func conv2DBackward(op string, x, w, y, dy *Tensor, p ConvParams, needDX, needDW bool) (dx, dw, db *Tensor) {
	g := convCheck(op, x.shape, w.shape, p)
	if !SameShape(dy.shape, []int{g.n, g.o, g.oh, g.ow}) {
		shapeErr(op, "output gradient has shape %v, want %v", dy.shape, []int{g.n, g.o, g.oh, g.ow})
	}
	if y != nil && !SameShape(y.shape, dy.shape) {
		shapeErr(op, "output has shape %v, want %v (the output gradient's)", y.shape, dy.shape)
	}
	wlen := w.Len()
	if g.n == 0 {
		if needDX {
			dx = New(x.shape...)
		}
		if !needDW {
			return dx, nil, nil
		}
		return dx, New(w.shape...), New(g.o)
	}
	if g.isDepthwise() && g.phasesFit() {
		dyd := dy.Data()
		if y != nil {
			m, yd := New(dy.shape...), y.Data()
			parallelFor(len(dyd), 1<<14, func(lo, hi int) { kern.ReLUGrad(m.data[lo:hi], dyd[lo:hi], yd[lo:hi]) })
			dyd = m.data
		}
		dx, dw, db = depthwiseBackward(g, x, w, dyd, needDX)
		if !needDW {
			// The per-channel weight sums are a small share of the
			// depthwise backward; they are dropped, not skipped.
			return dx, nil, nil
		}
		return dx, dw, db
	}
	partialLen := wlen
	if !needDW {
		partialLen = 0 // no partial weight gradients to bound the partition
	}
	pl := cachedPlan(g, partialLen, false)
	xd, wd, dyd := x.Data(), w.Data(), dy.Data()
	var yd []float32 // ReLU output masking dy, or nil
	if y != nil {
		yd = y.Data()
		if pl.mode != modeWide {
			// Only the wide mode masks as it reads; the others get a
			// masked copy.
			m := getCols(len(dyd))
			defer putCols(m)
			parallelFor(len(dyd), 1<<14, func(lo, hi int) { kern.ReLUGrad((*m)[lo:hi], dyd[lo:hi], yd[lo:hi]) })
			dyd, yd = (*m)[:len(dyd)], nil
		}
	}

	if g.winoFits() {
		// Winograd (winograd.go): the input gradient is the same
		// convolution of dy with the flipped filters, the weight
		// gradient its adjoint.
		if needDX {
			wf, done := pl.winoFiltersFor(p, w, true)
			defer done()
			dx = newUninit(x.shape...) // every element is written
			winoConv(dx.data, dyd, yd, g.n, g.o, g.c, g.h, g.w, wf, nil, nil, false, 0)
		}
		if needDW {
			dw, db = winoWeightGrad(xd, dyd, yd, g.n, g.c, g.o, g.h, g.w, pl.blocks, convSerialGemm(g.n))
		}
		return dx, dw, db
	}

	// The wide mode sums each image's output gradient per channel while
	// it spreads it (into sums); the others sum dy here. Without needDW
	// the partial weight gradients stay nil and are not computed.
	var sums []float32
	partial := make([][]float32, pl.blocks)
	if needDW {
		db = New(g.o)
		if pl.mode == modeWide {
			sb := getCols(g.n * g.o)
			defer putCols(sb)
			sums = (*sb)[:g.n*g.o]
		} else {
			convBiasGrad(db.data, dyd, g.n, g.o, g.ohw()) // dy is already masked here
		}
		dw = New(w.shape...)
		// Every block overwrites its partial with its first image (beta =
		// 0), so pooled buffers need no clearing.
		for k := range partial {
			if k == 0 && !pl.dwT {
				partial[0] = dw.data // summed in place
				continue
			}
			b := getCols(wlen)
			defer putCols(b)
			partial[k] = *b
		}
	}
	var dxd []float32
	if needDX {
		dx = New(x.shape...)
		dxd = dx.data
	}
	serial := convSerialGemm(g.n)
	gm, gmi, gmt := gemm, gemmIndirect, gemmIndirectT
	if serial {
		gm, gmi, gmt = gemmSerial, gemmIndirectSerial, gemmIndirectTSerial
	}
	// The input gradient's flipped filters, packed once per call.
	var wflip []*kern.IndirectA
	if needDX && pl.flipDX {
		if f := p.prepared(w, g.g); f != nil {
			wflip = f.flipped(&pl, wd)
		} else {
			wflip = pl.packFlipped(wd)
			defer releaseAll(wflip)
		}
	}
	forBlocks(pl.blocks, serial, func(lo, hi int) {
		var ws convWork
		defer ws.release()
		for k := lo; k < hi; k++ {
			i0, i1 := pl.block(k)
			first := true
			if pl.mode == modeWide {
				for s := i0; s < i1; s += pl.nb {
					pl.backwardWide(dxd, partial[k], xd, wd, wflip, dyd, yd, sums, s, min(pl.nb, i1-s), first, &ws, gm, gmi, gmt)
					first = false
				}
				continue
			}
			for i := i0; i < i1; i++ {
				pl.backwardImage(dxd, partial[k], xd, wd, dyd, i, first, &ws, gm)
				first = false
			}
		}
	})
	if sums != nil {
		// db[c] = Σ over images, in order, of the per-image sums.
		for c := range db.data {
			var t float64
			for i := 0; i < g.n; i++ {
				t += float64(sums[i*g.o+c])
			}
			db.data[c] = float32(t)
		}
	}
	switch {
	case !needDW:
	case pl.dwT:
		// Sum the transposed partials in block order, then transpose
		// each group's [ckk, og] into dw's [og, ckk].
		sum := partial[0]
		for k := 1; k < pl.blocks; k++ {
			kern.Saxpy(1, partial[k], sum)
		}
		for gi := 0; gi < g.g; gi++ {
			src := sum[gi*g.og*g.ckk:]
			dst := dw.data[gi*g.og*g.ckk:]
			for r := 0; r < g.ckk; r++ {
				for o := 0; o < g.og; o++ {
					dst[o*g.ckk+r] = src[r*g.og+o]
				}
			}
		}
	case pl.blocks > 1:
		// Sum the partials in block order, element ranges split over cores.
		parallelFor(wlen, 1<<14, func(lo, hi int) {
			out := dw.data[lo:hi]
			for k := 1; k < pl.blocks; k++ {
				kern.Saxpy(1, partial[k][lo:hi], out)
			}
		})
	}
	return dx, dw, db
}

// convWork holds one goroutine's scratch buffers for the backward pass.
type convWork struct{ bufs []*[]float32 }

func (ws *convWork) get(i, n int) []float32 {
	for len(ws.bufs) <= i {
		ws.bufs = append(ws.bufs, nil)
	}
	if b := ws.bufs[i]; b != nil && cap(*b) >= n {
		return (*b)[:n]
	}
	if ws.bufs[i] != nil {
		putCols(ws.bufs[i])
	}
	ws.bufs[i] = getCols(n)
	return *ws.bufs[i]
}

func (ws *convWork) release() {
	for _, b := range ws.bufs {
		if b != nil {
			putCols(b)
		}
	}
}

// dwGemm accumulates one group's weight gradient from dy [og, k] and the
// unfolded input cols [ckk, k] (both with row stride k): dw += dy·colsᵀ
// ([og, ckk]) or, when pl.dwT, dwᵀ += cols·dyᵀ ([ckk, og]).
func (pl *convPlan) dwGemm(gm gemmFn, dy, cols []float32, k int, beta float32, dw []float32) {
	if pl.dwT {
		gm(false, true, pl.ckk, pl.og, k, 1, cols, k, dy, k, beta, dw, pl.og)
		return
	}
	gm(false, true, pl.og, pl.ckk, k, 1, dy, k, cols, k, beta, dw, pl.ckk)
}

// backwardImage accumulates image i's gradients in modeDirect or
// modeIm2Col; first says dwp is to be overwritten rather than added to.
func (pl *convPlan) backwardImage(dx, dwp, x, w, dy []float32, i int, first bool, ws *convWork, gm gemmFn) {
	ohw := pl.ohw()
	ghw := pl.cg * pl.h * pl.w
	var beta float32 = 1
	if first {
		beta = 0
	}
	for gi := 0; gi < pl.g; gi++ {
		xg := x[(i*pl.g+gi)*ghw:][:ghw]
		dyg := dy[(i*pl.o+gi*pl.og)*ohw:][:pl.og*ohw]
		wg := w[gi*pl.og*pl.ckk:][:pl.og*pl.ckk]
		bm := xg
		if pl.mode == modeIm2Col {
			bm = ws.get(0, pl.ckk*ohw)
			Im2Col(bm, xg, pl.cg, pl.h, pl.w, pl.kh, pl.kw, pl.p)
		}
		if dwp != nil {
			pl.dwGemm(gm, dyg, bm, ohw, beta, dwp[gi*pl.og*pl.ckk:])
		}
		if dx == nil {
			continue
		}
		dxg := dx[(i*pl.g+gi)*ghw:][:ghw]
		if pl.mode == modeDirect {
			// dx_g = w_gᵀ [cg, og] · dy_g [og, hw]
			gm(true, false, pl.cg, ohw, pl.og, 1, wg, pl.ckk, dyg, ohw, 0, dxg, ohw)
			continue
		}
		dcols := ws.get(1, pl.ckk*ohw)
		gm(true, false, pl.ckk, ohw, pl.og, 1, wg, pl.ckk, dyg, ohw, 0, dcols, ohw)
		Col2Im(dxg, dcols, pl.cg, pl.h, pl.w, pl.kh, pl.kw, pl.p)
	}
}

// backwardWide accumulates the gradients of images [i0, i0+nb) in
// modeWide: the output gradient is spread to the padded width with zeros
// in the discarded columns, so they contribute nothing to dw or dx. A
// non-nil ym (a ReLU output) masks dy as it is spread. sums[i·o+c] gets
// the sum of image i's (masked) output gradient in channel c, for the
// bias gradient.
//
// The input gradient, when wflip (the flipped filters) is given, is the
// stride-1 convolution of the padded dy with them, through the indirect
// GEMM; otherwise it is wᵀ·dy unfolded back onto the image (col2im).
func (pl *convPlan) backwardWide(dx, dwp, x, w []float32, wflip []*kern.IndirectA, dy, ym, sums []float32, i0, nb int, first bool, ws *convWork, gm gemmFn, gmi gemmIndirectFn, gmt gemmIndirectTFn) {
	L, ld, ohw := pl.wide, nb*pl.wide, pl.ohw()
	hpwp := pl.hp * pl.wp
	var beta float32 = 1
	if first {
		beta = 0
	}
	xp := ws.get(0, pl.padLen(nb))
	dyw := ws.get(2, pl.og*ld)
	// The unfolded input is only written out when it is the GEMM's A
	// (dwT) or the col2im input gradient needs its room.
	dwT := pl.dwT && dwp != nil
	var cols []float32
	if dwT || (dx != nil && wflip == nil) {
		cols = ws.get(1, pl.ckk*ld)
	}
	for gi := 0; gi < pl.g; gi++ {
		pl.padImages(xp, x, i0, nb, gi)
		if dwT {
			pl.wideCols(cols, xp, nb)
		}
		// The discarded columns stay zero; the rows are written over.
		clear(dyw)
		for o := 0; o < pl.og; o++ {
			for j := 0; j < nb; j++ {
				at := ((i0+j)*pl.o + gi*pl.og + o) * ohw
				var ymo []float32
				if ym != nil {
					ymo = ym[at:][:ohw]
				}
				sum := kern.SpreadRows(dyw[o*ld+j*L:][:L], pl.wp, dy[at:][:ohw], ymo, pl.ow, pl.oh, pl.ow)
				if sums != nil {
					sums[(i0+j)*pl.o+gi*pl.og+o] = sum
				}
			}
		}
		wg := w[gi*pl.og*pl.ckk:][:pl.og*pl.ckk]
		var dwg []float32
		if dwp != nil {
			dwg = dwp[gi*pl.og*pl.ckk:]
		}
		switch {
		case dwp == nil:
		case pl.mode == modeWide && pl.dotDW:
			img := pl.cg * hpwp
			kern.SgemmDotImages(pl.og, pl.ckk, L, nb, dyw, ld, L, xp, pl.taps, img, beta, dwg, pl.ckk)
		case pl.dwT:
			pl.dwGemm(gm, dyw, cols, ld, beta, dwg)
		default:
			// dw += dy·colsᵀ image by image, the rows of cols read from
			// the padded image.
			img := pl.cg * hpwp
			for j := 0; j < nb; j++ {
				b := beta
				if j > 0 {
					b = 1
				}
				gmt(pl.og, pl.ckk, L, 1, dyw[j*L:], ld, xp[j*img:], pl.taps, b, dwg, pl.ckk)
			}
		}
		if dx == nil {
			continue
		}
		if wflip != nil {
			pl.inputGradFlipped(dx, wflip[gi], dy, ym, i0, nb, gi, ws)
			continue
		}
		// The unfolded input's room holds dcols.
		dcols := cols
		gm(true, false, pl.ckk, ld, pl.og, 1, wg, pl.ckk, dyw, ld, 0, dcols, ld)
		dxp := xp
		clear(dxp)
		pl.wideColsAdjoint(dxp, dcols, nb)
		ph, pw := pl.p.PadH, pl.p.PadW
		for j := 0; j < nb; j++ {
			for c := 0; c < pl.cg; c++ {
				src := dxp[(j*pl.cg+c)*hpwp:][:hpwp]
				dst := dx[((i0+j)*pl.c+gi*pl.cg+c)*pl.h*pl.w:][:pl.h*pl.w]
				for yy := 0; yy < pl.h; yy++ {
					copy(dst[yy*pl.w:(yy+1)*pl.w], src[(yy+ph)*pl.wp+pw:])
				}
			}
		}
	}
}

// flipFilters writes the filters of the input-gradient convolution:
// per group, wf[c, o, ki, kj] = w[o, c, kh−1−ki, kw−1−kj] ([cg, og·kh·kw]).
func (pl *convPlan) flipFilters(wf, w []float32) {
	kk := pl.kh * pl.kw
	for gi := 0; gi < pl.g; gi++ {
		wg, fg := w[gi*pl.og*pl.ckk:], wf[gi*pl.og*pl.ckk:]
		for o := 0; o < pl.og; o++ {
			for c := 0; c < pl.cg; c++ {
				src := wg[(o*pl.cg+c)*kk:][:kk]
				dst := fg[(c*pl.og+o)*kk:][:kk]
				for t, v := range src {
					dst[kk-1-t] = v
				}
			}
		}
	}
}

// inputGradFlipped writes the input gradient of group gi of images
// [i0, i0+nb): each image's output gradient (masked by ym when not nil)
// is zero-padded to dhp×dwp and convolved with the group's flipped
// filters wf (packed) by the indirect GEMM, and the valid columns are
// copied out.
func (pl *convPlan) inputGradFlipped(dx []float32, wf *kern.IndirectA, dy, ym []float32, i0, nb, gi int, ws *convWork) {
	ohw, hw := pl.ohw(), pl.h*pl.w
	serial := convSerialGemm(pl.n)
	plane := pl.dhp * pl.dwp
	dyp := ws.get(3, pl.og*plane+pl.kw)
	dxw := ws.get(4, pl.cg*pl.dwide)
	clear(dyp)
	for j := 0; j < nb; j++ {
		i := i0 + j
		for o := 0; o < pl.og; o++ {
			at := (i*pl.o + gi*pl.og + o) * ohw
			var ymo []float32
			if ym != nil {
				ymo = ym[at:][:ohw]
			}
			kern.SpreadRows(dyp[o*plane+pl.dpH*pl.dwp+pl.dpW:], pl.dwp, dy[at:][:ohw], ymo, pl.ow, pl.oh, pl.ow)
		}
		dxi := dx[(i*pl.c+gi*pl.cg)*hw:][:pl.cg*hw]
		if pl.dxRows && kern.IndirectRowsAvailable() {
			// Rows written in place; split over the cores when the batch
			// is not (each row is computed the same way either way).
			if serial {
				kern.SgemmIndirectRowsPacked(wf, dyp, pl.dtaps, pl.h, pl.w, pl.dwp, nil, false, 0, dxi, hw, pl.w)
				continue
			}
			parallelFor(pl.h, max(1, pl.h/(4*runtime.GOMAXPROCS(0))), func(r0, r1 int) {
				kern.SgemmIndirectRowsPacked(wf, dyp[r0*pl.dwp:], pl.dtaps, r1-r0, pl.w, pl.dwp, nil, false, 0, dxi[r0*pl.w:], hw, pl.w)
			})
			continue
		}
		kern.SgemmIndirectBPacked(wf, pl.dwide, dyp, pl.dtaps, dxw, pl.dwide, !serial)
		for c := 0; c < pl.cg; c++ {
			dst := dx[(i*pl.c+gi*pl.cg+c)*hw:][:hw]
			src := dxw[c*pl.dwide:]
			for yy := 0; yy < pl.h; yy++ {
				copy(dst[yy*pl.w:(yy+1)*pl.w], src[yy*pl.dwp:])
			}
		}
	}
}

// convBiasGrad writes db[o] = Σ over images and positions of dy[n, o, ·],
// summed in float64 in a fixed order; channels are split over cores.
func convBiasGrad(db, dy []float32, n, o, hw int) {
	parallelFor(o, max(1, (1<<15)/max(1, n*hw)), func(lo, hi int) {
		for c := lo; c < hi; c++ {
			var s float64
			for i := 0; i < n; i++ {
				s += float64(sum32x8(dy[(i*o+c)*hw : (i*o+c+1)*hw]))
			}
			db[c] = float32(s)
		}
	})
}

// sum32x8 sums d with eight independent accumulators (the loop is limited
// by add latency otherwise), combined in a fixed order.
func sum32x8(d []float32) float32 {
	var a [8]float32
	i := 0
	for ; i+8 <= len(d); i += 8 {
		v := d[i : i+8 : i+8]
		a[0] += v[0]
		a[1] += v[1]
		a[2] += v[2]
		a[3] += v[3]
		a[4] += v[4]
		a[5] += v[5]
		a[6] += v[6]
		a[7] += v[7]
	}
	for ; i < len(d); i++ {
		a[0] += d[i]
	}
	return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]))
}
