//go:build amd64 && !purego

#include "textflag.h"

// TAP loads tap R13's address (src + 4·offs[R13] + AX) into R12 and
// broadcasts its weight into Y10.
#define TAP \
	MOVLQSX      (R10)(R13*4), R12; \
	LEAQ         (SI)(R12*4), R12; \
	ADDQ         AX, R12; \
	VBROADCASTSS (R11)(R13*4), Y10

// NEXTTAP advances R13 and jumps to label while taps are left.
#define NEXTTAP(label) \
	INCQ R13; \
	CMPQ R13, R14; \
	JLT  label

// RELU rectifies x: max with +0 (Y1; a NaN kept), then +0 added so −0
// becomes +0. BOUND bounds x by Y13, which is MINPS's first source so
// that a NaN in x is what comes out.
#define RELU(x) VMAXPS x, Y1, x; VADDPS Y1, x, x
#define BOUND(x) VMINPS x, Y13, x

// func depthwiseFlatAVX2(dst, src *float32, offs *int32, w *float32, ntaps, n int, b float32, relu bool, bound float32, clamp bool, mask *int32)
//
// depthwiseFlatAVX512 with ymm: 64 outputs per step in eight
// accumulators, then 8 in one, then the last n mod 8 through the
// VMASKMOVPS mask at mask (lanes past n are neither read nor written).
TEXT ·depthwiseFlatAVX2(SB), NOSPLIT, $0-72
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         offs+16(FP), R10
	MOVQ         w+24(FP), R11
	MOVQ         ntaps+32(FP), R14
	MOVQ         n+40(FP), DX
	VBROADCASTSS b+48(FP), Y0
	MOVBLZX      relu+52(FP), BX
	VBROADCASTSS bound+56(FP), Y13
	MOVBLZX      clamp+60(FP), R9
	MOVQ         mask+64(FP), R8
	VXORPS       Y1, Y1, Y1
	XORQ         AX, AX

narrowbig:
	CMPQ DX, $64
	JLT  narrowsmall
	VMOVAPS Y0, Y2
	VMOVAPS Y0, Y3
	VMOVAPS Y0, Y4
	VMOVAPS Y0, Y5
	VMOVAPS Y0, Y6
	VMOVAPS Y0, Y7
	VMOVAPS Y0, Y8
	VMOVAPS Y0, Y9
	XORQ    R13, R13

narrowbigtap:
	TAP
	VFMADD231PS  (R12), Y10, Y2
	VFMADD231PS  32(R12), Y10, Y3
	VFMADD231PS  64(R12), Y10, Y4
	VFMADD231PS  96(R12), Y10, Y5
	VFMADD231PS  128(R12), Y10, Y6
	VFMADD231PS  160(R12), Y10, Y7
	VFMADD231PS  192(R12), Y10, Y8
	VFMADD231PS  224(R12), Y10, Y9
	NEXTTAP(narrowbigtap)
	TESTQ BX, BX
	JZ    narrowbigstore_b
	RELU(Y2)
	RELU(Y3)
	RELU(Y4)
	RELU(Y5)
	RELU(Y6)
	RELU(Y7)
	RELU(Y8)
	RELU(Y9)

narrowbigstore_b:
	TESTQ R9, R9
	JZ    narrowbigstore
	BOUND(Y2)
	BOUND(Y3)
	BOUND(Y4)
	BOUND(Y5)
	BOUND(Y6)
	BOUND(Y7)
	BOUND(Y8)
	BOUND(Y9)

narrowbigstore:
	VMOVUPS Y2, (DI)(AX*1)
	VMOVUPS Y3, 32(DI)(AX*1)
	VMOVUPS Y4, 64(DI)(AX*1)
	VMOVUPS Y5, 96(DI)(AX*1)
	VMOVUPS Y6, 128(DI)(AX*1)
	VMOVUPS Y7, 160(DI)(AX*1)
	VMOVUPS Y8, 192(DI)(AX*1)
	VMOVUPS Y9, 224(DI)(AX*1)
	ADDQ    $256, AX
	SUBQ    $64, DX
	JMP     narrowbig

narrowsmall:
	CMPQ DX, $8
	JLT  narrowtail
	VMOVAPS Y0, Y2
	XORQ    R13, R13

