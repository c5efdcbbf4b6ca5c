//go:build amd64 && !purego

#include "textflag.h"

// 2×2, stride-2 max pooling of one plane and its gradient with AVX2,
// eight windows per step, the last ow mod 8 of a row through VMASKMOVPS
// masks: inLo and inHi those of a row tail's first and second eight input
// floats, outMask that of its windows. pos0 points at the windows' first
// positions in the step's lane order (0, 2, 8, 10, 4, 6, 12, 14); the
// int32 lanes 16 (a step) and 2w (a row) are kept in the frame.
//
// VSHUFPS $0x88/$0xDD split the 16 floats of an input row into even and
// odd columns within 128-bit lanes, so a step's windows sit in lanes in
// the order 0, 1, 4, 5, 2, 3, 6, 7; VPERMPD $0xD8 puts results back in
// order (and dy, arg in the step's order for the gradient).
//
// Registers: R12 the input row pair, R13 out (dy) row, BX arg row,
// SI/DI/R8 the current positions, R9 = w·4, DX = ow·4, R10 full steps
// per row, R11 their counter, CX rows left, AX the tail's windows; Y15
// the windows' first positions, Y14 those at the row's start, Y13 the
// NaN flags (forward), Y12 w, Y11 1.

#define C_STEP 0(SP)
#define C_ROW 32(SP)

// SETUP loads the arguments and lane constants shared by both kernels.
#define SETUP \
	MOVQ         oh+24(FP), CX; \
	MOVQ         ow+32(FP), DX; \
	MOVQ         w+40(FP), R9; \
	MOVQ         pos0+48(FP), AX; \
	VMOVDQU      (AX), Y14; \
	MOVQ         $1, AX; \
	MOVQ         AX, X11; \
	VPBROADCASTD X11, Y11; \
	MOVQ         R9, X12; \
	VPBROADCASTD X12, Y12; \
	MOVQ         $16, AX; \
	MOVQ         AX, X10; \
	VPBROADCASTD X10, Y10; \
	VMOVDQU      Y10, C_STEP; \
	VPADDD       Y12, Y12, Y10; \
	VMOVDQU      Y10, C_ROW; \
	MOVQ         DX, AX; \
	ANDQ         $7, AX; \
	MOVQ         DX, R10; \
	SHRQ         $3, R10; \
	SHLQ         $2, DX; \
	SHLQ         $2, R9

// MAX0 sets d to the larger of a and b as Go's max does for non-NaN
// values (+0 over −0): VMAXPS returns its second operand on ties, so
// both orders ANDed give +0 for ±0 and the value otherwise.
#define MAX0(a, b, d, tmp) \
	VMAXPS a, b, d; \
	VMAXPS b, a, tmp; \
	VANDPS tmp, d, d

// WINDOW8 computes the step loaded into Y0, Y1 (row 0) and Y2, Y3 (row
// 1): maxima in Y2, positions in Y9, both in order.
#define WINDOW8 \
	VSHUFPS   $0x88, Y1, Y0, Y4; \
	VSHUFPS   $0xDD, Y1, Y0, Y5; \
	VSHUFPS   $0x88, Y3, Y2, Y6; \
	VSHUFPS   $0xDD, Y3, Y2, Y7; \
	VCMPPS    $3, Y5, Y4, Y0; \
	VCMPPS    $3, Y7, Y6, Y1; \
	VORPS     Y0, Y13, Y13; \
	VORPS     Y1, Y13, Y13; \
	MAX0(Y5, Y4, Y0, Y1); \
	MAX0(Y7, Y6, Y1, Y2); \
	MAX0(Y1, Y0, Y2, Y3); \
	VPADDD    Y12, Y15, Y8; \
	VPADDD    Y11, Y8, Y9; \
	VCMPPS    $0, Y2, Y6, Y10; \
	VBLENDVPS Y10, Y8, Y9, Y9; \
	VPADDD    Y11, Y15, Y8; \
	VCMPPS    $0, Y2, Y5, Y10; \
	VBLENDVPS Y10, Y8, Y9, Y9; \
	VCMPPS    $0, Y2, Y4, Y10; \
	VBLENDVPS Y10, Y15, Y9, Y9; \
	VPERMPD   $0xD8, Y2, Y2; \
	VPERMPD   $0xD8, Y9, Y9

// func maxPool2x2AVX2(out *float32, arg *int32, in *float32, oh, ow, w int, pos0, inLo, inHi, outMask *int32) (sawNaN bool)
TEXT ·maxPool2x2AVX2(SB), NOSPLIT, $64-81
	MOVQ    out+0(FP), R13
	MOVQ    arg+8(FP), BX
	MOVQ    in+16(FP), R12
	SETUP
	VPXOR   Y13, Y13, Y13
	TESTQ   CX, CX
	JZ      done

row:
	MOVQ    R12, SI
	MOVQ    R13, DI
	MOVQ    BX, R8
	VMOVDQA Y14, Y15
	MOVQ    R10, R11
	TESTQ   R11, R11
	JZ      tail

full:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS (SI)(R9*1), Y2
	VMOVUPS 32(SI)(R9*1), Y3
	WINDOW8
	VMOVUPS Y2, (DI)
	VMOVDQU Y9, (R8)
	ADDQ    $64, SI
	ADDQ    $32, DI
	ADDQ    $32, R8
	VPADDD  C_STEP, Y15, Y15
	DECQ    R11
	JNZ     full

tail:
	TESTQ      AX, AX
	JZ         nextrow
	MOVQ       inLo+56(FP), R14
	VMOVUPS    (R14), Y10
	VMASKMOVPS (SI), Y10, Y0
	VMASKMOVPS (SI)(R9*1), Y10, Y2
	MOVQ       inHi+64(FP), R14
	VMOVUPS    (R14), Y10
	VMASKMOVPS 32(SI), Y10, Y1
	VMASKMOVPS 32(SI)(R9*1), Y10, Y3
	WINDOW8
	MOVQ       outMask+72(FP), R14
	VMOVUPS    (R14), Y10
	VMASKMOVPS Y2, Y10, (DI)
	VMASKMOVPS Y9, Y10, (R8)

nextrow:
	LEAQ    (R12)(R9*2), R12
	ADDQ    DX, R13
	ADDQ    DX, BX
	VPADDD  C_ROW, Y14, Y14
	DECQ    CX
	JNZ     row

done:
	VPTEST  Y13, Y13
	SETNE   sawNaN+80(FP)
	VZEROUPPER
	RET

// BACK8 spreads the step's dy (Y0) and arg (Y1), both put in the step's
// lane order, over the two input rows: Y2, Y3 the first and second eight
// floats of row 0, Y6, Y7 those of row 1.
#define BACK8 \
	VPERMPD   $0xD8, Y0, Y0; \
	VPERMPD   $0xD8, Y1, Y1; \
	VPCMPEQD  Y15, Y1, Y4; \
	VANDPS    Y0, Y4, Y4; \
	VPADDD    Y11, Y15, Y8; \
	VPCMPEQD  Y8, Y1, Y5; \
	VANDPS    Y0, Y5, Y5; \
	VUNPCKLPS Y5, Y4, Y2; \
	VUNPCKHPS Y5, Y4, Y3; \
	VPADDD    Y12, Y15, Y8; \
	VPCMPEQD  Y8, Y1, Y4; \
	VANDPS    Y0, Y4, Y4; \
	VPADDD    Y11, Y8, Y8; \
	VPCMPEQD  Y8, Y1, Y5; \
	VANDPS    Y0, Y5, Y5; \
	VUNPCKLPS Y5, Y4, Y6; \
	VUNPCKHPS Y5, Y4, Y7

// func maxPool2x2BackAVX2(dx *float32, dy *float32, arg *int32, oh, ow, w int, pos0, inLo, inHi, outMask *int32)
TEXT ·maxPool2x2BackAVX2(SB), NOSPLIT, $64-80
	MOVQ    dx+0(FP), R12
	MOVQ    dy+8(FP), R13
	MOVQ    arg+16(FP), BX
	SETUP
	TESTQ   CX, CX
	JZ      bdone

brow:
	MOVQ    R12, SI
	MOVQ    R13, DI
	MOVQ    BX, R8
	VMOVDQA Y14, Y15
	MOVQ    R10, R11
	TESTQ   R11, R11
	JZ      btail

bfull:
	VMOVUPS (DI), Y0
	VMOVDQU (R8), Y1
	BACK8
	VMOVUPS Y2, (SI)
	VMOVUPS Y3, 32(SI)
	VMOVUPS Y6, (SI)(R9*1)
	VMOVUPS Y7, 32(SI)(R9*1)
	ADDQ    $64, SI
	ADDQ    $32, DI
	ADDQ    $32, R8
	VPADDD  C_STEP, Y15, Y15
	DECQ    R11
	JNZ     bfull

btail:
	TESTQ      AX, AX
	JZ         bnext
	MOVQ       outMask+72(FP), R14
	VMOVUPS    (R14), Y10
	VMASKMOVPS (DI), Y10, Y0
	VMASKMOVPS (R8), Y10, Y1
	BACK8
	MOVQ       inLo+56(FP), R14
	VMOVUPS    (R14), Y10
	VMASKMOVPS Y2, Y10, (SI)
	VMASKMOVPS Y6, Y10, (SI)(R9*1)
	MOVQ       inHi+64(FP), R14
	VMOVUPS    (R14), Y10
	VMASKMOVPS Y3, Y10, 32(SI)
	VMASKMOVPS Y7, Y10, 32(SI)(R9*1)

bnext:
	LEAQ    (R12)(R9*2), R12
	ADDQ    DX, R13
	ADDQ    DX, BX
	VPADDD  C_ROW, Y14, Y14
	DECQ    CX
	JNZ     brow

bdone:
	VZEROUPPER
	RET
