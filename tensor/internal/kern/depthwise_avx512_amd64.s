//go:build amd64 && !purego

#include "textflag.h"

// TAP loads tap R13's address (src + 4·offs[R13] + AX) into R12 and
// broadcasts its weight into Z10.
#define TAP \
	MOVLQSX      (R10)(R13*4), R12; \
	LEAQ         (SI)(R12*4), R12; \
	ADDQ         AX, R12; \
	VBROADCASTSS (R11)(R13*4), Z10

// NEXTTAP advances R13 and jumps to label while taps are left.
#define NEXTTAP(label) \
	INCQ R13; \
	CMPQ R13, R14; \
	JLT  label

// RELU rectifies x: max with +0 (Z1; a NaN kept), then +0 added so −0
// becomes +0. BOUND bounds x by Z13, which is MINPS's first source so
// that a NaN in x is what comes out.
#define RELU(x) VMAXPS x, Z1, x; VADDPS Z1, x, x
#define BOUND(x) VMINPS x, Z13, x

// func depthwiseFlatAVX512(dst, src *float32, offs *int32, w *float32, ntaps, n int, b float32, relu bool, bound float32, clamp bool)
//
// DepthwiseFlat's product: dst[i] = b + Σ_t w[t]·src[offs[t] + i], one
// FMA per tap in tap order. 128 outputs per step in eight accumulators
// (eight sums in flight cover the FMA latency on both pipes), then 32 in
// two, then the last n mod 32 through the masks K1 and K2 (zeroing loads,
// masked stores). Rectified as addBiasRowsAVX512 does (max with +0, a NaN
// kept, then +0 added so −0 becomes +0), then, when clamp, bounded by
// VMINPS with the bound as first source, so a NaN is kept.
//
// Registers: DI dst, SI src, R10 offs, R11 w, R14 ntaps, DX outputs
// left, AX the byte offset of the step, BX relu, R9 clamp, R13 the tap,
// R12 its address; Z0 the bias, Z1 zero, Z13 the bound, Z10 the tap's
// weight.
TEXT ·depthwiseFlatAVX512(SB), NOSPLIT, $0-61
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         offs+16(FP), R10
	MOVQ         w+24(FP), R11
	MOVQ         ntaps+32(FP), R14
	MOVQ         n+40(FP), DX
	VBROADCASTSS b+48(FP), Z0
	MOVBLZX      relu+52(FP), BX
	VBROADCASTSS bound+56(FP), Z13
	MOVBLZX      clamp+60(FP), R9
	VXORPS       Z1, Z1, Z1
	XORQ         AX, AX

widebig:
	CMPQ DX, $128
	JLT  widesmall
	VMOVAPS Z0, Z2
	VMOVAPS Z0, Z3
	VMOVAPS Z0, Z4
	VMOVAPS Z0, Z5
	VMOVAPS Z0, Z6
	VMOVAPS Z0, Z7
	VMOVAPS Z0, Z8
	VMOVAPS Z0, Z9
	XORQ    R13, R13

widebigtap:
	TAP
	VFMADD231PS  (R12), Z10, Z2
	VFMADD231PS  64(R12), Z10, Z3
	VFMADD231PS  128(R12), Z10, Z4
	VFMADD231PS  192(R12), Z10, Z5
	VFMADD231PS  256(R12), Z10, Z6
	VFMADD231PS  320(R12), Z10, Z7
	VFMADD231PS  384(R12), Z10, Z8
	VFMADD231PS  448(R12), Z10, Z9
	NEXTTAP(widebigtap)
	TESTQ BX, BX
	JZ    widebigstore_b
	RELU(Z2)
	RELU(Z3)
	RELU(Z4)
	RELU(Z5)
	RELU(Z6)
	RELU(Z7)
	RELU(Z8)
	RELU(Z9)

widebigstore_b:
	TESTQ R9, R9
	JZ    widebigstore
	BOUND(Z2)
	BOUND(Z3)
	BOUND(Z4)
	BOUND(Z5)
	BOUND(Z6)
	BOUND(Z7)
	BOUND(Z8)
	BOUND(Z9)

widebigstore:
	VMOVUPS Z2, (DI)(AX*1)
	VMOVUPS Z3, 64(DI)(AX*1)
	VMOVUPS Z4, 128(DI)(AX*1)
	VMOVUPS Z5, 192(DI)(AX*1)
	VMOVUPS Z6, 256(DI)(AX*1)
	VMOVUPS Z7, 320(DI)(AX*1)
	VMOVUPS Z8, 384(DI)(AX*1)
	VMOVUPS Z9, 448(DI)(AX*1)
	ADDQ    $512, AX
	SUBQ    $128, DX
	JMP     widebig

widesmall:
	CMPQ DX, $32
	JLT  widetail
	VMOVAPS Z0, Z2
	VMOVAPS Z0, Z3
	XORQ    R13, R13

widesmalltap:
	TAP
	VFMADD231PS  (R12), Z10, Z2
	VFMADD231PS  64(R12), Z10, Z3
	NEXTTAP(widesmalltap)
	TESTQ BX, BX
	JZ    widesmallstore_b
	RELU(Z2)
	RELU(Z3)

widesmallstore_b:
	TESTQ R9, R9
	JZ    widesmallstore
	BOUND(Z2)
	BOUND(Z3)

widesmallstore:
	VMOVUPS Z2, (DI)(AX*1)
	VMOVUPS Z3, 64(DI)(AX*1)
	ADDQ    $128, AX
	SUBQ    $32, DX
	JMP     widesmall

