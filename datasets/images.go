package datasets

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
)

// Images is a labelled set of images with the same size and channel count.
type Images struct {
	N, C, H, W int       // count, channels (1 grey or 3 RGB), height, width
	Pixels     []float32 // N*C*H*W values in [0,1], layout [n][c][y][x] (NCHW)
	Labels     []int     // N class indices into Classes
	Classes    []string  // class names; Labels[i] < len(Classes)
}

// Image returns the C*H*W pixels of image i (a view, not a copy). It panics
// if i is out of range (a programmer error).
func (im *Images) Image(i int) []float32 {
	if i < 0 || i >= im.N {
		panic(fmt.Sprintf("datasets: image index %d out of range [0,%d)", i, im.N))
	}
	sz := im.C * im.H * im.W
	return im.Pixels[i*sz : (i+1)*sz : (i+1)*sz]
}

// Validate checks that the sizes agree, pixels are in [0,1] and labels are
// valid class indices.
func (im *Images) Validate() error {
	if im.N < 0 || im.C <= 0 || im.H <= 0 || im.W <= 0 {
		return fmt.Errorf("images: bad shape N=%d C=%d H=%d W=%d", im.N, im.C, im.H, im.W)
	}
	if want := im.N * im.C * im.H * im.W; len(im.Pixels) != want {
		return fmt.Errorf("images: %d pixels for shape [%d %d %d %d], want %d", len(im.Pixels), im.N, im.C, im.H, im.W, want)
	}
	if len(im.Labels) != im.N {
		return fmt.Errorf("images: %d labels for %d images", len(im.Labels), im.N)
	}
	for i, v := range im.Pixels {
		if !(v >= 0 && v <= 1) {
			return fmt.Errorf("images: pixel %d (image %d) is %v, want a value in [0,1]", i, i/(im.C*im.H*im.W), v)
		}
	}
	for i, l := range im.Labels {
		if l < 0 || l >= len(im.Classes) {
			return fmt.Errorf("images: label %d of image %d is not a class index in [0,%d)", l, i, len(im.Classes))
		}
	}
	return nil
}

// Subset returns a new Images holding copies of the images at the given
// indices, in that order.
func (im *Images) Subset(indices []int) (*Images, error) {
	out := &Images{N: len(indices), C: im.C, H: im.H, W: im.W, Classes: im.Classes}
	sz := im.C * im.H * im.W
	out.Pixels = make([]float32, 0, len(indices)*sz)
	out.Labels = make([]int, len(indices))
	for k, i := range indices {
		if i < 0 || i >= im.N {
			return nil, fmt.Errorf("images: subset index %d out of range [0,%d)", i, im.N)
		}
		out.Pixels = append(out.Pixels, im.Image(i)...)
		out.Labels[k] = im.Labels[i]
	}
	return out, nil
}

// ClassCounts returns how many images each class has.
func (im *Images) ClassCounts() []int {
	c := make([]int, len(im.Classes))
	for _, l := range im.Labels {
		if l >= 0 && l < len(c) {
			c[l]++
		}
	}
	return c
}

// ToImage converts image i back to an image.Image (image.Gray for one
// channel, image.RGBA for three), for viewing and for explanation overlays.
func (im *Images) ToImage(i int) image.Image {
	return PixelsToImage(im.Image(i), im.C, im.H, im.W)
}

// PixelsToImage converts C*H*W values in [0,1] (C = 1 or 3, layout [c][y][x])
// to an image.Gray or image.RGBA; values outside [0,1] are clamped. It panics
// if len(pix) != c*h*w or c is not 1 or 3 (a programmer error).
func PixelsToImage(pix []float32, c, h, w int) image.Image {
	if len(pix) != c*h*w || (c != 1 && c != 3) {
		panic(fmt.Sprintf("datasets: PixelsToImage got %d values for c=%d h=%d w=%d (want c*h*w with c 1 or 3)", len(pix), c, h, w))
	}
	to8 := func(v float32) uint8 {
		return uint8(math.Round(float64(min(max(v, 0), 1)) * 255))
	}
	r := image.Rect(0, 0, w, h)
	if c == 1 {
		g := image.NewGray(r)
		for i, v := range pix {
			g.Pix[i] = to8(v)
		}
		return g
	}
	m := image.NewRGBA(r)
	plane := h * w
	for p := range plane {
		m.Pix[4*p] = to8(pix[p])
		m.Pix[4*p+1] = to8(pix[plane+p])
		m.Pix[4*p+2] = to8(pix[2*plane+p])
		m.Pix[4*p+3] = 255
	}
	return m
}

// Resize picks how images are scaled to the requested size.
type Resize int

const (
	// Bilinear interpolates between the four nearest source pixels, with
	// pixel centres at half-integer positions (like OpenCV's INTER_LINEAR).
	// It does not low-pass filter first, so large reductions may alias.
	Bilinear Resize = iota
	// Nearest takes the source pixel whose centre is nearest.
	Nearest
)

