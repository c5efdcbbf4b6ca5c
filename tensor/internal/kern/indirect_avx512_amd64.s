//go:build amd64 && !purego

#include "textflag.h"
#include "indirect_amd64.h"

// AVX-512F indirect-B micro-kernels for SgemmIndirectB: the R×32 tile
//
//	C = A·B
//
// or its first columns, those the masks select (bits 0–15 of masks: K1,
// the first zmm; bits 16–31: K2, the second), as the last strip of C needs,
// with, by mode, bias[r] added to row r (bit 0), the sum rectified
// (bit 1: max(v, 0) keeping a NaN, then +0, as AddBias does) and bounded
// above by bound (bit 2: min(v, bound) keeping a NaN, ReLU6's, as
// BiasRows does), so a convolution can write its output in place
// with A a packed micro-panel (element (i, p) at a[p*R+i]) and row p of B
// the 32 floats at src + 4·offs[p]. One step of k loads the row's offset,
// two zmm of B from it, broadcasts R values of A and issues 2·R FMAs into
// Z0..Z(2R−1); each element of C is the same chain of FMAs in k order as
// the AVX2 16-column kernels compute, so the two agree bit for bit. C (row
// stride ldc bytes) is overwritten in the masked columns, never read.
// Only AVX-512F instructions touch zmm registers.

// ZMASKS loads the column masks: K1 (bits 0–15), K2 (bits 16–31).
#define ZMASKS \
	MOVQ  masks+48(FP), R13; \
	KMOVW R13, K1; \
	SHRQ  $16, R13; \
	KMOVW R13, K2

// ZBIASROW adds the bias at off(R12) to one row's accumulators za, zb.
#define ZBIASROW(off, za, zb) \
	VBROADCASTSS off(R12), Z24; \
	VADDPS       Z24, za, za; \
	VADDPS       Z24, zb, zb

// ZRELUROW rectifies one row (Z25 = 0): max(v, 0) keeps a NaN, then +0
// turns −0 into +0, as AddBias does.
#define ZRELUROW(za, zb) \
	VMAXPS za, Z25, za; \
	VADDPS Z25, za, za; \
	VMAXPS zb, Z25, zb; \
	VADDPS Z25, zb, zb

// ZMIN2 and ZMIN6 bound two and six accumulators above by Z25:
// min(v, bound) keeping a NaN.
#define ZMIN2(z0, z1) \
	VMINPS z0, Z25, z0; \
	VMINPS z1, Z25, z1

#define ZMIN6(z0, z1, z2, z3, z4, z5) \
	ZMIN2(z0, z1); \
	ZMIN2(z2, z3); \
	ZMIN2(z4, z5)

// ZZERO6 clears six accumulators (three rows).
#define ZZERO6(z0, z1, z2, z3, z4, z5) \
	VPXORD z0, z0, z0; \
	VPXORD z1, z1, z1; \
	VPXORD z2, z2, z2; \
	VPXORD z3, z3, z3; \
	VPXORD z4, z4, z4; \
	VPXORD z5, z5, z5

// ZBIAS3 adds the biases at off, off+4 and off+8 of R12 to three rows.
#define ZBIAS3(off, z0, z1, z2, z3, z4, z5) \
	ZBIASROW(off, z0, z1); \
	ZBIASROW(off+4, z2, z3); \
	ZBIASROW(off+8, z4, z5)

// ZRELU3 rectifies three rows (Z25 = 0).
#define ZRELU3(z0, z1, z2, z3, z4, z5) \
	ZRELUROW(z0, z1); \
	ZRELUROW(z2, z3); \
	ZRELUROW(z4, z5)

// ZSTORE3 stores three rows through the masks at base, base + ldc and
// base + 2·ldc (DX = ldc).
#define ZSTORE3(base, z0, z1, z2, z3, z4, z5) \
	VMOVUPS z0, K1, (base); \
	VMOVUPS z1, K2, 64(base); \
	VMOVUPS z2, K1, (base)(DX*1); \
	VMOVUPS z3, K2, 64(base)(DX*1); \
	VMOVUPS z4, K1, (base)(DX*2); \
	VMOVUPS z5, K2, 64(base)(DX*2)