widetail:
	TESTQ DX, DX
	JZ    widedone
	// K1: lanes [0, min(DX, 16)); K2: lanes [16, DX).
	MOVQ    DX, CX
	MOVL    $1, R8
	SHLL    CX, R8
	DECL    R8
	KMOVW   R8, K1
	SHRL    $16, R8
	KMOVW   R8, K2
	VMOVAPS Z0, Z2
	VMOVAPS Z0, Z3
	XORQ    R13, R13

widetailtap:
	TAP
	VMOVUPS.Z    (R12), K1, Z11
	VFMADD231PS  Z11, Z10, Z2
	VMOVUPS.Z    64(R12), K2, Z12
	VFMADD231PS  Z12, Z10, Z3
	NEXTTAP(widetailtap)
	TESTQ BX, BX
	JZ    widetailstore_b
	RELU(Z2)
	RELU(Z3)

widetailstore_b:
	TESTQ R9, R9
	JZ    widetailstore
	BOUND(Z2)
	BOUND(Z3)

widetailstore:
	VMOVUPS Z2, K1, (DI)(AX*1)
	VMOVUPS Z3, K2, 64(DI)(AX*1)

widedone:
	VZEROUPPER
	RET

// func deinterleave2RowsAVX512(even, odd *float32, dstStride uintptr, src *float32, srcStride uintptr, rows, cols int, masks uint64)
//
// Deinterleave2Rows: 16 pairs (two zmm of src) per step, split by
// two-table permutes; a row's last cols mod 32 floats through the masks:
// bits 0–15 and 16–31 load the two source vectors (zeroing), bits 32–47
// and 48–63 store the even and the odd halves.
TEXT ·deinterleave2RowsAVX512(SB), NOSPLIT, $0-64
	MOVQ      even+0(FP), DI
	MOVQ      odd+8(FP), R8
	MOVQ      dstStride+16(FP), R9
	MOVQ      src+24(FP), SI
	MOVQ      srcStride+32(FP), R10
	MOVQ      rows+40(FP), CX
	MOVQ      masks+56(FP), R11
	KMOVW     R11, K1
	SHRQ      $16, R11
	KMOVW     R11, K2
	SHRQ      $16, R11
	KMOVW     R11, K3
	SHRQ      $16, R11
	KMOVW     R11, K4
	VMOVDQU32 deintEven<>(SB), Z4
	VMOVDQU32 deintOdd<>(SB), Z5

dirow:
	XORQ AX, AX               // byte offset in the source row
	XORQ BX, BX               // byte offset in the destination rows
	MOVQ cols+48(FP), DX

di32:
	CMPQ      DX, $32
	JLT       ditail
	VMOVUPS   (SI)(AX*1), Z0
	VMOVUPS   64(SI)(AX*1), Z1
	VMOVAPS   Z4, Z2
	VPERMI2PS Z1, Z0, Z2
	VMOVAPS   Z5, Z3
	VPERMI2PS Z1, Z0, Z3
	VMOVUPS   Z2, (DI)(BX*1)
	VMOVUPS   Z3, (R8)(BX*1)
	ADDQ      $128, AX
	ADDQ      $64, BX
	SUBQ      $32, DX
	JMP       di32

ditail:
	TESTQ     DX, DX
	JZ        dinext
	VMOVUPS.Z (SI)(AX*1), K1, Z0
	VMOVUPS.Z 64(SI)(AX*1), K2, Z1
	VMOVAPS   Z4, Z2
	VPERMI2PS Z1, Z0, Z2
	VMOVAPS   Z5, Z3
	VPERMI2PS Z1, Z0, Z3
	VMOVUPS   Z2, K3, (DI)(BX*1)
	VMOVUPS   Z3, K4, (R8)(BX*1)

dinext:
	ADDQ R10, SI
	ADDQ R9, DI
	ADDQ R9, R8
	DECQ CX
	JNZ  dirow
	VZEROUPPER
	RET

DATA deintEven<>+0(SB)/4, $0
DATA deintEven<>+4(SB)/4, $2
DATA deintEven<>+8(SB)/4, $4
DATA deintEven<>+12(SB)/4, $6
DATA deintEven<>+16(SB)/4, $8
DATA deintEven<>+20(SB)/4, $10
DATA deintEven<>+24(SB)/4, $12
DATA deintEven<>+28(SB)/4, $14
DATA deintEven<>+32(SB)/4, $16
DATA deintEven<>+36(SB)/4, $18
DATA deintEven<>+40(SB)/4, $20
DATA deintEven<>+44(SB)/4, $22
DATA deintEven<>+48(SB)/4, $24
DATA deintEven<>+52(SB)/4, $26
DATA deintEven<>+56(SB)/4, $28
DATA deintEven<>+60(SB)/4, $30
GLOBL deintEven<>(SB), RODATA|NOPTR, $64

DATA deintOdd<>+0(SB)/4, $1
DATA deintOdd<>+4(SB)/4, $3
DATA deintOdd<>+8(SB)/4, $5
DATA deintOdd<>+12(SB)/4, $7
DATA deintOdd<>+16(SB)/4, $9
DATA deintOdd<>+20(SB)/4, $11
DATA deintOdd<>+24(SB)/4, $13
DATA deintOdd<>+28(SB)/4, $15
DATA deintOdd<>+32(SB)/4, $17
DATA deintOdd<>+36(SB)/4, $19
DATA deintOdd<>+40(SB)/4, $21
DATA deintOdd<>+44(SB)/4, $23
DATA deintOdd<>+48(SB)/4, $25
DATA deintOdd<>+52(SB)/4, $27
DATA deintOdd<>+56(SB)/4, $29
DATA deintOdd<>+60(SB)/4, $31
GLOBL deintOdd<>(SB), RODATA|NOPTR, $64
