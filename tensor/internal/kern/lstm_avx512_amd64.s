//go:build amd64 && !purego

#include "textflag.h"

// The LSTM cell's backward (LSTMGateGrads) sixteen units at a time, the
// last n mod 16 through the mask K1, in two passes so each fits the
// general registers. Every value is computed with the Go loop's
// operations in its order (separate multiplies, adds and subtracts, no
// FMA), so the results are bit-identical to it. Z31 holds 1.0.

// PASS1 does one step of pass 1 at byte offset SI under the mask km.
#define PASS1(km) \
	VMOVUPS.Z (AX)(SI*1), km, Z3; \
	VMOVUPS.Z (BX)(SI*1), km, Z4; \
	VMOVUPS.Z (CX)(SI*1), km, Z6; \
	VMOVUPS.Z (DX)(SI*1), km, Z7; \
	VMOVUPS.Z (R8)(SI*1), km, Z8; \
	VADDPS    Z7, Z6, Z9; \
	VMULPS    Z4, Z4, Z10; \
	VSUBPS    Z10, Z31, Z10; \
	VMULPS    Z3, Z9, Z11; \
	VMULPS    Z10, Z11, Z11; \
	VADDPS    Z11, Z8, Z12; \
	VMULPS    Z4, Z9, Z13; \
	VMULPS    Z3, Z13, Z13; \
	VSUBPS    Z3, Z31, Z14; \
	VMULPS    Z14, Z13, Z13; \
	VMOVUPS   Z13, km, (R9)(SI*1); \
	VMOVUPS   Z12, km, (R8)(SI*1)

// PASS2 does one step of pass 2 at byte offset SI under the mask km.
#define PASS2(km) \
	VMOVUPS.Z (AX)(SI*1), km, Z0; \
	VMOVUPS.Z (BX)(SI*1), km, Z1; \
	VMOVUPS.Z (CX)(SI*1), km, Z2; \
	VMOVUPS.Z (DX)(SI*1), km, Z5; \
	VMOVUPS.Z (R8)(SI*1), km, Z12; \
	VMULPS    Z2, Z12, Z13; \
	VMULPS    Z0, Z13, Z13; \
	VSUBPS    Z0, Z31, Z14; \
	VMULPS    Z14, Z13, Z13; \
	VMOVUPS   Z13, km, (R9)(SI*1); \
	VMULPS    Z5, Z12, Z13; \
	VMULPS    Z1, Z13, Z13; \
	VSUBPS    Z1, Z31, Z14; \
	VMULPS    Z14, Z13, Z13; \
	VMOVUPS   Z13, km, (R10)(SI*1); \
	VMULPS    Z0, Z12, Z13; \
	VMULPS    Z2, Z2, Z14; \
	VSUBPS    Z14, Z31, Z14; \
	VMULPS    Z14, Z13, Z13; \
	VMOVUPS   Z13, km, (R11)(SI*1); \
	VMULPS    Z1, Z12, Z13; \
	VMOVUPS   Z13, km, (R8)(SI*1)

// func lstmGradsPass1(n int, ao, tc, dhRec, dhOut, dc, do *float32, mask uint64)
//
// dh = dhRec + dhOut; do = dh·t·o·(1−o); dc = dc + dh·o·(1−t·t).
TEXT ·lstmGradsPass1(SB), NOSPLIT, $0-64
	MOVQ  n+0(FP), DI
	MOVQ  ao+8(FP), AX
	MOVQ  tc+16(FP), BX
	MOVQ  dhRec+24(FP), CX
	MOVQ  dhOut+32(FP), DX
	MOVQ  dc+40(FP), R8
	MOVQ  do+48(FP), R9
	MOVQ  mask+56(FP), R10
	KMOVW R10, K1
	MOVL  $0x3f800000, R10
	VPBROADCASTD R10, Z31
	XORQ  SI, SI
	KXNORW K2, K2, K2 // all lanes
	SHRQ  $4, DI
	JZ    p1tail

p1loop:
	PASS1(K2)
	ADDQ  $64, SI
	DECQ  DI
	JNZ   p1loop

p1tail:
	KORTESTW K1, K1
	JZ    p1done
	PASS1(K1)

p1done:
	VZEROUPPER
	RET


// func lstmGradsPass2(n int, ai, af, ag, cPrev, dc, di, df, dg *float32, mask uint64)
//
// With dc = dct from pass 1: di = dct·g·i·(1−i); df = dct·cPrev·f·(1−f);
// dg = dct·i·(1−g·g); dc = dct·f.
TEXT ·lstmGradsPass2(SB), NOSPLIT, $0-80
	MOVQ  n+0(FP), DI
	MOVQ  ai+8(FP), AX
	MOVQ  af+16(FP), BX
	MOVQ  ag+24(FP), CX
	MOVQ  cPrev+32(FP), DX
	MOVQ  dc+40(FP), R8
	MOVQ  di+48(FP), R9
	MOVQ  df+56(FP), R10
	MOVQ  dg+64(FP), R11
	MOVQ  mask+72(FP), R12
	KMOVW R12, K1
	MOVL  $0x3f800000, R12
	VPBROADCASTD R12, Z31
	XORQ  SI, SI
	KXNORW K2, K2, K2
	SHRQ  $4, DI
	JZ    p2tail

p2loop:
	PASS2(K2)
	ADDQ  $64, SI
	DECQ  DI
	JNZ   p2loop

p2tail:
	KORTESTW K1, K1
	JZ    p2done
	PASS2(K1)

p2done:
	VZEROUPPER
	RET

