//go:build amd64 && !purego

#include "textflag.h"

// func maxPool2x2AVX512(out *float32, arg *int32, in *float32, oh, ow, w int, masks uint64, perm *[32]int32) (sawNaN bool)
//
// 2×2, stride-2 max pooling of one plane, 16 outputs per step: two zmm of
// each input row are split into even and odd columns (VPERMT2PS with the
// index vectors perm[0:16], perm[16:32]), giving the four values of each
// window; the maximum is taken pairwise with VMAXPS, where equal values
// (±0) are ANDed so +0 wins over −0 as Go's max does, and the argmax is the
// first of the four positions (row-major) equal to it. The last ow mod 16
// outputs of a row use the masks (bits 0–15: outputs; 16–31 and 32–47: the
// two input zmm) with zeroing loads and masked stores. It reports whether
// any window held a NaN, whose result the caller recomputes.
//
// Registers: R12/R13/BX the row starts of in (two rows per output row),
// out and arg; SI, DI, R8 the current positions; R9 = w·4, DX = ow·4,
// R10 full steps per row, R11 their counter, CX rows left. Z29 the
// positions (row·w + column) of the windows' first elements, Z25 those of
// the row's start, Z24 = 2w, Z26 = w, Z27 = 1, Z28 = 32 (int32 lanes).

#define LOADFULL \
	VMOVUPS (SI), Z0; \
	VMOVUPS 64(SI), Z1; \
	VMOVUPS (SI)(R9*1), Z4; \
	VMOVUPS 64(SI)(R9*1), Z5

#define LOADTAIL \
	VMOVUPS.Z (SI), K5, Z0; \
	VMOVUPS.Z 64(SI), K6, Z1; \
	VMOVUPS.Z (SI)(R9*1), K5, Z4; \
	VMOVUPS.Z 64(SI)(R9*1), K6, Z5

// WINDOW computes the step loaded into Z0, Z1 (row 0) and Z4, Z5 (row 1):
// maxima in Z10, positions in Z12.
#define WINDOW \
	VMOVAPS     Z0, Z2; \
	VPERMT2PS   Z1, Z30, Z2; \
	VPERMT2PS   Z1, Z31, Z0; \
	VMOVAPS     Z4, Z6; \
	VPERMT2PS   Z5, Z30, Z6; \
	VPERMT2PS   Z5, Z31, Z4; \
	VCMPPS      $3, Z0, Z2, K1; \
	VCMPPS      $3, Z4, Z6, K2; \
	KORW        K1, K2, K1; \
	KORW        K1, K4, K4; \
	VMAXPS      Z0, Z2, Z8; \
	VCMPPS      $0, Z0, Z2, K1; \
	VPANDD      Z0, Z2, K1, Z8; \
	VMAXPS      Z4, Z6, Z9; \
	VCMPPS      $0, Z4, Z6, K2; \
	VPANDD      Z4, Z6, K2, Z9; \
	VMAXPS      Z9, Z8, Z10; \
	VCMPPS      $0, Z9, Z8, K3; \
	VPANDD      Z9, Z8, K3, Z10; \
	VPADDD      Z26, Z29, Z11; \
	VPADDD      Z27, Z11, Z12; \
	VCMPPS      $0, Z10, Z6, K1; \
	VMOVDQA32   Z11, K1, Z12; \
	VPADDD      Z27, Z29, Z11; \
	VCMPPS      $0, Z10, Z0, K1; \
	VMOVDQA32   Z11, K1, Z12; \
	VCMPPS      $0, Z10, Z2, K1; \
	VMOVDQA32   Z29, K1, Z12

TEXT ·maxPool2x2AVX512(SB), NOSPLIT, $0-65
	MOVQ   out+0(FP), R13
	MOVQ   arg+8(FP), BX
	MOVQ   in+16(FP), R12
	MOVQ   oh+24(FP), CX
	MOVQ   ow+32(FP), DX
	MOVQ   w+40(FP), R9
	MOVQ   masks+48(FP), AX
	KMOVW  AX, K7
	SHRQ   $16, AX
	KMOVW  AX, K5
	SHRQ   $16, AX
	KMOVW  AX, K6
	MOVQ   perm+56(FP), AX
	VMOVDQU32 (AX), Z30
	VMOVDQU32 64(AX), Z31
	KXORW  K4, K4, K4
	// Lane constants.
	MOVL   $1, AX
	VPBROADCASTD AX, Z27
	MOVL   $32, AX
	VPBROADCASTD AX, Z28
	VPBROADCASTD R9, Z26
	VPADDD Z26, Z26, Z24
	// Z25 = 0, 2, 4, …, 30: the even permutation's indices.
	VMOVDQA32 Z30, Z25
	MOVQ   DX, R10
	SHRQ   $4, R10
	SHLQ   $2, DX
	SHLQ   $2, R9
	TESTQ  CX, CX
	JZ     done

row:
	MOVQ   R12, SI
	MOVQ   R13, DI
	MOVQ   BX, R8
	VMOVDQA32 Z25, Z29
	MOVQ   R10, R11
	TESTQ  R11, R11
	JZ     tail

full:
	LOADFULL
	WINDOW
	VMOVUPS   Z10, (DI)
	VMOVDQU32 Z12, (R8)
	ADDQ   $128, SI
	ADDQ   $64, DI
	ADDQ   $64, R8
	VPADDD Z28, Z29, Z29
	DECQ   R11
	JNZ    full

