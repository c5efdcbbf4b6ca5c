package modelreport

import (
	"image"
	"math"

	"github.com/glassbox-ml/glassbox/datasets"
	"github.com/glassbox-ml/glassbox/report"
)

// maxAbs is the largest |v| over all maps (1 when all are zero).
func maxAbs(maps ...[]float32) float64 {
	m := 0.0
	for _, vs := range maps {
		for _, v := range vs {
			if a := math.Abs(float64(v)); a > m && !math.IsInf(a, 0) {
				m = a
			}
		}
	}
	if m == 0 {
		return 1
	}
	return m
}

// signedTiles draws h×w maps on one symmetric diverging scale (the RdBu
// map: red positive, white zero, blue negative) so they compare, each
// value a scale×scale block, cols per row. It returns the picture and the
// |value| at the ends of the scale, for the colour key.
// labels, if not nil, titles each tile.
func signedTiles(maps [][]float32, h, w, scale, cols int, labels []string) (image.Image, float64) {
	m := maxAbs(maps...)
	tiles := make([]image.Image, len(maps))
	for i, v := range maps {
		tiles[i] = report.Heatmap(v, h, w, report.HeatmapOptions{MaxAbs: m, Scale: scale})
		if labels != nil {
			tiles[i] = report.Titled(tiles[i], labels[i], 1)
		}
	}
	return report.Grid(tiles, cols, 4), m
}

// inputTile draws one input (C×H×W in [0, 1]) enlarged.
func inputTile(x []float32, shape []int, scale int) image.Image {
	return report.Upscale(datasets.PixelsToImage(x, shape[0], shape[1], shape[2]), scale)
}

// imageScale picks an enlargement that makes an image about 112 pixels.
func imageScale(h, w int) int { return max(1, 112/max(h, w)) }
