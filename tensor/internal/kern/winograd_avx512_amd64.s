//go:build amd64 && !purego

#include "textflag.h"

// AVX-512F kernels of the Winograd F(4×4, 3×3) transforms (winograd.go):
// sixteen tiles of a row of tiles on the lanes, the same additions and
// multiplications in the same order as winoB and winoA, so they agree
// with the Go code bit for bit. 2x is computed as x+x (the same value).
// Both keep their intermediate rows in their stack frame.

// WCONSTS loads the permutation indices at R12 into Z28..Z31, 4.0 into
// Z26 and the float with bits c into Z27.
#define WCONSTS(c) \
	VMOVDQU32    (R12), Z28; \
	VMOVDQU32    64(R12), Z29; \
	VMOVDQU32    128(R12), Z30; \
	VMOVDQU32    192(R12), Z31; \
	MOVL         $0x40800000, R12; \
	VPBROADCASTD R12, Z26; \
	MOVL         c, R12; \
	VPBROADCASTD R12, Z27

// WLOADX loads 16 floats of row R10 of group g's patches (offset g of the
// step's at SI, channel base BX), from byte off on, into z.
#define WLOADX(off, g, z) \
	MOVLQSX (g*4)(SI), R12; \
	LEAQ    (BX)(R12*4), R12; \
	VMOVUPS off(R12)(R10*1), z

// WGATHER4 splits one row under the step's four groups into the 16 tiles'
// columns e0..e3 = Z14, Z8, Z16, Z0 (in two levels of VPERMT2PS; Z28..Z31:
// winoGather).
#define WGATHER4 \
	WLOADX(0, 0, Z0); \
	WLOADX(0, 1, Z1); \
	WLOADX(0, 2, Z2); \
	WLOADX(0, 3, Z3); \
	VMOVAPS   Z0, Z8; \
	VPERMT2PS Z1, Z28, Z8; \
	VPERMT2PS Z1, Z29, Z0; \
	VMOVAPS   Z2, Z9; \
	VPERMT2PS Z3, Z28, Z9; \
	VPERMT2PS Z3, Z29, Z2; \
	VMOVAPS   Z8, Z14; \
	VPERMT2PS Z9, Z30, Z14; \
	VPERMT2PS Z9, Z31, Z8; \
	VMOVAPS   Z0, Z16; \
	VPERMT2PS Z2, Z30, Z16; \
	VPERMT2PS Z2, Z31, Z0

// WGATHER splits one row under the step's four groups into the 16 tiles'
// columns d0..d5 = Z14, Z8, Z16, Z0, Z18, Z4: WGATHER4's four, then every
// fourth float of the groups' columns 4–19 (Z4..Z7) for the last two.
#define WGATHER \
	WGATHER4; \
	WLOADX(16, 0, Z4); \
	WLOADX(16, 1, Z5); \
	WLOADX(16, 2, Z6); \
	WLOADX(16, 3, Z7); \
	VPERMT2PS Z5, Z28, Z4; \
	VPERMT2PS Z7, Z28, Z6; \
	VMOVAPS   Z4, Z18; \
	VPERMT2PS Z6, Z30, Z18; \
	VPERMT2PS Z6, Z31, Z4

// WB applies Bᵀ (winoB) to d0..d5 into t0..t5 (none of them an input;
// Z20..Z22 scratch; Z26 = 4, Z27 = 5).
#define WB(d0, d1, d2, d3, d4, d5, t0, t1, t2, t3, t4, t5) \
	VMULPS Z26, d0, t0; \
	VMULPS Z27, d2, Z21; \
	VSUBPS Z21, t0, t0; \
	VADDPS d4, t0, t0; \
	VMULPS Z26, d2, Z21; \
	VSUBPS Z21, d4, Z21; \
	VMULPS Z26, d1, Z22; \
	VSUBPS Z22, d3, Z22; \
	VADDPS Z22, Z21, t1; \
	VSUBPS Z22, Z21, t2; \
	VSUBPS d2, d4, Z21; \
	VSUBPS d1, d3, Z22; \
	VADDPS Z22, Z22, Z22; \
	VADDPS Z22, Z21, t3; \
	VSUBPS Z22, Z21, t4; \
	VMULPS Z26, d1, t5; \
	VMULPS Z27, d3, Z21; \
	VSUBPS Z21, t5, t5; \
	VADDPS d5, t5, t5

