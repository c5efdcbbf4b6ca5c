// Package features computes hand-made image features, the baseline a
// learned network is measured against: [HOG], histograms of oriented
// gradients (Dalal & Triggs 2005), the classic descriptor of shape by
// local edge directions.
//
// It works on plain float32 slices (one grey image, row-major, values in
// any range) and imports nothing of glassbox, so any front end can feed
// its output to a linear model.
package features
