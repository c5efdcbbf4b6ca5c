//go:build amd64 && !purego

#include "textflag.h"

// DWTAP adds weight w times the row at base+off through mask k to acc.
#define DWTAP(off, k, w, acc) \
	VMOVUPS.Z   off(R12), k, Z17; \
	VFMADD231PS Z17, w, acc

// DWWEIGHTS broadcasts the plane's bias (R11) into Z6 and its nine
// weights (R10) into Z7..Z15.
#define DWWEIGHTS \
	VBROADCASTSS (R11), Z6; \
	VBROADCASTSS (R10), Z7; \
	VBROADCASTSS 4(R10), Z8; \
	VBROADCASTSS 8(R10), Z9; \
	VBROADCASTSS 12(R10), Z10; \
	VBROADCASTSS 16(R10), Z11; \
	VBROADCASTSS 20(R10), Z12; \
	VBROADCASTSS 24(R10), Z13; \
	VBROADCASTSS 28(R10), Z14; \
	VBROADCASTSS 32(R10), Z15

// DWMASKS loads the chunk's masks at BX into K1, K2, K3.
#define DWMASKS \
	MOVQ  (BX), AX; \
	KMOVW AX, K1; \
	SHRQ  $16, AX; \
	KMOVW AX, K2; \
	SHRQ  $16, AX; \
	KMOVW AX, K3

// func dw3x3SmallAVX512(dst, src *float32, w, h, planes int, wts, bias *float32, flags int, bound float32, masks *uint64)
//
// DepthwiseSmall3x3: planes consecutive planes of h rows of w floats, each
// convolved with its own 3×3 filter (9 floats at wts, row by row) at
// stride 1 with one pixel of zero padding, plus its bias, the rectifier
// (flags bit 0) and the bound (flags bit 1). Each output row is computed
// 16 columns (one zmm) at a time: the taps left of, at and right of a
// column are the input row loaded from one float before, at and after it,
// through the chunk's masks (masks[c]: bits 0–15 K1 for the left tap,
// 16–31 K2 for the middle one and the store, 32–47 K3 for the right one),
// which drop the lanes falling in the padding or past the row; a masked
// lane is never read, so nothing before the plane or past it is touched.
// The sums run in tap order, from the bias.
//
// Registers: DI dst, SI src (the row's start), R8 row bytes (4w), CX
// rows, R9 planes left, R10 wts, R11 bias, DX the row, R13 the chunk's
// byte offset in the row, BX its masks, R12 the input row's address, AX
// scratch; Z7–Z15 the plane's weights, Z6 its bias, Z1 zero, Z16 the
// bound.
TEXT ·dw3x3SmallAVX512(SB), NOSPLIT, $0-80
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         w+16(FP), R8
	SHLQ         $2, R8
	MOVQ         h+24(FP), CX
	MOVQ         planes+32(FP), R9
	MOVQ         wts+40(FP), R10
	MOVQ         bias+48(FP), R11
	VBROADCASTSS bound+64(FP), Z16
	VPXORD       Z1, Z1, Z1
	MOVQ         masks+72(FP), BX
	DWMASKS
	TESTQ        R9, R9
	JZ           dsdone

dsplane:
	DWWEIGHTS
	XORQ         DX, DX

dsrow:
	XORQ R13, R13
	MOVQ masks+72(FP), BX

dschunk:
	// A row of one chunk keeps the masks loaded below.
	CMPQ    R8, $64
	JLE     dsone
	DWMASKS

dsone:
	VMOVAPS Z6, Z0
	// The row above (none for the first row).
	TESTQ   DX, DX
	JZ      dsmid
	LEAQ    (SI)(R13*1), R12
	SUBQ    R8, R12
	DWTAP(-4, K1, Z7, Z0)
	DWTAP(0, K2, Z8, Z0)
	DWTAP(4, K3, Z9, Z0)

dsmid:
	LEAQ (SI)(R13*1), R12
	DWTAP(-4, K1, Z10, Z0)
	DWTAP(0, K2, Z11, Z0)
	DWTAP(4, K3, Z12, Z0)
	// The row below (none for the last row).
	LEAQ 1(DX), AX
	CMPQ AX, CX
	JGE  dsact
	ADDQ R8, R12
	DWTAP(-4, K1, Z13, Z0)
	DWTAP(0, K2, Z14, Z0)
	DWTAP(4, K3, Z15, Z0)

dsact:
	TESTQ  $1, flags+56(FP)
	JZ     dsbound
	VMAXPS Z0, Z1, Z0
	VADDPS Z1, Z0, Z0

dsbound:
	TESTQ  $2, flags+56(FP)
	JZ     dsstore
	VMINPS Z0, Z16, Z0

dsstore:
	VMOVUPS Z0, K2, (DI)(R13*1)
	ADDQ    $8, BX
	ADDQ    $64, R13
	CMPQ    R13, R8
	JLT     dschunk
	ADDQ    R8, SI
	ADDQ    R8, DI
	INCQ    DX
	CMPQ    DX, CX
	JLT     dsrow
	ADDQ    $36, R10
	ADDQ    $4, R11
	DECQ    R9
	JNZ     dsplane