// WBT applies Bᵀ to the row's d0..d5 (WGATHER's registers) and keeps
// t0..t5 at off, off+64, … on the stack.
#define WBT(off) \
	WB(Z14, Z8, Z16, Z0, Z18, Z4, Z1, Z2, Z3, Z5, Z6, Z7); \
	VMOVUPS Z1, off(SP); \
	VMOVUPS Z2, off+64(SP); \
	VMOVUPS Z3, off+128(SP); \
	VMOVUPS Z5, off+192(SP); \
	VMOVUPS Z6, off+256(SP); \
	VMOVUPS Z7, off+320(SP)

// WST stores z at R12 and moves R12 six values of ξ on.
#define WST(z) \
	VMOVUPS z, (R12); \
	ADDQ    R13, R12

// WST6 stores a column's six results (Z6..Z11) from R12 on, and moves R8
// to the next column.
#define WST6 \
	WST(Z6); \
	WST(Z7); \
	WST(Z8); \
	WST(Z9); \
	WST(Z10); \
	WST(Z11); \
	ADDQ R11, R8

// WCOLIN transforms column j of the six rows' t (at j·64 in each row of
// 384 bytes on the stack) and stores it at R8 (column j of ξ), which it
// then moves to column j+1.
#define WCOLIN(j) \
	VMOVUPS (j*64)(SP), Z0; \
	VMOVUPS (384+j*64)(SP), Z1; \
	VMOVUPS (768+j*64)(SP), Z2; \
	VMOVUPS (1152+j*64)(SP), Z3; \
	VMOVUPS (1536+j*64)(SP), Z4; \
	VMOVUPS (1920+j*64)(SP), Z5; \
	MOVQ    R8, R12; \
	WB(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11); \
	WST6

// WPROLOGUE loads the arguments of the input-side kernels (winoInputAVX512,
// winoGradInputAVX512) and their constants (Z27: the float with bits c).
#define WPROLOGUE(c) \
	MOVQ dst+0(FP), AX; \
	MOVQ xiStride+8(FP), R11; \
	LEAQ (R11)(R11*2), R13; \
	ADDQ R13, R13; \
	MOVQ src+24(FP), BX; \
	MOVQ srcStride+40(FP), R9; \
	MOVQ nc+56(FP), CX; \
	MOVQ perm+72(FP), R12; \
	WCONSTS(c)

// WLOOPS runs BODY for every step of four groups of every channel.
#define WLOOPS(BODY, chan, step) \
chan: \
	MOVQ AX, DI; \
	MOVQ goffs+32(FP), SI; \
	MOVQ nsteps+64(FP), DX; \
step: \
	BODY; \
	ADDQ $16, SI; \
	ADDQ $64, DI; \
	DECQ DX; \
	JNZ  step; \
	ADDQ cStride+16(FP), AX; \
	ADDQ planeStride+48(FP), BX; \
	DECQ CX; \
	JNZ  chan

// WINBODY is one step of winoInputAVX512: six rows along x, then six
// columns down (ξ = 6i+j).
#define WINBODY \
	XORQ R10, R10; \
	WGATHER; \
	WBT(0); \
	ADDQ R9, R10; \
	WGATHER; \
	WBT(384); \
	ADDQ R9, R10; \
	WGATHER; \
	WBT(768); \
	ADDQ R9, R10; \
	WGATHER; \
	WBT(1152); \
	ADDQ R9, R10; \
	WGATHER; \
	WBT(1536); \
	ADDQ R9, R10; \
	WGATHER; \
	WBT(1920); \
	MOVQ DI, R8; \
	WCOLIN(0); \
	WCOLIN(1); \
	WCOLIN(2); \
	WCOLIN(3); \
	WCOLIN(4); \
	WCOLIN(5)

