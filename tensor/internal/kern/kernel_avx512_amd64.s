//go:build amd64 && !purego

#include "textflag.h"
#include "transpose_amd64.h"

// AVX-512F GEMM micro-kernels: tiles of 32 columns of C (two zmm per row),
// 12 rows (24 accumulators) for the main kernel and 8, 4 or 2 rows for the
// last rows of C. Per step of k they load two zmm of the packed B panel,
// broadcast one value of A per row and issue two FMAs per row (the
// register layout of BLIS's Skylake-X kernel, transposed for row-major C).
//
// Only AVX-512F instructions are used on zmm registers (VPXORD rather than
// VXORPS, which on zmm is AVX-512DQ). Arguments, shared by all four:
//
//	func sgemmNx32(kc int, a *float32, rsa, csa uintptr, b, c *float32, ldc uintptr, alpha, beta float32)
//
// Registers: SI = kc, AX/R9/R12/R13 = rows 0, 3, 6 and 9 of A (R8 = rsa,
// R10 = csa, both in bytes), BX = B, CX = C, DX = ldc in bytes, DI = loop
// counter, R11 = scratch (3·ldc in the epilogues). Z24, Z25 hold the B
// step, Z26..Z31 the broadcasts of A; Z27 holds beta in the epilogues.

// Two rows of A (at m0, m1) times the B step into accumulators c0..c3.
#define ROWS2(m0, m1, t0, t1, c0, c1, c2, c3) \
	VBROADCASTSS m0, t0; \
	VBROADCASTSS m1, t1; \
	VFMADD231PS  Z24, t0, c0; \
	VFMADD231PS  Z25, t0, c1; \
	VFMADD231PS  Z24, t1, c2; \
	VFMADD231PS  Z25, t1, c3

// One row of A (at m0) times the B step into accumulators c0, c1.
#define ROW1(m0, t0, c0, c1) \
	VBROADCASTSS m0, t0; \
	VFMADD231PS  Z24, t0, c0; \
	VFMADD231PS  Z25, t0, c1

// The B step at offsets o0, o1 from BX, prefetching both of its cache
// lines 16 steps ahead. With kc = 256 the 32 KiB B micro-panel does not
// stay in a 32 KiB L1 while A streams past, so B comes from L2 (and, on a
// panel's first tile, L3) on every tile. Measured on Zen 4 (one core,
// 1024³, 15 interleaved rounds): 92.3 GFLOP/s median against 88.5 with
// one line prefetched 8 steps ahead; 2 KiB ahead beat 1, 3 and 4 KiB.
#define LOADB(o0, o1) \
	VMOVUPS    o0(BX), Z24; \
	VMOVUPS    o1(BX), Z25; \
	PREFETCHT0 o0+2048(BX); \
	PREFETCHT0 o1+2048(BX)

// One step of k for 12 rows.
#define STEP12(o0, o1) \
	LOADB(o0, o1); \
	ROWS2((AX), (AX)(R8*1), Z26, Z27, Z0, Z1, Z2, Z3); \
	ROWS2((AX)(R8*2), (R9), Z28, Z29, Z4, Z5, Z6, Z7); \
	ROWS2((R9)(R8*1), (R9)(R8*2), Z30, Z31, Z8, Z9, Z10, Z11); \
	ROWS2((R12), (R12)(R8*1), Z26, Z27, Z12, Z13, Z14, Z15); \
	ROWS2((R12)(R8*2), (R13), Z28, Z29, Z16, Z17, Z18, Z19); \
	ROWS2((R13)(R8*1), (R13)(R8*2), Z30, Z31, Z20, Z21, Z22, Z23); \
	ADDQ R10, AX; \
	ADDQ R10, R9; \
	ADDQ R10, R12; \
	ADDQ R10, R13

// One step of k for 8 rows.
#define STEP8(o0, o1) \
	LOADB(o0, o1); \
	ROWS2((AX), (AX)(R8*1), Z26, Z27, Z0, Z1, Z2, Z3); \
	ROWS2((AX)(R8*2), (R9), Z28, Z29, Z4, Z5, Z6, Z7); \
	ROWS2((R9)(R8*1), (R9)(R8*2), Z30, Z31, Z8, Z9, Z10, Z11); \
	ROWS2((R12), (R12)(R8*1), Z26, Z27, Z12, Z13, Z14, Z15); \
	ADDQ R10, AX; \
	ADDQ R10, R9; \
	ADDQ R10, R12