tail:
	KORTESTW K7, K7
	JZ     nextrow
	LOADTAIL
	WINDOW
	VMOVUPS   Z10, K7, (DI)
	VMOVDQU32 Z12, K7, (R8)

nextrow:
	LEAQ   (R12)(R9*2), R12
	ADDQ   DX, R13
	ADDQ   DX, BX
	VPADDD Z24, Z25, Z25
	DECQ   CX
	JNZ    row

done:
	KMOVW  K4, AX
	TESTL  AX, AX
	SETNE  sawNaN+64(FP)
	VZEROUPPER
	RET

// func maxPool2x2BackAVX512(dx *float32, dy *float32, arg *int32, oh, ow, w int, masks uint64, perm *[48]int32)
//
// The gradient of 2×2, stride-2 max pooling on one plane: each window's
// four inputs get dy where arg (the position row·w + column of its
// maximum) points and 0 elsewhere, sixteen windows per step; the last
// ow mod 16 windows of a row use the masks as the forward does (bits
// 0–15: windows; 16–31 and 32–47: the two zmm of each input row). The
// input rows 2·oy and 2·oy+1 are written in columns [0, 2·ow), the rest
// of dx is left alone. perm[0:16] and perm[16:32] interleave two vectors
// (0, 16, 1, 17, …) into their first and second halves; perm[32:48] is
// 0, 2, …, 30.
//
// Registers: R12 the dx row pair, R13 dy row, BX arg row, SI/DI/R8 the
// current positions, R9 = w·4, DX = ow·4, R10 full steps, R11 counter,
// CX rows left; Z29 the windows' first positions, Z25 those at the row's
// start, Z24 = 2w, Z26 = w, Z27 = 1, Z28 = 32, Z23 zero.
#define BACKSTEP(ldmask, stA, stB) \
	VMOVUPS.Z   (DI), ldmask, Z0; \
	VMOVDQU32.Z (R8), ldmask, Z1; \
	VPCMPEQD    Z29, Z1, K3; \
	VMOVAPS.Z   Z0, K3, Z2; \
	VPADDD      Z27, Z29, Z5; \
	VPCMPEQD    Z5, Z1, K3; \
	VMOVAPS.Z   Z0, K3, Z3; \
	VMOVAPS     Z2, Z6; \
	VPERMT2PS   Z3, Z30, Z6; \
	VPERMT2PS   Z3, Z31, Z2; \
	VMOVUPS     Z6, stA, (SI); \
	VMOVUPS     Z2, stB, 64(SI); \
	VPADDD      Z26, Z29, Z5; \
	VPCMPEQD    Z5, Z1, K3; \
	VMOVAPS.Z   Z0, K3, Z2; \
	VPADDD      Z27, Z5, Z5; \
	VPCMPEQD    Z5, Z1, K3; \
	VMOVAPS.Z   Z0, K3, Z3; \
	VMOVAPS     Z2, Z6; \
	VPERMT2PS   Z3, Z30, Z6; \
	VPERMT2PS   Z3, Z31, Z2; \
	VMOVUPS     Z6, stA, (SI)(R9*1); \
	VMOVUPS     Z2, stB, 64(SI)(R9*1)

TEXT ·maxPool2x2BackAVX512(SB), NOSPLIT, $0-64
	MOVQ   dx+0(FP), R12
	MOVQ   dy+8(FP), R13
	MOVQ   arg+16(FP), BX
	MOVQ   oh+24(FP), CX
	MOVQ   ow+32(FP), DX
	MOVQ   w+40(FP), R9
	MOVQ   masks+48(FP), AX
	KMOVW  AX, K7
	SHRQ   $16, AX
	KMOVW  AX, K5
	SHRQ   $16, AX
	KMOVW  AX, K6
	KXNORW K4, K4, K4
	MOVQ   perm+56(FP), AX
	VMOVDQU32 (AX), Z30
	VMOVDQU32 64(AX), Z31
	MOVL   $1, AX
	VPBROADCASTD AX, Z27
	MOVL   $32, AX
	VPBROADCASTD AX, Z28
	VPBROADCASTD R9, Z26
	VPADDD Z26, Z26, Z24
	// Z25 = 0, 2, …, 30: the first positions of a row's first windows.
	MOVQ   perm+56(FP), AX
	VMOVDQU32 128(AX), Z25
	MOVQ   DX, R10
	SHRQ   $4, R10
	SHLQ   $2, DX
	SHLQ   $2, R9
	TESTQ  CX, CX
	JZ     bdone

brow:
	MOVQ   R12, SI
	MOVQ   R13, DI
	MOVQ   BX, R8
	VMOVDQA32 Z25, Z29
	MOVQ   R10, R11
	TESTQ  R11, R11
	JZ     btail

bfull:
	BACKSTEP(K4, K4, K4)
	ADDQ   $128, SI
	ADDQ   $64, DI
	ADDQ   $64, R8
	VPADDD Z28, Z29, Z29
	DECQ   R11
	JNZ    bfull

btail:
	KORTESTW K7, K7
	JZ     bnext
	BACKSTEP(K7, K5, K6)

bnext:
	LEAQ   (R12)(R9*2), R12
	ADDQ   DX, R13
	ADDQ   DX, BX
	VPADDD Z24, Z25, Z25
	DECQ   CX
	JNZ    brow

bdone:
	VZEROUPPER
	RET
