//go:build amd64 && !purego

#include "textflag.h"
#include "transpose_amd64.h"

// One step of k for the 6×16 tile: two ymm of B (offsets o0, o1 from BX),
// six broadcasts of A (rows at AX, AX+rsa, AX+2rsa, R9=AX+3rsa, ...), twelve
// FMAs into Y0..Y11, then A moves one column on (csa bytes).
#define STEP(o0, o1) \
	VMOVUPS      o0(BX), Y12; \
	VMOVUPS      o1(BX), Y13; \
	VBROADCASTSS (AX), Y14; \
	VBROADCASTSS (AX)(R8*1), Y15; \
	VFMADD231PS  Y12, Y14, Y0; \
	VFMADD231PS  Y13, Y14, Y1; \
	VFMADD231PS  Y12, Y15, Y2; \
	VFMADD231PS  Y13, Y15, Y3; \
	VBROADCASTSS (AX)(R8*2), Y14; \
	VBROADCASTSS (R9), Y15; \
	VFMADD231PS  Y12, Y14, Y4; \
	VFMADD231PS  Y13, Y14, Y5; \
	VFMADD231PS  Y12, Y15, Y6; \
	VFMADD231PS  Y13, Y15, Y7; \
	VBROADCASTSS (R9)(R8*1), Y14; \
	VBROADCASTSS (R9)(R8*2), Y15; \
	VFMADD231PS  Y12, Y14, Y8; \
	VFMADD231PS  Y13, Y14, Y9; \
	VFMADD231PS  Y12, Y15, Y10; \
	VFMADD231PS  Y13, Y15, Y11; \
	ADDQ         R10, AX; \
	ADDQ         R10, R9

// func sgemm6x16(kc int, a *float32, rsa, csa uintptr, b, c *float32, ldc uintptr, alpha, beta float32)
TEXT ·sgemm6x16(SB), NOSPLIT, $0-64
	MOVQ kc+0(FP), SI
	MOVQ a+8(FP), AX
	MOVQ rsa+16(FP), R8
	MOVQ csa+24(FP), R10
	MOVQ b+32(FP), BX
	MOVQ c+40(FP), CX
	MOVQ ldc+48(FP), DX

	LEAQ (AX)(R8*2), R9
	ADDQ R8, R9          // R9 = a + 3*rsa
	LEAQ (CX)(DX*2), R11
	ADDQ DX, R11         // R11 = c + 3*ldc

	// Bring the C tile towards L1 while the k loop runs.
	PREFETCHT0 (CX)
	PREFETCHT0 63(CX)
	PREFETCHT0 (CX)(DX*1)
	PREFETCHT0 63(CX)(DX*1)
	PREFETCHT0 (CX)(DX*2)
	PREFETCHT0 63(CX)(DX*2)
	PREFETCHT0 (R11)
	PREFETCHT0 63(R11)
	PREFETCHT0 (R11)(DX*1)
	PREFETCHT0 63(R11)(DX*1)
	PREFETCHT0 (R11)(DX*2)
	PREFETCHT0 63(R11)(DX*2)

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

	MOVQ SI, DI
	SHRQ $2, DI
	ANDQ $3, SI
	TESTQ DI, DI
	JZ   tail

loop4:
	PREFETCHT0 512(BX)
	STEP(0, 32)
	STEP(64, 96)
	PREFETCHT0 576(BX)
	STEP(128, 160)
	STEP(192, 224)
	ADDQ $256, BX
	DECQ DI
	JNZ  loop4

tail:
	TESTQ SI, SI
	JZ    epilogue

loop1:
	STEP(0, 32)
	ADDQ $64, BX
	DECQ SI
	JNZ  loop1

