// Package onnx opens models trained elsewhere (PyTorch, Keras/tf2onnx,
// scikit-learn) as ONNX files and writes glassbox models as ONNX.
//
// The reader decodes the ONNX protobuf with protowire, checking every
// size against the limits in limits.go before it allocates (an ONNX file
// is untrusted input). The importer turns the graph into a glassbox
// module that runs on the autograd tape: forward for prediction, input
// gradients for saliency and integrated gradients, an intermediate node's
// activations for Grad-CAM, and parameter gradients (initialisers become
// named parameters) for fine-tuning. An operator it does not implement is
// an error naming the operator, its opset and the node, never a wrong
// answer.
package onnx
