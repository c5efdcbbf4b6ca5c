//go:build amd64 && !purego

#include "textflag.h"

// The row-by-row plane kernels of rows_avx512_amd64.s with AVX2: 16
// floats per step in two ymm, the last cols mod 16 of each row through
// the VMASKMOVPS masks in Y4 (first 8) and Y5 (next 8), which zero what
// they load and store nothing outside them.
//
// Registers: DI dst row, SI/DX source rows, R8 dst stride, R9 source
// stride (bytes), CX rows left, R10 full steps per row, R11 their counter,
// BX the tail's length (cols mod 16), AX the byte offset in the row.

// ADDB2 adds the bias Y0 to Y2 and Y3 and, when DX ≠ 0, rectifies them
// (max(0, v) keeps a NaN; adding +0 turns −0 into +0).
#define ADDB2(skip) \
	VADDPS Y0, Y2, Y2; \
	VADDPS Y0, Y3, Y3; \
	TESTQ  DX, DX; \
	JZ     skip; \
	VMAXPS Y2, Y1, Y2; \
	VMAXPS Y3, Y1, Y3; \
	VADDPS Y1, Y2, Y2; \
	VADDPS Y1, Y3, Y3

// func addBiasRowsAVX2(dst *float32, dstStride uintptr, src *float32, srcStride uintptr, rows, cols int, b float32, relu bool, masks *int32, masks2 *int32)
//
// dst row r = src row r + b, rectified when relu, as addBiasRowsAVX512
// does it; masks and masks2 point at the tail's two VMASKMOVPS masks.
TEXT ·addBiasRowsAVX2(SB), NOSPLIT, $0-72
	MOVQ         dst+0(FP), DI
	MOVQ         dstStride+8(FP), R8
	MOVQ         src+16(FP), SI
	MOVQ         srcStride+24(FP), R9
	MOVQ         rows+32(FP), CX
	MOVQ         cols+40(FP), R10
	MOVQ         R10, BX
	ANDQ         $15, BX
	SHRQ         $4, R10
	VBROADCASTSS b+48(FP), Y0
	VXORPS       Y1, Y1, Y1
	MOVQ         masks+56(FP), AX
	VMOVUPS      (AX), Y4
	MOVQ         masks2+64(FP), AX
	VMOVUPS      (AX), Y5
	MOVBLZX      relu+52(FP), DX
	TESTQ        CX, CX
	JZ           abdone

abrow:
	XORQ  AX, AX
	MOVQ  R10, R11
	TESTQ R11, R11
	JZ    abtail

abfull:
	VMOVUPS (SI)(AX*1), Y2
	VMOVUPS 32(SI)(AX*1), Y3
	ADDB2(abstore)

abstore:
	VMOVUPS Y2, (DI)(AX*1)
	VMOVUPS Y3, 32(DI)(AX*1)
	ADDQ    $64, AX
	DECQ    R11
	JNZ     abfull

abtail:
	TESTQ BX, BX
	JZ    abnext
	VMASKMOVPS (SI)(AX*1), Y4, Y2
	VMASKMOVPS 32(SI)(AX*1), Y5, Y3
	ADDB2(abtailstore)

abtailstore:
	VMASKMOVPS Y2, Y4, (DI)(AX*1)
	VMASKMOVPS Y3, Y5, 32(DI)(AX*1)

abnext:
	ADDQ R8, DI
	ADDQ R9, SI
	DECQ CX
	JNZ  abrow

abdone:
	VZEROUPPER
	RET

// RELUMASK2 keeps Y2 and Y3 where the rectifier outputs Y6, Y7 are
// positive (reluGradAVX2's rule: AND with −bits(y) >> 31, arithmetic).
#define RELUMASK2 \
	VPSUBD Y6, Y1, Y6; \
	VPSUBD Y7, Y1, Y7; \
	VPSRAD $31, Y6, Y6; \
	VPSRAD $31, Y7, Y7; \
	VPAND  Y6, Y2, Y2; \
	VPAND  Y7, Y3, Y3

// func spreadRowsAVX2(dst *float32, dstStride uintptr, grad, y *float32, srcStride uintptr, rows, cols int, masks *int32, masks2 *int32) (sum float32)
//
// spreadRowsAVX512 with the sum's 16 lanes in Y8 (0–7) and Y9 (8–15),
// added at the end as sumLanes does: Y8+Y9, then 128-bit halves, then
// pairs, then neighbours.
TEXT ·spreadRowsAVX2(SB), NOSPLIT, $0-76
	MOVQ    dst+0(FP), DI
	MOVQ    dstStride+8(FP), R8
	MOVQ    grad+16(FP), SI
	MOVQ    y+24(FP), DX
	MOVQ    srcStride+32(FP), R9
	MOVQ    rows+40(FP), CX
	MOVQ    cols+48(FP), R10
	MOVQ    R10, BX
	ANDQ    $15, BX
	SHRQ    $4, R10
	MOVQ    masks+56(FP), AX
	VMOVUPS (AX), Y4
	MOVQ    masks2+64(FP), AX
	VMOVUPS (AX), Y5
	VXORPS  Y1, Y1, Y1
	VXORPS  Y8, Y8, Y8
	VXORPS  Y9, Y9, Y9
	TESTQ   CX, CX
	JZ      spsum

sprow:
	XORQ  AX, AX
	MOVQ  R10, R11
	TESTQ R11, R11
	JZ    sptail

spfull:
	VMOVUPS (SI)(AX*1), Y2
	VMOVUPS 32(SI)(AX*1), Y3
	TESTQ   DX, DX
	JZ      spstore
	VMOVUPS (DX)(AX*1), Y6
	VMOVUPS 32(DX)(AX*1), Y7
	RELUMASK2

spstore:
	VMOVUPS Y2, (DI)(AX*1)
	VMOVUPS Y3, 32(DI)(AX*1)
	VADDPS  Y2, Y8, Y8
	VADDPS  Y3, Y9, Y9
	ADDQ    $64, AX
	DECQ    R11
	JNZ     spfull

sptail:
	TESTQ BX, BX
	JZ    spnext
	VMASKMOVPS (SI)(AX*1), Y4, Y2
	VMASKMOVPS 32(SI)(AX*1), Y5, Y3
	TESTQ DX, DX
	JZ    sptailstore
	VMASKMOVPS (DX)(AX*1), Y4, Y6
	VMASKMOVPS 32(DX)(AX*1), Y5, Y7
	RELUMASK2

sptailstore:
	VMASKMOVPS Y2, Y4, (DI)(AX*1)
	VMASKMOVPS Y3, Y5, 32(DI)(AX*1)
	VADDPS     Y2, Y8, Y8
	VADDPS     Y3, Y9, Y9

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
	VADDPS       Y9, Y8, Y8
	VEXTRACTF128 $1, Y8, X9
	VADDPS       X9, X8, X8
	VPERMILPS    $0x4E, X8, X9
	VADDPS       X9, X8, X8
	VPERMILPS    $0xB1, X8, X9
	VADDPS       X9, X8, X8
	VMOVSS       X8, sum+72(FP)
	VZEROUPPER
	RET
