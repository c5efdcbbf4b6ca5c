// TRANSPOSE8X8 transposes the 8×8 float32 block held in Y0..Y7 (row i in
// Yi) and stores its eight columns at dst, dst+64, …, dst+448: eight rows
// of one half of a 16-wide packed B panel. Y8..Y15 are scratch. Used by
// the transposed B packers (packB8T, packB8TRows).
#define TRANSPOSE8X8(dst) TRANSPOSE8X8S(dst, 64)

// TRANSPOSE8X8S is TRANSPOSE8X8 with the columns stored s bytes apart
// (s = 128 for the 32-wide panels of the AVX-512 kernel).
#define TRANSPOSE8X8S(dst, s) \
	VUNPCKLPS  Y1, Y0, Y8; \
	VUNPCKHPS  Y1, Y0, Y9; \
	VUNPCKLPS  Y3, Y2, Y10; \
	VUNPCKHPS  Y3, Y2, Y11; \
	VUNPCKLPS  Y5, Y4, Y12; \
	VUNPCKHPS  Y5, Y4, Y13; \
	VUNPCKLPS  Y7, Y6, Y14; \
	VUNPCKHPS  Y7, Y6, Y15; \
	VSHUFPS    $0x44, Y10, Y8, Y0; \
	VSHUFPS    $0xEE, Y10, Y8, Y1; \
	VSHUFPS    $0x44, Y11, Y9, Y2; \
	VSHUFPS    $0xEE, Y11, Y9, Y3; \
	VSHUFPS    $0x44, Y14, Y12, Y4; \
	VSHUFPS    $0xEE, Y14, Y12, Y5; \
	VSHUFPS    $0x44, Y15, Y13, Y6; \
	VSHUFPS    $0xEE, Y15, Y13, Y7; \
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
