//go:build amd64 && !purego

#include "textflag.h"
#include "transpose_amd64.h"

// AVX2 kernels of the Winograd F(4×4, 3×3) transforms (winograd.go), for
// machines without AVX-512 (Zen 3, Haswell) and GLASSBOX_KERNEL=avx2:
// eight tiles of a row of tiles (two groups of four) on the lanes, the
// same additions and multiplications in the same order as winoB, winoA
// and winoAT, so they agree with the Go code (and the AVX-512 kernels)
// bit for bit. Where the AVX-512 kernels gather every fourth float with
// VPERMT2PS, these transpose 4×4 blocks inside each 128-bit half (one
// group per half): the instructions AVX2 has for it work half by half.
// With sixteen registers the transforms use all of them, so the output
// kernel keeps its epilogue's constants on the stack.

// VCONSTS sets Y14 = 4.0 and Y15 = the float with bits c.
#define VCONSTS(c) \
	MOVL         $0x40800000, R12; \
	VMOVD        R12, X14; \
	VBROADCASTSS X14, Y14; \
	MOVL         c, R12; \
	VMOVD        R12, X15; \
	VBROADCASTSS X15, Y15

// VROW loads n 4-float columns (byte offsets 0, 16, …) of the current row
// (R10) under the step's two groups: group 0's into the low halves of
// Y0.., group 1's into the high halves.
#define VROW4 \
	MOVLQSX     (SI), R12; \
	LEAQ        (BX)(R12*4), R12; \
	ADDQ        R10, R12; \
	VMOVUPS     (R12), X0; \
	VMOVUPS     16(R12), X1; \
	VMOVUPS     32(R12), X2; \
	VMOVUPS     48(R12), X3; \
	MOVLQSX     4(SI), R12; \
	LEAQ        (BX)(R12*4), R12; \
	ADDQ        R10, R12; \
	VINSERTF128 $1, (R12), Y0, Y0; \
	VINSERTF128 $1, 16(R12), Y1, Y1; \
	VINSERTF128 $1, 32(R12), Y2, Y2; \
	VINSERTF128 $1, 48(R12), Y3, Y3

#define VROW5 \
	VROW4; \
	MOVLQSX     (SI), R12; \
	LEAQ        (BX)(R12*4), R12; \
	ADDQ        R10, R12; \
	VMOVUPS     64(R12), X4; \
	MOVLQSX     4(SI), R12; \
	LEAQ        (BX)(R12*4), R12; \
	ADDQ        R10, R12; \
	VINSERTF128 $1, 64(R12), Y4, Y4

// VT4 transposes the 4×4 blocks of Y0..Y3 in each half (row r of a block
// = Yr's four floats there) into o0..o3 (Y4..Y7 scratch; o0..o3 may be
// Y0..Y3).
#define VT4(o0, o1, o2, o3) TRANSPOSE4X4HALVES(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, o0, o1, o2, o3)

// VGATHER splits the row under the step's two groups (VROW5) into the
// eight tiles' columns d0..d5 = Y1, Y2, Y3, Y4, Y7, Y8: tile j's columns
// 4j..4j+3 are the transposed 4×4 block, its 4j+4 and 4j+5 the first two
// floats of the next block's rows (Y1..Y4).
#define VGATHER \
	VROW5; \
	VUNPCKLPS Y2, Y1, Y5; \
	VUNPCKLPS Y4, Y3, Y6; \
	VSHUFPS   $0x44, Y6, Y5, Y7; \
	VSHUFPS   $0xEE, Y6, Y5, Y8; \
	TRANSPOSE4X4HALVES(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y0, Y1, Y2, Y3, Y4)

