// Package predictor is a trained model ready for use: the network, what it
// predicts (a typed task, class names), the shape of its inputs, every
// preprocessing step (feature standardisation, target scaling, image
// normalisation, a text vocabulary) applied in one place in both
// directions, and the recipe it was trained with (data, splits, seeds,
// schedule), so that evaluation, explanation and inspection reuse the
// model's own data without anyone retyping it.
//
// Inputs and outputs of a Predictor are always in the data's own units:
// raw table values, image pixels in [0, 1], regression values in the
// target's units. Predict, Explain and Evaluate convert to and from what
// the network sees.
//
// The command line, the server, the report and the demo are front ends
// over this package: Load (or Train), then Predict and Explain.
package predictor
