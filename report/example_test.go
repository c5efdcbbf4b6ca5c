package report_test

import (
	"fmt"
	"image"
	"os"
	"path/filepath"

	"github.com/glassbox-ml/glassbox/report"
)

func ExampleHeatmap() {
	// A 2×2 attribution map: strongest positive, zero, strongest negative, half.
	attr := []float32{1, 0, -1, 0.5}
	img := report.Heatmap(attr, 2, 2, report.HeatmapOptions{Scale: 10})
	fmt.Println(img.Bounds().Size())
	fmt.Println(img.At(0, 0), img.At(10, 0), img.At(0, 10), img.At(10, 10))
	// Output:
	// (20,20)
	// {103 0 31 255} {247 247 247 255} {5 48 97 255} {229 131 104 255}
}

func ExampleOverlay() {
	// A 28×28 grey digit and a saliency map of the same size.
	pix := make([]float32, 28*28)
	attr := make([]float32, 28*28)
	for y := 6; y < 22; y++ {
		pix[y*28+14] = 1
		attr[y*28+14] = float32(y - 14) // top half against, bottom half for
	}
	img := report.Overlay(pix, 1, 28, 28, attr, report.OverlayOptions{Scale: 8})
	fmt.Println(img.Bounds().Size())
	fmt.Println("background", img.At(0, 0), "bottom of stroke", img.At(14*8, 21*8))
	// Output:
	// (224,224)
	// background {38 38 38 255} bottom of stroke {191 90 103 255}
}

func ExampleMaskOverlay() {
	// A 4×4 grey image cut into four 2×2 segments with LIME weights.
	pix := make([]float32, 16)
	labels := []int{
		0, 0, 1, 1,
		0, 0, 1, 1,
		2, 2, 3, 3,
		2, 2, 3, 3,
	}
	weights := []float64{0.4, -0.1, 0.02, -0.3}
	o := report.MaskOptions{TopK: 2, Scale: 16}
	img := report.MaskOverlay(pix, 1, 4, 4, labels, weights, o)
	fmt.Println(img.Bounds().Size(), "shows segments", report.SelectSegments(weights, o))
	// Output:
	// (64,64) shows segments [0 3]
}

func ExampleBarChart() {
	names := []string{"petal length", "sepal width", "petal width", "sepal length"}
	weights := []float64{0.42, -0.08, 0.31, 0.02}
	img := report.BarChart(names, weights, report.BarOptions{Title: "why setosa"})
	dir, _ := os.MkdirTemp("", "report-example")
	defer os.RemoveAll(dir)
	if err := report.WritePNG(filepath.Join(dir, "bars.png"), img); err != nil {
		fmt.Println(err)
	}
	fmt.Println(img.Bounds().Size())
	// Output:
	// (640,185)
}

func ExampleGrid() {
	small := image.NewRGBA(image.Rect(0, 0, 28, 28))
	tiles := []image.Image{report.Upscale(small, 4), report.Upscale(small, 4), report.Upscale(small, 4)}
	fmt.Println(report.Grid(tiles, 2, 8).Bounds().Size())
	// Output:
	// (248,248)
}