// ZINDB loads B row u (offset offs[u]) into Z24, Z25: the columns the
// masks K1 (0–15) and K2 (16–31) select, zero elsewhere (nothing past them
// is read).
#define ZINDB(u) \
	MOVLQSX u*4(R8), R13; \
	VMOVUPS.Z (BX)(R13*4), K1, Z24; \
	VMOVUPS.Z 64(BX)(R13*4), K2, Z25

// ZINDROWS2 broadcasts A elements at byte offsets o and o+4 and updates
// accumulator rows r0 (r0a, r0b) and r1 (r1a, r1b).
#define ZINDROWS2(o, r0a, r0b, r1a, r1b) \
	VBROADCASTSS o(AX), Z26; \
	VBROADCASTSS o+4(AX), Z27; \
	VFMADD231PS  Z24, Z26, r0a; \
	VFMADD231PS  Z25, Z26, r0b; \
	VFMADD231PS  Z24, Z27, r1a; \
	VFMADD231PS  Z25, Z27, r1b

#define ZIND12(u) \
	ZINDB(u); \
	ZINDROWS2(u*48, Z0, Z1, Z2, Z3); \
	ZINDROWS2(u*48+8, Z4, Z5, Z6, Z7); \
	ZINDROWS2(u*48+16, Z8, Z9, Z10, Z11); \
	ZINDROWS2(u*48+24, Z12, Z13, Z14, Z15); \
	ZINDROWS2(u*48+32, Z16, Z17, Z18, Z19); \
	ZINDROWS2(u*48+40, Z20, Z21, Z22, Z23)

#define ZIND6(u) \
	ZINDB(u); \
	ZINDROWS2(u*24, Z0, Z1, Z2, Z3); \
	ZINDROWS2(u*24+8, Z4, Z5, Z6, Z7); \
	ZINDROWS2(u*24+16, Z8, Z9, Z10, Z11)

#define ZIND4(u) \
	ZINDB(u); \
	ZINDROWS2(u*16, Z0, Z1, Z2, Z3); \
	ZINDROWS2(u*16+8, Z4, Z5, Z6, Z7)

#define ZIND2(u) \
	ZINDB(u); \
	ZINDROWS2(u*8, Z0, Z1, Z2, Z3)

// func sgemmInd12x32(kc int, a *float32, src *float32, offs *int32, c *float32, ldc uintptr, masks uint64, bias *float32, mode uint64, bound float32)
//
// Twelve rows: each row of B loaded serves 24 FMAs, twice the 6-row
// tile's, which halves the loads of B per FMA. Rows 6–11 are stored
// through R9 = C + 6·ldc and R10 = C + 9·ldc.
TEXT ·sgemmInd12x32(SB), NOSPLIT, $0-76
	INDARGS
	ZMASKS
	ZZERO6(Z0, Z1, Z2, Z3, Z4, Z5)
	ZZERO6(Z6, Z7, Z8, Z9, Z10, Z11)
	ZZERO6(Z12, Z13, Z14, Z15, Z16, Z17)
	ZZERO6(Z18, Z19, Z20, Z21, Z22, Z23)
	INDLOOP(ZIND12, 48, z12loop4, z12tail, z12loop1, z12done)
	// Epilogue: bias per row (mode bit 0) and the rectifier (bit 1),
	// as AddBias computes them.
	MOVQ  mode+64(FP), R13
	TESTQ R13, R13
	JZ    z12store
	MOVQ  bias+56(FP), R12
	ZBIAS3(0, Z0, Z1, Z2, Z3, Z4, Z5)
	ZBIAS3(12, Z6, Z7, Z8, Z9, Z10, Z11)
	ZBIAS3(24, Z12, Z13, Z14, Z15, Z16, Z17)
	ZBIAS3(36, Z18, Z19, Z20, Z21, Z22, Z23)
	TESTQ $2, R13
	JZ    z12bound
	VPXORD Z25, Z25, Z25
	ZRELU3(Z0, Z1, Z2, Z3, Z4, Z5)
	ZRELU3(Z6, Z7, Z8, Z9, Z10, Z11)
	ZRELU3(Z12, Z13, Z14, Z15, Z16, Z17)
	ZRELU3(Z18, Z19, Z20, Z21, Z22, Z23)
