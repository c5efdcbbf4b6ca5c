//go:build amd64 && !purego

#include "textflag.h"
#include "indirect_amd64.h"

// Column-masked indirect-B micro-kernels: sgemmInd{6,4,2}x16 for a tile
// of w < 16 columns whose runs of B may end after w floats (the last
// strip of a product, a convolution row's last tile). B's two ymm per
// step are loaded with VMASKMOVPS under the masks at mask (16 int32, the
// first w of them −1), which read nothing outside them and zero the rest,
// so the w columns get the full kernel's sums in its order and the
// others 0. The whole R×16 tile is stored at c (a scratch tile; the
// caller copies the w columns out). With the masks and B the tile has one
// register left for A, so each value of A is broadcast into Y14 in turn;
// Y15 holds the mask being used.

#define INDBM(u) \
	MOVLQSX    u*4(R8), R13; \
	VMOVUPS    (R9), Y15; \
	VMASKMOVPS (BX)(R13*4), Y15, Y12; \
	VMOVUPS    32(R9), Y15; \
	VMASKMOVPS 32(BX)(R13*4), Y15, Y13

// INDROW1 broadcasts the A element at byte offset o and updates the
// accumulator row (Y ra, rb).
#define INDROW1(o, ra, rb) \
	VBROADCASTSS o(AX), Y14; \
	VFMADD231PS  Y12, Y14, ra; \
	VFMADD231PS  Y13, Y14, rb

#define INDM6(u) \
	INDBM(u); \
	INDROW1(u*24, Y0, Y1); \
	INDROW1(u*24+4, Y2, Y3); \
	INDROW1(u*24+8, Y4, Y5); \
	INDROW1(u*24+12, Y6, Y7); \
	INDROW1(u*24+16, Y8, Y9); \
	INDROW1(u*24+20, Y10, Y11)

#define INDM4(u) \
	INDBM(u); \
	INDROW1(u*16, Y0, Y1); \
	INDROW1(u*16+4, Y2, Y3); \
	INDROW1(u*16+8, Y4, Y5); \
	INDROW1(u*16+12, Y6, Y7)

#define INDM2(u) \
	INDBM(u); \
	INDROW1(u*8, Y0, Y1); \
	INDROW1(u*8+4, Y2, Y3)

// func sgemmInd6x16Mask(kc int, a *float32, src *float32, offs *int32, c *float32, ldc uintptr, mask *int32)
TEXT ·sgemmInd6x16Mask(SB), NOSPLIT, $0-56
	INDARGS
	MOVQ   mask+48(FP), R9
	INDZERO12
	INDLOOP(INDM6, 24, m6loop4, m6tail, m6loop1, m6done)
	INDSTORE6
	VZEROUPPER
	RET

// func sgemmInd4x16Mask(kc int, a *float32, src *float32, offs *int32, c *float32, ldc uintptr, mask *int32)
TEXT ·sgemmInd4x16Mask(SB), NOSPLIT, $0-56
	INDARGS
	MOVQ   mask+48(FP), R9
	INDZERO8
	INDLOOP(INDM4, 16, m4loop4, m4tail, m4loop1, m4done)
	INDSTORE4
	VZEROUPPER
	RET

// func sgemmInd2x16Mask(kc int, a *float32, src *float32, offs *int32, c *float32, ldc uintptr, mask *int32)
TEXT ·sgemmInd2x16Mask(SB), NOSPLIT, $0-56
	INDARGS
	MOVQ   mask+48(FP), R9
	INDZERO4
	INDLOOP(INDM2, 8, m2loop4, m2tail, m2loop1, m2done)
	INDSTORE2
	VZEROUPPER
	RET
