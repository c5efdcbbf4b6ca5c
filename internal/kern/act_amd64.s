//go:build amd64 && !purego

#include "textflag.h"

// func addBiasAVX2(dst, src *float32, n int, b float32, relu bool)
// n is a multiple of 8. With relu: max(0, v) returns v when v is NaN (the
// second source), as Go's max does, and adding +0 turns −0 into +0.
TEXT ·addBiasAVX2(SB), NOSPLIT, $0-29
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS b+24(FP), Y0
	VXORPS       Y1, Y1, Y1
	MOVBLZX      relu+28(FP), AX
	TESTQ        AX, AX
	JNZ          relu8

plain8:
	VADDPS  (SI), Y0, Y2
	VMOVUPS Y2, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNZ     plain8
	VZEROUPPER
	RET

relu8:
	VADDPS  (SI), Y0, Y2
	VMAXPS  Y2, Y1, Y2
	VADDPS  Y1, Y2, Y2
	VMOVUPS Y2, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNZ     relu8
	VZEROUPPER
	RET

// func reluGradAVX2(dst, grad, y *float32, n int)
// n is a multiple of 8: dst = grad AND (−bits(y) >> 31, arithmetic).
TEXT ·reluGradAVX2(SB), NOSPLIT, $0-32
	MOVQ   dst+0(FP), DI
	MOVQ   grad+8(FP), SI
	MOVQ   y+16(FP), DX
	MOVQ   n+24(FP), CX
	VPXOR  Y1, Y1, Y1

mask8:
	VMOVDQU (DX), Y2
	VPSUBD  Y2, Y1, Y2
	VPSRAD  $31, Y2, Y2
	VPAND   (SI), Y2, Y2
	VMOVDQU Y2, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNZ     mask8
	VZEROUPPER
	RET
