//go:build amd64 && !purego

#include "textflag.h"

// func sdot4x3AVX2(k, nimg int, a *float32, lda, astep uintptr, src *float32, offs *int32, sstep uintptr, out *[16]float32, mask *int32)
//
// The 4×3 block of dot products of SgemmDotImages with AVX2 and FMA:
//
//	out[4·i+t] = Σ_j Σ_{p<k} a_j[i·lda + p] · src_j[offs[t] + p]
//
// for rows i < 4 and runs t < 3, over images j < nimg (a_j = a + j·astep,
// src_j = src + j·sstep; lda, astep, sstep in bytes). Each of the 12
// sums is kept in 8 lanes (lane p mod 8, images and steps of p in order,
// one FMA each), then the lanes are added in a fixed tree (128-bit
// halves, pairs, neighbours), so a result depends only on its operands.
// The last k mod 8 elements are read with VMASKMOVPS under mask (8 int32,
// the first k mod 8 of them −1), which zeroes the rest and reads nothing
// past k; the four rows' tails go through the frame, since the twelve
// accumulators, three runs and the mask fill all 16 ymm registers.
//
// Registers: R10..R13 rows 0..3 of A, AX, BX, CX the three runs of B,
// SI the byte offset in the row, DI the loop counter, R8 images left,
// Y0..Y11 accumulators (Y(3i+t)), Y12..Y14 the B step, Y15 the A row.

#define ROW(ra, acc0, acc1, acc2) \
	VFMADD231PS Y12, ra, acc0; \
	VFMADD231PS Y13, ra, acc1; \
	VFMADD231PS Y14, ra, acc2

// HSUM8 adds the 8 lanes of Yn (128-bit halves, then 64-bit pairs, then
// neighbours) and stores the sum at o(R9).
#define HSUM8(yn, xn, o) \
	VEXTRACTF128 $1, yn, X15; \
	VADDPS       X15, xn, xn; \
	VPERMILPS    $0x4E, xn, X15; \
	VADDPS       X15, xn, xn; \
	VPERMILPS    $0xB1, xn, X15; \
	VADDPS       X15, xn, xn; \
	VMOVSS       xn, o(R9)

TEXT ·sdot4x3AVX2(SB), NOSPLIT, $128-80
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	MOVQ   nimg+8(FP), R8
	TESTQ  R8, R8
	JZ     reduce

image:
	// Row pointers of this image's A and run pointers of its B.
	MOVQ    a+16(FP), R10
	MOVQ    lda+24(FP), R9
	LEAQ    (R10)(R9*1), R11
	LEAQ    (R11)(R9*1), R12
	LEAQ    (R12)(R9*1), R13
	MOVQ    src+40(FP), SI
	MOVQ    offs+48(FP), R9
	MOVLQSX 0(R9), AX
	MOVLQSX 4(R9), BX
	MOVLQSX 8(R9), CX
	LEAQ    (SI)(AX*4), AX
	LEAQ    (SI)(BX*4), BX
	LEAQ    (SI)(CX*4), CX
	XORQ    SI, SI
	MOVQ    k+0(FP), DI
	SHRQ    $3, DI
	JZ      tail

loop:
	VMOVUPS (AX)(SI*1), Y12
	VMOVUPS (BX)(SI*1), Y13
	VMOVUPS (CX)(SI*1), Y14
	VMOVUPS (R10)(SI*1), Y15
	ROW(Y15, Y0, Y1, Y2)
	VMOVUPS (R11)(SI*1), Y15
	ROW(Y15, Y3, Y4, Y5)
	VMOVUPS (R12)(SI*1), Y15
	ROW(Y15, Y6, Y7, Y8)
	VMOVUPS (R13)(SI*1), Y15
	ROW(Y15, Y9, Y10, Y11)
	ADDQ    $32, SI
	DECQ    DI
	JNZ     loop

tail:
	MOVQ k+0(FP), DI
	ANDQ $7, DI
	JZ   next
	MOVQ mask+72(FP), R9
	VMOVUPS (R9), Y15
	VMASKMOVPS (R10)(SI*1), Y15, Y12
	VMOVUPS    Y12, 0(SP)
	VMASKMOVPS (R11)(SI*1), Y15, Y12
	VMOVUPS    Y12, 32(SP)
	VMASKMOVPS (R12)(SI*1), Y15, Y12
	VMOVUPS    Y12, 64(SP)
	VMASKMOVPS (R13)(SI*1), Y15, Y12
	VMOVUPS    Y12, 96(SP)
	VMASKMOVPS (AX)(SI*1), Y15, Y12
	VMASKMOVPS (BX)(SI*1), Y15, Y13
	VMASKMOVPS (CX)(SI*1), Y15, Y14
	VMOVUPS    0(SP), Y15
	ROW(Y15, Y0, Y1, Y2)
	VMOVUPS    32(SP), Y15
	ROW(Y15, Y3, Y4, Y5)
	VMOVUPS    64(SP), Y15
	ROW(Y15, Y6, Y7, Y8)
	VMOVUPS    96(SP), Y15
	ROW(Y15, Y9, Y10, Y11)

next:
	// The next image: advance a and src (kept in the argument slots).
	MOVQ astep+32(FP), R9
	ADDQ R9, a+16(FP)
	MOVQ sstep+56(FP), R9
	ADDQ R9, src+40(FP)
	DECQ R8
	JNZ  image

reduce:
	MOVQ out+64(FP), R9
	HSUM8(Y0, X0, 0)
	HSUM8(Y1, X1, 4)
	HSUM8(Y2, X2, 8)
	HSUM8(Y3, X3, 16)
	HSUM8(Y4, X4, 20)
	HSUM8(Y5, X5, 24)
	HSUM8(Y6, X6, 32)
	HSUM8(Y7, X7, 36)
	HSUM8(Y8, X8, 40)
	HSUM8(Y9, X9, 48)
	HSUM8(Y10, X10, 52)
	HSUM8(Y11, X11, 56)
	VZEROUPPER
	RET
