package datasets

import (
	"context"
	"fmt"
	"image"
	_ "image/jpeg" // decoders for LoadImageFolder
	_ "image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ImageOptions sets the size and channels images are converted to.
type ImageOptions struct {
	// Width and Height of the result. Zero means: the size of the images,
	// which must then all have the same size.
	Width, Height int
	// Channels: 1 (grey) or 3 (RGB). Zero means 1 if every image is stored
	// as grey, else 3.
	Channels int
	// Resize is the scaling method for images of another size (default
	// Bilinear).
	Resize Resize
}

// Limits that keep a hostile or mistaken input from exhausting memory.
const (
	maxImagePixels = 1 << 26 // one source image, width*height
	maxSetFloats   = 1 << 30 // a whole image set, N*C*H*W (4 GiB)
)

var imageExts = []string{".png", ".jpg", ".jpeg"}

// LoadImageFolder reads a folder laid out as root/<class>/<image>, one
// sub-folder per class, into Images. Classes are the sub-folder names sorted
// by name (label i is Classes[i]); images are read in name order within a
// class. Files ending in .png, .jpg or .jpeg (any case) are read; other files
// and folders starting with "." are ignored. A file that cannot be decoded,
// a class folder without images, or images of different sizes when
// opts.Width/Height are zero give an error naming the file.
func LoadImageFolder(ctx context.Context, root string, opts ImageOptions) (*Images, error) {
	if opts.Channels != 0 && opts.Channels != 1 && opts.Channels != 3 {
		return nil, fmt.Errorf("image folder %s: Channels is %d, want 1 (grey), 3 (RGB) or 0 (from the files)", root, opts.Channels)
	}
	if opts.Width < 0 || opts.Height < 0 || (opts.Width == 0) != (opts.Height == 0) {
		return nil, fmt.Errorf("image folder %s: size %dx%d: set both Width and Height, or neither to keep the files' size", root, opts.Width, opts.Height)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("image folder: %w", err)
	}
	type item struct {
		path  string
		label int
	}
	var classes []string
	var items []item
	for _, e := range entries { // os.ReadDir sorts by name
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		dir := filepath.Join(root, e.Name())
		files, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("image folder: %w", err)
		}
		n := 0
		for _, f := range files {
			if f.IsDir() || strings.HasPrefix(f.Name(), ".") || !slices.Contains(imageExts, strings.ToLower(filepath.Ext(f.Name()))) {
				continue
			}
			items = append(items, item{filepath.Join(dir, f.Name()), len(classes)})
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("image folder: class folder %s has no .png/.jpg/.jpeg files; add images or remove the folder", dir)
		}
		classes = append(classes, e.Name())
	}
	if len(classes) == 0 {
		return nil, fmt.Errorf("image folder %s: no class sub-folders; lay the images out as %s/<class>/<image>.png", root, root)
	}

	// First pass: headers only, to fix size and channels and check limits
	// before decoding or allocating anything large.
	w, h, c := opts.Width, opts.Height, opts.Channels
	allGrey := true
	var firstPath string
	for _, it := range items {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		cfg, err := decodeConfig(it.path)
		if err != nil {
			return nil, err
		}
		if !isGreyModel(cfg.ColorModel) {
			allGrey = false
		}
		if opts.Width == 0 {
			if firstPath == "" {
				w, h, firstPath = cfg.Width, cfg.Height, it.path
			} else if cfg.Width != w || cfg.Height != h {
				return nil, fmt.Errorf("image folder: %s is %dx%d but %s is %dx%d; set ImageOptions Width and Height to resize them all", it.path, cfg.Width, cfg.Height, firstPath, w, h)
			}
		}
	}
	if c == 0 {
		c = 3
		if allGrey {
			c = 1
		}
	}
	per := c * h * w
	if int64(per)*int64(len(items)) > maxSetFloats {
		return nil, fmt.Errorf("image folder %s: %d images of %dx%dx%d need more than %d values; use a smaller Width/Height or fewer images", root, len(items), c, h, w, maxSetFloats)
	}
	im := &Images{N: len(items), C: c, H: h, W: w, Classes: classes,
		Pixels: make([]float32, len(items)*per), Labels: make([]int, len(items))}
	for i, it := range items {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		pix, err := LoadImageFile(it.path, ImageOptions{Width: w, Height: h, Channels: c, Resize: opts.Resize})
		if err != nil {
			return nil, err
		}
		copy(im.Pixels[i*per:], pix)
		im.Labels[i] = it.label
	}
	return im, nil
}

// LoadImageFile reads one PNG or JPEG file and converts it with
// [ImagePixels]. Width, Height and Channels must be set (non-zero), as a
// model's input size is fixed. Errors name the file.
func LoadImageFile(path string, opts ImageOptions) ([]float32, error) {
	if opts.Width <= 0 || opts.Height <= 0 || (opts.Channels != 1 && opts.Channels != 3) {
		return nil, fmt.Errorf("image %s: ImageOptions %dx%d with %d channels: set Width, Height and Channels (1 or 3)", path, opts.Width, opts.Height, opts.Channels)
	}
	if _, err := decodeConfig(path); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("image %s: cannot decode: %w (is it a valid PNG or JPEG?)", path, err)
	}
	pix, err := ImagePixels(img, opts.Channels, opts.Height, opts.Width, opts.Resize)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", path, err)
	}
	return pix, nil
}

// decodeConfig reads an image header and checks its size against the limit.
func decodeConfig(path string) (image.Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return image.Config{}, err
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return cfg, fmt.Errorf("image %s: cannot read the header: %w (is it a valid PNG or JPEG?)", path, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > maxImagePixels {
		return cfg, fmt.Errorf("image %s: size %dx%d is empty or larger than %d pixels", path, cfg.Width, cfg.Height, maxImagePixels)
	}
	return cfg, nil
}
