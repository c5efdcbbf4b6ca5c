// TRANSPOSE8X8 transposes the 8×8 float32 block held in Y0..Y7 (row i in
// Yi) and stores its eight columns at dst, dst+64, …, dst+448: eight rows
// of one half of a 16-wide packed B panel. Y8..Y15 are scratch. Used by
// the transposed B packers (packB8T, packB8TRows).
#define TRANSPOSE8X8(dst) TRANSPOSE8X8S(dst, 64)

// TRANSPOSE4X4HALVES transposes the two 4×4 blocks that i0..i3 hold, one
// in each 128-bit half (row r of a block in ir), into o0..o3, with
// t0..t3 scratch (t3 may be i0, and o3 t0: each is read before it is
// written).
#define TRANSPOSE4X4HALVES(i0, i1, i2, i3, t0, t1, t2, t3, o0, o1, o2, o3) \
	VUNPCKLPS i1, i0, t0; \
	VUNPCKHPS i1, i0, t1; \
	VUNPCKLPS i3, i2, t2; \
	VUNPCKHPS i3, i2, t3; \
	VSHUFPS   $0x44, t2, t0, o0; \
	VSHUFPS   $0xEE, t2, t0, o1; \
	VSHUFPS   $0x44, t3, t1, o2; \
	VSHUFPS   $0xEE, t3, t1, o3

// TRANSPOSE8X8S is TRANSPOSE8X8 with the columns stored s bytes apart
// (s = 128 for the 32-wide panels of the AVX-512 kernel).
#define TRANSPOSE8X8S(dst, s) \
	TRANSPOSE4X4HALVES(Y0, Y1, Y2, Y3, Y8, Y9, Y10, Y11, Y0, Y1, Y2, Y3); \
	TRANSPOSE4X4HALVES(Y4, Y5, Y6, Y7, Y12, Y13, Y14, Y15, Y4, Y5, Y6, Y7); \
	VPERM2F128 $0x20, Y4, Y0, Y8; \
	VPERM2F128 $0x20, Y5, Y1, Y9; \
	VPERM2F128 $0x20, Y6, Y2, Y10; \
	VPERM2F128 $0x20, Y7, Y3, Y11; \
	VPERM2F128 $0x31, Y4, Y0, Y12; \
	VPERM2F128 $0x31, Y5, Y1, Y13; \
	VPERM2F128 $0x31, Y6, Y2, Y14; \
	VPERM2F128 $0x31, Y7, Y3, Y15; \
	VMOVUPS    Y8, (dst); \
	VMOVUPS    Y9, 1*s(dst); \
	VMOVUPS    Y10, 2*s(dst); \
	VMOVUPS    Y11, 3*s(dst); \
	VMOVUPS    Y12, 4*s(dst); \
	VMOVUPS    Y13, 5*s(dst); \
	VMOVUPS    Y14, 6*s(dst); \
	VMOVUPS    Y15, 7*s(dst)