z12bound:
	TESTQ $4, R13
	JZ    z12store
	VBROADCASTSS bound+72(FP), Z25
	ZMIN6(Z0, Z1, Z2, Z3, Z4, Z5)
	ZMIN6(Z6, Z7, Z8, Z9, Z10, Z11)
	ZMIN6(Z12, Z13, Z14, Z15, Z16, Z17)
	ZMIN6(Z18, Z19, Z20, Z21, Z22, Z23)
z12store:
	LEAQ    (R11)(DX*2), R9
	ADDQ    DX, R9
	LEAQ    (R9)(DX*2), R10
	ADDQ    DX, R10
	ZSTORE3(CX, Z0, Z1, Z2, Z3, Z4, Z5)
	ZSTORE3(R11, Z6, Z7, Z8, Z9, Z10, Z11)
	ZSTORE3(R9, Z12, Z13, Z14, Z15, Z16, Z17)
	ZSTORE3(R10, Z18, Z19, Z20, Z21, Z22, Z23)
	VZEROUPPER
	RET

// func sgemmInd6x32(kc int, a *float32, src *float32, offs *int32, c *float32, ldc uintptr, masks uint64, bias *float32, mode uint64, bound float32)
TEXT ·sgemmInd6x32(SB), NOSPLIT, $0-76
	INDARGS
	ZMASKS
	ZZERO6(Z0, Z1, Z2, Z3, Z4, Z5)
	ZZERO6(Z6, Z7, Z8, Z9, Z10, Z11)
	INDLOOP(ZIND6, 24, z6loop4, z6tail, z6loop1, z6done)
	// Epilogue: bias per row (mode bit 0) and the rectifier (bit 1),
	// as AddBias computes them.
	MOVQ  mode+64(FP), R13
	TESTQ R13, R13
	JZ    z6store
	MOVQ  bias+56(FP), R12
	ZBIAS3(0, Z0, Z1, Z2, Z3, Z4, Z5)
	ZBIAS3(12, Z6, Z7, Z8, Z9, Z10, Z11)
	TESTQ $2, R13
	JZ    z6bound
	VPXORD Z25, Z25, Z25
	ZRELU3(Z0, Z1, Z2, Z3, Z4, Z5)
	ZRELU3(Z6, Z7, Z8, Z9, Z10, Z11)
z6bound:
	TESTQ $4, R13
	JZ    z6store
	VBROADCASTSS bound+72(FP), Z25
	ZMIN6(Z0, Z1, Z2, Z3, Z4, Z5)
	ZMIN6(Z6, Z7, Z8, Z9, Z10, Z11)
z6store:
	ZSTORE3(CX, Z0, Z1, Z2, Z3, Z4, Z5)
	ZSTORE3(R11, Z6, Z7, Z8, Z9, Z10, Z11)
	VZEROUPPER
	RET

// func sgemmInd4x32(kc int, a *float32, src *float32, offs *int32, c *float32, ldc uintptr, masks uint64, bias *float32, mode uint64, bound float32)
TEXT ·sgemmInd4x32(SB), NOSPLIT, $0-76
	INDARGS
	ZMASKS
	ZZERO6(Z0, Z1, Z2, Z3, Z4, Z5)
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	INDLOOP(ZIND4, 16, z4loop4, z4tail, z4loop1, z4done)
	// Epilogue: bias per row (mode bit 0) and the rectifier (bit 1),
	// as AddBias computes them.
	MOVQ  mode+64(FP), R13
	TESTQ R13, R13
	JZ    z4store
	MOVQ  bias+56(FP), R12
	ZBIAS3(0, Z0, Z1, Z2, Z3, Z4, Z5)
	ZBIASROW(12, Z6, Z7)
	TESTQ $2, R13
	JZ    z4bound
	VPXORD Z25, Z25, Z25
	ZRELU3(Z0, Z1, Z2, Z3, Z4, Z5)
	ZRELUROW(Z6, Z7)
