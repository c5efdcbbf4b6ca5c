package kern

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// tinyMNK: at or below this m·n·k, plain loops beat packing.
	tinyMNK = 4096
	// parMNK: below this m·n·k one goroutine is faster than two (measured
	// on Zen 3: 64³ is faster serial, 96³ is 1.6x faster on two cores).
	parMNK = 1 << 19
	// thinParMNK: the same for products with m ≤ 2 or n ≤ 2, which are
	// bound by memory bandwidth rather than arithmetic; a second core
	// still pulls its share from the shared cache (a classifier's
	// 1280×1000 layer on one row: 0.24 ms on one core, 0.13 on two).
	thinParMNK = 1 << 19
)

// maxPackedB bounds the floats of op(B) packed at once (16 MiB); wider B is
// done in column blocks. A variable so tests can exercise the blocking.
var maxPackedB = 4 << 20

// Sgemm computes C = alpha*op(A)*op(B) + beta*C on row-major float32
// matrices, using up to Threads() goroutines.
//
// op(A) is m×k: A is stored m×k with row stride lda, or k×m if transA.
// op(B) is k×n: B is stored k×n with row stride ldb, or n×k if transB.
// C is m×n with row stride ldc. beta == 0 means C is overwritten (NaNs and
// infinities in C are ignored). It is safe for concurrent use; calls made
// from inside ParallelFor or another parallel kernel run on the calling
// goroutine. Results are bit-identical from call to call, whatever the
// number of goroutines, and equal to SgemmSerial's.
//
// It panics (a programmer error) if a dimension is negative, a stride is
// smaller than the stored row it steps over, or a slice is too short for
// the matrix it holds; the message gives expected and actual values.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, true)
}

// SgemmSerial is Sgemm on the calling goroutine only, for callers that
// already run many products in parallel (e.g. one per sample).
func SgemmSerial(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, false)
}

func sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, par bool) {
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	sgemmChecked(transA, transB, m, n, k, alpha, a, lda, b, ldb, nil, beta, c, ldc, par)
}

// sgemmChecked is sgemm after the argument checks. With boffs (then
// transB), row j of the stored B is b[boffs[j] : boffs[j]+k] instead of
// b[j*ldb : j*ldb+k].
func sgemmChecked(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, boffs []int32, beta float32, c []float32, ldc int, par bool) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	mnk := int64(m) * int64(n) * int64(k)
	if boffs != nil && (mnk <= tinyMNK || m <= 2 || n <= 2) {
		// The plain-loop paths read B by stride: gather it first.
		fb := bBufs.Get().(*fbuf)
		dense := fb.get(n * k)
		for j, o := range boffs[:n] {
			copy(dense[j*k:(j+1)*k], b[o:int(o)+k])
		}
		sgemmChecked(transA, true, m, n, k, alpha, a, lda, dense, k, nil, beta, c, ldc, par)
		bBufs.Put(fb)
		return
	}
	if mnk <= tinyMNK {
		gemmTiny(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	if m <= 2 || n <= 2 {
		gemmThin(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, par && mnk >= thinParMNK && Threads() > 1)
		return
	}
	// Below parMNK helpers cost more than they save.
	par = par && mnk >= parMNK && Threads() > 1
	g := gemmJobs.Get().(*gemmJob)
	g.kr = active
	g.transA, g.transB = transA, transB
	g.m, g.n, g.k = m, n, k
	g.alpha, g.beta = alpha, beta
	g.a, g.lda, g.b, g.ldb, g.c, g.ldc = a, lda, b, ldb, c, ldc
	g.boffs = boffs
	threads := 1
	if par {
		threads = Threads()
	}
	if g.kr.stridedA && (m <= colModeMaxM || int64(m)*int64(k) <= colModeMaxA) {
		g.planCols(threads)
		g.runJob(threads)
	} else {
		fb := bBufs.Get().(*fbuf)
		nr := g.kr.nr
		ncMax := max(nr, maxPackedB/k/nr*nr)
		for j0 := 0; j0 < n; j0 += ncMax {
			g.planRows(j0, min(ncMax, n-j0), threads, fb)
			g.runJob(threads)
		}
		bBufs.Put(fb)
	}
	g.a, g.b, g.c, g.bp, g.boffs = nil, nil, nil, nil, nil
	gemmJobs.Put(g)
}

func checkGemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kern.Sgemm: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	checkMat("A", ar, ac, a, lda, transA)
	checkMat("B", br, bc, b, ldb, transB)
	checkMat("C", m, n, c, ldc, false)
}