dsdone:
	VZEROUPPER
	RET

// DWS2TAP adds row R12's three taps of the chunk (columns 2x−1, 2x and 2x+1
// for its 16 outputs x) times wl, wm, wr to Z0: two zmm at column 2x0
// split into even (2x) and odd (2x+1) lanes, and two at 2x0−2 whose odd
// lanes are 2x−1 (Z30, Z31: pool2Perm), all loaded through the chunk's
// masks (K4..K7), so the padding and what lies past the row read as zero.
#define DWS2TAP(wl, wm, wr) \
	VMOVUPS.Z   (R12), K4, Z17; \
	VMOVUPS.Z   64(R12), K5, Z18; \
	VMOVUPS.Z   -8(R12), K6, Z19; \
	VMOVUPS.Z   56(R12), K7, Z20; \
	VMOVAPS     Z17, Z21; \
	VPERMT2PS   Z18, Z30, Z21; \
	VPERMT2PS   Z18, Z31, Z17; \
	VPERMT2PS   Z20, Z31, Z19; \
	VFMADD231PS Z19, wl, Z0; \
	VFMADD231PS Z21, wm, Z0; \
	VFMADD231PS Z17, wr, Z0

// func dw3x3S2AVX512(dst, src *float32, w, h, planes int, wts, bias *float32, flags int, bound float32, masks *uint64, ow, oh int, perm *[32]int32)
//
// DepthwiseStride2x3x3: like dw3x3SmallAVX512 at stride 2 — output row y
// from input rows 2y−1, 2y, 2y+1 (those inside), 16 outputs a chunk from
// 32 input columns; masks holds two words per chunk: the four loads' masks
// (16 bits each: K4, K5, K6, K7) and the store's (K2).
//
// Registers: DI dst row, SI src row 2y, R8 input row bytes, R9 planes
// left, R10 wts, R11 bias, CX output rows left in the plane, DX the output
// row, R13 the chunk, R14 output row bytes, BX the chunk's masks, R12 the
// input row's address, AX scratch.
TEXT ·dw3x3S2AVX512(SB), NOSPLIT, $0-104
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         w+16(FP), R8
	SHLQ         $2, R8
	MOVQ         planes+32(FP), R9
	MOVQ         wts+40(FP), R10
	MOVQ         bias+48(FP), R11
	MOVQ         ow+80(FP), R14
	SHLQ         $2, R14
	VBROADCASTSS bound+64(FP), Z16
	VPXORD       Z1, Z1, Z1
	MOVQ         perm+96(FP), AX
	VMOVDQU32    (AX), Z30
	VMOVDQU32    64(AX), Z31
	TESTQ        R9, R9
	JZ           d2done

d2plane:
	DWWEIGHTS
	XORQ         DX, DX

d2row:
	XORQ R13, R13
	MOVQ masks+72(FP), BX

d2chunk:
	MOVQ    (BX), AX
	KMOVW   AX, K4
	SHRQ    $16, AX
	KMOVW   AX, K5
	SHRQ    $16, AX
	KMOVW   AX, K6
	SHRQ    $16, AX
	KMOVW   AX, K7
	MOVQ    8(BX), AX
	KMOVW   AX, K2
	VMOVAPS Z6, Z0
	// The row above (none for the first output row).
	TESTQ   DX, DX
	JZ      d2mid
	MOVQ    R13, R12
	SHLQ    $7, R12
	ADDQ    SI, R12
	SUBQ    R8, R12
	DWS2TAP(Z7, Z8, Z9)

d2mid:
	MOVQ R13, R12
	SHLQ $7, R12
	ADDQ SI, R12
	DWS2TAP(Z10, Z11, Z12)
	// The row below, when inside the plane.
	LEAQ (DX)(DX*1), AX
	INCQ AX
	CMPQ AX, h+24(FP)
	JGE  d2act
	ADDQ R8, R12
	DWS2TAP(Z13, Z14, Z15)

d2act:
	TESTQ  $1, flags+56(FP)
	JZ     d2bound
	VMAXPS Z0, Z1, Z0
	VADDPS Z1, Z0, Z0

d2bound:
	TESTQ  $2, flags+56(FP)
	JZ     d2store
	VMINPS Z0, Z16, Z0

d2store:
	MOVQ    R13, AX
	SHLQ    $6, AX
	VMOVUPS Z0, K2, (DI)(AX*1)
	ADDQ    $16, BX
	INCQ    R13
	MOVQ    R13, AX
	SHLQ    $6, AX
	CMPQ    AX, R14
	JLT     d2chunk
	// The next output row: two input rows on.
	LEAQ (SI)(R8*2), SI
	ADDQ R14, DI
	INCQ DX
	CMPQ DX, oh+88(FP)
	JLT  d2row
	// The next plane: h input rows after this one's start, which is
	// 2·oh rows back.
	MOVQ  h+24(FP), AX
	SUBQ  oh+88(FP), AX
	SUBQ  oh+88(FP), AX
	IMULQ R8, AX
	ADDQ  AX, SI
	ADDQ $36, R10
	ADDQ $4, R11
	DECQ R9
	JNZ  d2plane

d2done:
	VZEROUPPER
	RET
