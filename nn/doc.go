// Package nn holds glassbox's layers: the Module interface and the
// building blocks of every model family (Linear, Perceptron, activations,
// Sequential, Dropout, BatchNorm, Flatten, Conv2D, pooling, Embedding,
// RNN, LSTM, GRU) with their initialisers.
//
// A Module owns named parameters (autograd.Param Vars such as
// "conv1/weight") and computes its output on the tape carried by a Ctx.
// Every layer also describes itself as a Spec, a JSON-serialisable
// architecture record from which Build reconstructs it: that is what a
// saved .gbx model stores next to its weights. Since that Spec comes from
// a file, building one allocates nothing until the tree's depth, every
// layer's arguments and the total size of the parameters are checked:
// BuildLimited refuses a model larger than the caller's limit (a loader
// passes the size of the file's own tensors), Build one larger than
// DefaultMaxElements.
//
// A file's architecture also decides how large the activations of a
// forward pass are, which its parameter count does not bound (a 1×1
// convolution to 4096 channels has 4096 weights). Every layer is
// therefore a Shaper: OutputShape tells the output's shape, or the shape
// error Forward would report, from the input's shape alone, and
// ActivationElements adds up what a forward pass would allocate, layer
// by layer, without running it. A layer of the user's own that is not a
// Shaper makes them report ErrUnknownShape.
//
// Shapes follow the tensor package's policy: a wrong input shape panics
// with a *tensor.ShapeError whose message names the layer and the fix
// ("conv2d: input has 3 channels, layer expects 1"); Forward, the training
// loop and the CLI turn it into an error.
package nn
