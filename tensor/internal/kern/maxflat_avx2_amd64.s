//go:build amd64 && !purego

#include "textflag.h"

// MAXTAP takes the maximum of accumulator acc and the run of tap R13 at
// byte offset off, and ORs its NaN lanes into Y13 (see maxFlatAVX512).
#define MAXTAP(off, acc) \
	VMOVUPS off(R12), Y11; \
	VCMPPS  $3, Y11, Y11, Y12; \
	VORPS   Y12, Y13, Y13; \
	VMAXPS  acc, Y11, acc

// func maxFlatAVX2(dst, src *float32, offs *int32, ntaps, n int, mask *int32) (sawNaN bool)
//
// maxFlatAVX512 with ymm: 32 outputs per step in four accumulators, then
// 8, then the last n mod 8 through the VMASKMOVPS mask at mask.
TEXT ·maxFlatAVX2(SB), NOSPLIT, $0-49
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         offs+16(FP), R10
	MOVQ         ntaps+24(FP), R14
	MOVQ         n+32(FP), DX
	MOVQ         mask+40(FP), R9
	XORQ         AX, AX
	VXORPS       Y13, Y13, Y13
	MOVL         $0xff800000, R8     // −Inf
	MOVQ         R8, X0
	VBROADCASTSS X0, Y0

my32:
	CMPQ    DX, $32
	JLT     my8
	VMOVAPS Y0, Y2
	VMOVAPS Y0, Y3
	VMOVAPS Y0, Y4
	VMOVAPS Y0, Y5
	XORQ    R13, R13

my32tap:
	MOVLQSX (R10)(R13*4), R12
	LEAQ    (SI)(R12*4), R12
	ADDQ    AX, R12
	MAXTAP(0, Y2)
	MAXTAP(32, Y3)
	MAXTAP(64, Y4)
	MAXTAP(96, Y5)
	INCQ    R13
	CMPQ    R13, R14
	JLT     my32tap
	VMOVUPS Y2, (DI)(AX*1)
	VMOVUPS Y3, 32(DI)(AX*1)
	VMOVUPS Y4, 64(DI)(AX*1)
	VMOVUPS Y5, 96(DI)(AX*1)
	ADDQ    $128, AX
	SUBQ    $32, DX
	JMP     my32

my8:
	CMPQ    DX, $8
	JLT     mytail
	VMOVAPS Y0, Y2
	XORQ    R13, R13

my8tap:
	MOVLQSX (R10)(R13*4), R12
	LEAQ    (SI)(R12*4), R12
	ADDQ    AX, R12
	MAXTAP(0, Y2)
	INCQ    R13
	CMPQ    R13, R14
	JLT     my8tap
	VMOVUPS Y2, (DI)(AX*1)
	ADDQ    $32, AX
	SUBQ    $8, DX
	JMP     my8

mytail:
	TESTQ   DX, DX
	JZ      mydone
	VMOVDQU (R9), Y14
	VMOVAPS Y0, Y2
	XORQ    R13, R13

mytailtap:
	MOVLQSX    (R10)(R13*4), R12
	LEAQ       (SI)(R12*4), R12
	ADDQ       AX, R12
	VMASKMOVPS (R12), Y14, Y11
	VCMPPS     $3, Y11, Y11, Y12
	VORPS      Y12, Y13, Y13
	VMAXPS     Y2, Y11, Y2
	INCQ       R13
	CMPQ       R13, R14
	JLT        mytailtap
	VMASKMOVPS Y2, Y14, (DI)(AX*1)

mydone:
	VMOVMSKPS Y13, AX
	TESTL     AX, AX
	SETNE     sawNaN+48(FP)
	VZEROUPPER
	RET