// VB applies Bᵀ (winoB) to d0..d5 into t0..t5 (none of them an input;
// Y12, Y13 scratch; Y14 = 4, Y15 = 5): WB of the AVX-512 kernels.
#define VB(d0, d1, d2, d3, d4, d5, t0, t1, t2, t3, t4, t5) \
	VMULPS Y14, d0, t0; \
	VMULPS Y15, d2, Y12; \
	VSUBPS Y12, t0, t0; \
	VADDPS d4, t0, t0; \
	VMULPS Y14, d2, Y12; \
	VSUBPS Y12, d4, Y12; \
	VMULPS Y14, d1, Y13; \
	VSUBPS Y13, d3, Y13; \
	VADDPS Y13, Y12, t1; \
	VSUBPS Y13, Y12, t2; \
	VSUBPS d2, d4, Y12; \
	VSUBPS d1, d3, Y13; \
	VADDPS Y13, Y13, Y13; \
	VADDPS Y13, Y12, t3; \
	VSUBPS Y13, Y12, t4; \
	VMULPS Y14, d1, t5; \
	VMULPS Y15, d3, Y12; \
	VSUBPS Y12, t5, t5; \
	VADDPS d5, t5, t5

// VST6 stores Y6..Y11 at R12, R12 + six ξ, …, and moves R8 to the next
// column of ξ.
#define VST6 \
	VMOVUPS Y6, (R12); \
	ADDQ    R13, R12; \
	VMOVUPS Y7, (R12); \
	ADDQ    R13, R12; \
	VMOVUPS Y8, (R12); \
	ADDQ    R13, R12; \
	VMOVUPS Y9, (R12); \
	ADDQ    R13, R12; \
	VMOVUPS Y10, (R12); \
	ADDQ    R13, R12; \
	VMOVUPS Y11, (R12); \
	ADDQ    R11, R8

// VBROW transforms the row at R10 along x and keeps its six results at
// off, off+32, … on the stack (192 bytes a row).
#define VBROW(off) \
	VGATHER; \
	VB(Y1, Y2, Y3, Y4, Y7, Y8, Y0, Y5, Y6, Y9, Y10, Y11); \
	VMOVUPS Y0, off(SP); \
	VMOVUPS Y5, off+32(SP); \
	VMOVUPS Y6, off+64(SP); \
	VMOVUPS Y9, off+96(SP); \
	VMOVUPS Y10, off+128(SP); \
	VMOVUPS Y11, off+160(SP)

// VBCOL transforms column j of the six rows and stores it at R8 (column j
// of ξ), which it then moves on.
#define VBCOL(j) \
	VMOVUPS (j*32)(SP), Y0; \
	VMOVUPS (192+j*32)(SP), Y1; \
	VMOVUPS (384+j*32)(SP), Y2; \
	VMOVUPS (576+j*32)(SP), Y3; \
	VMOVUPS (768+j*32)(SP), Y4; \
	VMOVUPS (960+j*32)(SP), Y5; \
	MOVQ    R8, R12; \
	VB(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11); \
	VST6

// VPROLOGUE loads the arguments of the input-side kernels and their
// constants (Y15: the float with bits c).
#define VPROLOGUE(c) \
	MOVQ dst+0(FP), AX; \
	MOVQ xiStride+8(FP), R11; \
	LEAQ (R11)(R11*2), R13; \
	ADDQ R13, R13; \
	MOVQ src+24(FP), BX; \
	MOVQ srcStride+40(FP), R9; \
	MOVQ nc+56(FP), CX; \
	VCONSTS(c)

// VLOOPS runs BODY for every step of two groups of every channel.
#define VLOOPS(BODY, chan, step) \
chan: \
	MOVQ AX, DI; \
	MOVQ goffs+32(FP), SI; \
	MOVQ nsteps+64(FP), DX; \
step: \
	BODY; \
	ADDQ $8, SI; \
	ADDQ $32, DI; \
	DECQ DX; \
	JNZ  step; \
	ADDQ cStride+16(FP), AX; \
	ADDQ planeStride+48(FP), BX; \
	DECQ CX; \
	JNZ  chan

