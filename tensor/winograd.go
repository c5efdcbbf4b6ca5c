package tensor

import "github.com/glassbox-ml/glassbox/tensor/internal/kern"

// Winograd F(4×4, 3×3) for 3×3, stride-1 "same" convolutions (the CIFAR
// CNN's and most of ResNet's): each 4×4 block of output is computed from
// the 6×6 input patch under it with 36 multiplications per channel pair
// instead of 144, as 36 matrix products [filters × channels]·[channels ×
// tiles] between an input transform and an output transform (see
// kern.WinoInput; Lavin & Gray 2015). It is how oneDNN, NNPACK and cuDNN
// cut these layers' arithmetic by 4× (F(2×2, 3×3), tried first, cut it by
// 2.25× and gained little: its transforms moved as much data as the
// products saved); glassbox's direct and indirect GEMM paths already ran
// them at 70–78% of the FMA peak, so only less arithmetic could make them
// much faster.
//
// Results differ from the direct convolution's by rounding: the
// transforms multiply by up to 5 and 8 and G's fractions are rounded, so
// an output carries an error of a few 1e-6 of the size of its terms
// (about thirty times the direct sum's; oneDNN's and NNPACK's F(4×4,
// 3×3) do the same). They are the same bits run to run, whatever the batch
// partition or core count: each tile is computed alone, in a fixed order.
// A non-finite input value spreads through its tile's transforms (∞ − ∞):
// outputs the direct sum leaves finite next to an ∞ may come out NaN. The
// predictor rejects non-finite inputs and outputs either way.
// The forward, the input gradient (a 3×3 stride-1 convolution of the
// output gradient with the flipped filters) and the weight gradient (the
// transforms' adjoint, winoWeightGrad) use it.

// winoOff turns the Winograd path off (tests compare it with the direct
// paths); winoForce turns it on where the transforms have no vector
// kernel, so the Go transforms are tested on every machine.
var winoOff, winoForce bool

// winoFits reports whether the convolution runs through Winograd: 3×3,
// stride 1, padding 1, ungrouped, at least 16 channels in and out (below
// that the products are too thin for the transforms to pay), output rows
// of at least 14 and tiles that waste at most a third of their outputs
// over the edges (56, 28, 32 and 16 waste none, ResNet's 14 31%: still
// 1.3× faster at batch 1; its 7, a single group of two tiles a row, is
// not); on a machine with the vector transforms (or when forced); unless
// the exact sums are asked for (ConvParams.Exact).
func (g *convGeom) winoFits() bool {
	if winoOff || g.p.Exact || !(winoForce || kern.WinoFast()) {
		return false
	}
	p := g.p
	if g.kh != 3 || g.kw != 3 || p.StrideH != 1 || p.StrideW != 1 || p.PadH != 1 || p.PadW != 1 ||
		g.g != 1 || g.cg < 16 || g.og < 16 || g.ow < 14 || g.oh < 4 {
		return false
	}
	const t = kern.WinoTile
	covered := (g.oh + t - 1) / t * t * ((g.ow + t - 1) / t * t)
	return float64(covered) <= 1.35*float64(g.ohw())
}

// winoFilters are a convolution's filters transformed and packed for the
// 36 products: pa[ξ] is the k×c matrix of transform value ξ.
type winoFilters struct {
	k, c int
	pa   [kern.WinoValues]*kern.IndirectA
}

// newWinoFilters transforms w ([k, c, 3, 3]) and packs the 36 matrices.
func newWinoFilters(w []float32, k, c int) *winoFilters {
	n := kern.WinoValues * k * c
	ub := getCols(n)
	defer putCols(ub)
	u := (*ub)[:n]
	kern.WinoFilter(u, w, k, c)
	f := &winoFilters{k: k, c: c}
	for xi := range f.pa {
		f.pa[xi] = kern.PackIndirectA(k, c, u[xi*k*c:], c, false)
	}
	return f
}