epilogue:
	VBROADCASTSS alpha+56(FP), Y14
	VMULPS       Y14, Y0, Y0
	VMULPS       Y14, Y1, Y1
	VMULPS       Y14, Y2, Y2
	VMULPS       Y14, Y3, Y3
	VMULPS       Y14, Y4, Y4
	VMULPS       Y14, Y5, Y5
	VMULPS       Y14, Y6, Y6
	VMULPS       Y14, Y7, Y7
	VMULPS       Y14, Y8, Y8
	VMULPS       Y14, Y9, Y9
	VMULPS       Y14, Y10, Y10
	VMULPS       Y14, Y11, Y11

	VMOVSS   beta+60(FP), X15
	VXORPS   X13, X13, X13
	VUCOMISS X13, X15
	JNE      withbeta
	JPS      withbeta

	// beta == 0: overwrite C without reading it.
	VMOVUPS Y0, (CX)
	VMOVUPS Y1, 32(CX)
	VMOVUPS Y2, (CX)(DX*1)
	VMOVUPS Y3, 32(CX)(DX*1)
	VMOVUPS Y4, (CX)(DX*2)
	VMOVUPS Y5, 32(CX)(DX*2)
	VMOVUPS Y6, (R11)
	VMOVUPS Y7, 32(R11)
	VMOVUPS Y8, (R11)(DX*1)
	VMOVUPS Y9, 32(R11)(DX*1)
	VMOVUPS Y10, (R11)(DX*2)
	VMOVUPS Y11, 32(R11)(DX*2)
	VZEROUPPER
	RET

withbeta:
	VBROADCASTSS X15, Y15
	VMOVUPS      (CX), Y12
	VMOVUPS      32(CX), Y13
	VFMADD231PS  Y12, Y15, Y0
	VFMADD231PS  Y13, Y15, Y1
	VMOVUPS      Y0, (CX)
	VMOVUPS      Y1, 32(CX)
	VMOVUPS      (CX)(DX*1), Y12
	VMOVUPS      32(CX)(DX*1), Y13
	VFMADD231PS  Y12, Y15, Y2
	VFMADD231PS  Y13, Y15, Y3
	VMOVUPS      Y2, (CX)(DX*1)
	VMOVUPS      Y3, 32(CX)(DX*1)
	VMOVUPS      (CX)(DX*2), Y12
	VMOVUPS      32(CX)(DX*2), Y13
	VFMADD231PS  Y12, Y15, Y4
	VFMADD231PS  Y13, Y15, Y5
	VMOVUPS      Y4, (CX)(DX*2)
	VMOVUPS      Y5, 32(CX)(DX*2)
	VMOVUPS      (R11), Y12
	VMOVUPS      32(R11), Y13
	VFMADD231PS  Y12, Y15, Y6
	VFMADD231PS  Y13, Y15, Y7
	VMOVUPS      Y6, (R11)
	VMOVUPS      Y7, 32(R11)
	VMOVUPS      (R11)(DX*1), Y12
	VMOVUPS      32(R11)(DX*1), Y13
	VFMADD231PS  Y12, Y15, Y8
	VFMADD231PS  Y13, Y15, Y9
	VMOVUPS      Y8, (R11)(DX*1)
	VMOVUPS      Y9, 32(R11)(DX*1)
	VMOVUPS      (R11)(DX*2), Y12
	VMOVUPS      32(R11)(DX*2), Y13
	VFMADD231PS  Y12, Y15, Y10
	VFMADD231PS  Y13, Y15, Y11
	VMOVUPS      Y10, (R11)(DX*2)
	VMOVUPS      Y11, 32(R11)(DX*2)
	VZEROUPPER
	RET

// func saxpyAVX2(alpha float32, x, y *float32, n int)
TEXT ·saxpyAVX2(SB), NOSPLIT, $0-32
	VBROADCASTSS alpha+0(FP), Y0
	MOVQ         x+8(FP), SI
	MOVQ         y+16(FP), DI
	MOVQ         n+24(FP), CX

axpy32:
	CMPQ        CX, $32
	JLT         axpy8
	VMOVUPS     (SI), Y1
	VMOVUPS     32(SI), Y2
	VMOVUPS     64(SI), Y3
	VMOVUPS     96(SI), Y4
	VFMADD213PS (DI), Y0, Y1
	VFMADD213PS 32(DI), Y0, Y2
	VFMADD213PS 64(DI), Y0, Y3
	VFMADD213PS 96(DI), Y0, Y4
	VMOVUPS     Y1, (DI)
	VMOVUPS     Y2, 32(DI)
	VMOVUPS     Y3, 64(DI)
	VMOVUPS     Y4, 96(DI)
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $32, CX
	JMP         axpy32