#define VINBODY \
	XORQ R10, R10; \
	VBROW(0); \
	ADDQ R9, R10; \
	VBROW(192); \
	ADDQ R9, R10; \
	VBROW(384); \
	ADDQ R9, R10; \
	VBROW(576); \
	ADDQ R9, R10; \
	VBROW(768); \
	ADDQ R9, R10; \
	VBROW(960); \
	MOVQ DI, R8; \
	VBCOL(0); \
	VBCOL(1); \
	VBCOL(2); \
	VBCOL(3); \
	VBCOL(4); \
	VBCOL(5)

// The output kernel's stack: the rows' results (6 × 128 bytes), the
// output rows by column (4 × 128), the row's two groups (4 × 32), then
// the epilogue's vectors: bias (or −0, which adds nothing), the
// rectifier's floor and addend (0 and +0, or −∞ and −0), the bound (or
// +∞), and the steps left.
#define VO_OUT 768
#define VO_GRP 1280
#define VO_BIAS 1408
#define VO_LOW 1440
#define VO_ADD 1472
#define VO_BOUND 1504
#define VO_STEPS 1536

// VACT rectifies and bounds y as the stack's vectors say: max(floor, y)
// keeps y when it is a NaN or a zero of either sign, the addend turns −0
// into +0 (or adds nothing), min(bound, y) keeps a NaN.
#define VACT(y) \
	VMOVUPS VO_LOW(SP), Y2; \
	VMAXPS  y, Y2, y; \
	VADDPS  VO_ADD(SP), y, y; \
	VMOVUPS VO_BOUND(SP), Y3; \
	VMINPS  y, Y3, y

// VGROUP adds bias and residual to group g's 16 floats of the output row
// (R9: its offset in bytes), applies the activation and stores them: all
// 16 at once when the group's mask has the whole row, else through
// VMASKMOVPS masks made from its bits (part, pres, done: labels).
#define VGROUP(g, nores, part, pres, done) \
	VMOVUPS  (VO_GRP+g*64)(SP), Y0; \
	VMOVUPS  (VO_GRP+32+g*64)(SP), Y1; \
	MOVLQSX  (g*4)(DI), R12; \
	LEAQ     (AX)(R12*4), R12; \
	ADDQ     R9, R12; \
	VADDPS   VO_BIAS(SP), Y0, Y0; \
	VADDPS   VO_BIAS(SP), Y1, Y1; \
	MOVWLZX  (g*8)(R13), DX; \
	CMPL     DX, $0xffff; \
	JNE      part; \
	TESTQ    $8, mode+96(FP); \
	JZ       nores; \
	VADDPS   (R12)(R8*1), Y0, Y0; \
	VADDPS   32(R12)(R8*1), Y1, Y1; \
nores: \
	VACT(Y0); \
	VACT(Y1); \
	VMOVUPS  Y0, (R12); \
	VMOVUPS  Y1, 32(R12); \
	JMP      done; \
part: \
	VMOVD        DX, X6; \
	VPBROADCASTD X6, Y6; \
	VPAND        ·winoBits<>+0(SB), Y6, Y4; \
	VPCMPEQD     ·winoBits<>+0(SB), Y4, Y4; \
	VPAND        ·winoBits<>+32(SB), Y6, Y5; \
	VPCMPEQD     ·winoBits<>+32(SB), Y5, Y5; \
	TESTQ        $8, mode+96(FP); \
	JZ           pres; \
	VMASKMOVPS   (R12)(R8*1), Y4, Y6; \
	VADDPS       Y6, Y0, Y0; \
	VMASKMOVPS   32(R12)(R8*1), Y5, Y6; \
	VADDPS       Y6, Y1, Y1; \
pres: \
	VACT(Y0); \
	VACT(Y1); \
	VMASKMOVPS   Y0, Y4, (R12); \
	VMASKMOVPS   Y1, Y5, 32(R12); \
done:

// func winoInputAVX2(dst *float32, xiStride, cStride uintptr, src *float32, goffs *int32, srcStride, planeStride uintptr, nc, nsteps int)
//
// Registers: AX, BX the channel's dst and src; DI the step's dst, SI its
// group offsets; R9 the row stride, R10 the row's offset, R11 the ξ
// stride, R13 six of it (bytes); CX channels left, DX steps left.
TEXT ·winoInputAVX2(SB), 0, $1152-72
	VPROLOGUE($0x40a00000) // 5.0
	VLOOPS(VINBODY, vichan, vistep)
	VZEROUPPER
	RET

// VAT applies A (winoAT) to e0..e3 into f0..f5 (none of them an input;
// Y12, Y13 scratch; Y14 = 4): WAT of the AVX-512 kernels.
#define VAT(e0, e1, e2, e3, f0, f1, f2, f3, f4, f5) \
	VADDPS  e2, e0, Y12; \
	VADDPS  e3, e1, Y13; \
	VMOVAPS e0, f0; \
	VADDPS  Y13, Y12, f1; \
	VSUBPS  Y13, Y12, f2; \
	VMULPS  Y14, e2, Y12; \
	VADDPS  Y12, e0, Y12; \
	VMULPS  Y14, e3, Y13; \
	VADDPS  Y13, e1, Y13; \
	VADDPS  Y13, Y13, Y13; \
	VADDPS  Y13, Y12, f3; \
	VSUBPS  Y13, Y12, f4; \
	VMOVAPS e3, f5

// VATROW transforms the 4×4 blocks of the row at R10 along x and keeps
// the row's six results at off on the stack (192 bytes a row).
#define VATROW(off) \
	VROW4; \
	VT4(Y0, Y1, Y2, Y3); \
	VAT(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9); \
	VMOVUPS Y4, off(SP); \
	VMOVUPS Y5, off+32(SP); \
	VMOVUPS Y6, off+64(SP); \
	VMOVUPS Y7, off+96(SP); \
	VMOVUPS Y8, off+128(SP); \
	VMOVUPS Y9, off+160(SP)

// VATCOL transforms column j of the four rows and stores it at R8 (column
// j of ξ), which it then moves on.
#define VATCOL(j) \
	VMOVUPS (j*32)(SP), Y0; \
	VMOVUPS (192+j*32)(SP), Y1; \
	VMOVUPS (384+j*32)(SP), Y2; \
	VMOVUPS (576+j*32)(SP), Y3; \
	MOVQ    R8, R12; \
	VAT(Y0, Y1, Y2, Y3, Y6, Y7, Y8, Y9, Y10, Y11); \
	VST6

#define VGBODY \
	XORQ R10, R10; \
	VATROW(0); \
	ADDQ R9, R10; \
	VATROW(192); \
	ADDQ R9, R10; \
	VATROW(384); \
	ADDQ R9, R10; \
	VATROW(576); \
	MOVQ DI, R8; \
	VATCOL(0); \
	VATCOL(1); \
	VATCOL(2); \
	VATCOL(3); \
	VATCOL(4); \
	VATCOL(5)

// func winoGradInputAVX2(dst *float32, xiStride, cStride uintptr, src *float32, goffs *int32, srcStride, planeStride uintptr, nc, nsteps int)
//
// Registers as in winoInputAVX2.
TEXT ·winoGradInputAVX2(SB), 0, $768-72
	VPROLOGUE($0x40a00000)
	VLOOPS(VGBODY, vgchan, vgstep)
	VZEROUPPER
	RET

// VA applies Aᵀ (winoA) to m0..m5, leaving o0..o3 in Y10..Y13 (Y6..Y9
// scratch; Y14 = 4, Y15 = 8): WA of the AVX-512 kernels.
#define VA(m0, m1, m2, m3, m4, m5) \
	VADDPS m2, m1, Y6; \
	VSUBPS m2, m1, Y7; \
	VADDPS m4, m3, Y8; \
	VSUBPS m4, m3, Y9; \
	VADDPS Y6, m0, Y10; \
	VADDPS Y8, Y10, Y10; \
	VADDPS Y9, Y9, Y11; \
	VADDPS Y11, Y7, Y11; \
	VMULPS Y14, Y8, Y12; \
	VADDPS Y12, Y6, Y12; \
	VMULPS Y15, Y9, Y13; \
	VADDPS Y13, Y7, Y13; \
	VADDPS m5, Y13, Y13

