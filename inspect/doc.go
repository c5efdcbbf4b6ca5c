// Package inspect shows what a trained network has learned, layer by
// layer: the kernels of its convolutions ([Filters]), what each layer
// computes for one input ([Activations], [ActivationMaps]), the input a
// channel responds to most ([Maximize], activation maximisation by
// gradient ascent), and how the classes lie in a layer's hidden
// representation ([Project], a PCA projection to two dimensions, drawn by
// [ScatterPlot] with a class-separation score).
//
// It works on any [nn.Sequential] and addresses layers by their index in
// it, as model.Summarize lists them; index -1 ([InputLayer]) stands for the
// input itself where a representation is asked for. Anything it cannot
// show (a model that is not a Sequential, a layer index out of range, a
// non-convolution layer handed to the filter view, a channel the layer
// does not have) is an error naming the model's layers and the fix.
//
// The pictures follow CNN folklore (Zeiler & Fergus 2014; Yosinski et al.
// 2015, "Understanding neural networks through deep visualization"; Olah et
// al. 2017, "Feature Visualization"): first-layer filters look like edge
// and colour detectors, activation maps grow coarser and more abstract with
// depth, and the classes separate in the last hidden layer far better than
// in the raw input.
//
// Everything is deterministic: PCA starts from a fixed vector block, and
// activation maximisation draws its start and its jitter from the seed it
// is given.
package inspect