// func winoInputAVX512(dst *float32, xiStride, cStride uintptr, src *float32, goffs *int32, srcStride, planeStride uintptr, nc, nsteps int, perm *[64]int32)
//
// Registers: AX, BX the channel's dst and src; DI the step's dst, SI its
// group offsets; R9 the row stride, R10 the row's offset, R11 the ξ
// stride, R13 six of it (bytes); CX channels left, DX steps left.
TEXT ·winoInputAVX512(SB), 0, $2304-80
	WPROLOGUE($0x40a00000) // 5.0
	WLOOPS(WINBODY, wichan, wistep)
	VZEROUPPER
	RET

// WA applies Aᵀ (winoA) to m0..m5, leaving o0..o3 in Z14..Z17; Z26 = 4,
// Z27 = 8.
#define WA(m0, m1, m2, m3, m4, m5) \
	VADDPS m2, m1, Z10; \
	VSUBPS m2, m1, Z11; \
	VADDPS m4, m3, Z12; \
	VSUBPS m4, m3, Z13; \
	VADDPS Z10, m0, Z14; \
	VADDPS Z12, Z14, Z14; \
	VADDPS Z13, Z13, Z15; \
	VADDPS Z15, Z11, Z15; \
	VMULPS Z26, Z12, Z16; \
	VADDPS Z16, Z10, Z16; \
	VMULPS Z27, Z13, Z17; \
	VADDPS Z17, Z11, Z17; \
	VADDPS m5, Z17, Z17

// WLOAD loads the next ξ's tiles at R12.
#define WLOAD(z) \
	VMOVUPS (R12), z; \
	ADDQ    R11, R12

// WROWOUT transforms row i of the tiles' values (the next six ξ at R12)
// and keeps its four results at i·256 on the stack.
#define WROWOUT(i) \
	WLOAD(Z0); \
	WLOAD(Z1); \
	WLOAD(Z2); \
	WLOAD(Z3); \
	WLOAD(Z4); \
	WLOAD(Z5); \
	WA(Z0, Z1, Z2, Z3, Z4, Z5); \
	VMOVUPS Z14, (i*256)(SP); \
	VMOVUPS Z15, (i*256+64)(SP); \
	VMOVUPS Z16, (i*256+128)(SP); \
	VMOVUPS Z17, (i*256+192)(SP)

// WCOLOUT transforms column j of those results into output rows 0..3,
// kept at 1536 + a·256 + j·64 on the stack.
#define WCOLOUT(j) \
	VMOVUPS (j*64)(SP), Z0; \
	VMOVUPS (256+j*64)(SP), Z1; \
	VMOVUPS (512+j*64)(SP), Z2; \
	VMOVUPS (768+j*64)(SP), Z3; \
	VMOVUPS (1024+j*64)(SP), Z4; \
	VMOVUPS (1280+j*64)(SP), Z5; \
	WA(Z0, Z1, Z2, Z3, Z4, Z5); \
	VMOVUPS Z14, (1536+j*64)(SP); \
	VMOVUPS Z15, (1792+j*64)(SP); \
	VMOVUPS Z16, (2048+j*64)(SP); \
	VMOVUPS Z17, (2304+j*64)(SP)

// WGADDR sets K2 to group g's mask for the current output row (R13: the
// step's masks, advanced by the row) and R12 to the group's start in the
// channel (AX).
#define WGADDR(g) \
	MOVWLZX (g*8)(R13), R12; \
	KMOVW   R12, K2; \
	MOVLQSX (g*4)(DI), R12; \
	LEAQ    (AX)(R12*4), R12

// WGRES adds the residual under group g's vector z of the row (R9: the
// row's offset in bytes; R8 = res − dst).
#define WGRES(g, z) \
	WGADDR(g); \
	ADDQ      R8, R12; \
	VMOVUPS.Z (R12)(R9*1), K2, Z8; \
	VADDPS    Z8, z, z

// WGSTORE stores group g's vector z of the row through its mask.
#define WGSTORE(g, z) \
	WGADDR(g); \
	VMOVUPS z, K2, (R12)(R9*1)

