// Package train is glassbox's fit loop: it runs epochs of gradient
// descent over a data.Loader, validates after each epoch, computes
// metrics (accuracy, per-class precision and recall, confusion matrix;
// MSE, MAE and R² for regression), stops early when validation stops
// improving, calls hooks on every step and epoch, shows a progress bar on
// a terminal and JSON lines elsewhere, honours context cancellation, and
// writes a checkpoint after every epoch from which a resumed run finishes
// with bit-identical weights.
//
// A NaN or infinite loss stops training with an error that says which
// epoch and step, instead of silently corrupting the weights.
package train