func checkMat(name string, rows, cols int, s []float32, ld int, trans bool) {
	if ld < max(1, cols) {
		panic(fmt.Sprintf("kern.Sgemm: ld%s = %d, want ≥ %d (columns of %s as stored %d×%d, trans=%v)",
			strings.ToLower(name), ld, max(1, cols), name, rows, cols, trans))
	}
	if rows == 0 || cols == 0 {
		return
	}
	if need := (rows-1)*ld + cols; len(s) < need {
		panic(fmt.Sprintf("kern.Sgemm: len(%s) = %d, want ≥ %d for %d×%d with stride %d (trans=%v)",
			name, len(s), need, rows, cols, ld, trans))
	}
}

// scaleC sets C = beta*C (C = 0 when beta == 0).
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
		} else {
			Sscal(beta, row)
		}
	}
}

// gemmJob is one Sgemm call split into tasks for several goroutines,
// which take them from atomic counters. It has two ways to split the work.
//
// Row mode (the Goto/BLIS scheme, for tall A and the pure-Go kernel): for
// each block of columns of op(B) (usually all of them), op(B) is packed
// once into a shared buffer, in units (a k-slice × a group of NR panels)
// spread over the goroutines; after all units are done, each task takes a
// block of rows of A (plus a range of B panels when there are few rows),
// packs that A block per k-slice and runs the micro-kernel over it.
//
// Column mode (short A, strided-A kernels): each task owns a range of B
// panels, packs them itself per k-slice and reads A in place, so tasks
// share nothing and nobody waits for anybody until the end of the call.
//
// Either way every element of C sums its k-slices in the same order
// whatever the number of goroutines, so results are bit-identical from run
// to run and between Sgemm and SgemmSerial.
type gemmJob struct {
	jobBase
	kr             *gemmKernel
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
	boffs          []int32 // row offsets of the stored B (see sgemmChecked), or nil

	colMode     bool
	kc, kBlocks int // k-slices: kBlocks of kc (the last may be shorter)

	// Row mode.
	j0, nLen       int       // the column block of op(B) and C
	bp             []float32 // packed op(B): k-slice kb starts at kb*kc*ncPad
	prepacked      []float32 // bp packed before the call (PackB), or nil
	ncPad, nPanels int

	packUnits, unitsPerK, panelsPerUnit int
	packQ                               stealer // hands out the packing units
	donePack                            atomic.Int64
	packMu                              sync.Mutex
	packCond                            sync.Cond
	packed                              bool

	mc, nSplit, panelsPerSplit, tasks int
	mPanels, mBlocks                  int     // row mode: micro-panels of A, row blocks
	taskQ                             stealer // hands out the compute tasks
}

var gemmJobs = sync.Pool{New: func() any { return new(gemmJob) }}

// Column mode (A read in place by every task) is used for A of at most
// colModeMaxM rows or colModeMaxA floats (A fits in a Zen 3 L2); larger A
// is packed in row mode. Measured on Zen 3 (CPU time, one core): column
// mode is 5–25% faster up to m×k = 784×128 or 128×784, level at 512×512
// and 17% slower at 1024×1024. Variables so tests can force each mode.
var (
	colModeMaxM       = 128
	colModeMaxA int64 = 1 << 17
)

// spinWait is how long a goroutine spins for B packing done by others
// before it sleeps (see waitPacked).
const spinWait = 20 * time.Microsecond

// setK picks balanced k-slices of at most kr.kc, a multiple of 4 where
// possible (the micro-kernel's unrolling).
func (g *gemmJob) setK() {
	kc := g.kr.kc
	g.kBlocks = (g.k + kc - 1) / kc
	kc = (g.k + g.kBlocks - 1) / g.kBlocks
	g.kc = min(g.kr.kc, (kc+3)&^3)
	g.kBlocks = (g.k + g.kc - 1) / g.kc
}

