package datasets

import (
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func near(a, b, tol float32) bool { return float32(math.Abs(float64(a-b))) <= tol }

func TestImagePixelsGreyAndRGB(t *testing.T) {
	m := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	m.Set(0, 0, color.NRGBA{255, 0, 0, 255})
	m.Set(1, 0, color.NRGBA{0, 0, 255, 128}) // half transparent blue: over black
	rgb, err := ImagePixels(m, 3, 1, 2, Bilinear)
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{1, 0, 0, 0, 0, 128.0 / 255}
	for i := range want {
		if !near(rgb[i], want[i], 1e-4) {
			t.Fatalf("rgb %v, want %v", rgb, want)
		}
	}
	grey, err := ImagePixels(m, 1, 1, 2, Nearest)
	if err != nil {
		t.Fatal(err)
	}
	if !near(grey[0], 0.299, 1e-4) || !near(grey[1], 0.114*128/255, 1e-4) {
		t.Fatalf("grey %v, want luma [0.299 %v]", grey, 0.114*128/255)
	}
	g := image.NewGray(image.Rect(5, 5, 7, 6)) // non-zero origin
	g.Pix[0], g.Pix[1] = 0, 255
	for _, c := range []int{1, 3} {
		p, err := ImagePixels(g, c, 1, 2, Bilinear)
		if err != nil {
			t.Fatal(err)
		}
		for ch := range c {
			if p[2*ch] != 0 || p[2*ch+1] != 1 {
				t.Fatalf("grey image as %d channels: %v", c, p)
			}
		}
	}
	for _, bad := range []struct{ c, h, w int }{{2, 1, 1}, {1, 0, 1}, {3, 1, -1}} {
		if _, err := ImagePixels(g, bad.c, bad.h, bad.w, Bilinear); err == nil {
			t.Errorf("ImagePixels(c=%d h=%d w=%d) accepted", bad.c, bad.h, bad.w)
		}
	}
	if _, err := ImagePixels(g, 1, 1, 1, Resize(7)); err == nil {
		t.Error("unknown resize method accepted")
	}
}

func TestResizeKnownAnswers(t *testing.T) {
	// 2×2 → 4×4 bilinear with half-pixel centres: corners keep their
	// values, the inner samples blend at 1/4 and 3/4.
	src := []float32{0, 1, 1, 0}
	dst := make([]float32, 16)
	resizePlane(dst, 4, 4, src, 2, 2, Bilinear)
	want := []float32{
		0, 0.25, 0.75, 1,
		0.25, 0.375, 0.625, 0.75,
		0.75, 0.625, 0.375, 0.25,
		1, 0.75, 0.25, 0,
	}
	for i := range want {
		if !near(dst[i], want[i], 1e-6) {
			t.Fatalf("bilinear 2→4: %v, want %v", dst, want)
		}
	}
	// 4×1 → 2×1: bilinear at centres 0.5 and 2.5 averages pairs; nearest picks 1 and 3.
	src = []float32{0, 1, 2, 3}
	d2 := make([]float32, 2)
	resizePlane(d2, 2, 1, src, 4, 1, Bilinear)
	if !slices.Equal(d2, []float32{0.5, 2.5}) {
		t.Fatalf("bilinear 4→2: %v", d2)
	}
	resizePlane(d2, 2, 1, src, 4, 1, Nearest)
	if !slices.Equal(d2, []float32{1, 3}) {
		t.Fatalf("nearest 4→2: %v", d2)
	}
	// A constant image stays constant at any size.
	c := make([]float32, 9)
	for i := range c {
		c[i] = 0.3
	}
	d := make([]float32, 35)
	resizePlane(d, 7, 5, c, 3, 3, Bilinear)
	for _, v := range d {
		if !near(v, 0.3, 1e-6) {
			t.Fatalf("constant image resized to %v", d)
		}
	}
}

func TestPixelsToImageRoundTrip(t *testing.T) {
	pix := []float32{0, 0.2, 0.4, 1, 0.6, 0.8, 0, 1, 1, 0, 0.5, 0.25}
	for _, c := range []int{1, 3} {
		h, w := 2, len(pix)/(2*c)
		img := PixelsToImage(pix[:c*h*w], c, h, w)
		back, err := ImagePixels(img, c, h, w, Nearest)
		if err != nil {
			t.Fatal(err)
		}
		for i := range back {
			if !near(back[i], pix[i], 0.5/255+1e-6) {
				t.Fatalf("c=%d: round trip %v, want %v", c, back, pix[:c*h*w])
			}
		}
	}
	im := &Images{N: 2, C: 1, H: 1, W: 2, Pixels: []float32{0, 1, 0.5, 0.5}, Labels: []int{0, 1}, Classes: []string{"a", "b"}}
	if err := im.Validate(); err != nil {
		t.Fatal(err)
	}
	if g := im.ToImage(1).(*image.Gray); g.Pix[0] != 128 {
		t.Fatalf("ToImage(1) pixel %d, want 128", g.Pix[0])
	}
	sub, err := im.Subset([]int{1, 1, 0})
	if err != nil || sub.N != 3 || !slices.Equal(sub.Labels, []int{1, 1, 0}) || !slices.Equal(sub.Image(2), []float32{0, 1}) {
		t.Fatalf("Subset: %+v %v", sub, err)
	}
	if !slices.Equal(sub.ClassCounts(), []int{1, 2}) {
		t.Fatalf("ClassCounts %v", sub.ClassCounts())
	}
	if _, err := im.Subset([]int{2}); err == nil {
		t.Fatal("Subset out of range accepted")
	}
	bad := *im
	bad.Labels = []int{0, 2}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "label 2 of image 1") {
		t.Fatalf("Validate bad label: %v", err)
	}
	bad = *im
	bad.Pixels = []float32{0, 1, 2, 0}
	if err := bad.Validate(); err == nil {
		t.Fatal("Validate accepted a pixel of 2")
	}
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

func greyImage(w, h int, v uint8) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for i := range g.Pix {
		g.Pix[i] = v
	}
	return g
}