// flippedWinoFilters are the input gradient's: the filters flipped with
// their channel axes swapped (flipFilters), transformed.
func (pl *convPlan) flippedWinoFilters(w []float32) *winoFilters {
	wlen := pl.o * pl.ckk
	fb := getCols(wlen)
	defer putCols(fb)
	pl.flipFilters((*fb)[:wlen], w)
	return newWinoFilters((*fb)[:wlen], pl.cg, pl.og)
}

// winoFiltersFor returns w's Winograd filters (flipped: the input
// gradient's), kept by p.Prepared when it was made for w, else made for
// this call, and what to call when done with them.
func (pl *convPlan) winoFiltersFor(p ConvParams, w *Tensor, flipped bool) (*winoFilters, func()) {
	wd := w.Data()
	if f := p.prepared(w, pl.g); f != nil {
		return f.winograd(pl, wd, flipped), func() {}
	}
	var wf *winoFilters
	if flipped {
		wf = pl.flippedWinoFilters(wd)
	} else {
		wf = newWinoFilters(wd, pl.o, pl.c)
	}
	return wf, wf.release
}

func (f *winoFilters) release() {
	if f == nil {
		return
	}
	for _, p := range f.pa {
		p.Release()
	}
}

// winoChunkBytes is about how much a chunk's transformed input and
// products (36 values per tile and channel each way) may take: near the
// L2 cache between the transforms and the products.
const winoChunkBytes = 768 << 10

// winoChunk returns how many rows of tiles (gpr groups of four tiles
// each, tw of them in the output, counted across the images) a chunk
// takes: within the budget (but at least 32 tiles: the GEMM's tiles are 32
// columns wide), those that fill the GEMM's tiles with output best, the
// most of them among equals.
func winoChunk(tw, gpr, rowsTotal, c, k int) int {
	maxT := max(32, winoChunkBytes/(kern.WinoValues*4*(c+k)))
	best, fill := 1, 0.0
	for cq := 1; cq <= rowsTotal; cq++ {
		tn := 4 * ((cq*gpr + 3) / 4 * 4)
		if cq > 1 && tn > maxT {
			break
		}
		f := float64(cq*tw) / float64((tn+31)/32*32)
		if f > fill-1e-9 {
			best, fill = cq, f
		}
	}
	return best
}

