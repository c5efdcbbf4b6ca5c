package kern

import (
	"sync"
	"unsafe"
)

// Packing copies blocks of op(A) and op(B) into the order the micro-kernel
// reads them: A as micro-panels of mr rows (element (i, p) at p*mr+i), B as
// micro-panels of nr columns (element (p, j) at p*nr+j). Rows or columns
// past the matrix edge are zero, so edge tiles run the same kernel.
//
// The full micro-panels of the AVX2 (6×16) and AVX-512 (12×32) kernels
// are packed by assembly where there is one (packA6, packB16, packA12,
// packB32); the Go loops here do everything else, and everything under
// purego. Tests compare the two bit for bit.

// asmPack switches the assembly packers on; tests turn it off to compare
// them with the Go loops.
var asmPack = true

// packA packs op(A)[i0:i0+mLen, p0:p0+kLen] into dst as ceil(mLen/mr)
// consecutive micro-panels of mr*kLen floats. Up to 2 floats of dst past
// the last panel may be overwritten (the assembly packer's last store).
func packA(dst, a []float32, lda int, transA bool, i0, mLen, p0, kLen, mr int) {
	for ib := 0; ib < mLen; ib += mr {
		mEff := min(mr, mLen-ib)
		d := dst[ib*kLen : ib*kLen+mr*kLen]
		if !transA && mr == 6 && mEff == 6 && packA6(dst[ib*kLen:], a, lda, i0+ib, p0, kLen) {
			continue
		}
		if !transA && mr == 12 && mEff == 12 && packA12(d, a, lda, i0+ib, p0, kLen) {
			continue
		}
		if transA {
			packATrans(d, a, lda, i0+ib, mEff, p0, kLen, mr)
		} else {
			packANoTrans(d, a, lda, i0+ib, mEff, p0, kLen, mr)
		}
	}
}

// packANoTrans packs rows i..i+mEff of A (stored m×k, row stride lda).
func packANoTrans(d, a []float32, lda, i, mEff, p0, kLen, mr int) {
	if mr == 6 && mEff == 6 {
		o := i*lda + p0
		r0 := a[o : o+kLen]
		r1 := a[o+lda : o+lda+kLen]
		r2 := a[o+2*lda : o+2*lda+kLen]
		r3 := a[o+3*lda : o+3*lda+kLen]
		r4 := a[o+4*lda : o+4*lda+kLen]
		r5 := a[o+5*lda : o+5*lda+kLen]
		d = d[:6*kLen]
		for p := range r0 {
			t := (*[6]float32)(d[6*p:])
			t[0], t[1], t[2], t[3], t[4], t[5] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p]
		}
		return
	}
	if mr == 2 && mEff == 2 {
		o := i*lda + p0
		r0 := a[o : o+kLen]
		r1 := a[o+lda : o+lda+kLen]
		d = d[:2*kLen]
		for p := range r0 {
			t := (*[2]float32)(d[2*p:])
			t[0], t[1] = r0[p], r1[p]
		}
		return
	}
	for r := 0; r < mr; r++ {
		if r >= mEff {
			for p := 0; p < kLen; p++ {
				d[p*mr+r] = 0
			}
			continue
		}
		o := (i+r)*lda + p0
		for p, v := range a[o : o+kLen] {
			d[p*mr+r] = v
		}
	}
}

// packATrans packs columns i..i+mEff of A (stored k×m, row stride lda),
// which are rows of op(A) = Aᵀ.
func packATrans(d, a []float32, lda, i, mEff, p0, kLen, mr int) {
	o := p0*lda + i
	switch {
	case mr == 12 && mEff == 12:
		for p := 0; p < kLen; p++ {
			*(*[12]float32)(d[12*p:]) = *(*[12]float32)(a[o:])
			o += lda
		}
	case mr == 6 && mEff == 6:
		for p := 0; p < kLen; p++ {
			*(*[6]float32)(d[6*p:]) = *(*[6]float32)(a[o:])
			o += lda
		}
	case mr == 2 && mEff == 2:
		for p := 0; p < kLen; p++ {
			*(*[2]float32)(d[2*p:]) = *(*[2]float32)(a[o:])
			o += lda
		}
	default:
		for p := 0; p < kLen; p++ {
			t := d[p*mr : p*mr+mr]
			copy(t, a[o:o+mEff])
			clear(t[mEff:])
			o += lda
		}
	}
}

