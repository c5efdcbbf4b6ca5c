// Package layertest is a conformance kit for glassbox layers, in the
// spirit of testing/fstest: one call checks that a layer has stable
// output shapes (that nn.Shaper's OutputShape predicts, with the same
// errors as Forward), correct gradients with respect to its input and every
// parameter, a Spec that survives JSON and nn.Build, deterministic
// initialisation, and deterministic evaluation mode.
//
// Use it from the layer's own tests (in an external _test package, since
// layertest imports nn):
//
//	func TestConv2DConforms(t *testing.T) {
//		layertest.Run(t, func(rng *rand.Rand) nn.Module {
//			return nn.NewConv2D(2, 3, 3, rng, nn.ConvPadding(1))
//		}, []int{2, 2, 5, 5})
//	}
//
// Keep inputShape small: the gradient check runs two forward passes per
// checked element (at most MaxChecks elements per tensor, both in training
// and in evaluation mode). Options adapt the kit to unusual layers:
// Input for integer ids or positive inputs, NoInputGrad when the input is
// not differentiable, NotDifferentiable for layers cut from the graph,
// Tolerance for layers with larger float32 rounding, NoBatchAxis when
// the first axis is not the batch.
//
// User-written layers can (and should) be checked the same way: a layer
// that passes Run trains, saves and loads like the built-in ones.
package layertest
