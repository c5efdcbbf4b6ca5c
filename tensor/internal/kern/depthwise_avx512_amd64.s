//go:build amd64 && !purego

#include "textflag.h"

// func depthwiseRowsAVX512(dst *float32, ldd uintptr, src *float32, lds uintptr, offs *int32, w *float32, ntaps, rows, cols int, b float32, relu bool, mask uint64)
//
// One plane of a depthwise convolution (see DepthwiseRows): each output
// starts at b and gets w[t]·src[offs[t] + i] added by one FMA per tap, in
// tap order, 64 columns per step (four accumulators sharing each
// broadcast weight), then 16, then the last cols mod 16 through the mask
// K1 (zeroing loads, masked stores). Rectified as addBiasRowsAVX512 does.
//
// Registers: DI dst row, SI src row, R8/R9 their strides (bytes), R10
// offs, R11 w, CX rows left, DX columns left in the row, AX the byte
// offset in the row, BX relu, R13 the tap, R12 the tap's address.
TEXT ·depthwiseRowsAVX512(SB), NOSPLIT, $0-88
	MOVQ         dst+0(FP), DI
	MOVQ         ldd+8(FP), R8
	MOVQ         src+16(FP), SI
	MOVQ         lds+24(FP), R9
	MOVQ         offs+32(FP), R10
	MOVQ         w+40(FP), R11
	MOVQ         rows+56(FP), CX
	VBROADCASTSS b+72(FP), Z0
	MOVBLZX      relu+76(FP), BX
	MOVQ         mask+80(FP), AX
	KMOVW        AX, K1
	VPXORD       Z1, Z1, Z1
	TESTQ        CX, CX
	JZ           dwdone

dwrow:
	XORQ AX, AX
	MOVQ cols+64(FP), DX

dw64:
	CMPQ    DX, $64
	JLT     dw16
	VMOVAPS Z0, Z2
	VMOVAPS Z0, Z3
	VMOVAPS Z0, Z4
	VMOVAPS Z0, Z5
	XORQ    R13, R13

dw64tap:
	MOVLQSX      (R10)(R13*4), R12
	LEAQ         (SI)(R12*4), R12
	ADDQ         AX, R12
	VBROADCASTSS (R11)(R13*4), Z6
	VFMADD231PS  (R12), Z6, Z2
	VFMADD231PS  64(R12), Z6, Z3
	VFMADD231PS  128(R12), Z6, Z4
	VFMADD231PS  192(R12), Z6, Z5
	INCQ         R13
	CMPQ         R13, ntaps+48(FP)
	JLT          dw64tap
	TESTQ        BX, BX
	JZ           dw64store
	VMAXPS       Z2, Z1, Z2
	VADDPS       Z1, Z2, Z2
	VMAXPS       Z3, Z1, Z3
	VADDPS       Z1, Z3, Z3
	VMAXPS       Z4, Z1, Z4
	VADDPS       Z1, Z4, Z4
	VMAXPS       Z5, Z1, Z5
	VADDPS       Z1, Z5, Z5

dw64store:
	VMOVUPS Z2, (DI)(AX*1)
	VMOVUPS Z3, 64(DI)(AX*1)
	VMOVUPS Z4, 128(DI)(AX*1)
	VMOVUPS Z5, 192(DI)(AX*1)
	ADDQ    $256, AX
	SUBQ    $64, DX
	JMP     dw64

dw16:
	CMPQ    DX, $16
	JLT     dwtail
	VMOVAPS Z0, Z2
	XORQ    R13, R13

dw16tap:
	MOVLQSX      (R10)(R13*4), R12
	LEAQ         (SI)(R12*4), R12
	ADDQ         AX, R12
	VBROADCASTSS (R11)(R13*4), Z6
	VFMADD231PS  (R12), Z6, Z2
	INCQ         R13
	CMPQ         R13, ntaps+48(FP)
	JLT          dw16tap
	TESTQ        BX, BX
	JZ           dw16store
	VMAXPS       Z2, Z1, Z2
	VADDPS       Z1, Z2, Z2

dw16store:
	VMOVUPS Z2, (DI)(AX*1)
	ADDQ    $64, AX
	SUBQ    $16, DX
	JMP     dw16

dwtail:
	TESTQ   DX, DX
	JZ      dwnext
	VMOVAPS Z0, Z2
	XORQ    R13, R13

dwtailtap:
	MOVLQSX      (R10)(R13*4), R12
	LEAQ         (SI)(R12*4), R12
	ADDQ         AX, R12
	VBROADCASTSS (R11)(R13*4), Z6
	VMOVUPS.Z    (R12), K1, Z7
	VFMADD231PS  Z7, Z6, Z2
	INCQ         R13
	CMPQ         R13, ntaps+48(FP)
	JLT          dwtailtap
	TESTQ        BX, BX
	JZ           dwtailstore
	VMAXPS       Z2, Z1, Z2
	VADDPS       Z1, Z2, Z2

dwtailstore:
	VMOVUPS Z2, K1, (DI)(AX*1)

dwnext:
	ADDQ R8, DI
	ADDQ R9, SI
	DECQ CX
	JNZ  dwrow

dwdone:
	VZEROUPPER
	RET