// One step of k for 4 rows.
#define STEP4(o0, o1) \
	LOADB(o0, o1); \
	ROWS2((AX), (AX)(R8*1), Z26, Z27, Z0, Z1, Z2, Z3); \
	ROWS2((AX)(R8*2), (R9), Z28, Z29, Z4, Z5, Z6, Z7); \
	ADDQ R10, AX; \
	ADDQ R10, R9

// One step of k for 2 rows into c0..c3 (the 2-row kernel alternates two
// sets of accumulators so that eight FMA chains are in flight).
#define STEP2(o0, o1, c0, c1, c2, c3) \
	LOADB(o0, o1); \
	ROWS2((AX), (AX)(R8*1), Z26, Z27, c0, c1, c2, c3); \
	ADDQ R10, AX

// Loads the arguments and sets R9 = a + 3·rsa, R12 = a + 6·rsa,
// R13 = a + 9·rsa (rows past the tile are never read).
#define ARGS \
	MOVQ kc+0(FP), SI; \
	MOVQ a+8(FP), AX; \
	MOVQ rsa+16(FP), R8; \
	MOVQ csa+24(FP), R10; \
	MOVQ b+32(FP), BX; \
	MOVQ c+40(FP), CX; \
	MOVQ ldc+48(FP), DX; \
	LEAQ (R8)(R8*2), R11; \
	LEAQ (AX)(R11*1), R9; \
	LEAQ (R9)(R11*1), R12; \
	LEAQ (R12)(R11*1), R13

// Prefetches three rows of C (128 bytes each) from R11 and moves R11 on
// by three rows (DI = 3·ldc).
#define PREFETCHC3 \
	PREFETCHT0 (R11); \
	PREFETCHT0 64(R11); \
	PREFETCHT0 (R11)(DX*1); \
	PREFETCHT0 64(R11)(DX*1); \
	PREFETCHT0 (R11)(DX*2); \
	PREFETCHT0 64(R11)(DX*2); \
	ADDQ       DI, R11

// Splits kc into DI = kc/4 unrolled iterations and SI = kc%4.
#define SPLITK \
	MOVQ SI, DI; \
	SHRQ $2, DI; \
	ANDQ $3, SI

#define SCALE2(a0, a1) \
	VMULPS Z26, a0, a0; \
	VMULPS Z26, a1, a1

// Stores a row of C (m0, m1: its two halves) for beta == 0, or sets it to
// acc + beta·C (beta in Z27).
#define PUT(m0, m1, a0, a1) \
	VMOVUPS a0, m0; \
	VMOVUPS a1, m1

#define BLEND(m0, m1, a0, a1) \
	VFMADD231PS m0, Z27, a0; \
	VFMADD231PS m1, Z27, a1; \
	VMOVUPS     a0, m0; \
	VMOVUPS     a1, m1

// Three rows of C from CX, then CX moves on three rows (R11 = 3·ldc).
#define PUT3(a0, a1, b0, b1, c0, c1) \
	PUT((CX), 64(CX), a0, a1); \
	PUT((CX)(DX*1), 64(CX)(DX*1), b0, b1); \
	PUT((CX)(DX*2), 64(CX)(DX*2), c0, c1); \
	ADDQ R11, CX

#define BLEND3(a0, a1, b0, b1, c0, c1) \
	BLEND((CX), 64(CX), a0, a1); \
	BLEND((CX)(DX*1), 64(CX)(DX*1), b0, b1); \
	BLEND((CX)(DX*2), 64(CX)(DX*2), c0, c1); \
	ADDQ R11, CX

// Jumps to label if beta != 0 (NaN included); a beta of ±0 means C is not
// read. Loads alpha into Z26, beta into Z27 and 3·ldc into R11.
#define EPILOGUE(label) \
	VBROADCASTSS alpha+56(FP), Z26; \
	VBROADCASTSS beta+60(FP), Z27; \
	LEAQ         (DX)(DX*2), R11; \
	MOVL         beta+60(FP), DI; \
	ANDL         $0x7fffffff, DI; \
	JNZ          label

// func sgemm12x32(kc int, a *float32, rsa, csa uintptr, b, c *float32, ldc uintptr, alpha, beta float32)
TEXT ·sgemm12x32(SB), NOSPLIT, $0-64
	ARGS
	MOVQ CX, R11
	LEAQ (DX)(DX*2), DI
	PREFETCHC3
	PREFETCHC3
	PREFETCHC3
	PREFETCHC3

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23

	SPLITK
	TESTQ DI, DI
	JZ    tail12

