//go:build amd64 && !purego

#include "textflag.h"

// The LSTM cell's backward (LSTMGateGrads) with AVX2, eight units at a
// time for n a multiple of 8 (the caller does the rest in Go): the
// AVX-512 passes' operations in the same order (the Go loop's: separate
// multiplies, adds and subtracts, no FMA), so the results are
// bit-identical to it. Y15 holds 1.0.

// PASS1 does one step of pass 1 at byte offset SI.
#define PASS1 \
	VMOVUPS (AX)(SI*1), Y3; \
	VMOVUPS (BX)(SI*1), Y4; \
	VMOVUPS (CX)(SI*1), Y6; \
	VMOVUPS (DX)(SI*1), Y7; \
	VMOVUPS (R8)(SI*1), Y8; \
	VADDPS    Y7, Y6, Y9; \
	VMULPS    Y4, Y4, Y10; \
	VSUBPS    Y10, Y15, Y10; \
	VMULPS    Y3, Y9, Y11; \
	VMULPS    Y10, Y11, Y11; \
	VADDPS    Y11, Y8, Y12; \
	VMULPS    Y4, Y9, Y13; \
	VMULPS    Y3, Y13, Y13; \
	VSUBPS    Y3, Y15, Y14; \
	VMULPS    Y14, Y13, Y13; \
	VMOVUPS   Y13, (R9)(SI*1); \
	VMOVUPS   Y12, (R8)(SI*1)

// PASS2 does one step of pass 2 at byte offset SI.
#define PASS2 \
	VMOVUPS (AX)(SI*1), Y0; \
	VMOVUPS (BX)(SI*1), Y1; \
	VMOVUPS (CX)(SI*1), Y2; \
	VMOVUPS (DX)(SI*1), Y5; \
	VMOVUPS (R8)(SI*1), Y12; \
	VMULPS    Y2, Y12, Y13; \
	VMULPS    Y0, Y13, Y13; \
	VSUBPS    Y0, Y15, Y14; \
	VMULPS    Y14, Y13, Y13; \
	VMOVUPS   Y13, (R9)(SI*1); \
	VMULPS    Y5, Y12, Y13; \
	VMULPS    Y1, Y13, Y13; \
	VSUBPS    Y1, Y15, Y14; \
	VMULPS    Y14, Y13, Y13; \
	VMOVUPS   Y13, (R10)(SI*1); \
	VMULPS    Y0, Y12, Y13; \
	VMULPS    Y2, Y2, Y14; \
	VSUBPS    Y14, Y15, Y14; \
	VMULPS    Y14, Y13, Y13; \
	VMOVUPS   Y13, (R11)(SI*1); \
	VMULPS    Y1, Y12, Y13; \
	VMOVUPS   Y13, (R8)(SI*1)

// func lstmGradsPass1AVX2(n int, ao, tc, dhRec, dhOut, dc, do *float32)
//
// dh = dhRec + dhOut; do = dh·t·o·(1−o); dc = dc + dh·o·(1−t·t).
TEXT ·lstmGradsPass1AVX2(SB), NOSPLIT, $0-56
	MOVQ n+0(FP), DI
	MOVQ ao+8(FP), AX
	MOVQ tc+16(FP), BX
	MOVQ dhRec+24(FP), CX
	MOVQ dhOut+32(FP), DX
	MOVQ dc+40(FP), R8
	MOVQ do+48(FP), R9
	MOVL $0x3f800000, R10
	MOVQ R10, X15
	VBROADCASTSS X15, Y15
	XORQ SI, SI
	SHRQ $3, DI
	JZ   p1done

p1loop:
	PASS1
	ADDQ $32, SI
	DECQ DI
	JNZ  p1loop

p1done:
	VZEROUPPER
	RET

// func lstmGradsPass2AVX2(n int, ai, af, ag, cPrev, dc, di, df, dg *float32)
//
// With dc = dct from pass 1: di = dct·g·i·(1−i); df = dct·cPrev·f·(1−f);
// dg = dct·i·(1−g·g); dc = dct·f.
TEXT ·lstmGradsPass2AVX2(SB), NOSPLIT, $0-72
	MOVQ n+0(FP), DI
	MOVQ ai+8(FP), AX
	MOVQ af+16(FP), BX
	MOVQ ag+24(FP), CX
	MOVQ cPrev+32(FP), DX
	MOVQ dc+40(FP), R8
	MOVQ di+48(FP), R9
	MOVQ df+56(FP), R10
	MOVQ dg+64(FP), R11
	MOVL $0x3f800000, R12
	MOVQ R12, X15
	VBROADCASTSS X15, Y15
	XORQ SI, SI
	SHRQ $3, DI
	JZ   p2done

p2loop:
	PASS2
	ADDQ $32, SI
	DECQ DI
	JNZ  p2loop

p2done:
	VZEROUPPER
	RET