// String returns "bilinear" or "nearest".
func (r Resize) String() string {
	switch r {
	case Bilinear:
		return "bilinear"
	case Nearest:
		return "nearest"
	}
	return fmt.Sprintf("Resize(%d)", int(r))
}

// ImagePixels converts img to channels*height*width values in [0,1] (layout
// [c][y][x]), resizing it with the given method when its size differs.
// channels is 1 (grey: luma 0.299R+0.587G+0.114B) or 3 (RGB). Transparent
// pixels are composited over black.
func ImagePixels(img image.Image, channels, height, width int, resize Resize) ([]float32, error) {
	if channels != 1 && channels != 3 {
		return nil, fmt.Errorf("image: %d channels requested, want 1 (grey) or 3 (RGB)", channels)
	}
	if height <= 0 || width <= 0 {
		return nil, fmt.Errorf("image: size %dx%d requested, want positive width and height", width, height)
	}
	if resize != Bilinear && resize != Nearest {
		return nil, fmt.Errorf("image: unknown resize method %d, want datasets.Bilinear or datasets.Nearest", int(resize))
	}
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	if sw <= 0 || sh <= 0 {
		return nil, errors.New("image: empty image")
	}
	src := toPlanes(img, channels)
	if sw == width && sh == height {
		return src, nil
	}
	out := make([]float32, channels*height*width)
	for c := range channels {
		resizePlane(out[c*height*width:(c+1)*height*width], width, height, src[c*sw*sh:(c+1)*sw*sh], sw, sh, resize)
	}
	return out, nil
}

// toPlanes converts img to channel planes in [0,1] at its own size.
func toPlanes(img image.Image, channels int) []float32 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := make([]float32, channels*w*h)
	if g, ok := img.(*image.Gray); ok && channels == 1 {
		for y := range h {
			row := g.Pix[(y)*g.Stride : y*g.Stride+w]
			for x, v := range row {
				out[y*w+x] = float32(v) / 255
			}
		}
		return out
	}
	plane := w * h
	for y := range h {
		for x := range w {
			var r, g, bl uint32
			switch m := img.(type) {
			case *image.Gray:
				v := uint32(m.Pix[y*m.Stride+x]) * 0x101
				r, g, bl = v, v, v
			case *image.RGBA:
				o := y*m.Stride + 4*x
				r, g, bl = uint32(m.Pix[o])*0x101, uint32(m.Pix[o+1])*0x101, uint32(m.Pix[o+2])*0x101
			case *image.NRGBA:
				o := y*m.Stride + 4*x
				a := uint32(m.Pix[o+3])
				r, g, bl = uint32(m.Pix[o])*a*0x101/255, uint32(m.Pix[o+1])*a*0x101/255, uint32(m.Pix[o+2])*a*0x101/255
			default:
				r, g, bl, _ = img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			}
			p := y*w + x
			if channels == 1 {
				out[p] = float32((0.299*float64(r) + 0.587*float64(g) + 0.114*float64(bl)) / 65535)
				if out[p] > 1 {
					out[p] = 1
				}
			} else {
				out[p] = float32(r) / 65535
				out[plane+p] = float32(g) / 65535
				out[2*plane+p] = float32(bl) / 65535
			}
		}
	}
	return out
}

// resizePlane scales one sw×sh plane to dw×dh.
func resizePlane(dst []float32, dw, dh int, src []float32, sw, sh int, method Resize) {
	sx := float64(sw) / float64(dw)
	sy := float64(sh) / float64(dh)
	if method == Nearest {
		for y := range dh {
			yy := min(int((float64(y)+0.5)*sy), sh-1)
			for x := range dw {
				xx := min(int((float64(x)+0.5)*sx), sw-1)
				dst[y*dw+x] = src[yy*sw+xx]
			}
		}
		return
	}
	for y := range dh {
		fy := min(max((float64(y)+0.5)*sy-0.5, 0), float64(sh-1))
		y0 := int(fy)
		y1 := min(y0+1, sh-1)
		ty := float32(fy - float64(y0))
		for x := range dw {
			fx := min(max((float64(x)+0.5)*sx-0.5, 0), float64(sw-1))
			x0 := int(fx)
			x1 := min(x0+1, sw-1)
			tx := float32(fx - float64(x0))
			top := src[y0*sw+x0]*(1-tx) + src[y0*sw+x1]*tx
			bot := src[y1*sw+x0]*(1-tx) + src[y1*sw+x1]*tx
			dst[y*dw+x] = top*(1-ty) + bot*ty
		}
	}
}

// isGreyModel reports whether a colour model holds grey values only.
func isGreyModel(m color.Model) bool {
	return m == color.GrayModel || m == color.Gray16Model
}
