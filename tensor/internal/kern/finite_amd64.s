//go:build amd64 && !purego

#include "textflag.h"

// func allFiniteAVX512(d *float32, n int, mask uint64) (ok bool)
//
// Sums x − x over d in four accumulators, 64 floats a pass, then 16 at a
// time, the last n mod 16 through the mask K1 (masked-off lanes load as
// 0, and 0 − 0 adds nothing); ok is false when any lane of the sum is NaN
// (VCMPPS predicate 3: unordered).
TEXT ·allFiniteAVX512(SB), NOSPLIT, $0-25
	MOVQ d+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ mask+16(FP), AX
	KMOVW AX, K1
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3

loop64:
	CMPQ CX, $64
	JLT  loop16
	VMOVUPS (SI), Z4
	VMOVUPS 64(SI), Z5
	VMOVUPS 128(SI), Z6
	VMOVUPS 192(SI), Z7
	VSUBPS Z4, Z4, Z4
	VSUBPS Z5, Z5, Z5
	VSUBPS Z6, Z6, Z6
	VSUBPS Z7, Z7, Z7
	VADDPS Z4, Z0, Z0
	VADDPS Z5, Z1, Z1
	VADDPS Z6, Z2, Z2
	VADDPS Z7, Z3, Z3
	ADDQ $256, SI
	SUBQ $64, CX
	JMP  loop64

loop16:
	CMPQ CX, $16
	JLT  tail
	VMOVUPS (SI), Z4
	VSUBPS Z4, Z4, Z4
	VADDPS Z4, Z0, Z0
	ADDQ $64, SI
	SUBQ $16, CX
	JMP  loop16

tail:
	TESTQ CX, CX
	JZ    done
	VMOVUPS.Z (SI), K1, Z4
	VSUBPS Z4, Z4, Z4
	VADDPS Z4, Z1, Z1

done:
	VADDPS Z1, Z0, Z0
	VADDPS Z3, Z2, Z2
	VADDPS Z2, Z0, Z0
	VCMPPS $3, Z0, Z0, K2
	KORTESTW K2, K2
	SETEQ ok+24(FP)
	VZEROUPPER
	RET

// func allFiniteAVX2(d *float32, n int) (ok bool)
//
// allFiniteAVX512's pass in ymm registers, 32 floats a pass, then 8 at a
// time; n is a multiple of 8.
TEXT ·allFiniteAVX2(SB), NOSPLIT, $0-17
	MOVQ d+0(FP), SI
	MOVQ n+8(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

loop32:
	CMPQ CX, $32
	JLT  loop8
	VMOVUPS (SI), Y4
	VMOVUPS 32(SI), Y5
	VMOVUPS 64(SI), Y6
	VMOVUPS 96(SI), Y7
	VSUBPS Y4, Y4, Y4
	VSUBPS Y5, Y5, Y5
	VSUBPS Y6, Y6, Y6
	VSUBPS Y7, Y7, Y7
	VADDPS Y4, Y0, Y0
	VADDPS Y5, Y1, Y1
	VADDPS Y6, Y2, Y2
	VADDPS Y7, Y3, Y3
	ADDQ $128, SI
	SUBQ $32, CX
	JMP  loop32

loop8:
	CMPQ CX, $8
	JLT  done
	VMOVUPS (SI), Y4
	VSUBPS Y4, Y4, Y4
	VADDPS Y4, Y0, Y0
	ADDQ $32, SI
	SUBQ $8, CX
	JMP  loop8

done:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	VCMPPS $3, Y0, Y0, Y0
	VMOVMSKPS Y0, AX
	TESTL AX, AX
	SETEQ ok+16(FP)
	VZEROUPPER
	RET