// winoConv writes out ([n, k, h, w]) = the 3×3, padding-1 convolution of
// in ([n, c, h, w]) with f, plus bias (nil: none), plus res (nil: none;
// laid out as out), rectified when relu, bounded by bound when > 0. A
// non-nil mask (laid out as in, a ReLU's output) zeroes in where it is not
// positive, by ReLUGrad's rule, as in is read: the input gradient's masked
// output gradient.
//
// The batch's rows of tiles, image after image, are cut into chunks; a
// chunk pads its images' rows, transforms them, runs the 36 products and
// transforms back, all near the L2 cache. The transforms take tiles four
// at a time (kern.WinoInput's groups), so a chunk spans rows and images
// where an image has few tiles (16×16: four rows of four), and the
// products stay 32 columns wide. Chunks are the unit of parallel work.
func winoConv(out, in, mask []float32, n, c, k, h, w int, f *winoFilters, bias, res []float32, relu bool, bound float32) {
	const tile = kern.WinoTile
	th, tw := (h+tile-1)/tile, (w+tile-1)/tile
	gpr := (tw + 3) / 4 // groups of four tiles per row of tiles
	rowsTotal := n * th
	cq := winoChunk(tw, gpr, rowsTotal, c, k)
	nch := (rowsTotal + cq - 1) / cq
	wp := 16*gpr + 2
	maxGroups := (cq*gpr + 3) / 4 * 4
	T := 4 * maxGroups
	// A chunk's padded rows: 4 per row of tiles, plus 2 for the patches'
	// overlap per image it touches (at most cq, or n).
	maxRows := tile*cq + 2*min(cq, n)
	type scratch struct {
		pb, vb, mb *[]float32
		gin, gout  []int32
		gmask      []uint64
		offs       []int32
		pad, v, m  []float32
	}
	get := func() *scratch {
		s := &scratch{pb: getCols(c*maxRows*wp + kern.WinoInputSlack), vb: getCols(kern.WinoValues * c * T), mb: getCols(kern.WinoValues * k * T),
			gin: make([]int32, maxGroups), gout: make([]int32, maxGroups), gmask: make([]uint64, maxGroups), offs: make([]int32, c)}
		s.pad, s.v, s.m = *s.pb, *s.vb, *s.mb
		return s
	}
	put := func(s *scratch) { putCols(s.pb); putCols(s.vb); putCols(s.mb) }
	// run computes chunk ch; split says the chunk is alone on the cores
	// (too few chunks for them), so its stages are shared out instead:
	// channels for the transforms, the 36 products.
	run := func(s *scratch, ch int, split bool) {
		stage := func(n int, fn func(lo, hi int)) { fn(0, n) }
		if split {
			stage = func(n int, fn func(lo, hi int)) { parallelFor(n, 1, fn) }
		}
		q0, q1 := ch*cq, min(rowsTotal, (ch+1)*cq)
		ng := (q1 - q0) * gpr
		ngp := (ng + 3) / 4 * 4
		tn := 4 * ngp
		i0 := q0 / th // the chunk's first image
		// The images' shares of the chunk, rows of tiles [a, b) each:
		// their padded rows one after another in every channel's plane.
		rows := 0
		winoSegments(q0, q1, th, func(_, a, b int) { rows += tile*(b-a) + 2 })
		ps := rows * wp
		grp, at := 0, 0
		winoSegments(q0, q1, th, func(i, a, b int) {
			for ty := a; ty < b; ty++ {
				for gx := 0; gx < gpr; gx++ {
					s.gin[grp] = int32((at+tile*(ty-a))*wp + 16*gx)
					s.gout[grp] = int32((i-i0)*k*h*w + tile*ty*w + 16*gx)
					s.gmask[grp] = kern.WinoGroupMask(min(tile, h-tile*ty), min(16, w-16*gx))
					grp++
				}
			}
			at += tile*(b-a) + 2
		})
		for ; grp < ngp; grp++ {
			s.gin[grp], s.gout[grp], s.gmask[grp] = 0, 0, 0 // padding: read, never written
		}
		clear(s.pad[c*ps : c*ps+kern.WinoInputSlack])
		for ci := range s.offs {
			s.offs[ci] = int32(ci * tn)
		}
		stage(c, func(c0, c1 int) {
			at := 0
			winoSegments(q0, q1, th, func(i, a, b int) {
				winoPad(s.pad, ps, at, in, mask, i, c, c0, c1, h, w, tile*a-1, tile*(b-a)+2, wp)
				at += tile*(b-a) + 2
			})
			kern.WinoInput(s.v[c0*tn:], c*tn, tn, s.pad[c0*ps:c*ps+kern.WinoInputSlack], s.gin[:ngp], wp, ps, c1-c0)
		})
		stage(kern.WinoValues, func(lo, hi int) {
			for xi := lo; xi < hi; xi++ {
				kern.SgemmIndirectBPacked(f.pa[xi], tn, s.v[xi*c*tn:], s.offs, s.m[xi*k*tn:], tn, false)
			}
		})
		stage(k, func(k0, k1 int) {
			base := (i0*k + k0) * h * w
			var r, bs []float32
			if res != nil {
				r = res[base:]
			}
			if bias != nil {
				bs = bias[k0:]
			}
			kern.WinoOutput(out[base:], s.gout[:ngp], s.gmask[:ngp], w, h*w, s.m[k0*tn:], k*tn, tn, k1-k0, bs, r, relu, bound)
		})
	}
	if nch < Threads() {
		s := get()
		defer put(s)
		for ch := 0; ch < nch; ch++ {
			run(s, ch, true)
		}
		return
	}
	parallelFor(nch, 1, func(lo, hi int) {
		s := get()
		defer put(s)
		for ch := lo; ch < hi; ch++ {
			run(s, ch, false)
		}
	})
}

