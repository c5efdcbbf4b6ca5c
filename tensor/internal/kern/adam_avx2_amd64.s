//go:build amd64 && !purego

#include "textflag.h"

// func adamAVX2(n int, w, grad, m, v *float32, c *[8]float32)
//
// adamAVX512 eight weights at a time for n a multiple of 8 (the caller
// does the rest in Go), with the same operations in the same order, so
// the bits are the Go loop's. c holds b1, 1−b1, b2, 1−b2, l2, stepSize,
// 1/√bc2, eps, broadcast into Y8..Y15.
TEXT ·adamAVX2(SB), NOSPLIT, $0-48
	MOVQ n+0(FP), DI
	MOVQ w+8(FP), AX
	MOVQ grad+16(FP), BX
	MOVQ m+24(FP), CX
	MOVQ v+32(FP), DX
	MOVQ c+40(FP), R8
	VBROADCASTSS 0(R8), Y8   // b1
	VBROADCASTSS 4(R8), Y9   // 1−b1
	VBROADCASTSS 8(R8), Y10  // b2
	VBROADCASTSS 12(R8), Y11 // 1−b2
	VBROADCASTSS 16(R8), Y12 // l2
	VBROADCASTSS 20(R8), Y13 // stepSize
	VBROADCASTSS 24(R8), Y14 // 1/√bc2
	VBROADCASTSS 28(R8), Y15 // eps
	XORQ SI, SI
	SHRQ $3, DI
	JZ   done

loop:
	VMOVUPS (AX)(SI*1), Y0
	VMOVUPS (BX)(SI*1), Y1
	VMOVUPS (CX)(SI*1), Y2
	VMOVUPS (DX)(SI*1), Y3
	VMULPS  Y0, Y12, Y4
	VADDPS  Y4, Y1, Y4
	VMULPS  Y2, Y8, Y5
	VMULPS  Y4, Y9, Y6
	VADDPS  Y6, Y5, Y5
	VMULPS  Y3, Y10, Y6
	VMULPS  Y4, Y11, Y7
	VMULPS  Y4, Y7, Y7
	VADDPS  Y7, Y6, Y6
	VMOVUPS Y5, (CX)(SI*1)
	VMOVUPS Y6, (DX)(SI*1)
	VSQRTPS Y6, Y7
	VMULPS  Y14, Y7, Y7
	VADDPS  Y15, Y7, Y7
	VMULPS  Y5, Y13, Y1
	VDIVPS  Y7, Y1, Y1
	VSUBPS  Y1, Y0, Y0
	VMOVUPS Y0, (AX)(SI*1)
	ADDQ    $32, SI
	DECQ    DI
	JNZ     loop

done:
	VZEROUPPER
	RET
