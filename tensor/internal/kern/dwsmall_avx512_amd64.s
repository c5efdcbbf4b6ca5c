//go:build amd64 && !purego

#include "textflag.h"

// DWTAP adds weight w times the row at base+off through mask k to acc.
#define DWTAP(off, k, w, acc) \
	VMOVUPS.Z   off(R12), k, Z17; \
	VFMADD231PS Z17, w, acc

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
	VBROADCASTSS (R11), Z6
	VBROADCASTSS (R10), Z7
	VBROADCASTSS 4(R10), Z8
	VBROADCASTSS 8(R10), Z9
	VBROADCASTSS 12(R10), Z10
	VBROADCASTSS 16(R10), Z11
	VBROADCASTSS 20(R10), Z12
	VBROADCASTSS 24(R10), Z13
	VBROADCASTSS 28(R10), Z14
	VBROADCASTSS 32(R10), Z15
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