// winoSegments calls fn for each image's share of the batch's rows of
// tiles [q0, q1) (th rows of tiles an image), in order: image i, its rows
// of tiles [a, b).
func winoSegments(q0, q1, th int, fn func(i, a, b int)) {
	for q := q0; q < q1; {
		i, a := q/th, q%th
		b := min(th, a+q1-q)
		fn(i, a, b)
		q += b - a
	}
}

// winoPad copies rows y0 … y0+rows−1 of channels [c0, c1) of image i
// (of c) of in ([·, c, h, w], masked by mask's ReLU rule when not nil)
// into dst at row at of each channel's plane (ps floats, rows of wp),
// each row shifted one column right; rows outside the image and the
// columns around it are zero.
func winoPad(dst []float32, ps, at int, in, mask []float32, i, c, c0, c1, h, w, y0, rows, wp int) {
	for ci := c0; ci < c1; ci++ {
		plane := dst[ci*ps+at*wp : ci*ps+(at+rows)*wp]
		for r := 0; r < rows; r++ {
			row := plane[r*wp : (r+1)*wp]
			y := y0 + r
			if y < 0 || y >= h {
				clear(row)
				continue
			}
			row[0] = 0
			clear(row[w+1:])
			src := ((i*c+ci)*h + y) * w
			if mask != nil {
				kern.ReLUGrad(row[1:w+1], in[src:src+w], mask[src:src+w])
			} else {
				copy(row[1:w+1], in[src:src+w])
			}
		}
	}
}

// winoGradChunkBytes bounds one chunk of the weight gradient's
// transformed input and output gradient: its tiles are the inner
// dimension of the 36 products, so longer chunks run them faster, but a
// block of images of ResNet's 56×56 at 64 channels had taken 58 MB each
// way (460 MB at 16 images a block) before blocks were cut into chunks.
// (A variable so that a test can cut small layers into many chunks.)
var winoGradChunkBytes = 8 << 20

