// Package report turns explanations into pictures: attribution heat-maps,
// overlays on the input image, LIME segment masks and bar charts of feature
// weights, written as PNG files.
//
// Colours: signed attributions use the ColorBrewer RdBu diverging map
// (colour-blind safe), symmetric around zero: positive (evidence for the
// class) is red, negative (evidence against) is blue and zero is
// near-white, so the same value always gets the same colour whatever the
// sign. [MaskOverlay] follows lime's picture of top segments, with the
// colour-blind-safe PiYG pair: green for segments that support the class,
// magenta-red for segments that oppose it.
//
// Images are channel-first float32 (C×H×W, C = 1 grey or 3 RGB) with values
// in [0, 1] (others are clamped), like the rest of glassbox. The drawing
// functions panic if slice lengths disagree with the sizes given (a
// programmer error: callers check shapes at their own API edge); WritePNG
// returns errors.
//
// Small inputs such as 28×28 digits are unreadable at one screen pixel per
// value, so the drawing options take a Scale (nearest-neighbour blocks, with
// segment boundaries drawn as crisp lines between blocks), and [Upscale]
// enlarges any image.
package report
