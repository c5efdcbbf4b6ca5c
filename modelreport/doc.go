// Package modelreport writes the report a learner reads to see through a
// trained model: one self-contained HTML file (no script, no network)
// with the model comparison (linear on pixels, linear on hand-made HOG
// features, MLP, CNN), training curves, the confusion matrix, the most
// confused and least certain test examples explained, the first layer's
// weights as pictures, activations and activation maximisations at low and
// high layers, and the representation of every layer projected to 2-D
// with a separability score.
//
// [Build] takes a [predictor.Predictor] with its data and whatever else is
// known (its training history, a linear baseline, a comparison table) and
// returns the sections; a section that does not apply (no history in a
// model file, image views for a table model) is kept as a heading with a
// line saying why. [Compare] trains the four models of the comparison on
// one split. The glassbox CLI's `demo` and `report` commands both write
// their report through this package.
//
// Charts are inline SVG (axes, ticks, legends and colour keys, readable
// with scripts off); pictures made of pixels are PNG data URIs drawn by
// package report.
package modelreport
