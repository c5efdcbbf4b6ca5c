//go:build amd64 && !purego

#include "textflag.h"

// func sdot4x4(k, nimg int, a *float32, lda, astep uintptr, src *float32, offs *int32, sstep uintptr, out *[16]float32, mask uint64)
//
// The 4×4 block of dot products of SgemmIndirectBTDot:
//
//	out[4·i+t] = Σ_j Σ_{p<k} a_j[i·lda + p] · src_j[offs[t] + p]
//
// over images j < nimg (a_j = a + j·astep, src_j = src + j·sstep; lda,
// astep, sstep in bytes). Each of the 16 sums is kept in 16 lanes (lane
// p mod 16, images and steps of p in order, one FMA each), then the lanes
// are added pairwise in a fixed tree, so a result depends only on the
// operands. The last k mod 16 elements are read with the mask (the low
// k mod 16 bits set) and zeroing, so nothing past k is read.
//
// Registers: R10..R13 rows 0..3 of A, AX, BX, CX, DX the four runs of B,
// SI the byte offset in the row, DI the loop counter, R8 images left,
// Z0..Z15 accumulators (Z(4i+t)), Z16..Z19 the A step, Z20..Z23 the B step.

#define DOTSTEP \
	VFMADD231PS Z20, Z16, Z0; \
	VFMADD231PS Z21, Z16, Z1; \
	VFMADD231PS Z22, Z16, Z2; \
	VFMADD231PS Z23, Z16, Z3; \
	VFMADD231PS Z20, Z17, Z4; \
	VFMADD231PS Z21, Z17, Z5; \
	VFMADD231PS Z22, Z17, Z6; \
	VFMADD231PS Z23, Z17, Z7; \
	VFMADD231PS Z20, Z18, Z8; \
	VFMADD231PS Z21, Z18, Z9; \
	VFMADD231PS Z22, Z18, Z10; \
	VFMADD231PS Z23, Z18, Z11; \
	VFMADD231PS Z20, Z19, Z12; \
	VFMADD231PS Z21, Z19, Z13; \
	VFMADD231PS Z22, Z19, Z14; \
	VFMADD231PS Z23, Z19, Z15

// HSUM adds the 16 lanes of Zn (pairs of 256-bit halves, then 128-bit
// blocks, then 64-bit pairs, then neighbours) and stores the sum at o(R9).
#define HSUM(zn, xn, o) \
	VSHUFF32X4 $0x4E, zn, zn, Z16; \
	VADDPS     Z16, zn, zn; \
	VSHUFF32X4 $0xB1, zn, zn, Z16; \
	VADDPS     Z16, zn, zn; \
	VPERMILPS  $0x4E, zn, Z16; \
	VADDPS     Z16, zn, zn; \
	VPERMILPS  $0xB1, zn, Z16; \
	VADDPS     Z16, zn, zn; \
	VMOVSS     xn, o(R9)

TEXT ·sdot4x4(SB), NOSPLIT, $0-80
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	MOVQ   mask+72(FP), R9
	KMOVW  R9, K1
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
	MOVLQSX 12(R9), DX
	LEAQ    (SI)(AX*4), AX
	LEAQ    (SI)(BX*4), BX
	LEAQ    (SI)(CX*4), CX
	LEAQ    (SI)(DX*4), DX
	XORQ    SI, SI
	MOVQ    k+0(FP), DI
	SHRQ    $4, DI
	JZ      tail

loop:
	VMOVUPS (R10)(SI*1), Z16
	VMOVUPS (R11)(SI*1), Z17
	VMOVUPS (R12)(SI*1), Z18
	VMOVUPS (R13)(SI*1), Z19
	VMOVUPS (AX)(SI*1), Z20
	VMOVUPS (BX)(SI*1), Z21
	VMOVUPS (CX)(SI*1), Z22
	VMOVUPS (DX)(SI*1), Z23
	DOTSTEP
	ADDQ    $64, SI
	DECQ    DI
	JNZ     loop

tail:
	MOVQ    k+0(FP), DI
	ANDQ    $15, DI
	JZ      next
	VMOVUPS.Z (R10)(SI*1), K1, Z16
	VMOVUPS.Z (R11)(SI*1), K1, Z17
	VMOVUPS.Z (R12)(SI*1), K1, Z18
	VMOVUPS.Z (R13)(SI*1), K1, Z19
	VMOVUPS.Z (AX)(SI*1), K1, Z20
	VMOVUPS.Z (BX)(SI*1), K1, Z21
	VMOVUPS.Z (CX)(SI*1), K1, Z22
	VMOVUPS.Z (DX)(SI*1), K1, Z23
	DOTSTEP

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
	HSUM(Z0, X0, 0)
	HSUM(Z1, X1, 4)
	HSUM(Z2, X2, 8)
	HSUM(Z3, X3, 12)
	HSUM(Z4, X4, 16)
	HSUM(Z5, X5, 20)
	HSUM(Z6, X6, 24)
	HSUM(Z7, X7, 28)
	HSUM(Z8, X8, 32)
	HSUM(Z9, X9, 36)
	HSUM(Z10, X10, 40)
	HSUM(Z11, X11, 44)
	HSUM(Z12, X12, 48)
	HSUM(Z13, X13, 52)
	HSUM(Z14, X14, 56)
	HSUM(Z15, X15, 60)
	VZEROUPPER
	RET