// packPanel packs the micro-panel of op(B) at columns [j, j+nEff), rows
// [p0, p0+kLen) into d.
func (g *gemmJob) packPanel(d []float32, j, nEff, p0, kLen int) {
	if g.boffs != nil {
		packBRows(d, g.b, g.boffs, j, nEff, p0, kLen, g.kr.nr)
		return
	}
	packBPanel(d, g.b, g.ldb, g.transB, j, nEff, p0, kLen, g.kr.nr)
}

// runJob runs the planned tasks on up to threads goroutines.
func (g *gemmJob) runJob(threads int) {
	parallel(g, min(threads-1, max(g.tasks, g.packUnits)-1))
}

// prepare splits the packing units and the compute tasks among parts
// goroutines (see stealer): part p packs the p-th share of op(B) and
// computes the p-th share of the row blocks, the top rows going to the
// caller.
func (g *gemmJob) prepare(parts int) {
	g.packQ.init(g.packUnits, parts)
	g.taskQ.init(g.tasks, parts)
	g.donePack.Store(0)
	g.packed = false
}

// planCols sets up column mode: tasks are ranges of B panels, about four
// per goroutine so that a goroutine slowed by other work holds up little.
func (g *gemmJob) planCols(threads int) {
	g.colMode = true
	g.setK()
	g.j0, g.nLen = 0, g.n
	g.nPanels = (g.n + g.kr.nr - 1) / g.kr.nr
	g.packUnits = 0
	g.nSplit = 1
	if threads > 1 {
		g.nSplit = min(g.nPanels, 4*threads)
	}
	g.panelsPerSplit = (g.nPanels + g.nSplit - 1) / g.nSplit
	g.nSplit = (g.nPanels + g.panelsPerSplit - 1) / g.panelsPerSplit
	g.tasks = g.nSplit
}

// planRows sets up row mode for the column block [j0, j0+nLen).
func (g *gemmJob) planRows(j0, nLen, threads int, fb *fbuf) {
	kr := g.kr
	mr, nr := kr.mr, kr.nr
	g.colMode = false
	g.setK()
	g.j0, g.nLen = j0, nLen
	g.nPanels = (nLen + nr - 1) / nr
	g.ncPad = g.nPanels * nr
	if g.prepacked != nil {
		// Packed once by PackB for many products (see SgemmPackedB).
		g.bp = g.prepacked
	} else {
		g.bp = fb.get(g.k * g.ncPad)
	}

	// Packing units: enough for every goroutine to get a few.
	g.panelsPerUnit = g.nPanels
	if threads > 1 {
		g.panelsPerUnit = max(1, g.nPanels*g.kBlocks/(4*threads))
		g.panelsPerUnit = min(g.panelsPerUnit, g.nPanels)
	}
	g.unitsPerK = (g.nPanels + g.panelsPerUnit - 1) / g.panelsPerUnit
	g.packUnits = g.unitsPerK * g.kBlocks
	if g.prepacked != nil {
		g.packUnits = 0
	}
	g.packCond.L = &g.packMu

	// Compute tasks: row blocks of at most kr.mc rows; with several
	// goroutines aim for ≥ 2 tasks each and a multiple of their number,
	// shrinking the row blocks first (down to 4·mr rows) and then splitting
	// the columns. Blocks are whole micro-panels of mr rows, spread evenly
	// (they differ by at most one micro-panel), so that each goroutine's
	// static share is the same size.
	panels := (g.m + mr - 1) / mr
	mBlocks := (g.m + kr.mc - 1) / kr.mc
	g.nSplit = 1
	if threads > 1 {
		want := 2 * threads
		if mBlocks < want {
			mBlocks = min(want, max(1, g.m/(4*mr)))
			mBlocks = max(mBlocks, (g.m+kr.mc-1)/kr.mc)
		}
		if r := mBlocks % threads; r != 0 && mBlocks-r+threads <= panels {
			mBlocks += threads - r
		}
		if mBlocks < want {
			g.nSplit = min(g.nPanels, (want+mBlocks-1)/mBlocks)
		}
	}
	mBlocks = min(mBlocks, panels)
	g.mPanels, g.mBlocks = panels, mBlocks
	g.mc = (panels + mBlocks - 1) / mBlocks * mr
	g.panelsPerSplit = (g.nPanels + g.nSplit - 1) / g.nSplit
	g.nSplit = (g.nPanels + g.panelsPerSplit - 1) / g.panelsPerSplit
	g.tasks = mBlocks * g.nSplit
}

