//go:build amd64 && !purego

package kern

import "math"

//go:noescape
func sgemmPix1x32(kc int, b *float32, src *float32, offs *int32, c *float32, ldc uintptr, masks uint64, bias *float32, mode uint64, bound float32, idx *int32)

//go:noescape
func sgemmPix2x32(kc int, b *float32, src *float32, offs *int32, c *float32, ldc uintptr, masks uint64, bias *float32, mode uint64, bound float32, idx *int32)

//go:noescape
func sgemmPix3x32(kc int, b *float32, src *float32, offs *int32, c *float32, ldc uintptr, masks uint64, bias *float32, mode uint64, bound float32, idx *int32)

//go:noescape
func sgemmPix4x32(kc int, b *float32, src *float32, offs *int32, c *float32, ldc uintptr, masks uint64, bias *float32, mode uint64, bound float32, idx *int32)

//go:noescape
func sgemmPix5x32(kc int, b *float32, src *float32, offs *int32, c *float32, ldc uintptr, masks uint64, bias *float32, mode uint64, bound float32, idx *int32)

//go:noescape
func sgemmPix6x32(kc int, b *float32, src *float32, offs *int32, c *float32, ldc uintptr, masks uint64, bias *float32, mode uint64, bound float32, idx *int32)

//go:noescape
func sgemmPix7x32(kc int, b *float32, src *float32, offs *int32, c *float32, ldc uintptr, masks uint64, bias *float32, mode uint64, bound float32, idx *int32)

//go:noescape
func sgemmPix8x32(kc int, b *float32, src *float32, offs *int32, c *float32, ldc uintptr, masks uint64, bias *float32, mode uint64, bound float32, idx *int32)

//go:noescape
func sgemmPix9x32(kc int, b *float32, src *float32, offs *int32, c *float32, ldc uintptr, masks uint64, bias *float32, mode uint64, bound float32, idx *int32)

//go:noescape
func sgemmPix10x32(kc int, b *float32, src *float32, offs *int32, c *float32, ldc uintptr, masks uint64, bias *float32, mode uint64, bound float32, idx *int32)

//go:noescape
func sgemmPix11x32(kc int, b *float32, src *float32, offs *int32, c *float32, ldc uintptr, masks uint64, bias *float32, mode uint64, bound float32, idx *int32)

//go:noescape
func sgemmPix12x32(kc int, b *float32, src *float32, offs *int32, c *float32, ldc uintptr, masks uint64, bias *float32, mode uint64, bound float32, idx *int32)

var pixTiles = [...]func(kc int, b *float32, src *float32, offs *int32, c *float32, ldc uintptr, masks uint64, bias *float32, mode uint64, bound float32, idx *int32){
	sgemmPix1x32, sgemmPix2x32, sgemmPix3x32, sgemmPix4x32, sgemmPix5x32, sgemmPix6x32,
	sgemmPix7x32, sgemmPix8x32, sgemmPix9x32, sgemmPix10x32, sgemmPix11x32, sgemmPix12x32,
}

// PixelsFast reports whether SgemmPixelsRows runs its AVX-512 tiles here
// (with the AVX-512 GEMM kernel; GLASSBOX_KERNEL=avx2 turns both off) on
// output planes of planeLen floats.
func PixelsFast(planeLen int) bool { return pixFast(planeLen) }

// pixFast reports whether the tiles can scatter to planes ldc floats
// apart: the 16 channel offsets of a scatter are int32 bytes.
func pixFast(ldc int) bool { return indWide() && 60*int64(ldc) <= math.MaxInt32 }

// pixTile runs the AVX-512 tile of w pixels (1–12) and nj channels (at
// most 32: the scatter masks leave the rest of the panel unwritten).
func pixTile(w, nj, k int, wp, src []float32, offs []int32, c []float32, ldc int, bias []float32, relu bool, bound float32) bool {
	if w < 1 || w > len(pixTiles) || k == 0 {
		return false
	}
	var idx [16]int32
	for j := range idx {
		idx[j] = int32(j * ldc * 4)
	}
	masks := uint64(1)<<min(nj, 16) - 1 | (uint64(1)<<max(0, nj-16)-1)<<16
	var mode uint64
	var bp *float32
	if bias != nil {
		mode, bp = 1, &bias[0]
	}
	if relu {
		mode |= 2
	}
	if bound > 0 {
		mode |= 4
	}
	pixTiles[w-1](k, &wp[0], &src[0], &offs[0], &c[0], uintptr(ldc*4), masks, bp, mode, bound, &idx[0])
	return true
}