// func winoOutputAVX512(dst *float32, goffs *int32, gmask *uint64, dstStride, dstPlane uintptr, m *float32, xiStride, kStride uintptr, nk, nsteps int, bias, res *float32, mode uint64, bound float32, perm *[64]int32)
//
// mode: bit 0 bias, 1 rectify, 2 bound, 3 residual. Registers: AX, BX
// the channel's dst and m; SI the step's m, DI its group offsets, R13 its
// group masks; R8 = res − dst (bytes); R9 the output row's offset, R10
// the row stride, R11 the ξ stride (bytes), R14 the row's results on the
// stack; CX the channel, DX steps left, R12 scratch; Z23 the bound, Z24
// zero, Z25 the channel's bias, Z28..Z31 the interleave (winoScatter).
TEXT ·winoOutputAVX512(SB), 0, $2560-120
	MOVQ      dst+0(FP), AX
	MOVQ      dstStride+24(FP), R10
	MOVQ      m+40(FP), BX
	MOVQ      xiStride+48(FP), R11
	MOVQ      res+88(FP), R8
	SUBQ      AX, R8
	MOVQ      perm+112(FP), R12
	WCONSTS($0x41000000) // 8.0
	VBROADCASTSS bound+104(FP), Z23
	VPXORD    Z24, Z24, Z24
	XORQ      CX, CX

wochan:
	MOVQ  BX, SI
	MOVQ  goffs+8(FP), DI
	MOVQ  gmask+16(FP), R13
	MOVQ  nsteps+72(FP), DX
	TESTQ $1, mode+96(FP)
	JZ    wostep
	MOVQ  bias+80(FP), R12
	VBROADCASTSS (R12)(CX*4), Z25

wostep:
	MOVQ SI, R12
	WROWOUT(0)
	WROWOUT(1)
	WROWOUT(2)
	WROWOUT(3)
	WROWOUT(4)
	WROWOUT(5)
	WCOLOUT(0)
	WCOLOUT(1)
	WCOLOUT(2)
	WCOLOUT(3)

	XORQ R9, R9
	XORQ R14, R14

worow:
	// Interleave the row's four columns of tiles: Z6, Z4, Z7, Z0 hold
	// the 16 columns of groups 0, 1, 2, 3.
	VMOVUPS   1536(SP)(R14*1), Z0
	VMOVUPS   1600(SP)(R14*1), Z1
	VMOVUPS   1664(SP)(R14*1), Z2
	VMOVUPS   1728(SP)(R14*1), Z3
	VMOVAPS   Z0, Z4
	VPERMT2PS Z1, Z28, Z4
	VPERMT2PS Z1, Z29, Z0
	VMOVAPS   Z2, Z5
	VPERMT2PS Z3, Z28, Z5
	VPERMT2PS Z3, Z29, Z2
	VMOVAPS   Z4, Z6
	VPERMT2PS Z5, Z30, Z6
	VPERMT2PS Z5, Z31, Z4
	VMOVAPS   Z0, Z7
	VPERMT2PS Z2, Z30, Z7
	VPERMT2PS Z2, Z31, Z0

	TESTQ  $1, mode+96(FP)
	JZ     wonobias
	VADDPS Z25, Z6, Z6
	VADDPS Z25, Z4, Z4
	VADDPS Z25, Z7, Z7
	VADDPS Z25, Z0, Z0

wonobias:
	TESTQ $8, mode+96(FP)
	JZ    wonores
	WGRES(0, Z6)
	WGRES(1, Z4)
	WGRES(2, Z7)
	WGRES(3, Z0)

wonores:
	// The rectifier: max(v, 0) keeps a NaN, then +0 turns −0 into +0.
	TESTQ  $2, mode+96(FP)
	JZ     wonorelu
	VMAXPS Z6, Z24, Z6
	VADDPS Z24, Z6, Z6
	VMAXPS Z4, Z24, Z4
	VADDPS Z24, Z4, Z4
	VMAXPS Z7, Z24, Z7
	VADDPS Z24, Z7, Z7
	VMAXPS Z0, Z24, Z0
	VADDPS Z24, Z0, Z0

