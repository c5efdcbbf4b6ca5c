//go:build !amd64 || purego

package kern

// PixelsFast reports whether SgemmPixelsRows runs an assembly tile here;
// in this build it never does.
func PixelsFast(planeLen int) bool { return false }

func pixFast(ldc int) bool { return false }

func pixTile(w, nj, k int, wp, src []float32, offs []int32, c []float32, ldc int, bias []float32, relu bool, bound float32, tmp *[12 * pixPanel]float32, res []float32) bool {
	return false
}