loop12:
	STEP12(0, 64)
	STEP12(128, 192)
	STEP12(256, 320)
	STEP12(384, 448)
	ADDQ $512, BX
	DECQ DI
	JNZ  loop12

tail12:
	TESTQ SI, SI
	JZ    epi12

loop12x1:
	STEP12(0, 64)
	ADDQ $128, BX
	DECQ SI
	JNZ  loop12x1

epi12:
	EPILOGUE(beta12)
	SCALE2(Z0, Z1)
	SCALE2(Z2, Z3)
	SCALE2(Z4, Z5)
	SCALE2(Z6, Z7)
	SCALE2(Z8, Z9)
	SCALE2(Z10, Z11)
	SCALE2(Z12, Z13)
	SCALE2(Z14, Z15)
	SCALE2(Z16, Z17)
	SCALE2(Z18, Z19)
	SCALE2(Z20, Z21)
	SCALE2(Z22, Z23)
	PUT3(Z0, Z1, Z2, Z3, Z4, Z5)
	PUT3(Z6, Z7, Z8, Z9, Z10, Z11)
	PUT3(Z12, Z13, Z14, Z15, Z16, Z17)
	PUT3(Z18, Z19, Z20, Z21, Z22, Z23)
	VZEROUPPER
	RET

beta12:
	SCALE2(Z0, Z1)
	SCALE2(Z2, Z3)
	SCALE2(Z4, Z5)
	SCALE2(Z6, Z7)
	SCALE2(Z8, Z9)
	SCALE2(Z10, Z11)
	SCALE2(Z12, Z13)
	SCALE2(Z14, Z15)
	SCALE2(Z16, Z17)
	SCALE2(Z18, Z19)
	SCALE2(Z20, Z21)
	SCALE2(Z22, Z23)
	BLEND3(Z0, Z1, Z2, Z3, Z4, Z5)
	BLEND3(Z6, Z7, Z8, Z9, Z10, Z11)
	BLEND3(Z12, Z13, Z14, Z15, Z16, Z17)
	BLEND3(Z18, Z19, Z20, Z21, Z22, Z23)
	VZEROUPPER
	RET

// func sgemm8x32(kc int, a *float32, rsa, csa uintptr, b, c *float32, ldc uintptr, alpha, beta float32)
TEXT ·sgemm8x32(SB), NOSPLIT, $0-64
	ARGS
	MOVQ CX, R11
	LEAQ (DX)(DX*2), DI
	PREFETCHC3
	PREFETCHC3
	PREFETCHT0 (R11)
	PREFETCHT0 64(R11)
	PREFETCHT0 (R11)(DX*1)
	PREFETCHT0 64(R11)(DX*1)

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15

	SPLITK
	TESTQ DI, DI
	JZ    tail8

loop8:
	STEP8(0, 64)
	STEP8(128, 192)
	STEP8(256, 320)
	STEP8(384, 448)
	ADDQ $512, BX
	DECQ DI
	JNZ  loop8

tail8:
	TESTQ SI, SI
	JZ    epi8

loop8x1:
	STEP8(0, 64)
	ADDQ $128, BX
	DECQ SI
	JNZ  loop8x1

epi8:
	EPILOGUE(beta8)
	SCALE2(Z0, Z1)
	SCALE2(Z2, Z3)
	SCALE2(Z4, Z5)
	SCALE2(Z6, Z7)
	SCALE2(Z8, Z9)
	SCALE2(Z10, Z11)
	SCALE2(Z12, Z13)
	SCALE2(Z14, Z15)
	PUT3(Z0, Z1, Z2, Z3, Z4, Z5)
	PUT3(Z6, Z7, Z8, Z9, Z10, Z11)
	PUT((CX), 64(CX), Z12, Z13)
	PUT((CX)(DX*1), 64(CX)(DX*1), Z14, Z15)
	VZEROUPPER
	RET

beta8:
	SCALE2(Z0, Z1)
	SCALE2(Z2, Z3)
	SCALE2(Z4, Z5)
	SCALE2(Z6, Z7)
	SCALE2(Z8, Z9)
	SCALE2(Z10, Z11)
	SCALE2(Z12, Z13)
	SCALE2(Z14, Z15)
	BLEND3(Z0, Z1, Z2, Z3, Z4, Z5)
	BLEND3(Z6, Z7, Z8, Z9, Z10, Z11)
	BLEND((CX), 64(CX), Z12, Z13)
	BLEND((CX)(DX*1), 64(CX)(DX*1), Z14, Z15)
	VZEROUPPER
	RET