func (g *gemmJob) run(part int) {
	units := int64(g.packUnits)
	for {
		u, ok := g.packQ.claim(part)
		if !ok {
			break
		}
		g.packB(u)
		if g.donePack.Add(1) == units {
			g.packMu.Lock()
			g.packed = true
			g.packCond.Broadcast()
			g.packMu.Unlock()
		}
	}
	if units > 0 && g.donePack.Load() < units {
		g.waitPacked()
	}
	var fb *fbuf
	var buf []float32
	for {
		t, ok := g.taskQ.claim(part)
		if !ok {
			break
		}
		if fb == nil {
			fb = aBufs.Get().(*fbuf)
			kr := g.kr
			if g.colMode {
				buf = fb.get(g.kc*g.panelsPerSplit*kr.nr + kr.mr*g.kc + 8 + kr.mr*kr.nr)
			} else {
				buf = fb.get(g.mc*g.kc + 8 + kr.mr*kr.nr)
			}
		}
		if g.colMode {
			g.computeCols(t, buf)
		} else {
			g.computeRows(t, buf)
		}
	}
	if fb != nil {
		aBufs.Put(fb)
	}
}

// waitPacked waits until every packing unit is done. It spins briefly (the
// usual case: another goroutine is finishing its last unit), then sleeps,
// so that on a busy machine the goroutine it waits for can have this core.
func (g *gemmJob) waitPacked() {
	units := int64(g.packUnits)
	start := time.Now()
	for i := 0; g.donePack.Load() < units; i++ {
		if i&15 == 15 && time.Since(start) > spinWait {
			g.packMu.Lock()
			for !g.packed {
				g.packCond.Wait()
			}
			g.packMu.Unlock()
			return
		}
		runtime.Gosched()
	}
}

// packB packs unit u: one k-slice of a group of B panels.
func (g *gemmJob) packB(u int) {
	nr := g.kr.nr
	kb, grp := u/g.unitsPerK, u%g.unitsPerK
	p0 := kb * g.kc
	kLen := min(g.kc, g.k-p0)
	blk := g.bp[p0*g.ncPad : p0*g.ncPad+kLen*g.ncPad]
	jp0 := grp * g.panelsPerUnit
	jp1 := min(g.nPanels, jp0+g.panelsPerUnit)
	for jp := jp0; jp < jp1; jp++ {
		col := jp * nr
		nEff := min(nr, g.nLen-col)
		g.packPanel(blk[jp*kLen*nr:], g.j0+col, nEff, p0, kLen)
	}
}

// computeRows runs row-mode task t: rows [i0, i0+mLen) of C against a
// range of B panels, one k-slice at a time (pack the A block into L2, then
// for each B micro-panel in L1 sweep the A micro-panels).
func (g *gemmJob) computeRows(t int, buf []float32) {
	kr := g.kr
	mr, nr := kr.mr, kr.nr
	ib, js := t/g.nSplit, t%g.nSplit
	i0 := ib * g.mPanels / g.mBlocks * mr
	mLen := min((ib+1)*g.mPanels/g.mBlocks*mr, g.m) - i0
	jp0 := js * g.panelsPerSplit
	jp1 := min(g.nPanels, jp0+g.panelsPerSplit)
	aBuf := buf[:g.mc*g.kc+8] // 8 floats of slack for packA's overlapping stores
	tmp := buf[g.mc*g.kc+8 : g.mc*g.kc+8+mr*nr]
	ldc := g.ldc
	for kb := 0; kb < g.kBlocks; kb++ {
		p0 := kb * g.kc
		kLen := min(g.kc, g.k-p0)
		packA(aBuf, g.a, g.lda, g.transA, i0, mLen, p0, kLen, mr)
		beta := g.beta
		if kb > 0 {
			beta = 1
		}
		blk := g.bp[p0*g.ncPad : p0*g.ncPad+kLen*g.ncPad]
		for jp := jp0; jp < jp1; jp++ {
			bPanel := blk[jp*kLen*nr : (jp+1)*kLen*nr]
			col := g.j0 + jp*nr
			nEff := min(nr, g.j0+g.nLen-col)
			for ir := 0; ir < mLen; ir += mr {
				aPanel := aBuf[ir*kLen : ir*kLen+mr*kLen]
				g.tile(kLen, aPanel, 1, mr, aPanel, bPanel, tmp, (i0+ir)*ldc+col, min(mr, mLen-ir), nEff, beta)
			}
		}
	}
}