wonorelu:
	// The bound: min(v, bound) keeps a NaN.
	TESTQ  $4, mode+96(FP)
	JZ     wostore
	VMINPS Z6, Z23, Z6
	VMINPS Z4, Z23, Z4
	VMINPS Z7, Z23, Z7
	VMINPS Z0, Z23, Z0

wostore:
	WGSTORE(0, Z6)
	WGSTORE(1, Z4)
	WGSTORE(2, Z7)
	WGSTORE(3, Z0)
	ADDQ R10, R9
	ADDQ $2, R13
	ADDQ $256, R14
	CMPQ R14, $1024
	JLT  worow
	SUBQ $8, R13

	// The next 16 tiles: 16 floats on in m, four groups' offsets and masks.
	ADDQ $64, SI
	ADDQ $16, DI
	ADDQ $32, R13
	DECQ DX
	JNZ  wostep

	ADDQ dstPlane+32(FP), AX
	ADDQ kStride+56(FP), BX
	INCQ CX
	CMPQ CX, nk+64(FP)
	JLT  wochan
	VZEROUPPER
	RET

// WAT applies A (winoAT) to e0..e3 into f0..f5 (none of them an input;
// Z21, Z22 scratch; Z26 = 4).
#define WAT(e0, e1, e2, e3, f0, f1, f2, f3, f4, f5) \
	VADDPS  e2, e0, Z21; \
	VADDPS  e3, e1, Z22; \
	VMOVAPS e0, f0; \
	VADDPS  Z22, Z21, f1; \
	VSUBPS  Z22, Z21, f2; \
	VMULPS  Z26, e2, Z21; \
	VADDPS  Z21, e0, Z21; \
	VMULPS  Z26, e3, Z22; \
	VADDPS  Z22, e1, Z22; \
	VADDPS  Z22, Z22, Z22; \
	VADDPS  Z22, Z21, f3; \
	VSUBPS  Z22, Z21, f4; \
	VMOVAPS e3, f5

// WATROW transforms the row at R10 along x and keeps it at off on the
// stack.
#define WATROW(off) \
	WGATHER4; \
	WAT(Z14, Z8, Z16, Z0, Z1, Z2, Z3, Z5, Z6, Z7); \
	VMOVUPS Z1, off(SP); \
	VMOVUPS Z2, off+64(SP); \
	VMOVUPS Z3, off+128(SP); \
	VMOVUPS Z5, off+192(SP); \
	VMOVUPS Z6, off+256(SP); \
	VMOVUPS Z7, off+320(SP)

// WATCOL transforms column j of the four rows (384 bytes apart on the
// stack) and stores it at R8 (column j of ξ), which it then moves on.
#define WATCOL(j) \
	VMOVUPS (j*64)(SP), Z0; \
	VMOVUPS (384+j*64)(SP), Z1; \
	VMOVUPS (768+j*64)(SP), Z2; \
	VMOVUPS (1152+j*64)(SP), Z3; \
	MOVQ    R8, R12; \
	WAT(Z0, Z1, Z2, Z3, Z6, Z7, Z8, Z9, Z10, Z11); \
	WST6

// WGBODY is one step of winoGradInputAVX512: four rows along x, then six
// columns down.
#define WGBODY \
	XORQ R10, R10; \
	WATROW(0); \
	ADDQ R9, R10; \
	WATROW(384); \
	ADDQ R9, R10; \
	WATROW(768); \
	ADDQ R9, R10; \
	WATROW(1152); \
	MOVQ DI, R8; \
	WATCOL(0); \
	WATCOL(1); \
	WATCOL(2); \
	WATCOL(3); \
	WATCOL(4); \
	WATCOL(5)

// func winoGradInputAVX512(dst *float32, xiStride, cStride uintptr, src *float32, goffs *int32, srcStride, planeStride uintptr, nc, nsteps int, perm *[64]int32)
//
// Registers as in winoInputAVX512.
TEXT ·winoGradInputAVX512(SB), 0, $1536-80
	WPROLOGUE($0x40a00000)
	WLOOPS(WGBODY, wgchan, wgstep)
	VZEROUPPER
	RET