// VLOADM loads the next ξ's tiles at R12.
#define VLOADM(y) \
	VMOVUPS (R12), y; \
	ADDQ    R11, R12

// VAROW transforms row i of the tiles' values (the next six ξ at R12)
// and keeps its four results at i·128 on the stack.
#define VAROW(i) \
	VLOADM(Y0); \
	VLOADM(Y1); \
	VLOADM(Y2); \
	VLOADM(Y3); \
	VLOADM(Y4); \
	VLOADM(Y5); \
	VA(Y0, Y1, Y2, Y3, Y4, Y5); \
	VMOVUPS Y10, (i*128)(SP); \
	VMOVUPS Y11, (i*128+32)(SP); \
	VMOVUPS Y12, (i*128+64)(SP); \
	VMOVUPS Y13, (i*128+96)(SP)

// VACOL transforms column j of those results into output rows 0..3, kept
// at VO_OUT + a·128 + j·32.
#define VACOL(j) \
	VMOVUPS (j*32)(SP), Y0; \
	VMOVUPS (128+j*32)(SP), Y1; \
	VMOVUPS (256+j*32)(SP), Y2; \
	VMOVUPS (384+j*32)(SP), Y3; \
	VMOVUPS (512+j*32)(SP), Y4; \
	VMOVUPS (640+j*32)(SP), Y5; \
	VA(Y0, Y1, Y2, Y3, Y4, Y5); \
	VMOVUPS Y10, (VO_OUT+j*32)(SP); \
	VMOVUPS Y11, (VO_OUT+128+j*32)(SP); \
	VMOVUPS Y12, (VO_OUT+256+j*32)(SP); \
	VMOVUPS Y13, (VO_OUT+384+j*32)(SP)

// winoBits holds bit c of a row's mask in lane c (columns 0–7, then 8–15).
DATA ·winoBits<>+0(SB)/4, $1
DATA ·winoBits<>+4(SB)/4, $2
DATA ·winoBits<>+8(SB)/4, $4
DATA ·winoBits<>+12(SB)/4, $8
DATA ·winoBits<>+16(SB)/4, $16
DATA ·winoBits<>+20(SB)/4, $32
DATA ·winoBits<>+24(SB)/4, $64
DATA ·winoBits<>+28(SB)/4, $128
DATA ·winoBits<>+32(SB)/4, $256
DATA ·winoBits<>+36(SB)/4, $512
DATA ·winoBits<>+40(SB)/4, $1024
DATA ·winoBits<>+44(SB)/4, $2048
DATA ·winoBits<>+48(SB)/4, $4096
DATA ·winoBits<>+52(SB)/4, $8192
DATA ·winoBits<>+56(SB)/4, $16384
DATA ·winoBits<>+60(SB)/4, $32768
GLOBL ·winoBits<>(SB), RODATA|NOPTR, $64

// VBCAST broadcasts the float with bits c to the stack's vector at off.
#define VBCAST(c, off) \
	MOVL         c, R12; \
	VMOVD        R12, X0; \
	VBROADCASTSS X0, Y0; \
	VMOVUPS      Y0, off(SP)

