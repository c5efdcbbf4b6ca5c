// Package model saves and loads whole glassbox models as one .gbx file,
// and prints a Keras-style summary.
//
// A .gbx file is a plain safetensors file: an 8-byte little-endian header
// length, a JSON header naming each tensor's dtype, shape and byte range,
// then the raw little-endian float32 data. The header's "__metadata__"
// carries the architecture (the nn.Spec as JSON) and what a user needs to
// use the model (task, class names, input shape). Any safetensors reader,
// PyTorch's included, reads the weights; glassbox rebuilds the model from
// the architecture and checks every name, dtype and shape on load. Nothing
// in the file is executed.
package model