// computeCols runs column-mode task t: all rows of C against its own range
// of B panels, packed here per k-slice; A is read in place (only a last,
// partial micro-panel of rows is packed, zero-padded).
func (g *gemmJob) computeCols(t int, buf []float32) {
	kr := g.kr
	mr, nr := kr.mr, kr.nr
	jp0 := t * g.panelsPerSplit
	jp1 := min(g.nPanels, jp0+g.panelsPerSplit)
	width := (jp1 - jp0) * nr
	bBuf := buf[:g.kc*width]
	edgeA := buf[g.kc*width : g.kc*width+mr*g.kc+8]
	tmp := buf[g.kc*width+mr*g.kc+8 : g.kc*width+mr*g.kc+8+mr*nr]
	m, a, lda, ldc := g.m, g.a, g.lda, g.ldc
	mFull := m / mr * mr
	rsa, csa := lda, 1
	if g.transA {
		rsa, csa = 1, lda
	}
	for kb := 0; kb < g.kBlocks; kb++ {
		p0 := kb * g.kc
		kLen := min(g.kc, g.k-p0)
		for jp := jp0; jp < jp1; jp++ {
			col := jp * nr
			g.packPanel(bBuf[(jp-jp0)*kLen*nr:], col, min(nr, g.n-col), p0, kLen)
		}
		if mFull < m {
			packA(edgeA, a, lda, g.transA, mFull, m-mFull, p0, kLen, mr)
		}
		beta := g.beta
		if kb > 0 {
			beta = 1
		}
		for jp := jp0; jp < jp1; jp++ {
			bPanel := bBuf[(jp-jp0)*kLen*nr : (jp-jp0+1)*kLen*nr]
			col := jp * nr
			nEff := min(nr, g.n-col)
			for ir := 0; ir < mFull; ir += mr {
				g.tile(kLen, a[ir*rsa+p0*csa:], rsa, csa, nil, bPanel, tmp, ir*ldc+col, mr, nEff, beta)
			}
			if mFull < m {
				g.tile(kLen, a[mFull*rsa+p0*csa:], rsa, csa, edgeA, bPanel, tmp, mFull*ldc+col, m-mFull, nEff, beta)
			}
		}
	}
}

// tile updates the mEff×nEff tile of C at offset co (mEff ≤ mr, nEff ≤ nr)
// with one k-slice. a (strides rsa, csa) holds the tile's rows of op(A),
// valid for mEff rows; aPad holds them packed and zero-padded to mr rows
// (nil when mEff == mr). Full tiles, and short tiles that an edge kernel
// fits exactly, are written straight into C; the rest go through tmp.
func (g *gemmJob) tile(kLen int, a []float32, rsa, csa int, aPad, b, tmp []float32, co, mEff, nEff int, beta float32) {
	kr := g.kr
	if mEff == kr.mr && nEff == kr.nr {
		kr.micro(kLen, a, rsa, csa, b, g.c[co:], g.ldc, g.alpha, beta)
		return
	}
	rows, f := kr.mr, kr.micro
	for r := mEff; r < min(kr.mr, len(kr.edge)); r++ {
		if kr.edge[r] != nil {
			rows, f = r, kr.edge[r]
			break
		}
	}
	if rows == mEff && nEff == kr.nr {
		f(kLen, a, rsa, csa, b, g.c[co:], g.ldc, g.alpha, beta)
		return
	}
	if rows > mEff {
		a, rsa, csa = aPad, 1, kr.mr
	}
	f(kLen, a, rsa, csa, b, tmp, kr.nr, 1, 0)
	blend(g.c[co:], g.ldc, tmp, kr.nr, mEff, nEff, g.alpha, beta)
}

// blend sets the mEff×nEff corner of C to alpha*T + beta*C.
func blend(c []float32, ldc int, t []float32, ldt, mEff, nEff int, alpha, beta float32) {
	for i := 0; i < mEff; i++ {
		row := c[i*ldc : i*ldc+nEff]
		src := t[i*ldt : i*ldt+nEff]
		if beta == 0 {
			for j, v := range src {
				row[j] = alpha * v
			}
		} else {
			for j, v := range src {
				row[j] = alpha*v + beta*row[j]
			}
		}
	}
}
