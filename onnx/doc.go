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
//
// # Importing
//
//	m, err := onnx.ReadFile("resnet.onnx", onnx.ReadOptions{})
//	mod, err := onnx.Import(m, onnx.ImportOptions{})
//	probs, err := nn.Predict(mod, images)        // any batch size
//	cam := mod.CAM(must(mod.LastConv()))         // an explain.CAMFunc
//
// Import compiles every node up front: its attributes are read and checked
// (an attribute the importer does not know is an error too), and the
// operator's opset decides its meaning where ONNX changed it (Softmax
// before 13 flattens to 2-D at its axis; Squeeze, Unsqueeze, Split and
// the reductions took attributes before they took inputs; Slice and Pad
// took attributes before 10 and 11; Clip's bounds became inputs in 11).
// SupportedOps lists the operators; ai.onnx opsets MinOpset to MaxOpset
// are accepted.
//
// A *Module is an nn.Module for a graph with one input and one output
// (ImportOptions picks them when there are several; with AllInputs, Eval
// evaluates a graph of any inputs and outputs). Forward evaluates the
// nodes in order on the context's tape:
//
//   - Floating-point values are autograd Vars; gradients flow through every
//     operator (those autograd lacks are Tape.Custom ops with a hand-written
//     backward checked by autograd.GradCheck).
//   - Integer and boolean values (shapes, indices, masks) are concrete and
//     computed as soon as their inputs are, so the shape subgraphs exporters
//     write (Shape → Gather → Unsqueeze → Concat → Reshape) fold to
//     constants and give Reshape its target.
//   - Float initialisers that feed a differentiable operand are parameters
//     named after the initialiser (Params), so a model can be fine-tuned;
//     the others (batch-normalisation statistics...) are Buffers; integer
//     initialisers are constants.
//   - The batch axis is free: the input's axis 0 may differ from the size
//     the graph was exported with (the other declared sizes are checked),
//     and a constant Reshape or Expand target that starts with the exported
//     batch size gets the actual one.
//   - An integer (token id) input is given as whole-number float32 values.
//   - BatchNormalization always uses its running statistics (a fine-tuned
//     import keeps them frozen); Dropout drops only when the nn.Ctx is
//     training, with the context's generator.
//
// A Module's Spec has type "onnx" and is not rebuilt by nn.Build: the
// imported graph is the architecture, and a fine-tuned import is saved by
// exporting it to ONNX again.
package onnx
