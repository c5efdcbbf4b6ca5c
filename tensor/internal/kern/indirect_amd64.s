//go:build amd64 && !purego

#include "textflag.h"
#include "transpose_amd64.h"
#include "indirect_amd64.h"

// Indirect-B micro-kernels for SgemmIndirectB. Each computes the R×16 tile
//
//	C = A·B
//
// where A is a packed micro-panel (element (i, p) at a[p*R+i]) and row p of
// B is the 16 floats at src + 4·offs[p]: one step of k loads the row's
// offset, two ymm of B from it, broadcasts R values of A and issues 2·R
// FMAs into the accumulators Y0..Y(2R−1). C (row stride ldc bytes) is
// overwritten, never read. Register use follows sgemm6x16.

// IND loads B row u (offset offs[u]) into Y12, Y13.
#define INDB(u) \
	MOVLQSX u*4(R8), R13; \
	VMOVUPS (BX)(R13*4), Y12; \
	VMOVUPS 32(BX)(R13*4), Y13

// INDROWS2 broadcasts A elements at byte offsets o and o+4 and updates
// accumulator rows r0 (Y r0a, r0b) and r1 (Y r1a, r1b).
#define INDROWS2(o, r0a, r0b, r1a, r1b) \
	VBROADCASTSS o(AX), Y14; \
	VBROADCASTSS o+4(AX), Y15; \
	VFMADD231PS  Y12, Y14, r0a; \
	VFMADD231PS  Y13, Y14, r0b; \
	VFMADD231PS  Y12, Y15, r1a; \
	VFMADD231PS  Y13, Y15, r1b

#define IND6(u) \
	INDB(u); \
	INDROWS2(u*24, Y0, Y1, Y2, Y3); \
	INDROWS2(u*24+8, Y4, Y5, Y6, Y7); \
	INDROWS2(u*24+16, Y8, Y9, Y10, Y11)

#define IND4(u) \
	INDB(u); \
	INDROWS2(u*16, Y0, Y1, Y2, Y3); \
	INDROWS2(u*16+8, Y4, Y5, Y6, Y7)

#define IND2(u) \
	INDB(u); \
	INDROWS2(u*8, Y0, Y1, Y2, Y3)

// func sgemmInd6x16(kc int, a *float32, src *float32, offs *int32, c *float32, ldc uintptr)
TEXT ·sgemmInd6x16(SB), NOSPLIT, $0-48
	INDARGS
	INDZERO12
	INDLOOP(IND6, 24, i6loop4, i6tail, i6loop1, i6done)
	INDSTORE6
	VZEROUPPER
	RET

// func sgemmInd4x16(kc int, a *float32, src *float32, offs *int32, c *float32, ldc uintptr)
TEXT ·sgemmInd4x16(SB), NOSPLIT, $0-48
	INDARGS
	INDZERO8
	INDLOOP(IND4, 16, i4loop4, i4tail, i4loop1, i4done)
	INDSTORE4
	VZEROUPPER
	RET

// func sgemmInd2x16(kc int, a *float32, src *float32, offs *int32, c *float32, ldc uintptr)
TEXT ·sgemmInd2x16(SB), NOSPLIT, $0-48
	INDARGS
	INDZERO4
	INDLOOP(IND2, 8, i2loop4, i2tail, i2loop1, i2done)
	INDSTORE2
	VZEROUPPER
	RET

// func packB8TRows(dst, src *float32, offs *int32, k8 int)
//
// packB8T with a row offset each: rows i = 0..7 of the stored B start at
// src + 4·offs[i]; eight floats of each are transposed per step into
// eight 8-float groups of the 16-wide panel (stride 64 bytes).
TEXT ·packB8TRows(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ offs+16(FP), R8
	MOVQ k8+24(FP), CX
	MOVLQSX 0(R8), AX
	MOVLQSX 4(R8), BX
	MOVLQSX 8(R8), DX
	MOVLQSX 12(R8), R9
	MOVLQSX 16(R8), R10
	MOVLQSX 20(R8), R11
	MOVLQSX 24(R8), R12
	MOVLQSX 28(R8), R13
	LEAQ (SI)(AX*4), AX
	LEAQ (SI)(BX*4), BX
	LEAQ (SI)(DX*4), DX
	LEAQ (SI)(R9*4), R9
	LEAQ (SI)(R10*4), R10
	LEAQ (SI)(R11*4), R11
	LEAQ (SI)(R12*4), R12
	LEAQ (SI)(R13*4), R13
	XORQ SI, SI
	TESTQ CX, CX
	JZ   pbrdone

pbrloop:
	VMOVUPS (AX)(SI*1), Y0
	VMOVUPS (BX)(SI*1), Y1
	VMOVUPS (DX)(SI*1), Y2
	VMOVUPS (R9)(SI*1), Y3
	VMOVUPS (R10)(SI*1), Y4
	VMOVUPS (R11)(SI*1), Y5
	VMOVUPS (R12)(SI*1), Y6
	VMOVUPS (R13)(SI*1), Y7

	TRANSPOSE8X8(DI)

	ADDQ $32, SI
	ADDQ $512, DI
	DECQ CX
	JNZ  pbrloop

pbrdone:
	VZEROUPPER
	RET
