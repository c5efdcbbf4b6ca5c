//go:build amd64 && !purego

#include "textflag.h"

#define RELU(x) VMAXPS x, Y1, x; VADDPS Y1, x, x
#define BOUND(x) VMINPS x, Y13, x

// func biasRowsAVX2(c *float32, ldc uintptr, rows, cols int, bias *float32, flags int, bound float32, mask *int32)
//
// biasRowsAVX512 with ymm: 8 floats per step, the last cols mod 8
// through the VMASKMOVPS mask at mask.
TEXT ·biasRowsAVX2(SB), NOSPLIT, $0-64
	MOVQ         c+0(FP), DI
	MOVQ         ldc+8(FP), R8
	MOVQ         rows+16(FP), CX
	MOVQ         cols+24(FP), R10
	SHRQ         $3, R10
	MOVQ         bias+32(FP), SI
	MOVQ         flags+40(FP), DX
	VBROADCASTSS bound+48(FP), Y13
	MOVQ         mask+56(FP), AX
	VMOVDQU      (AX), Y12
	MOVQ         cols+24(FP), R9
	ANDQ         $7, R9
	VXORPS       Y1, Y1, Y1
	TESTQ        CX, CX
	JZ           bsdone

bsrow:
	TESTQ        $1, DX
	JZ           bsnobias
	VBROADCASTSS (SI), Y0
	ADDQ         $4, SI

bsnobias:
	XORQ  AX, AX
	MOVQ  R10, R11
	TESTQ R11, R11
	JZ    bstail

bsfull:
	VMOVUPS (DI)(AX*1), Y2
	TESTQ $1, DX
	JZ    bsfull_r
	VADDPS Y0, Y2, Y2

bsfull_r:
	TESTQ $2, DX
	JZ    bsfull_b
	RELU(Y2)

bsfull_b:
	TESTQ $4, DX
	JZ    bsfull_s
	BOUND(Y2)

bsfull_s:
	VMOVUPS Y2, (DI)(AX*1)
	ADDQ    $32, AX
	DECQ    R11
	JNZ     bsfull

bstail:
	TESTQ R9, R9
	JZ    bsnext
bsmask:
	VMASKMOVPS (DI)(AX*1), Y12, Y2
	TESTQ $1, DX
	JZ    bsmask_r
	VADDPS Y0, Y2, Y2

bsmask_r:
	TESTQ $2, DX
	JZ    bsmask_b
	RELU(Y2)

bsmask_b:
	TESTQ $4, DX
	JZ    bsmask_s
	BOUND(Y2)

bsmask_s:
	VMASKMOVPS Y2, Y12, (DI)(AX*1)

bsnext:
	ADDQ R8, DI
	DECQ CX
	JNZ  bsrow

bsdone:
	VZEROUPPER
	RET
