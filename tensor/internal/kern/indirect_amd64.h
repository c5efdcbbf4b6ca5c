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
