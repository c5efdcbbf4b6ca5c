//go:build amd64 && !purego

package kern

//go:noescape
func sgemmPix1x32(kc int, b *float32, src *float32, offs *int32, c *float32, ldc uintptr, nj uint64, bias *float32, mode uint64, bound float32, idx *int32, tmp *float32, res *float32)

//go:noescape
func sgemmPix2x32(kc int, b *float32, src *float32, offs *int32, c *float32, ldc uintptr, nj uint64, bias *float32, mode uint64, bound float32, idx *int32, tmp *float32, res *float32)

//go:noescape
func sgemmPix3x32(kc int, b *float32, src *float32, offs *int32, c *float32, ldc uintptr, nj uint64, bias *float32, mode uint64, bound float32, idx *int32, tmp *float32, res *float32)

//go:noescape
func sgemmPix4x32(kc int, b *float32, src *float32, offs *int32, c *float32, ldc uintptr, nj uint64, bias *float32, mode uint64, bound float32, idx *int32, tmp *float32, res *float32)

//go:noescape
func sgemmPix5x32(kc int, b *float32, src *float32, offs *int32, c *float32, ldc uintptr, nj uint64, bias *float32, mode uint64, bound float32, idx *int32, tmp *float32, res *float32)

//go:noescape
func sgemmPix6x32(kc int, b *float32, src *float32, offs *int32, c *float32, ldc uintptr, nj uint64, bias *float32, mode uint64, bound float32, idx *int32, tmp *float32, res *float32)

//go:noescape
func sgemmPix7x32(kc int, b *float32, src *float32, offs *int32, c *float32, ldc uintptr, nj uint64, bias *float32, mode uint64, bound float32, idx *int32, tmp *float32, res *float32)

//go:noescape
func sgemmPix8x32(kc int, b *float32, src *float32, offs *int32, c *float32, ldc uintptr, nj uint64, bias *float32, mode uint64, bound float32, idx *int32, tmp *float32, res *float32)

//go:noescape
func sgemmPix9x32(kc int, b *float32, src *float32, offs *int32, c *float32, ldc uintptr, nj uint64, bias *float32, mode uint64, bound float32, idx *int32, tmp *float32, res *float32)

//go:noescape
func sgemmPix10x32(kc int, b *float32, src *float32, offs *int32, c *float32, ldc uintptr, nj uint64, bias *float32, mode uint64, bound float32, idx *int32, tmp *float32, res *float32)

//go:noescape
func sgemmPix11x32(kc int, b *float32, src *float32, offs *int32, c *float32, ldc uintptr, nj uint64, bias *float32, mode uint64, bound float32, idx *int32, tmp *float32, res *float32)

//go:noescape
func sgemmPix12x32(kc int, b *float32, src *float32, offs *int32, c *float32, ldc uintptr, nj uint64, bias *float32, mode uint64, bound float32, idx *int32, tmp *float32, res *float32)

var pixTiles = [...]func(kc int, b *float32, src *float32, offs *int32, c *float32, ldc uintptr, nj uint64, bias *float32, mode uint64, bound float32, idx *int32, tmp *float32, res *float32){
	sgemmPix1x32, sgemmPix2x32, sgemmPix3x32, sgemmPix4x32, sgemmPix5x32, sgemmPix6x32,
	sgemmPix7x32, sgemmPix8x32, sgemmPix9x32, sgemmPix10x32, sgemmPix11x32, sgemmPix12x32,
}

// PixelsFast reports whether SgemmPixelsRows runs its AVX-512 tiles here
// (with the AVX-512 GEMM kernel; GLASSBOX_KERNEL=avx2 turns both off) on
// output planes of planeLen floats.
func PixelsFast(planeLen int) bool { return pixFast(planeLen) }

// pixFast reports whether the tiles run here.
func pixFast(ldc int) bool { return indWide() }

// pixGather holds the offsets, in floats, of the pixels of the tile
// scratch (32 channels each) that a channel's gather reads.
var pixGather = [16]int32{0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448, 480}

// pixTile runs the AVX-512 tile of w pixels (1–12) and nj channels (at
// most 32; the rest of the panel is computed and not stored), through
// the scratch tile tmp, adding the residual res (laid out as c; nil:
// none) before the rectifier and bound.
func pixTile(w, nj, k int, wp, src []float32, offs []int32, c []float32, ldc int, bias []float32, relu bool, bound float32, tmp *[12 * pixPanel]float32, res []float32) bool {
	if w < 1 || w > len(pixTiles) || k == 0 || nj < 1 {
		return false
	}
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
	rp := &tmp[0] // not read without bit 3
	if res != nil {
		mode, rp = mode|8, &res[0]
	}
	pixTiles[w-1](k, &wp[0], &src[0], &offs[0], &c[0], uintptr(ldc*4), uint64(nj), bp, mode, bound, &pixGather[0], &tmp[0], rp)
	return true
}
