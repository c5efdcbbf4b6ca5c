package serve

import (
	"fmt"
	"image"
	"image/color"

	"github.com/glassbox-ml/glassbox/explain"
	"github.com/glassbox-ml/glassbox/explain/segment"
	"github.com/glassbox-ml/glassbox/tensor"
)

// What requests cost in memory, estimated before the work so that the
// memory budget can refuse it. The estimates are upper bounds of what
// the work allocates at its peak, from what each step keeps; the heap
// can hold as much again in garbage until the collector runs.

// decodeCost is what decoding an image of cfg and resizing it for a model
// of the given channels allocates, in bytes: the decoded image (its
// colour model's bytes per pixel; half as much again for an interlaced
// PNG's passes, and the coefficients of a progressive JPEG), then
// predictor.DecodeImage's float32 planes at the source size.
func decodeCost(raw []byte, cfg image.Config, format string, channels int) int64 {
	px := int64(cfg.Width) * int64(cfg.Height)
	bpp, comps := bytesPerPixel(cfg.ColorModel)
	img := px * bpp
	switch format {
	case "png":
		if len(raw) > 28 && raw[28] != 0 { // IHDR interlace method: Adam7
			img += img / 2
		}
		img += 2 * int64(cfg.Width) * 8 // the current and previous rows
	case "jpeg":
		if comps == 4 {
			img *= 2 // decoded, then converted to CMYK
		}
		if jpegProgressive(raw) {
			img += px * 4 * comps // one int32 per coefficient, per component
		}
	}
	return img + px*4*int64(channels)
}

// bytesPerPixel is what an image of model m holds per pixel, and its
// number of components.
func bytesPerPixel(m color.Model) (bytes, comps int64) {
	if _, ok := m.(color.Palette); ok { // a slice: compare it to nothing
		return 1, 1
	}
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1, 1
	case color.Gray16Model, color.Alpha16Model:
		return 2, 1
	case color.YCbCrModel:
		return 3, 3
	case color.RGBAModel, color.NRGBAModel:
		return 4, 4
	case color.CMYKModel:
		return 4, 4
	}
	return 8, 4 // RGBA64, NRGBA64 and anything unknown
}

// jpegProgressive reports whether a JPEG's frame is progressive, walking
// its markers as the decoder does; when the walk cannot tell it says yes,
// the costlier answer.
func jpegProgressive(raw []byte) bool {
	i := 2 // after SOI
	for i+4 <= len(raw) {
		if raw[i] != 0xFF {
			return true
		}
		m := raw[i+1]
		switch {
		case m == 0xFF: // fill byte
			i++
			continue
		case m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7): // no length
			i += 2
			continue
		case m == 0xC2:
			return true
		case m == 0xC0 || m == 0xC1:
			return false
		case m == 0xDA || m == 0xD9:
			return true
		}
		i += 2 + (int(raw[i+2])<<8 | int(raw[i+3]))
	}
	return true
}

// explainEstimate is what an explanation holds: per sample (a perturbed
// input, coalition or gradient step) and fixed (batch buffers), for n
// samples.
type explainEstimate struct {
	n, perSample, fixed int64
}

func (e explainEstimate) bytes() int64 { return e.n*e.perSample + e.fixed }

// maxSamples is the most samples that fit in budget.
func (e explainEstimate) maxSamples(budget int64) int64 {
	return max(0, (budget-e.fixed)/max(1, e.perSample))
}

func (e explainEstimate) samplesPhrase(asked int) string {
	if asked == 0 {
		return fmt.Sprintf("its default budget (up to %d samples)", e.n)
	}
	return fmt.Sprintf("%d samples", asked)
}

// explainCost estimates the memory of explaining one input with method
// and samples (0: the method's default), from what the methods keep,
// measured on tables and images (bench/README.md, serve): LIME keeps each
// perturbation's features as float32 and float64 and its outputs; Kernel
// SHAP keeps the outputs of every coalition on each of up to 50
// background rows (the one that grows fastest: samples × 50 × outputs);
// the gradient methods (the SHAP variants of DeepLIFT and gradients
// too) keep little per step besides their batch of 64 inputs. Image methods add the batches of the deletion and insertion
// curves. The estimate is doubled for the garbage the collector has not
// reclaimed yet, which the measurements include.
func (s *Server) explainCost(method string, samples int) explainEstimate {
	p := s.p
	dim := int64(tensor.Numel(p.InputShape))
	k := int64(max(p.Outputs, 1))
	img := p.Kind == explain.Image
	features := dim
	if img && len(p.InputShape) == 3 {
		features = int64(segment.AutoTarget(p.InputShape[1], p.InputShape[2]))*6/5 + 1
	}
	imageBatch := min(256*dim, 4<<20) * 4 // one batch of perturbed images, float32
	e := explainEstimate{n: int64(samples)}
	switch method {
	case "lime":
		if e.n == 0 {
			e.n = 80000 // the adaptive budget's cap: 16 × 5000 on tables
			if img {
				e.n = 16000
			}
		}
		e.perSample = 12*features + 12*k + 48
		e.fixed = 1024 * dim * 4
		if img {
			e.fixed = 2 * imageBatch
		}
	case "kernelshap":
		if e.n == 0 {
			e.n = 2*features + 2048
		}
		if !img && features < 31 {
			e.n = min(e.n, max(int64(1)<<features-2, 1)) // every coalition, exactly
		}
		rows := int64(50)
		if img {
			rows = 1
		}
		// float32 outputs per row, ×2.25 while the slice grows; the mask;
		// the mean outputs in float64.
		e.perSample = rows*k*9 + features + 8*k + 48
		e.fixed = 1024 * dim * 4
	case "ig", "smoothgrad":
		if e.n == 0 {
			e.n = 50
		}
		e.perSample = 16*k + 128
		e.fixed = 3 * 64 * dim * 4 // inputs, gradients, the noisy or path copies
	case "gradientshap":
		if e.n == 0 {
			e.n = 200
		}
		e.perSample = 16*k + 128
		e.fixed = (3*64 + 50) * dim * 4 // a batch as for ig, and 50 references
	case "deepliftshap", "deeplift":
		if e.n == 0 {
			e.n = 50
		}
		e.perSample = 16*k + 128
		e.fixed = 4 * 64 * dim * 4 // 32 inputs and their references, their gradients
	case "occlusion":
		e.fixed = 256 * dim * 4
	case "ablation", "permutation", "shapleysampling", "rise", "anchors", "counterfactual":
		// A batch of perturbed inputs at a time (at most 4 Mi values),
		// with a counterfactual's 2000 training rows; permutation keeps
		// its reference draws, one input each.
		e.fixed = 2*min(256*dim, 4<<20)*4 + 2000*dim*4
		switch method {
		case "permutation":
			if e.n == 0 {
				e.n = 50
			}
			e.perSample = dim * 4
		case "shapleysampling": // each ordering of the features is kept
			if e.n == 0 {
				e.n = 200
			}
			e.perSample = 8 * features
		}
	default: // saliency, gradcam: one input
		e.fixed = 4 * dim * 4
	}
	if img {
		e.fixed += 2 * imageBatch // the deletion and insertion curves
	}
	e.perSample *= 2
	e.fixed *= 2
	return e
}
