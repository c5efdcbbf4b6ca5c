// Package check judges explanations: it measures how far an attribution
// can be believed and says so in words. Its metrics follow the families of
// Quantus (Hedström et al., JMLR 2023):
//
//   - faithfulness: faithfulness correlation (Bhatt et al. 2020) — do the
//     attributions of a random subset of features predict the output's
//     drop when the subset is removed? — besides the deletion/insertion
//     curves explain already computes;
//   - robustness: max-sensitivity (Yeh et al. 2019) and the local
//     Lipschitz estimate (Alvarez-Melis & Jaakkola 2018) under small input
//     noise of a recorded scale;
//   - randomisation: the model-parameter randomisation test, cascading
//     from the top layer or layer by layer (Adebayo et al., "Sanity Checks
//     for Saliency Maps", 2018), and the random-logit test (Sixt et al.
//     2020): a map that barely changes when the model or the explained
//     class changes does not show the model's reason;
//   - complexity: sparseness (Gini index, Chalasani et al. 2020) and
//     effective complexity (Nguyen & Martínez 2020);
//   - localisation, where a ground-truth mask exists: pointing game and
//     relevance mass;
//   - axiomatic: completeness of integrated gradients and the additivity
//     of Shapley values, from the methods' own quality figures.
//
// Every figure becomes an explain.Check with a verdict (good, doubtful,
// poor) from the thresholds in verdict.go, each calibrated on models whose
// answer is known (the tests hold the calibration), and the explanation
// gets one overall explain.Verdict in a sentence. Importing the package
// installs Evaluate as explain's checker, so every explain.Run carries the
// cheap checks (explain.ChecksDefault) and, on request, the ones that
// re-run the method (explain.ChecksAll). Advise runs every applicable
// method on a few inputs and ranks them by these checks.
//
// The metrics are pure functions over a model function or an
// explain.Subject; each check counts the model calls it took.
package check