narrowsmalltap:
	TAP
	VFMADD231PS  (R12), Y10, Y2
	NEXTTAP(narrowsmalltap)
	TESTQ BX, BX
	JZ    narrowsmallstore_b
	RELU(Y2)

narrowsmallstore_b:
	TESTQ R9, R9
	JZ    narrowsmallstore
	BOUND(Y2)

narrowsmallstore:
	VMOVUPS Y2, (DI)(AX*1)
	ADDQ    $32, AX
	SUBQ    $8, DX
	JMP     narrowsmall

narrowtail:
	TESTQ   DX, DX
	JZ      narrowdone
	VMOVDQU (R8), Y11
	VMOVAPS Y0, Y2
	XORQ    R13, R13

narrowtailtap:
	TAP
	VMASKMOVPS   (R12), Y11, Y12
	VFMADD231PS  Y12, Y10, Y2
	NEXTTAP(narrowtailtap)
	TESTQ BX, BX
	JZ    narrowtailstore_b
	RELU(Y2)

narrowtailstore_b:
	TESTQ R9, R9
	JZ    narrowtailstore
	BOUND(Y2)

narrowtailstore:
	VMASKMOVPS Y2, Y11, (DI)(AX*1)

narrowdone:
	VZEROUPPER
	RET

// func deinterleave2RowsAVX2(even, odd *float32, dstStride uintptr, src *float32, srcStride uintptr, rows, cols int, masks *[4]*int32)
//
// Deinterleave2Rows with ymm: 8 pairs per step. The in-lane shuffles pick
// elements 0, 2 (or 1, 3) of each 128-bit lane of both sources, leaving
// the 64-bit pairs in the order 0, 2, 1, 3, which the VPERMPD puts right.
// A row's last cols mod 16 floats go through the VMASKMOVPS masks:
// masks[0] and masks[1] load the two source vectors, masks[2] and
// masks[3] store the even and the odd halves.
TEXT ·deinterleave2RowsAVX2(SB), NOSPLIT, $0-64
	MOVQ    even+0(FP), DI
	MOVQ    odd+8(FP), R8
	MOVQ    dstStride+16(FP), R9
	MOVQ    src+24(FP), SI
	MOVQ    srcStride+32(FP), R10
	MOVQ    rows+40(FP), CX
	MOVQ    masks+56(FP), R11
	MOVQ    (R11), R12
	VMOVDQU (R12), Y12
	MOVQ    8(R11), R12
	VMOVDQU (R12), Y13
	MOVQ    16(R11), R12
	VMOVDQU (R12), Y14
	MOVQ    24(R11), R12
	VMOVDQU (R12), Y15

darow:
	XORQ AX, AX
	XORQ BX, BX
	MOVQ cols+48(FP), DX

da16:
	CMPQ    DX, $16
	JLT     datail
	VMOVUPS (SI)(AX*1), Y0
	VMOVUPS 32(SI)(AX*1), Y1
	VSHUFPS $0x88, Y1, Y0, Y2
	VSHUFPS $0xDD, Y1, Y0, Y3
	VPERMPD $0xD8, Y2, Y2
	VPERMPD $0xD8, Y3, Y3
	VMOVUPS Y2, (DI)(BX*1)
	VMOVUPS Y3, (R8)(BX*1)
	ADDQ    $64, AX
	ADDQ    $32, BX
	SUBQ    $16, DX
	JMP     da16

datail:
	TESTQ      DX, DX
	JZ         danext
	VMASKMOVPS (SI)(AX*1), Y12, Y0
	VMASKMOVPS 32(SI)(AX*1), Y13, Y1
	VSHUFPS    $0x88, Y1, Y0, Y2
	VSHUFPS    $0xDD, Y1, Y0, Y3
	VPERMPD    $0xD8, Y2, Y2
	VPERMPD    $0xD8, Y3, Y3
	VMASKMOVPS Y2, Y14, (DI)(BX*1)
	VMASKMOVPS Y3, Y15, (R8)(BX*1)

danext:
	ADDQ R10, SI
	ADDQ R9, DI
	ADDQ R9, R8
	DECQ CX
	JNZ  darow
	VZEROUPPER
	RET