// packBPanel packs op(B)[p0:p0+kLen, j:j+nEff] into d (kLen*nr floats),
// zero-padding columns nEff..nr.
func packBPanel(d, b []float32, ldb int, transB bool, j, nEff, p0, kLen, nr int) {
	d = d[:kLen*nr]
	if nr == 16 && nEff == 16 && packB16(d, b, ldb, transB, j, p0, kLen) {
		return
	}
	if nr == 32 && nEff == 32 && packB32(d, b, ldb, transB, j, p0, kLen) {
		return
	}
	if !transB {
		o := p0*ldb + j
		switch {
		case nr == 32 && nEff == 32:
			for p := 0; p < kLen; p++ {
				*(*[32]float32)(d[32*p:]) = *(*[32]float32)(b[o:])
				o += ldb
			}
		case nr == 16 && nEff == 16:
			for p := 0; p < kLen; p++ {
				*(*[16]float32)(d[16*p:]) = *(*[16]float32)(b[o:])
				o += ldb
			}
		case nr == 4 && nEff == 4:
			for p := 0; p < kLen; p++ {
				*(*[4]float32)(d[4*p:]) = *(*[4]float32)(b[o:])
				o += ldb
			}
		default:
			for p := 0; p < kLen; p++ {
				t := d[p*nr : p*nr+nr]
				copy(t, b[o:o+nEff])
				clear(t[nEff:])
				o += ldb
			}
		}
		return
	}
	// B stored n×k: column j of op(B) is row j of B, contiguous in p.
	jj := 0
	for ; jj+4 <= nEff; jj += 4 {
		o := (j+jj)*ldb + p0
		r0 := b[o : o+kLen]
		r1 := b[o+ldb : o+ldb+kLen]
		r2 := b[o+2*ldb : o+2*ldb+kLen]
		r3 := b[o+3*ldb : o+3*ldb+kLen]
		for p := range r0 {
			t := (*[4]float32)(d[p*nr+jj:])
			t[0], t[1], t[2], t[3] = r0[p], r1[p], r2[p], r3[p]
		}
	}
	for ; jj < nEff; jj++ {
		o := (j+jj)*ldb + p0
		for p, v := range b[o : o+kLen] {
			d[p*nr+jj] = v
		}
	}
	if nEff < nr {
		for p := 0; p < kLen; p++ {
			clear(d[p*nr+nEff : p*nr+nr])
		}
	}
}

// packBRows packs columns [j, j+nEff) of op(B) = Bᵀ, rows [p0, p0+kLen),
// where row j of the stored B is the run b[offs[j]:] (see SgemmIndirectBT):
// the transposed packing with a row offset per column.
func packBRows(d, b []float32, offs []int32, j, nEff, p0, kLen, nr int) {
	d = d[:kLen*nr]
	if nr == 16 && nEff == 16 && packB16Rows(d, b, offs[j:j+16], p0, kLen) {
		return
	}
	jj := 0
	for ; jj+4 <= nEff; jj += 4 {
		r0 := b[int(offs[j+jj])+p0:][:kLen]
		r1 := b[int(offs[j+jj+1])+p0:][:kLen]
		r2 := b[int(offs[j+jj+2])+p0:][:kLen]
		r3 := b[int(offs[j+jj+3])+p0:][:kLen]
		for p := range r0 {
			t := (*[4]float32)(d[p*nr+jj:])
			t[0], t[1], t[2], t[3] = r0[p], r1[p], r2[p], r3[p]
		}
	}
	for ; jj < nEff; jj++ {
		for p, v := range b[int(offs[j+jj])+p0:][:kLen] {
			d[p*nr+jj] = v
		}
	}
	if nEff < nr {
		for p := 0; p < kLen; p++ {
			clear(d[p*nr+nEff : p*nr+nr])
		}
	}
}

// Scratch buffers, reused across calls so steady-state calls do not
// allocate. Slices handed out start on a 64-byte boundary (one cache line).
type fbuf struct{ s []float32 }

var (
	aBufs = sync.Pool{New: func() any { return new(fbuf) }}
	bBufs = sync.Pool{New: func() any { return new(fbuf) }}
)

// get returns an aligned slice of n floats from the buffer, growing it if
// needed. The contents are unspecified.
func (f *fbuf) get(n int) []float32 {
	if cap(f.s) < n+16 {
		f.s = make([]float32, n+16)
	}
	s := f.s[:cap(f.s)]
	off := int((64 - uintptr(unsafe.Pointer(&s[0]))%64) % 64 / 4)
	return s[off : off+n]
}
