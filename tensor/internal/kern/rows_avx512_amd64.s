//go:build amd64 && !purego

#include "textflag.h"

// Row-by-row element kernels over a whole plane, 16 floats per step and
// the last cols mod 16 of each row through the mask K1 (zeroing loads,
// masked stores), so a convolution's per-row copies cost one call per
// plane instead of one (with a Go tail) per row.
//
// Registers: DI dst row, SI/DX source rows, R8 dst stride, R9 source
// stride (bytes), CX rows left, R10 full steps per row, R11 their counter,
// AX the byte offset in the row.

// func addBiasRowsAVX512(dst *float32, dstStride uintptr, src *float32, srcStride uintptr, rows, cols int, b float32, relu bool, mask uint64)
//
// dst row r = src row r + b, rectified when relu as addBiasAVX2 does it
// (max(0, v) keeps a NaN; adding +0 turns −0 into +0).
TEXT ·addBiasRowsAVX512(SB), NOSPLIT, $0-64
	MOVQ         dst+0(FP), DI
	MOVQ         dstStride+8(FP), R8
	MOVQ         src+16(FP), SI
	MOVQ         srcStride+24(FP), R9
	MOVQ         rows+32(FP), CX
	MOVQ         cols+40(FP), R10
	SHRQ         $4, R10
	VBROADCASTSS b+48(FP), Z0
	VPXORD       Z1, Z1, Z1
	MOVQ         mask+56(FP), AX
	KMOVW        AX, K1
	MOVBLZX      relu+52(FP), DX
	TESTQ        CX, CX
	JZ           abdone

abrow:
	XORQ  AX, AX
	MOVQ  R10, R11
	TESTQ R11, R11
	JZ    abtail

abfull:
	VADDPS  (SI)(AX*1), Z0, Z2
	TESTQ   DX, DX
	JZ      abstore
	VMAXPS  Z2, Z1, Z2
	VADDPS  Z1, Z2, Z2

abstore:
	VMOVUPS Z2, (DI)(AX*1)
	ADDQ    $64, AX
	DECQ    R11
	JNZ     abfull

abtail:
	KORTESTW K1, K1
	JZ       abnext
	VMOVUPS.Z (SI)(AX*1), K1, Z2
	VADDPS   Z0, Z2, Z2
	TESTQ    DX, DX
	JZ       abtailstore
	VMAXPS   Z2, Z1, Z2
	VADDPS   Z1, Z2, Z2

abtailstore:
	VMOVUPS Z2, K1, (DI)(AX*1)

abnext:
	ADDQ R8, DI
	ADDQ R9, SI
	DECQ CX
	JNZ  abrow

abdone:
	VZEROUPPER
	RET

// func spreadRowsAVX512(dst *float32, dstStride uintptr, grad, y *float32, srcStride uintptr, rows, cols int, mask uint64) (sum float32)
//
// dst row r = grad row r, masked where y is not nil by reluGradAVX2's rule
// (dst = g AND (−bits(y) >> 31, arithmetic)), and returns the sum of all
// it wrote: per lane in order of rows and steps, then the lanes added
// pairwise (halves, 128-bit blocks, pairs, neighbours).
TEXT ·spreadRowsAVX512(SB), NOSPLIT, $0-68
	MOVQ   dst+0(FP), DI
	MOVQ   dstStride+8(FP), R8
	MOVQ   grad+16(FP), SI
	MOVQ   y+24(FP), DX
	MOVQ   srcStride+32(FP), R9
	MOVQ   rows+40(FP), CX
	MOVQ   cols+48(FP), R10
	SHRQ   $4, R10
	MOVQ   mask+56(FP), AX
	KMOVW  AX, K1
	VPXORD Z1, Z1, Z1
	VPXORD Z3, Z3, Z3
	TESTQ  CX, CX
	JZ     spsum

sprow:
	XORQ  AX, AX
	MOVQ  R10, R11
	TESTQ R11, R11
	JZ    sptail

spfull:
	VMOVUPS (SI)(AX*1), Z2
	TESTQ   DX, DX
	JZ      spstore
	VMOVDQU32 (DX)(AX*1), Z4
	VPSUBD  Z4, Z1, Z4
	VPSRAD  $31, Z4, Z4
	VPANDD  Z4, Z2, Z2

spstore:
	VMOVUPS Z2, (DI)(AX*1)
	VADDPS  Z2, Z3, Z3
	ADDQ    $64, AX
	DECQ    R11
	JNZ     spfull

sptail:
	KORTESTW K1, K1
	JZ       spnext
	VMOVUPS.Z (SI)(AX*1), K1, Z2
	TESTQ    DX, DX
	JZ       sptailstore
	VMOVDQU32.Z (DX)(AX*1), K1, Z4
	VPSUBD   Z4, Z1, Z4
	VPSRAD   $31, Z4, Z4
	VPANDD   Z4, Z2, Z2

sptailstore:
	VMOVUPS Z2, K1, (DI)(AX*1)
	VADDPS  Z2, Z3, Z3

spnext:
	ADDQ  R8, DI
	ADDQ  R9, SI
	TESTQ DX, DX
	JZ    spnoy
	ADDQ  R9, DX

spnoy:
	DECQ CX
	JNZ  sprow

spsum:
	VSHUFF32X4 $0x4E, Z3, Z3, Z2
	VADDPS     Z2, Z3, Z3
	VSHUFF32X4 $0xB1, Z3, Z3, Z2
	VADDPS     Z2, Z3, Z3
	VPERMILPS  $0x4E, Z3, Z2
	VADDPS     Z2, Z3, Z3
	VPERMILPS  $0xB1, Z3, Z2
	VADDPS     Z2, Z3, Z3
	VMOVSS     X3, sum+64(FP)
	VZEROUPPER
	RET
