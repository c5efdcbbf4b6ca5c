//go:build amd64 && !purego

#include "textflag.h"

// MAXTAP takes the maximum of accumulator acc and the run of tap R13 at
// byte offset off, and records NaN lanes of the run in K3. The run is the
// first source of VMAXPS, so a NaN already in acc stays; a NaN in the run
// is only recorded (the caller redoes the plane).
#define MAXTAP(off, acc) \
	VMOVUPS  off(R12), Z11; \
	VCMPPS   $3, Z11, Z11, K2; \
	KORW     K2, K3, K3; \
	VMAXPS   acc, Z11, acc

// func maxFlatAVX512(dst, src *float32, offs *int32, ntaps, n int) (sawNaN bool)
//
// MaxFlat: dst[i] = max_t src[offs[t] + i], 64 outputs per step in four
// accumulators, then 16, then the last n mod 16 through the mask K1
// (masked loads read no lane past n). NaN lanes of any run are gathered
// in K3; the result is true when there was one.
TEXT ·maxFlatAVX512(SB), NOSPLIT, $0-41
	MOVQ   dst+0(FP), DI
	MOVQ   src+8(FP), SI
	MOVQ   offs+16(FP), R10
	MOVQ   ntaps+24(FP), R14
	MOVQ   n+32(FP), DX
	XORQ   AX, AX
	KXORW  K3, K3, K3
	MOVL   $0xff800000, R8     // −Inf
	VPBROADCASTD R8, Z0

mx64:
	CMPQ    DX, $64
	JLT     mx16
	VMOVAPS Z0, Z2
	VMOVAPS Z0, Z3
	VMOVAPS Z0, Z4
	VMOVAPS Z0, Z5
	XORQ    R13, R13

mx64tap:
	MOVLQSX (R10)(R13*4), R12
	LEAQ    (SI)(R12*4), R12
	ADDQ    AX, R12
	MAXTAP(0, Z2)
	MAXTAP(64, Z3)
	MAXTAP(128, Z4)
	MAXTAP(192, Z5)
	INCQ    R13
	CMPQ    R13, R14
	JLT     mx64tap
	VMOVUPS Z2, (DI)(AX*1)
	VMOVUPS Z3, 64(DI)(AX*1)
	VMOVUPS Z4, 128(DI)(AX*1)
	VMOVUPS Z5, 192(DI)(AX*1)
	ADDQ    $256, AX
	SUBQ    $64, DX
	JMP     mx64

mx16:
	CMPQ    DX, $16
	JLT     mxtail
	VMOVAPS Z0, Z2
	XORQ    R13, R13

mx16tap:
	MOVLQSX (R10)(R13*4), R12
	LEAQ    (SI)(R12*4), R12
	ADDQ    AX, R12
	MAXTAP(0, Z2)
	INCQ    R13
	CMPQ    R13, R14
	JLT     mx16tap
	VMOVUPS Z2, (DI)(AX*1)
	ADDQ    $64, AX
	SUBQ    $16, DX
	JMP     mx16

mxtail:
	TESTQ   DX, DX
	JZ      mxdone
	MOVQ    DX, CX
	MOVL    $1, R8
	SHLL    CX, R8
	DECL    R8
	KMOVW   R8, K1
	VMOVAPS Z0, Z2
	XORQ    R13, R13

mxtailtap:
	MOVLQSX   (R10)(R13*4), R12
	LEAQ      (SI)(R12*4), R12
	ADDQ      AX, R12
	VMOVUPS.Z (R12), K1, Z11
	VCMPPS    $3, Z11, Z11, K2
	KORW      K2, K3, K3
	VMAXPS    Z2, Z11, Z2
	INCQ      R13
	CMPQ      R13, R14
	JLT       mxtailtap
	VMOVUPS   Z2, K1, (DI)(AX*1)

mxdone:
	KORTESTW K3, K3
	SETNE    sawNaN+40(FP)
	VZEROUPPER
	RET