z4bound:
	TESTQ $4, R13
	JZ    z4store
	VBROADCASTSS bound+72(FP), Z25
	ZMIN6(Z0, Z1, Z2, Z3, Z4, Z5)
	ZMIN2(Z6, Z7)
z4store:
	ZSTORE3(CX, Z0, Z1, Z2, Z3, Z4, Z5)
	VMOVUPS Z6, K1, (R11)
	VMOVUPS Z7, K2, 64(R11)
	VZEROUPPER
	RET

// func sgemmInd2x32(kc int, a *float32, src *float32, offs *int32, c *float32, ldc uintptr, masks uint64, bias *float32, mode uint64, bound float32)
TEXT ·sgemmInd2x32(SB), NOSPLIT, $0-76
	INDARGS
	ZMASKS
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	INDLOOP(ZIND2, 8, z2loop4, z2tail, z2loop1, z2done)
	// Epilogue: bias per row (mode bit 0) and the rectifier (bit 1),
	// as AddBias computes them.
	MOVQ  mode+64(FP), R13
	TESTQ R13, R13
	JZ    z2store
	MOVQ  bias+56(FP), R12
	ZBIASROW(0, Z0, Z1)
	ZBIASROW(4, Z2, Z3)
	TESTQ $2, R13
	JZ    z2bound
	VPXORD Z25, Z25, Z25
	ZRELUROW(Z0, Z1)
	ZRELUROW(Z2, Z3)
z2bound:
	TESTQ $4, R13
	JZ    z2store
	VBROADCASTSS bound+72(FP), Z25
	ZMIN2(Z0, Z1)
	ZMIN2(Z2, Z3)
z2store:
	VMOVUPS Z0, K1, (CX)
	VMOVUPS Z1, K2, 64(CX)
	VMOVUPS Z2, K1, (CX)(DX*1)
	VMOVUPS Z3, K2, 64(CX)(DX*1)
	VZEROUPPER
	RET

// The 16-column tiles: the R×32 tiles' first halves, for a tile whose
// columns fit one zmm (a row of 112 pixels ends in one of 16; a 14×14
// image's Winograd products have 16 columns at batch 1). The 32-column
// tile there spent half its FMAs on masked-off lanes. Each element is
// the same chain of FMAs as in the 32-column tiles. K1 (bits 0–15 of
// masks) selects the columns; bits 16–31 must be zero.

// ZINDB16 loads the first 16 columns of B row u into Z24.
#define ZINDB16(u) \
	MOVLQSX u*4(R8), R13; \
	VMOVUPS.Z (BX)(R13*4), K1, Z24

// ZIND16ROWS2 broadcasts A elements at byte offsets o and o+4 and updates
// accumulators r0 and r1.
#define ZIND16ROWS2(o, r0, r1) \
	VBROADCASTSS o(AX), Z26; \
	VBROADCASTSS o+4(AX), Z27; \
	VFMADD231PS  Z24, Z26, r0; \
	VFMADD231PS  Z24, Z27, r1

#define ZIND12H(u) \
	ZINDB16(u); \
	ZIND16ROWS2(u*48, Z0, Z1); \
	ZIND16ROWS2(u*48+8, Z2, Z3); \
	ZIND16ROWS2(u*48+16, Z4, Z5); \
	ZIND16ROWS2(u*48+24, Z6, Z7); \
	ZIND16ROWS2(u*48+32, Z8, Z9); \
	ZIND16ROWS2(u*48+40, Z10, Z11)

#define ZIND6H(u) \
	ZINDB16(u); \
	ZIND16ROWS2(u*24, Z0, Z1); \
	ZIND16ROWS2(u*24+8, Z2, Z3); \
	ZIND16ROWS2(u*24+16, Z4, Z5)

