// Shared by the AVX2 and AVX-512 indirect-B kernels: argument loading and
// the k loop. Registers: SI = kc, AX = A, BX = src, R8 = offs, CX = C,
// DX = ldc in bytes, R11 = C + 3·ldc, DI = loop counter.

// INDLOOP runs the k loop, four steps at a time then one at a time, with
// STEP the per-row-count macro and ASTEP the bytes of A per step.
#define INDLOOP(STEP, ASTEP, loop4, tail, loop1, done) \
	MOVQ  SI, DI; \
	SHRQ  $2, DI; \
	ANDQ  $3, SI; \
	TESTQ DI, DI; \
	JZ    tail; \
loop4: \
	STEP(0); \
	STEP(1); \
	STEP(2); \
	STEP(3); \
	ADDQ  $(4*ASTEP), AX; \
	ADDQ  $16, R8; \
	DECQ  DI; \
	JNZ   loop4; \
tail: \
	TESTQ SI, SI; \
	JZ    done; \
loop1: \
	STEP(0); \
	ADDQ  $ASTEP, AX; \
	ADDQ  $4, R8; \
	DECQ  SI; \
	JNZ   loop1; \
done:

#define INDARGS \
	MOVQ kc+0(FP), SI; \
	MOVQ a+8(FP), AX; \
	MOVQ src+16(FP), BX; \
	MOVQ offs+24(FP), R8; \
	MOVQ c+32(FP), CX; \
	MOVQ ldc+40(FP), DX; \
	LEAQ (CX)(DX*2), R11; \
	ADDQ DX, R11

// INDZERO4/8/12 clear the accumulators Y0..Y3, Y0..Y7, Y0..Y11.
#define INDZERO4 \
	VXORPS Y0, Y0, Y0; \
	VXORPS Y1, Y1, Y1; \
	VXORPS Y2, Y2, Y2; \
	VXORPS Y3, Y3, Y3

#define INDZERO8 \
	INDZERO4; \
	VXORPS Y4, Y4, Y4; \
	VXORPS Y5, Y5, Y5; \
	VXORPS Y6, Y6, Y6; \
	VXORPS Y7, Y7, Y7

#define INDZERO12 \
	INDZERO8; \
	VXORPS Y8, Y8, Y8; \
	VXORPS Y9, Y9, Y9; \
	VXORPS Y10, Y10, Y10; \
	VXORPS Y11, Y11, Y11

// INDSTORE2/4/6 store the accumulators of 2, 4 or 6 rows of 16 at CX
// (rows 3..5 through R11 = CX + 3·ldc).
#define INDSTORE2 \
	VMOVUPS Y0, (CX); \
	VMOVUPS Y1, 32(CX); \
	VMOVUPS Y2, (CX)(DX*1); \
	VMOVUPS Y3, 32(CX)(DX*1)

#define INDSTORE4 \
	INDSTORE2; \
	VMOVUPS Y4, (CX)(DX*2); \
	VMOVUPS Y5, 32(CX)(DX*2); \
	VMOVUPS Y6, (R11); \
	VMOVUPS Y7, 32(R11)

#define INDSTORE6 \
	INDSTORE4; \
	VMOVUPS Y8, (R11)(DX*1); \
	VMOVUPS Y9, 32(R11)(DX*1); \
	VMOVUPS Y10, (R11)(DX*2); \
	VMOVUPS Y11, 32(R11)(DX*2)
