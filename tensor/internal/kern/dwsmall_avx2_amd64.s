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

// DW8S2MIX adds one row's three taps to Y0 from its four loads (Y2 at
// column 2x0, Y3 at 2x0+8, Y4 at 2x0−2, Y6 at 2x0+6): VSHUFPS picks the
// odd lanes of the last two (columns 2x−1) and the even (2x) and odd
// (2x+1) lanes of the first two within each 128-bit half, VPERMPD puts
// the halves' pairs in order, then one FMA each times wl, wm, wr.
#define DW8S2MIX(wl, wm, wr) \
	VSHUFPS     $0xDD, Y6, Y4, Y1; \
	VSHUFPS     $0xDD, Y3, Y2, Y4; \
	VSHUFPS     $0x88, Y3, Y2, Y2; \
	VPERMPD     $0xD8, Y1, Y1; \
	VPERMPD     $0xD8, Y2, Y2; \
	VPERMPD     $0xD8, Y4, Y4; \
	VFMADD231PS Y1, wl, Y0; \
	VFMADD231PS Y2, wm, Y0; \
	VFMADD231PS Y4, wr, Y0

// DW8S2TAP adds row R12's three taps of the chunk (columns 2x−1, 2x and
// 2x+1 for its 8 outputs x) times wl, wm, wr to Y0, its four loads
// through the chunk's masks at BX (the padding and what lies past the
// row read as zero and are never read; Y5 holds each mask in turn).
#define DW8S2TAP(wl, wm, wr) \
	VMOVDQU    (BX), Y5; \
	VMASKMOVPS (R12), Y5, Y2; \
	VMOVDQU    32(BX), Y5; \
	VMASKMOVPS 32(R12), Y5, Y3; \
	VMOVDQU    64(BX), Y5; \
	VMASKMOVPS -8(R12), Y5, Y4; \
	VMOVDQU    96(BX), Y5; \
	VMASKMOVPS 24(R12), Y5, Y6; \
	DW8S2MIX(wl, wm, wr)

// DW8S2TAPU is DW8S2TAP for a chunk whose four loads lie inside the row:
// plain loads.
#define DW8S2TAPU(wl, wm, wr) \
	VMOVUPS (R12), Y2; \
	VMOVUPS 32(R12), Y3; \
	VMOVUPS -8(R12), Y4; \
	VMOVUPS 24(R12), Y6; \
	DW8S2MIX(wl, wm, wr)

// DW8S2ROWS adds the chunk's three input rows with TAP (DW8S2TAP or
// DW8S2TAPU): the row above (none for the first output row; mid is
// where the middle row starts), the middle one, and the one below when it
// lies inside the plane; then goes on at e2act.
#define DW8S2ROWS(TAP, mid) \
	TESTQ DX, DX; \
	JZ    mid; \
	MOVQ  R13, R12; \
	SHLQ  $6, R12; \
	ADDQ  SI, R12; \
	SUBQ  R8, R12; \
	TAP(Y7, Y8, Y9); \
mid: \
	MOVQ R13, R12; \
	SHLQ $6, R12; \
	ADDQ SI, R12; \
	TAP(Y10, Y11, Y12); \
	LEAQ (DX)(DX*1), AX; \
	INCQ AX; \
	CMPQ AX, h+24(FP); \
	JGE  e2act; \
	ADDQ R8, R12; \
	TAP(Y13, Y14, Y15); \
	JMP  e2act

// func dw3x3S2AVX2(dst, src *float32, w, h, planes int, wts, bias *float32, flags int, bound float32, masks *int32, ow, oh int)
//
// DepthwiseStride2x3x3 with AVX2: dw3x3S2AVX512's loops eight outputs a
// ymm, from 16 input columns. masks holds, per chunk, five lane masks of
// 8 int32 (−1 where the lane reads): the loads at columns 2x0, 2x0+8,
// 2x0−2 and 2x0+6, then the store's. The sums run from the bias in tap
// order, one FMA each: the AVX-512 kernel's bits.
//
// Registers: DI dst row, SI src row 2y, R8 input row bytes, R9 planes
// left, R10 wts, R11 bias, DX the output row, R13 the chunk, R14 output
// row bytes, BX the chunk's masks, R12 the input row's address, AX
// scratch; Y7–Y15 the plane's weights, Y0 the sums, Y1–Y6 scratch.
TEXT ·dw3x3S2AVX2(SB), NOSPLIT, $0-96
	MOVQ  dst+0(FP), DI
	MOVQ  src+8(FP), SI
	MOVQ  w+16(FP), R8
	SHLQ  $2, R8
	MOVQ  planes+32(FP), R9
	MOVQ  wts+40(FP), R10
	MOVQ  bias+48(FP), R11
	MOVQ  ow+80(FP), R14
	SHLQ  $2, R14
	TESTQ R9, R9
	JZ    e2done

e2plane:
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

e2row:
	XORQ R13, R13
	MOVQ masks+72(FP), BX

e2chunk:
	VBROADCASTSS (R11), Y0
	// A chunk whose loads all lie inside the row (the masks of its
	// first load at 2x0−2 and its last at 2x0+15 read there) loads
	// plainly.
	MOVL  64(BX), AX
	ANDL  60(BX), AX
	JNS   e2edge
	DW8S2ROWS(DW8S2TAPU, e2umid)

e2edge:
	DW8S2ROWS(DW8S2TAP, e2mid)

e2act:
	// max(0, v) keeps a NaN, then +0 turns −0 into +0; min(bound, v)
	// keeps a NaN.
	TESTQ  $1, flags+56(FP)
	JZ     e2bound
	VXORPS Y1, Y1, Y1
	VMAXPS Y0, Y1, Y0
	VADDPS Y1, Y0, Y0

e2bound:
	TESTQ        $2, flags+56(FP)
	JZ           e2store
	VBROADCASTSS bound+64(FP), Y2
	VMINPS       Y0, Y2, Y0

e2store:
	MOVQ R13, AX
	SHLQ $5, AX
	LEAQ 32(AX), R12
	CMPQ R12, R14
	JGT  e2part
	VMOVUPS Y0, (DI)(AX*1)
	JMP  e2next

e2part:
	VMOVDQU    128(BX), Y5
	VMASKMOVPS Y0, Y5, (DI)(AX*1)

e2next:
	ADDQ $160, BX
	INCQ R13
	MOVQ R13, AX
	SHLQ $5, AX
	CMPQ AX, R14
	JLT  e2chunk
	// The next output row: two input rows on.
	LEAQ (SI)(R8*2), SI
	ADDQ R14, DI
	INCQ DX
	CMPQ DX, oh+88(FP)
	JLT  e2row
	// The next plane: h input rows after this one's start, which is
	// 2·oh rows back.
	MOVQ  h+24(FP), AX
	SUBQ  oh+88(FP), AX
	SUBQ  oh+88(FP), AX
	IMULQ R8, AX
	ADDQ  AX, SI
	ADDQ  $36, R10
	ADDQ  $4, R11
	DECQ  R9
	JNZ   e2plane

e2done:
	VZEROUPPER
	RET