#define ZIND4H(u) \
	ZINDB16(u); \
	ZIND16ROWS2(u*16, Z0, Z1); \
	ZIND16ROWS2(u*16+8, Z2, Z3)

#define ZIND2H(u) \
	ZINDB16(u); \
	ZIND16ROWS2(u*8, Z0, Z1)

// ZBIAS16 adds the bias at off(R12) to one row's accumulator z; ZRELU16
// rectifies it (Z25 = 0) as ZRELUROW does.
#define ZBIAS16(off, z) \
	VBROADCASTSS off(R12), Z24; \
	VADDPS       Z24, z, z

#define ZRELU16(z) \
	VMAXPS z, Z25, z; \
	VADDPS Z25, z, z

// func sgemmInd12x16Z(kc int, a *float32, src *float32, offs *int32, c *float32, ldc uintptr, masks uint64, bias *float32, mode uint64, bound float32)
TEXT ·sgemmInd12x16Z(SB), NOSPLIT, $0-76
	INDARGS
	ZMASKS
	ZZERO6(Z0, Z1, Z2, Z3, Z4, Z5)
	ZZERO6(Z6, Z7, Z8, Z9, Z10, Z11)
	INDLOOP(ZIND12H, 48, h12loop4, h12tail, h12loop1, h12done)
	MOVQ  mode+64(FP), R13
	TESTQ R13, R13
	JZ    h12store
	MOVQ  bias+56(FP), R12
	ZBIAS16(0, Z0)
	ZBIAS16(4, Z1)
	ZBIAS16(8, Z2)
	ZBIAS16(12, Z3)
	ZBIAS16(16, Z4)
	ZBIAS16(20, Z5)
	ZBIAS16(24, Z6)
	ZBIAS16(28, Z7)
	ZBIAS16(32, Z8)
	ZBIAS16(36, Z9)
	ZBIAS16(40, Z10)
	ZBIAS16(44, Z11)
	TESTQ $2, R13
	JZ    h12bound
	VPXORD Z25, Z25, Z25
	ZRELU16(Z0)
	ZRELU16(Z1)
	ZRELU16(Z2)
	ZRELU16(Z3)
	ZRELU16(Z4)
	ZRELU16(Z5)
	ZRELU16(Z6)
	ZRELU16(Z7)
	ZRELU16(Z8)
	ZRELU16(Z9)
	ZRELU16(Z10)
	ZRELU16(Z11)
h12bound:
	TESTQ $4, R13
	JZ    h12store
	VBROADCASTSS bound+72(FP), Z25
	ZMIN6(Z0, Z1, Z2, Z3, Z4, Z5)
	ZMIN6(Z6, Z7, Z8, Z9, Z10, Z11)
h12store:
	LEAQ    (R11)(DX*2), R9
	ADDQ    DX, R9
	LEAQ    (R9)(DX*2), R10
	ADDQ    DX, R10
	VMOVUPS Z0, K1, (CX)
	VMOVUPS Z1, K1, (CX)(DX*1)
	VMOVUPS Z2, K1, (CX)(DX*2)
	VMOVUPS Z3, K1, (R11)
	VMOVUPS Z4, K1, (R11)(DX*1)
	VMOVUPS Z5, K1, (R11)(DX*2)
	VMOVUPS Z6, K1, (R9)
	VMOVUPS Z7, K1, (R9)(DX*1)
	VMOVUPS Z8, K1, (R9)(DX*2)
	VMOVUPS Z9, K1, (R10)
	VMOVUPS Z10, K1, (R10)(DX*1)
	VMOVUPS Z11, K1, (R10)(DX*2)
	VZEROUPPER
	RET