axpy8:
	CMPQ        CX, $8
	JLT         axpy1
	VMOVUPS     (SI), Y1
	VFMADD213PS (DI), Y0, Y1
	VMOVUPS     Y1, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         axpy8

axpy1:
	TESTQ       CX, CX
	JZ          axpydone
	VMOVSS      (SI), X1
	VFMADD213SS (DI), X0, X1
	VMOVSS      X1, (DI)
	ADDQ        $4, SI
	ADDQ        $4, DI
	DECQ        CX
	JMP         axpy1

axpydone:
	VZEROUPPER
	RET

// func sdotAVX2(x, y *float32, n int) float32
TEXT ·sdotAVX2(SB), NOSPLIT, $0-28
	MOVQ   x+0(FP), SI
	MOVQ   y+8(FP), DI
	MOVQ   n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

dot32:
	CMPQ        CX, $32
	JLT         dot8
	VMOVUPS     (SI), Y4
	VMOVUPS     32(SI), Y5
	VMOVUPS     64(SI), Y6
	VMOVUPS     96(SI), Y7
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS 64(DI), Y6, Y2
	VFMADD231PS 96(DI), Y7, Y3
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $32, CX
	JMP         dot32

dot8:
	CMPQ        CX, $8
	JLT         dotsum
	VMOVUPS     (SI), Y4
	VFMADD231PS (DI), Y4, Y0
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         dot8

dotsum:
	VADDPS       Y1, Y0, Y0
	VADDPS       Y3, Y2, Y2
	VADDPS       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0

dot1:
	TESTQ       CX, CX
	JZ          dotdone
	VMOVSS      (SI), X4
	VFMADD231SS (DI), X4, X0
	ADDQ        $4, SI
	ADDQ        $4, DI
	DECQ        CX
	JMP         dot1

dotdone:
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func sscalAVX2(alpha float32, x *float32, n int)
TEXT ·sscalAVX2(SB), NOSPLIT, $0-24
	VBROADCASTSS alpha+0(FP), Y0
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), CX

scal32:
	CMPQ    CX, $32
	JLT     scal8
	VMULPS  (SI), Y0, Y1
	VMULPS  32(SI), Y0, Y2
	VMULPS  64(SI), Y0, Y3
	VMULPS  96(SI), Y0, Y4
	VMOVUPS Y1, (SI)
	VMOVUPS Y2, 32(SI)
	VMOVUPS Y3, 64(SI)
	VMOVUPS Y4, 96(SI)
	ADDQ    $128, SI
	SUBQ    $32, CX
	JMP     scal32

scal8:
	CMPQ    CX, $8
	JLT     scal1
	VMULPS  (SI), Y0, Y1
	VMOVUPS Y1, (SI)
	ADDQ    $32, SI
	SUBQ    $8, CX
	JMP     scal8

scal1:
	TESTQ   CX, CX
	JZ      scaldone
	VMULSS  (SI), X0, X1
	VMOVSS  X1, (SI)
	ADDQ    $4, SI
	DECQ    CX
	JMP     scal1

scaldone:
	VZEROUPPER
	RET

// func packB16N(dst, src *float32, ldb uintptr, k int)
// Copies k rows of 16 floats, src rows ldb bytes apart, to dst contiguously.
TEXT ·packB16N(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ldb+16(FP), DX
	MOVQ k+24(FP), CX

pbn2:
	CMPQ    CX, $2
	JLT     pbn1
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS (SI)(DX*1), Y2
	VMOVUPS 32(SI)(DX*1), Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	LEAQ    (SI)(DX*2), SI
	ADDQ    $128, DI
	SUBQ    $2, CX
	JMP     pbn2

pbn1:
	TESTQ   CX, CX
	JZ      pbndone
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)

pbndone:
	VZEROUPPER
	RET

