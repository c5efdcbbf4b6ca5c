//go:build amd64 && !purego

#include "textflag.h"

// DW8TAP adds weight w times the row at R12 + off through the lane mask
// m to Y0 (masked lanes read as zero, and are never read).
#define DW8TAP(off, m, w) \
	VMASKMOVPS  off(R12), m, Y2; \
	VFMADD231PS Y2, w, Y0

// func dw3x3SmallAVX2(dst, src *float32, w, h, planes int, wts, bias *float32, flags int, bound float32, masks *int32)
//
// DepthwiseSmall3x3 with AVX2: dw3x3SmallAVX512's loops (its comment says
// how) eight columns a ymm, with VMASKMOVPS lane masks for the taps that
// reach into the padding: masks holds, per chunk of eight columns, the
// left tap's, the middle one's and the right one's (8 int32 each, −1 for
// a lane that reads). Whole chunks store plainly, the last partial one
// through the middle mask (a masked store is slow on AMD's cores). The
// sums run in tap order from the bias, one FMA each: the AVX-512 kernel's
// bits.
//
// Registers: DI dst, SI src (the row's start), R8 row bytes (4w), CX
// rows, R9 planes left, R10 wts, R11 bias, DX the row, R13 the chunk's
// byte offset in the row, BX its masks, R12 the input row's address, AX
// scratch; Y7–Y15 the plane's weights, Y6 its bias, Y3–Y5 the chunk's
// masks, Y1 zero, Y2 scratch.
TEXT ·dw3x3SmallAVX2(SB), NOSPLIT, $0-80
	MOVQ   dst+0(FP), DI
	MOVQ   src+8(FP), SI
	MOVQ   w+16(FP), R8
	SHLQ   $2, R8
	MOVQ   h+24(FP), CX
	MOVQ   planes+32(FP), R9
	MOVQ   wts+40(FP), R10
	MOVQ   bias+48(FP), R11
	VXORPS Y1, Y1, Y1
	TESTQ  R9, R9
	JZ     d8done

d8plane:
	VBROADCASTSS (R11), Y6
	VBROADCASTSS (R10), Y7
	VBROADCASTSS 4(R10), Y8
	VBROADCASTSS 8(R10), Y9
	VBROADCASTSS 12(R10), Y10
	VBROADCASTSS 16(R10), Y11
	VBROADCASTSS 20(R10), Y12
	VBROADCASTSS 24(R10), Y13
	VBROADCASTSS 28(R10), Y14
	VBROADCASTSS 32(R10), Y15
	XORQ         DX, DX

d8row:
	XORQ R13, R13
	MOVQ masks+72(FP), BX

d8chunk:
	VMOVDQU (BX), Y3
	VMOVDQU 32(BX), Y4
	VMOVDQU 64(BX), Y5
	VMOVAPS Y6, Y0
	// The row above (none for the first row).
	TESTQ   DX, DX
	JZ      d8mid
	LEAQ    (SI)(R13*1), R12
	SUBQ    R8, R12
	DW8TAP(-4, Y3, Y7)
	DW8TAP(0, Y4, Y8)
	DW8TAP(4, Y5, Y9)

d8mid:
	LEAQ (SI)(R13*1), R12
	DW8TAP(-4, Y3, Y10)
	DW8TAP(0, Y4, Y11)
	DW8TAP(4, Y5, Y12)
	// The row below (none for the last row).
	LEAQ 1(DX), AX
	CMPQ AX, CX
	JGE  d8act
	ADDQ R8, R12
	DW8TAP(-4, Y3, Y13)
	DW8TAP(0, Y4, Y14)
	DW8TAP(4, Y5, Y15)

d8act:
	// max(0, v) keeps a NaN, then +0 turns −0 into +0; min(bound, v)
	// keeps a NaN.
	TESTQ  $1, flags+56(FP)
	JZ     d8bound
	VMAXPS Y0, Y1, Y0
	VADDPS Y1, Y0, Y0

d8bound:
	TESTQ        $2, flags+56(FP)
	JZ           d8store
	VBROADCASTSS bound+64(FP), Y2
	VMINPS       Y0, Y2, Y0

d8store:
	LEAQ       32(R13), AX
	CMPQ       AX, R8
	JGT        d8part
	VMOVUPS    Y0, (DI)(R13*1)
	JMP        d8next

d8part:
	VMASKMOVPS Y0, Y4, (DI)(R13*1)

d8next:
	ADDQ $96, BX
	ADDQ $32, R13
	CMPQ R13, R8
	JLT  d8chunk
	ADDQ R8, SI
	ADDQ R8, DI
	INCQ DX
	CMPQ DX, CX
	JLT  d8row
	ADDQ $36, R10
	ADDQ $4, R11
	DECQ R9
	JNZ  d8plane

d8done:
	VZEROUPPER
	RET