// winoWeightGrad returns the weight and bias gradients of the 3×3,
// padding-1 convolution of x ([n, c, h, w]) whose output gradient is dy
// ([n, k, h, w], masked by ym's ReLU rule when ym is not nil), through
// Winograd: dw = Gᵀ[Σ over tiles (A dy Aᵀ) ⊙ (Bᵀ x B)]G, the adjoint of
// the forward's transforms (kern.WinoGradInput, kern.WinoFilterGrad). The
// batch is cut into blocks of images (the direct path's fixed partition,
// so results do not depend on the core count), a block into chunks of
// rows of tiles (fixed by the shapes); each chunk transforms its tiles and
// adds their products to its block's sums in 36 GEMMs of filters ×
// channels, and the blocks' sums are added in block order.
func winoWeightGrad(x, dy, ym []float32, n, c, k, h, w, blocks int, serial bool) (dw, db *Tensor) {
	const tile = kern.WinoTile
	th, tw := (h+tile-1)/tile, (w+tile-1)/tile
	gpr := (tw + 3) / 4
	wp := 16*gpr + 2 // the input's padded rows
	wd := 16 * gpr   // the output gradient's rows, zero past w
	maxT := max(32, winoGradChunkBytes/(kern.WinoValues*4*(c+k)))
	cq := max(1, maxT/(4*gpr)) // rows of tiles a chunk
	maxGroups := (cq*gpr + 3) / 4 * 4
	T := 4 * maxGroups
	maxXRows := tile*cq + 2*min(cq, n)
	maxDRows := tile*cq + tile // four zero rows at the end: the padding groups
	kc := kern.WinoValues * k * c
	partial := make([]*[]float32, blocks)
	sums := make([]float64, n*k) // per image and channel, for db
	gm := gemm
	if serial {
		gm = gemmSerial
	}
	// block transforms and sums the tiles of block b's images (its
	// scratch returned before the next block's is taken).
	block := func(b int) {
		xb := getCols(c*maxXRows*wp + kern.WinoInputSlack)
		defer putCols(xb)
		dyb := getCols(k * maxDRows * wd)
		defer putCols(dyb)
		vb := getCols(kern.WinoValues * c * T)
		defer putCols(vb)
		eb := getCols(kern.WinoValues * k * T)
		defer putCols(eb)
		xp, dp, v, e := *xb, *dyb, *vb, *eb
		gin, gdy := make([]int32, maxGroups), make([]int32, maxGroups)
		partial[b] = getCols(kc)
		part := (*partial[b])[:kc]
		qb0, qb1 := b*n/blocks*th, (b+1)*n/blocks*th
		for q0 := qb0; q0 < qb1; q0 += cq {
			q1 := min(qb1, q0+cq)
			xRows, dRows := 0, tile*(q1-q0)
			winoSegments(q0, q1, th, func(_, a, b int) { xRows += tile*(b-a) + 2 })
			psx, psd := xRows*wp, (dRows+tile)*wd
			ng := (q1 - q0) * gpr
			ngp := (ng + 3) / 4 * 4
			tn := 4 * ngp
			at, grp := 0, 0
			winoSegments(q0, q1, th, func(i, a, b int) {
				d0 := tile * (grp / gpr) // this segment's first row of dy in the chunk
				winoPad(xp, psx, at, x, nil, i, c, 0, c, h, w, tile*a-1, tile*(b-a)+2, wp)
				for ty := a; ty < b; ty++ {
					for gx := 0; gx < gpr; gx++ {
						gin[grp] = int32((at+tile*(ty-a))*wp + 16*gx)
						gdy[grp] = int32(tile*(grp/gpr)*wd + 16*gx)
						grp++
					}
				}
				at += tile*(b-a) + 2
				// The output gradient's rows tile·a … tile·b−1, zero past h
				// and w, after the rows of the segments before.
				for kk := 0; kk < k; kk++ {
					plane := dp[kk*psd+d0*wd : kk*psd+(d0+tile*(b-a))*wd]
					for r := 0; r < tile*(b-a); r++ {
						row := plane[r*wd : (r+1)*wd]
						y := tile*a + r
						if y >= h {
							clear(row)
							continue
						}
						src := ((i*k+kk)*h + y) * w
						if ym != nil {
							kern.ReLUGrad(row[:w], dy[src:src+w], ym[src:src+w])
						} else {
							copy(row[:w], dy[src:src+w])
						}
						clear(row[w:])
						sums[i*k+kk] += float64(sum32x8(row[:w]))
					}
				}
			})
			for kk := 0; kk < k; kk++ {
				clear(dp[kk*psd+dRows*wd : (kk+1)*psd])
			}
			for ; grp < ngp; grp++ {
				gin[grp], gdy[grp] = 0, int32(dRows*wd) // zeros: no contribution
			}
			clear(xp[c*psx : c*psx+kern.WinoInputSlack])
			kern.WinoInput(v, c*tn, tn, xp[:c*psx+kern.WinoInputSlack], gin[:ngp], wp, psx, c)
			kern.WinoGradInput(e, k*tn, tn, dp[:k*psd], gdy[:ngp], wd, psd, k)
			var beta float32 = 1
			if q0 == qb0 {
				beta = 0
			}
			for xi := 0; xi < kern.WinoValues; xi++ {
				gm(false, true, k, c, tn, 1, e[xi*k*tn:], tn, v[xi*c*tn:], tn, beta, part[xi*k*c:], c)
			}
		}
	}
	forBlocks(blocks, serial, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			block(b)
		}
	})
	sum := (*partial[0])[:kc]
	for b := 1; b < blocks; b++ {
		kern.Saxpy(1, (*partial[b])[:kc], sum)
	}
	dw = New(k, c, 3, 3)
	kern.WinoFilterGrad(dw.data, sum, k, c)
	for _, p := range partial {
		putCols(p)
	}
	db = New(k)
	for kk := range db.data {
		var t float64
		for i := 0; i < n; i++ {
			t += sums[i*k+kk]
		}
		db.data[kk] = float32(t)
	}
	return dw, db
}
