// Package segment splits an image into superpixels: small connected regions
// of similar colour that image LIME switches on and off.
//
// Every segmenter returns a [Segmentation] whose labels are consecutive
// (0..N-1 in raster order of first appearance) and whose segments are each
// 4-connected, and every segmenter is deterministic: the same image and
// options give the same labels, call after call.
//
// Three algorithms are offered:
//
//   - [Quickshift] (Vedaldi & Soatto 2008), the segmenter Python lime uses,
//     with parameters that default from the image size so a 28×28 digit gets
//     tens of segments instead of one, and a deterministic tie-break that
//     tiles flat regions (backgrounds) into compact cells.
//   - [SLIC] (Achanta et al. 2012): k-means in colour+position space seeded
//     on a grid, followed by connectivity enforcement; the segment count
//     follows the requested number closely and it is fast.
//   - [Grid]: regular rectangular patches, a fallback that ignores content.
//
// [Auto] picks SLIC parameters from the image size so the count lands in a
// useful range, and is the default for image LIME.
//
// Images are channel-first float32 (C×H×W), grey (C=1) or RGB (C=3). Colours
// are compared in CIELAB units (L in [0,100]); a grey image uses lightness
// only. Values in [0,1] are taken as sRGB intensities; any other range is
// first rescaled to [0,1] by the image's own minimum and maximum.
package segment