// func sgemmInd6x16Z(kc int, a *float32, src *float32, offs *int32, c *float32, ldc uintptr, masks uint64, bias *float32, mode uint64, bound float32)
TEXT ·sgemmInd6x16Z(SB), NOSPLIT, $0-76
	INDARGS
	ZMASKS
	ZZERO6(Z0, Z1, Z2, Z3, Z4, Z5)
	INDLOOP(ZIND6H, 24, h6loop4, h6tail, h6loop1, h6done)
	MOVQ  mode+64(FP), R13
	TESTQ R13, R13
	JZ    h6store
	MOVQ  bias+56(FP), R12
	ZBIAS16(0, Z0)
	ZBIAS16(4, Z1)
	ZBIAS16(8, Z2)
	ZBIAS16(12, Z3)
	ZBIAS16(16, Z4)
	ZBIAS16(20, Z5)
	TESTQ $2, R13
	JZ    h6bound
	VPXORD Z25, Z25, Z25
	ZRELU16(Z0)
	ZRELU16(Z1)
	ZRELU16(Z2)
	ZRELU16(Z3)
	ZRELU16(Z4)
	ZRELU16(Z5)
h6bound:
	TESTQ $4, R13
	JZ    h6store
	VBROADCASTSS bound+72(FP), Z25
	ZMIN6(Z0, Z1, Z2, Z3, Z4, Z5)
h6store:
	VMOVUPS Z0, K1, (CX)
	VMOVUPS Z1, K1, (CX)(DX*1)
	VMOVUPS Z2, K1, (CX)(DX*2)
	VMOVUPS Z3, K1, (R11)
	VMOVUPS Z4, K1, (R11)(DX*1)
	VMOVUPS Z5, K1, (R11)(DX*2)
	VZEROUPPER
	RET

// func sgemmInd4x16Z(kc int, a *float32, src *float32, offs *int32, c *float32, ldc uintptr, masks uint64, bias *float32, mode uint64, bound float32)
TEXT ·sgemmInd4x16Z(SB), NOSPLIT, $0-76
	INDARGS
	ZMASKS
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	INDLOOP(ZIND4H, 16, h4loop4, h4tail, h4loop1, h4done)
	MOVQ  mode+64(FP), R13
	TESTQ R13, R13
	JZ    h4store
	MOVQ  bias+56(FP), R12
	ZBIAS16(0, Z0)
	ZBIAS16(4, Z1)
	ZBIAS16(8, Z2)
	ZBIAS16(12, Z3)
	TESTQ $2, R13
	JZ    h4bound
	VPXORD Z25, Z25, Z25
	ZRELU16(Z0)
	ZRELU16(Z1)
	ZRELU16(Z2)
	ZRELU16(Z3)
h4bound:
	TESTQ $4, R13
	JZ    h4store
	VBROADCASTSS bound+72(FP), Z25
	ZMIN2(Z0, Z1)
	ZMIN2(Z2, Z3)
h4store:
	VMOVUPS Z0, K1, (CX)
	VMOVUPS Z1, K1, (CX)(DX*1)
	VMOVUPS Z2, K1, (CX)(DX*2)
	VMOVUPS Z3, K1, (R11)
	VZEROUPPER
	RET

// func sgemmInd2x16Z(kc int, a *float32, src *float32, offs *int32, c *float32, ldc uintptr, masks uint64, bias *float32, mode uint64, bound float32)
TEXT ·sgemmInd2x16Z(SB), NOSPLIT, $0-76
	INDARGS
	ZMASKS
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	INDLOOP(ZIND2H, 8, h2loop4, h2tail, h2loop1, h2done)
	MOVQ  mode+64(FP), R13
	TESTQ R13, R13
	JZ    h2store
	MOVQ  bias+56(FP), R12
	ZBIAS16(0, Z0)
	ZBIAS16(4, Z1)
	TESTQ $2, R13
	JZ    h2bound
	VPXORD Z25, Z25, Z25
	ZRELU16(Z0)
	ZRELU16(Z1)
h2bound:
	TESTQ $4, R13
	JZ    h2store
	VBROADCASTSS bound+72(FP), Z25
	ZMIN2(Z0, Z1)
h2store:
	VMOVUPS Z0, K1, (CX)
	VMOVUPS Z1, K1, (CX)(DX*1)
	VZEROUPPER
	RET
