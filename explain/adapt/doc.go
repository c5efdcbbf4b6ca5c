// Package adapt connects glassbox models to package explain: it turns an
// nn.Module into the small function types explain works with — a batch
// predictor (explain.Func, for LIME, Kernel SHAP and occlusion), a
// differentiable one (explain.GradFunc, for saliency, integrated gradients
// and SmoothGrad) and a layer probe (explain.CAMFunc, for Grad-CAM) — so
// that explain itself never imports nn.
package adapt
