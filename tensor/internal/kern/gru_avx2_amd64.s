//go:build amd64 && !purego

#include "textflag.h"

// The elementwise passes of GRURowForward, eight lanes at a time; n is a
// positive multiple of 8. Each operation rounds once, in the Go loop's
// order (no fused multiply-add), so the bits are the Go loop's.

// func gruPass1AVX2(s, x, bx, hg, bh *float32, n int)
// s = ((x + bx) + hg) + bh
TEXT ·gruPass1AVX2(SB), NOSPLIT, $0-48
	MOVQ s+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ bx+16(FP), R8
	MOVQ hg+24(FP), R9
	MOVQ bh+32(FP), R10
	MOVQ n+40(FP), CX
	XORQ AX, AX

g1loop:
	VMOVUPS (SI)(AX*4), Y0
	VADDPS  (R8)(AX*4), Y0, Y0
	VADDPS  (R9)(AX*4), Y0, Y0
	VADDPS  (R10)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     g1loop
	VZEROUPPER
	RET

// func gruPass2AVX2(sn, shn, xn, bxn, hnn, bhn, sr *float32, n int)
// hn = hnn + bhn; shn = hn; sn = (xn + bxn) + sr·hn
TEXT ·gruPass2AVX2(SB), NOSPLIT, $0-64
	MOVQ sn+0(FP), DI
	MOVQ shn+8(FP), DX
	MOVQ xn+16(FP), SI
	MOVQ bxn+24(FP), R8
	MOVQ hnn+32(FP), R9
	MOVQ bhn+40(FP), R10
	MOVQ sr+48(FP), R11
	MOVQ n+56(FP), CX
	XORQ AX, AX

g2loop:
	VMOVUPS (R9)(AX*4), Y0
	VADDPS  (R10)(AX*4), Y0, Y0
	VMOVUPS Y0, (DX)(AX*4)
	VMULPS  (R11)(AX*4), Y0, Y1
	VMOVUPS (SI)(AX*4), Y2
	VADDPS  (R8)(AX*4), Y2, Y2
	VADDPS  Y1, Y2, Y2
	VMOVUPS Y2, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     g2loop
	VZEROUPPER
	RET

// func gruPass3AVX2(h, sn, sz, hPrev *float32, n int)
// h = sn + sz·(hPrev − sn)
TEXT ·gruPass3AVX2(SB), NOSPLIT, $0-40
	MOVQ h+0(FP), DI
	MOVQ sn+8(FP), SI
	MOVQ sz+16(FP), R8
	MOVQ hPrev+24(FP), R9
	MOVQ n+32(FP), CX
	XORQ AX, AX

g3loop:
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS (R9)(AX*4), Y1
	VSUBPS  Y0, Y1, Y1
	VMULPS  (R8)(AX*4), Y1, Y1
	VADDPS  Y1, Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     g3loop
	VZEROUPPER
	RET