// func sgemm4x32(kc int, a *float32, rsa, csa uintptr, b, c *float32, ldc uintptr, alpha, beta float32)
TEXT ·sgemm4x32(SB), NOSPLIT, $0-64
	ARGS
	MOVQ CX, R11
	LEAQ (DX)(DX*2), DI
	PREFETCHC3
	PREFETCHT0 (R11)
	PREFETCHT0 64(R11)

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7

	SPLITK
	TESTQ DI, DI
	JZ    tail4

loop4:
	STEP4(0, 64)
	STEP4(128, 192)
	STEP4(256, 320)
	STEP4(384, 448)
	ADDQ $512, BX
	DECQ DI
	JNZ  loop4

tail4:
	TESTQ SI, SI
	JZ    epi4

loop4x1:
	STEP4(0, 64)
	ADDQ $128, BX
	DECQ SI
	JNZ  loop4x1

epi4:
	EPILOGUE(beta4)
	SCALE2(Z0, Z1)
	SCALE2(Z2, Z3)
	SCALE2(Z4, Z5)
	SCALE2(Z6, Z7)
	PUT3(Z0, Z1, Z2, Z3, Z4, Z5)
	PUT((CX), 64(CX), Z6, Z7)
	VZEROUPPER
	RET

beta4:
	SCALE2(Z0, Z1)
	SCALE2(Z2, Z3)
	SCALE2(Z4, Z5)
	SCALE2(Z6, Z7)
	BLEND3(Z0, Z1, Z2, Z3, Z4, Z5)
	BLEND((CX), 64(CX), Z6, Z7)
	VZEROUPPER
	RET

// func sgemm2x32(kc int, a *float32, rsa, csa uintptr, b, c *float32, ldc uintptr, alpha, beta float32)
// Even and odd steps of k go to separate accumulators (Z0..Z3, Z4..Z7),
// added together at the end.
TEXT ·sgemm2x32(SB), NOSPLIT, $0-64
	ARGS
	PREFETCHT0 (CX)
	PREFETCHT0 64(CX)
	PREFETCHT0 (CX)(DX*1)
	PREFETCHT0 64(CX)(DX*1)

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7

	SPLITK
	TESTQ DI, DI
	JZ    tail2

loop2:
	STEP2(0, 64, Z0, Z1, Z2, Z3)
	STEP2(128, 192, Z4, Z5, Z6, Z7)
	STEP2(256, 320, Z0, Z1, Z2, Z3)
	STEP2(384, 448, Z4, Z5, Z6, Z7)
	ADDQ $512, BX
	DECQ DI
	JNZ  loop2

tail2:
	TESTQ SI, SI
	JZ    epi2

loop2x1:
	STEP2(0, 64, Z0, Z1, Z2, Z3)
	ADDQ $128, BX
	DECQ SI
	JNZ  loop2x1

epi2:
	VADDPS Z4, Z0, Z0
	VADDPS Z5, Z1, Z1
	VADDPS Z6, Z2, Z2
	VADDPS Z7, Z3, Z3
	EPILOGUE(beta2)
	SCALE2(Z0, Z1)
	SCALE2(Z2, Z3)
	PUT((CX), 64(CX), Z0, Z1)
	PUT((CX)(DX*1), 64(CX)(DX*1), Z2, Z3)
	VZEROUPPER
	RET

beta2:
	SCALE2(Z0, Z1)
	SCALE2(Z2, Z3)
	BLEND((CX), 64(CX), Z0, Z1)
	BLEND((CX)(DX*1), 64(CX)(DX*1), Z2, Z3)
	VZEROUPPER
	RET

// Packing for the 12×32 kernel. A is packed as micro-panels of 12 rows
// (element (i, p) at p*12+i), B as micro-panels of 32 columns (element
// (p, j) at p*32+j).

