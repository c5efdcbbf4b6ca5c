// Package explain says why a black-box model predicts what it predicts, in a
// way that can be checked: LIME for tables, text and images, submodular pick
// (SP-LIME) over many explanations, Kernel SHAP, gradient attributions
// (saliency, integrated gradients with a completeness check, SmoothGrad,
// Grad-CAM), occlusion, the perturbation family (feature ablation and
// permutation, Shapley value sampling with standard errors, RISE), rules
// (Anchors, with precision and coverage) and what-ifs (counterfactuals in
// the training data's ranges), and measures of how far an explanation can
// be trusted (surrogate R² and local error, stability across seeds,
// deletion/insertion curves).
//
// explain sees a model only as a batch function (Func for numeric inputs,
// TextFunc for documents; GradFunc and CAMFunc for the gradient methods), so
// it explains any model, glassbox's or a user's. Package explain/adapt
// builds these from a glassbox nn.Module. Package explain/check judges
// every result Run returns (Result.Checks, Result.Verdict) once it is
// imported, as package predictor does.
//
// # What it fixes in the usual LIME
//
//   - Reproducible: every call takes an explicit Seed; the same seed gives a
//     bit-identical explanation on every call, on any number of cores, and
//     explanations running concurrently share no random state. Parallel
//     workers draw from sub-streams chosen by column or chunk index, never by
//     goroutine scheduling.
//   - Stable: perturbations are drawn with low-variance designs (a
//     scrambled Sobol' sequence mapped through each column's inverse CDF
//     for tabular data, balanced columns for image segments, stratified
//     removal counts for text), and the default budget is adaptive: LIME
//     starts at 5000 samples (1000 for images) and, after each surrogate
//     fit, checks with sandwich standard errors that every feature of the
//     top StableTop (default 5) is separated from every feature just
//     outside by RankZTabular (1.5) standard errors for tables, RankZ
//     (2.5) for images and text; if not, it doubles the samples,
//     continuing the same seeded sequence, up to MaxSamples (16× the
//     start); tabular LIME also stops once the separation, projected to
//     MaxSamples, stays out of reach. Quality.RankConfidence reports the
//     separation reached, Quality.RankTarget the one asked for,
//     Quality.Stop why the budget ended, and a warning says when the top
//     set stayed unseparated. On a breast-cancer MLP this takes the mean
//     10-seed top-5 Jaccard from 0.85 at a fixed 5000 samples to 0.94 with
//     a median of 20 000 samples (bench/explain). Setting Samples fixes
//     the budget.
//     Stability measures it (mean pairwise top-k Jaccard across seeds).
//   - Honest: every explanation carries the surrogate's weighted R², its
//     local prediction next to the model's own, their gap, the effective
//     number of samples and plain-language warnings when the surrogate fits
//     badly. AutoKernelWidth picks the kernel width from a grid by the
//     surrogate's leave-one-out fit instead of a magic constant.
//   - Fast: perturbation, masking, distances and the surrogate fit run in
//     parallel without per-sample allocation; Timing reports model time
//     against total so the overhead share is visible.
//
// # Method outline
//
// LIME draws n perturbations z of an interpretable representation (bins or
// categories of tabular features, words, superpixels), maps them back to
// model inputs, weighs each by the kernel sqrt(exp(-d²/w²)) of its distance
// d to the instance, selects features, and fits a weighted ridge regression
// with intercept (normal equations solved by Cholesky in float64). The
// weights of that surrogate are the explanation.
//
// Kernel SHAP fits the same kind of weighted regression with the Shapley
// kernel over feature coalitions, filled in from a background set, under the
// constraint that attributions add up exactly to f(x) − E[f(background)].
package explain