// makeFolder writes root/zebra/{b,a}.png (grey 4×4, values 200 and 100),
// root/ant/x.PNG (grey 4×4, 50), a README and a hidden folder.
func makeFolder(t *testing.T) string {
	root := t.TempDir()
	for _, d := range []string{"zebra", "ant", ".hidden"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writePNG(t, filepath.Join(root, "zebra", "b.png"), greyImage(4, 4, 200))
	writePNG(t, filepath.Join(root, "zebra", "a.png"), greyImage(4, 4, 100))
	writePNG(t, filepath.Join(root, "ant", "x.PNG"), greyImage(4, 4, 50))
	writePNG(t, filepath.Join(root, ".hidden", "y.png"), greyImage(4, 4, 1))
	if err := os.WriteFile(filepath.Join(root, "zebra", "README.txt"), []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestLoadImageFolder(t *testing.T) {
	root := makeFolder(t)
	im, err := LoadImageFolder(context.Background(), root, ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := im.Validate(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(im.Classes, []string{"ant", "zebra"}) || !slices.Equal(im.Labels, []int{0, 1, 1}) {
		t.Fatalf("classes %v labels %v", im.Classes, im.Labels)
	}
	if im.N != 3 || im.C != 1 || im.H != 4 || im.W != 4 {
		t.Fatalf("shape %d×%d×%d×%d, want 3×1×4×4 (grey files give one channel)", im.N, im.C, im.H, im.W)
	}
	for i, v := range []float32{50, 100, 200} { // name order within a class: a.png before b.png
		if !near(im.Image(i)[5], v/255, 1e-6) {
			t.Fatalf("image %d pixel %v, want %v", i, im.Image(i)[5], v/255)
		}
	}
	// Resize to 2×3 RGB: a constant grey stays that grey in every channel.
	im, err = LoadImageFolder(context.Background(), root, ImageOptions{Width: 3, Height: 2, Channels: 3, Resize: Nearest})
	if err != nil {
		t.Fatal(err)
	}
	if im.C != 3 || im.H != 2 || im.W != 3 || len(im.Image(2)) != 18 || !near(im.Image(2)[17], 200.0/255, 1e-6) {
		t.Fatalf("resized: %d×%d×%d, last pixel %v", im.C, im.H, im.W, im.Image(2)[17])
	}
}

func TestLoadImageFolderColourAndJPEG(t *testing.T) {
	root := t.TempDir()
	os.Mkdir(filepath.Join(root, "red"), 0o755)
	os.Mkdir(filepath.Join(root, "grey"), 0o755)
	rgba := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := 0; i < len(rgba.Pix); i += 4 {
		rgba.Pix[i], rgba.Pix[i+3] = 255, 255
	}
	f, err := os.Create(filepath.Join(root, "red", "r.jpeg"))
	if err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(f, rgba, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	writePNG(t, filepath.Join(root, "grey", "g.png"), greyImage(8, 8, 255))
	im, err := LoadImageFolder(context.Background(), root, ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if im.C != 3 {
		t.Fatalf("a colour JPEG among the files: %d channels, want 3", im.C)
	}
	red := im.Image(1) // classes: grey, red
	if !near(red[0], 1, 0.03) || !near(red[64], 0, 0.03) || !near(red[128], 0, 0.03) {
		t.Fatalf("red JPEG pixel (%v %v %v), want about (1 0 0)", red[0], red[64], red[128])
	}
	if white := im.Image(0); white[0] != 1 || white[64] != 1 || white[128] != 1 {
		t.Fatalf("white PNG as RGB: %v %v %v", white[0], white[64], white[128])
	}
}

func TestLoadImageFolderErrors(t *testing.T) {
	ctx := context.Background()
	root := makeFolder(t)
	bad := filepath.Join(root, "ant", "broken.png")
	os.WriteFile(bad, []byte("\x89PNG not really"), 0o644)
	if _, err := LoadImageFolder(ctx, root, ImageOptions{}); err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("corrupt file: error %v, want one naming %s", err, bad)
	}
	os.Remove(bad)
	odd := filepath.Join(root, "ant", "z.png")
	writePNG(t, odd, greyImage(5, 4, 9))
	if _, err := LoadImageFolder(ctx, root, ImageOptions{}); err == nil || !strings.Contains(err.Error(), "5x4") || !strings.Contains(err.Error(), "Width and Height") {
		t.Fatalf("mixed sizes: error %v", err)
	}
	if im, err := LoadImageFolder(ctx, root, ImageOptions{Width: 4, Height: 4}); err != nil || im.N != 4 {
		t.Fatalf("mixed sizes with a set size: %v", err)
	}
	os.Mkdir(filepath.Join(root, "empty"), 0o755)
	if _, err := LoadImageFolder(ctx, root, ImageOptions{Width: 4, Height: 4}); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("empty class: error %v", err)
	}
	if _, err := LoadImageFolder(ctx, t.TempDir(), ImageOptions{}); err == nil || !strings.Contains(err.Error(), "no class sub-folders") {
		t.Fatalf("no classes: error %v", err)
	}
	if _, err := LoadImageFolder(ctx, root, ImageOptions{Channels: 2}); err == nil {
		t.Fatal("Channels 2 accepted")
	}
	if _, err := LoadImageFolder(ctx, root, ImageOptions{Width: 4}); err == nil {
		t.Fatal("Width without Height accepted")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	os.Remove(filepath.Join(root, "empty"))
	if _, err := LoadImageFolder(cancelled, root, ImageOptions{Width: 4, Height: 4}); err != context.Canceled {
		t.Fatalf("cancelled: %v", err)
	}
	if _, err := LoadImageFile(filepath.Join(root, "ant", "x.PNG"), ImageOptions{}); err == nil {
		t.Fatal("LoadImageFile without a size accepted")
	}
}
