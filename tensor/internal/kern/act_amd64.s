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

// TANH8 turns Y(x) into tanh(x) using Y(x2), Y(q), Y(x0) as scratch; R8
// points at tanhTable (32 bytes per constant): clamp with NaN kept (the
// second source of VMAXPS/VMINPS is returned when either is NaN), then
// x·P(x²)/Q(x²) by Horner's rule with FMAs; where |x| was at least the
// clamp the result is ±1 exactly (with FMAs the rational function gives
// 1 − 2 ulp there).
#define TANH8(x, x2, q, x0) \
	VMOVAPS     x, x0; \
	VMAXPS      x, Y14, x; \
	VMINPS      x, Y15, x; \
	VMULPS      x, x, x2; \
	VMOVUPS     64(R8), q; \
	VFMADD213PS 96(R8), x2, q; \
	VFMADD213PS 128(R8), x2, q; \
	VFMADD213PS 160(R8), x2, q; \
	VFMADD213PS 192(R8), x2, q; \
	VFMADD213PS 224(R8), x2, q; \
	VFMADD213PS 256(R8), x2, q; \
	VMULPS      q, x, x; \
	VMOVUPS     288(R8), q; \
	VFMADD213PS 320(R8), x2, q; \
	VFMADD213PS 352(R8), x2, q; \
	VFMADD213PS 384(R8), x2, q; \
	VDIVPS      q, x, x; \
	VANDPS      480(R8), x0, x2; \
	VCMPPS      $0x0D, Y15, x2, x2; \
	VANDPS      512(R8), x0, x0; \
	VORPS       448(R8), x0, x0; \
	VBLENDVPS   x2, x0, x, x

// func tanhAVX2(dst, src *float32, n int, table *[17][8]float32, sigmoid bool)
// n is a multiple of 16; two independent groups of eight per step. For
// the sigmoid x is halved first and the result is ½·t + ½.
TEXT ·tanhAVX2(SB), NOSPLIT, $0-33
	MOVQ    dst+0(FP), DI
	MOVQ    src+8(FP), SI
	MOVQ    n+16(FP), CX
	MOVQ    table+24(FP), R8
	VMOVUPS 0(R8), Y15  // +clamp
	VMOVUPS 32(R8), Y14 // −clamp
	VMOVUPS 416(R8), Y13 // ½
	MOVBLZX sigmoid+32(FP), AX
	TESTQ   AX, AX
	JNZ     sig16

tanh16:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y3
	TANH8(Y0, Y1, Y2, Y6)
	TANH8(Y3, Y4, Y5, Y7)
	VMOVUPS Y0, (DI)
	VMOVUPS Y3, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	JNZ     tanh16
	VZEROUPPER
	RET

sig16:
	VMULPS      (SI), Y13, Y0
	VMULPS      32(SI), Y13, Y3
	TANH8(Y0, Y1, Y2, Y6)
	TANH8(Y3, Y4, Y5, Y7)
	VFMADD213PS Y13, Y13, Y0
	VFMADD213PS Y13, Y13, Y3
	VMOVUPS     Y0, (DI)
	VMOVUPS     Y3, 32(DI)
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $16, CX
	JNZ         sig16
	VZEROUPPER
	RET

// func clampMaxAVX2(d *float32, n int, hi float32)
// n is a multiple of 8: d = min(d, hi), with hi as MINPS's first source so
// that a NaN in d (the second) is what comes out.
TEXT ·clampMaxAVX2(SB), NOSPLIT, $0-20
	MOVQ         d+0(FP), DI
	MOVQ         n+8(FP), CX
	VBROADCASTSS hi+16(FP), Y0

clamp8:
	VMOVUPS (DI), Y1
	VMINPS  Y1, Y0, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNZ     clamp8
	VZEROUPPER
	RET