// func winoOutputAVX2(dst *float32, goffs *int32, gmask *uint64, dstStride, dstPlane uintptr, m *float32, xiStride, kStride uintptr, nk, nsteps int, bias, res *float32, mode uint64, bound float32)
//
// mode: bit 0 bias, 1 rectify, 2 bound, 3 residual. Registers: AX, BX
// the channel's dst and m; SI the step's m, DI its group offsets, R13 its
// group masks; R8 = res − dst (bytes); R9 the output row's offset, R10
// the row stride, R11 the ξ stride (bytes), R14 the row's results on the
// stack; CX the channel; DX, R12 scratch.
TEXT ·winoOutputAVX2(SB), 0, $1544-108
	MOVQ dst+0(FP), AX
	MOVQ dstStride+24(FP), R10
	MOVQ m+40(FP), BX
	MOVQ xiStride+48(FP), R11
	MOVQ res+88(FP), R8
	SUBQ AX, R8

	// The activation's vectors: the rectifier's or −∞ and −0, the bound
	// or +∞.
	VBCAST($0xff800000, VO_LOW)
	VBCAST($0x80000000, VO_ADD)
	TESTQ $2, mode+96(FP)
	JZ    vonorelu
	VXORPS  Y0, Y0, Y0
	VMOVUPS Y0, VO_LOW(SP)
	VMOVUPS Y0, VO_ADD(SP)

vonorelu:
	VBCAST($0x7f800000, VO_BOUND)
	TESTQ        $4, mode+96(FP)
	JZ           vonobound
	VBROADCASTSS bound+104(FP), Y0
	VMOVUPS      Y0, VO_BOUND(SP)

vonobound:
	VCONSTS($0x41000000) // 8.0
	XORQ CX, CX

vochan:
	MOVQ  BX, SI
	MOVQ  goffs+8(FP), DI
	MOVQ  gmask+16(FP), R13
	MOVQ  nsteps+72(FP), DX
	MOVQ  DX, VO_STEPS(SP)
	VBCAST($0x80000000, VO_BIAS)
	TESTQ $1, mode+96(FP)
	JZ    vostep
	MOVQ  bias+80(FP), R12
	VBROADCASTSS (R12)(CX*4), Y0
	VMOVUPS Y0, VO_BIAS(SP)

vostep:
	MOVQ SI, R12
	VAROW(0)
	VAROW(1)
	VAROW(2)
	VAROW(3)
	VAROW(4)
	VAROW(5)
	VACOL(0)
	VACOL(1)
	VACOL(2)
	VACOL(3)

	XORQ R9, R9
	XORQ R14, R14

vorow:
	// Column c of the row's tiles is at VO_OUT + R14 + c·32: transposed
	// by halves, then halves paired, each group's 16 floats in order.
	VMOVUPS    VO_OUT(SP)(R14*1), Y0
	VMOVUPS    VO_OUT+32(SP)(R14*1), Y1
	VMOVUPS    VO_OUT+64(SP)(R14*1), Y2
	VMOVUPS    VO_OUT+96(SP)(R14*1), Y3
	VT4(Y0, Y1, Y2, Y3)
	VPERM2F128 $0x20, Y1, Y0, Y4
	VPERM2F128 $0x20, Y3, Y2, Y5
	VPERM2F128 $0x31, Y1, Y0, Y6
	VPERM2F128 $0x31, Y3, Y2, Y7
	VMOVUPS    Y4, VO_GRP(SP)
	VMOVUPS    Y5, VO_GRP+32(SP)
	VMOVUPS    Y6, VO_GRP+64(SP)
	VMOVUPS    Y7, VO_GRP+96(SP)
	VGROUP(0, vonores0, vopart0, vopres0, vodone0)
	VGROUP(1, vonores1, vopart1, vopres1, vodone1)
	ADDQ R10, R9
	ADDQ $2, R13
	ADDQ $128, R14
	CMPQ R14, $512
	JLT  vorow
	SUBQ $8, R13

	// The next eight tiles: 8 floats on in m, two groups' offsets and
	// masks.
	ADDQ $32, SI
	ADDQ $8, DI
	ADDQ $16, R13
	DECQ VO_STEPS(SP)
	JNZ  vostep

	ADDQ dstPlane+32(FP), AX
	ADDQ kStride+56(FP), BX
	INCQ CX
	CMPQ CX, nk+64(FP)
	JLT  vochan
	VZEROUPPER
	RET
