//go:build amd64 && !purego

#include "textflag.h"

// func adamAVX512(n int, w, grad, m, v *float32, c *[8]float32, mask uint64)
//
// Adam's update (AdamUpdate) sixteen weights at a time, the last n mod 16
// through the mask K1, with the Go loop's operations in its order
// (separate multiplies and adds; VSQRTPS is the correctly rounded square
// root, as float32(math.Sqrt(float64(v))) is), so the two give the same
// bits. c holds b1, 1−b1, b2, 1−b2, l2, stepSize, 1/√bc2, eps.
#define ADAMSTEP(km) \
	VMOVUPS.Z (AX)(SI*1), km, Z0; \
	VMOVUPS.Z (BX)(SI*1), km, Z1; \
	VMOVUPS.Z (CX)(SI*1), km, Z2; \
	VMOVUPS.Z (DX)(SI*1), km, Z3; \
	VMULPS    Z0, Z28, Z4; \
	VADDPS    Z4, Z1, Z4; \
	VMULPS    Z2, Z24, Z5; \
	VMULPS    Z4, Z25, Z6; \
	VADDPS    Z6, Z5, Z5; \
	VMULPS    Z3, Z26, Z6; \
	VMULPS    Z4, Z27, Z7; \
	VMULPS    Z4, Z7, Z7; \
	VADDPS    Z7, Z6, Z6; \
	VMOVUPS   Z5, km, (CX)(SI*1); \
	VMOVUPS   Z6, km, (DX)(SI*1); \
	VSQRTPS   Z6, Z7; \
	VMULPS    Z30, Z7, Z7; \
	VADDPS    Z31, Z7, Z7; \
	VMULPS    Z5, Z29, Z8; \
	VDIVPS    Z7, Z8, Z8; \
	VSUBPS    Z8, Z0, Z0; \
	VMOVUPS   Z0, km, (AX)(SI*1)

TEXT ·adamAVX512(SB), NOSPLIT, $0-56
	MOVQ n+0(FP), DI
	MOVQ w+8(FP), AX
	MOVQ grad+16(FP), BX
	MOVQ m+24(FP), CX
	MOVQ v+32(FP), DX
	MOVQ c+40(FP), R8
	VBROADCASTSS 0(R8), Z24  // b1
	VBROADCASTSS 4(R8), Z25  // 1−b1
	VBROADCASTSS 8(R8), Z26  // b2
	VBROADCASTSS 12(R8), Z27 // 1−b2
	VBROADCASTSS 16(R8), Z28 // l2
	VBROADCASTSS 20(R8), Z29 // stepSize
	VBROADCASTSS 24(R8), Z30 // 1/√bc2
	VBROADCASTSS 28(R8), Z31 // eps
	MOVQ   mask+48(FP), R9
	KMOVW  R9, K1
	KXNORW K2, K2, K2
	XORQ   SI, SI
	SHRQ   $4, DI
	JZ     tail

loop:
	ADAMSTEP(K2)
	ADDQ $64, SI
	DECQ DI
	JNZ  loop

tail:
	KORTESTW K1, K1
	JZ       done
	ADAMSTEP(K1)

done:
	VZEROUPPER
	RET
