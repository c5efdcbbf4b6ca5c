package explain

import "context"

func init() { Register(guidedGradCAMMethod{}) }

// guidedGradCAMMethod is guided Grad-CAM (Selvaraju et al. 2017): the
// guided backprop map times the Grad-CAM map upsampled to the image, so
// fine detail shows only where the class's evidence lies.
type guidedGradCAMMethod struct{}

func (guidedGradCAMMethod) Info() MethodInfo {
	return MethodInfo{Name: "guidedgradcam", Title: "Guided Grad-CAM",
		Summary: "guided backprop's fine-grained map times the last convolution's Grad-CAM map",
		Inputs:  []InputKind{Image}, Needs: NeedsRules | NeedsCAM}
}

func (guidedGradCAMMethod) Explain(ctx context.Context, s *Subject, x []float32, opt Options, res *Result) error {
	c, h, w := s.Shape[0], s.Shape[1], s.Shape[2]
	cam, err := GradCAM(ctx, s.CAM, x, res.Label, h, w)
	if err != nil {
		return err
	}
	out, grad, err := ruleCall(ctx, s, x, 1, res.Label, BackwardRule{Kind: RuleGuided}, nil)
	if err != nil {
		return err
	}
	hw := h * w
	for ch := range c {
		for p := range hw {
			grad[ch*hw+p] *= cam.Map[p]
		}
	}
	res.Layer = s.CAMLayer
	res.Warnings = append(res.Warnings, cam.Warnings...)
	return finishValues(s, res, "guidedgradcam", grad, out)
}