// PACK4ROWS transposes 8 values of k from four rows of A (from base, DX =
// lda, R10 = 3·lda) and stores them as rows i..i+3 of eight packed steps
// of k (off = 4·i bytes; a packed step is 48 bytes). Y0..Y7 are scratch.
#define PACK4ROWS(base, off) \
	VMOVUPS      (base), Y0; \
	VMOVUPS      (base)(DX*1), Y1; \
	VMOVUPS      (base)(DX*2), Y2; \
	VMOVUPS      (base)(R10*1), Y3; \
	VUNPCKLPS    Y1, Y0, Y4; \
	VUNPCKHPS    Y1, Y0, Y5; \
	VUNPCKLPS    Y3, Y2, Y6; \
	VUNPCKHPS    Y3, Y2, Y7; \
	VSHUFPS      $0x44, Y6, Y4, Y0; \
	VSHUFPS      $0xEE, Y6, Y4, Y1; \
	VSHUFPS      $0x44, Y7, Y5, Y2; \
	VSHUFPS      $0xEE, Y7, Y5, Y3; \
	VMOVUPS      X0, off(DI); \
	VMOVUPS      X1, off+48(DI); \
	VMOVUPS      X2, off+96(DI); \
	VMOVUPS      X3, off+144(DI); \
	VEXTRACTF128 $1, Y0, off+192(DI); \
	VEXTRACTF128 $1, Y1, off+240(DI); \
	VEXTRACTF128 $1, Y2, off+288(DI); \
	VEXTRACTF128 $1, Y3, off+336(DI)

// func packA12N(dst, src *float32, lda uintptr, k8 int)
// Packs 12 rows of A (lda bytes apart), 8·k8 values of k from each, into
// 8·k8 packed steps of 12 floats: three 4×8 transposes per 8 steps.
TEXT ·packA12N(SB), NOSPLIT, $0-32
	MOVQ  dst+0(FP), DI
	MOVQ  src+8(FP), SI
	MOVQ  lda+16(FP), DX
	MOVQ  k8+24(FP), CX
	LEAQ  (DX)(DX*2), R10
	LEAQ  (SI)(DX*4), R8
	LEAQ  (R8)(DX*4), R9
	TESTQ CX, CX
	JZ    pa12done

pa12loop:
	PACK4ROWS(SI, 0)
	PACK4ROWS(R8, 16)
	PACK4ROWS(R9, 32)
	ADDQ $32, SI
	ADDQ $32, R8
	ADDQ $32, R9
	ADDQ $384, DI
	DECQ CX
	JNZ  pa12loop

pa12done:
	VZEROUPPER
	RET

// func packB32N(dst, src *float32, ldb uintptr, k int)
// Copies k rows of 32 floats (ldb bytes apart) into a packed panel.
TEXT ·packB32N(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ldb+16(FP), DX
	MOVQ k+24(FP), CX

pb32n2:
	CMPQ    CX, $2
	JLT     pb32n1
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VMOVUPS (SI)(DX*1), Z2
	VMOVUPS 64(SI)(DX*1), Z3
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	LEAQ    (SI)(DX*2), SI
	ADDQ    $256, DI
	SUBQ    $2, CX
	JMP     pb32n2

pb32n1:
	TESTQ   CX, CX
	JZ      pb32ndone
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)

pb32ndone:
	VZEROUPPER
	RET

// func packB8T32(dst, src *float32, ldb uintptr, k8 int)
// Transposes 8 rows of src (ldb bytes apart) into 8 columns of a 32-wide
// packed panel: per 8 values along the rows, an 8×8 transpose stored as
// eight 128-byte-apart panel rows; k8 blocks.
TEXT ·packB8T32(SB), NOSPLIT, $0-32
	MOVQ  dst+0(FP), DI
	MOVQ  src+8(FP), SI
	MOVQ  ldb+16(FP), DX
	MOVQ  k8+24(FP), CX
	LEAQ  (DX)(DX*2), R10
	LEAQ  (SI)(DX*4), R9
	TESTQ CX, CX
	JZ    pb8t32done

pb8t32loop:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(DX*1), Y1
	VMOVUPS (SI)(DX*2), Y2
	VMOVUPS (SI)(R10*1), Y3
	VMOVUPS (R9), Y4
	VMOVUPS (R9)(DX*1), Y5
	VMOVUPS (R9)(DX*2), Y6
	VMOVUPS (R9)(R10*1), Y7

	TRANSPOSE8X8S(DI, 128)

	ADDQ $32, SI
	ADDQ $32, R9
	ADDQ $1024, DI
	DECQ CX
	JNZ  pb8t32loop

pb8t32done:
	VZEROUPPER
	RET