// func packB8T(dst, src *float32, ldb uintptr, k8 int)
// Transposes 8 rows of src (ldb bytes apart) into columns: for each block of
// 8 floats along the rows, an 8×8 transpose whose row q (the 8 rows' q-th
// values) is stored at dst + q*64 bytes (a micro-panel row of 16 floats),
// for k8 blocks. The other 8 columns of the 16-wide panel are untouched.
TEXT ·packB8T(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ldb+16(FP), DX
	MOVQ k8+24(FP), CX
	LEAQ (DX)(DX*2), R10 // 3*ldb
	LEAQ (SI)(DX*4), R9  // row 4
	TESTQ CX, CX
	JZ   pbtdone

pbtloop:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(DX*1), Y1
	VMOVUPS (SI)(DX*2), Y2
	VMOVUPS (SI)(R10*1), Y3
	VMOVUPS (R9), Y4
	VMOVUPS (R9)(DX*1), Y5
	VMOVUPS (R9)(DX*2), Y6
	VMOVUPS (R9)(R10*1), Y7

	TRANSPOSE8X8(DI)

	ADDQ $32, SI
	ADDQ $32, R9
	ADDQ $512, DI
	DECQ CX
	JNZ  pbtloop

pbtdone:
	VZEROUPPER
	RET

// One step of k for the 4×16 tile: accumulators Y0..Y7.
#define STEP4(o0, o1) \
	VMOVUPS      o0(BX), Y12; \
	VMOVUPS      o1(BX), Y13; \
	VBROADCASTSS (AX), Y14; \
	VBROADCASTSS (AX)(R8*1), Y15; \
	VFMADD231PS  Y12, Y14, Y0; \
	VFMADD231PS  Y13, Y14, Y1; \
	VFMADD231PS  Y12, Y15, Y2; \
	VFMADD231PS  Y13, Y15, Y3; \
	VBROADCASTSS (AX)(R8*2), Y14; \
	VBROADCASTSS (R9), Y15; \
	VFMADD231PS  Y12, Y14, Y4; \
	VFMADD231PS  Y13, Y14, Y5; \
	VFMADD231PS  Y12, Y15, Y6; \
	VFMADD231PS  Y13, Y15, Y7; \
	ADDQ         R10, AX; \
	ADDQ         R10, R9

// func sgemm4x16(kc int, a *float32, rsa, csa uintptr, b, c *float32, ldc uintptr, alpha, beta float32)
TEXT ·sgemm4x16(SB), NOSPLIT, $0-64
	MOVQ kc+0(FP), SI
	MOVQ a+8(FP), AX
	MOVQ rsa+16(FP), R8
	MOVQ csa+24(FP), R10
	MOVQ b+32(FP), BX
	MOVQ c+40(FP), CX
	MOVQ ldc+48(FP), DX

	LEAQ (AX)(R8*2), R9
	ADDQ R8, R9          // R9 = a + 3*rsa
	LEAQ (CX)(DX*2), R11
	ADDQ DX, R11         // R11 = c + 3*ldc

	PREFETCHT0 (CX)
	PREFETCHT0 63(CX)
	PREFETCHT0 (CX)(DX*1)
	PREFETCHT0 63(CX)(DX*1)
	PREFETCHT0 (CX)(DX*2)
	PREFETCHT0 63(CX)(DX*2)
	PREFETCHT0 (R11)
	PREFETCHT0 63(R11)

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

	MOVQ  SI, DI
	SHRQ  $2, DI
	ANDQ  $3, SI
	TESTQ DI, DI
	JZ    tail4

loop44:
	PREFETCHT0 512(BX)
	STEP4(0, 32)
	STEP4(64, 96)
	PREFETCHT0 576(BX)
	STEP4(128, 160)
	STEP4(192, 224)
	ADDQ $256, BX
	DECQ DI
	JNZ  loop44

tail4:
	TESTQ SI, SI
	JZ    epilogue4

loop41:
	STEP4(0, 32)
	ADDQ $64, BX
	DECQ SI
	JNZ  loop41

epilogue4:
	VBROADCASTSS alpha+56(FP), Y14
	VMULPS       Y14, Y0, Y0
	VMULPS       Y14, Y1, Y1
	VMULPS       Y14, Y2, Y2
	VMULPS       Y14, Y3, Y3
	VMULPS       Y14, Y4, Y4
	VMULPS       Y14, Y5, Y5
	VMULPS       Y14, Y6, Y6
	VMULPS       Y14, Y7, Y7

	VMOVSS   beta+60(FP), X15
	VXORPS   X13, X13, X13
	VUCOMISS X13, X15
	JNE      withbeta4
	JPS      withbeta4

	VMOVUPS Y0, (CX)
	VMOVUPS Y1, 32(CX)
	VMOVUPS Y2, (CX)(DX*1)
	VMOVUPS Y3, 32(CX)(DX*1)
	VMOVUPS Y4, (CX)(DX*2)
	VMOVUPS Y5, 32(CX)(DX*2)
	VMOVUPS Y6, (R11)
	VMOVUPS Y7, 32(R11)
	VZEROUPPER
	RET

withbeta4:
	VBROADCASTSS X15, Y15
	VFMADD231PS  (CX), Y15, Y0
	VFMADD231PS  32(CX), Y15, Y1
	VFMADD231PS  (CX)(DX*1), Y15, Y2
	VFMADD231PS  32(CX)(DX*1), Y15, Y3
	VFMADD231PS  (CX)(DX*2), Y15, Y4
	VFMADD231PS  32(CX)(DX*2), Y15, Y5
	VFMADD231PS  (R11), Y15, Y6
	VFMADD231PS  32(R11), Y15, Y7
	VMOVUPS      Y0, (CX)
	VMOVUPS      Y1, 32(CX)
	VMOVUPS      Y2, (CX)(DX*1)
	VMOVUPS      Y3, 32(CX)(DX*1)
	VMOVUPS      Y4, (CX)(DX*2)
	VMOVUPS      Y5, 32(CX)(DX*2)
	VMOVUPS      Y6, (R11)
	VMOVUPS      Y7, 32(R11)
	VZEROUPPER
	RET

// One step of k for the 2×16 tile into accumulators acc0..acc3.
#define STEP2(o0, o1, acc0, acc1, acc2, acc3) \
	VMOVUPS      o0(BX), Y12; \
	VMOVUPS      o1(BX), Y13; \
	VBROADCASTSS (AX), Y14; \
	VBROADCASTSS (AX)(R8*1), Y15; \
	VFMADD231PS  Y12, Y14, acc0; \
	VFMADD231PS  Y13, Y14, acc1; \
	VFMADD231PS  Y12, Y15, acc2; \
	VFMADD231PS  Y13, Y15, acc3; \
	ADDQ         R10, AX

// func sgemm2x16(kc int, a *float32, rsa, csa uintptr, b, c *float32, ldc uintptr, alpha, beta float32)
// Even and odd steps of k go to separate accumulators (Y0..Y3, Y4..Y7) so
// that eight FMA chains are in flight, as in the larger tiles.
TEXT ·sgemm2x16(SB), NOSPLIT, $0-64
	MOVQ kc+0(FP), SI
	MOVQ a+8(FP), AX
	MOVQ rsa+16(FP), R8
	MOVQ csa+24(FP), R10
	MOVQ b+32(FP), BX
	MOVQ c+40(FP), CX
	MOVQ ldc+48(FP), DX

	PREFETCHT0 (CX)
	PREFETCHT0 63(CX)
	PREFETCHT0 (CX)(DX*1)
	PREFETCHT0 63(CX)(DX*1)

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

	MOVQ  SI, DI
	SHRQ  $2, DI
	ANDQ  $3, SI
	TESTQ DI, DI
	JZ    tail2

loop24:
	PREFETCHT0 512(BX)
	STEP2(0, 32, Y0, Y1, Y2, Y3)
	STEP2(64, 96, Y4, Y5, Y6, Y7)
	PREFETCHT0 576(BX)
	STEP2(128, 160, Y0, Y1, Y2, Y3)
	STEP2(192, 224, Y4, Y5, Y6, Y7)
	ADDQ $256, BX
	DECQ DI
	JNZ  loop24

tail2:
	TESTQ SI, SI
	JZ    epilogue2

loop21:
	STEP2(0, 32, Y0, Y1, Y2, Y3)
	ADDQ $64, BX
	DECQ SI
	JNZ  loop21

epilogue2:
	VADDPS       Y4, Y0, Y0
	VADDPS       Y5, Y1, Y1
	VADDPS       Y6, Y2, Y2
	VADDPS       Y7, Y3, Y3
	VBROADCASTSS alpha+56(FP), Y14
	VMULPS       Y14, Y0, Y0
	VMULPS       Y14, Y1, Y1
	VMULPS       Y14, Y2, Y2
	VMULPS       Y14, Y3, Y3

	VMOVSS   beta+60(FP), X15
	VXORPS   X13, X13, X13
	VUCOMISS X13, X15
	JNE      withbeta2
	JPS      withbeta2

	VMOVUPS Y0, (CX)
	VMOVUPS Y1, 32(CX)
	VMOVUPS Y2, (CX)(DX*1)
	VMOVUPS Y3, 32(CX)(DX*1)
	VZEROUPPER
	RET

withbeta2:
	VBROADCASTSS X15, Y15
	VFMADD231PS  (CX), Y15, Y0
	VFMADD231PS  32(CX), Y15, Y1
	VFMADD231PS  (CX)(DX*1), Y15, Y2
	VFMADD231PS  32(CX)(DX*1), Y15, Y3
	VMOVUPS      Y0, (CX)
	VMOVUPS      Y1, 32(CX)
	VMOVUPS      Y2, (CX)(DX*1)
	VMOVUPS      Y3, 32(CX)(DX*1)
	VZEROUPPER
	RET

// func packA6N(dst, src *float32, lda uintptr, k8 int)
// Packs 6 rows of A (lda bytes apart) into a 6-row micro-panel, 8 columns
// at a time: an 8×8 transpose of the 6 rows and two zero rows, each result
// row's first 6 floats stored at dst + 24q bytes. The stores are 32 bytes
// wide and overlap; the last one writes 8 bytes past the 48·k8 floats.
TEXT ·packA6N(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ lda+16(FP), DX
	MOVQ k8+24(FP), CX
	LEAQ (DX)(DX*2), R10 // 3*lda
	LEAQ (SI)(R10*1), R9 // row 3
	VXORPS Y6, Y6, Y6
	TESTQ CX, CX
	JZ   pa6done

pa6loop:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(DX*1), Y1
	VMOVUPS (SI)(DX*2), Y2
	VMOVUPS (R9), Y3
	VMOVUPS (R9)(DX*1), Y4
	VMOVUPS (R9)(DX*2), Y5

	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y6, Y6, Y14
	VUNPCKHPS Y6, Y6, Y15

	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xEE, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y7
	VSHUFPS $0xEE, Y15, Y13, Y8

	VPERM2F128 $0x20, Y4, Y0, Y9
	VPERM2F128 $0x20, Y5, Y1, Y10
	VPERM2F128 $0x20, Y7, Y2, Y11
	VPERM2F128 $0x20, Y8, Y3, Y12
	VPERM2F128 $0x31, Y4, Y0, Y13
	VPERM2F128 $0x31, Y5, Y1, Y14
	VPERM2F128 $0x31, Y7, Y2, Y15
	VPERM2F128 $0x31, Y8, Y3, Y0

	VMOVUPS Y9, (DI)
	VMOVUPS Y10, 24(DI)
	VMOVUPS Y11, 48(DI)
	VMOVUPS Y12, 72(DI)
	VMOVUPS Y13, 96(DI)
	VMOVUPS Y14, 120(DI)
	VMOVUPS Y15, 144(DI)
	VMOVUPS Y0, 168(DI)

	ADDQ $32, SI
	ADDQ $32, R9
	ADDQ $192, DI
	DECQ CX
	JNZ  pa6loop

pa6done:
	VZEROUPPER
	RET

// func gemvRowsAVX2(x *float32, k int, b *float32, ldb uintptr, y *float32, n int)
// y[j] += Σ_p x[p]·b[p·ldb + j] for j < n, p < k, each y[j] a chain of
// fused multiply-adds in p order, as k Saxpy calls over the rows of b
// compute it: the same bits, with y held in registers across the rows
// (96 columns at a time, then 8, then 1) instead of loaded and stored for
// every row. ldb is in bytes.
TEXT ·gemvRowsAVX2(SB), NOSPLIT, $0-48
	MOVQ x+0(FP), SI
	MOVQ k+8(FP), R8
	MOVQ b+16(FP), BX
	MOVQ ldb+24(FP), DX
	MOVQ y+32(FP), DI
	MOVQ n+40(FP), CX

gemv96:
	CMPQ CX, $96
	JLT  gemv8
	VMOVUPS     0(DI), Y0
	VMOVUPS     32(DI), Y1
	VMOVUPS     64(DI), Y2
	VMOVUPS     96(DI), Y3
	VMOVUPS     128(DI), Y4
	VMOVUPS     160(DI), Y5
	VMOVUPS     192(DI), Y6
	VMOVUPS     224(DI), Y7
	VMOVUPS     256(DI), Y8
	VMOVUPS     288(DI), Y9
	VMOVUPS     320(DI), Y10
	VMOVUPS     352(DI), Y11
	MOVQ SI, R9
	MOVQ BX, R10
	MOVQ R8, R11
	TESTQ R11, R11
	JZ   gemv96st

gemv96k:
	VBROADCASTSS (R9), Y12
	VFMADD231PS 0(R10), Y12, Y0
	VFMADD231PS 32(R10), Y12, Y1
	VFMADD231PS 64(R10), Y12, Y2
	VFMADD231PS 96(R10), Y12, Y3
	VFMADD231PS 128(R10), Y12, Y4
	VFMADD231PS 160(R10), Y12, Y5
	VFMADD231PS 192(R10), Y12, Y6
	VFMADD231PS 224(R10), Y12, Y7
	VFMADD231PS 256(R10), Y12, Y8
	VFMADD231PS 288(R10), Y12, Y9
	VFMADD231PS 320(R10), Y12, Y10
	VFMADD231PS 352(R10), Y12, Y11
	ADDQ $4, R9
	ADDQ DX, R10
	DECQ R11
	JNZ  gemv96k

gemv96st:
	VMOVUPS     Y0, 0(DI)
	VMOVUPS     Y1, 32(DI)
	VMOVUPS     Y2, 64(DI)
	VMOVUPS     Y3, 96(DI)
	VMOVUPS     Y4, 128(DI)
	VMOVUPS     Y5, 160(DI)
	VMOVUPS     Y6, 192(DI)
	VMOVUPS     Y7, 224(DI)
	VMOVUPS     Y8, 256(DI)
	VMOVUPS     Y9, 288(DI)
	VMOVUPS     Y10, 320(DI)
	VMOVUPS     Y11, 352(DI)
	ADDQ $384, DI
	ADDQ $384, BX
	SUBQ $96, CX
	JMP  gemv96

gemv8:
	CMPQ CX, $8
	JLT  gemv1
	VMOVUPS (DI), Y0
	MOVQ    SI, R9
	MOVQ    BX, R10
	MOVQ    R8, R11
	TESTQ   R11, R11
	JZ      gemv8st

gemv8k:
	VBROADCASTSS (R9), Y12
	VFMADD231PS  (R10), Y12, Y0
	ADDQ         $4, R9
	ADDQ         DX, R10
	DECQ         R11
	JNZ          gemv8k

gemv8st:
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	ADDQ    $32, BX
	SUBQ    $8, CX
	JMP     gemv8

gemv1:
	TESTQ CX, CX
	JZ    gemvdone
	VMOVSS (DI), X0
	MOVQ   SI, R9
	MOVQ   BX, R10
	MOVQ   R8, R11
	TESTQ  R11, R11
	JZ     gemv1st

gemv1k:
	VMOVSS      (R9), X12
	VFMADD231SS (R10), X12, X0
	ADDQ        $4, R9
	ADDQ        DX, R10
	DECQ        R11
	JNZ         gemv1k

gemv1st:
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	ADDQ   $4, BX
	DECQ   CX
	JMP    gemv1

gemvdone:
	VZEROUPPER
	RET
