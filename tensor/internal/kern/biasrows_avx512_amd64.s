//go:build amd64 && !purego

#include "textflag.h"

#define RELU(x) VMAXPS x, Z1, x; VADDPS Z1, x, x
#define BOUND(x) VMINPS x, Z13, x

// func biasRowsAVX512(c *float32, ldc uintptr, rows, cols int, bias *float32, flags int, bound float32, mask uint64)
//
// BiasRows: each row of c gets, in place, its bias bias[r] added (flags
// bit 0), the rectifier (bit 1: max with +0, a NaN kept, then +0 added
// so −0 becomes +0) and the bound (bit 2: VMINPS with the bound as first
// source, a NaN kept). 16 floats per step, the last cols mod 16 through
// the mask K1.
TEXT ·biasRowsAVX512(SB), NOSPLIT, $0-64
	MOVQ         c+0(FP), DI
	MOVQ         ldc+8(FP), R8
	MOVQ         rows+16(FP), CX
	MOVQ         cols+24(FP), R10
	SHRQ         $4, R10
	MOVQ         bias+32(FP), SI
	MOVQ         flags+40(FP), DX
	VBROADCASTSS bound+48(FP), Z13
	MOVQ         mask+56(FP), AX
	KMOVW        AX, K1
	VPXORD       Z1, Z1, Z1
	TESTQ        CX, CX
	JZ           brdone

brrow:
	TESTQ        $1, DX
	JZ           brnobias
	VBROADCASTSS (SI), Z0
	ADDQ         $4, SI

brnobias:
	XORQ  AX, AX
	MOVQ  R10, R11
	TESTQ R11, R11
	JZ    brtail

brfull:
	VMOVUPS (DI)(AX*1), Z2
	TESTQ $1, DX
	JZ    brfull_r
	VADDPS Z0, Z2, Z2

brfull_r:
	TESTQ $2, DX
	JZ    brfull_b
	RELU(Z2)

brfull_b:
	TESTQ $4, DX
	JZ    brfull_s
	BOUND(Z2)

brfull_s:
	VMOVUPS Z2, (DI)(AX*1)
	ADDQ    $64, AX
	DECQ    R11
	JNZ     brfull

brtail:
	KORTESTW K1, K1
	JZ       brnext
brmask:
	VMOVUPS.Z (DI)(AX*1), K1, Z2
	TESTQ $1, DX
	JZ    brmask_r
	VADDPS Z0, Z2, Z2

brmask_r:
	TESTQ $2, DX
	JZ    brmask_b
	RELU(Z2)

brmask_b:
	TESTQ $4, DX
	JZ    brmask_s
	BOUND(Z2)

brmask_s:
	VMOVUPS Z2, K1, (DI)(AX*1)

brnext:
	ADDQ R8, DI
	DECQ CX
	JNZ  brrow

brdone:
	VZEROUPPER
	RET
